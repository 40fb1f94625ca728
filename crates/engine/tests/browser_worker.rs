//! The engine in a dedicated worker of headless Chromium, on OPFS: where it
//! runs in the app, with no tokio runtime and one thread.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use lakelab_engine::Engine;
use lakelab_store::{Error as StoreError, FaultyStore, OpfsStore, Store};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

async fn fresh_store(folder: &str) -> Rc<OpfsStore> {
    let store = OpfsStore::open(folder).await.unwrap();
    for meta in store.list("").await.unwrap() {
        store.delete(&meta.path).await.unwrap();
    }
    Rc::new(store)
}

#[wasm_bindgen_test]
async fn tables_written_to_opfs_read_back_after_reopening() {
    let store = fresh_store("lakelab-tests/engine").await;
    let engine = Engine::open(store.clone()).await.unwrap();
    engine
        .execute(
            "CREATE TABLE sq AS SELECT value AS n, value * value AS square FROM generate_series(1, 5000)",
            &mut |_| {},
        )
        .await
        .unwrap();
    engine
        .execute("INSERT INTO sq VALUES (0, 0)", &mut |_| {})
        .await
        .unwrap();
    drop(engine);

    let reopened = Engine::open(Rc::new(
        OpfsStore::open("lakelab-tests/engine").await.unwrap(),
    ))
    .await
    .unwrap();
    let out = reopened
        .execute(
            "SELECT count(*) AS rows, sum(square) AS total FROM sq WHERE n % 2 = 0",
            &mut |_| {},
        )
        .await
        .unwrap();
    let text = pretty_format_batches(&out.batches).unwrap().to_string();
    // Even n in 0..=5000: 2501 rows; sum of (2k)^2 for k = 1..2500 = 4 * 2500*2501*5001/6.
    assert_eq!(
        text.lines().nth(3),
        Some("| 2501 | 20845835000 |"),
        "{text}"
    );
    let listed = store.list("tables/sq/").await.unwrap();
    assert_eq!(listed.len(), 2, "one Parquet file per statement");
}

#[wasm_bindgen_test]
async fn a_failed_opfs_write_changes_nothing() {
    let opfs = fresh_store("lakelab-tests/engine-faults").await;
    let store = Rc::new(FaultyStore::new(opfs.clone()));
    let engine = Engine::open(store.clone()).await.unwrap();
    engine
        .execute("CREATE TABLE t AS SELECT 1 AS x", &mut |_| {})
        .await
        .unwrap();
    // An INSERT takes the table lock, lists the files, then writes: fail the write.
    store.fail_call_with(
        3,
        StoreError::QuotaExceeded("tables/t/part-00001.parquet".into()),
    );
    let err = engine
        .execute("INSERT INTO t VALUES (2)", &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("quota"), "{err}");

    let reopened = Engine::open(opfs.clone()).await.unwrap();
    let out = reopened
        .execute("SELECT count(*) AS n FROM t", &mut |_| {})
        .await
        .unwrap();
    let text = pretty_format_batches(&out.batches).unwrap().to_string();
    assert_eq!(text.lines().nth(3), Some("| 1 |"), "{text}");
    assert_eq!(opfs.list("tables/t/").await.unwrap().len(), 1);
}
