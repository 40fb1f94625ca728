//! Delta throughput natively: `cargo bench -p lakelab-engine --bench delta_throughput`
//! (or `cargo xtask bench`). A benchmark, not a test: it prints, never asserts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(not(target_arch = "wasm32"))]
#[path = "support/workload.rs"]
mod workload;

/// The browser's numbers come from tests/browser_bench.rs instead.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use std::rc::Rc;
    use std::time::Instant;

    use lakelab_engine::Engine;
    use lakelab_store::{LocalStore, MemoryStore, Store};

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<(&str, Rc<dyn Store>)> = vec![
        ("memory", Rc::new(MemoryStore::new())),
        ("local disk", Rc::new(LocalStore::new(dir.path()).unwrap())),
    ];
    let clock = Instant::now();
    let now = move || clock.elapsed().as_secs_f64() * 1000.0;
    for (name, store) in stores {
        runtime.block_on(async {
            let engine = Engine::open(store).await.unwrap();
            println!("native, {name}:");
            for m in workload::measure(&engine, &now).await {
                println!("  {}", m.line());
            }
        });
    }
}
