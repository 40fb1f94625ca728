//! Exercises on the late-events lab's stream, solved with the lab's
//! controls and judged on the run the lab reports: what was read, the
//! per-window counts against the batch truth, the accuracy and the state.

use lakelab_protocol::late::{
    HOUR_MS, LateCommand, LateConfig, LateView, MINUTE_MS, format_duration,
};

use super::{Difficulty, Exercise, Finding, Work};

/// Small enough to play to the end in seconds, in the browser too.
const EVENTS: u64 = 20_000;

/// The lab's stream at the exercises' size, with one setting changed.
fn start(change: impl FnOnce(&mut LateConfig)) -> Vec<LateCommand> {
    let mut config = stream();
    change(&mut config);
    vec![LateCommand::Start(config)]
}

/// The stream every exercise starts from (before its one change).
fn stream() -> LateConfig {
    LateConfig {
        events: EVENTS,
        ..LateConfig::default()
    }
}

/// The candidate ran the same stream (the same events and lateness, the
/// same windows) and read all of it.
fn same_stream_read(view: &LateView) -> Vec<Finding> {
    let c = &view.config;
    let s = stream();
    let same = c.seed == s.seed
        && c.events == s.events
        && c.hours == s.hours
        && c.lateness == s.lateness
        && c.window == s.window;
    vec![
        Finding::new(
            "the same stream and windows as the task's",
            same,
            if same {
                "same events, lateness and windows".to_owned()
            } else {
                "the stream or the window was changed: the task is about the query over this stream"
                    .to_owned()
            },
        ),
        Finding::new(
            "the whole stream was read",
            view.read >= view.records,
            format!("{} of {} records read", view.read, view.records),
        ),
    ]
}

fn accuracy_at_least(view: &LateView, share: f64) -> Finding {
    Finding::new(
        format!(
            "at least {:.0} % of the true events are counted",
            share * 100.0
        ),
        view.accuracy >= share,
        format!("{:.2} % counted", view.accuracy * 100.0),
    )
}

fn watermark_kept(view: &LateView) -> Finding {
    Finding::new(
        "a watermark bounds the state",
        view.config.watermark_ms.is_some(),
        match view.config.watermark_ms {
            Some(ms) => format!("watermark {}", format_duration(ms)),
            None => "no watermark: every window and event id stays in state forever".to_owned(),
        },
    )
}

fn smallest_watermark_for_99(view: &LateView) -> Vec<Finding> {
    let mut findings = same_stream_read(view);
    findings.push(accuracy_at_least(view, 0.99));
    // The lab's own sweep (run at submission) re-ran this stream under each delay.
    let knee = view
        .sweep
        .iter()
        .filter(|p| p.accuracy >= 0.99)
        .min_by_key(|p| p.watermark_ms);
    findings.push(match (knee, view.config.watermark_ms) {
        (None, _) => Finding::new(
            "no smaller delay keeps 99 %",
            false,
            "the sweep found no delay keeping 99 %",
        ),
        (_, None) => Finding::new(
            "no smaller delay keeps 99 %",
            false,
            "no watermark: state grows without bound",
        ),
        (Some(knee), Some(ms)) => Finding::new(
            "no smaller delay keeps 99 %",
            ms <= knee.watermark_ms,
            format!(
                "{} chosen; the smallest delay keeping 99 % is {} ({} windows of state at most)",
                format_duration(ms),
                format_duration(knee.watermark_ms),
                knee.state_windows_max
            ),
        ),
    });
    findings
}

fn future_clock_contained(view: &LateView) -> Vec<Finding> {
    let mut findings = same_stream_read(view);
    findings.push(Finding::new(
        "the future-clock device still sends",
        view.config.future_events >= FUTURE_EVENTS,
        format!("{} events a year ahead", view.config.future_events),
    ));
    findings.push(watermark_kept(view));
    findings.push(Finding::new(
        "its events are quarantined with the reason",
        view.quarantined_total >= u64::from(FUTURE_EVENTS),
        format!("{} records quarantined", view.quarantined_total),
    ));
    findings.push(accuracy_at_least(view, 0.99));
    findings
}

const FUTURE_EVENTS: u32 = 3;

/// `"03:00"`: a window's start as the dashboard labels it.
fn hour_of_day(ms: i64) -> String {
    format!("{:02}:00", ms.rem_euclid(24 * HOUR_MS) / HOUR_MS)
}

