//! Exercises on the migration lab's legacy pipeline: convert a Parquet
//! folder to Delta in place, and replace a nightly full rebuild with an
//! incremental refresh that gives the same table.

use super::{Difficulty, Exercise, Probe, Work, same_rows};
use crate::migration::{
    APPEND_TONIGHT, CONVERT, FULL_REBUILD, LATE_DAY, TITLE, sales, setup, summary,
};

fn legacy() -> Vec<String> {
    setup().into_iter().map(|(_, sql)| sql).collect()
}

/// Converted, summarised by the old job, and tonight's delivery appended.
fn before_tonights_refresh() -> Vec<String> {
    let mut statements = legacy();
    statements.extend([CONVERT, FULL_REBUILD, APPEND_TONIGHT].map(str::to_owned));
    statements
}

pub(super) fn exercises() -> Vec<Exercise> {
    vec![
        Exercise {
            id: "migrate-in-place",
            lab: TITLE,
            title: "Make a Parquet folder Delta, in place",
            difficulty: Difficulty::Warmup,
            minutes: 6,
            brief: "`legacy_sales` is a plain Parquet table in sale_date=… folders, written for years by a \
                    nightly job. Make it a Delta table without copying or rewriting the data, keeping its \
                    partitions and every row."
                .into(),
            hints: vec![
                "Delta keeps the data files and adds a log beside them.".into(),
                "CONVERT TO DELTA writes that log over the files already there.".into(),
                "Folder names are text: the partition column's type must be given, PARTITIONED BY (sale_date DATE)."
                    .into(),
            ],
            rubric: vec![
                "Converts in place (CONVERT TO DELTA) instead of copying: a listing and a footer read per file, whatever the data size.",
                "Declares the partition columns with their types, since the folders only hold text.",
                "Stops the legacy writers first, or reconverts: files written after the commit are not in the table.",
                "Proves the rows are unchanged (EXCEPT ALL both ways) before anyone switches to the new table.",
            ],
            work: Work::Sql {
                setup: legacy(),
                probes: vec![
                    Probe::Shows {
                        what: "converted in place: the table's first commit is a CONVERT".into(),
                        sql: "DESCRIBE HISTORY legacy_sales".into(),
                        shows: vec!["CONVERT".into()],
                        lacks: vec!["CREATE".into()],
                    },
                    Probe::Holds {
                        what: "every row of the legacy job, unchanged, once".into(),
                        sql: same_rows(&sales(), "SELECT * FROM legacy_sales"),
                    },
                    Probe::FilesRead {
                        what: "still partitioned by day: one day's query reads one day's files".into(),
                        query: format!(
                            "SELECT sum(amount) FROM legacy_sales WHERE sale_date = DATE '{LATE_DAY}'"
                        ),
                        max_percent: 5.0,
                    },
                ],
            },
        },
        Exercise {
            id: "full-to-incremental",
            lab: TITLE,
            title: "Replace a nightly full rebuild",
            difficulty: Difficulty::Medium,
            minutes: 12,
            brief: format!(
                "`daily_revenue` (sale_date, store, revenue, sales) is rebuilt from all of `legacy_sales` \
                 every night. Tonight's delivery, `new_sales`, is already appended to `legacy_sales`: the \
                 sales of a new day and late sales of {LATE_DAY}. Bring `daily_revenue` up to date by \
                 recomputing only the days the delivery touched, so that it equals what the full rebuild \
                 would give."
            ),
            hints: vec![
                "Which days does tonight's delivery touch? Not only the newest.".into(),
                "Aggregate legacy_sales for those days only.".into(),
                "MERGE on (sale_date, store) replaces those days' rows and inserts new ones.".into(),
            ],
            rubric: vec![
                "Recomputes every day the delivery touched, including late data for an earlier day, not 'everything after the last date'.",
                "Writes idempotently (MERGE on the key, or REPLACE WHERE on the days), so a rerun cannot double count.",
                "Proves the incremental table equals the full rebuild, row for row, before retiring the old job.",
                "Names the cost difference: a night's data instead of the whole history, and an atomic commit instead of an empty dashboard on failure.",
            ],
            work: Work::Sql {
                setup: before_tonights_refresh(),
                probes: vec![
                    Probe::Holds {
                        what: "daily_revenue equals tonight's full rebuild".into(),
                        sql: same_rows(
                            &summary("legacy_sales"),
                            "SELECT sale_date, store, revenue, sales FROM daily_revenue",
                        ),
                    },
                    Probe::Shows {
                        what: "refreshed in place, not rebuilt: the last commit is not a full rewrite".into(),
                        sql: "DESCRIBE HISTORY daily_revenue LIMIT 1".into(),
                        shows: Vec::new(),
                        lacks: vec!["CREATE".into(), "{mode: Overwrite, partitionBy: []}".into()],
                    },
                ],
            },
        },
    ]
}
