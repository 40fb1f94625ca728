//! Exercises on the slow-query lab's `events` table (the benchmark spec's
//! generator, so the true rows can always be generated again to compare).

use super::{Difficulty, Exercise, Probe};

const ROWS: u64 = 100_000;
/// Small files of an ingestion that appends often: 50 of them.
const ROWS_PER_FILE: u64 = 2_000;
pub const USER_LOOKUP: &str = "SELECT count(*) AS events FROM events WHERE user_id = 4242";

pub(super) fn exercises() -> Vec<Exercise> {
    vec![Exercise {
        id: "user-lookup-skipping",
        lab: "query",
        title: "Make a one-user lookup skip files",
        difficulty: Difficulty::Medium,
        minutes: 15,
        brief: format!(
            "Support looks up one user's events all day: `{USER_LOOKUP}`. It reads every file of \
             `events`. Change the table's layout so this query reads at most 10 % of the files, \
             without changing a single row."
        ),
        setup: vec![
            "DROP TABLE IF EXISTS events".into(),
            format!("SET spark.sql.files.maxRecordsPerFile = {ROWS_PER_FILE}"),
            format!("CREATE TABLE events AS SELECT * FROM lakelab_events({ROWS})"),
        ],
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
        probes: vec![
            Probe::FilesRead {
                what: "the lookup reads at most 10 % of the files".into(),
                query: USER_LOOKUP.into(),
                max_percent: 10.0,
            },
            Probe::Holds {
                what: "every row is still there, unchanged (compared with the generator's rows)".into(),
                sql: format!(
                    "SELECT CASE WHEN missing = 0 AND extra = 0 THEN 'ok' ELSE concat(CAST(missing AS STRING), \
                     ' rows missing or changed, ', CAST(extra AS STRING), ' rows added') END FROM (SELECT \
                     (SELECT count(*) FROM (SELECT * FROM lakelab_events({ROWS}) EXCEPT ALL \
                      SELECT * FROM events)) AS missing, \
                     (SELECT count(*) FROM (SELECT * FROM events EXCEPT ALL \
                      SELECT * FROM lakelab_events({ROWS}))) AS extra)"
                ),
            },
        ],
    }]
}
