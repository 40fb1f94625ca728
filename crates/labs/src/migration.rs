//! The migration lab: a legacy pipeline made modern. Sales land as plain
//! Parquet in Hive-style folders, and a nightly job rebuilds a daily
//! summary from all of it. The candidate converts the folder to Delta in
//! place, proves nothing changed, and replaces the full rebuild with an
//! incremental refresh of the days a night's delivery touched — proving the
//! two give the same table.

use crate::{Check, Lab, Step};

pub const ID: &str = "migration";
pub const TITLE: &str = "Migrate a legacy pipeline";

pub const DAYS: u64 = 30;
pub const STORES: u64 = 12;
const ROWS: u64 = 60_000;
/// Tonight's delivery: a new day, and late sales of an earlier one.
pub const NEW_DAY: &str = "2024-03-31";
pub const LATE_DAY: &str = "2024-03-29";

/// The sales of the 30 days, as the legacy job wrote them (exact amounts:
/// sums must not depend on the order rows are added in).
pub fn sales() -> String {
    format!(
        "SELECT value AS sale_id, concat('store_', CAST(value / {DAYS} % {STORES} AS STRING)) AS store, \
         CAST(CAST((value * 7919) % 50000 AS DECIMAL(12, 0)) / 100 AS DECIMAL(10, 2)) AS amount, \
         DATE '2024-03-01' + CAST(value % {DAYS} AS INT) AS sale_date \
         FROM generate_series(1, {ROWS})"
    )
}

/// Tonight's delivery: the new day, and late sales for an earlier day.
fn tonight() -> String {
    format!(
        "SELECT value AS sale_id, concat('store_', CAST(value / {DAYS} % {STORES} AS STRING)) AS store, \
         CAST(CAST((value * 7919) % 50000 AS DECIMAL(12, 0)) / 100 AS DECIMAL(10, 2)) AS amount, \
         CASE WHEN value % 10 = 0 THEN DATE '{LATE_DAY}' ELSE DATE '{NEW_DAY}' END AS sale_date \
         FROM generate_series({}, {})",
        ROWS + 1,
        ROWS + 2_000
    )
}

/// The summary, computed from `from` (the old job's query, over everything).
pub fn summary(from: &str) -> String {
    format!(
        "SELECT sale_date, store, sum(amount) AS revenue, count(*) AS sales FROM {from} \
         GROUP BY sale_date, store"
    )
}

/// The legacy world: the Parquet folder, and tonight's delivery waiting.
pub fn setup() -> Vec<(String, String)> {
    [
        (
            "start clean",
            "DROP TABLE IF EXISTS legacy_sales".to_owned(),
        ),
        (
            "start clean",
            "DROP TABLE IF EXISTS daily_revenue".to_owned(),
        ),
        ("start clean", "DROP TABLE IF EXISTS new_sales".to_owned()),
        (
            "the legacy job's Parquet folders",
            format!(
                "CREATE TABLE legacy_sales USING PARQUET PARTITIONED BY (sale_date) AS {}",
                sales()
            ),
        ),
        (
            "tonight's delivery",
            format!("CREATE TABLE new_sales AS {}", tonight()),
        ),
    ]
    .into_iter()
    .map(|(label, sql)| (label.to_owned(), sql))
    .collect()
}

pub const CONVERT: &str = "CONVERT TO DELTA legacy_sales PARTITIONED BY (sale_date DATE)";
pub const FULL_REBUILD: &str = "CREATE OR REPLACE TABLE daily_revenue AS \
     SELECT sale_date, store, sum(amount) AS revenue, count(*) AS sales FROM legacy_sales \
     GROUP BY sale_date, store";
pub const APPEND_TONIGHT: &str = "INSERT INTO legacy_sales SELECT * FROM new_sales";
/// The incremental refresh: only the days tonight's delivery touched.
pub const INCREMENTAL: &str = "MERGE INTO daily_revenue t\n\
     USING (SELECT sale_date, store, sum(amount) AS revenue, count(*) AS sales FROM legacy_sales\n  \
     WHERE sale_date IN (SELECT DISTINCT sale_date FROM new_sales)\n  \
     GROUP BY sale_date, store) s\n\
     ON t.sale_date = s.sale_date AND t.store = s.store\n\
     WHEN MATCHED THEN UPDATE SET *\n\
     WHEN NOT MATCHED THEN INSERT *";

/// `true` when `a` and `b` hold the same rows, copies counted.
pub fn same_rows_sql(a: &str, b: &str) -> String {
    format!(
        "SELECT (SELECT count(*) FROM ({a} EXCEPT ALL {b})) + (SELECT count(*) FROM ({b} EXCEPT ALL {a})) = 0 \
         AS identical"
    )
}

