//! CDC and late-events throughput in headless Chromium, on OPFS in a dedicated worker:
//! `cargo xtask bench`. Built only with the `browser-bench` feature, so the
//! test suite never times anything.
#![cfg(all(target_arch = "wasm32", feature = "browser-bench"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/support/cdc.rs"]
mod cdc;
#[path = "../benches/support/late.rs"]
mod late;
#[path = "../benches/support/timed.rs"]
mod timed;

use std::rc::Rc;

use lakelab_store::{MemoryStore, OpfsStore, Store};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

async fn empty_store(name: &str) -> OpfsStore {
    let store = OpfsStore::open(name).await.unwrap();
    for meta in store.list("").await.unwrap() {
        store.delete(&meta.path).await.unwrap();
    }
    store
}

#[wasm_bindgen_test]
async fn late_events_throughput_in_the_browser() {
    let store = empty_store("lakelab-late-bench").await;
    for line in late::measure(Rc::new(store)).await {
        console_log!("browser (Chromium, OPFS): {line}");
    }
}

#[wasm_bindgen_test]
async fn cdc_throughput_in_the_browser() {
    console_log!("browser (Chromium, OPFS, dedicated worker):");
    for trigger_s in cdc::TRIGGERS {
        let store = empty_store("lakelab-cdc-bench").await;
        let measured = cdc::measure(Rc::new(store), cdc::SECONDS, trigger_s).await;
        for line in measured.lines() {
            console_log!("  {line}");
        }
    }
    // The same work on an in-memory store: what OPFS itself costs.
    console_log!("browser (Chromium, in-memory store, dedicated worker):");
    let measured = cdc::measure(Rc::new(MemoryStore::new()), cdc::SECONDS, cdc::TRIGGERS[0]).await;
    for line in measured.lines() {
        console_log!("  {line}");
    }
}
