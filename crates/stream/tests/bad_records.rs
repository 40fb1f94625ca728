//! Records the pipeline cannot apply: the batch fails naming the topic,
//! partition and offset, nothing of it is committed, and it resumes only
//! when told to move the bad records to the dead-letter table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;

use lakelab_engine::Engine;
use lakelab_protocol::cdc::{CdcConfig, Trigger};
use lakelab_store::{MemoryStore, Store};
use lakelab_stream::Simulation;
use lakelab_stream::debezium::Message;

fn config() -> CdcConfig {
    CdcConfig {
        tables: 4,
        tps: 50,
        trigger: Trigger::ProcessingTime { interval_ms: 2_000 },
        initial_rows: 20,
        ..CdcConfig::default()
    }
}

async fn versions(store: &Rc<dyn Store>) -> Vec<(String, Option<i64>)> {
    let engine = Engine::open_at(store.clone(), "").await.unwrap();
    engine
        .tables()
        .into_iter()
        .map(|t| (t.name, t.version))
        .collect()
}

async fn count(store: &Rc<dyn Store>, sql: &str) -> usize {
    let engine = Engine::open_at(store.clone(), "").await.unwrap();
    engine.execute(sql, &mut |_| {}).await.unwrap().row_count() as usize
}

async fn fails_then_resumes(produce: impl FnOnce(&mut Simulation), expected: &str) {
    let store: Rc<dyn Store> = Rc::new(MemoryStore::new());
    let mut sim = Simulation::start(store.clone(), "", config())
        .await
        .unwrap();
    sim.trigger().await.unwrap();
    let before = versions(&store).await;
    produce(&mut sim);
    sim.trigger().await.unwrap();
    let error = sim.error.clone().expect("the batch fails");
    assert!(error.contains("production.sales.orders-"), "{error}");
    assert!(error.contains("offset"), "{error}");
    assert!(error.contains(expected), "{error}");
    assert_eq!(versions(&store).await, before, "nothing committed");
    // Still stopped on the next trigger: it waits for a decision.
    sim.trigger().await.unwrap();
    assert!(sim.error.is_some());
    assert_eq!(versions(&store).await, before);

    sim.skip_bad_records();
    sim.trigger().await.unwrap();
    assert!(sim.error.is_none());
    assert_eq!(
        count(&store, "SELECT * FROM bronze.cdc_dead_letters").await,
        1
    );
    let v = sim.verify().await.unwrap();
    assert_eq!(v.mismatched_rows, 0);
    assert_eq!(v.bronze_duplicates + v.bronze_missing, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn malformed_json() {
    fails_then_resumes(|sim| sim.inject_bad_event(), "not JSON").await;
}

fn orders_event(sim: &mut Simulation, value: &str) {
    let at = sim.now_ms;
    sim.broker.produce(Message {
        topic: "production.sales.orders".into(),
        key: Some("{\"order_id\":424242}".into()),
        value: Some(value.into()),
        timestamp_ms: at,
    });
}

const SOURCE: &str =
    r#""source":{"db":"sales","table":"orders","file":"mysql-bin.000001","pos":999999,"row":0}"#;

#[tokio::test(flavor = "current_thread")]
async fn a_create_without_after() {
    let value = format!(r#"{{"before":null,"after":null,{SOURCE},"op":"c"}}"#);
    fails_then_resumes(|sim| orders_event(sim, &value), "without `after`").await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_unknown_op() {
    let value = format!(r#"{{"before":null,"after":{{"order_id":424242}},{SOURCE},"op":"t"}}"#);
    fails_then_resumes(|sim| orders_event(sim, &value), "unknown op 't'").await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_event_for_another_table() {
    let value = format!(r#"{{"before":null,"after":{{"order_id":424242}},{SOURCE},"op":"c"}}"#)
        .replace("\"orders\"", "\"invoices\"");
    fails_then_resumes(|sim| orders_event(sim, &value), "sales.invoices").await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_schema_change_that_cannot_be_merged() {
    let value = format!(
        r#"{{"before":null,"after":{{"order_id":424242,"quantity":"three"}},{SOURCE},"op":"c"}}"#
    );
    fails_then_resumes(|sim| orders_event(sim, &value), "cannot be merged").await;
}
