//! The right answer: a batch query over every true event (no duplicates, no
//! bad records, nothing late), with the same windows as the streaming query,
//! and each window of a run compared with it.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, AsArray, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, TimeUnit};
use lakelab_engine::Engine;
use lakelab_protocol::late::{WindowCheck, WindowSpec};

use super::aggregate::WindowRow;
use super::source::AppEvent;
use crate::error::Result;

const ALL_EVENTS: &str = "late_all_events";

/// Events and distinct users per (window start, event type).
pub type Truth = BTreeMap<(i64, String), (i64, i64)>;

/// The batch query: each event counted in every window holding it (for a
/// sliding window, one per slide the window spans).
pub fn truth_sql(window: WindowSpec) -> String {
    let slide = window.slide_ms;
    let offsets: Vec<String> = (0..window.size_ms / slide.max(1))
        .map(|i| format!("({i})"))
        .collect();
    format!(
        "SELECT (CAST(event_time AS BIGINT) / {slide}) * {slide} - o.i * {slide} AS window_start, \
         event_type, count(*) AS events, count(DISTINCT user_id) AS users \
         FROM {ALL_EVENTS} CROSS JOIN (VALUES {}) AS o(i) GROUP BY 1, 2",
        offsets.join(", ")
    )
}

pub async fn truth(engine: &Engine, events: &[AppEvent], window: WindowSpec) -> Result<Truth> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, false),
        Field::new("user_id", DataType::Utf8, false),
        Field::new("event_type", DataType::Utf8, false),
        Field::new(
            "event_time",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("value", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                events.iter().map(|e| e.event_id.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                events.iter().map(|e| e.user_id.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                events.iter().map(|e| e.event_type),
            )),
            Arc::new(
                TimestampMillisecondArray::from_iter_values(events.iter().map(|e| e.event_time_ms))
                    .with_timezone("UTC"),
            ),
            Arc::new(Float64Array::from_iter_values(
                events.iter().map(|e| e.value),
            )),
        ],
    )?;
    engine.register_batches(ALL_EVENTS, schema, vec![batch])?;
    let out = engine.execute(&truth_sql(window), &mut |_| {}).await;
    engine.deregister_batches(ALL_EVENTS)?;
    let mut truth = Truth::new();
    for b in &out?.batches {
        let starts = b.column(0).as_primitive::<Int64Type>();
        let types = b.column(1).as_string::<i32>();
        let counts = b.column(2).as_primitive::<Int64Type>();
        let users = b.column(3).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            if starts.is_valid(i) {
                truth.insert(
                    (starts.value(i), types.value(i).to_owned()),
                    (counts.value(i), users.value(i)),
                );
            }
        }
    }
    Ok(truth)
}

/// Every window of either side, streamed against true.
pub fn compare(
    windows: &[(WindowRow, bool)],
    truth: &Truth,
    window: WindowSpec,
) -> Vec<WindowCheck> {
    let mut checks: BTreeMap<(i64, String), WindowCheck> = BTreeMap::new();
    for ((start, kind), (events, users)) in truth {
        checks.insert(
            (*start, kind.clone()),
            WindowCheck {
                window_start_ms: *start,
                window_end_ms: start + window.size_ms,
                event_type: kind.clone(),
                streamed: 0,
                truth: *events,
                users: 0,
                approx_users: 0,
                true_users: *users,
                is_final: false,
            },
        );
    }
    for (row, done) in windows {
        let check = checks
            .entry((row.window_start_ms, row.event_type.clone()))
            .or_insert_with(|| WindowCheck {
                window_start_ms: row.window_start_ms,
                window_end_ms: row.window_end_ms,
                event_type: row.event_type.clone(),
                streamed: 0,
                truth: 0,
                users: 0,
                approx_users: 0,
                true_users: 0,
                is_final: false,
            });
        check.streamed = row.events;
        check.users = row.users;
        check.approx_users = row.approx_users;
        check.is_final = *done;
    }
    checks.into_values().collect()
}
