//! The slow-query lab: the daily-active-users query on the shared
//! benchmark's `events` table, and the ladder of remedies applied to it —
//! each step's SQL, what it teaches, the seed scenario's claim for it, and
//! the model that extrapolates a measured step to the scenario's size.
//! The CLI and the lab page run the same statements and judge the answers
//! with [`compare`].

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_cast::display::{ArrayFormatter, FormatOptions};

use crate::cdc::Prompt;

pub const ID: &str = "slow-query";
pub const TITLE: &str = "Make a slow query fast";

pub const STORY: &str = "Analysts wait most of an hour for the daily-active-users report over a \
huge events table. Here the table is the shared benchmark's `events`, generated in this tab and \
stored as Delta; every rung of the ladder below changes the layout or the query for real and is \
timed, with the files and bytes each scan read. The scenario's table is 10 TB and 5 billion rows: \
the last column scales each measurement up through a stated model, and says so.";

/// Sizes the lab offers, in rows.
pub const SIZES: [u64; 5] = [1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000];

/// The scenario's table: 5 billion rows, 10 TB.
pub const SCENARIO_ROWS: f64 = 5e9;
pub const SCENARIO_BYTES: f64 = 10e12;
/// Cores the extrapolation divides single-core time by: the scenario's
/// optimised cluster (up to 32 workers of 8 cores) is 256; we assume 64
/// busy cores, a fair share of it for one query.
pub const SCENARIO_CORES: f64 = 64.0;

/// Memory the engine holds per row of `events`: 51 bytes of Arrow data
/// (three BIGINTs, a timestamp, a short string with its offset, a DATE and
/// an INT) plus buffer slack. The size check's basis; the native CLI peaks
/// at 1.9 GB on 10M rows with two copies and a COUNT(DISTINCT) in flight.
pub const BYTES_PER_ROW: u64 = 64;

/// Files the generator cuts the table into: the small files of an
/// ingestion that appends often.
pub const BASELINE_FILES: u64 = 500;

/// Stored (Parquet, snappy) bytes per row of `events`, measured at 1M rows.
pub const STORED_BYTES_PER_ROW: u64 = 31;

/// Files per day Z-order cuts a partition into.
pub const ZORDER_FILES_PER_DAY: u64 = 4;

/// The statements that generate the `events` table of `rows` rows.
pub fn generate(rows: u64) -> Vec<String> {
    vec![
        format!(
            "SET spark.sql.files.maxRecordsPerFile = {}",
            (rows / BASELINE_FILES).max(1)
        ),
        format!("CREATE OR REPLACE TABLE events AS SELECT * FROM lakelab_events({rows})"),
    ]
}

/// Refuses a size that cannot fit in `memory_bytes`, before anything starts.
pub fn check_size(rows: u64, memory_bytes: u64) -> Result<(), String> {
    // The ladder holds one table's rows at a time (events is uncached once
    // events_by_date is written), plus the copy being written.
    let needed = rows.saturating_mul(BYTES_PER_ROW).saturating_mul(3) / 2;
    if rows < 90 {
        return Err(format!(
            "{rows} rows: the table needs at least 90 (one per day)"
        ));
    }
    if needed > memory_bytes {
        return Err(format!(
            "{rows} rows need about {} MiB of memory (one and a half copies at \
             {BYTES_PER_ROW} bytes a row) and {} MiB are available: choose at most {} rows",
            needed >> 20,
            memory_bytes >> 20,
            memory_bytes * 2 / 3 / BYTES_PER_ROW
        ));
    }
    Ok(())
}

/// Q1 of the benchmark spec on `table`, with `distinct` counting users.
fn dau(table: &str, distinct: &str) -> String {
    format!(
        "SELECT date, CAST({distinct} AS BIGINT) AS dau, COUNT(*) AS n FROM {table} \
         WHERE date >= DATE '2024-02-01' GROUP BY date ORDER BY date"
    )
}

