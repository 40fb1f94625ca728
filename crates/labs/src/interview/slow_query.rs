//! Exercises on the slow-query lab's `events` table (the benchmark spec's
//! generator, so the true rows can always be generated again to compare).

use super::{Difficulty, Exercise, Probe, Work, same_rows};
use crate::slow_query::merge_days_from;

const ROWS: u64 = 100_000;
/// Small files of an ingestion that appends often: 50 of them.
const ROWS_PER_FILE: u64 = 2_000;
pub const USER_LOOKUP: &str = "SELECT count(*) AS events FROM events WHERE user_id = 4242";

/// The spec table at its exercise size, cut into small files.
fn events() -> Vec<String> {
    vec![
        "DROP TABLE IF EXISTS events".into(),
        format!("SET spark.sql.files.maxRecordsPerFile = {ROWS_PER_FILE}"),
        format!("CREATE TABLE events AS SELECT * FROM lakelab_events({ROWS})"),
    ]
}

/// `ok` if `table`'s (date, dau, n) equal the exact ones computed from `events`.
fn metrics_exact(table: &str) -> String {
    same_rows(
        "SELECT date, count(DISTINCT user_id) AS dau, count(*) AS n FROM events GROUP BY date",
        &format!("SELECT date, dau, n FROM {table}"),
    )
}

/// Every generated row is in `events`, unchanged, once.
fn rows_unchanged() -> Probe {
    Probe::Holds {
        what: "every row is still there, unchanged (compared with the generator's rows)".into(),
        sql: same_rows(
            &format!("SELECT * FROM lakelab_events({ROWS})"),
            "SELECT * FROM events",
        ),
    }
}

/// The spec table written user by user, so every file spans every day.
fn events_by_user() -> Vec<String> {
    let mut setup = events();
    setup[2] =
        format!("CREATE TABLE events AS SELECT * FROM lakelab_events({ROWS}) ORDER BY user_id");
    setup
}

pub const ONE_DAY: &str = "SELECT count(*) AS events FROM events WHERE date = DATE '2024-02-15'";

