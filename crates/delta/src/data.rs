//! Data files: writing batches as Parquet (partitioned, with stats) and
//! reading them back in the table's schema.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array, new_null_array};
use arrow::compute::{CastOptions, can_cast_types, cast, cast_with_options, take_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::util::display::FormatOptions;
use bytes::Bytes;
use lakelab_store::Store;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::basic::Compression;
use parquet::basic::Type as PhysicalType;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;

use crate::actions::Add;
use crate::error::{DeltaError, Result};
use crate::file_rows::FileRows;
use crate::log::join;
use crate::paths::{from_log_path, partition_segment, to_log_path};
use crate::stats::file_stats;

/// Casts that fail on a value that does not fit, instead of making it null.
const STRICT: CastOptions<'static> = CastOptions {
    safe: false,
    format_options: FormatOptions::new(),
};

/// Rows per Parquet row group. Spark cuts row groups at 128 MB, millions of
/// rows of a narrow table: at browser sizes a file would be one row group
/// and nothing inside it could be skipped. DuckDB's 122,880 rows is the
/// model: small enough to skip, large enough to compress well.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// A column chunk's dictionary gives up (plain encoding) past this size.
/// parquet-rs' 1 MiB fits a whole row group of unique BIGINTs, so ids were
/// hashed into a dictionary that saves nothing: writing 2M `events` rows
/// took 0.62 s and 61 MB that way, 0.34 s and 48 MB with 128 KiB.
const DICTIONARY_BYTES: usize = 128 * 1024;

/// The table schema without its partition columns: what a data file holds.
pub fn data_schema(schema: &Schema, partition_columns: &[String]) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .filter(|f| !partition_columns.contains(f.name()))
        .cloned()
        .collect();
    Arc::new(Schema::new(fields))
}

/// Checks a batch against the table schema and returns it in that schema:
/// columns matched by name, missing nullable columns filled with nulls,
/// values cast where the cast is lossless. Unknown columns, impossible casts
/// and nulls in NOT NULL columns are errors.
pub fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let input = batch.schema();
    for field in input.fields() {
        if find(schema, field.name()).is_none() {
            return Err(DeltaError::SchemaMismatch(format!(
                "column '{}' is not in the table schema ({}); to add it, write with mergeSchema",
                field.name(),
                names(schema)
            )));
        }
    }
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = match find(&input, field.name()) {
            None if field.is_nullable() => new_null_array(field.data_type(), batch.num_rows()),
            None => {
                return Err(DeltaError::SchemaMismatch(format!(
                    "column '{}' is NOT NULL and the write gives no value for it",
                    field.name()
                )));
            }
            Some(i) => fit(batch.column(i), field)?,
        };
        if !field.is_nullable() && column.null_count() > 0 {
            return Err(DeltaError::NotNullViolated(field.name().clone()));
        }
        columns.push(column);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// `column` as the type of the table's `field`, or why it cannot be: a
/// value that does not fit fails rather than becoming null.
pub fn fit(column: &ArrayRef, field: &Field) -> Result<ArrayRef> {
    if column.data_type() == field.data_type() {
        Ok(column.clone())
    } else if can_cast_types(column.data_type(), field.data_type()) {
        cast_column(column, field.data_type(), &STRICT).map_err(|e| {
            DeltaError::SchemaMismatch(format!(
                "column '{}' ({}) does not fit the table's type {}: {e}",
                field.name(),
                column.data_type(),
                field.data_type()
            ))
        })
    } else {
        Err(DeltaError::SchemaMismatch(format!(
            "column '{}' is {} and cannot be written to the table's {}",
            field.name(),
            column.data_type(),
            field.data_type()
        )))
    }
}

