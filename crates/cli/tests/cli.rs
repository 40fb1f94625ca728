//! The `lakelab sql` command: text and JSON output, scripts, errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

fn lakelab(lake: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakelab"))
        .arg("sql")
        .arg("--lake")
        .arg(lake)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn scripts_run_in_order_into_table_folders() {
    let lake = tempfile::tempdir().unwrap();
    let out = lakelab(
        lake.path(),
        &[
            "CREATE TABLE sales.orders AS SELECT 1 AS id, 'a;b' AS note; INSERT INTO sales.orders VALUES (2, 'c'); \
           SELECT * FROM sales.orders ORDER BY id",
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("| 2  | c    |") && text.contains("a;b"),
        "{text}"
    );
    assert!(
        lake.path()
            .join("sales/orders/_delta_log/00000000000000000001.json")
            .is_file()
    );

    let out = lakelab(
        lake.path(),
        &[
            "--json",
            "SELECT id, note FROM sales.orders VERSION AS OF 0",
        ],
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows, serde_json::json!([{"id": 1, "note": "a;b"}]));
}

#[test]
fn errors_are_json_with_a_failing_exit_and_stop_the_script() {
    let lake = tempfile::tempdir().unwrap();
    let out = lakelab(
        lake.path(),
        &[
            "--json",
            "CREATE TABLE t AS SELECT 1 AS x; SELEC oops; INSERT INTO t VALUES (2)",
        ],
    );
    assert!(!out.status.success());
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = error["error"].as_str().unwrap();
    assert!(
        message.starts_with("statement 2:") && message.contains("SELEC"),
        "{message}"
    );
    let out = lakelab(lake.path(), &["--json", "SELECT count(*) AS n FROM t"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows,
        serde_json::json!([{"n": 1}]),
        "the statement after the error did not run"
    );
    let out = lakelab(lake.path(), &["SELECT * FROM missing"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
}
