//! The engine natively: statements, persistence through the store, and bad input.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;

use bytes::Bytes;
use datafusion::arrow::util::pretty::pretty_format_batches;
use lakelab_engine::{Engine, EngineError, from_ipc, to_ipc};
mod support;

use lakelab_store::{Error as StoreError, FaultyStore, LocalStore, MemoryStore, Store};
use support::{fail, run};

async fn table_text(engine: &Engine, sql: &str) -> String {
    let out = run(engine, sql).await;
    pretty_format_batches(&out.batches).unwrap().to_string()
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[tokio::test]
async fn ctas_and_insert_persist_across_reopen() {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    let created = run(
        &engine,
        "CREATE TABLE t AS SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(id, name)",
    )
    .await;
    assert_eq!(
        created.message.as_deref(),
        Some("created table t (2 rows, version 0)")
    );
    let inserted = run(&engine, "INSERT INTO t VALUES (3, 'c')").await;
    assert_eq!(
        inserted.message.as_deref(),
        Some("inserted 1 rows into t (version 1)")
    );

    let files: Vec<String> = store
        .list("tables/t/")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.path)
        .collect();
    assert_eq!(
        files
            .iter()
            .filter(|p| p.ends_with(".snappy.parquet"))
            .count(),
        2,
        "{files:?}"
    );
    assert!(files.contains(&"tables/t/_delta_log/00000000000000000001.json".to_owned()));

    let reopened = Engine::open(store.clone()).await.unwrap();
    let text = table_text(&reopened, "SELECT id, name FROM t ORDER BY id").await;
    assert_eq!(
        lines(&text),
        vec![
            "+----+------+",
            "| id | name |",
            "+----+------+",
            "| 1  | a    |",
            "| 2  | b    |",
            "| 3  | c    |",
            "+----+------+",
        ]
    );
    let tables = reopened.tables();
    assert_eq!(tables.len(), 1);
    assert_eq!((tables[0].name.as_str(), tables[0].rows), ("t", Some(3)));
}

#[tokio::test]
async fn create_empty_table_then_insert_with_columns_and_casts() {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    run(
        &engine,
        "CREATE TABLE people (id BIGINT NOT NULL, name VARCHAR, score DOUBLE)",
    )
    .await;
    run(&engine, "INSERT INTO people (name, id) VALUES ('ann', 7)").await;
    run(&engine, "INSERT INTO people SELECT 8, 'bo', 1").await;
    let reopened = Engine::open(store).await.unwrap();
    let text = table_text(&reopened, "SELECT * FROM people ORDER BY id").await;
    assert_eq!(
        lines(&text)[3..5],
        ["| 7  | ann  |       |", "| 8  | bo   | 1.0   |"]
    );
    let err = fail(&reopened, "INSERT INTO people (name) VALUES ('no id')").await;
    assert!(
        err.to_string().contains("id"),
        "a NOT NULL column is enforced: {err}"
    );
    assert_eq!(
        table_text(&reopened, "SELECT count(*) AS n FROM people")
            .await
            .lines()
            .nth(3),
        Some("| 2 |")
    );
}

#[tokio::test]
async fn queries_report_progress_per_batch() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    let mut seen = Vec::new();
    let out = engine
        .execute("SELECT value FROM generate_series(1, 20000)", &mut |p| {
            seen.push(p)
        })
        .await
        .unwrap();
    assert_eq!(out.row_count(), 20000);
    assert!(seen.len() > 1, "several batches: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0].rows < w[1].rows));
    assert_eq!(seen.last().unwrap().rows, 20000);
}

#[tokio::test]
async fn bad_statements_fail_clearly_and_change_nothing() {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    run(&engine, "CREATE TABLE t AS SELECT 1 AS x").await;

    let err = fail(&engine, "SELEC x FROM t").await.to_string();
    assert!(
        err.contains("SELEC"),
        "names what it could not parse: {err}"
    );
    let err = fail(&engine, "SELECT * FROM missing").await.to_string();
    assert!(
        err.contains("missing") && err.contains("not found"),
        "{err}"
    );
    assert!(matches!(
        fail(&engine, "CREATE TABLE t AS SELECT 2 AS x").await,
        EngineError::TableExists(name) if name == "t"
    ));
    assert!(matches!(
        fail(&engine, "INSERT INTO t SELECT 'text'").await,
        EngineError::Sql(_) | EngineError::Delta(_)
    ));
    assert!(matches!(
        fail(&engine, "DROP TABLE nope").await,
        EngineError::NoSuchTable(_)
    ));
    assert!(matches!(
        fail(&engine, "CREATE TABLE \"we-ird\" AS SELECT 1").await,
        EngineError::InvalidTableName(_)
    ));
    assert_eq!(
        store.list("tables/").await.unwrap().len(),
        2,
        "only t's commit and data file"
    );
    assert_eq!(
        table_text(&engine, "SELECT x FROM t").await.lines().nth(3),
        Some("| 1 |")
    );
}

