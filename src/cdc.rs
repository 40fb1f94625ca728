//! The CDC lab page: the simulation's controls, the pipeline as a live
//! diagram, charts of rates, batch duration and lag, the Kafka view, the
//! verification against MySQL, the Gold dashboard, and the interview
//! prompts. The simulation runs in the worker; each command answers with
//! the whole state to draw.

use lakelab_labs::cdc::{MODEL_ANSWER, PROMPTS, Prompt, STORY, TITLE};
use lakelab_protocol::cdc::{
    BatchProgress, CdcCommand, CdcConfig, CdcView, StartingOffsets, Trigger,
};
use leptos::prelude::*;

use crate::bridge::EngineBridge;
use crate::grid::thousands;
use crate::measured::Measured;
use crate::transfer::NotebookExport;

/// Sends `command`; the page redraws from the answer. While playing, the
/// answer triggers the next step.
fn send(
    engine: EngineBridge,
    command: CdcCommand,
    view: RwSignal<Option<CdcView>>,
    busy: RwSignal<bool>,
    failure: RwSignal<Option<String>>,
    playing: RwSignal<bool>,
) {
    if busy.get_untracked() {
        return;
    }
    busy.set(true);
    engine.cdc(command, move |answer| {
        busy.set(false);
        match answer {
            Ok(state) => {
                failure.set(None);
                let stopped = state.as_ref().is_none_or(|s| s.error.is_some());
                view.set(state.map(|s| *s));
                if playing.get_untracked() && !stopped {
                    send(
                        engine,
                        CdcCommand::Step { triggers: 1 },
                        view,
                        busy,
                        failure,
                        playing,
                    );
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

#[component]
pub fn CdcPage(
    engine: EngineBridge,
    /// Inside an interview exercise: no story, no questions or model answers.
    #[prop(optional)]
    exercise: bool,
) -> impl IntoView {
    let view_state = RwSignal::new(None::<CdcView>);
    // The cost lab prices the pipeline's measured work per event.
    if let Some(measured) = Measured::get() {
        Effect::new(move |_| {
            view_state.with(|v| {
                if let Some(v) = v {
                    measured.record_cdc(&v.batches, v.config.tables, v.config.tps);
                }
            })
        });
    }
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let playing = RwSignal::new(false);
    let config = RwSignal::new(CdcConfig::default());
    let go = move |command: CdcCommand| send(engine, command, view_state, busy, failure, playing);
    // A reloaded page finds the run where it was.
    go(CdcCommand::Show);
    Effect::new(move |_| {
        if let Some(v) = view_state.get() {
            config.set(v.config);
        }
    });

    let number = move |label: &'static str,
                       id: &'static str,
                       get: fn(&CdcConfig) -> u64,
                       set: fn(&mut CdcConfig, u64)| {
        view! {
            <label>
                {label}
                <input id=id type="number" min="1"
                    prop:value=move || config.with(get).to_string()
                    on:change=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse::<u64>() {
                            config.update(|c| set(c, n));
                        }
                    } />
            </label>
        }
    };

    view! {
        <section class="cdc">
            <h2>{TITLE}</h2>
            {(!exercise).then(|| view! { <p class="story">{STORY}</p> })}
            <div class="cdc-controls">
                {number("tables", "cdc-tables", |c| c.tables as u64, |c, n| c.tables = n.clamp(3, 50) as usize)}
                {number("transactions / s", "cdc-tps", |c| c.tps as u64, |c, n| c.tps = n.min(50_000) as u32)}
                {number("partitions", "cdc-partitions", |c| c.partitions as u64, |c, n| c.partitions = n.clamp(1, 64) as u32)}
                {number("maxOffsetsPerTrigger", "cdc-max-offsets", |c| c.max_offsets_per_trigger.unwrap_or(0), |c, n| c.max_offsets_per_trigger = Some(n))}
                <label>
                    "trigger"
                    <select id="cdc-trigger" on:change=move |ev| {
                        let every = config.with_untracked(|c| c.trigger.interval_ms());
                        let trigger = match event_target_value(&ev).as_str() {
                            "availableNow" => Trigger::AvailableNow { every_ms: every },
                            "once" => Trigger::Once { every_ms: every },
                            _ => Trigger::ProcessingTime { interval_ms: every },
                        };
                        config.update(|c| c.trigger = trigger);
                    }>
                        <option value="processingTime">"processingTime"</option>
                        <option value="availableNow">"availableNow (scheduled)"</option>
                        <option value="once">"once (scheduled)"</option>
                    </select>
                </label>
                {number("every (s)", "cdc-interval", |c| c.trigger.interval_ms() / 1000, |c, n| {
                    let ms = n.max(1) * 1000;
                    c.trigger = match c.trigger {
                        Trigger::ProcessingTime { .. } => Trigger::ProcessingTime { interval_ms: ms },
                        Trigger::AvailableNow { .. } => Trigger::AvailableNow { every_ms: ms },
                        Trigger::Once { .. } => Trigger::Once { every_ms: ms },
                    };
                })}
                <label class="check">
                    <input id="cdc-redeliver" type="checkbox" prop:checked=move || config.with(|c| c.redeliver)
                        on:change=move |ev| config.update(|c| c.redeliver = event_target_checked(&ev)) />
                    "Debezium redelivers"
                </label>
                <label class="check">
                    <input id="cdc-unwrap" type="checkbox" prop:checked=move || config.with(|c| c.unwrap)
                        on:change=move |ev| config.update(|c| c.unwrap = event_target_checked(&ev)) />
                    "unwrap transform"
                </label>
                <label class="check">
                    <input id="cdc-latest" type="checkbox"
                        prop:checked=move || config.with(|c| c.starting_offsets == StartingOffsets::Latest)
                        on:change=move |ev| config.update(|c| c.starting_offsets = if event_target_checked(&ev) {
                            StartingOffsets::Latest
                        } else {
                            StartingOffsets::Earliest
                        }) />
                    "startingOffsets latest"
                </label>
            </div>
            <div class="actions cdc-actions">
                <button id="cdc-start" class="primary" disabled=move || busy.get()
                    on:click=move |_| { playing.set(false); go(CdcCommand::Start(config.get_untracked())) }>
                    {move || if view_state.with(Option::is_some) { "Restart from scratch" } else { "Start" }}
                </button>
                <button id="cdc-step" disabled=move || busy.get() || view_state.with(Option::is_none)
                    on:click=move |_| go(CdcCommand::Step { triggers: 1 })>"Step one trigger"</button>
                <button id="cdc-play" disabled=move || view_state.with(Option::is_none)
                    on:click=move |_| {
                        let start = !playing.get_untracked();
                        playing.set(start);
                        if start {
                            go(CdcCommand::Step { triggers: 1 });
                        }
                    }>
                    {move || if playing.get() { "Pause" } else { "Play" }}
                </button>
                <button id="cdc-forward" disabled=move || busy.get() || view_state.with(Option::is_none)
                    on:click=move |_| go(CdcCommand::Advance { ms: 60_000 })>"Fast-forward 1 min"</button>
                <button id="cdc-crash" disabled=move || busy.get() || view_state.with(Option::is_none)
                    on:click=move |_| go(CdcCommand::Crash)>"Crash the consumer"</button>
                <button id="cdc-poison" disabled=move || busy.get() || view_state.with(Option::is_none)
                    on:click=move |_| go(CdcCommand::InjectBadEvent)>"Inject a bad event"</button>
                <button id="cdc-verify" disabled=move || busy.get() || view_state.with(Option::is_none)
                    on:click=move |_| { playing.set(false); go(CdcCommand::Verify) }>"Verify Silver = MySQL"</button>
                <Show when=move || busy.get()>
                    <button id="cdc-stop" title="Stops the worker; the run resumes from its checkpoint"
                        on:click=move |_| { playing.set(false); busy.set(false); engine.restart() }>"Stop"</button>
                </Show>
                <span id="cdc-status" class="status"
                    data-state=move || if busy.get() { "busy" } else { "idle" }
                    data-batches=move || view_state.with(|v| {
                        v.as_ref().and_then(|v| v.batches.last()).map_or(0, |b| b.batch_id + 1).to_string()
                    })>
                    {move || match view_state.get() {
                        _ if busy.get() => "running…".to_owned(),
                        None => "not started".to_owned(),
                        Some(v) => format!(
                            "simulated {} · {} s in · {} batches",
                            v.now.replace('T', " ").trim_end_matches('Z'),
                            v.elapsed_ms / 1000,
                            v.batches.last().map_or(0, |b| b.batch_id + 1)
                        ),
                    }}
                </span>
            </div>
            {move || failure.get().map(|e| view! { <p class="error">{e}</p> })}
            {move || view_state.get().map(|v| view! { <Live view=v go=go /> })}
            <NotebookExport engine
                notebook=Signal::derive(move || view_state.with(|v| v.as_ref().map(|v| v.notebook.clone())))
                tables=Signal::derive(move || engine.tables.with(|all| {
                    all.iter()
                        .map(|t| t.name.clone())
                        .filter(|n| ["bronze.", "silver.", "gold."].iter().any(|layer| n.starts_with(layer)))
                        .collect::<Vec<_>>()
                })) />
            {(!exercise).then(|| view! { <Prompts prompts=&PROMPTS model_answer=MODEL_ANSWER /> })}
        </section>
    }
}

/// Everything drawn from one state of the run.
#[component]
fn Live(view: CdcView, go: impl Fn(CdcCommand) + Copy + 'static) -> impl IntoView {
    let c = view.counts.clone();
    let last = view.batches.last().cloned();
    let behind = last.as_ref().is_some_and(|b| {
        b.num_input_rows > 0 && b.input_rows_per_second > 1.5 * b.processed_rows_per_second
    });
    let stage = |id: &'static str, name: &'static str, lines: Vec<String>| {
        view! {
            <div class="stage" id=id>
                <h4>{name}</h4>
                {lines.into_iter().map(|l| view! { <div>{l}</div> }).collect_view()}
            </div>
        }
    };
    let rates: Vec<f64> = view
        .batches
        .iter()
        .map(|b| b.input_rows_per_second)
        .collect();
    let processed: Vec<f64> = view
        .batches
        .iter()
        .map(|b| b.processed_rows_per_second)
        .collect();
    let durations: Vec<f64> = view
        .batches
        .iter()
        .map(|b| {
            b.duration_ms
                .get("triggerExecution")
                .copied()
                .unwrap_or(0.0)
        })
        .collect();
    let lags: Vec<f64> = view.batches.iter().map(|b| b.lag as f64).collect();
    let error = view.error.clone();
    view! {
        <div class="diagram">
            {stage("stage-mysql", "MySQL", vec![
                format!("{} rows", thousands(c.mysql_rows)),
                format!("{} transactions", thousands(c.transactions)),
                format!("binlog {}", c.binlog_file),
            ])}
            <span class="arrow">"→"</span>
            {stage("stage-debezium", "Debezium", vec![
                format!("{} events", thousands(c.debezium_events)),
                format!("{} re-sent", thousands(c.redelivered)),
                format!("GTID …{}", c.gtid.rsplit(':').next().unwrap_or_default()),
            ])}
            <span class="arrow">"→"</span>
            {stage("stage-kafka", "Kafka", vec![
                format!("{} records", thousands(c.kafka_records)),
                format!("{} topics × {} partitions", c.topics, view.config.partitions),
                format!("lag {}", thousands(c.lag.max(0) as u64)),
            ])}
            <span class="arrow">"→"</span>
            {stage("stage-bronze", "Bronze", vec![
                format!("{} rows", thousands(c.bronze_rows)),
                format!("{} dead letters", thousands(c.dead_letters)),
            ])}
            <span class="arrow">"→"</span>
            {stage("stage-silver", "Silver", vec![
                format!("{} tables", c.silver_tables),
                format!("{} rows", thousands(c.silver_rows)),
            ])}
            <span class="arrow">"→"</span>
            {stage("stage-gold", "Gold", vec![format!("{} rows", thousands(c.gold_rows))])}
        </div>
        {behind.then(|| view! {
            <p id="cdc-alert" class="error">
                "Falling behind: input is more than 1.5× what the pipeline processes per second. "
                "Lag will keep growing; raise maxOffsetsPerTrigger, or lower the rate."
            </p>
        })}
        {error.map(|e| view! {
            <div id="cdc-error" class="error">
                <p>"The pipeline stopped, nothing of the batch was committed: " {e}</p>
                <button id="cdc-skip" on:click=move |_| go(CdcCommand::SkipBadRecords)>
                    "Move bad records to the dead-letter table and resume"
                </button>
            </div>
        })}
        <div class="charts">
            {chart("Rows per second", vec![("input", "#0b6fa4", rates), ("processed", "#2e7d32", processed)])}
            {chart("Batch duration (ms)", vec![("duration", "#6a1b9a", durations)])}
            {chart("Consumer lag (records)", vec![("lag", "#b3261e", lags)])}
        </div>
        <div class="cdc-panels">
            <div class="panel">
                <h3>"Verification"</h3>
                {match &view.verification {
                    None => view! { <p class="hint">"Press “Verify”: the pipeline drains, then Silver is compared with MySQL row for row."</p> }.into_any(),
                    Some(v) => {
                        let mismatched: Vec<_> = v.tables.iter().filter(|t| t.mismatched_rows > 0).cloned().collect();
                        view! {
                            <p id="cdc-verification" data-identical=v.identical.to_string()
                                class=if v.identical { "message" } else { "error" }>
                                {if v.identical { "Identical. " } else { "Different. " }}
                                {format!(
                                    "{} Silver tables against MySQL: {} rows differ. Bronze: {} rows for {} consumed Kafka records, {} duplicated, {} missing. Gold: {} rows differ from the same aggregation over MySQL.",
                                    v.silver_tables, v.mismatched_rows, thousands(v.bronze_rows), thousands(v.kafka_records),
                                    v.bronze_duplicates, v.bronze_missing, v.gold_mismatched_rows
                                )}
                            </p>
                            <table class="mini">
                                <tbody>
                                    {mismatched.into_iter().map(|t| view! {
                                        <tr><td>{t.silver_table}</td><td>{format!("{} of {} rows differ", t.mismatched_rows, t.source_rows)}</td>
                                        <td>{format!("keys {:?}", t.sample_keys)}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                }}
                {(!view.crashes.is_empty()).then(|| view! {
                    <h4>"Crashes and recoveries"</h4>
                    <ul id="cdc-crashes" class="crashes">
                        {view.crashes.iter().rev().take(6).map(|c| view! { <li>{c.clone()}</li> }).collect_view()}
                    </ul>
                })}
            </div>
            <div class="panel">
                <h3>"Kafka: production.sales.orders"</h3>
                <table class="mini" id="cdc-partitions">
                    <thead><tr><th>"partition"</th><th>"log start"</th><th>"end"</th><th>"committed"</th><th>"lag"</th></tr></thead>
                    <tbody>
                        {view.partitions.iter().map(|p| view! {
                            <tr><td>{p.partition}</td><td>{p.log_start}</td><td>{p.end}</td><td>{p.committed}</td><td>{p.lag}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <details>
                    <summary>"Newest Debezium events"</summary>
                    {view.sample.iter().map(|(p, o, k, v)| view! {
                        <pre class="event">{format!("partition {p} offset {o}\nkey   {}\nvalue {}", k.clone().unwrap_or_default(), v.clone().unwrap_or_else(|| "null (tombstone)".into()))}</pre>
                    }).collect_view()}
                </details>
            </div>
            <div class="panel">
                <h3>"Gold: daily sales, newest day"</h3>
                <table class="mini" id="cdc-gold">
                    <thead><tr><th>"day"</th><th>"segment"</th><th>"category"</th><th>"revenue"</th><th>"orders"</th><th>"customers"</th></tr></thead>
                    <tbody>
                        {view.gold.iter().take(10).map(|(d, s, c, r, o, u)| view! {
                            <tr><td>{d.clone()}</td><td>{s.clone()}</td><td>{c.clone()}</td><td>{format!("{r:.2}")}</td><td>{*o}</td><td>{*u}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </div>
        {last.map(last_batch)}
        <details class="merge">
            <summary>"The Silver MERGE for sales.orders"</summary>
            <pre>{view.merge_sql.clone()}</pre>
        </details>
    }
}

/// The newest batch's progress, as Spark reports it.
fn last_batch(b: BatchProgress) -> impl IntoView {
    let phases: Vec<String> = b
        .duration_ms
        .iter()
        .map(|(k, v)| format!("{k} {v:.1}"))
        .collect();
    let json = serde_json::to_string_pretty(&b).unwrap_or_default();
    view! {
        <div class="panel last-batch" id="cdc-last-batch">
            <h3>{format!("Batch {}{}", b.batch_id, if b.replayed { " (re-run after a crash)" } else { "" })}</h3>
            <p>
                {format!(
                    "{} rows · input {:.0}/s · processed {:.0}/s · lag {} · Bronze {} rows · {} Silver tables merged · {} writes skipped as already committed",
                    thousands(b.num_input_rows), b.input_rows_per_second, b.processed_rows_per_second,
                    b.lag, b.bronze_rows, b.silver.len(), b.skipped_writes
                )}
            </p>
            <p class="hint">{format!("durationMs: {}", phases.join(" · "))}</p>
            <details><summary>"StreamingQueryProgress"</summary><pre>{json}</pre></details>
        </div>
    }
}

/// A small line chart: one polyline per series, scaled to the largest value.
/// Hand-drawn SVG: three lines do not justify a plotting library in the UI.
pub fn chart(
    title: &'static str,
    series: Vec<(&'static str, &'static str, Vec<f64>)>,
) -> impl IntoView {
    let (w, h) = (300.0, 90.0);
    let max = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let lines: Vec<_> = series
        .iter()
        .map(|(name, color, values)| {
            let step = w / (values.len().max(2) - 1) as f64;
            let points: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{:.1},{:.1}", i as f64 * step, h - v / max * (h - 4.0)))
                .collect();
            let last = values.last().copied().unwrap_or(0.0);
            (name.to_string(), color.to_string(), points.join(" "), last)
        })
        .collect();
    view! {
        <figure class="chart">
            <figcaption>{title} <span class="hint">{format!(" max {}", thousands(max as u64))}</span></figcaption>
            <svg viewBox=format!("0 0 {w} {h}") preserveAspectRatio="none">
                {lines.iter().map(|(_, color, points, _)| view! {
                    <polyline points=points.clone() fill="none" stroke=color.clone() stroke-width="2" vector-effect="non-scaling-stroke" />
                }).collect_view()}
            </svg>
            <div class="legend">
                {lines.into_iter().map(|(name, color, _, last)| view! {
                    <span style=format!("color:{color}")>{format!("{name} {}", thousands(last as u64))}</span>
                }).collect_view()}
            </div>
        </figure>
    }
}

/// The interviewer's questions, each with what to try and a model answer.
#[component]
pub fn Prompts(prompts: &'static [Prompt], model_answer: &'static str) -> impl IntoView {
    view! {
        <div class="panel prompts">
            <h3>"What an interviewer asks"</h3>
            <ol>
                {prompts.iter().map(|p| {
                    let open = RwSignal::new(false);
                    view! {
                        <li>
                            <p><b>{p.question}</b></p>
                            <p class="hint">{p.try_this}</p>
                            <button class="reveal" on:click=move |_| open.update(|o| *o = !*o)>
                                {move || if open.get() { "Hide the answer" } else { "Show a model answer" }}
                            </button>
                            <Show when=move || open.get()><p class="model">{p.answer}</p></Show>
                        </li>
                    }
                }).collect_view()}
            </ol>
            <details>
                <summary>"A model answer to the whole question"</summary>
                <p>{model_answer}</p>
            </details>
        </div>
    }
}
