//! CDC throughput in headless Chromium, on OPFS in a dedicated worker:
//! `cargo xtask bench`. Built only with the `browser-bench` feature, so the
//! test suite never times anything.
#![cfg(all(target_arch = "wasm32", feature = "browser-bench"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/support/cdc.rs"]
mod cdc;

use std::rc::Rc;

use lakelab_store::{OpfsStore, Store};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn cdc_throughput_in_the_browser() {
    console_log!("browser (Chromium, OPFS, dedicated worker):");
    for trigger_s in cdc::TRIGGERS {
        let store = OpfsStore::open("lakelab-cdc-bench").await.unwrap();
        for meta in store.list("").await.unwrap() {
            store.delete(&meta.path).await.unwrap();
        }
        let measured = cdc::measure(Rc::new(store), cdc::SECONDS, trigger_s).await;
        for line in measured.lines() {
            console_log!("  {line}");
        }
    }
}