/// One rung of the ladder.
#[derive(Debug, Clone)]
pub struct Step {
    /// `baseline`, `partitioned`, `zordered`, `approx`, `preaggregated`.
    pub id: &'static str,
    pub title: &'static str,
    /// What changes, in a sentence.
    pub change: &'static str,
    /// Untimed preparation (the remedy itself), timed separately.
    pub prepare: Vec<String>,
    /// The timed query: one row per day, columns (date, dau, n).
    pub query: String,
    /// A selective query whose files read show what the layout skips.
    pub probe: String,
    /// Whether the answer is exact.
    pub exact: bool,
    /// The seed scenario's claim for this rung.
    pub claim: &'static str,
    /// What the extrapolation scales this rung's time with.
    pub scales_with: Scaling,
}

/// How a rung's time grows with the table (see [`extrapolate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// With the bytes the scans read (and so with rows).
    BytesRead,
    /// With the days in the answer: a pre-aggregate is a row per day.
    Days,
}

const PROBE: &str =
    "SELECT count(*) AS events FROM {} WHERE date = DATE '2024-03-15' AND user_id = 4242";

/// The ladder for a table of `rows` rows.
pub fn ladder(rows: u64) -> Vec<Step> {
    // Z-order cuts each day into files of about this many bytes: Delta's
    // 1 GiB scaled down with the table, so that a day still spans a few
    // files whose user_id ranges the stats can tell apart.
    let zorder_file_bytes = (rows * STORED_BYTES_PER_ROW / 90 / ZORDER_FILES_PER_DAY).max(1);
    let probe = |table: &str| PROBE.replace("{}", table);
    vec![
        Step {
            id: "baseline",
            title: "Baseline",
            change: "The table as ingested: one folder of small files in arrival order, no \
                     partitions.",
            prepare: Vec::new(),
            query: dau("events", "COUNT(DISTINCT user_id)"),
            probe: probe("events"),
            exact: true,
            claim: "45 min",
            scales_with: Scaling::BytesRead,
        },
        Step {
            id: "partitioned",
            title: "Partitioned by date",
            change: "Rewritten PARTITIONED BY (date): a filter on date reads only its folders.",
            prepare: vec![
                "CREATE OR REPLACE TABLE events_by_date PARTITIONED BY (date) AS \
                 SELECT * FROM events"
                    .to_owned(),
                "UNCACHE TABLE events".to_owned(),
            ],
            query: dau("events_by_date", "COUNT(DISTINCT user_id)"),
            probe: probe("events_by_date"),
            exact: true,
            claim: "15 min",
            scales_with: Scaling::BytesRead,
        },
        Step {
            id: "zordered",
            title: "OPTIMIZE … ZORDER BY (user_id)",
            change: "Each day's small files compacted and sorted along a Z-order curve on \
                     user_id: fewer files, and files whose user_id ranges barely overlap.",
            prepare: vec![
                format!("SET spark.databricks.delta.optimize.maxFileSize = {zorder_file_bytes}"),
                "OPTIMIZE events_by_date ZORDER BY (user_id)".to_owned(),
            ],
            query: dau("events_by_date", "COUNT(DISTINCT user_id)"),
            probe: probe("events_by_date"),
            exact: true,
            claim: "part of the 15 min step",
            scales_with: Scaling::BytesRead,
        },
        Step {
            id: "approx",
            title: "approx_count_distinct",
            change: "COUNT(DISTINCT) replaced by a HyperLogLog sketch: a few kilobytes per day \
                     instead of a set of every user.",
            prepare: Vec::new(),
            query: dau("events_by_date", "approx_count_distinct(user_id)"),
            probe: probe("events_by_date"),
            exact: false,
            claim: "5 min, 99 % accurate",
            scales_with: Scaling::BytesRead,
        },
        Step {
            id: "preaggregated",
            title: "Pre-aggregated daily_user_metrics",
            change: "A table with a row per day, kept current by a MERGE of each new day; the \
                     report reads it.",
            prepare: vec![
                "CREATE OR REPLACE TABLE daily_user_metrics (date DATE, dau BIGINT, n BIGINT, \
                 sessions BIGINT, total_duration BIGINT)"
                    .to_owned(),
                merge_days("date < DATE '2024-03-30'"),
                merge_days("date = DATE '2024-03-30'"),
            ],
            query: "SELECT date, dau, n FROM daily_user_metrics WHERE date >= DATE '2024-02-01' \
                    ORDER BY date"
                .to_owned(),
            probe: "SELECT count(*) AS days FROM daily_user_metrics WHERE date = DATE '2024-03-15'"
                .to_owned(),
            exact: true,
            claim: "< 1 s",
            scales_with: Scaling::Days,
        },
    ]
}

