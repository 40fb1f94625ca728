//! A legacy Parquet table (Hive-style folders, no log) and its conversion
//! to Delta in place: the rows and the files stay, the log appears, and
//! anything that would make the conversion wrong is refused with nothing
//! written.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;

use bytes::Bytes;
use lakelab_engine::Engine;
use lakelab_store::{MemoryStore, Store};

mod support;
use support::{fail, run};

const SALES: &str = "SELECT value AS id, CAST(value % 97 AS DOUBLE) AS amount, \
     DATE '2024-01-01' + CAST(value % 5 AS INT) AS sale_date FROM generate_series(1, 2000)";

async fn first_value(engine: &Engine, sql: &str) -> String {
    let out = run(engine, sql).await;
    let batch = &out.batches[0];
    datafusion::arrow::util::display::array_value_to_string(batch.column(0), 0).unwrap()
}

/// Every file under `tables/<name>/`.
async fn files(store: &Rc<dyn Store>, name: &str) -> Vec<String> {
    let mut paths: Vec<String> = store
        .list(&format!("tables/{name}/"))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.path)
        .collect();
    paths.sort();
    paths
}

async fn legacy() -> (Rc<dyn Store>, Engine) {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    run(
        &engine,
        &format!("CREATE TABLE legacy_sales USING PARQUET PARTITIONED BY (sale_date) AS {SALES}"),
    )
    .await;
    (store, engine)
}

#[tokio::test(flavor = "current_thread")]
async fn a_parquet_table_is_hive_folders_without_a_log() {
    let (store, engine) = legacy().await;
    let paths = files(&store, "legacy_sales").await;
    assert!(paths.contains(&"tables/legacy_sales/_SUCCESS".to_owned()));
    assert!(paths.iter().all(|p| !p.contains("_delta_log")), "{paths:?}");
    let parts: Vec<_> = paths.iter().filter(|p| p.ends_with(".parquet")).collect();
    assert_eq!(parts.len(), 5, "{paths:?}");
    assert!(parts.iter().all(|p| p.contains("/sale_date=2024-01-0")));
    // Listed, but not queryable until converted; the reason says what to do.
    let reopened = Engine::open(store.clone()).await.unwrap();
    let listed = reopened.tables();
    let table = listed.iter().find(|t| t.name == "legacy_sales").unwrap();
    assert!(
        table
            .error
            .as_deref()
            .unwrap()
            .contains("CONVERT TO DELTA legacy_sales")
    );
    let e = fail(&engine, "SELECT count(*) FROM legacy_sales").await;
    assert!(e.to_string().contains("plain Parquet"), "{e}");
}

#[tokio::test(flavor = "current_thread")]
async fn convert_to_delta_keeps_the_files_and_the_rows() {
    let (store, engine) = legacy().await;
    let before = files(&store, "legacy_sales").await;
    // The folders say the table is partitioned: their types must be given.
    let e = fail(&engine, "CONVERT TO DELTA legacy_sales").await;
    assert!(e.to_string().contains("folders by sale_date"), "{e}");
    let e = fail(
        &engine,
        "CONVERT TO DELTA legacy_sales PARTITIONED BY (day DATE)",
    )
    .await;
    assert!(e.to_string().contains("does not match"), "{e}");
    assert_eq!(
        files(&store, "legacy_sales").await,
        before,
        "refused: nothing written"
    );

    let out = run(
        &engine,
        "CONVERT TO DELTA legacy_sales PARTITIONED BY (sale_date DATE)",
    )
    .await;
    assert!(out.message.unwrap().contains("5 Parquet files, 2000 rows"));
    let after = files(&store, "legacy_sales").await;
    assert!(
        before.iter().all(|p| after.contains(p)),
        "no file moved or rewritten"
    );
    assert_eq!(
        after.iter().filter(|p| p.ends_with(".parquet")).count(),
        5,
        "no file copied"
    );
    assert_eq!(
        first_value(
            &engine,
            &format!(
                "SELECT (SELECT count(*) FROM (SELECT * FROM legacy_sales EXCEPT ALL {SALES})) \
                 + (SELECT count(*) FROM ({SALES} EXCEPT ALL SELECT * FROM legacy_sales))"
            )
        )
        .await,
        "0"
    );
    let history = run(&engine, "DESCRIBE HISTORY legacy_sales").await;
    let history = datafusion::arrow::util::pretty::pretty_format_batches(&history.batches)
        .unwrap()
        .to_string();
    assert!(history.contains("| CONVERT "), "{history}");
    // A DATE partition column, and statistics: a day's query reads one file.
    let plan = run(
        &engine,
        "EXPLAIN SELECT sum(amount) FROM legacy_sales WHERE sale_date = DATE '2024-01-03'",
    )
    .await;
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&plan.batches)
        .unwrap()
        .to_string();
    assert!(text.contains("read 1 of 5 files"), "{text}");
    // A Delta table now: it takes writes, and converting again is refused.
    run(
        &engine,
        "INSERT INTO legacy_sales VALUES (9999, 1.0, DATE '2024-02-01')",
    )
    .await;
    let e = fail(
        &engine,
        "CONVERT TO DELTA legacy_sales PARTITIONED BY (sale_date DATE)",
    )
    .await;
    assert!(e.to_string().contains("already a Delta table"), "{e}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_folder_that_does_not_convert_cleanly_is_left_alone() {
    let (store, engine) = legacy().await;
    // An unreadable file in one of the folders.
    let before = files(&store, "legacy_sales").await;
    let part = before.iter().find(|p| p.ends_with(".parquet")).unwrap();
    let bytes = store.get(part).await.unwrap();
    store
        .put(
            "tables/legacy_sales/sale_date=2024-01-09/part-odd.parquet",
            Bytes::from_static(b"PAR1 not really"),
        )
        .await
        .unwrap();
    let e = fail(
        &engine,
        "CONVERT TO DELTA legacy_sales PARTITIONED BY (sale_date DATE)",
    )
    .await;
    assert!(e.to_string().contains("not a readable Parquet file"), "{e}");
    assert!(
        files(&store, "legacy_sales")
            .await
            .iter()
            .all(|p| !p.contains("_delta_log")),
        "nothing converted"
    );
    store
        .put(
            "tables/legacy_sales/sale_date=2024-01-09/part-odd.parquet",
            bytes.slice(..),
        )
        .await
        .unwrap();
    store
        .put("tables/legacy_sales/misc/part-x.parquet", bytes)
        .await
        .unwrap();
    let e = fail(
        &engine,
        "CONVERT TO DELTA legacy_sales PARTITIONED BY (sale_date DATE)",
    )
    .await;
    assert!(e.to_string().contains("not a partition"), "{e}");
}