pub fn lab() -> Lab {
    let revenue = "SELECT sale_date, store, revenue, sales FROM daily_revenue";
    let steps = vec![
        Step {
            title: "Meet the legacy table".into(),
            task: "legacy_sales is what the old job writes: Parquet files in sale_date=… folders. Query it."
                .into(),
            question: "Why can't a plain Parquet folder be queried like a table here, and what is it missing \
                       that a lakehouse needs?"
                .into(),
            answer: "It has files but no transaction log: no schema of record, no list of which files are \
                     committed, no history. A reader must list the folders and trust whatever it finds, \
                     including the half-written output of a job that crashed; a writer can only overwrite. \
                     Delta adds the log over the same files."
                .into(),
            sql: "SELECT count(*) FROM legacy_sales".into(),
            sql_fails: true,
            check: Check::Ran(vec!["from legacy_sales".into()]),
        },
        Step {
            title: "Convert it in place".into(),
            task: "Make legacy_sales a Delta table without copying a byte, keeping its partitions.".into(),
            question: "What does CONVERT TO DELTA do to the files, how long does it take on 10 TB, and why \
                       does it need the partition columns' types?"
                .into(),
            answer: "It writes one commit listing every existing Parquet file, with partition values parsed \
                     from the folder names and statistics read from each footer: the data is not read or \
                     rewritten, so it costs a listing and a footer read per file, minutes even for 10 TB. \
                     Folder names are text, so the types of partition columns must be declared (a metastore \
                     table already knows them). Stop the old writers first: files they add afterwards are \
                     not in the log."
                .into(),
            sql: CONVERT.into(),
            sql_fails: false,
            check: Check::All(vec![
                Check::Query(format!("SELECT count(*) = {ROWS} FROM legacy_sales")),
                Check::OutputContains {
                    sql: "DESCRIBE HISTORY legacy_sales".into(),
                    fragments: vec!["CONVERT".into()],
                },
            ]),
        },
        Step {
            title: "Prove nothing changed".into(),
            task: "Compare the converted table with the legacy job's rows, row for row.".into(),
            question: "How do you convince the business the migration lost or changed nothing?".into(),
            answer: "Compare the rows both ways with EXCEPT ALL (which counts copies): the converted table \
                     against the source of truth, and the source against the table. Zero rows either way \
                     means identical, duplicates included. Counts and sums alone can hide offsetting errors."
                .into(),
            sql: same_rows_sql("SELECT * FROM legacy_sales", &sales()),
            sql_fails: false,
            check: Check::Query(same_rows_sql("SELECT * FROM legacy_sales", &sales())),
        },
        Step {
            title: "Run the old nightly job once more".into(),
            task: "Rebuild daily_revenue from scratch, as the old job does every night.".into(),
            question: "What does this job cost as the history grows, and what happens to the dashboard if it \
                       fails half-way?"
                .into(),
            answer: "It scans every day ever sold, so it grows with the history, not with the night's data. \
                     On Delta a failed CREATE OR REPLACE leaves the old table readable (the commit is atomic); \
                     on the legacy folder it left an empty or partial summary."
                .into(),
            sql: FULL_REBUILD.into(),
            sql_fails: false,
            check: Check::Query(format!(
                "SELECT count(*) = {} FROM daily_revenue",
                DAYS * STORES
            )),
        },
        Step {
            title: "Tonight's delivery lands".into(),
            task: format!(
                "Append new_sales to legacy_sales: the sales of {NEW_DAY}, and late sales of {LATE_DAY}."
            ),
            question: "The delivery holds sales for a day already summarised. What does an incremental job \
                       have to recompute?"
                .into(),
            answer: format!(
                "Every day the delivery touches, not just the newest: {LATE_DAY} changes too. Taking \
                 'everything after the last processed date' would miss the late rows; taking the distinct \
                 days of the delivery (or Delta's change data feed) does not."
            ),
            sql: APPEND_TONIGHT.into(),
            sql_fails: false,
            check: Check::Query(format!("SELECT count(*) = {} FROM legacy_sales", ROWS + 2_000)),
        },
        Step {
            title: "Refresh incrementally".into(),
            task: "Bring daily_revenue up to date by recomputing only the days tonight's delivery touched."
                .into(),
            question: "Why MERGE on (sale_date, store) rather than INSERT, and what makes this safe to rerun?"
                .into(),
            answer: "An INSERT would add a second row for a day that already has one. MERGE replaces the \
                     touched days' rows and inserts new ones; run twice, it computes the same values and \
                     updates them again, so a retried night cannot double count. INSERT … REPLACE WHERE \
                     sale_date IN (…) is the other idempotent form."
                .into(),
            sql: INCREMENTAL.into(),
            sql_fails: false,
            check: Check::Query(same_rows_sql(revenue, &summary("legacy_sales"))),
        },
        Step {
            title: "Prove both jobs agree".into(),
            task: "Show that the incremental table equals what tonight's full rebuild would give.".into(),
            question: "How do you retire the old job with confidence?".into(),
            answer: "Run both for a while and compare their outputs row for row every night (the query \
                     below); when they agree across late data, reruns and failures, switch the dashboard \
                     and delete the old job. Exact decimal amounts matter here: floating-point sums can \
                     differ by the order rows are added in."
                .into(),
            sql: same_rows_sql(revenue, &summary("legacy_sales")),
            sql_fails: false,
            check: Check::Query(same_rows_sql(revenue, &summary("legacy_sales"))),
        },
    ];
    Lab {
        id: ID,
        title: TITLE,
        story: "For years a nightly job has written the day's sales as plain Parquet into sale_date=… \
                folders, then rebuilt the daily revenue summary by reading all of it. It takes longer every \
                month, a failed night leaves the dashboard empty, and nobody can say which files a reader \
                should trust. Migrate it: make the folder a Delta table without moving a byte, then replace \
                the full rebuild with an incremental refresh, and prove at each step that nothing changed."
            .into(),
        setup: setup(),
        steps,
        table: "daily_revenue",
        probe: "SELECT count(*) AS rows, sum(sales) AS sales, sum(revenue) AS revenue, max(sale_date) AS newest \
                FROM daily_revenue VERSION AS OF {version}"
            .into(),
    }
}