/// The daily MERGE that maintains `daily_user_metrics` for the days `filter` selects.
pub fn merge_days(filter: &str) -> String {
    merge_days_from("events_by_date", filter)
}

/// [`merge_days`] reading the events from `source`.
pub fn merge_days_from(source: &str, filter: &str) -> String {
    format!(
        "MERGE INTO daily_user_metrics AS t USING (SELECT date, COUNT(DISTINCT user_id) AS dau, \
         COUNT(*) AS n, COUNT(DISTINCT session_id) AS sessions, CAST(SUM(duration) AS BIGINT) \
         AS total_duration FROM {source} WHERE {filter} GROUP BY date) AS s \
         ON t.date = s.date WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
    )
}

/// One day of an answer: (date as text, users, events).
pub type Day = (String, i64, i64);

/// The days of a rung's answer: batches of (date, dau, n), dau and n BIGINT.
pub fn days(batches: &[RecordBatch]) -> Result<Vec<Day>, String> {
    let mut days = Vec::new();
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        if batch.num_columns() < 3 {
            return Err(format!(
                "expected (date, dau, n), got {} columns",
                batch.num_columns()
            ));
        }
        let dates = ArrayFormatter::try_new(batch.column(0).as_ref(), &FormatOptions::default())
            .map_err(|e| e.to_string())?;
        let (Some(users), Some(events)) = (
            batch.column(1).as_primitive_opt::<Int64Type>(),
            batch.column(2).as_primitive_opt::<Int64Type>(),
        ) else {
            return Err("dau and n must be BIGINT".to_owned());
        };
        for row in 0..batch.num_rows() {
            days.push((
                dates.value(row).to_string(),
                users.value(row),
                events.value(row),
            ));
        }
    }
    Ok(days)
}

/// How an answer compares with the exact one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy {
    /// Σ users over the days: equal to the exact answer's when nothing is off.
    pub checksum: i64,
    /// The worst day's |answer − exact| / exact.
    pub max_error: f64,
    /// The mean of that over the days.
    pub mean_error: f64,
}

/// Compares `answer` with `exact` day by day; a missing or extra day is an error of 1.
pub fn compare(exact: &[Day], answer: &[Day]) -> Accuracy {
    let mut errors = Vec::with_capacity(exact.len());
    for (date, users, _) in exact {
        let error = match answer.iter().find(|(d, _, _)| d == date) {
            Some((_, got, _)) if *users > 0 => (*got - *users).abs() as f64 / *users as f64,
            Some((_, got, _)) => f64::from(u8::from(*got != 0)),
            None => 1.0,
        };
        errors.push(error);
    }
    let extra = answer
        .iter()
        .filter(|(d, _, _)| !exact.iter().any(|(e, _, _)| e == d))
        .count();
    errors.extend(std::iter::repeat_n(1.0, extra));
    let max_error = errors.iter().cloned().fold(0.0, f64::max);
    let mean_error = if errors.is_empty() {
        0.0
    } else {
        errors.iter().sum::<f64>() / errors.len() as f64
    };
    Accuracy {
        checksum: answer.iter().map(|(_, users, _)| users).sum(),
        max_error,
        mean_error,
    }
}

