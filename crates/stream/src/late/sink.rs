//! Writing a windowed query's output into Delta, as Spark's Delta sink does
//! per output mode: append → INSERT, update → MERGE on the window and the
//! event type, complete → INSERT OVERWRITE. Each batch's write carries the
//! transaction (query id, batch id), so a re-run batch writes nothing twice.
//! Quarantined records are appended to their own table.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use lakelab_engine::Engine;
use lakelab_protocol::late::OutputMode;

use super::aggregate::WindowRow;
use super::read::Quarantined;
use crate::error::Result;
use crate::pipeline::run;

/// The quarantine table of a lab's lake.
pub use lakelab_protocol::late::QUARANTINE;
pub const VIEW: &str = "late_batch";

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

fn millis(values: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from_iter_values(values).with_timezone("UTC"))
}

/// The windowed metrics' columns.
pub fn window_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("window_start", timestamp(), false),
        Field::new("window_end", timestamp(), false),
        Field::new("event_type", DataType::Utf8, false),
        Field::new("events", DataType::Int64, false),
        Field::new("users", DataType::Int64, false),
        Field::new("approx_users", DataType::Int64, false),
        Field::new("value_sum", DataType::Float64, false),
    ]))
}

pub fn window_batch(rows: &[WindowRow]) -> Result<RecordBatch> {
    let ints = |f: fn(&WindowRow) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(rows.iter().map(f)))
    };
    Ok(RecordBatch::try_new(
        window_schema(),
        vec![
            millis(rows.iter().map(|r| r.window_start_ms)),
            millis(rows.iter().map(|r| r.window_end_ms)),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.event_type.as_str()),
            )),
            ints(|r| r.events),
            ints(|r| r.users),
            ints(|r| r.approx_users),
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| r.value_sum),
            )),
        ],
    )?)
}

fn quarantine_batch(rows: &[Quarantined]) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("offset", DataType::Int64, false),
        Field::new("arrival_time", timestamp(), false),
        Field::new("raw", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.offset as i64),
            )),
            millis(rows.iter().map(|r| r.arrival_ms)),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.raw.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.reason.as_str()),
            )),
        ],
    )?)
}

/// A Delta table the query writes.
pub struct Sink {
    pub table: String,
    pub mode: OutputMode,
    /// The transaction's appId.
    pub query_id: String,
}

impl Sink {
    /// Creates the sink table (and the quarantine table) if missing.
    pub async fn open(engine: &Engine, table: &str, mode: OutputMode) -> Result<Sink> {
        run(
            engine,
            &format!(
                "CREATE TABLE IF NOT EXISTS {table} (window_start TIMESTAMP NOT NULL, \
                 window_end TIMESTAMP NOT NULL, event_type STRING NOT NULL, events BIGINT NOT NULL, \
                 users BIGINT NOT NULL, approx_users BIGINT NOT NULL, value_sum DOUBLE NOT NULL) USING DELTA"
            ),
        )
        .await?;
        run(
            engine,
            &format!(
                "CREATE TABLE IF NOT EXISTS {QUARANTINE} (`offset` BIGINT NOT NULL, arrival_time TIMESTAMP NOT NULL, \
                 raw STRING NOT NULL, reason STRING NOT NULL) USING DELTA"
            ),
        )
        .await?;
        Ok(Sink {
            table: table.to_owned(),
            mode,
            query_id: format!("late-events:{table}"),
        })
    }

    /// The SQL that writes a batch's output (registered as the view).
    pub fn write_sql(&self) -> String {
        Sink::write_sql_for(&self.table, self.mode)
    }

    /// The SQL that writes a batch's output (registered as [`VIEW`]) to
    /// table `t` in `mode`.
    pub fn write_sql_for(t: &str, mode: OutputMode) -> String {
        match mode {
            OutputMode::Append => format!("INSERT INTO {t} SELECT * FROM {VIEW}"),
            OutputMode::Update => format!(
                "MERGE INTO {t} AS t USING {VIEW} AS s \
                 ON t.window_start = s.window_start AND t.event_type = s.event_type \
                 WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
            ),
            OutputMode::Complete => format!("INSERT OVERWRITE {t} SELECT * FROM {VIEW}"),
        }
    }

    /// Writes batch `batch_id`'s output and quarantined records, each once.
    pub async fn write(
        &self,
        engine: &Engine,
        batch_id: i64,
        rows: &[WindowRow],
        quarantined: &[Quarantined],
    ) -> Result<()> {
        run(
            engine,
            &format!(
                "SET spark.databricks.delta.write.txnAppId = '{}'",
                self.query_id
            ),
        )
        .await?;
        run(
            engine,
            &format!("SET spark.databricks.delta.write.txnVersion = {batch_id}"),
        )
        .await?;
        let written = async {
            // Complete mode overwrites even with no rows; the others have nothing to do.
            if !rows.is_empty() || self.mode == OutputMode::Complete {
                engine.register_batches(VIEW, window_schema(), vec![window_batch(rows)?])?;
                run(engine, &self.write_sql()).await?;
            }
            if !quarantined.is_empty() {
                let batch = quarantine_batch(quarantined)?;
                engine.register_batches(VIEW, batch.schema(), vec![batch])?;
                run(
                    engine,
                    &format!("INSERT INTO {QUARANTINE} SELECT * FROM {VIEW}"),
                )
                .await?;
            }
            Ok(())
        }
        .await;
        run(engine, "SET spark.databricks.delta.write.txnAppId = ''").await?;
        engine.deregister_batches(VIEW)?;
        written
    }
}
