//! DESCRIBE HISTORY, DESCRIBE DETAIL and EXPLAIN's scan lines, with the
//! columns Databricks shows.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Int32Array, Int64Builder, ListBuilder, MapBuilder, RecordBatch,
    StringArray, StringBuilder, TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::SchemaRef;
use lakelab_delta::{Snapshot, Table};
use serde_json::Value;

use crate::provider::Reports;
use crate::{Output, Result};

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn map_column(rows: &[Option<&serde_json::Map<String, Value>>]) -> Result<ArrayRef> {
    let mut builder = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for row in rows {
        if let Some(map) = row {
            for (k, v) in *map {
                builder.keys().append_value(k);
                builder.values().append_value(text(v));
            }
        }
        builder.append(row.is_some())?;
    }
    Ok(Arc::new(builder.finish()))
}

pub(crate) async fn history(name: &str, table: &Table, limit: Option<usize>) -> Result<Output> {
    let commits = table.history(limit).await?;
    let mut version = Int64Builder::new();
    let mut timestamp = TimestampMillisecondBuilder::new().with_timezone("+00:00");
    let mut operation = StringBuilder::new();
    let mut read_version = Int64Builder::new();
    let mut isolation = StringBuilder::new();
    let mut blind = BooleanBuilder::new();
    let mut engine = StringBuilder::new();
    let (mut parameters, mut metrics) = (Vec::new(), Vec::new());
    for (v, info) in &commits {
        let get = |k: &str| info.0.get(k);
        version.append_value(*v);
        timestamp.append_option(info.timestamp());
        operation.append_option(info.operation());
        read_version.append_option(get("readVersion").and_then(Value::as_i64));
        isolation.append_option(get("isolationLevel").and_then(Value::as_str));
        blind.append_option(get("isBlindAppend").and_then(Value::as_bool));
        engine.append_option(get("engineInfo").and_then(Value::as_str));
        parameters.push(get("operationParameters").and_then(Value::as_object));
        metrics.push(get("operationMetrics").and_then(Value::as_object));
    }
    let nulls = || Arc::new(StringArray::from(vec![None::<&str>; commits.len()])) as ArrayRef;
    let batch = RecordBatch::try_from_iter(vec![
        ("version", Arc::new(version.finish()) as ArrayRef),
        ("timestamp", Arc::new(timestamp.finish())),
        ("userId", nulls()),
        ("userName", nulls()),
        ("operation", Arc::new(operation.finish())),
        ("operationParameters", map_column(&parameters)?),
        ("readVersion", Arc::new(read_version.finish())),
        ("isolationLevel", Arc::new(isolation.finish())),
        ("isBlindAppend", Arc::new(blind.finish())),
        ("operationMetrics", map_column(&metrics)?),
        ("userMetadata", nulls()),
        ("engineInfo", Arc::new(engine.finish())),
    ])?;
    let message = format!("{} versions of {name}", commits.len());
    Ok(Output::rows(batch, message))
}

fn string_list(values: &[String]) -> ArrayRef {
    let mut builder = ListBuilder::new(StringBuilder::new());
    for v in values {
        builder.values().append_value(v);
    }
    builder.append(true);
    Arc::new(builder.finish())
}