pub(super) fn exercises() -> Vec<Exercise> {
    vec![
    Exercise {
        id: "dau-new-day",
        lab: crate::slow_query::TITLE,
        title: "Add a new day to a pre-aggregate",
        difficulty: Difficulty::Warmup,
        minutes: 8,
        brief: "`daily_user_metrics` holds one row per day (date, dau, n, sessions, total_duration) \
                computed from `events`, up to 2024-03-29. The events of 2024-03-30 have landed. Bring \
                the table up to date so every day is exact, without recomputing the other days."
            .into(),
        hints: vec![
            "Aggregate only the new day from events: a WHERE on date.".into(),
            "Daily active users count each user once: count(DISTINCT user_id).".into(),
            "MERGE on date makes the refresh safe to run twice (a late rerun updates, not duplicates)."
                .into(),
        ],
        rubric: vec![
            "Aggregates only the new day's events: the cost grows with a day, not with the history.",
            "Uses MERGE on the date key so a rerun or a late correction updates the day instead of adding a row.",
            "Keeps DAU exact here, and can say when an approximate count (HyperLogLog) would be acceptable.",
            "Mentions what late events do to a closed day, and how a window of recent days is recomputed.",
        ],
        work: Work::Sql { setup: events()
            .into_iter()
            .chain([
                "CREATE OR REPLACE TABLE daily_user_metrics (date DATE, dau BIGINT, n BIGINT, \
                 sessions BIGINT, total_duration BIGINT)"
                    .into(),
                merge_days_from("events", "date < DATE '2024-03-30'"),
            ])
            .collect(), probes: vec![Probe::Holds {
            what: "every day's dau and n equal the exact ones from events".into(),
            sql: metrics_exact("daily_user_metrics"),
        }] },
    },
    Exercise {
        id: "user-lookup-skipping",
        lab: crate::slow_query::TITLE,
        title: "Make a one-user lookup skip files",
        difficulty: Difficulty::Medium,
        minutes: 15,
        brief: format!(
            "Support looks up one user's events all day: `{USER_LOOKUP}`. It reads every file of \
             `events`. Change the table's layout so this query reads at most 10 % of the files, \
             without changing a single row."
        ),
        hints: vec![
            "EXPLAIN the query: the scan line says how many files it read, and why it skipped none.".into(),
            "Files are skipped by their min/max per column. What would make user_id's ranges narrow?".into(),
            "OPTIMIZE … ZORDER BY rewrites files of spark.databricks.delta.optimize.maxFileSize bytes \
             (1 GiB by default: on a small table, one file)."
                .into(),
        ],
        rubric: vec![
            "Reads the plan first: files read against files total, and that user_id is random across files.",
            "Explains data skipping: min/max stats per file, useful only if the column is clustered.",
            "Chooses Z-order (or liquid clustering) on user_id, and says why partitioning by a high-cardinality column is wrong.",
            "Knows the file-size target matters: one big file cannot be skipped; too many small ones cost listing and opens.",
            "Proves the answer did not change (same rows, same counts) before calling it done.",
        ],
        work: Work::Sql { setup: events(), probes: vec![
            Probe::FilesRead {
                what: "the lookup reads at most 10 % of the files".into(),
                query: USER_LOOKUP.into(),
                max_percent: 10.0,
            },
            rows_unchanged(),
        ] },
    },
    Exercise {
        id: "day-skipping",
        lab: crate::slow_query::TITLE,
        title: "Make a one-day count skip files",
        difficulty: Difficulty::Medium,
        minutes: 12,
        brief: format!(
            "`events` was backfilled user by user, so every one of its files holds every day. \
             The daily report runs `{ONE_DAY}` and reads all of them. Change the layout so it reads \
             at most 5 % of the files, without changing a row."
        ),
        hints: vec![
            "EXPLAIN the query and look at what the scan read; then at the files' date ranges \
             (DESCRIBE FILES events)."
                .into(),
            "Files are skipped on their min/max: rows of a day must sit together.".into(),
            "Partitioning by a low-cardinality date, or clustering on it (OPTIMIZE … ZORDER BY with a \
             small spark.databricks.delta.optimize.maxFileSize), both work: which costs more files?"
                .into(),
        ],
        rubric: vec![
            "Reads the plan first and sees that the date ranges of all files overlap.",
            "Weighs partitioning by date (one folder per day, skipped by path) against clustering (fewer, larger files).",
            "Knows partition columns should be low cardinality with enough data per value; 90 days of small files is the limit of it.",
            "Says what the other query loses: the layout that serves dates does not serve a user lookup, and Z-order on both trades each off.",
            "Checks the answer and the row count did not change.",
        ],
        work: Work::Sql { setup: events_by_user(), probes: vec![
            Probe::FilesRead {
                what: "the one-day count reads at most 5 % of the files".into(),
                query: ONE_DAY.into(),
                max_percent: 5.0,
            },
            rows_unchanged(),
        ] },
    },
    Exercise {
        id: "compact-small-files",
        lab: crate::slow_query::TITLE,
        title: "Compact the small files",
        difficulty: Difficulty::Warmup,
        minutes: 6,
        brief: "Frequent appends left `events` in 50 small files, and every query pays to open them. \
                Compact the table to at most 5 files without changing a row."
            .into(),
        hints: vec![
            "Delta has a command for this that rewrites small files into large ones in one commit.".into(),
            "OPTIMIZE marks its commit dataChange = false: streaming readers of the table skip it.".into(),
        ],
        rubric: vec![
            "Uses OPTIMIZE (bin-packing), not a rewrite by hand: one atomic commit, readers see before or after.",
            "Knows the old files stay until VACUUM, so time travel keeps working and storage grows for a while.",
            "Mentions preventing it at the source: optimized writes or auto compaction, or fewer, larger appends.",
        ],
        work: Work::Sql { setup: events(), probes: vec![
            Probe::TableFiles {
                what: "the table has at most 5 files".into(),
                table: "events".into(),
                at_most: 5,
            },
            rows_unchanged(),
        ] },
    },
    ]
}
