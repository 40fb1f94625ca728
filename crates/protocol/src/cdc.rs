//! What the CDC lab shows: its settings, each micro-batch's progress (shaped
//! like Spark's `StreamingQueryProgress`), the Kafka view and the proof that
//! Silver equals the source database. The stream crate fills these in; the
//! UI only reads them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How the simulated source and the pipeline run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdcConfig {
    pub seed: u64,
    /// Source tables: `sales.orders`, `sales.customers`, `sales.products`,
    /// then generated ones (at most 50).
    pub tables: usize,
    /// MySQL transactions per simulated second.
    pub tps: u32,
    /// Partitions of each Kafka topic.
    pub partitions: u32,
    /// Spark's `maxOffsetsPerTrigger` (records per micro-batch, all topics).
    pub max_offsets_per_trigger: Option<u64>,
    pub trigger: Trigger,
    /// Debezium re-sends what it emitted since its last offset flush after
    /// each connector restart (at-least-once delivery): Kafka gets duplicates.
    pub redeliver: bool,
    /// Debezium's `ExtractNewRecordState` transform (flat rows with `__op`,
    /// `__deleted`, `__file`, `__pos`, `__row`) instead of the full envelope.
    pub unwrap: bool,
    /// Spark's `startingOffsets` for a query without a checkpoint.
    pub starting_offsets: StartingOffsets,
    /// Rows each source table starts with (the initial snapshot's size).
    pub initial_rows: usize,
}

impl Default for CdcConfig {
    fn default() -> Self {
        CdcConfig {
            seed: 20240115,
            tables: 8,
            tps: 200,
            partitions: 3,
            max_offsets_per_trigger: Some(10_000),
            trigger: Trigger::ProcessingTime { interval_ms: 5_000 },
            redeliver: false,
            unwrap: false,
            starting_offsets: StartingOffsets::Earliest,
            initial_rows: 100,
        }
    }
}

/// Spark Structured Streaming's triggers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Trigger {
    /// A micro-batch every `interval_ms` of simulated time (or right after
    /// the previous one, if it took longer).
    ProcessingTime { interval_ms: u64 },
    /// Everything available now, in micro-batches of `maxOffsetsPerTrigger`,
    /// then stop; run every `every_ms` by a scheduler (a Databricks job).
    AvailableNow { every_ms: u64 },
    /// `Trigger.Once`: everything available in one batch, every `every_ms`.
    Once { every_ms: u64 },
}

impl Trigger {
    /// Simulated time between two triggers.
    pub fn interval_ms(self) -> u64 {
        match self {
            Trigger::ProcessingTime { interval_ms } => interval_ms,
            Trigger::AvailableNow { every_ms } | Trigger::Once { every_ms } => every_ms,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StartingOffsets {
    Earliest,
    Latest,
}

/// Offsets per topic and partition (partition numbers as strings, as Spark
/// writes them).
pub type Offsets = BTreeMap<String, BTreeMap<String, i64>>;

/// One micro-batch, as Spark's `StreamingQueryProgress` reports it, plus
/// what each layer wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchProgress {
    pub id: String,
    pub name: String,
    /// When the batch ran, in simulated time (ISO-8601).
    pub timestamp: String,
    pub batch_id: i64,
    pub num_input_rows: u64,
    /// Records per simulated second arriving since the previous batch.
    pub input_rows_per_second: f64,
    /// Records per second of measured processing time.
    pub processed_rows_per_second: f64,
    /// Measured durations of the batch's phases, in milliseconds.
    pub duration_ms: BTreeMap<String, f64>,
    pub start_offset: Offsets,
    pub end_offset: Offsets,
    pub latest_offset: Offsets,
    /// Records behind the latest offsets once the batch is done, all topics.
    pub lag: i64,
    pub bronze_rows: u64,
    /// Per Silver table: rows inserted, updated, deleted by its MERGE.
    pub silver: BTreeMap<String, [u64; 3]>,
    pub gold_days: usize,
    /// Set when this batch re-ran one that crashed: what was skipped as
    /// already committed (Delta `txn`).
    pub replayed: bool,
    pub skipped_writes: u64,
    pub dead_letters: u64,
}

impl BatchProgress {
    /// The whole batch's wall time (`durationMs.triggerExecution`), seconds.
    pub fn trigger_execution_s(&self) -> f64 {
        self.duration_ms
            .get("triggerExecution")
            .copied()
            .unwrap_or(0.0)
            / 1000.0
    }
}

/// One topic partition seen from the consumer group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionLag {
    pub topic: String,
    pub partition: u32,
    /// The first offset still kept (retention moves it forward).
    pub log_start: i64,
    /// The offset the next record will get.
    pub end: i64,
    /// The group's committed offset: the next one it will read.
    pub committed: i64,
    pub lag: i64,
}

/// One Silver table against the source database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableCheck {
    pub source_table: String,
    pub silver_table: String,
    pub source_rows: u64,
    pub silver_rows: u64,
    /// Keys whose row differs, or that exist on one side only.
    pub mismatched_rows: u64,
    /// A few of those keys, for the report.
    pub sample_keys: Vec<i64>,
}

