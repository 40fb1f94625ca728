//! What the labs measured in this browser, for the cost lab to price: the
//! CDC pipeline's processing time per change event and the slow-query
//! ladder's rungs. Shared by the pages through Leptos' context and kept in
//! localStorage, so a reload does not lose them.

use lakelab_labs::cost::workload::ScanWorkload;
use lakelab_labs::slow_query;
use lakelab_protocol::cdc::BatchProgress;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

const KEY: &str = "lakelab.measured";

/// The CDC pipeline's batches, summed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdcWork {
    pub events: u64,
    pub seconds: f64,
    pub batches: usize,
    pub tables: usize,
    pub tps: u32,
}

impl CdcWork {
    pub fn core_seconds_per_event(&self) -> f64 {
        self.seconds / self.events.max(1) as f64
    }
}

/// One rung of the slow-query ladder as the lab measured it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanMeasure {
    pub rung: String,
    pub title: String,
    pub rows: u64,
    pub ms: f64,
    pub table_bytes: i64,
    pub relative_error: f64,
}

impl ScanMeasure {
    pub fn workload(&self) -> Option<ScanWorkload> {
        let step = slow_query::ladder(self.rows)
            .into_iter()
            .find(|s| s.id == self.rung)?;
        Some(ScanWorkload::measured(&step, self.ms, self.table_bytes))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    pub cdc: Option<CdcWork>,
    pub scans: Vec<ScanMeasure>,
}

/// The measurements, provided by the shell to every page.
#[derive(Clone, Copy)]
pub struct Measured(pub RwSignal<Measurements>);

impl Measured {
    /// Loads what was saved and saves every change.
    pub fn provide() -> Self {
        let measured = Measured(RwSignal::new(crate::saved::load(KEY).unwrap_or_default()));
        Effect::new(move |_| measured.0.with(|m| crate::saved::save(KEY, m)));
        provide_context(measured);
        measured
    }

    pub fn get() -> Option<Self> {
        use_context()
    }

    /// Records the CDC lab's latest batches (the ones the page shows),
    /// without the initial snapshot's batch, which also creates the tables.
    pub fn record_cdc(&self, batches: &[BatchProgress], tables: usize, tps: u32) {
        let batches: Vec<&BatchProgress> = batches.iter().filter(|b| b.batch_id > 0).collect();
        let events: u64 = batches.iter().map(|b| b.num_input_rows).sum();
        if events == 0 {
            return;
        }
        let ms: f64 = batches
            .iter()
            .filter_map(|b| b.duration_ms.get("triggerExecution"))
            .sum();
        let work = CdcWork {
            events,
            seconds: ms / 1000.0,
            batches: batches.len(),
            tables,
            tps,
        };
        self.0.update(|m| m.cdc = Some(work));
    }

    /// Records one rung (replacing an earlier measurement of it).
    pub fn record_scan(&self, scan: ScanMeasure) {
        self.0.update(|m| {
            m.scans.retain(|s| s.rung != scan.rung);
            m.scans.push(scan);
        });
    }
}
