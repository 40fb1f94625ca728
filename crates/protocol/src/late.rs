//! The late-events lab: how the event stream is generated, how the windowed
//! query runs, and what it reports. The stream crate fills these in; the UI
//! and the CLI only read them.

use serde::{Deserialize, Serialize};

pub const MINUTE_MS: i64 = 60_000;
/// The table the lab's query writes its windows to.
pub const METRICS: &str = "late.metrics";
/// Records without a usable event time, with the reason.
pub const QUARANTINE: &str = "late.quarantine";
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
/// 2024-01-15T00:00:00Z: where the generated event time starts.
pub const START_MS: i64 = 1_705_276_800_000;

/// How late events reach the pipeline: shares of events in each delay band
/// (the rest arrive within a minute). Delays are drawn uniformly in a band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lateness {
    pub name: String,
    /// Share delayed 1–30 minutes (flaky networks).
    pub minutes: f64,
    /// Share delayed 30 minutes – 2 hours (devices offline for a while).
    pub hours: f64,
    /// Share delayed 3–12 hours: later than any watermark the lab offers.
    pub beyond: f64,
    /// Share delivered twice (the SDK retried), the copy later still.
    pub duplicates: f64,
    /// Share whose timestamp is missing or unparsable.
    pub malformed: f64,
}

impl Lateness {
    /// The named profiles: `on-time`, `mobile` (the scenario's), `offline`.
    pub fn named(name: &str) -> Option<Lateness> {
        match name {
            "on-time" => Some(Lateness::with_shares(name, 0.0, 0.0, 0.0)),
            "mobile" => Some(Lateness::mobile()),
            "offline" => Some(Lateness::with_shares(name, 0.25, 0.20, 0.05)),
            _ => None,
        }
    }

    /// The scenario's: phones that go offline for up to two hours.
    pub fn mobile() -> Lateness {
        Lateness::with_shares("mobile", 0.15, 0.05, 0.01)
    }

    fn with_shares(name: &str, minutes: f64, hours: f64, beyond: f64) -> Lateness {
        Lateness {
            name: name.to_owned(),
            minutes,
            hours,
            beyond,
            duplicates: 0.01,
            malformed: 0.001,
        }
    }

    pub const NAMES: [&'static str; 3] = ["on-time", "mobile", "offline"];
}

/// Spark's output modes for a streaming aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputMode {
    /// Each window once, when the watermark has passed its end.
    Append,
    /// The windows that changed in the batch.
    Update,
    /// Every window, every batch.
    Complete,
}

impl OutputMode {
    pub fn parse(s: &str) -> Option<OutputMode> {
        match s {
            "append" => Some(OutputMode::Append),
            "update" => Some(OutputMode::Update),
            "complete" => Some(OutputMode::Complete),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            OutputMode::Append => "append",
            OutputMode::Update => "update",
            OutputMode::Complete => "complete",
        }
    }
}

/// `window(event_time, size, slide)`: tumbling when `slide_ms == size_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpec {
    pub size_ms: i64,
    pub slide_ms: i64,
}

impl WindowSpec {
    pub fn tumbling(size_ms: i64) -> Self {
        WindowSpec {
            size_ms,
            slide_ms: size_ms,
        }
    }

    /// `"1h"` (tumbling) or `"1h/15m"` (size / slide).
    pub fn parse(s: &str) -> Option<WindowSpec> {
        match s.split_once('/') {
            Some((size, slide)) => Some(WindowSpec {
                size_ms: parse_duration(size)?,
                slide_ms: parse_duration(slide)?,
            }),
            None => parse_duration(s).map(WindowSpec::tumbling),
        }
    }

    /// What [`parse`](Self::parse) reads back.
    pub fn label(self) -> String {
        if self.slide_ms == self.size_ms {
            format_duration(self.size_ms)
        } else {
            format!(
                "{}/{}",
                format_duration(self.size_ms),
                format_duration(self.slide_ms)
            )
        }
    }

    /// The starts of the windows holding `t` (Spark's window assignment:
    /// windows start at multiples of the slide since the epoch).
    pub fn starts(self, t: i64) -> impl Iterator<Item = i64> {
        let last = t.div_euclid(self.slide_ms) * self.slide_ms;
        let size = self.size_ms;
        (0..)
            .map(move |i| last - i * self.slide_ms)
            .take_while(move |start| start + size > t)
    }
}

/// The stream and the query run over it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateConfig {
    pub seed: u64,
    /// Events generated (before duplicates).
    pub events: u64,
    /// Hours of event time the events span.
    pub hours: u32,
    pub lateness: Lateness,
    /// `withWatermark` delay; `None`: no watermark (state grows forever).
    pub watermark_ms: Option<i64>,
    pub window: WindowSpec,
    pub mode: OutputMode,
    /// `maxOffsetsPerTrigger`: records per micro-batch.
    pub batch_rows: u64,
    /// `dropDuplicates` on the event id, within the watermark.
    pub dedupe: bool,
    /// Events stamped this far after their arrival are quarantined instead
    /// of read (`None`: trusted — the hazard the lab demonstrates).
    pub max_future_ms: Option<i64>,
    /// Devices with a clock a year ahead, sending that many events.
    pub future_events: u32,
}

impl Default for LateConfig {
    fn default() -> Self {
        LateConfig {
            seed: 20240115,
            events: 50_000,
            hours: 6,
            lateness: Lateness::mobile(),
            watermark_ms: Some(2 * HOUR_MS),
            window: WindowSpec::tumbling(HOUR_MS),
            mode: OutputMode::Update,
            batch_rows: 2_000,
            dedupe: true,
            max_future_ms: Some(10 * MINUTE_MS),
            future_events: 0,
        }
    }
}

