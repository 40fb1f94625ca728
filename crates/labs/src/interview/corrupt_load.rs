//! Exercises on the corrupt-load lab's `orders` table, from the moment the
//! bad overwrite is noticed (version 15 on top of 14 good loads).

use super::{Difficulty, Exercise, Probe, Work, same_rows};
use crate::corrupt_load::{BAD_VERSION, LAST_GOOD_VERSION, SEED, lab};

/// The lab's world up to 16:00: 14 good loads, then the bad overwrite.
fn start() -> Vec<String> {
    lab(SEED).setup.into_iter().map(|(_, sql)| sql).collect()
}

/// `ok` if `rows` (a query) returns no row, else "N {what}".
fn none_of(rows: &str, what: &str) -> String {
    format!(
        "SELECT CASE WHEN count(*) = 0 THEN 'ok' ELSE concat(CAST(count(*) AS STRING), ' {what}') END \
         FROM ({rows})"
    )
}

fn last_good() -> String {
    format!("SELECT * FROM orders VERSION AS OF {LAST_GOOD_VERSION}")
}

/// An hourly load of `orders` carrying one broken row (`broken`: its
/// customer and amount) among valid ones.
fn load_with(broken: &str) -> String {
    format!(
        "INSERT INTO orders VALUES \
         (900001, 'C0001', 25.0, 'placed', TIMESTAMP '2024-01-15 17:02:00'), \
         (900002, {broken}, 'placed', TIMESTAMP '2024-01-15 17:05:00'), \
         (900003, 'C0003', 40.0, 'placed', TIMESTAMP '2024-01-15 17:09:00')"
    )
}

fn good_rows_kept() -> Probe {
    Probe::Holds {
        what: format!("every order of version {LAST_GOOD_VERSION} is there, unchanged"),
        sql: none_of(
            &format!(
                "SELECT * FROM orders VERSION AS OF {LAST_GOOD_VERSION} EXCEPT ALL SELECT * FROM orders"
            ),
            &format!("rows of version {LAST_GOOD_VERSION} are missing or changed"),
        ),
    }
}

fn history_kept() -> Probe {
    Probe::Holds {
        what: format!(
            "the bad load is still in the history (version {BAD_VERSION}), for the audit"
        ),
        sql: format!(
            "SELECT CASE WHEN count(*) = 400 THEN 'ok' ELSE concat('version {BAD_VERSION} reads as ', \
             CAST(count(*) AS STRING), ' rows, not the bad load''s 400') END \
             FROM orders VERSION AS OF {BAD_VERSION}"
        ),
    }
}

const BROKEN: &str = "customer_id IS NULL OR order_amount < 0";