/// Arrow's cast, except between timestamps: a time zone is a label on the
/// same UTC instants, so it is swapped rather than parsed (arrow parses only
/// offsets like `+00:00` without the large chrono-tz database).
pub fn cast_column(
    column: &ArrayRef,
    to: &DataType,
    options: &CastOptions,
) -> arrow::error::Result<ArrayRef> {
    let naive = |unit: &TimeUnit| DataType::Timestamp(*unit, None);
    match (column.data_type(), to) {
        (DataType::Timestamp(_, from_tz), DataType::Timestamp(unit, to_tz)) if from_tz != to_tz => {
            let converted = cast_with_options(&retag(column, None)?, &naive(unit), options)?;
            retag(&converted, to_tz.clone())
        }
        (from, DataType::Timestamp(unit, Some(tz))) if !matches!(from, DataType::Timestamp(..)) => {
            let converted = cast_with_options(column, &naive(unit), options)?;
            retag(&converted, Some(tz.clone()))
        }
        (DataType::Timestamp(_, Some(_)), to) if !matches!(to, DataType::Timestamp(..)) => {
            cast_with_options(&retag(column, None)?, to, options)
        }
        _ => cast_with_options(column, to, options),
    }
}

fn retag(column: &ArrayRef, tz: Option<Arc<str>>) -> arrow::error::Result<ArrayRef> {
    use arrow::array::AsArray;
    use arrow::datatypes::{
        TimestampMicrosecondType as Us, TimestampMillisecondType as Ms,
        TimestampNanosecondType as Ns, TimestampSecondType as S,
    };
    Ok(match column.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            Arc::new(column.as_primitive::<S>().clone().with_timezone_opt(tz))
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            Arc::new(column.as_primitive::<Ms>().clone().with_timezone_opt(tz))
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            Arc::new(column.as_primitive::<Us>().clone().with_timezone_opt(tz))
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            Arc::new(column.as_primitive::<Ns>().clone().with_timezone_opt(tz))
        }
        _ => column.clone(),
    })
}

fn find(schema: &Schema, name: &str) -> Option<usize> {
    schema.index_of(name).ok().or_else(|| {
        schema
            .fields()
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(name))
    })
}

fn names(schema: &Schema) -> String {
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    names.join(", ")
}

/// Partition values as the log stores them: strings, `None` for null.
fn partition_strings(column: &ArrayRef) -> Result<Vec<Option<String>>> {
    let text = match column.data_type() {
        // Spark's form, `2024-01-01 10:00:00.000001`, in UTC.
        DataType::Timestamp(_, _) => {
            let naive = DataType::Timestamp(TimeUnit::Microsecond, None);
            let naive = cast_column(column, &naive, &CastOptions::default())?;
            let text = cast(&naive, &DataType::Utf8)?;
            let text = text.as_any().downcast_ref::<StringArray>().cloned();
            return Ok(text
                .iter()
                .flatten()
                .map(|v| v.map(|s| s.replacen('T', " ", 1)))
                .collect());
        }
        _ => cast(column, &DataType::Utf8)?,
    };
    let Some(strings) = text.as_any().downcast_ref::<StringArray>() else {
        return Err(DeltaError::Invalid("partition value is not text".into()));
    };
    Ok(strings.iter().map(|v| v.map(str::to_owned)).collect())
}

/// A file to be written: rows of one partition.
struct Pending {
    values: Vec<Option<String>>,
    batches: Vec<RecordBatch>,
}

/// A data file just written: its add action and its rows exactly as
/// [`read_file`] would read them back, so a writer that keeps rows in
/// memory need not read its own files again.
pub struct WrittenFile {
    pub add: Add,
    pub rows: FileRows,
}

