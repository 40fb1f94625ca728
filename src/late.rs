//! The late-events lab page: the stream's and the query's settings, a
//! timeline of event time against processing time with the watermark, the
//! hourly dashboard against the truth, the counters a streaming query
//! reports, the fast/slow reconciliation and the accuracy-against-delay
//! chart. The run lives in the worker; each command answers with the whole
//! state to draw.

use lakelab_labs::late_events::{MODEL_ANSWER, PROMPTS, STORY, TITLE};
use lakelab_protocol::late::{
    HOUR_MS, LateCommand, LateConfig, LateView, Lateness, METRICS, MINUTE_MS, OutputMode,
    PointFate, QUARANTINE, START_MS, WindowSpec, format_duration,
};
use leptos::prelude::*;

use crate::bridge::EngineBridge;
use crate::cdc::{Prompts, chart};
use crate::grid::thousands;
use crate::transfer::NotebookExport;

/// Batches per step while playing: enough to move, few enough to redraw often.
const PLAY_BATCHES: u32 = 2;

/// Sends `command`; the page redraws from the answer. While playing, the
/// answer sends the next step until the stream is read.
fn send(
    engine: EngineBridge,
    command: LateCommand,
    state: RwSignal<Option<LateView>>,
    busy: RwSignal<bool>,
    failure: RwSignal<Option<String>>,
    playing: RwSignal<bool>,
) {
    if busy.get_untracked() {
        return;
    }
    busy.set(true);
    engine.late(command, move |answer| {
        busy.set(false);
        match answer {
            Ok(view) => {
                failure.set(None);
                let finished = view.as_ref().is_none_or(|v| v.read >= v.records);
                state.set(view.map(|v| *v));
                if playing.get_untracked() && !finished {
                    let step = LateCommand::Step {
                        batches: PLAY_BATCHES,
                    };
                    send(engine, step, state, busy, failure, playing);
                } else {
                    playing.set(false);
                }
            }
            Err(message) => {
                playing.set(false);
                failure.set(Some(message));
            }
        }
    });
}

/// The watermark delays the slider offers, `None` (no watermark) first.
const WATERMARK_STEPS: [Option<i64>; 9] = [
    None,
    Some(MINUTE_MS),
    Some(5 * MINUTE_MS),
    Some(10 * MINUTE_MS),
    Some(30 * MINUTE_MS),
    Some(HOUR_MS),
    Some(2 * HOUR_MS),
    Some(3 * HOUR_MS),
    Some(4 * HOUR_MS),
];

/// A slider for one share of the lateness distribution (0 to `max`).
fn share_slider(
    config: RwSignal<LateConfig>,
    id: &'static str,
    label: &'static str,
    max: f64,
    get: fn(&Lateness) -> f64,
    set: fn(&mut Lateness, f64),
) -> impl IntoView {
    let value = move || config.with(|c| get(&c.lateness));
    view! {
        <label>
            {move || format!("{label}: {:.1}%", value() * 100.0)}
            <input id=id type="range" min="0" max=(max * 1000.0).to_string() step="5"
                prop:value=move || ((value() * 1000.0).round() as i64).to_string()
                on:input=move |ev| {
                    if let Ok(permille) = event_target_value(&ev).parse::<f64>() {
                        config.update(|c| {
                            set(&mut c.lateness, permille / 1000.0);
                            c.lateness.name = "custom".into();
                        });
                    }
                } />
        </label>
    }
}

