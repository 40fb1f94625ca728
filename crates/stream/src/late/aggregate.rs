//! The stateful part of
//! `events.withWatermark("event_time", delay).dropDuplicates(["event_id"])
//! .groupBy(window("event_time", size, slide), "event_type").agg(...)`,
//! with Spark's semantics:
//!
//! - the watermark is the largest event time seen minus the delay, computed
//!   at the end of a batch and used from the next one; it never moves back;
//! - deduplication drops rows whose event time is at or below the watermark
//!   (it can no longer know whether it saw them) and forgets ids below it;
//! - the aggregation drops a row's window when the window ended at or below
//!   the watermark, and evicts such windows from state (append and update
//!   modes; complete mode must keep every window, so it drops nothing);
//! - append emits a window once, when the watermark passes its end; update
//!   emits the windows a batch changed; complete emits every window.
//!
//! Written by hand: DataFusion has no streaming state or watermarks, and this
//! state machine is exactly what the lab exists to show. The approximate
//! distinct count is a HyperLogLog++ sketch, as in Spark.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasherDefault;

use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};
use lakelab_protocol::late::{OutputMode, WindowSpec};

use super::read::Event;

/// A query the planner would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "Append output mode not supported when there are streaming aggregations on streaming \
         DataFrames without watermark: add withWatermark, or use update or complete mode"
    )]
    AppendWithoutWatermark,
    #[error(
        "the window's size ({size_ms} ms) must be a positive multiple of its slide ({slide_ms} ms)"
    )]
    BadWindow { size_ms: i64, slide_ms: i64 },
    #[error("approx_count_distinct: {0}")]
    Sketch(String),
}

/// The aggregation's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuerySpec {
    pub window: WindowSpec,
    pub watermark_ms: Option<i64>,
    pub mode: OutputMode,
    pub dedupe: bool,
}

impl QuerySpec {
    pub fn check(&self) -> Result<(), QueryError> {
        let WindowSpec { size_ms, slide_ms } = self.window;
        if slide_ms <= 0 || size_ms <= 0 || size_ms % slide_ms != 0 {
            return Err(QueryError::BadWindow { size_ms, slide_ms });
        }
        if self.mode == OutputMode::Append && self.watermark_ms.is_none() {
            return Err(QueryError::AppendWithoutWatermark);
        }
        Ok(())
    }
}

/// HyperLogLog++ precision for `approx_count_distinct`: 9 is what Spark
/// uses for its default relative standard deviation of 5%.
const HLL_PRECISION: u8 = 9;

/// A fixed hasher: the same events give the same estimate on every run.
type Sketch = HyperLogLogPlus<String, BuildHasherDefault<DefaultHasher>>;

/// A window's aggregates.
#[derive(Clone)]
struct WindowState {
    events: i64,
    users: HashSet<String>,
    approx_users: Sketch,
    /// The sketch's estimate, taken when the window last changed.
    approx_count: i64,
    value_sum: f64,
    changed: bool,
}

/// One output row.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowRow {
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub event_type: String,
    pub events: i64,
    pub users: i64,
    pub approx_users: i64,
    pub value_sum: f64,
}

/// What became of an input row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Counted in at least one window.
    Counted,
    /// A copy of a row already seen.
    Duplicate,
    /// Later than the watermark: the deduplication dropped it.
    LateForDedupe,
    /// Every window it belongs to had already closed.
    LateForWindow,
}

/// A batch's effect.
#[derive(Debug, Clone, Default)]
pub struct BatchResult {
    pub output: Vec<WindowRow>,
    /// Each input row's fate, in input order.
    pub fates: Vec<Fate>,
    pub watermark_ms: Option<i64>,
    /// Rows (events × windows, as Spark counts after expanding a sliding
    /// window) the aggregation dropped.
    pub dropped_by_window: u64,
    pub dropped_by_dedupe: u64,
    pub duplicates: u64,
}

pub struct WindowedAggregation {
    spec: QuerySpec,
    /// Keyed by (window start, event type).
    state: BTreeMap<(i64, String), WindowState>,
    /// Event ids seen, with their event time (for eviction).
    seen: HashMap<String, i64>,
    watermark_ms: Option<i64>,
    max_event_time_ms: Option<i64>,
    /// What each new window's distinct-count sketch starts from.
    empty_sketch: Sketch,
}

