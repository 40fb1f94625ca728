//! File layout on the benchmark table: files cut by maxRecordsPerFile,
//! partition pruning, OPTIMIZE compaction and ZORDER BY, judged by the files
//! a selective query reads and by the rows, which must not change.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use lakelab_engine::{Engine, Output};
use lakelab_store::MemoryStore;
mod support;
use support::{fail, run};

const ROWS: i64 = 100_000;

async fn events(engine: &Engine, name: &str, partitioned: bool, rows_per_file: i64) {
    run(
        engine,
        &format!("SET spark.sql.files.maxRecordsPerFile = {rows_per_file}"),
    )
    .await;
    let partitioning = if partitioned {
        "PARTITIONED BY (date)"
    } else {
        ""
    };
    run(
        engine,
        &format!("CREATE TABLE {name} {partitioning} AS SELECT * FROM lakelab_events({ROWS})"),
    )
    .await;
}

fn int(out: &Output, column: usize) -> i64 {
    out.batches[0]
        .column(column)
        .as_primitive::<Int64Type>()
        .value(0)
}

/// (files read, files in the table) by the one scan of `sql`.
async fn files_read(engine: &Engine, sql: &str) -> (usize, usize) {
    let out = run(engine, sql).await;
    assert_eq!(out.scans.len(), 1, "{sql}");
    (out.scans[0].files_read, out.scans[0].files_total)
}

/// Average width (max - min) of user_id over the table's files, from their stats.
async fn user_id_spread(engine: &Engine, table: &str) -> f64 {
    let out = run(engine, &format!("DESCRIBE FILES {table}")).await;
    let mut widths = Vec::new();
    for batch in &out.batches {
        let stats = batch.column_by_name("stats").unwrap().as_string::<i32>();
        for text in stats.iter().flatten() {
            let stats: serde_json::Value = serde_json::from_str(text).unwrap();
            let min = stats["minValues"]["user_id"].as_i64().unwrap();
            let max = stats["maxValues"]["user_id"].as_i64().unwrap();
            widths.push((max - min) as f64);
        }
    }
    widths.iter().sum::<f64>() / widths.len() as f64
}

#[tokio::test]
async fn writes_cut_files_at_max_records_per_file_and_partitions_prune_them() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    events(&engine, "flat", false, 10_000).await;
    let out = run(&engine, "DESCRIBE FILES flat").await;
    let files = out.batches.iter().map(|b| b.num_rows()).sum::<usize>();
    assert_eq!(files, 10, "100,000 rows at 10,000 per file");

    events(&engine, "by_date", true, 10_000).await;
    let q3 = "SELECT count(DISTINCT user_id) FROM {} WHERE date = DATE '2024-03-15'";
    let (read, total) = files_read(&engine, &q3.replace("{}", "by_date")).await;
    assert_eq!(read, 1, "one day is one partition");
    assert!(total >= 90, "{total}");
    run(&engine, "UNCACHE TABLE by_date").await;
    let exact = int(&run(&engine, &q3.replace("{}", "by_date")).await, 0);
    assert_eq!(
        exact,
        int(&run(&engine, &q3.replace("{}", "flat")).await, 0)
    );
}

#[tokio::test]
async fn optimize_bin_packs_small_files_without_changing_a_row() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    events(&engine, "events", true, 500).await;
    let sums = "SELECT count(*), sum(event_id), sum(user_id * duration) FROM events";
    let expected = run(&engine, sums).await;
    let files_before = files_read(&engine, "SELECT count(*) FROM events").await.1;
    assert!(files_before > 200, "{files_before}");

    let out = run(&engine, "OPTIMIZE events WHERE date >= DATE '2024-03-01'").await;
    assert!(
        out.message.as_deref().unwrap().contains("compacted"),
        "{out:?}"
    );
    let files_after = files_read(&engine, "SELECT count(*) FROM events").await.1;
    // March 1 .. March 30: 30 days become one file each; the others stay.
    let march_before = files_read(
        &engine,
        "SELECT count(*) FROM events VERSION AS OF 0 WHERE date >= DATE '2024-03-01'",
    )
    .await
    .0;
    assert_eq!(files_after, files_before - march_before + 30);
    let actual = run(&engine, sums).await;
    assert_eq!(expected.batches, actual.batches);

    let history = run(&engine, "DESCRIBE HISTORY events LIMIT 1").await;
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&history.batches)
        .unwrap()
        .to_string();
    assert!(text.contains("OPTIMIZE"), "{text}");
    let again = run(&engine, "OPTIMIZE events WHERE date >= DATE '2024-03-01'").await;
    assert!(
        again
            .message
            .as_deref()
            .unwrap()
            .contains("already compacted"),
        "{again:?}"
    );
    let err = fail(&engine, "OPTIMIZE events WHERE user_id = 3").await;
    assert!(
        err.to_string().contains("partition columns (date)"),
        "{err}"
    );
}

