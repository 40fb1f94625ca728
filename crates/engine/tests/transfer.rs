//! Export and import of tables as zips of their Delta folders.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Cursor, Write};
use std::rc::Rc;

use bytes::Bytes;
use lakelab_engine::{Engine, EngineError};
mod support;

use lakelab_store::{MemoryStore, Store};
use support::run;

async fn count(engine: &Engine, sql: &str) -> String {
    let out = run(engine, sql).await;
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&out.batches)
        .unwrap()
        .to_string();
    text.lines()
        .nth(3)
        .unwrap()
        .split('|')
        .nth(1)
        .unwrap()
        .trim()
        .to_owned()
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[tokio::test(flavor = "current_thread")]
async fn an_exported_table_imports_with_its_history() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    for sql in [
        "CREATE TABLE t USING DELTA PARTITIONED BY (p) AS SELECT value AS id, value % 2 AS p FROM generate_series(1, 10)",
        "DELETE FROM t WHERE id > 8",
    ] {
        engine.execute(sql, &mut |_| {}).await.unwrap();
    }
    let zip = engine.export_table("t").await.unwrap();
    let out = engine.import_zip("copy", &zip).await.unwrap();
    assert!(out.message.unwrap().starts_with("imported copy: version 1"));
    assert_eq!(count(&engine, "SELECT count(*) FROM copy").await, "8");
    assert_eq!(
        count(&engine, "SELECT count(*) FROM copy VERSION AS OF 0").await,
        "10"
    );
    let err = engine.import_zip("copy", &zip).await.unwrap_err();
    assert!(matches!(err, EngineError::TableExists(_)), "{err}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_delta_rs_table_folder_imports() {
    let dir = fixtures().join("delta/partitioned_date");
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(&dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((relative, Bytes::from(std::fs::read(&path).unwrap())));
            }
        }
    }
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    engine.import_files("events", files).await.unwrap();
    assert_eq!(
        count(&engine, "SELECT count(*) FROM events VERSION AS OF 0").await,
        "14"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn bad_zips_are_refused_and_leave_nothing() {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    let escape = zip_of(&[
        ("t/_delta_log/00000000000000000000.json", b"{}"),
        ("t/../../evil.txt", b"x"),
    ]);
    let err = engine
        .import_zip("t", &escape)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("outside the table's folder"), "{err}");
    let not_delta = zip_of(&[("data.csv", b"a,b")]);
    let err = engine
        .import_zip("t", &not_delta)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a Delta table"), "{err}");
    let err = engine
        .import_zip("t", b"PK not really")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a zip"), "{err}");

    // A log naming a data file the zip lacks: refused, and nothing kept.
    let source = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    source
        .execute("CREATE TABLE s AS SELECT 1 AS x", &mut |_| {})
        .await
        .unwrap();
    let zip = source.export_table("s").await.unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
    let mut log = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        if entry.name().contains("_delta_log") {
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
            log.push((entry.name().to_owned(), data));
        }
    }
    let entries: Vec<(&str, &[u8])> = log
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let err = engine
        .import_zip("t", &zip_of(&entries))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nothing was kept") && err.contains("missing"),
        "{err}"
    );
    assert!(
        store.list("tables/").await.unwrap().is_empty(),
        "no files left behind"
    );
    assert!(engine.tables().is_empty());
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

#[tokio::test(flavor = "current_thread")]
async fn a_lake_snapshot_replaces_another_lake() {
    let source: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let engine = Engine::open(source.clone()).await.unwrap();
    for sql in [
        "CREATE TABLE t AS SELECT value AS id FROM generate_series(1, 10)",
        "DELETE FROM t WHERE id > 8",
        "CREATE TABLE bronze.events AS SELECT 1 AS n",
    ] {
        engine.execute(sql, &mut |_| {}).await.unwrap();
    }
    source
        .put("_labs/cdc.json", Bytes::from_static(b"{\"run\":1}"))
        .await
        .unwrap();
    let manifest = ("exercise.json".to_owned(), b"{\"exercise\":\"x\"}".to_vec());
    let zip = lakelab_engine::export_lake(source.as_ref(), vec![manifest.clone()])
        .await
        .unwrap();

    // Another lake, with a table of its own: replaced, not merged.
    let target: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let other = Engine::open(target.clone()).await.unwrap();
    run(&other, "CREATE TABLE stale AS SELECT 1 AS x").await;
    let before = target.list("").await.unwrap();

    // Not a snapshot: refused, nothing changed.
    let table_zip = engine.export_table("t").await.unwrap();
    let refused = lakelab_engine::import_lake(target.as_ref(), &table_zip).await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("not a Lakelab snapshot")
    );
    assert_eq!(target.list("").await.unwrap(), before);

    let others = lakelab_engine::import_lake(target.as_ref(), &zip)
        .await
        .unwrap();
    assert_eq!(
        others,
        vec![(manifest.0, Bytes::from(manifest.1))],
        "the snapshot's own files come back"
    );
    let reopened = Engine::open(target.clone()).await.unwrap();
    assert_eq!(count(&reopened, "SELECT count(*) FROM t").await, "8");
    assert_eq!(
        count(&reopened, "SELECT count(*) FROM t VERSION AS OF 0").await,
        "10"
    );
    assert_eq!(count(&reopened, "SELECT n FROM bronze.events").await, "1");
    assert!(
        reopened
            .execute("SELECT * FROM stale", &mut |_| {})
            .await
            .is_err()
    );
    assert_eq!(
        target.get("_labs/cdc.json").await.unwrap(),
        Bytes::from_static(b"{\"run\":1}")
    );
}
