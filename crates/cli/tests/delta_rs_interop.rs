//! Tables Lakelab writes open in delta-rs at every version with the same rows.
//!
//! Needs a Python with the `deltalake` package, named by LAKELAB_PYTHON
//! (`cargo xtask test` makes one in a venv); without it the test says so and
//! passes vacuously, so a plain `cargo test` works offline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn lakelab(lake: &Path, sql: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_lakelab"))
        .args(["sql", "--json", "--lake"])
        .arg(lake)
        .arg(sql)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{sql}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{sql}: {e}: {text}"))
}

fn sorted(rows: &Value) -> Vec<String> {
    let mut out: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            // Both sides write nulls differently (absent or null): drop them.
            let object: serde_json::Map<String, Value> = r
                .as_object()
                .unwrap()
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Value::Object(object).to_string()
        })
        .collect();
    out.sort();
    out
}

/// A workload touching every kind of commit Lakelab writes.
const WORKLOAD: &[&str] = &[
    "CREATE TABLE orders (id BIGINT NOT NULL, customer STRING, amount DOUBLE, day DATE) \
     USING DELTA PARTITIONED BY (day) TBLPROPERTIES ('lab' = 'interop')",
    "INSERT INTO orders VALUES (1, 'ann', 10.5, DATE '2024-01-01'), (2, 'bo', 20.0, DATE '2024-01-02'), \
     (3, NULL, 30.0, DATE '2024-01-02')",
    "INSERT INTO orders VALUES (4, 'di', 40.0, NULL)",
    "DELETE FROM orders WHERE amount > 35",
    "UPDATE orders SET amount = amount + 1 WHERE customer = 'ann'",
    "CREATE TABLE changes AS SELECT * FROM (VALUES (2, 'bo2', 22.0, DATE '2024-01-02', 'U'), \
     (5, 'ed', 50.0, DATE '2024-01-03', 'I'), (3, NULL, 0.0, DATE '2024-01-02', 'D')) \
     AS v(id, customer, amount, day, op)",
    "MERGE INTO orders t USING changes s ON t.id = s.id \
     WHEN MATCHED AND s.op = 'D' THEN DELETE \
     WHEN MATCHED THEN UPDATE SET customer = s.customer, amount = s.amount \
     WHEN NOT MATCHED THEN INSERT (id, customer, amount, day) VALUES (s.id, s.customer, s.amount, s.day)",
    "ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0)",
    "ALTER TABLE orders ADD COLUMNS (note STRING)",
    "INSERT INTO orders VALUES (6, 'fay', 60.0, DATE '2024-01-04', 'late')",
    "INSERT OVERWRITE orders SELECT * FROM orders WHERE id < 5",
    "RESTORE TABLE orders TO VERSION AS OF 6",
    // RESTORE brings back version 6's schema too: four columns again.
    "INSERT INTO orders VALUES (7, 'gus', 70.0, DATE '2024-01-05')",
];

/// The Python with `deltalake`, or `None` after saying the test is skipped.
fn python() -> Option<String> {
    let python = std::env::var("LAKELAB_PYTHON").ok();
    if python.is_none() {
        println!("skipped: set LAKELAB_PYTHON to a Python with deltalake (cargo xtask test does)");
    }
    python
}

