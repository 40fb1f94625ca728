//! Per-file statistics (`add.stats`): numRecords, and minValues, maxValues
//! and nullCount per column, taken from the Parquet footer just written.

use arrow::array::{Array, ArrayRef, RecordBatch, StructArray};
use arrow::compute::{SortOptions, sort_to_indices};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::json::WriterBuilder;
use arrow::json::writer::JsonArray;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::file::metadata::ParquetMetaData;
use serde_json::{Map, Value};

use crate::actions::Add;
use crate::error::Result;

/// Delta's default `delta.dataSkippingNumIndexedCols`.
const INDEXED_COLUMNS: usize = 32;

/// `numRecords` of a file, if its stats say.
pub fn num_records(add: &Add) -> Option<i64> {
    let stats: Value = serde_json::from_str(add.stats.as_deref()?).ok()?;
    stats.get("numRecords")?.as_i64()
}

/// Whether files record min/max values for columns of this type.
pub fn has_min_max(data_type: &DataType) -> bool {
    use DataType::*;
    matches!(
        data_type,
        Int8 | Int16
            | Int32
            | Int64
            | Float32
            | Float64
            | Decimal128(_, _)
            | Utf8
            | Date32
            | Timestamp(_, _)
    )
}

/// The value at the first position of `values` sorted as asked, or `None` if all are null.
fn extreme(values: &ArrayRef, descending: bool) -> Result<Option<ArrayRef>> {
    let options = SortOptions {
        descending,
        nulls_first: false,
    };
    let first = sort_to_indices(values, Some(options), Some(1))?;
    Ok(first
        .values()
        .first()
        .map(|&i| values.slice(i as usize, 1))
        .filter(|v| v.null_count() == 0))
}

/// The stats JSON for a Parquet file with `schema`, described by `metadata`.
pub fn file_stats(schema: &Schema, metadata: &ParquetMetaData) -> Result<String> {
    let parquet_schema = metadata.file_metadata().schema_descr();
    let row_groups = metadata.row_groups();
    let num_records: i64 = row_groups.iter().map(|rg| rg.num_rows()).sum();
    let (mut min_fields, mut mins, mut max_fields, mut maxes) = (vec![], vec![], vec![], vec![]);
    let mut null_count = Map::new();
    for field in schema.fields().iter().take(INDEXED_COLUMNS) {
        if matches!(
            field.data_type(),
            DataType::Struct(_) | DataType::List(_) | DataType::Map(_, _)
        ) {
            continue;
        }
        let converter = StatisticsConverter::try_new(field.name(), schema, parquet_schema)?;
        let nulls: u64 = converter
            .row_group_null_counts(row_groups)?
            .values()
            .iter()
            .sum();
        null_count.insert(field.name().clone(), Value::from(nulls));
        if !has_min_max(field.data_type()) {
            continue;
        }
        let column = Field::new(field.name(), field.data_type().clone(), true);
        if let Some(min) = extreme(&converter.row_group_mins(row_groups)?, false)? {
            min_fields.push(column.clone());
            mins.push(min);
        }
        if let Some(max) = extreme(&converter.row_group_maxes(row_groups)?, true)? {
            max_fields.push(column);
            maxes.push(max);
        }
    }
    let mut stats = Map::new();
    stats.insert("numRecords".into(), Value::from(num_records));
    stats.insert("minValues".into(), one_row_json(min_fields, mins)?);
    stats.insert("maxValues".into(), one_row_json(max_fields, maxes)?);
    stats.insert("nullCount".into(), Value::Object(null_count));
    Ok(Value::Object(stats).to_string())
}

/// Columns of one row each, as a JSON object (Arrow's JSON encoding of each type).
fn one_row_json(fields: Vec<Field>, columns: Vec<ArrayRef>) -> Result<Value> {
    if fields.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let row = StructArray::try_new(fields.into(), columns, None)?;
    let batch = RecordBatch::from(row);
    let mut out = Vec::new();
    let mut writer = WriterBuilder::new().build::<_, JsonArray>(&mut out);
    writer.write(&batch)?;
    writer.finish()?;
    drop(writer);
    let mut rows: Vec<Value> = serde_json::from_slice(&out)?;
    Ok(rows.pop().unwrap_or(Value::Object(Map::new())))
}
