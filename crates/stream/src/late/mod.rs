//! Late-arriving events: a seeded stream of app events delivered late
//! ([`source`]), read with bad timestamps quarantined ([`read`]), counted per
//! event-time window under a watermark with Spark's semantics
//! ([`aggregate`]), written to Delta per output mode ([`sink`]), and checked
//! against a batch query over every event ([`truth`]); [`reconcile`] runs a
//! fast and a slow path side by side, and [`lab`] is what the lab page drives.

pub mod aggregate;
pub mod lab;
pub mod read;
pub mod reconcile;
pub mod sink;
pub mod source;
pub mod truth;

use std::collections::BTreeMap;

use lakelab_engine::Engine;
use lakelab_protocol::late::{LateConfig, LateProgress, OutputMode, WindowSpec};

use crate::error::Result;
use aggregate::{Fate, QuerySpec, WindowRow, WindowedAggregation};
use read::{Quarantined, read};
use sink::Sink;
use source::{Generated, generate};

/// A windowed query over the generated stream, batch by batch.
pub struct LateRun {
    pub config: LateConfig,
    pub stream: Generated,
    aggregation: WindowedAggregation,
    /// The next delivery to read.
    next: usize,
    pub progress: Vec<LateProgress>,
    pub quarantined: Vec<Quarantined>,
    /// Each delivery's fate once read (`None`: not yet, or quarantined).
    pub fates: Vec<Option<Fate>>,
    /// The windows as the sink holds them.
    emitted: BTreeMap<(i64, String), WindowRow>,
    sink: Option<Sink>,
    /// Whether this query writes the quarantine table (one query per stream does).
    quarantines: bool,
}

impl LateRun {
    pub fn new(config: LateConfig) -> Result<Self> {
        let stream = generate(&config);
        Self::over(config, stream)
    }

    /// A query over an already generated stream (e.g. the fast and slow
    /// paths over the same events).
    pub fn over(config: LateConfig, stream: Generated) -> Result<Self> {
        let aggregation = WindowedAggregation::new(QuerySpec {
            window: config.window,
            watermark_ms: config.watermark_ms,
            mode: config.mode,
            dedupe: config.dedupe,
        })?;
        Ok(LateRun {
            fates: vec![None; stream.deliveries.len()],
            config,
            stream,
            aggregation,
            next: 0,
            progress: Vec::new(),
            quarantined: Vec::new(),
            emitted: BTreeMap::new(),
            sink: None,
            quarantines: true,
        })
    }

    /// Writes each batch's output into `table` (created if missing).
    pub async fn with_sink(
        mut self,
        engine: &Engine,
        table: &str,
        quarantines: bool,
    ) -> Result<Self> {
        self.sink = Some(Sink::open(engine, table, self.config.mode).await?);
        self.quarantines = quarantines;
        Ok(self)
    }

    pub fn sink(&self) -> Option<&Sink> {
        self.sink.as_ref()
    }

    pub fn done(&self) -> bool {
        self.next >= self.stream.deliveries.len()
    }

    pub fn watermark_ms(&self) -> Option<i64> {
        self.aggregation.watermark_ms()
    }

    /// Reads the next `batch_rows` records and runs them as one micro-batch;
    /// `None` when the stream is exhausted.
    pub async fn step(&mut self, engine: Option<&Engine>) -> Result<Option<&LateProgress>> {
        if self.done() {
            return Ok(None);
        }
        let started = web_time::Instant::now();
        let end =
            (self.next + self.config.batch_rows.max(1) as usize).min(self.stream.deliveries.len());
        let deliveries = &self.stream.deliveries[self.next..end];
        let processing_ms = deliveries.last().map_or(0, |d| d.arrival_ms);
        let (mut events, mut quarantined) = (Vec::new(), Vec::new());
        for d in deliveries {
            match read(d, self.config.max_future_ms) {
                Ok(e) => events.push(e),
                Err(q) => quarantined.push(q),
            }
        }
        let batch_id = self.progress.len() as i64;
        let result = self.aggregation.process(&events);
        if let (Some(sink), Some(engine)) = (&self.sink, engine) {
            let quarantine: &[Quarantined] = if self.quarantines { &quarantined } else { &[] };
            sink.write(engine, batch_id, &result.output, quarantine)
                .await?;
        }
        self.next = end;
        for (e, fate) in events.iter().zip(&result.fates) {
            self.fates[e.offset as usize] = Some(*fate);
        }
        if self.config.mode == OutputMode::Complete {
            self.emitted.clear();
        }
        for row in &result.output {
            self.emitted
                .insert((row.window_start_ms, row.event_type.clone()), row.clone());
        }
        self.progress.push(LateProgress {
            batch_id,
            num_input_rows: deliveries.len() as u64,
            processing_ms,
            watermark_ms: result.watermark_ms,
            max_event_time_ms: self.aggregation.max_event_time_ms(),
            dropped_by_dedupe: result.dropped_by_dedupe,
            dropped_by_window: result.dropped_by_window,
            duplicates_removed: result.duplicates,
            quarantined: quarantined.len() as u64,
            state_windows: self.aggregation.state_windows() as u64,
            state_dedupe_keys: self.aggregation.state_dedupe_keys() as u64,
            rows_output: result.output.len() as u64,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        });
        self.quarantined.extend(quarantined);
        Ok(self.progress.last())
    }

    /// Runs every remaining batch.
    pub async fn run_to_end(&mut self, engine: Option<&Engine>) -> Result<()> {
        while self.step(engine).await?.is_some() {}
        Ok(())
    }

    /// Every window the query has computed: what the sink holds, updated by
    /// the windows still in state (in append mode not yet written), each
    /// with whether the watermark has passed its end.
    pub fn windows(&self) -> Vec<(WindowRow, bool)> {
        let mut all = self.emitted.clone();
        for row in self.aggregation.current() {
            all.insert((row.window_start_ms, row.event_type.clone()), row);
        }
        let watermark = self.watermark_ms();
        all.into_values()
            .map(|r| {
                let done = watermark.is_some_and(|w| r.window_end_ms <= w);
                (r, done)
            })
            .collect()
    }

    /// Rows dropped by either stateful operator, over the whole run.
    pub fn dropped(&self) -> u64 {
        self.progress
            .iter()
            .map(|p| p.dropped_by_dedupe + p.dropped_by_window)
            .sum()
    }

    /// The largest state (windows) any batch left.
    pub fn state_windows_max(&self) -> u64 {
        self.progress
            .iter()
            .map(|p| p.state_windows)
            .max()
            .unwrap_or(0)
    }

    /// The share of true events some window counted.
    pub fn accuracy(&self) -> f64 {
        let counted = self
            .fates
            .iter()
            .filter(|f| **f == Some(Fate::Counted))
            .count();
        counted as f64 / self.stream.events.len().max(1) as f64
    }
}

/// The window a query of `config` uses, described as Spark's `window()` call.
pub fn describe_window(window: WindowSpec) -> String {
    let d = |ms: i64| {
        if ms % lakelab_protocol::late::HOUR_MS == 0 {
            format!("{} hour", ms / lakelab_protocol::late::HOUR_MS)
        } else {
            format!("{} minutes", ms / lakelab_protocol::late::MINUTE_MS)
        }
    };
    if window.slide_ms == window.size_ms {
        format!("window(event_time, '{}')", d(window.size_ms))
    } else {
        format!(
            "window(event_time, '{}', '{}')",
            d(window.size_ms),
            d(window.slide_ms)
        )
    }
}