pub(super) fn exercises() -> Vec<Exercise> {
    vec![
        Exercise {
            id: "restore-last-good",
            lab: crate::corrupt_load::TITLE,
            title: "Undo a bad overwrite",
            difficulty: Difficulty::Warmup,
            minutes: 5,
            brief: "At 14:23 a load overwrote `orders` with broken rows. Put the table back exactly as it \
                    was before that load, without losing the record of what happened."
                .into(),
            hints: vec![
                "The table's history lists every write with its operation and mode.".into(),
                "Time travel reads any version: SELECT … FROM orders VERSION AS OF n.".into(),
                "RESTORE TABLE … TO VERSION AS OF n is one commit, whatever the table's size.".into(),
            ],
            rubric: vec![
                "Finds the bad write in DESCRIBE HISTORY (a WRITE with mode Overwrite) rather than guessing a time.",
                "Checks the candidate version's rows before restoring, with VERSION AS OF.",
                "Explains that RESTORE adds a commit re-adding old files: no data is copied, readers never see a half state.",
                "Notes that the bad version stays readable until VACUUM removes its files, which matters for salvage and audit.",
            ],
            work: Work::Sql { setup: start(), probes: vec![
                Probe::Holds {
                    what: format!("the table holds exactly the rows of version {LAST_GOOD_VERSION}"),
                    sql: same_rows(&last_good(), "SELECT * FROM orders"),
                },
                history_kept(),
            ] },
        },
        Exercise {
            id: "restore-and-salvage",
            lab: crate::corrupt_load::TITLE,
            title: "Restore without losing the valid orders",
            difficulty: Difficulty::Medium,
            minutes: 12,
            brief: "The 14:00 load that overwrote `orders` also carried real new orders: those with a \
                    customer and a non-negative amount. Restore the table and keep those, each once, \
                    and nothing broken."
                .into(),
            hints: vec![
                "Restore first: the last good version is the one before the overwrite.".into(),
                format!("The bad load's rows are still readable at version {BAD_VERSION}."),
                "MERGE … WHEN NOT MATCHED THEN INSERT adds each order once, even if run twice.".into(),
            ],
            rubric: vec![
                "Separates the two problems: undo the overwrite (RESTORE), then salvage rows (a filtered read of the bad version).",
                "States the validity rule explicitly and applies it as a filter, not by hand.",
                "Makes the salvage idempotent (MERGE on the key, or an anti-join), so a retry cannot duplicate orders.",
                "Verifies afterwards: counts per version, no broken rows, no duplicate keys.",
            ],
            work: Work::Sql { setup: start(), probes: vec![
                good_rows_kept(),
                Probe::Holds {
                    what: "the bad load's valid orders are back".into(),
                    sql: none_of(
                        &format!(
                            "SELECT * FROM orders VERSION AS OF {BAD_VERSION} WHERE NOT ({BROKEN}) \
                             EXCEPT ALL SELECT * FROM orders"
                        ),
                        "valid orders of the bad load are missing",
                    ),
                },
                Probe::Holds {
                    what: "no order without a customer or with a negative amount".into(),
                    sql: none_of(
                        &format!("SELECT * FROM orders WHERE {BROKEN}"),
                        "broken rows are in the table",
                    ),
                },
                Probe::Holds {
                    what: "each order is there once".into(),
                    sql: none_of(
                        "SELECT order_id FROM orders GROUP BY order_id HAVING count(*) > 1",
                        "orders appear more than once",
                    ),
                },
                history_kept(),
            ] },
        },
        Exercise {
            id: "guard-against-bad-loads",
            lab: crate::corrupt_load::TITLE,
            title: "Make the next bad load fail",
            difficulty: Difficulty::Medium,
            minutes: 10,
            brief: format!(
                "`orders` has been restored to version {LAST_GOOD_VERSION}. Make sure the next broken load \
                 cannot land: a write carrying any order without a customer or with a negative amount \
                 must fail as a whole, and nothing already in the table may change."
            ),
            hints: vec![
                "Delta tables carry constraints that every write is checked against.".into(),
                "ALTER TABLE … ADD CONSTRAINT name CHECK (condition): existing rows must satisfy it too."
                    .into(),
                "An expectation that drops rows lets the rest of the load land: is that what was asked?"
                    .into(),
            ],
            rubric: vec![
                "Uses CHECK constraints (or NOT NULL), which fail the whole commit: no partial load, nothing to clean up.",
                "Knows the difference from expectations (warn, drop row, fail) and when dropping rows is acceptable.",
                "Mentions that adding a constraint validates the existing rows first, so it fails on a table that already breaks it.",
                "Adds monitoring as well: a rejected load must page someone, or data silently stops arriving.",
            ],
            work: Work::Sql { setup: start()
                .into_iter()
                .chain([format!("RESTORE TABLE orders TO VERSION AS OF {LAST_GOOD_VERSION}")])
                .collect(), probes: vec![
                Probe::Holds {
                    what: "the table's rows are unchanged".into(),
                    sql: same_rows(&last_good(), "SELECT * FROM orders"),
                },
                Probe::Rejects {
                    what: "a load with an order without a customer is refused".into(),
                    sql: load_with("NULL, 12.5"),
                },
                Probe::Rejects {
                    what: "a load with a negative amount is refused".into(),
                    sql: load_with("'C0002', -12.5"),
                },
            ] },
        },
    ]
}
