//! Spark SQL's Delta statements, natively: history, time travel, restore,
//! DELETE / UPDATE / MERGE, constraints, vacuum, pruning and bad input.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use lakelab_engine::{Engine, EngineError};
mod support;

use lakelab_store::{MemoryStore, Store};
use support::{fail, run};

/// The result as lines of text, without the table borders.
async fn rows(engine: &Engine, sql: &str) -> Vec<String> {
    let out = run(engine, sql).await;
    let text = pretty_format_batches(&out.batches).unwrap().to_string();
    text.lines()
        .skip(3)
        .filter(|l| !l.starts_with('+'))
        .map(|l| {
            l.split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

async fn one(engine: &Engine, sql: &str) -> String {
    let r = rows(engine, sql).await;
    assert_eq!(r.len(), 1, "{sql}: {r:?}");
    r[0].clone()
}

async fn orders() -> (Rc<MemoryStore>, Engine) {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    run(
        &engine,
        "CREATE TABLE orders (id BIGINT NOT NULL, customer STRING, amount DOUBLE) USING DELTA",
    )
    .await;
    run(
        &engine,
        "INSERT INTO orders VALUES (1, 'ann', 10.0), (2, 'bo', 20.0), (3, 'cy', 30.0)",
    )
    .await;
    (store, engine)
}

#[tokio::test]
async fn history_time_travel_and_restore() {
    let (_, engine) = orders().await;
    run(&engine, "INSERT INTO orders VALUES (4, 'di', 40.0)").await;
    run(
        &engine,
        "INSERT OVERWRITE orders VALUES (9, NULL, -1.0), (10, NULL, -2.0)",
    )
    .await;

    let out = run(&engine, "DESCRIBE HISTORY orders").await;
    let text = pretty_format_batches(&out.batches).unwrap().to_string();
    assert_eq!(out.row_count(), 4);
    for expected in [
        "CREATE TABLE",
        "WRITE",
        "Overwrite",
        "numOutputRows: 2",
        "isBlindAppend",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    let limited = run(&engine, "DESCRIBE HISTORY orders LIMIT 1").await;
    assert_eq!(limited.row_count(), 1);

    assert_eq!(
        one(&engine, "SELECT count(*) FROM orders VERSION AS OF 2").await,
        "4"
    );
    assert_eq!(one(&engine, "SELECT count(*) FROM orders").await, "2");
    assert_eq!(
        one(
            &engine,
            "SELECT o.amount FROM orders VERSION AS OF 1 AS o WHERE o.id = 3"
        )
        .await,
        "30.0"
    );
    // Both versions in one query: what the bad load changed.
    assert_eq!(
        one(
            &engine,
            "SELECT count(*) FROM orders VERSION AS OF 2 AS good \
             LEFT ANTI JOIN orders AS now ON good.id = now.id"
        )
        .await,
        "4"
    );
    let err = fail(&engine, "SELECT * FROM orders VERSION AS OF 9").await;
    assert!(
        err.to_string().contains("available versions are 0 to 3"),
        "{err}"
    );
    let err = fail(&engine, "SELECT * FROM orders TIMESTAMP AS OF '2001-01-01'").await;
    assert!(
        err.to_string().contains("before the table's first version"),
        "{err}"
    );
    let err = fail(&engine, "SELECT * FROM orders TIMESTAMP AS OF '2999-01-01'").await;
    assert!(
        err.to_string().contains("after the latest version"),
        "{err}"
    );

    let restored = run(&engine, "RESTORE TABLE orders TO VERSION AS OF 2").await;
    assert!(
        restored
            .message
            .unwrap()
            .starts_with("restored orders to version 2 as version 4")
    );
    let metrics = pretty_format_batches(&restored.batches)
        .unwrap()
        .to_string();
    assert!(metrics.contains("num_restored_files"), "{metrics}");
    assert_eq!(
        one(&engine, "SELECT count(*), sum(amount) FROM orders").await,
        "4,100.0"
    );
    let reopened = Engine::open_at(Rc::new(MemoryStore::new()), "tables")
        .await
        .unwrap();
    assert!(reopened.tables().is_empty());
}

#[tokio::test]
async fn delete_update_and_merge_rewrite_only_what_changes() {
    let (_, engine) = orders().await;
    let out = run(&engine, "DELETE FROM orders WHERE amount > 25").await;
    assert_eq!(
        out.message
            .as_deref()
            .map(|m| m.starts_with("deleted 1 rows")),
        Some(true)
    );
    let out = run(
        &engine,
        "UPDATE orders SET amount = amount * 2 WHERE customer = 'ann'",
    )
    .await;
    assert!(out.message.unwrap().starts_with("updated 1 rows"));
    assert_eq!(
        rows(&engine, "SELECT id, amount FROM orders ORDER BY id").await,
        vec!["1,20.0", "2,20.0"]
    );
    let none = run(&engine, "DELETE FROM orders WHERE id = 99").await;
    assert!(none.message.unwrap().contains("nothing committed"));

    run(
        &engine,
        "CREATE TABLE changes AS SELECT * FROM (VALUES \
           (1, 'ann', 11.0, 'U'), (2, 'bo', 0.0, 'D'), (5, 'ed', 50.0, 'I')) AS v(id, customer, amount, op)",
    )
    .await;
    let merged = run(
        &engine,
        "MERGE INTO orders AS t USING changes AS s ON t.id = s.id \
         WHEN MATCHED AND s.op = 'D' THEN DELETE \
         WHEN MATCHED THEN UPDATE SET * \
         WHEN NOT MATCHED THEN INSERT (id, customer, amount) VALUES (s.id, s.customer, s.amount)",
    )
    .await;
    assert_eq!(
        pretty_format_batches(&merged.batches)
            .unwrap()
            .to_string()
            .lines()
            .nth(3),
        Some("| 3                 | 1                | 1                | 1                 |")
    );
    assert_eq!(
        rows(
            &engine,
            "SELECT id, customer, amount FROM orders ORDER BY id"
        )
        .await,
        vec!["1,ann,11.0", "5,ed,50.0"]
    );
    let history = run(&engine, "DESCRIBE HISTORY orders LIMIT 1").await;
    let text = pretty_format_batches(&history.batches).unwrap().to_string();
    for metric in [
        "numTargetRowsUpdated: 1",
        "numTargetRowsDeleted: 1",
        "numTargetRowsInserted: 1",
        "numSourceRows: 3",
    ] {
        assert!(text.contains(metric), "{metric} in {text}");
    }

    // Two source rows for one target row: Spark's error, and nothing written.
    run(
        &engine,
        "CREATE TABLE dupes AS SELECT * FROM (VALUES (1, 'x'), (1, 'y')) AS v(id, customer)",
    )
    .await;
    let before = run(&engine, "DESCRIBE DETAIL orders").await;
    let err = fail(
        &engine,
        "MERGE INTO orders USING dupes ON orders.id = dupes.id WHEN MATCHED THEN UPDATE SET customer = dupes.customer",
    )
    .await;
    assert!(matches!(err, EngineError::MergeAmbiguous), "{err}");
    let after = run(&engine, "DESCRIBE DETAIL orders").await;
    assert_eq!(
        before.batches, after.batches,
        "the failed MERGE committed nothing"
    );

    // INSERT * with a source subquery, matching by column name.
    run(
        &engine,
        "MERGE INTO orders t USING (SELECT 7 AS id, 'gus' AS customer, 70.0 AS amount) s ON t.id = s.id \
         WHEN NOT MATCHED THEN INSERT *",
    )
    .await;
    assert_eq!(
        one(&engine, "SELECT customer FROM orders WHERE id = 7").await,
        "gus"
    );
}

#[tokio::test]
async fn constraints_reject_bad_writes_whole() {
    let (_, engine) = orders().await;
    run(
        &engine,
        "ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0)",
    )
    .await;
    run(
        &engine,
        "ALTER TABLE orders ALTER COLUMN customer SET NOT NULL",
    )
    .await;
    let err = fail(
        &engine,
        "INSERT INTO orders VALUES (4, 'di', 5.0), (5, 'ed', -5.0)",
    )
    .await
    .to_string();
    assert!(
        err.contains("CHECK constraint positive") && err.contains("amount : -5.0"),
        "{err}"
    );
    let err = fail(&engine, "INSERT INTO orders VALUES (6, NULL, 5.0)")
        .await
        .to_string();
    assert!(
        err.contains("NOT NULL constraint violated for column: customer"),
        "{err}"
    );
    let err = fail(&engine, "UPDATE orders SET amount = -1 WHERE id = 1")
        .await
        .to_string();
    assert!(err.contains("positive"), "{err}");
    assert_eq!(
        one(&engine, "SELECT count(*), sum(amount) FROM orders").await,
        "3,60.0"
    );

    // Adding a constraint the rows already break is refused.
    let err = fail(
        &engine,
        "ALTER TABLE orders ADD CONSTRAINT small CHECK (amount < 15)",
    )
    .await
    .to_string();
    assert!(err.contains("violate") && err.contains("amount"), "{err}");
    let detail = run(&engine, "DESCRIBE DETAIL orders").await;
    let text = pretty_format_batches(&detail.batches).unwrap().to_string();
    assert!(
        text.contains("delta.constraints.positive: amount > 0"),
        "{text}"
    );
    assert!(!text.contains("small"), "{text}");
    run(&engine, "ALTER TABLE orders DROP CONSTRAINT positive").await;
    run(&engine, "INSERT INTO orders VALUES (4, 'di', -5.0)").await;

    run(
        &engine,
        "ALTER TABLE orders SET TBLPROPERTIES ('delta.appendOnly' = 'true')",
    )
    .await;
    let err = fail(&engine, "DELETE FROM orders WHERE id = 1")
        .await
        .to_string();
    assert!(err.contains("append-only"), "{err}");
}

#[tokio::test]
async fn vacuum_checks_retention_and_breaks_old_time_travel() {
    let (store, engine) = orders().await;
    run(&engine, "DELETE FROM orders WHERE id = 1").await;
    let err = fail(&engine, "VACUUM orders RETAIN 0 HOURS")
        .await
        .to_string();
    assert!(err.contains("retentionDurationCheck"), "{err}");
    run(
        &engine,
        "SET spark.databricks.delta.retentionDurationCheck.enabled = false",
    )
    .await;
    let before = store.list("tables/orders/").await.unwrap().len();
    let dry = run(&engine, "VACUUM orders RETAIN 0 HOURS DRY RUN").await;
    assert_eq!(dry.row_count(), 1);
    assert_eq!(
        store.list("tables/orders/").await.unwrap().len(),
        before,
        "a dry run deletes nothing"
    );
    let out = run(&engine, "VACUUM orders RETAIN 0 HOURS").await;
    assert_eq!(out.row_count(), 1, "the file the DELETE rewrote");
    assert_eq!(
        store.list("tables/orders/").await.unwrap().len(),
        before - 1 + 2
    );
    assert_eq!(one(&engine, "SELECT count(*) FROM orders").await, "2");
    let err = fail(&engine, "SELECT * FROM orders VERSION AS OF 1")
        .await
        .to_string();
    assert!(err.contains("missing") && err.contains("vacuumed"), "{err}");
    let history = run(&engine, "DESCRIBE HISTORY orders LIMIT 2").await;
    let text = pretty_format_batches(&history.batches).unwrap().to_string();
    assert!(
        text.contains("VACUUM END") && text.contains("VACUUM START"),
        "{text}"
    );
}

#[tokio::test]
async fn partitioned_tables_skip_files_and_explain_says_so() {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    run(
        &engine,
        "CREATE TABLE events USING DELTA PARTITIONED BY (day) AS \
         SELECT value AS id, CAST(DATE '2024-01-01' + CAST(value % 4 AS INT) AS DATE) AS day \
         FROM generate_series(1, 400)",
    )
    .await;
    assert_eq!(store.list("tables/events/day=").await.unwrap().len(), 4);
    let out = run(
        &engine,
        "SELECT count(*) FROM events WHERE day = DATE '2024-01-02'",
    )
    .await;
    assert_eq!(out.scans.len(), 1);
    assert_eq!((out.scans[0].files_read, out.scans[0].files_total), (1, 4));
    let out = run(&engine, "SELECT count(*) FROM events WHERE id > 390").await;
    assert_eq!(out.scans[0].files_read, 4, "ids spread over every file");
    let explain = run(
        &engine,
        "EXPLAIN SELECT * FROM events WHERE day >= DATE '2024-01-03'",
    )
    .await;
    let text = pretty_format_batches(&explain.batches).unwrap().to_string();
    assert!(
        text.contains("read 2 of 4 files, 2 of 4 row groups"),
        "{text}"
    );
    let scan = &explain.scans[0];
    assert!(scan.bytes_read > 0 && scan.bytes_read < scan.bytes_total);
}

/// (row groups read, of, rows scanned, of) by the one scan of `sql`, and its answer.
async fn in_file_skipping(engine: &Engine, sql: &str) -> ((usize, usize, usize, usize), String) {
    let out = run(engine, sql).await;
    assert_eq!(out.scans.len(), 1, "{sql}");
    let s = &out.scans[0];
    assert_eq!((s.files_read, s.files_total), (1, 1), "{sql}");
    let answer = pretty_format_batches(&out.batches).unwrap().to_string();
    (
        (
            s.row_groups_read,
            s.row_groups_total,
            s.rows_read,
            s.rows_total,
        ),
        answer,
    )
}

#[tokio::test]
async fn a_selective_filter_skips_row_groups_and_pages_inside_a_file() {
    let store = Rc::new(MemoryStore::new());
    let engine = Engine::open(store.clone()).await.unwrap();
    // One file of 400,000 rows in id order: four row groups of at most
    // 131,072 rows, pages of at most 20,000.
    run(
        &engine,
        "CREATE TABLE t AS SELECT value AS id, value % 7 AS k FROM generate_series(1, 400000)",
    )
    .await;
    let narrow = "SELECT count(*), sum(k) FROM t WHERE id BETWEEN 200000 AND 200100";
    let ((groups, groups_total, rows, rows_total), answer) =
        in_file_skipping(&engine, narrow).await;
    assert_eq!((groups, groups_total, rows_total), (1, 4, 400_000));
    assert!(
        rows <= 40_000,
        "pages outside the range skipped: {rows} rows scanned"
    );
    let everything = "SELECT count(*), sum(k) FROM t WHERE id + 0 BETWEEN 200000 AND 200100";
    let ((all_groups, _, all_rows, _), exact) = in_file_skipping(&engine, everything).await;
    assert_eq!(
        (all_groups, all_rows),
        (4, 400_000),
        "an expression on id skips nothing"
    );
    assert_eq!(answer, exact);
    assert!(answer.contains("| 101 "), "{answer}");

    // Read back from storage by a fresh engine, the footer skips the same.
    let fresh = Engine::open(store.clone()).await.unwrap();
    let (counts, again) = in_file_skipping(&fresh, narrow).await;
    assert_eq!(
        (counts, again),
        ((groups, groups_total, rows, rows_total), answer)
    );
    let explain = run(&fresh, &format!("EXPLAIN ANALYZE {narrow}")).await;
    let text = pretty_format_batches(&explain.batches).unwrap().to_string();
    assert!(text.contains("1 of 4 row groups"), "{text}");

    // A column the file lacks has no statistics: nothing is skipped by it.
    run(&fresh, "ALTER TABLE t ADD COLUMNS (note STRING)").await;
    let ((groups, _, rows, _), _) =
        in_file_skipping(&fresh, "SELECT count(*) FROM t WHERE note = 'x'").await;
    assert_eq!((groups, rows), (4, 400_000));
}

#[tokio::test]
async fn bad_delta_statements_fail_clearly() {
    let (_, engine) = orders().await;
    let err = fail(&engine, "CREATE TABLE x (a INT) USING CSV")
        .await
        .to_string();
    assert!(err.contains("USING DELTA"), "{err}");
    // A Parquet table is only ever the output of a query (a legacy job's).
    let err = fail(&engine, "CREATE TABLE x (a INT) USING PARQUET")
        .await
        .to_string();
    assert!(err.contains("USING PARQUET AS SELECT"), "{err}");
    let err = fail(&engine, "RESTORE TABLE orders TO VERSION AS OF 42")
        .await
        .to_string();
    assert!(err.contains("42"), "{err}");
    let err = fail(&engine, "DESCRIBE HISTORY nope").await;
    assert!(matches!(err, EngineError::NoSuchTable(_)), "{err}");
    let err = fail(
        &engine,
        "MERGE INTO orders USING orders s ON orders.id = s.id",
    )
    .await
    .to_string();
    assert!(err.contains("WHEN"), "{err}");
    let err = fail(&engine, "INSERT INTO orders VALUES ('x', 'y', 'z')")
        .await
        .to_string();
    assert!(!err.is_empty());
    assert_eq!(one(&engine, "SELECT count(*) FROM orders").await, "3");
}

#[tokio::test]
async fn expectations_warn_drop_or_fail_and_are_recorded() {
    let (_, engine) = orders().await;
    run(
        &engine,
        "ALTER TABLE orders ADD CONSTRAINT has_customer EXPECT (customer IS NOT NULL)",
    )
    .await;
    run(
        &engine,
        "ALTER TABLE orders ADD CONSTRAINT positive EXPECT (amount > 0) ON VIOLATION DROP ROW",
    )
    .await;
    let out = run(
        &engine,
        "INSERT INTO orders VALUES (4, NULL, 5.0), (5, 'ed', -1.0), (6, 'fay', 6.0)",
    )
    .await;
    let message = out.message.unwrap();
    assert!(message.starts_with("inserted 2 rows"), "{message}");
    assert!(
        message.contains("has_customer: 2 passed, 1 flagged")
            && message.contains("positive: 2 passed, 1 dropped"),
        "{message}"
    );
    assert_eq!(
        rows(&engine, "SELECT id FROM orders WHERE id > 3 ORDER BY id").await,
        vec!["4", "6"]
    );
    let history = run(&engine, "DESCRIBE HISTORY orders LIMIT 1").await;
    let text = pretty_format_batches(&history.batches).unwrap().to_string();
    assert!(
        text.contains("expectations.positive.failedRecords: 1"),
        "{text}"
    );

    run(
        &engine,
        "ALTER TABLE orders ADD CONSTRAINT small EXPECT (amount < 100) ON VIOLATION FAIL UPDATE",
    )
    .await;
    let before = one(&engine, "SELECT count(*) FROM orders").await;
    let err = fail(
        &engine,
        "INSERT INTO orders VALUES (7, 'gus', 7.0), (8, 'hal', 800.0)",
    )
    .await
    .to_string();
    assert!(
        err.contains("expectation small")
            && err.contains("1 of 2 rows")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(one(&engine, "SELECT count(*) FROM orders").await, before);
    run(&engine, "ALTER TABLE orders DROP CONSTRAINT small").await;
    run(&engine, "INSERT INTO orders VALUES (8, 'hal', 800.0)").await;
}

#[tokio::test]
async fn simulated_time_stamps_commits_for_timestamp_travel() {
    let (_, engine) = orders().await;
    run(
        &engine,
        "SET lakelab.simulated_time = '2024-01-15 13:00:00'",
    )
    .await;
    run(&engine, "INSERT INTO orders VALUES (4, 'di', 40.0)").await;
    run(
        &engine,
        "SET lakelab.simulated_time = '2024-01-15 14:00:00'",
    )
    .await;
    run(&engine, "INSERT OVERWRITE orders VALUES (9, NULL, -9.0)").await;
    run(&engine, "SET lakelab.simulated_time = off").await;
    assert_eq!(
        one(
            &engine,
            "SELECT count(*) FROM orders TIMESTAMP AS OF '2024-01-15 13:30:00'"
        )
        .await,
        "4"
    );
    assert_eq!(
        one(
            &engine,
            "SELECT count(*) FROM orders TIMESTAMP AS OF '2024-01-15 14:00:00'"
        )
        .await,
        "1"
    );
    let history = run(&engine, "DESCRIBE HISTORY orders LIMIT 2").await;
    let text = pretty_format_batches(&history.batches).unwrap().to_string();
    assert!(
        text.contains("2024-01-15T14:00:00") && text.contains("2024-01-15T13:00:00"),
        "{text}"
    );
    let files = run(&engine, "DESCRIBE FILES orders VERSION AS OF 2").await;
    assert_eq!(
        files.row_count(),
        2,
        "the create's empty write and two inserts made two files"
    );
}

#[tokio::test]
async fn schema_evolves_only_when_merge_schema_is_on() {
    let (_, engine) = orders().await;
    let err = fail(
        &engine,
        "INSERT INTO orders SELECT 4 AS id, 'di' AS customer, 1.0 AS amount, 'vip' AS tier",
    )
    .await;
    assert!(!err.to_string().is_empty());
    run(
        &engine,
        "SET spark.databricks.delta.schema.autoMerge.enabled = true",
    )
    .await;
    run(
        &engine,
        "INSERT INTO orders SELECT 'vip' AS tier, 4 AS id, 1.0 AS amount, 'di' AS customer",
    )
    .await;
    assert_eq!(
        rows(&engine, "SELECT id, customer, tier FROM orders ORDER BY id").await,
        vec!["1,ann", "2,bo", "3,cy", "4,di,vip"]
    );
    assert_eq!(
        one(&engine, "SELECT count(*) FROM orders VERSION AS OF 1").await,
        "3"
    );
}

#[tokio::test]
async fn idempotent_writes_skip_a_version_already_committed() {
    let (_, engine) = orders().await;
    run(
        &engine,
        "SET spark.databricks.delta.write.txnAppId = 'nightly-load'",
    )
    .await;
    run(&engine, "SET spark.databricks.delta.write.txnVersion = 7").await;
    run(&engine, "INSERT INTO orders VALUES (4, 'di', 40.0)").await;
    // The job retries after a crash: the same version is a no-op.
    let again = run(&engine, "INSERT INTO orders VALUES (4, 'di', 40.0)").await;
    assert!(
        again.message.unwrap().starts_with("skipped"),
        "nothing written twice"
    );
    assert_eq!(one(&engine, "SELECT count(*) FROM orders").await, "4");
    run(&engine, "SET spark.databricks.delta.write.txnVersion = 8").await;
    run(&engine, "INSERT INTO orders VALUES (5, 'ed', 50.0)").await;
    assert_eq!(one(&engine, "SELECT count(*) FROM orders").await, "5");
}

#[tokio::test]
async fn a_merge_rewrites_only_the_files_it_changes() {
    let (_, engine) = orders().await;
    // A second file; the MERGE changes one row of it and none of the first.
    run(
        &engine,
        "INSERT INTO orders VALUES (4, 'di', 40.0), (5, 'ed', 50.0)",
    )
    .await;
    let merged = run(
        &engine,
        "MERGE INTO orders t USING (SELECT * FROM (VALUES (4, 41.0), (6, 60.0)) AS v(id, amount)) s          ON t.id = s.id          WHEN MATCHED THEN UPDATE SET amount = s.amount          WHEN NOT MATCHED THEN INSERT (id, amount) VALUES (s.id, s.amount)",
    )
    .await;
    assert!(
        merged
            .message
            .as_deref()
            .unwrap()
            .contains("1 files rewritten"),
        "{:?}",
        merged.message
    );
    assert_eq!(
        rows(
            &engine,
            "SELECT id, customer, amount FROM orders ORDER BY id"
        )
        .await,
        vec![
            "1,ann,10.0",
            "2,bo,20.0",
            "3,cy,30.0",
            "4,di,41.0",
            "5,ed,50.0",
            "6,60.0"
        ]
    );
    let history = run(&engine, "DESCRIBE HISTORY orders LIMIT 1").await;
    let text = pretty_format_batches(&history.batches).unwrap().to_string();
    for metric in ["numTargetRowsCopied: 1", "numRemovedFiles: 1"] {
        assert!(text.contains(metric), "{metric} in {text}");
    }

    // Insert-only: two source rows matching one target row are no conflict,
    // and a matched key is not inserted again.
    run(
        &engine,
        "MERGE INTO orders t USING (SELECT * FROM (VALUES (1, 'x'), (1, 'y'), (7, 'gus')) AS v(id, customer)) s          ON t.id = s.id WHEN NOT MATCHED AND s.customer <> 'x' THEN INSERT (id, customer) VALUES (s.id, s.customer)",
    )
    .await;
    assert_eq!(
        rows(
            &engine,
            "SELECT id, customer FROM orders WHERE id IN (1, 7) ORDER BY id"
        )
        .await,
        vec!["1,ann", "7,gus"]
    );
}

#[tokio::test]
async fn an_idempotent_merge_runs_once() {
    let (_, engine) = orders().await;
    run(
        &engine,
        "SET spark.databricks.delta.write.txnAppId = 'stream-1'",
    )
    .await;
    run(&engine, "SET spark.databricks.delta.write.txnVersion = 0").await;
    let merge = "MERGE INTO orders t USING (SELECT 1 AS id, 5.0 AS amount) s ON t.id = s.id \
                 WHEN MATCHED THEN UPDATE SET amount = t.amount + s.amount";
    run(&engine, merge).await;
    let again = run(&engine, merge).await;
    assert!(again.message.unwrap().starts_with("skipped"));
    assert_eq!(
        one(&engine, "SELECT amount FROM orders WHERE id = 1").await,
        "15.0"
    );
    let history = rows(&engine, "DESCRIBE HISTORY orders").await;
    assert_eq!(history.len(), 3, "one MERGE commit: {history:?}");
}

#[tokio::test]
async fn replace_where_swaps_exactly_the_matching_rows() {
    let (_, engine) = orders().await;
    let out = run(
        &engine,
        "INSERT INTO orders REPLACE WHERE amount >= 20 SELECT 7 AS id, 'gil' AS customer, 70.0 AS amount",
    )
    .await;
    assert!(out.message.unwrap().starts_with("replaced 2 rows"));
    assert_eq!(
        rows(&engine, "SELECT id FROM orders ORDER BY id").await,
        ["1", "7"]
    );
    let history = rows(&engine, "DESCRIBE HISTORY orders LIMIT 1").await;
    assert!(history[0].contains("WRITE"), "{history:?}");
    // Rows outside the predicate are refused, and nothing changes.
    let err = fail(
        &engine,
        "INSERT INTO orders REPLACE WHERE amount >= 20 SELECT 8 AS id, 'hal' AS customer, 1.0 AS amount",
    )
    .await
    .to_string();
    assert!(err.contains("DELTA_REPLACE_WHERE_MISMATCH"), "{err}");
    assert_eq!(one(&engine, "SELECT count(*) FROM orders").await, "2");
}

#[tokio::test]
async fn two_sessions_on_one_store_follow_the_conflict_rules() {
    let (store, first) = orders().await;
    let second = Engine::open(store.clone()).await.unwrap();
    // Both have read version 1. The second appends: a blind append.
    run(&second, "INSERT INTO orders VALUES (4, 'di', 40.0)").await;
    // The first appends too, from its stale snapshot: no conflict, it lands after.
    let out = run(&first, "INSERT INTO orders VALUES (5, 'ed', 50.0)").await;
    assert!(out.message.unwrap().ends_with("(version 3)"));
    // The second deletes from version 2's view, but rows were added since it read.
    let err = fail(&second, "DELETE FROM orders WHERE amount > 25")
        .await
        .to_string();
    assert!(err.starts_with("ConcurrentAppendException"), "{err}");
    // Nothing was lost: both appends are there, and the failed DELETE changed nothing.
    let reopened = Engine::open(store).await.unwrap();
    assert_eq!(one(&reopened, "SELECT count(*) FROM orders").await, "5");
    // Run again on a fresh view, the DELETE goes through.
    run(&second, "DELETE FROM orders WHERE amount > 25").await;
    assert_eq!(one(&second, "SELECT count(*) FROM orders").await, "2");
}

#[tokio::test]
async fn a_merge_casts_only_the_values_it_writes() {
    let (_, engine) = orders().await;
    // `id` is BIGINT: 1e30 cannot be one, but the source row carrying it
    // matches and is deleted, so the insert clause never writes it.
    run(
        &engine,
        "MERGE INTO orders t USING (SELECT * FROM (VALUES (1, 1e30, 'd'), (2, 2.0, 'u'), (9, 9.0, 'i')) AS v(id, big, op)) s \
         ON t.id = s.id \
         WHEN MATCHED AND s.op = 'd' THEN DELETE \
         WHEN MATCHED THEN UPDATE SET amount = s.big, customer = upper(t.customer) \
         WHEN NOT MATCHED THEN INSERT (id, customer, amount) VALUES (s.big, s.op, s.big)",
    )
    .await;
    assert_eq!(
        rows(&engine, "SELECT * FROM orders ORDER BY id").await,
        vec!["2,BO,2.0", "3,cy,30.0", "9,i,9.0"]
    );
    // A value that would land and does not fit fails the MERGE, naming the
    // column, and commits nothing.
    let history = rows(&engine, "DESCRIBE HISTORY orders").await.len();
    let err = engine
        .execute(
            "MERGE INTO orders t USING (SELECT 1e30 AS id) s ON t.id = s.id \
             WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)",
            &mut |_| {},
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("'id'"), "{err}");
    assert_eq!(
        rows(&engine, "DESCRIBE HISTORY orders").await.len(),
        history
    );
}