#[tokio::test]
async fn if_not_exists_or_replace_and_drop() {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    run(&engine, "CREATE TABLE t AS SELECT 1 AS x").await;
    let skipped = run(&engine, "CREATE TABLE IF NOT EXISTS t AS SELECT 2 AS x").await;
    assert!(skipped.message.unwrap().contains("already exists"));
    run(
        &engine,
        "CREATE OR REPLACE TABLE t AS SELECT 5 AS x UNION ALL SELECT 6",
    )
    .await;
    let reopened = Engine::open(store.clone()).await.unwrap();
    assert_eq!(
        table_text(&reopened, "SELECT sum(x) AS s FROM t")
            .await
            .lines()
            .nth(3),
        Some("| 11 |")
    );
    run(&reopened, "DROP TABLE t").await;
    assert!(store.list("tables/").await.unwrap().is_empty());
    assert!(Engine::open(store).await.unwrap().tables().is_empty());
}

#[tokio::test]
async fn a_corrupt_log_makes_only_its_table_unreadable() {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    run(&engine, "CREATE TABLE good AS SELECT 1 AS x").await;
    run(&engine, "CREATE TABLE bad AS SELECT 2 AS y").await;
    store
        .put(
            "tables/bad/_delta_log/00000000000000000000.json",
            Bytes::from_static(b"{\"commitInfo\": {tru"),
        )
        .await
        .unwrap();

    let reopened = Engine::open(store.clone()).await.unwrap();
    let bad = reopened
        .tables()
        .into_iter()
        .find(|t| t.name == "bad")
        .unwrap();
    assert!(bad.error.unwrap().contains("00000000000000000000.json"));
    let err = fail(&reopened, "SELECT * FROM bad").await;
    assert!(
        matches!(&err, EngineError::UnreadableTable { name, reason } if name == "bad" && reason.contains("corrupt Delta log")),
        "{err}"
    );
    assert_eq!(
        table_text(&reopened, "SELECT x FROM good")
            .await
            .lines()
            .nth(3),
        Some("| 1 |")
    );
    // Recovery: replace the broken table, and it reads again.
    run(&reopened, "CREATE OR REPLACE TABLE bad AS SELECT 3 AS y").await;
    assert_eq!(
        table_text(&reopened, "SELECT y FROM bad")
            .await
            .lines()
            .nth(3),
        Some("| 3 |")
    );
}

#[tokio::test]
async fn a_corrupt_data_file_fails_the_query_that_reads_it() {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    run(&engine, "CREATE TABLE t AS SELECT 2 AS y").await;
    let data = store
        .list("tables/t/part-")
        .await
        .unwrap()
        .pop()
        .unwrap()
        .path;
    store
        .put(&data, Bytes::from_static(b"PAR1 not really"))
        .await
        .unwrap();
    let reopened = Engine::open(store.clone()).await.unwrap();
    let err = fail(&reopened, "SELECT * FROM t").await.to_string();
    assert!(
        err.contains(&data) && err.contains("not readable Parquet"),
        "{err}"
    );
    store.delete(&data).await.unwrap();
    let err = fail(&reopened, "SELECT * FROM t").await.to_string();
    assert!(err.contains("missing"), "{err}");
}

#[tokio::test]
async fn a_full_quota_fails_the_write_and_changes_nothing() {
    let store = Rc::new(FaultyStore::new(MemoryStore::new()));
    let engine = Engine::open(store.clone()).await.unwrap();
    run(&engine, "CREATE TABLE t AS SELECT 1 AS x").await;
    store.fail_call_with(
        1,
        StoreError::QuotaExceeded("tables/u/part-0.parquet".into()),
    );
    let err = fail(&engine, "CREATE TABLE u AS SELECT 1 AS x").await;
    assert!(err.to_string().contains("quota"), "{err}");
    let reopened = Engine::open(store.clone()).await.unwrap();
    assert_eq!(
        reopened.tables().len(),
        1,
        "the failed CREATE left no table"
    );
    run(&reopened, "CREATE TABLE u AS SELECT 1 AS x").await;
}