/// One micro-batch, as Spark's `StreamingQueryProgress` reports a stateful query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateProgress {
    pub batch_id: i64,
    pub num_input_rows: u64,
    /// Processing time (the last record's arrival), ms since the epoch.
    pub processing_ms: i64,
    /// The watermark this batch used.
    pub watermark_ms: Option<i64>,
    pub max_event_time_ms: Option<i64>,
    /// Rows each stateful operator dropped as later than the watermark.
    pub dropped_by_dedupe: u64,
    pub dropped_by_window: u64,
    pub duplicates_removed: u64,
    pub quarantined: u64,
    /// Windows (groups) kept in state after the batch, and event ids kept
    /// by the deduplication.
    pub state_windows: u64,
    pub state_dedupe_keys: u64,
    /// Rows written to the sink.
    pub rows_output: u64,
    pub duration_ms: f64,
}

/// A window's result in the sink against the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowCheck {
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub event_type: String,
    pub streamed: i64,
    pub truth: i64,
    /// Distinct users: streamed exactly, estimated by the sketch, and true.
    pub users: i64,
    pub approx_users: i64,
    pub true_users: i64,
    /// The watermark has passed the window's end: it will not change again.
    pub is_final: bool,
}

/// One hour and event type, on the fast and the slow path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reconciled {
    pub hour_ms: i64,
    pub event_type: String,
    pub slow: i64,
    pub fast: i64,
    /// (slow − fast) / slow, in percent.
    pub diff_pct: f64,
    pub alert: bool,
}

/// What the lab asks of its stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LateCommand {
    /// A new run with these settings; the previous run's tables are dropped.
    Start(LateConfig),
    /// The next micro-batches.
    Step {
        batches: u32,
    },
    /// The fast and slow paths over the same stream, compared.
    Reconcile {
        threshold_pct: f64,
    },
    /// The stream re-run with each watermark delay.
    Sweep,
    Show,
}

/// What became of a record, for the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PointFate {
    /// Not read yet.
    Pending,
    Counted,
    /// Behind the watermark.
    Dropped,
    Duplicate,
    Quarantined,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    pub arrival_ms: i64,
    /// `None`: no usable timestamp.
    pub event_time_ms: Option<i64>,
    pub fate: PointFate,
}

/// One watermark delay, measured by re-running the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub watermark_ms: i64,
    /// Share of true events counted.
    pub accuracy: f64,
    pub state_windows_max: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantineRow {
    pub offset: u64,
    pub reason: String,
    pub raw: String,
}

/// The lab's state after a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateView {
    pub config: LateConfig,
    pub records: u64,
    /// Records read so far.
    pub read: u64,
    pub progress: Vec<LateProgress>,
    /// The watermark the next batch will use.
    pub watermark_ms: Option<i64>,
    /// A sample of the records, in arrival order.
    pub timeline: Vec<TimelinePoint>,
    /// Every window so far against the truth.
    pub windows: Vec<WindowCheck>,
    pub dropped: u64,
    pub accuracy: f64,
    pub quarantined: Vec<QuarantineRow>,
    pub quarantined_total: u64,
    /// The query as a candidate would write it in PySpark.
    pub pyspark: String,
    /// The same query as a Databricks notebook, with its source and sink.
    pub notebook: crate::notebook::Notebook,
    /// The SQL each batch's output is written with.
    pub sink_sql: String,
    pub reconciliation: Vec<Reconciled>,
    /// The difference, in percent, above which a reconciled hour alerts.
    pub threshold_pct: f64,
    pub sweep: Vec<SweepPoint>,
}

/// `"2h"`, `"90m"`, `"30s"`, `"1h30m"` → milliseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let (mut total, mut number) = (0i64, String::new());
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => HOUR_MS,
            'm' => MINUTE_MS,
            's' => 1_000,
            _ => return None,
        };
        total += number.parse::<i64>().ok()? * unit;
        number.clear();
    }
    (number.is_empty() && total > 0).then_some(total)
}

/// Milliseconds as `"2h"`, `"1h30m"`, `"45s"`.
pub fn format_duration(ms: i64) -> String {
    let (h, m, s) = (
        ms / HOUR_MS,
        ms % HOUR_MS / MINUTE_MS,
        ms % MINUTE_MS / 1000,
    );
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_print_alike() {
        assert_eq!(parse_duration("2h"), Some(2 * HOUR_MS));
        assert_eq!(parse_duration("1h30m"), Some(90 * MINUTE_MS));
        assert_eq!(parse_duration("45s"), Some(45_000));
        for bad in ["", "2", "h", "2x", "0m"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(format_duration(90 * MINUTE_MS), "1h30m");
        assert_eq!(format_duration(10 * MINUTE_MS), "10m");
    }

    #[test]
    fn windows_start_at_multiples_of_the_slide() {
        let sliding = WindowSpec {
            size_ms: HOUR_MS,
            slide_ms: 15 * MINUTE_MS,
        };
        let starts: Vec<i64> = sliding.starts(70 * MINUTE_MS).collect();
        assert_eq!(
            starts,
            vec![
                60 * MINUTE_MS,
                45 * MINUTE_MS,
                30 * MINUTE_MS,
                15 * MINUTE_MS
            ]
        );
        assert_eq!(WindowSpec::tumbling(HOUR_MS).starts(HOUR_MS).count(), 1);
        for label in ["1h", "5m", "1h/15m"] {
            assert_eq!(
                WindowSpec::parse(label).map(WindowSpec::label).as_deref(),
                Some(label)
            );
        }
        assert_eq!(sliding, WindowSpec::parse("1h/15m").unwrap_or(sliding));
        assert_eq!(WindowSpec::parse("1h/"), None);
    }
}