/// What delta-rs sees of the table at `path` (see `delta_rs_read.py`).
fn delta_rs_view(python: &str, path: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/delta_rs_read.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "delta-rs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every version of `table` reads the same rows in Lakelab and delta-rs.
fn same_rows_at_every_version(lake: &Path, table: &str, seen: &Value) -> i64 {
    let latest = seen["latest_version"].as_i64().unwrap();
    for version in 0..=latest {
        let ours = lakelab(
            lake,
            &format!("SELECT * FROM {table} VERSION AS OF {version}"),
        );
        let theirs = &seen["versions"][version.to_string()];
        assert_eq!(
            sorted(&ours),
            sorted(&theirs["rows"]),
            "{table} version {version}"
        );
    }
    latest
}

#[test]
fn delta_rs_reads_every_version_lakelab_wrote() {
    let Some(python) = python() else {
        return;
    };
    let lake = tempfile::tempdir().unwrap();
    for sql in WORKLOAD {
        lakelab(lake.path(), sql);
    }
    let seen = delta_rs_view(&python, &lake.path().join("orders"));
    let latest = same_rows_at_every_version(lake.path(), "orders", &seen);
    assert!(latest >= 11, "versions past the checkpoint at 10: {latest}");
    assert_eq!(
        seen["protocol"],
        serde_json::json!([1, 3]),
        "CHECK constraints need writer 3"
    );
    let history: Vec<&str> = seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    for op in [
        "CREATE TABLE",
        "WRITE",
        "DELETE",
        "UPDATE",
        "MERGE",
        "ADD CONSTRAINT",
        "ADD COLUMNS",
        "RESTORE",
    ] {
        assert!(history.contains(&op), "{op} in {history:?}");
    }
    assert!(
        lake.path()
            .join("orders/_delta_log/00000000000000000010.checkpoint.parquet")
            .is_file()
    );
}

/// A liquid-clustered table: the `domainMetadata` and `clustering` writer
/// features, clustered files, changed columns, and a checkpoint holding the
/// domain.
#[test]
fn delta_rs_reads_a_clustered_table_lakelab_wrote() {
    let Some(python) = python() else {
        return;
    };
    let lake = tempfile::tempdir().unwrap();
    lakelab(
        lake.path(),
        "CREATE TABLE visits CLUSTER BY (user_id) AS \
         SELECT user_id, event_type, date FROM lakelab_events(3000)",
    );
    for round in 0..4 {
        lakelab(
            lake.path(),
            &format!(
                "INSERT INTO visits SELECT user_id + {round}, event_type, date FROM lakelab_events(500)"
            ),
        );
        lakelab(lake.path(), "OPTIMIZE visits");
    }
    lakelab(
        lake.path(),
        "ALTER TABLE visits CLUSTER BY (event_type, user_id)",
    );
    lakelab(lake.path(), "OPTIMIZE visits FULL");
    lakelab(lake.path(), "DELETE FROM visits WHERE user_id % 7 = 0");
    let seen = delta_rs_view(&python, &lake.path().join("visits"));
    let latest = same_rows_at_every_version(lake.path(), "visits", &seen);
    assert!(latest >= 11, "versions past the checkpoint at 10: {latest}");
    assert_eq!(seen["protocol"], serde_json::json!([1, 7]));
    let detail = lakelab(lake.path(), "DESCRIBE DETAIL visits");
    assert_eq!(
        detail[0]["clusteringColumns"],
        serde_json::json!(["event_type", "user_id"]),
        "read back from the checkpoint at 10: {detail}"
    );
}

/// A legacy folder written by another tool (pyarrow: Hive-style partitions,
/// no log) converted in place by Lakelab, then written to: delta-rs reads
/// every version with Lakelab's rows.
#[test]
fn delta_rs_reads_a_parquet_folder_lakelab_converted() {
    let Some(python) = python() else {
        return;
    };
    let lake = tempfile::tempdir().unwrap();
    let folder = lake.path().join("legacy_sales");
    let out = Command::new(&python)
        .arg("-c")
        .arg(
            "import sys, datetime, pyarrow as pa, pyarrow.dataset as ds\n\
             days = [datetime.date(2024, 1, 1 + i % 4) for i in range(400)]\n\
             t = pa.table({'id': list(range(400)), 'amount': [i * 1.5 for i in range(400)], 'day': days})\n\
             ds.write_dataset(t, sys.argv[1], format='parquet', partitioning=['day'], partitioning_flavor='hive')",
        )
        .arg(&folder)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(folder.join("day=2024-01-03").is_dir());

    lakelab(
        lake.path(),
        "CONVERT TO DELTA legacy_sales PARTITIONED BY (day DATE)",
    );
    let totals = lakelab(
        lake.path(),
        "SELECT count(*) AS n, sum(amount) AS total, count(DISTINCT day) AS days FROM legacy_sales",
    );
    assert_eq!(totals[0]["n"], 400);
    assert_eq!(totals[0]["days"], 4);
    lakelab(
        lake.path(),
        "INSERT INTO legacy_sales VALUES (400, 1.0, DATE '2024-01-05')",
    );
    let seen = delta_rs_view(&python, &folder);
    assert_eq!(
        same_rows_at_every_version(lake.path(), "legacy_sales", &seen),
        1
    );
    assert_eq!(seen["history"][0], "CONVERT", "{seen}");
}