#[tokio::test]
async fn tables_live_in_a_local_folder_too() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(Rc::new(LocalStore::new(dir.path()).unwrap()))
        .await
        .unwrap();
    run(
        &engine,
        "CREATE TABLE n AS SELECT value AS v FROM generate_series(1, 1000)",
    )
    .await;
    assert!(
        dir.path()
            .join("tables/n/_delta_log/00000000000000000000.json")
            .is_file()
    );
    let reopened = Engine::open(Rc::new(LocalStore::new(dir.path()).unwrap()))
        .await
        .unwrap();
    assert_eq!(
        table_text(&reopened, "SELECT sum(v) AS s FROM n")
            .await
            .lines()
            .nth(3),
        Some("| 500500 |")
    );
}

#[tokio::test]
async fn results_round_trip_through_arrow_ipc() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    let out = run(
        &engine,
        "SELECT 1 AS a, 'x' AS b, NULL AS c UNION ALL SELECT 2, NULL, NULL",
    )
    .await;
    let (schema, batches) = from_ipc(&to_ipc(&out.schema, &out.batches).unwrap()).unwrap();
    assert_eq!(schema, out.schema);
    assert_eq!(batches, out.batches);
}

/// The browser has no tokio runtime: nothing may spawn tasks. Run outside
/// any runtime, a spawn would panic ("no reactor running").
#[test]
fn queries_with_several_partitions_need_no_tokio_runtime() {
    futures::executor::block_on(async {
        let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
        run(&engine, "CREATE TABLE a AS SELECT 1 AS x").await;
        run(&engine, "CREATE TABLE b AS SELECT 2 AS x").await;
        let text = table_text(
            &engine,
            "SELECT count(*) AS n, sum(x) AS s FROM (SELECT x FROM a UNION ALL SELECT x FROM b)",
        )
        .await;
        assert_eq!(text.lines().nth(3), Some("| 2 | 3 |"));
        let out = run(&engine, "SELECT x FROM a UNION ALL SELECT x FROM b").await;
        assert_eq!(out.row_count(), 2);
    });
}

#[tokio::test]
async fn an_insert_does_not_read_the_rows_it_appends_to() {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    run(&engine, "CREATE TABLE events AS SELECT 1 AS id").await;
    // Lose the table's only data file: reading fails, appending need not.
    for meta in store.list("tables/events/").await.unwrap() {
        if meta.path.ends_with(".parquet") {
            store.delete(&meta.path).await.unwrap();
        }
    }
    let engine = Engine::open(store.clone()).await.unwrap();
    let inserted = run(&engine, "INSERT INTO events VALUES (2)").await;
    assert_eq!(
        inserted.message.as_deref(),
        Some("inserted 1 rows into events (version 1)")
    );
    let err = engine
        .execute("SELECT count(*) FROM events", &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    // A query reading the target still reads it.
    let err = engine
        .execute("INSERT INTO events SELECT id + 10 FROM events", &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

#[tokio::test]
async fn a_table_read_before_is_not_read_back_after_the_engines_own_writes() {
    let store = Rc::new(FaultyStore::new(MemoryStore::new()));
    let engine = Engine::open(store.clone()).await.unwrap();
    run(
        &engine,
        "CREATE TABLE t (id INT, region STRING) PARTITIONED BY (region)",
    )
    .await;
    run(&engine, "INSERT INTO t VALUES (1, 'eu'), (2, 'us')").await;
    // (Rows read under another schema are read again: columns added read as null.)
    run(&engine, "ALTER TABLE t ADD COLUMNS (note STRING)").await;
    run(&engine, "SELECT count(*) FROM t").await;
    run(&engine, "INSERT INTO t VALUES (3, 'eu', NULL)").await;
    run(&engine, "UPDATE t SET id = id * 10 WHERE region = 'us'").await;
    run(&engine, "INSERT INTO t VALUES (4, 'eu', 'new')").await;
    let calls = store.calls();
    let text = table_text(
        &engine,
        "SELECT region, sum(id) AS s, count(note) AS notes FROM t GROUP BY region ORDER BY region",
    )
    .await;
    // Every row was in memory: the engine's own writes kept theirs.
    assert_eq!(store.calls(), calls);
    assert_eq!(
        lines(&text),
        [
            "+--------+----+-------+",
            "| region | s  | notes |",
            "+--------+----+-------+",
            "| eu     | 8  | 1     |",
            "| us     | 20 | 0     |",
            "+--------+----+-------+",
        ]
    );
    // A fresh engine reads the same from storage.
    let fresh = Engine::open(store.clone()).await.unwrap();
    let again = table_text(
        &fresh,
        "SELECT region, sum(id) AS s, count(note) AS notes FROM t GROUP BY region ORDER BY region",
    )
    .await;
    assert_eq!(again, text);
}