/// A rung's `millis`, measured on a table of `table_bytes` stored bytes,
/// scaled to the scenario's 10 TB on [`SCENARIO_CORES`] cores, in seconds.
/// Scan-bound rungs grow with the table: the same fraction of 10 TB read at
/// this run's bytes per millisecond; a pre-aggregate's read is a row per
/// day whatever the size.
/// A model, not a measurement: it ignores shuffles, skew and caching.
pub fn extrapolate(step: Scaling, millis: f64, table_bytes: i64) -> f64 {
    match step {
        Scaling::Days => millis / 1000.0,
        Scaling::BytesRead if table_bytes <= 0 => f64::NAN,
        Scaling::BytesRead => {
            millis / 1000.0 * (SCENARIO_BYTES / table_bytes as f64) / SCENARIO_CORES
        }
    }
}

/// A duration in seconds for the extrapolated column: "2.5 h", "14 min", "3.2 s".
pub fn human_seconds(seconds: f64) -> String {
    if !seconds.is_finite() {
        "–".to_owned()
    } else if seconds >= 5400.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else if seconds >= 90.0 {
        format!("{:.0} min", seconds / 60.0)
    } else if seconds >= 1.0 {
        format!("{seconds:.1} s")
    } else {
        format!("{:.0} ms", seconds * 1000.0)
    }
}

pub const PROMPTS: [Prompt; 6] = [
    Prompt {
        question: "Before changing anything: how do you find out why the query is slow?",
        try_this: "Open the plan of the baseline and read the scan line: files and bytes read \
                   against the table's.",
        answer: "Read the plan, not the clock. EXPLAIN (or the Spark UI's SQL tab) shows whether \
                 the scan pruned anything, how many files and bytes it read, and where the time \
                 goes: here almost all of it is the scan and the distinct aggregation, so the \
                 remedies are reading less and counting cheaper.",
    },
    Prompt {
        question: "Why does partitioning by date help this query, and when would it hurt?",
        try_this: "Compare files read by the baseline and the partitioned rung, then look at the \
                   one-user probe.",
        answer: "The filter is on date, so whole folders are skipped without opening a file. \
                 Here the events arrive in date order, so the baseline's per-file min/max stats \
                 already skip January: partitioning guarantees that skipping whatever the \
                 arrival order, and keeps each day's rows together for the per-day aggregation. \
                 It hurts when the column has too many values or too little data per value: \
                 thousands of tiny partitions mean tiny files and a slow log. Aim for partitions \
                 of a gigabyte or more, or cluster instead.",
    },
    Prompt {
        question: "What does Z-ordering buy here, and what does it not?",
        try_this: "Watch the probe for one user on one day before and after OPTIMIZE ZORDER BY.",
        answer: "Compaction turns many small files into few, which cuts per-file overhead for \
                 every query. The Z-order makes each file cover a narrow range of user_id, so a \
                 query for a few users skips most files by their min/max stats. The DAU query \
                 reads every user of each day, so Z-order cannot skip anything for it: the gain \
                 there is the compaction.",
    },
    Prompt {
        question: "Partition plus Z-order, or liquid clustering?",
        try_this: "In the SQL console: CREATE TABLE events_clustered CLUSTER BY (date, user_id) \
                   AS SELECT * FROM events; OPTIMIZE events_clustered; then run the probe on it, \
                   INSERT a few rows, OPTIMIZE again and read DESCRIBE HISTORY and DESCRIBE FILES.",
        answer: "CLUSTER BY keeps the clustering columns in the table's log instead of its folder \
                 layout: files are written as they come, and each OPTIMIZE clusters only the \
                 files not clustered yet, so the upkeep is incremental where a ZORDER BY rewrites \
                 whole partitions. The columns can change later without rewriting anything \
                 (ALTER TABLE … CLUSTER BY), and no partition is ever too small. It cannot be \
                 combined with PARTITIONED BY; choose it for new tables whose filters are not \
                 one obvious low-cardinality column, or whose filters will change.",
    },
    Prompt {
        question: "Is approx_count_distinct acceptable for a DAU metric?",
        try_this: "Read the error column of the approximate rung, then ask for rsd 0.05 in the \
                   console.",
        answer: "For a dashboard, yes: HyperLogLog gives a known relative standard error (about \
                 0.8 % at DataFusion's precision, 5 % by Spark's default rsd) with constant memory \
                 per group, and its sketches merge. Not for billing or official figures: keep an \
                 exact count for those, computed once a day into a table.",
    },
    Prompt {
        question: "Why is the pre-aggregated table the real fix, and what does it cost?",
        try_this: "Compare the rungs' times, then re-run the MERGE of the newest day.",
        answer: "The report asks the same question of the same days over and over: computing each \
                 day once, as it closes, turns a scan of billions of rows into a read of ninety. \
                 The cost is a daily job, a table to own, and late data: a late event needs its \
                 day merged again, which is why the MERGE is keyed on date.",
    },
];

