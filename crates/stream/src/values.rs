//! Column values as JSON (how MySQL rows travel through Debezium) and their
//! Arrow columns (how they land in Delta).

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, Int64Builder, StringBuilder};
use arrow::datatypes::DataType;
use serde_json::Value;

/// A column's type, in the source and as Silver stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Double,
    Text,
    /// MySQL `TIMESTAMP`: Debezium writes it as an ISO-8601 string
    /// (`io.debezium.time.ZonedTimestamp`), so Silver keeps a string.
    Timestamp,
}

impl Kind {
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Int => DataType::Int64,
            Kind::Double => DataType::Float64,
            Kind::Text | Kind::Timestamp => DataType::Utf8,
        }
    }

    pub fn sql_type(self) -> &'static str {
        match self {
            Kind::Int => "BIGINT",
            Kind::Double => "DOUBLE",
            Kind::Text | Kind::Timestamp => "STRING",
        }
    }

    /// The kind a schemaless JSON value reveals (`None` for null). Debezium's
    /// JSON converter without schemas is all a consumer gets to infer from.
    pub fn of_json(value: &Value) -> Option<Result<Kind, &'static str>> {
        match value {
            Value::Null => None,
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(Ok(Kind::Int)),
            Value::Number(_) => Some(Ok(Kind::Double)),
            Value::String(_) => Some(Ok(Kind::Text)),
            Value::Bool(_) => Some(Err("a boolean")),
            Value::Array(_) => Some(Err("an array")),
            Value::Object(_) => Some(Err("an object")),
        }
    }

    /// The kind of a Silver column of Arrow type `t`.
    pub fn of_data_type(t: &DataType) -> Option<Kind> {
        match t {
            DataType::Int64 | DataType::Int32 => Some(Kind::Int),
            DataType::Float64 => Some(Kind::Double),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(Kind::Text),
            _ => None,
        }
    }

    /// Whether a column of this kind takes a value of kind `other`
    /// (integers widen to doubles; nothing else changes type).
    pub fn accepts(self, other: Kind) -> bool {
        self.data_type() == other.data_type() || (self == Kind::Double && other == Kind::Int)
    }
}

/// An Arrow column of `kind` from JSON values (missing values are nulls).
pub fn json_column<'a>(kind: Kind, values: impl Iterator<Item = Option<&'a Value>>) -> ArrayRef {
    match kind {
        Kind::Int => {
            let mut b = Int64Builder::new();
            values.for_each(|v| b.append_option(v.and_then(Value::as_i64)));
            Arc::new(b.finish())
        }
        Kind::Double => {
            let mut b = Float64Builder::new();
            values.for_each(|v| b.append_option(v.and_then(Value::as_f64)));
            Arc::new(b.finish())
        }
        Kind::Text | Kind::Timestamp => {
            let mut b = StringBuilder::new();
            values.for_each(|v| b.append_option(v.and_then(Value::as_str)));
            Arc::new(b.finish())
        }
    }
}

/// `2026-01-15T09:00:00Z`, as Debezium writes a MySQL TIMESTAMP.
pub fn iso_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Column `i` of a query answer cast to `to` (answers may come back as
/// string views or narrower integers, depending on the plan).
fn cast_column(batch: &arrow::array::RecordBatch, i: usize, to: &DataType) -> Option<ArrayRef> {
    arrow::compute::cast(batch.columns().get(i)?, to).ok()
}

/// Column `i` as text values.
pub fn texts(batch: &arrow::array::RecordBatch, i: usize) -> Vec<Option<String>> {
    use arrow::array::AsArray;
    cast_column(batch, i, &DataType::Utf8)
        .and_then(|a| {
            a.as_string_opt::<i32>()
                .map(|s| s.iter().map(|v| v.map(str::to_owned)).collect())
        })
        .unwrap_or_default()
}

/// Column `i` as values of the primitive type `T`.
fn primitives<T: arrow::datatypes::ArrowPrimitiveType>(
    batch: &arrow::array::RecordBatch,
    i: usize,
) -> Vec<Option<T::Native>> {
    use arrow::array::AsArray;
    cast_column(batch, i, &T::DATA_TYPE)
        .and_then(|a| a.as_primitive_opt::<T>().map(|p| p.iter().collect()))
        .unwrap_or_default()
}

/// Column `i` as 64-bit integers.
pub fn ints(batch: &arrow::array::RecordBatch, i: usize) -> Vec<Option<i64>> {
    primitives::<arrow::datatypes::Int64Type>(batch, i)
}

/// Column `i` as doubles.
pub fn floats(batch: &arrow::array::RecordBatch, i: usize) -> Vec<Option<f64>> {
    primitives::<arrow::datatypes::Float64Type>(batch, i)
}
