//! Per-file statistics for DataFusion's `PruningPredicate`: a file's
//! partition values (min = max) and its `add.stats` min/max/null counts, so a
//! scan reads only the files a filter can match.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, RecordBatch, StringArray, StructArray, UInt64Array,
};
use datafusion::arrow::compute::{CastOptions, cast, concat};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::{Column, ScalarValue};
use lakelab_delta::Add;
use lakelab_delta::data::cast_column;
use lakelab_delta::stats::has_min_max;

/// Statistics of a list of files, one "container" per file.
#[derive(Debug)]
pub(crate) struct FileStats {
    files: usize,
    min: HashMap<String, ArrayRef>,
    max: HashMap<String, ArrayRef>,
    nulls: HashMap<String, ArrayRef>,
    rows: Option<ArrayRef>,
}

/// The type a stats value is decoded as: timestamps without their zone
/// (arrow-json cannot parse named zones), restored after decoding.
fn decode_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Timestamp(unit, _) => DataType::Timestamp(*unit, None),
        other => other.clone(),
    }
}

impl FileStats {
    pub(crate) fn new(schema: &Schema, partition_columns: &[String], files: &[&Add]) -> Self {
        let mut stats = FileStats {
            files: files.len(),
            min: HashMap::new(),
            max: HashMap::new(),
            nulls: HashMap::new(),
            rows: None,
        };
        let fields: Vec<&Field> = schema
            .fields()
            .iter()
            .map(|f| f.as_ref())
            .filter(|f| !partition_columns.contains(f.name()))
            .collect();
        if let Some(batch) = decode_stats(&fields, files) {
            stats.rows = batch
                .column_by_name("numRecords")
                .and_then(|c| cast(c, &DataType::UInt64).ok());
            for (kind, target) in [("minValues", &mut stats.min), ("maxValues", &mut stats.max)] {
                let Some(s) = batch
                    .column_by_name(kind)
                    .and_then(|c| c.as_any().downcast_ref::<StructArray>())
                else {
                    continue;
                };
                for field in &fields {
                    if let Some(column) = s.column_by_name(field.name())
                        && let Ok(typed) =
                            cast_column(column, field.data_type(), &CastOptions::default())
                    {
                        target.insert(field.name().clone(), typed);
                    }
                }
            }
            if let Some(s) = batch
                .column_by_name("nullCount")
                .and_then(|c| c.as_any().downcast_ref::<StructArray>())
            {
                for field in &fields {
                    if let Some(column) = s.column_by_name(field.name())
                        && let Ok(counts) = cast(column, &DataType::UInt64)
                    {
                        stats.nulls.insert(field.name().clone(), counts);
                    }
                }
            }
        }
        // Partition columns: one value per file, so min = max, and a null
        // value means every row of the file is null.
        let rows = stats
            .rows
            .as_ref()
            .and_then(|r| r.as_any().downcast_ref::<UInt64Array>().cloned());
        for column in partition_columns {
            if let Ok(field) = schema.field_with_name(column)
                && let Some(values) = partition_values(field.data_type(), column, files)
            {
                let nulls: UInt64Array = (0..values.len())
                    .map(|i| match values.is_null(i) {
                        false => Some(0),
                        true => rows.as_ref().filter(|r| r.is_valid(i)).map(|r| r.value(i)),
                    })
                    .collect();
                stats.min.insert(column.clone(), values.clone());
                stats.max.insert(column.clone(), values);
                stats.nulls.insert(column.clone(), Arc::new(nulls));
            }
        }
        stats
    }
}

fn partition_values(data_type: &DataType, column: &str, files: &[&Add]) -> Option<ArrayRef> {
    let text: StringArray = files
        .iter()
        .map(|a| a.partition_values.get(column).cloned().flatten())
        .collect();
    cast_column(
        &(Arc::new(text) as ArrayRef),
        data_type,
        &CastOptions::default(),
    )
    .ok()
}

/// Each file's stats JSON decoded into one row; a file whose stats are
/// missing or unreadable gets an empty row (it is never skipped).
fn decode_stats(fields: &[&Field], files: &[&Add]) -> Option<RecordBatch> {
    let stat_fields: Vec<Field> = fields
        .iter()
        .filter(|f| has_min_max(f.data_type()))
        .map(|f| Field::new(f.name(), decode_type(f.data_type()), true))
        .collect();
    let count_fields: Vec<Field> = fields
        .iter()
        .map(|f| Field::new(f.name(), DataType::Int64, true))
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("numRecords", DataType::Int64, true),
        Field::new(
            "minValues",
            DataType::Struct(stat_fields.clone().into()),
            true,
        ),
        Field::new("maxValues", DataType::Struct(stat_fields.into()), true),
        Field::new("nullCount", DataType::Struct(count_fields.into()), true),
    ]));
    let decode = |json: &str| -> Option<RecordBatch> {
        let mut decoder = ReaderBuilder::new(schema.clone()).build_decoder().ok()?;
        decoder.decode(json.as_bytes()).ok()?;
        decoder.flush().ok().flatten().filter(|b| b.num_rows() == 1)
    };
    let empty = decode("{}")?;
    let rows: Vec<RecordBatch> = files
        .iter()
        .map(|a| {
            a.stats
                .as_deref()
                .and_then(decode)
                .unwrap_or_else(|| empty.clone())
        })
        .collect();
    let columns = (0..schema.fields().len())
        .map(|i| {
            let parts: Vec<&dyn Array> = rows.iter().map(|r| r.column(i).as_ref()).collect();
            concat(&parts).ok()
        })
        .collect::<Option<Vec<_>>>()?;
    RecordBatch::try_new(schema.clone(), columns).ok()
}

impl PruningStatistics for FileStats {
    fn min_values(&self, column: &Column) -> Option<ArrayRef> {
        self.min.get(column.name()).cloned()
    }
    fn max_values(&self, column: &Column) -> Option<ArrayRef> {
        self.max.get(column.name()).cloned()
    }
    fn num_containers(&self) -> usize {
        self.files
    }
    fn null_counts(&self, column: &Column) -> Option<ArrayRef> {
        self.nulls.get(column.name()).cloned()
    }
    fn row_counts(&self) -> Option<ArrayRef> {
        self.rows.clone()
    }
    fn contained(
        &self,
        _column: &Column,
        _values: &std::collections::HashSet<ScalarValue>,
    ) -> Option<BooleanArray> {
        None
    }
}