#[tokio::test]
async fn z_order_makes_a_selective_query_read_fewer_files_and_keeps_every_row() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    events(&engine, "events", false, 5_000).await;
    let selective = "SELECT count(*) FROM events WHERE user_id BETWEEN 1000 AND 1500";
    let (read_before, total) = files_read(&engine, selective).await;
    assert_eq!(
        read_before, total,
        "arrival order: every file holds every kind of user"
    );
    let answer = int(&run(&engine, selective).await, 0);
    let spread_before = user_id_spread(&engine, "events").await;

    // Scaled down from Delta's 1 GiB so this small table still spans files.
    run(
        &engine,
        "SET spark.databricks.delta.optimize.maxFileSize = 100000",
    )
    .await;
    let out = run(&engine, "OPTIMIZE events ZORDER BY (user_id, event_type)").await;
    assert!(
        out.message.as_deref().unwrap().contains("Z-ordered"),
        "{out:?}"
    );
    let (read_after, total_after) = files_read(&engine, selective).await;
    assert!(total_after > 4, "{total_after} files");
    assert!(
        read_after * 3 <= total_after,
        "read {read_after} of {total_after} files after Z-order"
    );
    assert_eq!(int(&run(&engine, selective).await, 0), answer);
    let spread_after = user_id_spread(&engine, "events").await;
    assert!(
        spread_after * 2.0 < spread_before,
        "user_id per file spans {spread_after} after, {spread_before} before"
    );

    // No row lost or duplicated: the versions hold the same multiset of rows.
    let diff = run(
        &engine,
        "SELECT count(*) FROM ((SELECT * FROM events EXCEPT ALL SELECT * FROM events VERSION AS OF 0) \
         UNION ALL (SELECT * FROM events VERSION AS OF 0 EXCEPT ALL SELECT * FROM events))",
    )
    .await;
    assert_eq!(int(&diff, 0), 0);
    assert_eq!(
        int(&run(&engine, "SELECT count(*) FROM events").await, 0),
        ROWS
    );
}

#[tokio::test]
async fn z_order_refuses_partition_columns_and_columns_without_stats() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    events(&engine, "events", true, 50_000).await;
    let err = fail(&engine, "OPTIMIZE events ZORDER BY (date)").await;
    assert!(
        err.to_string()
            .contains("DELTA_ZORDERING_ON_PARTITION_COLUMN"),
        "{err}"
    );
    let err = fail(&engine, "OPTIMIZE events ZORDER BY (nope)").await;
    assert!(err.to_string().contains("no such column"), "{err}");
    run(
        &engine,
        "CREATE TABLE flags AS SELECT event_id, event_type = 'click' AS clicked FROM events",
    )
    .await;
    let err = fail(&engine, "OPTIMIZE flags ZORDER BY (clicked)").await;
    assert!(
        err.to_string()
            .contains("DELTA_ZORDERING_ON_COLUMN_WITHOUT_STATS"),
        "{err}"
    );
    let err = fail(
        &engine,
        "SET spark.databricks.delta.optimize.maxFileSize = 0",
    )
    .await;
    assert!(err.to_string().contains("positive"), "{err}");
    let history = run(&engine, "DESCRIBE HISTORY events").await;
    assert_eq!(
        history.batches.iter().map(|b| b.num_rows()).sum::<usize>(),
        1
    );
}

#[tokio::test]
async fn explain_analyze_runs_the_query_and_shows_metrics_and_skipping() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    events(&engine, "events", true, 50_000).await;
    let out = run(
        &engine,
        "EXPLAIN ANALYZE SELECT count(DISTINCT user_id) FROM events WHERE date = DATE '2024-03-15'",
    )
    .await;
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&out.batches)
        .unwrap()
        .to_string();
    assert!(text.contains("Plan with Metrics"), "{text}");
    assert!(text.contains("output_rows="), "{text}");
    assert!(
        text.contains("DeltaScan: events v0: read 1 of 90 files"),
        "{text}"
    );
}

/// (files, files written clustered) of `table`, from DESCRIBE FILES.
async fn clustered_files(engine: &Engine, table: &str) -> (usize, usize) {
    let out = run(engine, &format!("DESCRIBE FILES {table}")).await;
    let files = out.batches.iter().map(|b| b.num_rows()).sum();
    let clustered = out
        .batches
        .iter()
        .map(|b| {
            let provider = b
                .column_by_name("clusteringProvider")
                .unwrap()
                .as_string::<i32>();
            provider.iter().filter(|p| *p == Some("lakelab")).count()
        })
        .sum();
    (files, clustered)
}

