//! Rows in the fixtures' encoding (../shared/fixtures/delta/README.md).

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Date32Type, Int32Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Value};

pub fn canonical(row: &Value) -> String {
    // serde_json's Map is sorted by key, which is the fixtures' key order.
    serde_json::to_string(row).unwrap()
}

/// A fixture's expected rows (a JSON array of objects), in the same form as [`sorted_rows`].
pub fn expected(rows: &Value) -> Vec<String> {
    let mut out: Vec<String> = rows.as_array().unwrap().iter().map(canonical).collect();
    out.sort();
    out
}

pub fn sorted_rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let mut object = Map::new();
            for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                object.insert(field.name().clone(), value(column.as_ref(), row));
            }
            out.push(canonical(&Value::Object(object)));
        }
    }
    out.sort();
    out
}

fn value(column: &dyn Array, row: usize) -> Value {
    if column.is_null(row) {
        return Value::Null;
    }
    match column.data_type() {
        DataType::Int64 => Value::from(column.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Value::from(column.as_primitive::<Int32Type>().value(row)),
        DataType::Float64 => Value::from(
            column
                .as_primitive::<arrow::datatypes::Float64Type>()
                .value(row),
        ),
        DataType::Boolean => Value::from(column.as_boolean().value(row)),
        DataType::Utf8 => Value::from(column.as_string::<i32>().value(row)),
        DataType::Date32 => {
            let days = column.as_primitive::<Date32Type>().value(row);
            let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
                + chrono::Duration::days(days.into());
            Value::from(date.format("%Y-%m-%d").to_string())
        }
        DataType::Timestamp(TimeUnit::Microsecond, tz) => {
            let micros = column.as_primitive::<TimestampMicrosecondType>().value(row);
            let t = chrono::DateTime::from_timestamp_micros(micros).unwrap();
            let suffix = if tz.is_some() { "Z" } else { "" };
            Value::from(format!("{}{suffix}", t.format("%Y-%m-%dT%H:%M:%S%.6f")))
        }
        _ => {
            let f = ArrayFormatter::try_new(column, &FormatOptions::default()).unwrap();
            Value::from(f.value(row).to_string())
        }
    }
}