fn no_double_counts(view: &LateView) -> Vec<Finding> {
    let mut findings = same_stream_read(view);
    let over: Vec<_> = view
        .windows
        .iter()
        .filter(|w| w.streamed > w.truth)
        .collect();
    findings.push(Finding::new(
        "no window counts more events than happened",
        over.is_empty(),
        match over.first() {
            None => format!("{} windows, none over", view.windows.len()),
            Some(w) => format!(
                "{} windows over their true count (e.g. {} at {}: {} counted, {} true)",
                over.len(),
                w.event_type,
                hour_of_day(w.window_start_ms),
                w.streamed,
                w.truth
            ),
        },
    ));
    findings.push(watermark_kept(view));
    findings.push(accuracy_at_least(view, 0.99));
    findings
}

pub(super) fn exercises() -> Vec<Exercise> {
    let title = crate::late_events::TITLE;
    vec![
        Exercise {
            id: "late-watermark-99",
            lab: title,
            title: "A watermark for 99 % with the least state",
            difficulty: Difficulty::Medium,
            minutes: 10,
            brief: "The hourly dashboard's query runs with a 10-minute watermark and misses events from \
                    phones that were offline. Choose the watermark delay that counts at least 99 % of \
                    the events with the least state, and run the stream to the end with it."
                .into(),
            hints: vec![
                "Accuracy is measured against a batch query over every event: step the stream and \
                 watch what the watermark drops."
                    .into(),
                "“Measure accuracy against the delay” re-runs the same stream under each delay.".into(),
                "State grows with the delay: take the smallest one that reaches the target, not the \
                 largest you can afford."
                    .into(),
            ],
            rubric: vec![
                "Sizes the delay from the measured lateness distribution, not from a guess or a default.",
                "Names the trade: a longer delay keeps more late events but holds more windows in state and delays final results.",
                "Knows what is beyond the delay is dropped by the aggregation, and recovers it with a batch correction from Bronze.",
                "Would monitor rows dropped by the watermark and state size, since device behaviour changes.",
            ],
            work: Work::Late {
                start: start(|c| c.watermark_ms = Some(10 * MINUTE_MS)),
                measure: vec![LateCommand::Sweep],
                judge: smallest_watermark_for_99,
            },
        },
        Exercise {
            id: "late-future-clock",
            lab: title,
            title: "One clock a year ahead",
            difficulty: Difficulty::Medium,
            minutes: 8,
            brief: "Since a device with its clock set a year ahead joined, the dashboard has lost nearly \
                    every event. The device cannot be fixed. Make the query robust to it: count at \
                    least 99 % of the events, keep a watermark, and keep the bad events where someone \
                    can see why they were set aside."
                .into(),
            hints: vec![
                "Step a few batches and watch the watermark line after the device's first event.".into(),
                "The watermark follows the largest event time seen; one event can move it a year.".into(),
                "Events stamped far past their arrival can be quarantined before they reach the \
                 watermark."
                    .into(),
            ],
            rubric: vec![
                "Explains that the watermark is the maximum event time minus the delay, so one future timestamp drags it forward for good.",
                "Guards the input rather than the aggregation: rejects event times too far past the arrival time, with a reason.",
                "Keeps the quarantined records (a table with the raw payload) and alerts on its growth.",
                "Does not remove the watermark to hide the problem: state would then grow forever.",
            ],
            work: Work::Late {
                start: start(|c| {
                    c.future_events = FUTURE_EVENTS;
                    c.max_future_ms = None;
                    c.watermark_ms = Some(2 * HOUR_MS);
                }),
                measure: Vec::new(),
                judge: future_clock_contained,
            },
        },
        Exercise {
            id: "late-double-count",
            lab: title,
            title: "Hours that count too much",
            difficulty: Difficulty::Warmup,
            minutes: 6,
            brief: "Some hours on the dashboard show more events than the app sent: the SDK retries when \
                    it gets no acknowledgement. Make no hour count more than happened, keep the state \
                    bounded, and still count at least 99 % of the events."
                .into(),
            hints: vec![
                "Compare the streamed count with the true one per hour: where is it above?".into(),
                "A retried event carries the same event id.".into(),
                "dropDuplicates on the id keeps ids in state; the watermark lets it forget them.".into(),
            ],
            rubric: vec![
                "Deduplicates on the event id, which the retry repeats, not on the whole payload.",
                "Includes the event time with the watermark so the deduplication's state expires.",
                "Knows a duplicate arriving after the watermark can no longer be recognised, and says what that costs.",
                "Would make the sink idempotent too (MERGE on window and key), so a replayed batch cannot double count.",
            ],
            work: Work::Late {
                start: start(|c| c.dedupe = false),
                measure: Vec::new(),
                judge: no_double_counts,
            },
        },
    ]
}
