//! Crash safety: fail the k-th storage call of each statement, for every k.
//! After each failure the table must open at its last committed version with
//! exactly its rows, and running the statement again must succeed.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use lakelab_engine::Engine;
use lakelab_store::{FaultyStore, MemoryStore, Store};

const WORKLOAD: &[&str] = &[
    "CREATE TABLE t USING DELTA PARTITIONED BY (p) AS \
     SELECT value AS id, value % 3 AS p, 'v' || value AS s FROM generate_series(1, 30)",
    "INSERT INTO t VALUES (100, 1, 'new'), (101, 2, 'new')",
    "MERGE INTO t USING (SELECT value AS id, value % 3 AS p, 'm' AS s FROM generate_series(25, 35)) u \
     ON t.id = u.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *",
    "DELETE FROM t WHERE p = 0",
    "UPDATE t SET s = 'u' WHERE id < 5",
    "RESTORE TABLE t TO VERSION AS OF 2",
    "INSERT INTO t VALUES (200, 0, 'a')",
    "INSERT INTO t VALUES (201, 0, 'b')",
    "INSERT INTO t VALUES (202, 0, 'c')",
    // Version 10: the commit that also writes a checkpoint.
    "INSERT INTO t VALUES (203, 0, 'd')",
    "ALTER TABLE t ADD CONSTRAINT id_positive CHECK (id > 0)",
];

async fn contents(store: Rc<dyn Store>) -> String {
    let engine = Engine::open(store).await.unwrap();
    if engine.tables().is_empty() {
        return "no table".into();
    }
    let out = engine
        .execute("SELECT * FROM t ORDER BY id, p, s", &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("the table must read after a failure: {e}"));
    pretty_format_batches(&out.batches).unwrap().to_string()
}

/// What the table holds after each statement of the workload, without faults.
async fn reference() -> Vec<String> {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    let mut states = Vec::new();
    for sql in WORKLOAD {
        engine
            .execute(sql, &mut |_| {})
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        states.push(contents(store.clone()).await);
    }
    states
}

#[tokio::test(flavor = "current_thread")]
async fn every_failed_storage_call_leaves_the_last_committed_version() {
    let expected = reference().await;
    let store = Rc::new(FaultyStore::new(MemoryStore::new()));
    let disarm = || store.fail_call(usize::MAX / 2);
    let mut failures = 0;
    for (step, sql) in WORKLOAD.iter().enumerate() {
        let before = contents(store.clone()).await;
        for k in 1.. {
            let engine = Engine::open(store.clone()).await.unwrap();
            let calls_before = store.calls();
            store.fail_call(k);
            let result = engine.execute(sql, &mut |_| {}).await;
            let hit = store.calls() >= calls_before + k;
            disarm();
            let now = contents(store.clone()).await;
            match result {
                Ok(_) => {
                    assert_eq!(now, expected[step], "{sql} (fault at call {k}, hit: {hit})");
                    break;
                }
                Err(e) => {
                    assert!(hit, "{sql} failed without a fault: {e}");
                    failures += 1;
                    if now == expected[step] {
                        break; // committed; only the work after the commit failed
                    }
                    assert_eq!(now, before, "{sql}: after failing call {k} ({e})");
                }
            }
            assert!(k < 500, "{sql} never succeeded");
        }
    }
    // Each statement's reads, writes and commit (a commit no longer re-reads
    // the log it just wrote, so there are fewer calls than there were).
    assert!(
        failures > 40,
        "only {failures} injected failures were exercised"
    );
}
