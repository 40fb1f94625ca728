//! A lab page: the story, the steps (question, reveal, model answer, a check
//! of what the candidate actually did), the console, and a table explorer
//! with every version of the lab's table and a time-travel slider.

use std::rc::Rc;
use std::sync::Arc;

use arrow_array::{Array, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_cast::pretty::pretty_format_batches;
use lakelab_labs::{Lab, Seen};
use leptos::prelude::*;

use crate::bridge::{EngineBridge, Outcome, ResultSet};
use crate::console::SqlConsole;
use crate::transfer::NotebookExport;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Setup {
    NotStarted,
    Running {
        done: usize,
        total: usize,
        label: String,
    },
    Ready,
    Failed(String),
}

/// One row of DESCRIBE HISTORY, as the explorer shows it.
#[derive(Debug, Clone, PartialEq)]
struct Version {
    version: i64,
    timestamp: String,
    operation: String,
    parameters: String,
    metrics: String,
}

/// Column `name` of a result as text, one entry per row.
fn column_text(batches: &[RecordBatch], name: &str) -> Vec<String> {
    let options = FormatOptions::default().with_null("");
    let mut out = Vec::new();
    for batch in batches {
        let Some(column) = batch.column_by_name(name) else {
            continue;
        };
        if let Ok(f) = ArrayFormatter::try_new(column.as_ref(), &options) {
            out.extend((0..column.len()).map(|i| f.value(i).to_string()));
        }
    }
    out
}

fn versions(result: &ResultSet) -> Vec<Version> {
    let b = &result.batches;
    let versions = column_text(b, "version");
    let timestamps = column_text(b, "timestamp");
    let operations = column_text(b, "operation");
    let parameters = column_text(b, "operationParameters");
    let metrics = column_text(b, "operationMetrics");
    (0..versions.len())
        .map(|i| Version {
            version: versions[i].parse().unwrap_or(-1),
            timestamp: timestamps
                .get(i)
                .cloned()
                .unwrap_or_default()
                .replace('T', " "),
            operation: operations.get(i).cloned().unwrap_or_default(),
            parameters: parameters.get(i).cloned().unwrap_or_default(),
            metrics: metrics.get(i).cloned().unwrap_or_default(),
        })
        .collect()
}

/// What a check query returned, for [`lakelab_labs::Check::passed`].
pub(crate) fn seen(outcome: &Outcome) -> Option<Seen> {
    let Outcome::Rows(result) = outcome else {
        return None;
    };
    let first_value = result
        .batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            column_text(std::slice::from_ref(b), b.schema().field(0).name())
                .into_iter()
                .next()
        });
    let text = pretty_format_batches(&result.batches).ok()?.to_string();
    Some(Seen { first_value, text })
}

