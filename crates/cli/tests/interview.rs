//! Interview mode's checkers, each proven both ways: the exercise's start
//! state fails, a correct solution passes, and plausible wrong ones fail
//! on the check that catches them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

fn lakelab(args: &[&str], lake: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakelab"))
        .args(args)
        .arg("--lake")
        .arg(lake)
        .output()
        .unwrap()
}

/// The verdict on `solution` (a SQL script) worked from `id`'s start state:
/// whether it passed, and what it printed.
fn verdict(id: &str, solution: &str) -> (bool, String) {
    let lake = tempfile::tempdir().unwrap();
    let reset = lakelab(&["exercise", id, "--reset"], lake.path());
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let file = lake.path().join("solution.sql");
    std::fs::write(&file, solution).unwrap();
    let out = lakelab(
        &["exercise", id, "--solution", file.to_str().unwrap()],
        lake.path(),
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn passes(id: &str, solution: &str) {
    let (passed, text) = verdict(id, solution);
    assert!(passed, "{id} should pass:\n{solution}\n{text}");
}

/// Fails, and the failed check mentions `caught_by`.
fn fails(id: &str, solution: &str, caught_by: &str) {
    let (passed, text) = verdict(id, solution);
    assert!(!passed, "{id} should fail:\n{solution}\n{text}");
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with('✗')).collect();
    assert!(
        failed.iter().any(|l| l.contains(caught_by)),
        "{id}: expected a failed check on '{caught_by}':\n{text}"
    );
}

#[test]
fn every_exercise_is_listed() {
    let lake = tempfile::tempdir().unwrap();
    let out = lakelab(&["exercise", "list"], lake.path());
    let text = String::from_utf8_lossy(&out.stdout);
    for e in lakelab_labs::interview::all() {
        assert!(text.contains(e.id), "{text}");
    }
}

#[test]
fn restore_last_good() {
    let id = "restore-last-good";
    fails(id, "SELECT 1", "exactly the rows of version 14");
    passes(id, "RESTORE TABLE orders TO VERSION AS OF 14");
    fails(
        id,
        "RESTORE TABLE orders TO VERSION AS OF 13",
        "exactly the rows of version 14",
    );
    fails(
        id,
        "DELETE FROM orders WHERE customer_id IS NULL OR order_amount < 0",
        "exactly the rows of version 14",
    );
}

const SALVAGE: &str = "MERGE INTO orders t USING (SELECT * FROM orders VERSION AS OF 15 \
     WHERE customer_id IS NOT NULL AND order_amount >= 0) s \
     ON t.order_id = s.order_id WHEN NOT MATCHED THEN INSERT *";

#[test]
fn restore_and_salvage() {
    let id = "restore-and-salvage";
    let restore = "RESTORE TABLE orders TO VERSION AS OF 14";
    passes(id, &format!("{restore};\n{SALVAGE};\n{SALVAGE}"));
    fails(id, restore, "valid orders are back");
    fails(
        id,
        &format!("{restore};\nINSERT INTO orders SELECT * FROM orders VERSION AS OF 15"),
        "no order without a customer",
    );
    let valid = "SELECT * FROM orders VERSION AS OF 15 \
                 WHERE customer_id IS NOT NULL AND order_amount >= 0";
    fails(
        id,
        &format!("{restore};\nINSERT INTO orders {valid};\nINSERT INTO orders {valid}"),
        "each order is there once",
    );
}

#[test]
fn user_lookup_skipping() {
    let id = "user-lookup-skipping";
    fails(id, "SELECT 1", "at most 10 % of the files");
    passes(
        id,
        "SET spark.databricks.delta.optimize.maxFileSize = 100000;\n\
         OPTIMIZE events ZORDER BY (user_id)",
    );
    // One 1 GiB target: a single file, which no lookup can skip.
    fails(
        id,
        "OPTIMIZE events ZORDER BY (user_id)",
        "at most 10 % of the files",
    );
    // Fewer files read, but rows are gone.
    fails(
        id,
        "DELETE FROM events WHERE user_id <> 4242",
        "every row is still there",
    );
    // Partitions by date do not help a lookup by user.
    fails(
        id,
        "CREATE OR REPLACE TABLE events PARTITIONED BY (date) AS SELECT * FROM events",
        "at most 10 % of the files",
    );
}
