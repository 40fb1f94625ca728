//! `lakelab lab cdc`: the CDC pipeline in simulated time, without a
//! browser: per-batch progress, then the proof (Silver against MySQL,
//! Bronze against Kafka) and the throughput measured.

use std::path::Path;
use std::rc::Rc;

use lakelab_protocol::cdc::{CdcConfig, Trigger};
use lakelab_store::{LocalStore, Store};
use lakelab_stream::Simulation;

/// The options of `lakelab lab cdc` (ignored by the other labs).
#[derive(clap::Args)]
pub struct Options {
    /// cdc: source tables (3 to 50).
    #[arg(long, default_value_t = 50)]
    pub tables: usize,
    /// cdc: MySQL transactions per simulated second.
    #[arg(long, default_value_t = 1000)]
    pub tps: u32,
    /// cdc: simulated minutes to run.
    #[arg(long, default_value_t = 1.0)]
    pub minutes: f64,
    /// cdc: partitions per Kafka topic.
    #[arg(long, default_value_t = 3)]
    pub partitions: u32,
    /// cdc: the processing-time trigger's interval, in simulated seconds
    /// (30: the scenario's Bronze trigger).
    #[arg(long, default_value_t = 30)]
    pub trigger_seconds: u64,
    /// cdc: crash the consumer every N batches (at each crash point in turn).
    #[arg(long)]
    pub crash_every: Option<u32>,
    /// cdc: Debezium re-sends events after restarts (duplicates in Kafka).
    #[arg(long)]
    pub redeliver: bool,
    /// cdc, late-events: the simulation's seed.
    #[arg(long, default_value_t = 20240115)]
    pub seed: u64,
    /// cdc, late-events: end with one JSON object with the results.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(lake: &Path, o: Options) -> Result<(), String> {
    std::fs::create_dir_all(lake).map_err(|e| format!("cannot create {}: {e}", lake.display()))?;
    let store: Rc<dyn Store> =
        Rc::new(LocalStore::new(lake).map_err(|e| format!("cannot open {}: {e}", lake.display()))?);
    Simulation::reset(store.as_ref(), "")
        .await
        .map_err(|e| e.to_string())?;
    let trigger_seconds = o.trigger_seconds.max(1);
    let config = CdcConfig {
        seed: o.seed,
        tables: o.tables,
        tps: o.tps,
        partitions: o.partitions,
        redeliver: o.redeliver,
        // Spark's `maxOffsetsPerTrigger`, sized to one trigger's input (a
        // transaction is one to three change events, plus tombstones).
        max_offsets_per_trigger: Some((o.tps as u64 * trigger_seconds * 3).max(1_000)),
        trigger: Trigger::ProcessingTime {
            interval_ms: trigger_seconds * 1000,
        },
        ..CdcConfig::default()
    };
    let mut sim = Simulation::start(store, "", config)
        .await
        .map_err(|e| e.to_string())?;
    sim.crash_every = o.crash_every;
    let say = |line: String| {
        if !o.json {
            println!("{line}");
        }
    };
    say(format!(
        "CDC: {} tables, {} transactions/s, {} partitions per topic, {} simulated minutes",
        sim.mysql.tables.len(),
        o.tps,
        o.partitions,
        o.minutes
    ));
    let until = (o.minutes * 60_000.0) as u64;
    let mut shown = 0;
    while (sim.now_ms - lakelab_stream::mysql::START_MS) < until as i64 {
        sim.trigger().await.map_err(|e| e.to_string())?;
        if let Some(error) = &sim.error {
            return Err(format!("the pipeline stopped: {error}"));
        }
        for b in &sim.history[shown..] {
            say(format!(
                "batch {:>4}{} {:>7} rows  in {:>9.0}/s  processed {:>9.0}/s  {:>7.1} ms  lag {}",
                b.batch_id,
                if b.replayed { " (re-run)" } else { "" },
                b.num_input_rows,
                b.input_rows_per_second,
                b.processed_rows_per_second,
                b.duration_ms
                    .get("triggerExecution")
                    .copied()
                    .unwrap_or(0.0),
                b.lag
            ));
        }
        shown = sim.history.len();
    }
    for crash in &sim.crashes {
        say(format!("crash: {crash}"));
    }
    let v = sim.verify().await.map_err(|e| e.to_string())?;
    let total = |key: &str| -> f64 {
        sim.history
            .iter()
            .filter_map(|b| b.duration_ms.get(key))
            .sum::<f64>()
            / 1000.0
    };
    let events: u64 = sim.history.iter().map(|b| b.num_input_rows).sum();
    let rate = |seconds: f64| {
        if seconds > 0.0 {
            events as f64 / seconds
        } else {
            0.0
        }
    };
    let (all, bronze, silver) = (
        rate(total("triggerExecution")),
        rate(total("bronze")),
        rate(total("silver")),
    );
    let phases = [
        "getBatch",
        "bronze",
        "silver",
        "gold",
        "walCommit",
        "commitOffsets",
    ];
    let per_batch: Vec<String> = phases
        .iter()
        .map(|p| {
            format!(
                "{p} {:.0}",
                total(p) * 1000.0 / sim.history.len().max(1) as f64
            )
        })
        .collect();
    say(format!("mean ms per batch: {}", per_batch.join(", ")));
    for t in v.tables.iter().filter(|t| t.mismatched_rows > 0) {
        say(format!(
            "{}: {} rows differ from {} (keys {:?})",
            t.silver_table, t.mismatched_rows, t.source_table, t.sample_keys
        ));
    }
    say(format!(
        "\nSilver: {} tables, {} mismatched rows; Bronze: {} rows for {} Kafka records, {} duplicated, {} missing; Gold: {} rows differ",
        v.silver_tables,
        v.mismatched_rows,
        v.bronze_rows,
        v.kafka_records,
        v.bronze_duplicates,
        v.bronze_missing,
        v.gold_mismatched_rows
    ));
    say(format!(
        "{} — {events} change events in {} batches, {} crashes; {all:.0} events/s end to end, \
         {bronze:.0}/s through Bronze, {silver:.0}/s through the Silver MERGEs",
        if v.identical {
            "IDENTICAL"
        } else {
            "DIFFERENT"
        },
        sim.history.len(),
        sim.crashes.len()
    ));
    if o.json {
        println!(
            "{}",
            serde_json::json!({
                "identical": v.identical,
                "silver_tables": v.silver_tables,
                "mismatched_rows": v.mismatched_rows,
                "bronze_rows": v.bronze_rows,
                "kafka_records": v.kafka_records,
                "bronze_duplicates": v.bronze_duplicates,
                "bronze_missing": v.bronze_missing,
                "gold_mismatched_rows": v.gold_mismatched_rows,
                "crashes": sim.crashes.len(),
                "redelivered": sim.connector.redelivered,
                "batches": sim.history.len(),
                "events": events,
                "events_per_sec": all,
                "bronze_events_per_sec": bronze,
                "silver_events_per_sec": silver,
            })
        );
    }
    if v.identical {
        Ok(())
    } else {
        Err("Silver, Bronze or Gold differ from the source".into())
    }
}
