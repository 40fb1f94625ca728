//! `lakelab lab cost`: the cost model's comparison without a browser. By
//! default it measures first — the CDC pipeline's processing work per
//! change event and the slow-query ladder's scans, on this machine — and
//! prices the default options from those numbers; `--config FILE` prices
//! the options listed there instead.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use lakelab_labs::cost::batch_cost::{BatchCost, BatchSample};
use lakelab_labs::cost::compare::{Comparison, Report, comparison_for};
use lakelab_labs::cost::dollars;
use lakelab_labs::cost::prices::PriceTable;
use lakelab_labs::cost::workload::ScanWorkload;
use lakelab_protocol::cdc::{CdcConfig, Trigger};
use lakelab_store::LocalStore;
use lakelab_stream::Simulation;
use serde_json::json;

use crate::cdc;

/// The options of `lakelab lab cost`.
#[derive(clap::Args)]
pub struct CostOptions {
    /// cost: price the options in this JSON file (format: the `compare`
    /// module of lakelab-labs) instead of measuring and pricing the defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// cost: an edited price table (JSON) instead of the built-in list prices.
    #[arg(long)]
    pub prices: Option<PathBuf>,
}

/// What the pricing rests on, when measured here.
struct Measured {
    events: u64,
    seconds: f64,
    batch_cost: BatchCost,
    rows: u64,
    scans: Vec<ScanWorkload>,
}

