//! The benchmark workload's `events` table, generated exactly as the shared
//! spec defines it (`../shared/bench/SPEC.md`: same columns, same integer
//! arithmetic, same rows), so Lakelab's timings compare with other engines'
//! on identical data. Rows come in batches of a chosen size: memory stays
//! bounded whatever N is.
//!
//! Written by hand: the spec *is* this arithmetic; no library generates it.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;

/// 2^31 − 1, the spec's prime.
const P: i64 = 2_147_483_647;
/// 90 days in seconds: the span of `event_ts`.
const SPAN_S: i64 = 7_776_000;
/// 2024-01-01 00:00:00 in µs since the Unix epoch.
const START_US: i64 = 1_704_067_200_000_000;
/// 2024-01-01 in days since the Unix epoch (Arrow's Date32).
const START_DAY: i32 = 19_723;

fn mix(x: i64, a: i64, b: i64, c: i64) -> i64 {
    let h = (x * a) % P;
    let h = (h * h + b) % P;
    (h * h + c) % P
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event_id: i64,
    pub user_id: i64,
    pub session_id: i64,
    pub event_type: &'static str,
    /// µs since the Unix epoch (no time zone).
    pub event_ts_us: i64,
    /// Days since 2024-01-01.
    pub day: i64,
    pub duration: i32,
}

/// Row `i` of a table of `n` rows.
pub fn event(i: i64, n: i64) -> Event {
    let x = i + 1;
    let s = (i * SPAN_S) / n;
    let day = s / 86_400;
    let u = mix(x, 1_103_515_245, 12_345, 54_321) % 1_000_000;
    let t = mix(x, 22_695_477, 2_531_011, 17) % 100;
    let slot = mix(x, 134_775_813, 1_013_904_223, 99_991) % 4;
    let micro = mix(x, 1_664_525, 1_013_904_223, 7) % 1_000_000;
    let dur = mix(x, 214_013, 2_531_011, 1_013_904_223) % 1_800;
    let user_id = 1 + (u * u) / 1_000_000;
    Event {
        event_id: i,
        user_id,
        session_id: (user_id * 90 + day) * 4 + slot,
        event_type: match t {
            0..40 => "page_view",
            40..65 => "click",
            65..80 => "scroll",
            80..88 => "search",
            88..94 => "add_to_cart",
            94..97 => "login",
            97..99 => "purchase",
            _ => "logout",
        },
        event_ts_us: START_US + s * 1_000_000 + micro,
        day,
        duration: 1 + dur as i32,
    }
}

pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Int64, false),
        Field::new("user_id", DataType::Int64, false),
        Field::new("session_id", DataType::Int64, false),
        Field::new("event_type", DataType::Utf8, false),
        Field::new(
            "event_ts",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("date", DataType::Date32, false),
        Field::new("duration", DataType::Int32, false),
    ]))
}

/// Rows `from..to` of a table of `n` rows as one batch.
pub fn batch(from: i64, to: i64, n: i64) -> Result<RecordBatch, ArrowError> {
    let rows: Vec<Event> = (from..to).map(|i| event(i, n)).collect();
    let column = |f: fn(&Event) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(rows.iter().map(f)))
    };
    RecordBatch::try_new(
        schema(),
        vec![
            column(|e| e.event_id),
            column(|e| e.user_id),
            column(|e| e.session_id),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|e| e.event_type),
            )),
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                rows.iter().map(|e| e.event_ts_us),
            )),
            Arc::new(Date32Array::from_iter_values(
                rows.iter().map(|e| START_DAY + e.day as i32),
            )),
            Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|e| e.duration),
            )),
        ],
    )
}

/// The table of `n` rows, `batch_rows` at a time.
pub fn batches(n: i64, batch_rows: i64) -> impl Iterator<Item = Result<RecordBatch, ArrowError>> {
    let step = batch_rows.max(1);
    (0..n.max(0))
        .step_by(step as usize)
        .map(move |from| batch(from, (from + step).min(n), n))
}