impl WindowedAggregation {
    pub fn new(spec: QuerySpec) -> Result<Self, QueryError> {
        spec.check()?;
        Ok(WindowedAggregation {
            spec,
            state: BTreeMap::new(),
            seen: HashMap::new(),
            watermark_ms: None,
            max_event_time_ms: None,
            empty_sketch: Sketch::new(HLL_PRECISION, Default::default())
                .map_err(|e| QueryError::Sketch(e.to_string()))?,
        })
    }

    pub fn watermark_ms(&self) -> Option<i64> {
        self.watermark_ms
    }

    pub fn max_event_time_ms(&self) -> Option<i64> {
        self.max_event_time_ms
    }

    /// Windows held in state.
    pub fn state_windows(&self) -> usize {
        self.state.len()
    }

    /// Event ids held by the deduplication.
    pub fn state_dedupe_keys(&self) -> usize {
        self.seen.len()
    }

    /// Every window in state, finished or not.
    pub fn current(&self) -> Vec<WindowRow> {
        self.state.iter().map(|(k, s)| self.row(k, s)).collect()
    }

    fn row(&self, (start, event_type): &(i64, String), s: &WindowState) -> WindowRow {
        WindowRow {
            window_start_ms: *start,
            window_end_ms: start + self.spec.window.size_ms,
            event_type: event_type.clone(),
            events: s.events,
            users: s.users.len() as i64,
            approx_users: s.approx_count,
            value_sum: s.value_sum,
        }
    }

