//! The late-events workload, shared by the native bench and the browser
//! one: the scenario's hourly counts under a 2-hour watermark (update mode,
//! deduplication, the mobile lateness profile), once with the Delta sink
//! and once through the aggregation alone.

use std::rc::Rc;

use lakelab_engine::Engine;
use lakelab_protocol::late::LateConfig;
use lakelab_store::Store;
use lakelab_stream::late::LateRun;

/// Events generated (records include duplicates and bad ones).
pub const EVENTS: u64 = 500_000;
/// maxOffsetsPerTrigger.
pub const BATCH_ROWS: u64 = 10_000;

pub async fn measure(store: Rc<dyn Store>) -> Vec<String> {
    let config = LateConfig {
        events: EVENTS,
        hours: 24,
        batch_rows: BATCH_ROWS,
        ..LateConfig::default()
    };
    let engine = Engine::open(store).await.expect("engine");
    let mut with_sink = LateRun::new(config.clone())
        .expect("run")
        .with_sink(&engine, "late.metrics", true)
        .await
        .expect("sink");
    with_sink.run_to_end(Some(&engine)).await.expect("stream");
    let mut alone = LateRun::over(config, with_sink.stream.clone()).expect("run");
    alone.run_to_end(None).await.expect("stream");
    let rate = |run: &LateRun| {
        let records: u64 = run.progress.iter().map(|p| p.num_input_rows).sum();
        let seconds: f64 = run.progress.iter().map(|p| p.duration_ms).sum::<f64>() / 1000.0;
        (records, records as f64 / seconds.max(1e-9))
    };
    let (records, sunk) = rate(&with_sink);
    let (_, aggregated) = rate(&alone);
    vec![
        format!(
            "late events: {records} records ({EVENTS} events over 24 h), 1-hour windows, 2-hour watermark, \
             update mode, {} batches of {BATCH_ROWS}; {:.2}% of events counted",
            with_sink.progress.len(),
            with_sink.accuracy() * 100.0
        ),
        format!("  read + aggregate + MERGE into Delta {sunk:>10.0} records/s"),
        format!("  read + aggregate                    {aggregated:>10.0} records/s"),
    ]
}
