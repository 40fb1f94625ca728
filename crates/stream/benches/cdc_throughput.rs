//! CDC and late-events throughput natively (release): `cargo bench -p
//! lakelab-stream`, also run by `cargo xtask bench`. Prints numbers; asserts
//! nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/cdc.rs"]
mod cdc;
#[path = "support/late.rs"]
mod late;
#[path = "support/timed.rs"]
mod timed;

use std::rc::Rc;

use lakelab_store::MemoryStore;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    println!("native (release, in-memory store, one thread):");
    for trigger_s in cdc::TRIGGERS {
        let measured = runtime.block_on(cdc::measure(
            Rc::new(MemoryStore::new()),
            cdc::SECONDS,
            trigger_s,
        ));
        for line in measured.lines() {
            println!("  {line}");
        }
    }
    for line in runtime.block_on(late::measure(Rc::new(MemoryStore::new()))) {
        println!("native: {line}");
    }
}
