//! Pauses hand the worker's thread back to the browser (headless Chromium).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lakelab_store::cooperate::pause_if_due;
use lakelab_store::testkit::timer_flag;
use wasm_bindgen_test::*;
use web_time::{Duration, Instant};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Computes (without awaiting) for `ms` milliseconds.
fn compute_for(ms: u64) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(ms) {
        std::hint::black_box(0);
    }
}

#[wasm_bindgen_test]
async fn a_pause_lets_waiting_tasks_run() {
    let ran = timer_flag();
    compute_for(5);
    assert!(!ran.get(), "nothing runs while the thread computes");
    let mut pauses = 0;
    while !ran.get() {
        compute_for(2);
        pause_if_due()
            .expect("two milliseconds of compute make a pause due")
            .await;
        pauses += 1;
        assert!(pauses < 100, "the timer never ran between pauses");
    }
    assert!(
        pause_if_due().is_none(),
        "no pause is due right after one ended"
    );
}