#[tokio::test]
async fn liquid_clustering_clusters_new_files_incrementally_and_can_change_its_columns() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    run(&engine, "SET spark.sql.files.maxRecordsPerFile = 5000").await;
    run(
        &engine,
        &format!(
            "CREATE TABLE events CLUSTER BY (user_id) AS SELECT * FROM lakelab_events({ROWS})"
        ),
    )
    .await;
    let detail = run(&engine, "DESCRIBE DETAIL events").await;
    let text = format!(
        "{}",
        datafusion::arrow::util::pretty::pretty_format_batches(&detail.batches).unwrap()
    );
    assert!(text.contains("[user_id]"), "{text}");
    assert!(
        text.contains("clustering") && text.contains("domainMetadata"),
        "{text}"
    );
    let selective = "SELECT count(*) FROM events WHERE user_id BETWEEN 1000 AND 1500";
    let answer = int(&run(&engine, selective).await, 0);
    let (read_before, total) = files_read(&engine, selective).await;
    assert_eq!(
        read_before, total,
        "written in arrival order, not yet clustered"
    );

    run(
        &engine,
        "SET spark.databricks.delta.optimize.maxFileSize = 100000",
    )
    .await;
    let out = run(&engine, "OPTIMIZE events").await;
    assert!(
        out.message
            .as_deref()
            .unwrap()
            .contains("clustered by (user_id)"),
        "{out:?}"
    );
    let (files, clustered) = clustered_files(&engine, "events").await;
    assert_eq!(files, clustered, "every file now clustered");
    let (read_after, total_after) = files_read(&engine, selective).await;
    assert!(
        read_after * 3 <= total_after,
        "read {read_after} of {total_after} files after clustering"
    );
    assert_eq!(int(&run(&engine, selective).await, 0), answer);

    // New rows land unclustered; OPTIMIZE rewrites only them.
    run(
        &engine,
        "INSERT INTO events SELECT * FROM lakelab_events(2000)",
    )
    .await;
    let (with_new, _) = clustered_files(&engine, "events").await;
    assert_eq!(with_new, files + 1);
    let out = run(&engine, "OPTIMIZE events").await;
    let removed = int(&out, 1);
    assert_eq!(removed, 1, "only the new file is rewritten: {out:?}");
    let (after, clustered) = clustered_files(&engine, "events").await;
    assert_eq!(after, clustered);
    assert!(
        run(&engine, "OPTIMIZE events")
            .await
            .message
            .unwrap()
            .contains("already clustered")
    );

    // The columns change without a rewrite; FULL reclusters by the new ones.
    run(
        &engine,
        "ALTER TABLE events CLUSTER BY (event_type, user_id)",
    )
    .await;
    let out = run(&engine, "OPTIMIZE events FULL").await;
    assert_eq!(int(&out, 1) as usize, after, "FULL rewrites every file");
    assert!(
        out.message
            .as_deref()
            .unwrap()
            .contains("(event_type, user_id)")
    );
    // No row lost or duplicated since the insert (version 2).
    let diff = run(
        &engine,
        "SELECT count(*) FROM ((SELECT * FROM events EXCEPT ALL SELECT * FROM events VERSION AS OF 2) \
         UNION ALL (SELECT * FROM events VERSION AS OF 2 EXCEPT ALL SELECT * FROM events))",
    )
    .await;
    assert_eq!(int(&diff, 0), 0);
    run(&engine, "ALTER TABLE events CLUSTER BY NONE").await;
    let out = run(&engine, "OPTIMIZE events").await;
    assert!(
        !out.message.as_deref().unwrap().contains("clustered"),
        "{out:?}"
    );
}

#[tokio::test]
async fn clustering_refuses_what_delta_refuses() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    let refused = |sql: &'static str, code: &'static str| {
        let engine = &engine;
        async move {
            let err = fail(engine, sql).await.to_string();
            assert!(err.contains(code), "{sql}: {err}");
        }
    };
    refused(
        "CREATE TABLE t (a INT, d DATE) PARTITIONED BY (d) CLUSTER BY (a)",
        "DELTA_CLUSTER_BY_WITH_PARTITIONED_BY",
    )
    .await;
    refused(
        "CREATE TABLE t (a INT, b INT, c INT, d INT, e INT) CLUSTER BY (a, b, c, d, e)",
        "DELTA_CLUSTER_BY_INVALID_NUM_COLUMNS",
    )
    .await;
    refused(
        "CREATE TABLE t (a INT, ok BOOLEAN) CLUSTER BY (ok)",
        "DELTA_CLUSTERING_COLUMN_MISSING_STATS",
    )
    .await;
    refused("CREATE TABLE t (a INT) CLUSTER BY (nope)", "no such column").await;
    run(&engine, "CREATE TABLE t (a INT, b INT) CLUSTER BY (a)").await;
    refused(
        "OPTIMIZE t ZORDER BY (b)",
        "DELTA_CLUSTERING_WITH_ZORDER_BY",
    )
    .await;
    run(&engine, "CREATE TABLE plain (a INT)").await;
    refused("OPTIMIZE plain FULL", "not clustered").await;
    refused("ALTER TABLE plain CLUSTER BY NONE", "not clustered").await;
    // Refusals changed nothing: one commit each.
    let history = run(&engine, "DESCRIBE HISTORY t").await;
    assert_eq!(
        history.batches.iter().map(|b| b.num_rows()).sum::<usize>(),
        1
    );
}
