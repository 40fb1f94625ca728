//! The shared benchmark spec in headless Chromium, tables in OPFS, in a
//! dedicated worker: `cargo xtask bench`. Sizes from `LAKELAB_BENCH_ROWS`
//! at build time (comma separated), default 1M, 5M and 10M. Built only with
//! the `browser-bench` feature, so the test suite never times anything.
#![cfg(all(target_arch = "wasm32", feature = "browser-bench"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/support/spec.rs"]
mod spec;

use std::rc::Rc;

use lakelab_store::{OpfsStore, Store};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn the_benchmark_spec_in_the_browser() {
    let sizes = option_env!("LAKELAB_BENCH_ROWS").unwrap_or("1000000,5000000,10000000");
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let performance = scope.performance().unwrap();
    let now = move || performance.now();
    for rows in sizes.split(',').map(|n| n.trim().parse::<u64>().unwrap()) {
        let store = OpfsStore::open("lakelab-spec-bench").await.unwrap();
        for meta in store.list("").await.unwrap() {
            store.delete(&meta.path).await.unwrap();
        }
        spec::measure(Rc::new(store), rows, &now, &mut |t| {
            console_log!("{}", t.line("chromium"));
        })
        .await;
    }
}
