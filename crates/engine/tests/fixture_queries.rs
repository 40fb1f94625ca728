//! The filtered queries of ../shared/fixtures/delta, at every version, through
//! SQL: the same rows as delta-rs, reading no more files than its partition
//! pruning did (min/max stats may skip more).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../delta/tests/rows.rs"]
mod rows;

use std::rc::Rc;

use lakelab_engine::Engine;
use lakelab_store::LocalStore;
use serde_json::Value;

#[tokio::test(flavor = "current_thread")]
async fn fixture_queries_match_at_every_version() {
    let dir = fixtures().join("delta");
    let engine = Engine::open_at(Rc::new(LocalStore::new(&dir).unwrap()), "")
        .await
        .unwrap();
    let mut checked = 0;
    for table in engine.tables() {
        assert!(table.error.is_none(), "{}: {:?}", table.name, table.error);
        let expected: Value = serde_json::from_slice(
            &std::fs::read(dir.join(format!("{}.expected.json", table.name))).unwrap(),
        )
        .unwrap();
        for (version, want) in expected["versions"].as_object().unwrap() {
            if want["readable"] == Value::Bool(false) {
                let sql = format!("SELECT * FROM {} VERSION AS OF {version}", table.name);
                let err = engine
                    .execute(&sql, &mut |_| {})
                    .await
                    .unwrap_err()
                    .to_string();
                assert!(err.contains("missing"), "{sql}: {err}");
                continue;
            }
            for query in want["queries"].as_array().into_iter().flatten() {
                let sql = query["sql"].as_str().unwrap().replace('"', "`").replacen(
                    "FROM t",
                    &format!("FROM {} VERSION AS OF {version}", table.name),
                    1,
                );
                let out = engine
                    .execute(&sql, &mut |_| {})
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let got = rows::sorted_rows(&out.batches);
                assert_eq!(got, rows::expected(&query["rows"]), "{sql}");
                let scan = &out.scans[0];
                if let Some(total) = query["files_total"].as_u64() {
                    assert_eq!(scan.files_total as u64, total, "{sql}");
                }
                if let Some(pruned) = query["files_after_partition_pruning"].as_u64() {
                    assert!(
                        scan.files_read as u64 <= pruned,
                        "{sql}: read {} files",
                        scan.files_read
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 40, "only {checked} queries checked");
}

/// The reference tables: where xtask found them (`LAKELAB_FIXTURES`), else
/// beside the project, as in its own checkout.
fn fixtures() -> std::path::PathBuf {
    std::env::var_os("LAKELAB_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
        })
}