/// The proof: Silver against MySQL, Bronze against Kafka, Gold against an
/// aggregation of the source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub identical: bool,
    pub silver_tables: usize,
    pub mismatched_rows: u64,
    pub tables: Vec<TableCheck>,
    /// Kafka records the pipeline has consumed (committed offsets).
    pub kafka_records: u64,
    pub bronze_rows: u64,
    /// Kafka records (topic, partition, offset) Bronze holds more than once.
    pub bronze_duplicates: u64,
    /// Consumed Kafka records Bronze lacks.
    pub bronze_missing: u64,
    /// Gold rows that differ from the same aggregation over MySQL.
    pub gold_mismatched_rows: u64,
}

/// Counts along the pipeline, for the diagram.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub mysql_rows: u64,
    pub transactions: u64,
    pub binlog_events: u64,
    pub gtid: String,
    pub binlog_file: String,
    pub debezium_events: u64,
    pub redelivered: u64,
    pub kafka_records: u64,
    pub topics: usize,
    pub lag: i64,
    pub bronze_rows: u64,
    pub silver_tables: usize,
    pub silver_rows: u64,
    pub gold_rows: u64,
    pub dead_letters: u64,
}

/// Everything the CDC lab page draws, after each command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdcView {
    pub config: CdcConfig,
    /// Simulated time since the source started, and as a date.
    pub elapsed_ms: u64,
    pub now: String,
    pub counts: Counts,
    /// The latest micro-batches, oldest first.
    pub batches: Vec<BatchProgress>,
    /// Partitions of `sales.orders`' topic.
    pub partitions: Vec<PartitionLag>,
    /// The newest records of `sales.orders`' topic: (partition, offset, key, value).
    pub sample: Vec<(u32, i64, Option<String>, Option<String>)>,
    /// Crashes the consumer went through, and what each one interrupted.
    pub crashes: Vec<String>,
    /// Why the last batch failed, if it did (the pipeline waits for a choice).
    pub error: Option<String>,
    pub verification: Option<Verification>,
    /// The Gold table's newest day: (segment, category, revenue, orders, customers).
    pub gold: Vec<(String, String, String, f64, i64, i64)>,
    /// The MERGE the pipeline runs for `sales.orders`, to read.
    pub merge_sql: String,
    /// The pipeline as a Databricks notebook, for these settings.
    pub notebook: crate::notebook::Notebook,
}

/// What the CDC lab asks the worker to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CdcCommand {
    /// Start over: drop the lab's tables and checkpoint, start the source.
    Start(CdcConfig),
    /// Show the current state (after a reload, the state is rebuilt first).
    Show,
    /// Run `triggers` triggers.
    Step {
        triggers: u32,
    },
    /// Run triggers until `ms` more of simulated time has passed.
    Advance {
        ms: u64,
    },
    /// Kill the consumer in the middle of its next batch; it restarts from
    /// its checkpoint.
    Crash,
    /// Put a malformed Debezium event into `sales.orders`' topic.
    InjectBadEvent,
    /// Resume past bad records, moving them to the dead-letter table.
    SkipBadRecords,
    Verify,
}
