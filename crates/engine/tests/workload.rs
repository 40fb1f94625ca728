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
