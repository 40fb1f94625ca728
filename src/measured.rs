//! What the labs measured in this browser, for the cost lab to price: the
//! CDC pipeline's processing time per change event and the slow-query
//! ladder's rungs. Shared by the pages through Leptos' context and kept in
//! localStorage, so a reload does not lose them.

use std::collections::BTreeMap;

use lakelab_labs::cost::batch_cost::{BatchCost, BatchSample};
use lakelab_labs::cost::workload::ScanWorkload;
use lakelab_labs::slow_query;
use lakelab_protocol::cdc::BatchProgress;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

const KEY: &str = "lakelab.measured";

/// The CDC pipeline's batches: the latest run at each transaction rate, at
/// one table count (fixed costs per batch grow with the tables).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdcWork {
    pub tables: usize,
    /// Empty in what older versions saved (their sums cannot be split).
    #[serde(default)]
    pub runs: BTreeMap<u32, Vec<BatchSample>>,
}

impl CdcWork {
    fn samples(&self) -> impl Iterator<Item = &BatchSample> {
        self.runs.values().flatten()
    }

    pub fn events(&self) -> u64 {
        self.samples().map(|s| s.events).sum()
    }

    pub fn seconds(&self) -> f64 {
        self.samples().map(|s| s.seconds).sum()
    }

    /// Each batch's fixed cost and the work per event, told apart when the
    /// runs' batches differ enough in size.
    pub fn cost(&self) -> Option<BatchCost> {
        BatchCost::fit(&self.samples().copied().collect::<Vec<_>>())
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

    /// Records the CDC lab's latest batches (the ones the page shows) as the
    /// run at `tps`, without the initial snapshot's batch, which also
    /// creates the tables. Runs at another table count are dropped.
    pub fn record_cdc(&self, batches: &[BatchProgress], tables: usize, tps: u32) {
        let samples: Vec<BatchSample> = batches
            .iter()
            .filter(|b| b.batch_id > 0 && b.num_input_rows > 0)
            .map(|b| BatchSample {
                events: b.num_input_rows,
                seconds: b.trigger_execution_s(),
            })
            .collect();
        if samples.is_empty() {
            return;
        }
        self.0.update(|m| {
            let work = m.cdc.get_or_insert_with(|| CdcWork {
                tables,
                runs: BTreeMap::new(),
            });
            if work.tables != tables {
                *work = CdcWork {
                    tables,
                    runs: BTreeMap::new(),
                };
            }
            work.runs.insert(tps, samples);
        });
    }

    /// Records one rung (replacing an earlier measurement of it).
    pub fn record_scan(&self, scan: ScanMeasure) {
        self.0.update(|m| {
            m.scans.retain(|s| s.rung != scan.rung);
            m.scans.push(scan);
        });
    }
}