pub(crate) fn detail(name: &str, table: &Table, snapshot: &Snapshot) -> Result<Output> {
    let m = &snapshot.metadata;
    let mut properties = serde_json::Map::new();
    for (k, v) in &m.configuration {
        properties.insert(
            k.clone(),
            v.clone().map(Value::String).unwrap_or(Value::Null),
        );
    }
    let mut features: Vec<String> = Vec::new();
    features.extend(snapshot.protocol.reader_features.iter().flatten().cloned());
    features.extend(snapshot.protocol.writer_features.iter().flatten().cloned());
    if m.configuration
        .keys()
        .any(|k| k.starts_with("delta.constraints."))
    {
        features.push("checkConstraints".into());
    }
    features.sort();
    features.dedup();
    let ts = |ms: Option<i64>| {
        let mut b = TimestampMillisecondBuilder::new().with_timezone("+00:00");
        b.append_option(ms);
        Arc::new(b.finish()) as ArrayRef
    };
    let one = |s: Option<&str>| Arc::new(StringArray::from(vec![s])) as ArrayRef;
    let long = |v: i64| {
        let mut b = Int64Builder::new();
        b.append_value(v);
        Arc::new(b.finish()) as ArrayRef
    };
    let batch = RecordBatch::try_from_iter(vec![
        ("format", one(Some("delta"))),
        ("id", one(Some(&m.id))),
        ("name", one(Some(name))),
        ("description", one(m.description.as_deref())),
        ("location", one(Some(table.root()))),
        ("createdAt", ts(m.created_time)),
        ("lastModified", ts(snapshot.timestamp)),
        ("partitionColumns", string_list(&m.partition_columns)),
        (
            "clusteringColumns",
            string_list(&lakelab_delta::clustering::columns(snapshot)?.unwrap_or_default()),
        ),
        ("numFiles", long(snapshot.files.len() as i64)),
        ("sizeInBytes", long(snapshot.size_in_bytes())),
        ("properties", map_column(&[Some(&properties)])?),
        (
            "minReaderVersion",
            Arc::new(Int32Array::from(vec![snapshot.protocol.min_reader_version])),
        ),
        (
            "minWriterVersion",
            Arc::new(Int32Array::from(vec![snapshot.protocol.min_writer_version])),
        ),
        ("tableFeatures", string_list(&features)),
    ])?;
    Ok(Output::rows(
        batch,
        format!("{name} at version {}", snapshot.version),
    ))
}

/// EXPLAIN's extra rows: what each Delta scan read and skipped.
pub(crate) fn scan_rows(schema: &SchemaRef, reports: &Reports) -> Result<Vec<RecordBatch>> {
    let lines: Vec<String> = reports
        .lock()
        .map(|r| r.iter().map(|s| format!("DeltaScan: {s}")).collect())
        .unwrap_or_default();
    if lines.is_empty() || schema.fields().len() != 2 {
        return Ok(Vec::new());
    }
    let kinds = StringArray::from(vec!["delta_scan"; lines.len()]);
    let plans = StringArray::from(lines);
    Ok(vec![RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(kinds), Arc::new(plans)],
    )?])
}

/// DESCRIBE FILES: one row per data file of a version.
pub(crate) fn files(name: &str, snapshot: &Snapshot) -> Result<Output> {
    let mut path = StringBuilder::new();
    let mut partition = StringBuilder::new();
    let mut size = Int64Builder::new();
    let mut records = Int64Builder::new();
    let mut modified = TimestampMillisecondBuilder::new().with_timezone("+00:00");
    let mut stats = StringBuilder::new();
    let mut clustering = StringBuilder::new();
    for add in snapshot.files.values() {
        stats.append_option(add.stats.as_deref());
        clustering.append_option(add.clustering_provider.as_deref());
        path.append_value(&add.path);
        let values: Vec<String> = add
            .partition_values
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null")))
            .collect();
        partition.append_value(values.join(", "));
        size.append_value(add.size);
        records.append_option(lakelab_delta::stats::num_records(add));
        modified.append_value(add.modification_time);
    }
    let batch = RecordBatch::try_from_iter(vec![
        ("path", Arc::new(path.finish()) as ArrayRef),
        ("partitionValues", Arc::new(partition.finish())),
        ("size", Arc::new(size.finish())),
        ("numRecords", Arc::new(records.finish())),
        ("modificationTime", Arc::new(modified.finish())),
        ("stats", Arc::new(stats.finish())),
        ("clusteringProvider", Arc::new(clustering.finish())),
    ])?;
    Ok(Output::rows(
        batch,
        format!(
            "{} files in {name} at version {}",
            snapshot.files.len(),
            snapshot.version
        ),
    ))
}
