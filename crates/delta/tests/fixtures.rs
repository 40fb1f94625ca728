//! Reads every Delta table in ../shared/fixtures (written by delta-rs, Spark
//! and Databricks) at every version and compares with what those tools saw.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(not(target_arch = "wasm32"))]

mod rows;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use lakelab_delta::{DeltaError, Table};
use lakelab_store::LocalStore;
use serde_json::Value;

fn fixtures() -> PathBuf {
    // Where xtask found them; else beside the project, as in its own checkout.
    std::env::var_os("LAKELAB_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"))
}

fn tables() -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    for set in ["delta", "delta-upstream"] {
        let dir = fixtures().join(set);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("fixtures missing at {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("_delta_log").is_dir())
            .collect();
        entries.sort();
        for table in entries {
            let expected = PathBuf::from(format!("{}.expected.json", table.display()));
            let expected: Value =
                serde_json::from_slice(&std::fs::read(&expected).unwrap()).unwrap();
            out.push((table, expected));
        }
    }
    assert!(
        out.len() >= 16,
        "expected all fixture tables, found {}",
        out.len()
    );
    out
}

/// Tables needing a feature Lakelab refuses, and that feature.
const REFUSED: &[(&str, &str)] = &[("table-with-dv-small", "deletionVectors")];

#[tokio::test(flavor = "current_thread")]
async fn every_version_of_every_fixture_reads_as_expected() {
    let mut checked = 0;
    for (dir, expected) in tables() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let store = Rc::new(LocalStore::new(&dir).unwrap());
        let table = Table::new(store, "");
        let latest = expected["latest_version"].as_i64().unwrap();
        assert_eq!(
            table.latest_version().await.unwrap(),
            Some(latest),
            "{name}"
        );
        let versions: BTreeMap<i64, &Value> = expected["versions"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(v, e)| (v.parse().unwrap(), e))
            .collect();
        for (version, want) in versions {
            let context = format!("{name} v{version}");
            let result = table.snapshot_at(version).await;
            if let Some((_, feature)) = REFUSED.iter().find(|(t, _)| *t == name) {
                let err = result
                    .err()
                    .unwrap_or_else(|| panic!("{context}: should be refused"));
                assert!(err.to_string().contains(feature), "{context}: {err}");
                checked += 1;
                continue;
            }
            let snapshot = result.unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_eq!(snapshot.version, version);
            assert_eq!(
                snapshot.files.len() as u64,
                want["num_files"].as_u64().unwrap(),
                "{context}: number of files"
            );
            let partition_columns: Vec<String> =
                serde_json::from_value(want["partition_columns"].clone()).unwrap();
            assert_eq!(
                snapshot.partition_columns(),
                partition_columns.as_slice(),
                "{context}"
            );
            let fields: Vec<(String, bool)> = want["schema"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap().to_owned(),
                        f["nullable"].as_bool().unwrap(),
                    )
                })
                .collect();
            let got: Vec<(String, bool)> = snapshot
                .schema
                .fields()
                .iter()
                .map(|f| (f.name().clone(), f.is_nullable()))
                .collect();
            assert_eq!(got, fields, "{context}: schema");
            let read = table.read(&snapshot, None).await;
            if want["readable"] == Value::Bool(false) {
                let err = read
                    .err()
                    .unwrap_or_else(|| panic!("{context}: should not read"));
                assert!(
                    matches!(err, DeltaError::MissingDataFile { .. }),
                    "{context}: {err}"
                );
                checked += 1;
                continue;
            }
            let batches = read.unwrap_or_else(|e| panic!("{context}: {e}"));
            let got = rows::sorted_rows(&batches);
            assert_eq!(got, rows::expected(&want["rows"]), "{context}: rows");
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} versions checked");
}
