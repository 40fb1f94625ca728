//! The late-events lab's run, kept by the worker between requests. It
//! writes through the worker's own engine, so the console sees its tables at
//! once. The run is not saved: it is cheap to start again, and the stream is
//! seeded.

use super::aggregate::Fate;
use super::reconcile::{FAST, SLOW, run_both};
use super::sink::QUARANTINE;
use super::truth::{Truth, compare, truth};
use super::{LateRun, describe_window, read};
use crate::error::StreamError;
use lakelab_engine::Engine;
use lakelab_protocol::late::{
    HOUR_MS, LateCommand, LateConfig, LateView, MINUTE_MS, OutputMode, PointFate, QuarantineRow,
    Reconciled, SweepPoint, TimelinePoint, format_duration,
};

/// The sink the lab's query writes.
pub const METRICS: &str = "late.metrics";
/// Points the timeline shows at most.
const TIMELINE_POINTS: usize = 1_500;
/// Watermark delays the accuracy chart measures.
const SWEEP_MS: [i64; 8] = [
    MINUTE_MS,
    5 * MINUTE_MS,
    10 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
];

#[derive(Default)]
pub struct LateLab {
    run: Option<LateRun>,
    truth: Truth,
    reconciliation: Vec<Reconciled>,
    threshold_pct: f64,
    sweep: Vec<SweepPoint>,
}

impl LateLab {
    pub async fn handle(
        &mut self,
        engine: &Engine,
        command: LateCommand,
    ) -> Result<(), StreamError> {
        if let LateCommand::Start(config) = command {
            self.run = None;
            reset(engine).await?;
            let mut run = LateRun::new(config.clone())?
                .with_sink(engine, METRICS, true)
                .await?;
            self.truth = truth(engine, &run.stream.events, config.window).await?;
            self.reconciliation.clear();
            self.sweep.clear();
            run.step(Some(engine)).await?;
            self.run = Some(run);
            return Ok(());
        }
        let Some(run) = self.run.as_mut() else {
            return Ok(());
        };
        match command {
            LateCommand::Start(_) | LateCommand::Show => {}
            LateCommand::Step { batches } => {
                for _ in 0..batches {
                    if run.step(Some(engine)).await?.is_none() {
                        break;
                    }
                }
            }
            LateCommand::Reconcile { threshold_pct } => {
                for table in [FAST, SLOW] {
                    engine
                        .execute(&format!("DROP TABLE IF EXISTS {table}"), &mut |_| {})
                        .await?;
                }
                self.reconciliation = run_both(engine, &run.config, threshold_pct).await?.2;
                self.threshold_pct = threshold_pct;
            }
            LateCommand::Sweep => {
                self.sweep.clear();
                for watermark_ms in SWEEP_MS {
                    let config = LateConfig {
                        watermark_ms: Some(watermark_ms),
                        mode: OutputMode::Update,
                        ..run.config.clone()
                    };
                    let mut again = LateRun::over(config, run.stream.clone())?;
                    again.run_to_end(None).await?;
                    self.sweep.push(SweepPoint {
                        watermark_ms,
                        accuracy: again.accuracy(),
                        state_windows_max: again.state_windows_max(),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn view(&self) -> Option<LateView> {
        let run = self.run.as_ref()?;
        let read = run.progress.iter().map(|p| p.num_input_rows).sum::<u64>();
        let deliveries = &run.stream.deliveries;
        let every = deliveries.len().div_ceil(TIMELINE_POINTS).max(1);
        let timeline = deliveries
            .iter()
            .zip(&run.fates)
            .step_by(every)
            .map(|(d, fate)| {
                let event_time_ms = read::read(d, None).ok().map(|e| e.event_time_ms);
                let fate = match fate {
                    Some(Fate::Counted) => PointFate::Counted,
                    Some(Fate::Duplicate) => PointFate::Duplicate,
                    Some(Fate::LateForDedupe | Fate::LateForWindow) => PointFate::Dropped,
                    None if d.offset < read => PointFate::Quarantined,
                    None => PointFate::Pending,
                };
                TimelinePoint {
                    arrival_ms: d.arrival_ms,
                    event_time_ms,
                    fate,
                }
            })
            .collect();
        Some(LateView {
            config: run.config.clone(),
            records: deliveries.len() as u64,
            read,
            progress: run.progress.clone(),
            watermark_ms: run.watermark_ms(),
            timeline,
            windows: compare(&run.windows(), &self.truth, run.config.window),
            dropped: run.dropped(),
            accuracy: run.accuracy(),
            quarantined: run
                .quarantined
                .iter()
                .take(10)
                .map(|q| QuarantineRow {
                    offset: q.offset,
                    reason: q.reason.clone(),
                    raw: q.raw.clone(),
                })
                .collect(),
            quarantined_total: run.quarantined.len() as u64,
            pyspark: pyspark(&run.config),
            sink_sql: run.sink().map(|s| s.write_sql()).unwrap_or_default(),
            reconciliation: self.reconciliation.clone(),
            threshold_pct: self.threshold_pct,
            sweep: self.sweep.clone(),
        })
    }
}

/// Drops the tables of an earlier run: a new run's batch ids start again
/// at 0, and the old transactions would make its writes look done.
pub async fn reset(engine: &Engine) -> Result<(), StreamError> {
    for table in [METRICS, QUARANTINE, FAST, SLOW] {
        engine
            .execute(&format!("DROP TABLE IF EXISTS {table}"), &mut |_| {})
            .await?;
    }
    Ok(())
}

/// The query as it would run on Databricks.
fn pyspark(config: &LateConfig) -> String {
    let watermark = config.watermark_ms.map_or(String::new(), |ms| {
        format!(
            "\n    .withWatermark(\"event_time\", \"{}\")",
            format_duration(ms)
        )
    });
    let dedupe = if config.dedupe {
        // The event time in the key lets the watermark expire the state.
        "\n    .dropDuplicates([\"event_id\", \"event_time\"])"
    } else {
        ""
    };
    format!(
        "metrics = (events{watermark}{dedupe}\n    .groupBy({}, \"event_type\")\n    \
         .agg(count(\"*\").alias(\"events\"),\n         \
         # Spark refuses count_distinct on a stream; Lakelab keeps the exact\n         \
         # count too, to measure the approximation's error.\n         \
         approx_count_distinct(\"user_id\").alias(\"approx_users\"),\n         sum(\"value\").alias(\"value_sum\")))\n\
         (metrics.writeStream\n    .outputMode(\"{}\")\n    .option(\"maxOffsetsPerTrigger\", {})\n    \
         .toTable(\"{METRICS}\"))",
        describe_window(config.window)
            .replace("window(event_time", "window(\"event_time\"")
            .replace('\'', "\""),
        config.mode.name(),
        config.batch_rows
    )
}