/// Writes `batches` (in the table schema) as Parquet data files under
/// `root`, one per partition.
pub async fn write_files(
    store: &dyn Store,
    root: &str,
    schema: &SchemaRef,
    partition_columns: &[String],
    batches: &[RecordBatch],
    now_ms: i64,
) -> Result<Vec<WrittenFile>> {
    let file_schema = data_schema(schema, partition_columns);
    let part_index: Vec<usize> = partition_columns
        .iter()
        .map(|c| schema.index_of(c))
        .collect::<Result<_, _>>()?;
    let mut pending: Vec<Pending> = Vec::new();
    let mut by_key: HashMap<Vec<Option<String>>, usize> = HashMap::new();
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        let data = batch.project(
            &(0..schema.fields().len())
                .filter(|i| !part_index.contains(i))
                .collect::<Vec<_>>(),
        )?;
        let data = RecordBatch::try_new(file_schema.clone(), data.columns().to_vec())?;
        if part_index.is_empty() {
            match pending.first_mut() {
                Some(p) => p.batches.push(data),
                None => pending.push(Pending {
                    values: vec![],
                    batches: vec![data],
                }),
            }
            continue;
        }
        let keys = part_index
            .iter()
            .map(|&i| partition_strings(batch.column(i)))
            .collect::<Result<Vec<_>>>()?;
        let mut rows: Vec<(usize, Vec<u32>)> = Vec::new();
        for row in 0..batch.num_rows() {
            let key: Vec<Option<String>> = keys.iter().map(|k| k[row].clone()).collect();
            let slot = *by_key.entry(key.clone()).or_insert_with(|| {
                pending.push(Pending {
                    values: key,
                    batches: vec![],
                });
                pending.len() - 1
            });
            match rows.iter_mut().find(|(s, _)| *s == slot) {
                Some((_, r)) => r.push(row as u32),
                None => rows.push((slot, vec![row as u32])),
            }
        }
        for (slot, indices) in rows {
            let part = take_record_batch(&data, &UInt32Array::from(indices))?;
            pending[slot].batches.push(part);
        }
    }
    let mut written = Vec::with_capacity(pending.len());
    for p in pending {
        // Encoding is long compute: let the browser run what waits first.
        lakelab_store::cooperate::yield_if_due().await;
        let dir: Vec<String> = partition_columns
            .iter()
            .zip(&p.values)
            .map(|(c, v)| partition_segment(c, v.as_deref()))
            .collect();
        let name = format!("part-00000-{}-c000.snappy.parquet", uuid::Uuid::new_v4());
        let relative = if dir.is_empty() {
            name
        } else {
            format!("{}/{name}", dir.join("/"))
        };
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_dictionary_page_size_limit(DICTIONARY_BYTES)
            .build();
        let mut buffer = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut buffer, file_schema.clone(), Some(props))?;
        for batch in &p.batches {
            writer.write(batch)?;
        }
        let metadata = writer.close()?;
        let stats = file_stats(&file_schema, &metadata)?;
        let size = buffer.len() as i64;
        let path = join(root, &relative);
        let bytes = Bytes::from(buffer);
        // The footer as a reader sees it, page index included.
        let footer = ParquetMetaDataReader::new()
            .with_page_index_policy(PageIndexPolicy::Optional)
            .parse_and_finish(&bytes)?;
        // Unreferenced until the commit: no atomic replace needed.
        store.put_new(&path, bytes).await?;
        let add = Add {
            path: to_log_path(&relative),
            partition_values: partition_columns.iter().cloned().zip(p.values).collect(),
            size,
            modification_time: now_ms,
            data_change: true,
            stats: Some(stats),
            tags: None,
            deletion_vector: None,
            clustering_provider: None,
        };
        let partitions = partition_arrays(schema, partition_columns, &add.partition_values)?;
        let rows: Vec<RecordBatch> = p
            .batches
            .iter()
            .map(|b| in_table_schema(b, schema, &partitions, &path))
            .collect::<Result<_>>()?;
        let rows = FileRows::new(file_schema.clone(), Arc::new(footer), &rows, &path)?;
        written.push(WrittenFile { add, rows });
    }
    Ok(written)
}

/// Reads one data file as batches of the table `schema`, partition columns
/// filled in from the log, row group by row group. Columns the file lacks
/// (added later) read as null.
pub async fn read_file(
    store: &dyn Store,
    root: &str,
    schema: &SchemaRef,
    partition_columns: &[String],
    add: &Add,
) -> Result<FileRows> {
    let path = join(root, &from_log_path(&add.path));
    let bytes = store.get(&path).await.map_err(|e| match e {
        lakelab_store::Error::NotFound(_) => DeltaError::MissingDataFile {
            path: path.clone(),
            source: e,
        },
        other => other.into(),
    })?;
    let corrupt = |e: &dyn std::fmt::Display| DeltaError::CorruptDataFile {
        path: path.clone(),
        reason: e.to_string(),
    };
    let builder = parquet_reader(bytes).map_err(|e| corrupt(&e))?;
    let file_schema = builder.schema().clone();
    let metadata = builder.metadata().clone();
    let partitions = partition_arrays(schema, partition_columns, &add.partition_values)?;
    let batches: Vec<RecordBatch> = builder
        .build()
        .map_err(|e| corrupt(&e))?
        .map(|batch| in_table_schema(&batch.map_err(|e| corrupt(&e))?, schema, &partitions, &path))
        .collect::<Result<_>>()?;
    FileRows::new(file_schema, metadata, &batches, &path)
}

