//! The shared benchmark spec natively (`../shared/bench/SPEC.md`):
//! `cargo bench -p lakelab-engine --bench spec_queries` (or `cargo xtask
//! bench`), tables on local disk. Sizes: `LAKELAB_BENCH_ROWS` (comma
//! separated), default 1M, 5M and 10M. Prints, never asserts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(not(target_arch = "wasm32"))]
#[path = "support/spec.rs"]
mod spec;

/// The browser's numbers come from tests/browser_spec_bench.rs instead.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use std::rc::Rc;
    use std::time::Instant;

    use lakelab_store::LocalStore;

    let sizes: Vec<u64> = std::env::var("LAKELAB_BENCH_ROWS")
        .unwrap_or_else(|_| "1000000,5000000,10000000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("LAKELAB_BENCH_ROWS: numbers"))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let clock = Instant::now();
    let now = move || clock.elapsed().as_secs_f64() * 1000.0;
    for rows in sizes {
        let dir = tempfile::tempdir().unwrap();
        let store = Rc::new(LocalStore::new(dir.path()).unwrap());
        runtime.block_on(spec::measure(store, rows, &now, &mut |t| {
            println!("{}", t.line("native"));
        }));
    }
}