fn time_of_day(ms: i64) -> String {
    let minutes = ms.rem_euclid(24 * HOUR_MS) / MINUTE_MS;
    let days = (ms - START_MS) / (24 * HOUR_MS);
    let day = if days > 0 {
        format!("+{days}d ")
    } else {
        String::new()
    };
    format!("{day}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[component]
pub fn LatePage(
    engine: EngineBridge,
    /// Inside an interview exercise: no story, no questions or model answers.
    #[prop(optional)]
    exercise: bool,
) -> impl IntoView {
    let state = RwSignal::new(None::<LateView>);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let playing = RwSignal::new(false);
    let config = RwSignal::new(LateConfig::default());
    let threshold = RwSignal::new(5.0_f64);
    let go = move |command: LateCommand| send(engine, command, state, busy, failure, playing);
    go(LateCommand::Show);
    Effect::new(move |_| {
        if let Some(v) = state.get() {
            config.set(v.config);
        }
    });
    let started = move || state.with(Option::is_some);

    view! {
        <section class="cdc late">
            <h2>{TITLE}</h2>
            {(!exercise).then(|| view! { <p class="story">{STORY}</p> })}
            <div class="cdc-controls">
                <label>
                    "events"
                    <input id="late-events" type="number" min="1000" step="1000"
                        prop:value=move || config.with(|c| c.events.to_string())
                        on:change=move |ev| { if let Ok(n) = event_target_value(&ev).parse::<u64>() {
                            config.update(|c| c.events = n.clamp(1_000, 2_000_000));
                        } } />
                </label>
                <label>
                    "lateness"
                    <select id="late-profile" on:change=move |ev| {
                        if let Some(l) = Lateness::named(&event_target_value(&ev)) {
                            config.update(|c| c.lateness = l);
                        }
                    }>
                        {Lateness::NAMES.iter().map(|n| view! {
                            <option value=*n selected=move || config.with(|c| c.lateness.name == *n)>{*n}</option>
                        }).collect_view()}
                    </select>
                </label>
                {share_slider(config, "late-minutes", "minutes late", 0.4, |l| l.minutes, |l, v| l.minutes = v)}
                {share_slider(config, "late-hours", "hours offline", 0.3, |l| l.hours, |l, v| l.hours = v)}
                {share_slider(config, "late-beyond", "beyond any watermark", 0.1, |l| l.beyond, |l, v| l.beyond = v)}
                <label>
                    {move || format!(
                        "watermark delay: {}",
                        config.with(|c| c.watermark_ms.map_or("none".into(), format_duration))
                    )}
                    <input id="late-watermark" type="range" min="0" max=(WATERMARK_STEPS.len() - 1).to_string()
                        prop:value=move || config.with(|c| {
                            WATERMARK_STEPS.iter().position(|s| *s == c.watermark_ms).unwrap_or(0).to_string()
                        })
                        on:input=move |ev| {
                            if let Some(step) = event_target_value(&ev).parse::<usize>().ok().and_then(|i| WATERMARK_STEPS.get(i)) {
                                config.update(|c| c.watermark_ms = *step);
                            }
                        } />
                </label>
                <label>
                    "window"
                    <select id="late-window"
                        prop:value=move || config.with(|c| c.window.label())
                        on:change=move |ev| {
                            if let Some(w) = WindowSpec::parse(&event_target_value(&ev)) {
                                config.update(|c| c.window = w);
                            }
                        }>
                        <option value="5m">"5 minutes"</option>
                        <option value="15m">"15 minutes"</option>
                        <option value="1h">"1 hour"</option>
                        <option value="1h/15m">"1 hour, sliding every 15 minutes"</option>
                    </select>
                </label>
                <label>
                    "output mode"
                    <select id="late-mode"
                        prop:value=move || config.with(|c| c.mode.name().to_owned())
                        on:change=move |ev| { if let Some(m) = OutputMode::parse(&event_target_value(&ev)) {
                            config.update(|c| c.mode = m);
                        } }>
                        <option value="append">"append"</option>
                        <option value="update">"update"</option>
                        <option value="complete">"complete"</option>
                    </select>
                </label>
                <label>
                    "maxOffsetsPerTrigger"
                    <input id="late-batch-rows" type="number" min="100" step="100"
                        prop:value=move || config.with(|c| c.batch_rows.to_string())
                        on:change=move |ev| { if let Ok(n) = event_target_value(&ev).parse::<u64>() {
                            config.update(|c| c.batch_rows = n.max(100));
                        } } />
                </label>
                <label>
                    "future-clock devices"
                    <input id="late-future" type="number" min="0" max="10"
                        prop:value=move || config.with(|c| c.future_events.to_string())
                        on:change=move |ev| { if let Ok(n) = event_target_value(&ev).parse::<u32>() {
                            config.update(|c| c.future_events = n.min(10));
                        } } />
                </label>
                <label class="check">
                    <input id="late-dedupe" type="checkbox" prop:checked=move || config.with(|c| c.dedupe)
                        on:change=move |ev| config.update(|c| c.dedupe = event_target_checked(&ev)) />
                    "dropDuplicates"
                </label>
                <label class="check">
                    <input id="late-guard" type="checkbox" prop:checked=move || config.with(|c| c.max_future_ms.is_some())
                        on:change=move |ev| config.update(|c| c.max_future_ms = event_target_checked(&ev).then_some(10 * MINUTE_MS)) />
                    "quarantine future timestamps"
                </label>
            </div>
            <div class="actions cdc-actions">
                <button id="late-start" class="primary" disabled=move || busy.get()
                    on:click=move |_| { playing.set(false); go(LateCommand::Start(config.get_untracked())) }>
                    {move || if started() { "Restart with these settings" } else { "Start" }}
                </button>
                <button id="late-step" disabled=move || busy.get() || !started()
                    on:click=move |_| go(LateCommand::Step { batches: 1 })>"Step one batch"</button>
                <button id="late-play" disabled=move || !started()
                    on:click=move |_| {
                        let start = !playing.get_untracked();
                        playing.set(start);
                        if start {
                            go(LateCommand::Step { batches: PLAY_BATCHES });
                        }
                    }>
                    {move || if playing.get() { "Pause" } else { "Play to the end" }}
                </button>
                <button id="late-reconcile" disabled=move || busy.get() || !started()
                    on:click=move |_| go(LateCommand::Reconcile { threshold_pct: threshold.get_untracked() })>
                    "Run fast and slow paths"
                </button>
                <label class="inline">
                    "alert above"
                    <input id="late-threshold" type="number" min="0" max="100" step="0.5"
                        prop:value=move || threshold.get().to_string()
                        on:change=move |ev| { if let Ok(t) = event_target_value(&ev).parse::<f64>() {
                            threshold.set(t.clamp(0.0, 100.0));
                        } } />
                    "%"
                </label>
                <button id="late-sweep" disabled=move || busy.get() || !started()
                    on:click=move |_| go(LateCommand::Sweep)>"Measure accuracy against the delay"</button>
                <Show when=move || busy.get()>
                    <button id="late-stop" title="Stops the worker; start the run again after"
                        on:click=move |_| { playing.set(false); busy.set(false); engine.restart() }>"Stop"</button>
                </Show>
                <span id="late-status" class="status"
                    data-state=move || if busy.get() { "busy" } else { "idle" }
                    data-read=move || state.with(|v| v.as_ref().map_or(0, |v| v.read).to_string())
                    data-records=move || state.with(|v| v.as_ref().map_or(0, |v| v.records).to_string())>
                    {move || match state.get() {
                        _ if busy.get() => "running…".to_owned(),
                        None => "not started".to_owned(),
                        Some(v) => format!(
                            "{} of {} records read in {} batches",
                            thousands(v.read), thousands(v.records), v.progress.len()
                        ),
                    }}
                </span>
            </div>
            {move || failure.get().map(|e| view! { <p id="late-error" class="error">{e}</p> })}
            {move || state.get().map(|v| view! { <Live view=v /> })}
            <NotebookExport engine
                notebook=Signal::derive(move || state.with(|v| v.as_ref().map(|v| v.notebook.clone())))
                tables=vec![METRICS.to_owned(), QUARANTINE.to_owned()] />
            {(!exercise).then(|| view! { <Prompts prompts=&PROMPTS model_answer=MODEL_ANSWER /> })}
        </section>
    }
}

/// Everything drawn from one state of the run.
#[component]
fn Live(view: LateView) -> impl IntoView {
    let last = view.progress.last().cloned();
    let total = |f: fn(&lakelab_protocol::late::LateProgress) -> u64| -> u64 {
        view.progress.iter().map(f).sum()
    };
    let counters = [
        (
            "late-watermark-now",
            "watermark",
            view.watermark_ms.map_or("none yet".into(), time_of_day),
        ),
        (
            "late-dropped",
            "rows dropped by the watermark",
            thousands(view.dropped),
        ),
        (
            "late-duplicates",
            "duplicates removed",
            thousands(total(|p| p.duplicates_removed)),
        ),
        (
            "late-quarantined",
            "quarantined",
            thousands(view.quarantined_total),
        ),
        (
            "late-state",
            "windows in state",
            last.as_ref()
                .map_or("0".into(), |p| thousands(p.state_windows)),
        ),
        (
            "late-dedupe-state",
            "event ids in state",
            last.as_ref()
                .map_or("0".into(), |p| thousands(p.state_dedupe_keys)),
        ),
        (
            "late-accuracy",
            "events counted",
            format!("{:.2}%", view.accuracy * 100.0),
        ),
    ];
    let state_series: Vec<f64> = view
        .progress
        .iter()
        .map(|p| p.state_windows as f64)
        .collect();
    let dropped_series: Vec<f64> = view
        .progress
        .iter()
        .map(|p| (p.dropped_by_dedupe + p.dropped_by_window) as f64)
        .collect();
    view! {
        <div class="counters">
            {counters.into_iter().map(|(id, label, value)| view! {
                <div class="counter" id=id><b>{value}</b><span>{label}</span></div>
            }).collect_view()}
        </div>
        <div class="late-grid">
            {timeline(&view)}
            {dashboard(&view)}
        </div>
        <div class="charts">
            {chart("Windows in state, per batch", vec![("windows", "#6a1b9a", state_series)])}
            {chart("Rows dropped by the watermark, per batch", vec![("dropped", "#b3261e", dropped_series)])}
            {accuracy_chart(&view)}
        </div>
        <div class="cdc-panels">
            {reconciliation(&view)}
            <div class="panel">
                <h3>"Quarantine"</h3>
                <p class="hint">"Records with no usable event time, kept in late.quarantine with the reason."</p>
                <table class="mini" id="late-quarantine">
                    <tbody>
                        {view.quarantined.iter().map(|q| view! {
                            <tr><td>{q.offset}</td><td class="wrap">{q.reason.clone()}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <div class="panel">
                <h3>"The query"</h3>
                <pre id="late-pyspark">{view.pyspark.clone()}</pre>
                <h4>"Each batch's output is written with"</h4>
                <pre>{view.sink_sql.clone()}</pre>
                {last.map(|p| view! {
                    <details><summary>{format!("Batch {} progress", p.batch_id)}</summary>
                        <pre>{serde_json::to_string_pretty(&p).unwrap_or_default()}</pre>
                    </details>
                })}
            </div>
        </div>
    }
}

/// Event time against processing time: each sampled record a dot coloured
/// by its fate, the diagonal where on-time events fall, and the watermark
/// each batch used. Hand-drawn SVG, like the other charts.
fn timeline(view: &LateView) -> AnyView {
    let (w, h) = (640.0, 300.0);
    let times: Vec<i64> = view
        .timeline
        .iter()
        .filter_map(|p| p.event_time_ms)
        .collect();
    // Processing time runs to the last arrival; event time to the newest
    // honest event (a clock a year ahead would flatten the chart: it is
    // drawn at the top edge).
    let end = view.timeline.iter().map(|p| p.arrival_ms).max();
    let honest = times.iter().filter(|t| end.is_some_and(|e| **t <= e));
    let (Some(&t0), Some(&t1), Some(end)) = (times.iter().min(), honest.max(), end) else {
        return view! { <div class="panel"><p>"No events yet."</p></div> }.into_any();
    };
    let (end, t1) = (end.max(t0 + 1), t1.max(t0 + 1));
    let x = |t: i64| (t - t0) as f64 / (end - t0) as f64 * w;
    let y = |t: i64| h - ((t.min(t1) - t0) as f64 / (t1 - t0) as f64 * (h - 4.0));
    let color = |f: PointFate| match f {
        PointFate::Pending => "#c9d3dc",
        PointFate::Counted => "#0b6fa4",
        PointFate::Dropped => "#d32f2f",
        PointFate::Duplicate => "#8d8d8d",
        PointFate::Quarantined => "#f9a825",
    };
    let dots = view
        .timeline
        .iter()
        .filter_map(|p| {
            let t = p.event_time_ms?;
            Some(view! {
                <circle cx=format!("{:.1}", x(p.arrival_ms)) cy=format!("{:.1}", y(t)) r="1.6"
                    fill=color(p.fate) />
            })
        })
        .collect_view();
    let watermark: Vec<String> = view
        .progress
        .iter()
        .filter_map(|p| Some((p.processing_ms, p.watermark_ms?)))
        .map(|(at, wm)| format!("{:.1},{:.1}", x(at), y(wm)))
        .collect();
    let first_hour = t0 + (HOUR_MS - t0.rem_euclid(HOUR_MS)) % HOUR_MS;
    let processing = (0..=((end - first_hour) / (2 * HOUR_MS)))
        .map(|i| {
            let t = first_hour + i * 2 * HOUR_MS;
            view! {
                <line y1="0" y2=h.to_string() x1=format!("{:.1}", x(t)) x2=format!("{:.1}", x(t))
                    stroke="#eef1f4" />
                <text x=format!("{:.1}", x(t) + 2.0) y=(h - 2.0).to_string() class="axis">{time_of_day(t)}</text>
            }
        })
        .collect_view();
    let hours = (0..=((t1 - first_hour) / HOUR_MS))
        .map(|i| {
            let t = first_hour + i * HOUR_MS;
            view! {
                <line x1="0" x2=w.to_string() y1=format!("{:.1}", y(t)) y2=format!("{:.1}", y(t))
                    stroke="#eef1f4" />
                <text x="2" y=format!("{:.1}", y(t) - 2.0) class="axis">{time_of_day(t)}</text>
            }
        })
        .collect_view();
    view! {
        <figure class="chart timeline" id="late-timeline">
            <figcaption>
                "Event time (up) against processing time (across)"
                <span class="legend">
                    <span style="color:#0b6fa4">"● counted"</span>
                    <span style="color:#d32f2f">"● dropped"</span>
                    <span style="color:#8d8d8d">"● duplicate"</span>
                    <span style="color:#c9d3dc">"● not read yet"</span>
                    <span style="color:#2e7d32">"-- watermark"</span>
                </span>
            </figcaption>
            <svg viewBox=format!("0 0 {w} {h}")>
                {processing}
                {hours}
                <line x1="0" y1=format!("{:.1}", y(t0)) x2=format!("{:.1}", x(t1)) y2=format!("{:.1}", y(t1))
                    stroke="#9aa5b1" stroke-dasharray="2 3" />
                {dots}
                <polyline points=watermark.join(" ") fill="none" stroke="#2e7d32" stroke-width="2"
                    stroke-dasharray="6 3" />
            </svg>
        </figure>
    }
    .into_any()
}

/// The dashboard: each window's count (all event types) against the truth,
/// preliminary until the watermark passes its end.
fn dashboard(view: &LateView) -> AnyView {
    let mut rows: std::collections::BTreeMap<i64, (i64, i64, bool)> = Default::default();
    for w in &view.windows {
        let r = rows.entry(w.window_start_ms).or_insert((0, 0, true));
        r.0 += w.streamed;
        r.1 += w.truth;
        r.2 &= w.is_final;
    }
    let exact = view
        .windows
        .iter()
        .filter(|w| w.streamed == w.truth)
        .count();
    // How far approx_count_distinct strays from the exact distinct count.
    let approx_error = view
        .windows
        .iter()
        .filter(|w| w.users > 0)
        .map(|w| (w.approx_users - w.users).abs() as f64 / w.users as f64)
        .fold(0.0_f64, f64::max);
    view! {
        <div class="panel dashboard">
            <h3>"Dashboard"</h3>
            <p class="hint" id="late-exact">
                {format!("{exact} of {} windows × event types equal the batch query over every event.", view.windows.len())}
            </p>
            <p class="hint" id="late-approx">
                {format!(
                    "approx_count_distinct(user_id) is within {:.1}% of the exact distinct count in every window.",
                    approx_error * 100.0
                )}
            </p>
            <table class="mini" id="late-dashboard">
                <thead><tr><th>"window"</th><th>"events"</th><th>"true"</th><th>"missing"</th><th>"status"</th></tr></thead>
                <tbody>
                    {rows.into_iter().rev().take(24).map(|(start, (streamed, truth, done))| view! {
                        <tr>
                            <td>{time_of_day(start)}</td>
                            <td>{thousands(streamed.max(0) as u64)}</td>
                            <td>{thousands(truth.max(0) as u64)}</td>
                            <td class=if streamed == truth { "" } else { "bad" }>{truth - streamed}</td>
                            <td>{if done { "final" } else { "preliminary" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

fn reconciliation(view: &LateView) -> AnyView {
    let alerts = view.reconciliation.iter().filter(|r| r.alert).count();
    view! {
        <div class="panel">
            <h3>"Fast path against slow path"</h3>
            <p class="hint">
                "Fast: 5-minute windows, 10-minute watermark. Slow: 1-hour windows, 2-hour watermark. "
                {format!("Alert when they differ by more than {}%.", view.threshold_pct)}
            </p>
            {(!view.reconciliation.is_empty()).then(|| view! {
                <p id="late-alerts">{format!("{alerts} of {} hours × event types alert", view.reconciliation.len())}</p>
            })}
            <table class="mini" id="late-reconciliation">
                <thead><tr><th>"hour"</th><th>"type"</th><th>"slow"</th><th>"fast"</th><th>"diff"</th></tr></thead>
                <tbody>
                    {view.reconciliation.iter().take(30).map(|r| view! {
                        <tr class:alert=r.alert>
                            <td>{time_of_day(r.hour_ms)}</td><td>{r.event_type.clone()}</td>
                            <td>{r.slow}</td><td>{r.fast}</td>
                            <td>{format!("{:.1}%{}", r.diff_pct, if r.alert { " ⚠" } else { "" })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Accuracy and state against the watermark delay, one point per re-run.
fn accuracy_chart(view: &LateView) -> AnyView {
    let (w, h) = (300.0, 90.0);
    let n = view.sweep.len().max(2) - 1;
    let max_state = view
        .sweep
        .iter()
        .map(|p| p.state_windows_max)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let min_accuracy = view
        .sweep
        .iter()
        .map(|p| p.accuracy)
        .fold(1.0_f64, f64::min)
        .min(0.9);
    let x = |i: usize| i as f64 / n as f64 * w;
    let accuracy: Vec<String> = view
        .sweep
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let y = h - (p.accuracy - min_accuracy) / (1.0 - min_accuracy) * (h - 6.0) - 3.0;
            format!("{:.1},{:.1}", x(i), y)
        })
        .collect();
    let state: Vec<String> = view
        .sweep
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{:.1},{:.1}",
                x(i),
                h - p.state_windows_max as f64 / max_state * (h - 6.0) - 3.0
            )
        })
        .collect();
    view! {
        <figure class="chart" id="late-sweep-chart">
            <figcaption>"Events counted (blue) and state (purple) against the watermark delay"</figcaption>
            {if view.sweep.is_empty() {
                view! { <p class="hint">"Press “Measure accuracy against the delay”: the stream is re-run for each delay."</p> }.into_any()
            } else {
                view! {
                    <svg viewBox=format!("0 0 {w} {h}") preserveAspectRatio="none">
                        <polyline points=accuracy.join(" ") fill="none" stroke="#0b6fa4" stroke-width="2" vector-effect="non-scaling-stroke" />
                        <polyline points=state.join(" ") fill="none" stroke="#6a1b9a" stroke-width="2" vector-effect="non-scaling-stroke" />
                    </svg>
                    <table class="mini" id="late-sweep-table">
                        <tbody>
                            <tr><th>"delay"</th>{view.sweep.iter().map(|p| view! { <td>{format_duration(p.watermark_ms)}</td> }).collect_view()}</tr>
                            <tr><th>"counted"</th>{view.sweep.iter().map(|p| view! { <td>{format!("{:.1}%", p.accuracy * 100.0)}</td> }).collect_view()}</tr>
                            <tr><th>"state"</th>{view.sweep.iter().map(|p| view! { <td>{p.state_windows_max}</td> }).collect_view()}</tr>
                        </tbody>
                    </table>
                }.into_any()
            }}
        </figure>
    }
    .into_any()
}
