//! The pipeline against its source: Silver equals MySQL row for row and
//! Bronze holds each Kafka record once — after a clean run, after a crash at
//! every point of a batch, after storage failures on every call of a batch,
//! and with Debezium re-sending duplicates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;

use lakelab_protocol::cdc::{CdcConfig, StartingOffsets, Trigger, Verification};
use lakelab_store::{FaultyStore, MemoryStore, Store};
use lakelab_stream::{CrashPoint, Simulation};

fn config() -> CdcConfig {
    CdcConfig {
        tables: 5,
        tps: 100,
        partitions: 3,
        max_offsets_per_trigger: Some(400),
        trigger: Trigger::ProcessingTime { interval_ms: 2_000 },
        initial_rows: 40,
        ..CdcConfig::default()
    }
}

fn assert_identical(v: &Verification) {
    assert!(
        v.identical,
        "not identical: {} mismatched rows {:?}, bronze duplicates {}, missing {}, gold {}",
        v.mismatched_rows,
        v.tables
            .iter()
            .filter(|t| t.mismatched_rows > 0)
            .collect::<Vec<_>>(),
        v.bronze_duplicates,
        v.bronze_missing,
        v.gold_mismatched_rows
    );
    assert!(v.kafka_records > 0 && v.bronze_rows == v.kafka_records);
}

#[tokio::test(flavor = "current_thread")]
async fn a_clean_run_is_identical() {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let mut sim = Simulation::start(store.clone(), "", config())
        .await
        .unwrap();
    sim.advance(20_000).await.unwrap();
    assert!(sim.history.len() >= 5, "{} batches", sim.history.len());
    let v = sim.verify().await.unwrap();
    assert_identical(&v);
    assert_eq!(v.silver_tables, 5);
    assert!(sim.crashes.is_empty());
    // What the lab page draws.
    let engine = lakelab_engine::Engine::open_at(store, "").await.unwrap();
    let view = sim.view(&engine, Some(v)).await.unwrap();
    assert_eq!(view.counts.silver_tables, 5);
    assert_eq!(view.counts.bronze_rows, view.counts.kafka_records);
    assert!(!view.gold.is_empty());
    assert_eq!(view.partitions.len(), 3);
    assert!(view.merge_sql.starts_with("MERGE INTO silver.sales_orders"));
}

/// The check can fail: a query started at the latest offsets never sees
/// the initial snapshot, so Silver lacks the rows that existed before.
#[tokio::test(flavor = "current_thread")]
async fn starting_at_latest_misses_the_snapshot() {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let config = CdcConfig {
        starting_offsets: StartingOffsets::Latest,
        ..config()
    };
    let mut sim = Simulation::start(store, "", config).await.unwrap();
    sim.advance(6_000).await.unwrap();
    let v = sim.verify().await.unwrap();
    assert!(!v.identical);
    assert!(v.mismatched_rows > 100, "{}", v.mismatched_rows);
    assert_eq!(v.bronze_duplicates, 0);
}

/// The check counts copies: a Silver row written twice (every column equal,
/// so only its count differs from MySQL) is a mismatch.
#[tokio::test(flavor = "current_thread")]
async fn a_row_written_twice_is_caught() {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let mut sim = Simulation::start(store.clone(), "", config())
        .await
        .unwrap();
    sim.advance(6_000).await.unwrap();
    assert_identical(&sim.verify().await.unwrap());
    let engine = lakelab_engine::Engine::open_at(store, "").await.unwrap();
    engine
        .execute(
            "INSERT INTO silver.sales_orders SELECT * FROM silver.sales_orders LIMIT 1",
            &mut |_| {},
        )
        .await
        .unwrap();
    let v = sim.verify().await.unwrap();
    assert!(!v.identical);
    assert_eq!(v.mismatched_rows, 1);
}

/// Schema additions reach Silver: MySQL adds `customers.loyalty_tier` 45
/// simulated seconds in.
#[tokio::test(flavor = "current_thread")]
async fn an_added_column_reaches_silver() {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let mut sim = Simulation::start(store.clone(), "", config())
        .await
        .unwrap();
    sim.advance(60_000).await.unwrap();
    assert_eq!(sim.mysql.schema_changes, 1);
    assert_identical(&sim.verify().await.unwrap());
    let engine = lakelab_engine::Engine::open_at(store, "").await.unwrap();
    let out = engine
        .execute(
            "SELECT count(loyalty_tier) FROM silver.sales_customers",
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(out.row_count(), 1);
}

/// A crash at each point of a batch, then a restart from the checkpoint.
#[tokio::test(flavor = "current_thread")]
async fn a_crash_at_every_point_of_a_batch_changes_nothing() {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let mut sim = Simulation::start(store, "", config()).await.unwrap();
    sim.crash_every = Some(2);
    sim.advance(2_000 * 2 * CrashPoint::ALL.len() as u64 + 4_000)
        .await
        .unwrap();
    assert!(
        sim.crashes.len() >= CrashPoint::ALL.len(),
        "{:?}",
        sim.crashes
    );
    for point in CrashPoint::ALL {
        assert!(
            sim.crashes.iter().any(|c| c.contains(point.describe())),
            "no crash {}",
            point.describe()
        );
    }
    // Re-runs skipped the writes that had landed before the crash.
    assert!(
        sim.history
            .iter()
            .any(|b| b.replayed && b.skipped_writes > 0)
    );
    assert_identical(&sim.verify().await.unwrap());
}

/// Storage failing on each call of a batch in turn (a crash mid-commit).
#[tokio::test(flavor = "current_thread")]
async fn a_storage_failure_on_any_call_of_a_batch_changes_nothing() {
    let faulty = Rc::new(FaultyStore::new(MemoryStore::new()));
    let store: Rc<dyn Store> = faulty.clone();
    let config = CdcConfig {
        tables: 3,
        ..config()
    };
    let mut sim = Simulation::start(store, "", config).await.unwrap();
    sim.trigger().await.unwrap();
    // How many store calls one batch makes.
    let before = faulty.calls();
    sim.trigger().await.unwrap();
    let per_batch = faulty.calls() - before;
    assert!(per_batch > 10, "{per_batch}");
    for k in (1..per_batch).step_by(3) {
        faulty.fail_call(k);
        sim.trigger().await.unwrap();
        // A batch with fewer calls than `k` leaves the fault unspent.
        faulty.disarm();
    }
    assert!(sim.crashes.len() > per_batch / 6, "{:?}", sim.crashes);
    assert_identical(&sim.verify().await.unwrap());
}

/// Debezium's at-least-once delivery puts duplicates into Kafka: Bronze
/// keeps every record once, and Silver applies each change once, in binlog
/// order.
#[tokio::test(flavor = "current_thread")]
async fn redelivered_duplicates_are_harmless() {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let config = CdcConfig {
        redeliver: true,
        ..config()
    };
    let mut sim = Simulation::start(store, "", config).await.unwrap();
    sim.crash_every = Some(3);
    sim.advance(60_000).await.unwrap();
    assert!(
        sim.connector.redelivered > 100,
        "{}",
        sim.connector.redelivered
    );
    assert_identical(&sim.verify().await.unwrap());
}

/// The unwrap transform's flat rows work as well as the envelope.
#[tokio::test(flavor = "current_thread")]
async fn unwrapped_events_are_identical_too() {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let config = CdcConfig {
        unwrap: true,
        trigger: Trigger::AvailableNow { every_ms: 5_000 },
        ..config()
    };
    let mut sim = Simulation::start(store, "", config).await.unwrap();
    sim.advance(15_000).await.unwrap();
    assert_identical(&sim.verify().await.unwrap());
}
