//! The late-events lab's run, kept by the worker between requests. It
//! writes through the worker's own engine, so the console sees its tables at
//! once. The run is not saved: it is cheap to start again, and the stream is
//! seeded.

use super::aggregate::Fate;
use super::reconcile::{FAST, SLOW, run_both};
use super::sink::{QUARANTINE, Sink, VIEW as SINK_VIEW};
use super::truth::{Truth, compare, truth};
use super::{LateRun, describe_window, read};
use crate::error::StreamError;
use lakelab_engine::Engine;
use lakelab_protocol::late::{
    HOUR_MS, LateCommand, LateConfig, LateView, MINUTE_MS, OutputMode, PointFate, QuarantineRow,
    Reconciled, SweepPoint, TimelinePoint, format_duration,
};
use lakelab_protocol::notebook::{Notebook, python_string};

/// The sink the lab's query writes.
pub use lakelab_protocol::late::METRICS;
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
            notebook: notebook(&run.config),
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

/// The aggregation as it would run on Databricks (`events` is the stream).
fn aggregation(config: &LateConfig) -> String {
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
         approx_count_distinct(\"user_id\").alias(\"approx_users\"),\n         sum(\"value\").alias(\"value_sum\"))\n    \
         .select(F.col(\"window.start\").alias(\"window_start\"), F.col(\"window.end\").alias(\"window_end\"),\n            \
         \"event_type\", \"events\", \"approx_users\", \"value_sum\"))",
        describe_window(config.window)
            .replace("window(event_time", "window(\"event_time\"")
            .replace('\'', "\""),
    )
}

/// The query as it would run on Databricks.
fn pyspark(config: &LateConfig) -> String {
    format!(
        "{}\n(metrics.writeStream\n    .outputMode(\"{}\")\n    .option(\"maxOffsetsPerTrigger\", {})\n    \
         .toTable(\"{METRICS}\"))",
        aggregation(config),
        config.mode.name(),
        config.batch_rows
    )
}

/// The lab's query as a Databricks notebook: the app events read from
/// Kafka with the SDK's schema, the guard against impossible timestamps,
/// the aggregation, and a sink for the output mode chosen (update mode
/// MERGEs each batch into the Delta table, as Lakelab's sink does).
pub fn notebook(config: &LateConfig) -> Notebook {
    let guard = config.max_future_ms.map_or(String::new(), |ms| {
        format!(
            "\n# Quarantined, not read: no event time, or one more than {} past its arrival.\n\
             bad = F.col(\"event_time\").isNull() | (F.col(\"event_time\") > F.col(\"arrival_time\") + F.expr(\"INTERVAL {} SECONDS\"))\n\
             (parsed.where(bad).select(\"offset\", \"arrival_time\", F.col(\"raw\"), F.lit(\"event time missing or in the future\").alias(\"reason\"))\n    \
             .writeStream.option(\"checkpointLocation\", CHECKPOINT + \"/quarantine\").toTable(\"{QUARANTINE}\"))\n\
             events = parsed.where(~bad)",
            format_duration(ms),
            ms / 1000
        )
    });
    let events = if guard.is_empty() {
        "\nevents = parsed.where(F.col(\"event_time\").isNotNull())".to_owned()
    } else {
        guard
    };
    let sink = match config.mode {
        OutputMode::Update => format!(
            "def merge_batch(batch, batch_id):\n    \
                 batch.createOrReplaceTempView(\"{SINK_VIEW}\")\n    \
                 batch.sparkSession.sql({})\n\n\
                 (metrics.writeStream\n    .outputMode(\"update\")\n    .foreachBatch(merge_batch)\n    \
                 .option(\"checkpointLocation\", CHECKPOINT + \"/metrics\")\n    .start())",
            python_string(&Sink::write_sql_for(METRICS, OutputMode::Update))
        ),
        mode => format!(
            "(metrics.writeStream\n    .outputMode(\"{}\")\n    \
                 .option(\"checkpointLocation\", CHECKPOINT + \"/metrics\")\n    .toTable(\"{METRICS}\"))",
            mode.name()
        ),
    };
    Notebook::new("lakelab_late_events")
        .markdown(format!(
            "# Late-arriving events: counts per event-time window\n\
             Generated by Lakelab from the late-events lab's settings: window {}, watermark {}, \
             {} mode, dropDuplicates {}, {} records per batch, future timestamps {}.",
            config.window.label(),
            config.watermark_ms.map_or("none".into(), format_duration),
            config.mode.name(),
            if config.dedupe { "on" } else { "off" },
            config.batch_rows,
            if config.max_future_ms.is_some() { "quarantined" } else { "trusted" }
        ))
        .python(format!(
            "from pyspark.sql import functions as F\n\
             from pyspark.sql.functions import approx_count_distinct, count, sum, window\n\n\
             BOOTSTRAP = \"broker-1:9092\"  # your Kafka\n\
             CHECKPOINT = \"/Volumes/main/lakelab/checkpoints/late\"\n\
             SDK = \"event_id STRING, user_id STRING, event_type STRING, event_time STRING, \
             properties STRUCT<value: DOUBLE>\"\n\n\
             parsed = (spark.readStream.format(\"kafka\")\n    \
             .option(\"kafka.bootstrap.servers\", BOOTSTRAP)\n    \
             .option(\"subscribe\", \"app_events\")\n    \
             .option(\"maxOffsetsPerTrigger\", {})\n    \
             .load()\n    \
             .select(F.col(\"offset\"), F.col(\"timestamp\").alias(\"arrival_time\"),\n            \
             F.col(\"value\").cast(\"string\").alias(\"raw\"))\n    \
             .select(\"*\", F.from_json(\"raw\", SDK).alias(\"e\"))\n    \
             .select(\"offset\", \"arrival_time\", \"raw\", \"e.event_id\", \"e.user_id\", \"e.event_type\",\n            \
             F.to_timestamp(\"e.event_time\").alias(\"event_time\"), F.col(\"e.properties.value\").alias(\"value\")))\n{events}",
            config.batch_rows
        ))
        .sql(format!(
            "CREATE TABLE IF NOT EXISTS {METRICS} (window_start TIMESTAMP, window_end TIMESTAMP, \
             event_type STRING, events BIGINT, approx_users BIGINT, value_sum DOUBLE) USING DELTA"
        ))
        .python(format!("{}\n\n{sink}", aggregation(config)))
        .markdown(
            "Watch `numRowsDroppedByWatermark` and the state's size in the query's progress; \
             recompute from Bronze whatever arrives later than the watermark.",
        )
}
