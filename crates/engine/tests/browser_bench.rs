//! Delta throughput in headless Chromium, on OPFS in a dedicated worker:
//! `cargo xtask bench`. Built only with the `browser-bench` feature, so the
//! test suite never times anything.
#![cfg(all(target_arch = "wasm32", feature = "browser-bench"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/support/workload.rs"]
mod workload;

use std::rc::Rc;

use lakelab_engine::Engine;
use lakelab_store::{OpfsStore, Store};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn delta_throughput_in_the_browser() {
    let store = OpfsStore::open("lakelab-bench").await.unwrap();
    for meta in store.list("").await.unwrap() {
        store.delete(&meta.path).await.unwrap();
    }
    let engine = Engine::open(Rc::new(store)).await.unwrap();
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let performance = scope.performance().unwrap();
    let now = move || performance.now();
    console_log!("browser (Chromium, OPFS, dedicated worker):");
    for m in workload::measure(&engine, &now).await {
        console_log!("  {}", m.line());
    }
}