/// A batch of data file `path` in the table `schema` (every column
/// nullable, as scans produce): partition columns from the log, columns
/// the file lacks as null.
fn in_table_schema(
    batch: &RecordBatch,
    schema: &SchemaRef,
    partitions: &HashMap<String, ArrayRef>,
    path: &str,
) -> Result<RecordBatch> {
    let rows = batch.num_rows();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        if let Some(value) = partitions.get(field.name()) {
            columns.push(repeat(value, rows)?);
            continue;
        }
        let column = match find(&batch.schema(), field.name()) {
            None => new_null_array(field.data_type(), rows),
            Some(i) if batch.column(i).data_type() == field.data_type() => batch.column(i).clone(),
            Some(i) => cast_column(batch.column(i), field.data_type(), &STRICT).map_err(|e| {
                DeltaError::SchemaMismatch(format!(
                    "data file '{path}' stores column '{}' as {}, not the table's {}: {e}",
                    field.name(),
                    batch.column(i).data_type(),
                    field.data_type()
                ))
            })?,
        };
        columns.push(column);
    }
    let relaxed = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    Ok(RecordBatch::try_new(relaxed, columns)?)
}

/// A reader of a whole Parquet file, its page index loaded if it has one.
/// INT96 timestamps (Spark's legacy encoding) are read as microseconds: as
/// nanoseconds, dates past 2262 wrap.
fn parquet_reader(bytes: Bytes) -> parquet::errors::Result<ParquetRecordBatchReaderBuilder<Bytes>> {
    let pages = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new_with_options(bytes.clone(), pages.clone())?;
    let descr = builder.parquet_schema();
    let int96: Vec<String> = descr
        .columns()
        .iter()
        .filter(|c| c.physical_type() == PhysicalType::INT96 && c.path().parts().len() == 1)
        .map(|c| c.name().to_owned())
        .collect();
    if int96.is_empty() {
        return Ok(builder);
    }
    let fields: Vec<Field> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, tz) if int96.contains(f.name()) => f
                .as_ref()
                .clone()
                .with_data_type(DataType::Timestamp(TimeUnit::Microsecond, tz.clone())),
            _ => f.as_ref().clone(),
        })
        .collect();
    let options = pages.with_schema(Arc::new(Schema::new(fields)));
    ParquetRecordBatchReaderBuilder::try_new_with_options(bytes, options)
}

/// Each partition column's value for a file, as a one-element array.
fn partition_arrays(
    schema: &Schema,
    partition_columns: &[String],
    values: &BTreeMap<String, Option<String>>,
) -> Result<HashMap<String, ArrayRef>> {
    let mut out = HashMap::new();
    for column in partition_columns {
        let field = schema.field_with_name(column)?;
        let text = values.get(column).cloned().flatten();
        let text: ArrayRef = Arc::new(StringArray::from(vec![text]));
        let typed =
            cast_column(&text, field.data_type(), &CastOptions::default()).map_err(|e| {
                DeltaError::Invalid(format!(
                    "partition value of '{column}' is not a {}: {e}",
                    field.data_type()
                ))
            })?;
        out.insert(column.clone(), typed);
    }
    Ok(out)
}

fn repeat(value: &ArrayRef, rows: usize) -> Result<ArrayRef> {
    let indices = UInt32Array::from(vec![0u32; rows]);
    Ok(arrow::compute::take(value, &indices, None)?)
}