pub const MODEL_ANSWER: &str = "Start from the plan: a full scan of every file and a distinct \
count over every row. Read less first: partition (or cluster) by the column the query filters \
on so whole days are skipped, compact small files with OPTIMIZE, and Z-order by the columns \
selective queries filter on so file statistics skip the rest. Count cheaper where the number \
allows it: approx_count_distinct keeps a small sketch per day instead of every user, within a \
known error. And stop recomputing: a daily_user_metrics table, maintained by a MERGE of each new \
day and re-merged for late data, answers the report from ninety rows. Prove each step with the \
plan's files and bytes read, and keep the exact path for figures that must be exact.";

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str, users: i64) -> Day {
        (d.to_owned(), users, 1)
    }

    #[test]
    fn answers_compare_day_by_day() {
        let exact = vec![day("a", 100), day("b", 200)];
        let same = compare(&exact, &exact);
        assert_eq!((same.checksum, same.max_error), (300, 0.0));
        let off = compare(&exact, &[day("a", 101), day("b", 196)]);
        assert!((off.max_error - 0.02).abs() < 1e-12);
        assert!((off.mean_error - 0.015).abs() < 1e-12);
        assert_eq!(compare(&exact, &[day("a", 100)]).max_error, 1.0);
        assert_eq!(
            compare(&exact, &[day("a", 100), day("b", 200), day("c", 1)]).max_error,
            1.0
        );
    }

    #[test]
    fn sizes_that_do_not_fit_are_refused_before_starting() {
        assert!(check_size(1_000_000, 4 << 30).is_ok());
        let err = check_size(100_000_000, 4 << 30).unwrap_err();
        assert!(err.contains("choose at most"), "{err}");
        assert!(check_size(10, 4 << 30).is_err());
    }

    #[test]
    fn extrapolation_scales_scans_with_bytes_and_pre_aggregates_not_at_all() {
        let scan = extrapolate(Scaling::BytesRead, 1000.0, 100_000_000);
        assert!((scan - 1e5 / SCENARIO_CORES).abs() < 1e-6);
        assert_eq!(extrapolate(Scaling::Days, 1000.0, 100_000_000), 1.0);
        assert_eq!(human_seconds(7200.0), "2.0 h");
        assert_eq!(human_seconds(0.25), "250 ms");
    }

    #[test]
    fn every_rung_answers_the_same_shape() {
        let steps = ladder(1_000_000);
        let ids: Vec<&str> = steps.iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "baseline",
                "partitioned",
                "zordered",
                "approx",
                "preaggregated"
            ]
        );
        assert!(steps.iter().all(|s| s.query.contains("ORDER BY date")));
        assert_eq!(steps.iter().filter(|s| !s.exact).count(), 1);
    }
}