/// A small read-only table of a result (all rows, no paging).
#[component]
fn MiniTable(result: Arc<ResultSet>) -> impl IntoView {
    let names: Vec<String> = result
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let columns: Vec<Vec<String>> = names
        .iter()
        .map(|n| column_text(&result.batches, n))
        .collect();
    let rows = columns.first().map_or(0, Vec::len);
    view! {
        <table class="mini">
            <thead><tr>{names.into_iter().map(|n| view! { <th>{n}</th> }).collect_view()}</tr></thead>
            <tbody>
                {(0..rows)
                    .map(|r| view! {
                        <tr>{columns.iter().map(|c| view! { <td>{c[r].clone()}</td> }).collect_view()}</tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// Runs `statements` one after another in the background, reporting progress.
pub(crate) fn run_setup(
    engine: EngineBridge,
    statements: Rc<Vec<(String, String)>>,
    next: usize,
    state: RwSignal<Setup>,
    then: Rc<dyn Fn()>,
) {
    let Some((label, sql)) = statements.get(next).cloned() else {
        state.set(Setup::Ready);
        then();
        return;
    };
    state.set(Setup::Running {
        done: next,
        total: statements.len(),
        label,
    });
    engine.query(sql, move |outcome| match outcome {
        Outcome::Failed(message) => state.set(Setup::Failed(message)),
        _ => run_setup(engine, statements, next + 1, state, then),
    });
}

#[component]
pub fn LabPage(engine: EngineBridge, sql: RwSignal<String>, lab: Lab) -> impl IntoView {
    let lab = StoredValue::new(lab);
    let step_count = lab.with_value(|l| l.steps.len());
    let setup = RwSignal::new(Setup::NotStarted);
    let passed = RwSignal::new(vec![false; step_count]);
    let revealed = RwSignal::new(vec![false; step_count]);
    let history = RwSignal::new(Vec::<Version>::new());
    let selected = RwSignal::new(None::<i64>);
    let probe = RwSignal::new(None::<Result<Arc<ResultSet>, String>>);
    let files = RwSignal::new(None::<Result<Arc<ResultSet>, String>>);

    let show_version = move |version: i64| {
        selected.set(Some(version));
        probe.set(None);
        files.set(None);
        let probe_sql = lab.with_value(|l| l.probe_at(version));
        let files_sql =
            lab.with_value(|l| format!("DESCRIBE FILES {} VERSION AS OF {version}", l.table));
        let result = |o: Outcome| match o {
            Outcome::Rows(r) => Ok(r),
            Outcome::Failed(e) => Err(e),
            Outcome::Cancelled { .. } => Err("cancelled".into()),
        };
        engine.query(probe_sql, move |o| probe.set(Some(result(o))));
        engine.query(files_sql, move |o| files.set(Some(result(o))));
    };
    let refresh_history = move || {
        let sql = lab.with_value(|l| format!("DESCRIBE HISTORY {}", l.table));
        engine.query(sql, move |outcome| {
            if let Outcome::Rows(result) = outcome {
                let rows = versions(&result);
                let latest = rows.first().map(|v| v.version);
                history.set(rows);
                if let Some(latest) = latest {
                    show_version(latest);
                }
            }
        });
    };
    // Judges every step not yet done: their checks run as background queries.
    let check_steps = move || {
        let ran = engine.ran.get_untracked();
        let steps = lab.with_value(|l| l.steps.clone());
        for (i, step) in steps.into_iter().enumerate() {
            if passed.get_untracked()[i] {
                continue;
            }
            let queries: Vec<String> = step
                .check
                .queries()
                .into_iter()
                .map(str::to_owned)
                .collect();
            let (ran, check) = (ran.clone(), step.check.clone());
            engine.query_all(queries, move |answers| {
                let lookup = |sql: &str| {
                    answers
                        .iter()
                        .find(|(q, _)| q == sql)
                        .and_then(|(_, outcome)| seen(outcome))
                };
                if check.passed(&ran, &lookup) {
                    passed.update(|p| p[i] = true);
                }
            });
        }
    };
    // After every statement the console runs: judge the steps, refresh the explorer.
    Effect::new(move |previous: Option<u64>| {
        let finished = engine.finished.get();
        if previous.is_some_and(|p| p != finished) && setup.get_untracked() == Setup::Ready {
            check_steps();
            refresh_history();
        }
        finished
    });

    let start_setup = move |_| {
        passed.set(vec![false; step_count]);
        revealed.set(vec![false; step_count]);
        let statements = Rc::new(lab.with_value(|l| l.setup.clone()));
        let then: Rc<dyn Fn()> = Rc::new(refresh_history);
        run_setup(engine, statements, 0, setup, then);
    };
    let setup_text = move || match setup.get() {
        Setup::NotStarted => {
            "Build the lab's world first: it replays the day's loads into a fresh table.".to_owned()
        }
        Setup::Running { done, total, label } => format!("Building… {label} ({done} of {total})"),
        Setup::Ready => {
            "Ready. Work through the steps; the console below runs your SQL.".to_owned()
        }
        Setup::Failed(e) => format!("Setting up failed: {e}"),
    };
    let setup_state = move || match setup.get() {
        Setup::NotStarted => "not-started",
        Setup::Running { .. } => "running",
        Setup::Ready => "ready",
        Setup::Failed(_) => "failed",
    };
    let latest = move || history.get().first().map_or(0, |v| v.version);

    view! {
        <section class="lab">
            <h2>{lab.with_value(|l| l.title)}</h2>
            <p class="story">{lab.with_value(|l| l.story.clone())}</p>
            <NotebookExport engine
                notebook=Some(lab.with_value(lakelab_labs::notebook::guided_lab))
                tables=vec![lab.with_value(|l| l.table.to_owned())] />
            <div class="setup">
                <button id="lab-setup" class="primary"
                    disabled=move || matches!(setup.get(), Setup::Running { .. }) || !engine.is_ready()
                    on:click=start_setup>
                    {move || if setup.get() == Setup::NotStarted { "Build the lab" } else { "Start over" }}
                </button>
                <span id="lab-status" data-state=setup_state>{setup_text}</span>
                <span class="score">{move || {
                    let p = passed.get();
                    format!("{} of {} steps done", p.iter().filter(|d| **d).count(), p.len())
                }}</span>
            </div>
            <div class="lab-grid">
                <ol class="steps">
                    {lab.with_value(|l| l.steps.clone())
                        .into_iter()
                        .enumerate()
                        .map(|(i, step)| {
                            let done = move || passed.get().get(i).copied().unwrap_or(false);
                            let shown = move || revealed.get().get(i).copied().unwrap_or(false);
                            let step_sql = step.sql.clone();
                            view! {
                                <li class="step" class:done=done data-step=i.to_string()
                                    data-done=move || done().to_string()>
                                    <h4>
                                        <span>{format!("{}. {}", i + 1, step.title)}</span>
                                        <span class="badge">{move || if done() { "done" } else { "to do" }}</span>
                                    </h4>
                                    <p class="task">{step.task.clone()}</p>
                                    <p class="question"><b>"What would you answer? "</b>{step.question.clone()}</p>
                                    <textarea class="answer" rows="2" placeholder="Your answer, before you reveal ours"></textarea>
                                    <Show when=move || !shown()>
                                        <button class="reveal" on:click=move |_| revealed.update(|r| r[i] = true)>
                                            "Reveal the model answer"
                                        </button>
                                    </Show>
                                    <Show when=shown>
                                        <div class="model">
                                            <p>{step.answer.clone()}</p>
                                            <pre>{step.sql.clone()}</pre>
                                            <button class="use-sql" on:click={
                                                let step_sql = step_sql.clone();
                                                move |_| sql.set(step_sql.clone())
                                            }>"Put in the editor"</button>
                                        </div>
                                    </Show>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
                <div class="workspace">
                    <SqlConsole engine=engine sql=sql history=false />
                    <section id="explorer" class="explorer">
                        <h3>{lab.with_value(|l| format!("Table explorer: {}", l.table))}</h3>
                        <Show when=move || !history.get().is_empty()
                            fallback=|| view! { <p class="hint">"Build the lab to see the table's versions."</p> }>
                            <div class="slider">
                                <label for="version-slider">"Time travel: version "</label>
                                <input id="version-slider" type="range" min="0"
                                    max=move || latest().to_string()
                                    prop:value=move || selected.get().unwrap_or(0).to_string()
                                    on:change=move |ev| {
                                        if let Ok(v) = event_target_value(&ev).parse() {
                                            show_version(v);
                                        }
                                    } />
                                <b id="selected-version">{move || selected.get().map(|v| v.to_string()).unwrap_or_default()}</b>
                            </div>
                            <div id="probe" class="probe">
                                {move || match probe.get() {
                                    Some(Ok(r)) => view! { <MiniTable result=r /> }.into_any(),
                                    Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                                    None => view! { <p class="hint">"…"</p> }.into_any(),
                                }}
                            </div>
                            <details class="files">
                                <summary>"Files of this version"</summary>
                                {move || match files.get() {
                                    Some(Ok(r)) => view! { <MiniTable result=r /> }.into_any(),
                                    Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                                    None => view! { <p class="hint">"…"</p> }.into_any(),
                                }}
                            </details>
                            <table class="mini versions">
                                <thead><tr><th>"version"</th><th>"time"</th><th>"operation"</th><th>"parameters"</th><th>"metrics"</th></tr></thead>
                                <tbody>
                                    <For each=move || history.get() key=|v| (v.version, v.operation.clone()) let:v>
                                        <tr class="version-row"
                                            class:selected=move || selected.get() == Some(v.version)
                                            on:click=move |_| show_version(v.version)>
                                            <td>{v.version}</td>
                                            <td>{v.timestamp.clone()}</td>
                                            <td>{v.operation.clone()}</td>
                                            <td class="wrap">{v.parameters.clone()}</td>
                                            <td class="wrap">{v.metrics.clone()}</td>
                                        </tr>
                                    </For>
                                </tbody>
                            </table>
                        </Show>
                    </section>
                </div>
            </div>
        </section>
    }
}
