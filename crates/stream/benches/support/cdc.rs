//! The CDC throughput workload, shared by the native bench and the browser
//! one: the scenario's 10,000 transactions per second over 50 tables,
//! micro-batches every `trigger_s` simulated seconds (5: low latency; 30: the
//! scenario's Bronze trigger), for `seconds` of simulated time. (Longer runs
//! or triggers do not fit the browser's 4 GiB: Kafka keeps every record.)

use std::collections::BTreeMap;
use std::rc::Rc;

use lakelab_protocol::cdc::{CdcConfig, Trigger};
use lakelab_store::Store;
use lakelab_stream::Simulation;

use crate::timed::Timed;

/// Simulated seconds each configuration runs.
pub const SECONDS: u64 = 60;
/// The trigger intervals compared, in simulated seconds.
pub const TRIGGERS: [u64; 2] = [5, 30];

pub struct Measured {
    pub events: u64,
    pub batches: usize,
    pub simulated_s: f64,
    pub trigger_s: u64,
    pub wall_s: f64,
    pub bronze_s: f64,
    pub silver_s: f64,
    pub identical: bool,
    /// Seconds spent in each phase of the batches (Spark's `durationMs`).
    pub phases: BTreeMap<String, f64>,
    /// The batches' store calls, timed.
    pub store_calls: Vec<String>,
}

impl Measured {
    pub fn lines(&self) -> Vec<String> {
        let rate = |s: f64| self.events as f64 / s.max(1e-9);
        vec![
            format!(
                "10,000 TPS × 50 tables, {} s trigger, {:.0} simulated s: {} change events in {} batches, {:.1} s of processing ({:.1}× faster than real time)",
                self.trigger_s,
                self.simulated_s,
                self.events,
                self.batches,
                self.wall_s,
                self.simulated_s / self.wall_s.max(1e-9)
            ),
            format!("  end to end        {:>10.0} events/s", rate(self.wall_s)),
            format!("  through Bronze    {:>10.0} events/s", rate(self.bronze_s)),
            format!(
                "  through Silver    {:>10.0} events/s (50 MERGEs per batch)",
                rate(self.silver_s)
            ),
            format!("  Silver = MySQL    {}", self.identical),
            format!(
                "  phases (s)        {}",
                self.phases
                    .iter()
                    .map(|(name, s)| format!("{name} {s:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ]
        .into_iter()
        .chain(self.store_calls.iter().map(|l| format!("  {l}")))
        .collect()
    }
}

pub async fn measure(store: Rc<dyn Store>, seconds: u64, trigger_s: u64) -> Measured {
    let config = CdcConfig {
        tables: 50,
        tps: 10_000,
        partitions: 3,
        max_offsets_per_trigger: None,
        trigger: Trigger::ProcessingTime {
            interval_ms: trigger_s * 1000,
        },
        initial_rows: 100,
        ..CdcConfig::default()
    };
    let timed = Rc::new(Timed::new(store));
    let mut sim = Simulation::start(timed.clone(), "", config)
        .await
        .expect("start");
    // The snapshot first, so the timed batches are all streaming changes.
    sim.trigger().await.expect("snapshot batch");
    let skip = sim.history.len();
    timed.reset();
    sim.advance(seconds * 1000).await.expect("run");
    let store_calls = timed.lines();
    let batches = &sim.history[skip..];
    let total = |key: &str| -> f64 {
        batches
            .iter()
            .filter_map(|b| b.duration_ms.get(key))
            .sum::<f64>()
            / 1000.0
    };
    let mut measured = Measured {
        events: batches.iter().map(|b| b.num_input_rows).sum(),
        batches: batches.len(),
        simulated_s: seconds as f64,
        trigger_s,
        wall_s: total("triggerExecution"),
        bronze_s: total("bronze"),
        silver_s: total("silver"),
        identical: false,
        phases: BTreeMap::new(),
        store_calls,
    };
    for b in batches {
        for (name, ms) in &b.duration_ms {
            *measured.phases.entry(name.clone()).or_default() += ms / 1000.0;
        }
    }
    measured.identical = sim.verify().await.expect("verify").identical;
    measured
}
