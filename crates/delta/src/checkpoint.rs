//! Classic single-file Parquet checkpoints: the table state at a version in
//! one file, so readers need not replay every commit.
//!
//! Actions go to and from Arrow through `arrow-json` with the checkpoint
//! schema of PROTOCOL.md, so the JSON and Parquet forms share one decoder.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use arrow::json::writer::LineDelimited;
use arrow::json::{ReaderBuilder, WriterBuilder};
use bytes::Bytes;
use lakelab_store::Store;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};

use crate::actions::{Action, Remove};
use crate::error::{DeltaError, Result};
use crate::log::{checkpoint_path, last_checkpoint_path};
use crate::snapshot::Snapshot;

fn string_map(name: &str) -> Field {
    let entries = Field::new(
        "key_value",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    );
    Field::new(name, DataType::Map(Arc::new(entries), false), true)
}

fn string_list(name: &str) -> Field {
    Field::new_list(name, Field::new("element", DataType::Utf8, true), true)
}

fn structure(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), true)
}

fn checkpoint_schema() -> SchemaRef {
    use DataType::{Boolean, Int32, Int64, Utf8};
    Arc::new(Schema::new(vec![
        structure(
            "txn",
            vec![
                Field::new("appId", Utf8, true),
                Field::new("version", Int64, true),
                Field::new("lastUpdated", Int64, true),
            ],
        ),
        structure(
            "add",
            vec![
                Field::new("path", Utf8, true),
                string_map("partitionValues"),
                Field::new("size", Int64, true),
                Field::new("modificationTime", Int64, true),
                Field::new("dataChange", Boolean, true),
                Field::new("stats", Utf8, true),
                string_map("tags"),
                Field::new("clusteringProvider", Utf8, true),
            ],
        ),
        structure(
            "remove",
            vec![
                Field::new("path", Utf8, true),
                Field::new("deletionTimestamp", Int64, true),
                Field::new("dataChange", Boolean, true),
                Field::new("extendedFileMetadata", Boolean, true),
                string_map("partitionValues"),
                Field::new("size", Int64, true),
            ],
        ),
        structure(
            "metaData",
            vec![
                Field::new("id", Utf8, true),
                Field::new("name", Utf8, true),
                Field::new("description", Utf8, true),
                structure(
                    "format",
                    vec![Field::new("provider", Utf8, true), string_map("options")],
                ),
                Field::new("schemaString", Utf8, true),
                string_list("partitionColumns"),
                string_map("configuration"),
                Field::new("createdTime", Int64, true),
            ],
        ),
        structure(
            "protocol",
            vec![
                Field::new("minReaderVersion", Int32, true),
                Field::new("minWriterVersion", Int32, true),
                string_list("readerFeatures"),
                string_list("writerFeatures"),
            ],
        ),
        structure(
            "domainMetadata",
            vec![
                Field::new("domain", Utf8, true),
                Field::new("configuration", Utf8, true),
                Field::new("removed", Boolean, true),
            ],
        ),
    ]))
}

/// The actions a checkpoint of `snapshot` holds.
fn checkpoint_actions(snapshot: &Snapshot) -> Vec<Action> {
    let mut actions = vec![
        Action::Protocol(snapshot.protocol.clone()),
        Action::Metadata(snapshot.metadata.clone()),
    ];
    let mut txns: Vec<_> = snapshot.txns.iter().collect();
    txns.sort();
    actions.extend(txns.into_iter().map(|(app, &version)| {
        Action::Txn(crate::actions::Txn {
            app_id: app.clone(),
            version,
            last_updated: None,
        })
    }));
    actions.extend(snapshot.domains.iter().map(|(domain, configuration)| {
        Action::DomainMetadata(crate::actions::DomainMetadata {
            domain: domain.clone(),
            configuration: configuration.clone(),
            removed: false,
        })
    }));
    actions.extend(snapshot.files.values().map(|add| {
        let mut add = add.clone();
        add.data_change = false;
        Action::Add(add)
    }));
    actions.extend(snapshot.tombstones.values().map(|r| {
        Action::Remove(Remove {
            data_change: false,
            ..r.clone()
        })
    }));
    actions
}

/// Writes the checkpoint of `snapshot` and points `_last_checkpoint` at it.
/// The checkpoint is written whole (an atomic put), so a failure leaves
/// either no checkpoint or a complete one; readers never need it.
pub async fn write_checkpoint(store: &dyn Store, root: &str, snapshot: &Snapshot) -> Result<()> {
    let actions = checkpoint_actions(snapshot);
    let rows = actions
        .iter()
        .map(|a| Ok(serde_json::from_str::<Value>(&a.to_json()?)?))
        .collect::<Result<Vec<Value>>>()?;
    let schema = checkpoint_schema();
    let mut decoder = ReaderBuilder::new(schema.clone()).build_decoder()?;
    decoder.serialize(&rows)?;
    let batch = decoder
        .flush()?
        .ok_or_else(|| DeltaError::Invalid("empty checkpoint".into()))?;
    let mut buffer = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buffer, schema, None)?;
    writer.write(&batch)?;
    writer.close()?;
    let size_in_bytes = buffer.len();
    store
        .put(
            &checkpoint_path(root, snapshot.version),
            Bytes::from(buffer),
        )
        .await?;
    let last = json!({
        "version": snapshot.version,
        "size": rows.len(),
        "sizeInBytes": size_in_bytes,
        "numOfAddFiles": snapshot.files.len(),
    });
    store
        .put(&last_checkpoint_path(root), Bytes::from(last.to_string()))
        .await?;
    Ok(())
}

/// The actions of the checkpoint at `version`.
pub async fn read_checkpoint(store: &dyn Store, root: &str, version: i64) -> Result<Vec<Action>> {
    let path = checkpoint_path(root, version);
    let bytes = store.get(&path).await?;
    let corrupt = |e: &dyn std::fmt::Display| DeltaError::CorruptLog {
        file: path.clone(),
        reason: e.to_string(),
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|b| b.build())
        .map_err(|e| corrupt(&e))?;
    let mut json = Vec::new();
    {
        let mut writer = WriterBuilder::new()
            .with_explicit_nulls(false)
            .build::<_, LineDelimited>(&mut json);
        for batch in reader {
            writer.write(&batch.map_err(|e| corrupt(&e))?)?;
        }
        writer.finish()?;
    }
    let mut actions = Vec::new();
    for line in json.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let Value::Object(object) = serde_json::from_slice(line).map_err(|e| corrupt(&e))? else {
            return Err(corrupt(&"a row is not an object"));
        };
        actions.extend(Action::from_value(object, &path)?);
    }
    Ok(actions)
}
