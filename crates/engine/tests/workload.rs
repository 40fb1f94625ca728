//! `lakelab_events(n)`: the shared benchmark's table, from SQL.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::rc::Rc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use lakelab_engine::Engine;
use lakelab_store::MemoryStore;
mod support;
use support::{fail, run};

#[tokio::test]
async fn the_benchmark_table_is_generated_as_it_is_read_and_stored_as_delta() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    let n = 200_000;
    run(
        &engine,
        &format!("CREATE TABLE events AS SELECT * FROM lakelab_events({n})"),
    )
    .await;
    let out = run(
        &engine,
        "SELECT count(*), sum(user_id), count(DISTINCT user_id), sum(duration), \
         count(DISTINCT date), min(date) = DATE '2024-01-01' FROM events",
    )
    .await;
    let b = &out.batches[0];
    let int = |c: usize| b.column(c).as_primitive::<Int64Type>().value(0);
    let rows: Vec<_> = (0..n).map(|i| lakelab_workload::event(i, n)).collect();
    let users: HashSet<i64> = rows.iter().map(|e| e.user_id).collect();
    assert_eq!(int(0), n);
    assert_eq!(int(1), rows.iter().map(|e| e.user_id).sum::<i64>());
    assert_eq!(int(2), users.len() as i64);
    assert_eq!(
        int(3),
        rows.iter().map(|e| i64::from(e.duration)).sum::<i64>()
    );
    assert_eq!(int(4), 90);
    assert!(b.column(5).as_boolean().value(0));

    let err = fail(&engine, "SELECT * FROM lakelab_events('many')").await;
    assert!(err.to_string().contains("non-negative integer"), "{err}");
}

#[tokio::test]
async fn spark_s_approx_count_distinct_runs_on_the_benchmark_table() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    let out = run(
        &engine,
        "SELECT approx_count_distinct(user_id) AS a, approx_count_distinct(user_id, 0.05) AS b, \
         count(DISTINCT user_id), count_if(event_type = 'purchase') \
         FROM lakelab_events(200000)",
    )
    .await;
    let b = &out.batches[0];
    let value = |c: usize| -> f64 {
        let column = datafusion::arrow::compute::cast(
            b.column(c),
            &datafusion::arrow::datatypes::DataType::Int64,
        )
        .unwrap();
        column.as_primitive::<Int64Type>().value(0) as f64
    };
    let exact = value(2);
    for c in [0, 1] {
        let error = (value(c) - exact).abs() / exact;
        assert!(error < 0.03, "column {c}: {} against {exact}", value(c));
    }
    let purchases = (0..200_000)
        .filter(|i| lakelab_workload::event(*i, 200_000).event_type == "purchase")
        .count();
    assert_eq!(value(3), purchases as f64);

    let err = fail(
        &engine,
        "SELECT approx_count_distinct(user_id, 0.001) FROM lakelab_events(10)",
    )
    .await;
    assert!(err.to_string().contains("tighter than"), "{err}");
}

/// HyperLogLog with 2^14 registers, as DataFusion's approx_distinct keeps:
/// relative standard error 1.04 / sqrt(16384).
const HLL_STANDARD_ERROR: f64 = 1.04 / 128.0;

#[tokio::test]
async fn the_spec_s_dau_queries_answer_exactly_and_within_the_stated_error() {
    let engine = Engine::open(Rc::new(MemoryStore::new())).await.unwrap();
    run(
        &engine,
        "CREATE TABLE events PARTITIONED BY (date) AS SELECT * FROM lakelab_events(1000000)",
    )
    .await;
    let dau = |f: &str| {
        format!(
            "SELECT CAST({f} AS BIGINT), COUNT(*) FROM events \
             WHERE date >= DATE '2024-02-01' GROUP BY date ORDER BY date"
        )
    };
    let column = |out: &lakelab_engine::Output, c: usize| -> Vec<i64> {
        out.batches
            .iter()
            .flat_map(|b| b.column(c).as_primitive::<Int64Type>().values().to_vec())
            .collect()
    };
    let exact = run(&engine, &dau("COUNT(DISTINCT user_id)")).await;
    let approx = run(&engine, &dau("approx_count_distinct(user_id)")).await;
    let (exact_dau, approx_dau) = (column(&exact, 0), column(&approx, 0));
    // The spec's spot answers: Q1's first rows at 1M.
    assert_eq!((exact_dau[0], column(&exact, 1)[0]), (10921, 11111));
    assert_eq!(exact_dau[1], 10917);
    assert_eq!(exact_dau.len(), 59, "February 1 to March 30");
    let errors: Vec<f64> = exact_dau
        .iter()
        .zip(&approx_dau)
        .map(|(e, a)| (*a as f64 - *e as f64).abs() / *e as f64)
        .collect();
    let worst = errors.iter().cloned().fold(0.0, f64::max);
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    assert!(worst < 4.0 * HLL_STANDARD_ERROR, "worst day off by {worst}");
    assert!(mean < 1.5 * HLL_STANDARD_ERROR, "mean error {mean}");
    assert!(worst > 0.0, "an approximation that is never off is not one");
}
