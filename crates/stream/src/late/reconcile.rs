//! Two speeds over one stream: a fast path (5-minute windows, 10-minute
//! watermark) for a live dashboard and a slow path (1-hour windows, 2-hour
//! watermark) that waits for stragglers; a query compares them per hour and
//! event type, and flags the hours where they disagree by more than a
//! threshold.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type, TimestampMicrosecondType};
use lakelab_engine::Engine;
use lakelab_protocol::late::{HOUR_MS, LateConfig, MINUTE_MS, OutputMode, Reconciled, WindowSpec};

use super::LateRun;
use super::source::generate;
use crate::error::Result;

pub const FAST: &str = "late.metrics_fast";
pub const SLOW: &str = "late.metrics_slow";

/// The fast and slow paths' settings, from the lab's stream settings.
pub fn paths(config: &LateConfig) -> (LateConfig, LateConfig) {
    let path = |window: i64, watermark: i64| LateConfig {
        window: WindowSpec::tumbling(window),
        watermark_ms: Some(watermark),
        mode: OutputMode::Update,
        ..config.clone()
    };
    (
        path(5 * MINUTE_MS, 10 * MINUTE_MS),
        path(HOUR_MS, 2 * HOUR_MS),
    )
}

/// The comparison, as SQL over the two sinks.
pub fn reconcile_sql(threshold_pct: f64) -> String {
    format!(
        "SELECT s.window_start AS hour, s.event_type, s.events AS slow, coalesce(f.events, 0) AS fast, \
         round(100.0 * (s.events - coalesce(f.events, 0)) / s.events, 2) AS diff_pct, \
         abs(100.0 * (s.events - coalesce(f.events, 0)) / s.events) > {threshold_pct} AS alert \
         FROM {SLOW} s LEFT JOIN \
         (SELECT date_trunc('hour', window_start) AS hour, event_type, sum(events) AS events \
          FROM {FAST} GROUP BY 1, 2) f \
         ON s.window_start = f.hour AND s.event_type = f.event_type \
         ORDER BY hour, s.event_type"
    )
}

/// Runs both paths over the same stream into their sinks and compares them.
pub async fn run_both(
    engine: &Engine,
    config: &LateConfig,
    threshold_pct: f64,
) -> Result<(LateRun, LateRun, Vec<Reconciled>)> {
    let (fast_config, slow_config) = paths(config);
    let stream = generate(config);
    let mut fast = LateRun::over(fast_config, stream.clone())?
        .with_sink(engine, FAST, false)
        .await?;
    let mut slow = LateRun::over(slow_config, stream)?
        .with_sink(engine, SLOW, true)
        .await?;
    fast.run_to_end(Some(engine)).await?;
    slow.run_to_end(Some(engine)).await?;
    let rows = reconcile(engine, threshold_pct).await?;
    Ok((fast, slow, rows))
}

pub async fn reconcile(engine: &Engine, threshold_pct: f64) -> Result<Vec<Reconciled>> {
    let out = engine
        .execute(&reconcile_sql(threshold_pct), &mut |_| {})
        .await?;
    let mut rows = Vec::new();
    for b in &out.batches {
        let hours = b.column(0).as_primitive::<TimestampMicrosecondType>();
        let types = b.column(1).as_string::<i32>();
        let slow = b.column(2).as_primitive::<Int64Type>();
        let fast = b.column(3).as_primitive::<Int64Type>();
        let diff = b.column(4).as_primitive::<Float64Type>();
        let alert = b.column(5).as_boolean();
        for i in 0..b.num_rows() {
            rows.push(Reconciled {
                hour_ms: hours.value(i) / 1000,
                event_type: types.value(i).to_owned(),
                slow: slow.value(i),
                fast: fast.value(i),
                diff_pct: if diff.is_valid(i) { diff.value(i) } else { 0.0 },
                alert: alert.is_valid(i) && alert.value(i),
            });
        }
    }
    Ok(rows)
}