    /// Runs one micro-batch.
    pub fn process(&mut self, batch: &[Event]) -> BatchResult {
        // Only a query with `withWatermark` ever has one.
        let watermark = self.watermark_ms;
        let late = |t: i64| watermark.is_some_and(|w| t <= w);
        let size = self.spec.window.size_ms;
        let drops_late_windows = self.spec.mode != OutputMode::Complete;
        let mut result = BatchResult {
            watermark_ms: watermark,
            ..BatchResult::default()
        };
        let mut batch_max: Option<i64> = None;
        for e in batch {
            batch_max = batch_max.max(Some(e.event_time_ms));
            if self.spec.dedupe {
                if late(e.event_time_ms) {
                    result.dropped_by_dedupe += 1;
                    result.fates.push(Fate::LateForDedupe);
                    continue;
                }
                if self.seen.contains_key(&e.event_id) {
                    result.duplicates += 1;
                    result.fates.push(Fate::Duplicate);
                    continue;
                }
                self.seen.insert(e.event_id.clone(), e.event_time_ms);
            }
            let mut counted = false;
            for start in self.spec.window.starts(e.event_time_ms) {
                if drops_late_windows && late(start + size) {
                    result.dropped_by_window += 1;
                    continue;
                }
                counted = true;
                let s = self
                    .state
                    .entry((start, e.event_type.clone()))
                    .or_insert_with(|| WindowState {
                        events: 0,
                        users: HashSet::new(),
                        approx_users: self.empty_sketch.clone(),
                        approx_count: 0,
                        value_sum: 0.0,
                        changed: false,
                    });
                s.events += 1;
                if !s.users.contains(&e.user_id) {
                    s.users.insert(e.user_id.clone());
                }
                s.approx_users.insert(&e.user_id);
                s.value_sum += e.value;
                s.changed = true;
            }
            result.fates.push(if counted {
                Fate::Counted
            } else {
                Fate::LateForWindow
            });
        }

        for s in self.state.values_mut().filter(|s| s.changed) {
            s.approx_count = s.approx_users.count().round() as i64;
        }
        let closed = |start: i64| late(start + size);
        result.output = match self.spec.mode {
            OutputMode::Append => self
                .state
                .iter()
                .filter(|((start, _), _)| closed(*start))
                .map(|(k, s)| self.row(k, s))
                .collect(),
            OutputMode::Update => self
                .state
                .iter()
                .filter(|(_, s)| s.changed)
                .map(|(k, s)| self.row(k, s))
                .collect(),
            OutputMode::Complete => self.current(),
        };
        for s in self.state.values_mut() {
            s.changed = false;
        }
        if drops_late_windows {
            self.state.retain(|(start, _), _| !closed(*start));
        }
        if let Some(w) = watermark {
            self.seen.retain(|_, t| *t > w);
        }
        // The next batch's watermark.
        self.max_event_time_ms = self.max_event_time_ms.max(batch_max);
        if let (Some(delay), Some(max)) = (self.spec.watermark_ms, self.max_event_time_ms) {
            self.watermark_ms = self.watermark_ms.max(Some(max - delay));
        }
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use lakelab_protocol::late::{HOUR_MS, MINUTE_MS};

    fn event(id: &str, minute: i64) -> Event {
        Event {
            offset: 0,
            arrival_ms: 0,
            event_id: id.into(),
            user_id: format!("u{id}"),
            event_type: "click".into(),
            event_time_ms: minute * MINUTE_MS,
            value: 1.0,
        }
    }

    fn spec(mode: OutputMode) -> QuerySpec {
        QuerySpec {
            window: WindowSpec::tumbling(HOUR_MS),
            watermark_ms: Some(30 * MINUTE_MS),
            mode,
            dedupe: true,
        }
    }

    #[test]
    fn the_watermark_trails_the_latest_event_from_the_next_batch_on() {
        let mut q = WindowedAggregation::new(spec(OutputMode::Update)).unwrap();
        let first = q.process(&[event("a", 10), event("b", 100)]);
        assert_eq!(first.watermark_ms, None, "no watermark in the first batch");
        assert_eq!(q.watermark_ms(), Some(70 * MINUTE_MS));
        // An older maximum never moves it back.
        q.process(&[event("c", 80)]);
        assert_eq!(q.watermark_ms(), Some(70 * MINUTE_MS));
        // Event at minute 50: window [0, 60) ended before the watermark (70).
        let late = q.process(&[event("d", 50), event("e", 75), event("a", 10)]);
        assert_eq!(
            late.fates,
            vec![Fate::LateForDedupe, Fate::Counted, Fate::LateForDedupe]
        );
        assert_eq!(late.dropped_by_dedupe, 2);
        // Window [0, 60) was evicted when the watermark passed its end.
        assert!(q.current().iter().all(|r| r.window_start_ms >= HOUR_MS));
    }

    #[test]
    fn a_row_behind_the_watermark_still_counts_while_its_window_is_open() {
        let mut q = WindowedAggregation::new(QuerySpec {
            dedupe: false,
            ..spec(OutputMode::Update)
        })
        .unwrap();
        q.process(&[event("a", 100)]); // watermark → 70
        // Minute 65 is behind the watermark, but its window [60, 120) is open.
        let r = q.process(&[event("b", 65), event("c", 30)]);
        assert_eq!(r.fates, vec![Fate::Counted, Fate::LateForWindow]);
        assert_eq!(r.dropped_by_window, 1);
        assert_eq!(r.output.len(), 1);
        assert_eq!(r.output[0].events, 2);
    }

    #[test]
    fn output_modes_emit_what_spark_emits() {
        let batches = [
            vec![event("a", 10), event("b", 70)],
            vec![event("c", 75)],
            vec![event("d", 130)],
            vec![event("e", 200)],
        ];
        let run = |mode| {
            let mut q = WindowedAggregation::new(spec(mode)).unwrap();
            batches
                .iter()
                .map(|b| {
                    q.process(b)
                        .output
                        .iter()
                        .map(|r| (r.window_start_ms / HOUR_MS, r.events))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        // Watermarks used: none, 40, 45, 100 (minutes).
        assert_eq!(
            run(OutputMode::Append),
            vec![vec![], vec![], vec![], vec![(0, 1)]]
        );
        assert_eq!(
            run(OutputMode::Update),
            vec![
                vec![(0, 1), (1, 1)],
                vec![(1, 2)],
                vec![(2, 1)],
                vec![(3, 1)]
            ]
        );
        assert_eq!(
            run(OutputMode::Complete).last().unwrap(),
            &vec![(0, 1), (1, 2), (2, 1), (3, 1)]
        );
    }

    #[test]
    fn sliding_windows_count_a_row_in_each_window_it_falls_in() {
        let mut q = WindowedAggregation::new(QuerySpec {
            window: WindowSpec {
                size_ms: HOUR_MS,
                slide_ms: 15 * MINUTE_MS,
            },
            ..spec(OutputMode::Complete)
        })
        .unwrap();
        let r = q.process(&[event("a", 70)]);
        let starts: Vec<i64> = r
            .output
            .iter()
            .map(|r| r.window_start_ms / MINUTE_MS)
            .collect();
        assert_eq!(starts, vec![15, 30, 45, 60]);
    }

    #[test]
    fn spark_refuses_append_without_a_watermark() {
        let err = WindowedAggregation::new(QuerySpec {
            watermark_ms: None,
            ..spec(OutputMode::Append)
        })
        .err();
        assert_eq!(err, Some(QueryError::AppendWithoutWatermark));
        assert!(
            WindowedAggregation::new(QuerySpec {
                window: WindowSpec {
                    size_ms: HOUR_MS,
                    slide_ms: 7 * MINUTE_MS
                },
                ..spec(OutputMode::Update)
            })
            .is_err()
        );
    }
}
