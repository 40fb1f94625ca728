//! The engine in a dedicated worker of headless Chromium, on OPFS: where it
//! runs in the app, with no tokio runtime and one thread.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use lakelab_engine::Engine;
use lakelab_store::{Error as StoreError, FaultyStore, MemoryStore, OpfsStore, Store};
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
async fn a_long_query_lets_the_browser_run_waiting_tasks() {
    // In memory, nothing the query awaits is ever pending: only its own
    // pauses can let the timer run before it ends.
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    let ran = lakelab_store::testkit::timer_flag();
    let out = engine
        .execute(
            "SELECT sum(value) AS total FROM generate_series(1, 2000000)",
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(ran.get(), "the timer ran while the query computed");
    let text = pretty_format_batches(&out.batches).unwrap().to_string();
    assert_eq!(text.lines().nth(3), Some("| 2000001000000 |"), "{text}");
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
    let count = |suffix: &str| listed.iter().filter(|m| m.path.ends_with(suffix)).count();
    assert_eq!(
        count(".parquet"),
        2,
        "one Parquet file per statement: {listed:?}"
    );
    assert_eq!(
        count(".json"),
        2,
        "one Delta commit per statement: {listed:?}"
    );
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
    // An INSERT writes its data file, then the commit: fail either.
    for call in [1, 2] {
        store.fail_call_with(call, StoreError::QuotaExceeded("tables/t".into()));
        let err = engine
            .execute("INSERT INTO t VALUES (2)", &mut |_| {})
            .await
            .unwrap_err();
        assert!(err.to_string().contains("quota"), "{err}");
    }

    let reopened = Engine::open(opfs.clone()).await.unwrap();
    let out = reopened
        .execute("SELECT count(*) AS n FROM t", &mut |_| {})
        .await
        .unwrap();
    let text = pretty_format_batches(&out.batches).unwrap().to_string();
    assert_eq!(text.lines().nth(3), Some("| 1 |"), "{text}");
    let commits = opfs.list("tables/t/_delta_log/").await.unwrap();
    assert_eq!(commits.len(), 1, "no commit but the create: {commits:?}");
}

async fn one(engine: &Engine, sql: &str) -> String {
    let out = engine
        .execute(sql, &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let text = pretty_format_batches(&out.batches).unwrap().to_string();
    let line = text.lines().nth(3).unwrap_or_default();
    line.split('|').nth(1).unwrap_or_default().trim().to_owned()
}

#[wasm_bindgen_test]
async fn delta_tables_on_opfs_travel_merge_restore_and_checkpoint() {
    let store = fresh_store("lakelab-tests/delta").await;
    let engine = Engine::open(store.clone()).await.unwrap();
    let run = |sql: &'static str| {
        let engine = &engine;
        async move {
            engine
                .execute(sql, &mut |_| {})
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        }
    };
    run("CREATE TABLE t (id BIGINT, v STRING) USING DELTA PARTITIONED BY (v)").await;
    for _ in 0..9 {
        run("INSERT INTO t SELECT value, CAST(value % 2 AS STRING) FROM generate_series(1, 100)")
            .await;
    }
    // Version 10: MERGE, and the checkpoint that comes with it.
    run(
        "MERGE INTO t USING (SELECT 1 AS id, 'x' AS v) s ON t.id = s.id \
         WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT *",
    )
    .await;
    let listed = store.list("tables/t/_delta_log/").await.unwrap();
    assert!(
        listed
            .iter()
            .any(|m| m.path.ends_with("00000000000000000010.checkpoint.parquet")),
        "{listed:?}"
    );
    run("RESTORE TABLE t TO VERSION AS OF 3").await;
    drop(engine);

    let reopened = Engine::open(Rc::new(
        OpfsStore::open("lakelab-tests/delta").await.unwrap(),
    ))
    .await
    .unwrap();
    assert_eq!(one(&reopened, "SELECT count(*) FROM t").await, "300");
    assert_eq!(
        one(&reopened, "SELECT count(*) FROM t VERSION AS OF 10").await,
        "891"
    );
    assert_eq!(
        one(&reopened, "SELECT count_if(v = '1') FROM (SELECT v FROM t UNION ALL SELECT v FROM t VERSION AS OF 1)").await,
        "200"
    );
}