impl Measured {
    fn core_seconds_per_event(&self) -> f64 {
        self.batch_cost.per_event_s
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Runs the CDC pipeline on `lake` at `tps` and returns each batch's change
/// events and the seconds it took (on one core, as the pipeline runs).
async fn measure_cdc(lake: &Path, o: &cdc::Options, tps: u32) -> Result<Vec<BatchSample>, String> {
    std::fs::create_dir_all(lake).map_err(|e| format!("cannot create {}: {e}", lake.display()))?;
    let store = Rc::new(LocalStore::new(lake).map_err(|e| e.to_string())?);
    Simulation::reset(store.as_ref(), "")
        .await
        .map_err(|e| e.to_string())?;
    let config = CdcConfig {
        seed: o.seed,
        tables: o.tables,
        tps,
        partitions: o.partitions,
        max_offsets_per_trigger: None,
        trigger: Trigger::ProcessingTime {
            interval_ms: o.trigger_seconds.max(1) * 1000,
        },
        ..CdcConfig::default()
    };
    let mut sim = Simulation::start(store, "", config)
        .await
        .map_err(|e| e.to_string())?;
    // The initial snapshot first: what is priced is the stream of changes.
    sim.trigger().await.map_err(|e| e.to_string())?;
    let skip = sim.history.len();
    sim.advance((o.minutes * 60_000.0) as u64)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(error) = &sim.error {
        return Err(format!("the pipeline stopped: {error}"));
    }
    Ok(sim.history[skip..]
        .iter()
        .map(|b| BatchSample {
            events: b.num_input_rows,
            seconds: b.trigger_execution_s(),
        })
        .collect())
}

async fn measure(
    lake: &Path,
    o: &cdc::Options,
    rows: u64,
    say: &dyn Fn(String),
) -> Result<Measured, String> {
    say(format!(
        "Measuring the CDC pipeline ({} tables, {} transactions/s, {} simulated minutes)…",
        o.tables, o.tps, o.minutes
    ));
    let mut samples = measure_cdc(&lake.join("cdc"), o, o.tps).await?;
    // A second run at a quarter of the rate gives batches of another size,
    // which separates each batch's fixed cost from the work per event.
    let low = (o.tps / 4).max(1);
    say(format!("…and again at {low} transactions/s."));
    samples.extend(measure_cdc(&lake.join("cdc-low"), o, low).await?);
    let batch_cost =
        BatchCost::fit(&samples).ok_or("the CDC pipeline processed no change events to measure")?;
    let events = samples.iter().map(|s| s.events).sum();
    let seconds = samples.iter().map(|s| s.seconds).sum();
    say(format!("Measuring the slow-query ladder ({rows} rows)…"));
    let quiet = |_: String| {};
    let (_, rungs) = crate::query::climb(&lake.join("query"), rows, &quiet).await?;
    let scans = rungs
        .iter()
        .map(|r| ScanWorkload::measured(&r.step, r.ms, r.scan.bytes_total))
        .collect();
    Ok(Measured {
        events,
        seconds,
        batch_cost,
        rows,
        scans,
    })
}

fn print(report: &Report, measured: Option<&Measured>) {
    if let Some(m) = measured {
        let c = &m.batch_cost;
        let split = if c.separated {
            format!(
                "{:.3} s fixed per batch + {:.2e} core-seconds per event",
                c.per_batch_s, c.per_event_s
            )
        } else {
            format!(
                "{:.2e} core-seconds per event (batches too alike in size to separate a fixed part)",
                c.per_event_s
            )
        };
        println!(
            "\nMeasured here: {} change events in {} batches, {:.2} s of processing = {split}; \
             the query ladder at {} rows.",
            m.events, c.batches, m.seconds, m.rows
        );
    }
    println!(
        "\n{:<58} {:>10} {:>10} {:>11} {:>12}  meets target",
        "option", "per run", "per day", "per month", "latency"
    );
    for r in &report.results {
        println!(
            "{:<58} {:>10} {:>10} {:>11} {:>12}  {}",
            r.name,
            r.cost_per_run.map(dollars).unwrap_or_else(|| "–".into()),
            dollars(r.cost_per_day),
            dollars(r.cost_per_month),
            lakelab_labs::slow_query::human_seconds(r.latency_s),
            match r.meets_target {
                Some(true) => "yes",
                Some(false) => "no",
                None => "–",
            }
        );
    }
    for (what, name) in [
        ("stream", &report.cheapest_stream),
        ("scan", &report.cheapest_scan),
    ] {
        if let Some(name) = name {
            println!("\nCheapest {what} meeting its latency target: {name}");
        }
    }
    if let Some(b) = &report.break_even {
        println!("\nBreak-even: {}", b.explanation);
    }
    // The first assumption is the prices' disclaimer.
    println!("\nAssumptions:");
    for a in &report.assumptions {
        println!("- {a}");
    }
}

fn summary(report: &Report, measured: Option<&Measured>) -> serde_json::Value {
    let options: Vec<serde_json::Value> = report
        .results
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "kind": r.kind,
                "cost_per_run": r.cost_per_run,
                "cost_per_day": r.cost_per_day,
                "cost_per_month": r.cost_per_month,
                "latency_s": r.latency_s,
                "meets_target": r.meets_target,
                "peak_workers": r.peak_workers,
            })
        })
        .collect();
    json!({
        "measured": measured.map(|m| json!({
            "events": m.events,
            "seconds": m.seconds,
            "core_seconds_per_event": m.core_seconds_per_event(),
            "batch_cost": m.batch_cost,
            "query_rows": m.rows,
            "scans": m.scans,
        })),
        "options": options,
        "cheapest_stream": report.cheapest_stream,
        "cheapest_scan": report.cheapest_scan,
        "break_even_interval_minutes": report.break_even.as_ref().and_then(|b| b.interval_minutes),
        "break_even": report.break_even.as_ref().map(|b| json!({
            "continuous": b.continuous,
            "available_now": b.available_now,
            "interval_minutes": b.interval_minutes,
            "explanation": b.explanation,
        })),
    })
}

pub async fn run(lake: &Path, o: CostOptions, cdc: &cdc::Options, rows: u64) -> Result<(), String> {
    let say = |line: String| {
        if !cdc.json {
            println!("{line}");
        }
    };
    let prices = match &o.prices {
        Some(path) => PriceTable::from_json(&read(path)?).map_err(|e| e.to_string())?,
        None => PriceTable::default(),
    };
    let (comparison, measured) = match &o.config {
        Some(path) => (
            Comparison::from_json(&read(path)?).map_err(|e| e.to_string())?,
            None,
        ),
        None => {
            let m = measure(lake, cdc, rows, &say).await?;
            (
                comparison_for(m.core_seconds_per_event(), &m.scans),
                Some(m),
            )
        }
    };
    let report = comparison.run(&prices).map_err(|e| e.to_string())?;
    if cdc.json {
        println!("{}", summary(&report, measured.as_ref()));
    } else {
        print(&report, measured.as_ref());
    }
    Ok(())
}
