//! Interview mode's page: pick an exercise, build its start state, work
//! against the clock — in the console, in the CDC or late-events lab's
//! controls, or in the cost lab's configuration form —, take hints (each
//! costs points), talk it through, and submit. The verdict comes from the
//! exercise's checker (`lakelab_labs::interview`) run on what the engine or
//! the lab then holds; the rubric is shown after the first submission. Best
//! scores are kept in localStorage.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use lakelab_labs::cost::compare::NamedOption;
use lakelab_labs::cost::default_comparison;
use lakelab_labs::cost::prices::PriceTable;
use lakelab_labs::interview::{self, Exercise, Finding, HINT_COST, Verdict, Work};
use lakelab_protocol::cdc::CdcCommand;
use lakelab_protocol::late::LateCommand;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bridge::{EngineBridge, Outcome, now_ms};
use crate::cdc::CdcPage;
use crate::console::SqlConsole;
use crate::cost_card::{CardFields, ConfigCard, TriggerKind};
use crate::lab::{Setup, run_setup, seen};
use crate::late::LatePage;
use crate::saved;

const PROGRESS_KEY: &str = "lakelab.interview.progress";

/// What the candidate has done with one exercise, across sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Record {
    attempts: u32,
    best: u32,
    /// Seconds to the first passing submission.
    solved_in: Option<u64>,
}

type Progress = BTreeMap<String, Record>;

fn minutes_seconds(seconds: u64) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

fn difficulty(e: &Exercise) -> String {
    format!("{:?}", e.difficulty).to_lowercase()
}

#[component]
pub fn InterviewPage(engine: EngineBridge, sql: RwSignal<String>) -> impl IntoView {
    let progress = RwSignal::new(saved::load::<Progress>(PROGRESS_KEY).unwrap_or_default());
    let chosen = RwSignal::new(None::<&'static str>);
    view! {
        <section class="lab interview">
            <h2>"Interview mode"</h2>
            <p class="story">
                "Exercises as an interviewer sets them: a prepared state, a task, a clock. Work in SQL \
                 or with a lab's controls; when you submit, Lakelab checks what you left — rows, \
                 history, files read, the stream's verification, accuracy and state, the price of your \
                 configuration — and says what it found. Hints cost " {HINT_COST} " points each."
            </p>
            {move || match chosen.get().and_then(interview::by_id) {
                None => view! { <ExerciseList progress chosen /> }.into_any(),
                Some(exercise) => {
                    view! { <ExerciseView engine sql exercise progress chosen /> }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn ExerciseList(
    progress: RwSignal<Progress>,
    chosen: RwSignal<Option<&'static str>>,
) -> impl IntoView {
    let all = interview::all();
    let total = all.len();
    let summary = move || {
        let p = progress.get();
        let solved: Vec<u32> = p.values().filter(|r| r.best > 0).map(|r| r.best).collect();
        let mean = solved.iter().sum::<u32>() / (solved.len().max(1) as u32);
        format!(
            "{} of {total} solved · mean best score {mean}",
            solved.len()
        )
    };
    view! {
        <p id="interview-progress" class="hint">{summary}</p>
        <table class="mini exercises">
            <thead><tr>
                <th>"exercise"</th><th>"lab"</th><th>"work in"</th><th>"level"</th><th>"time"</th>
                <th>"attempts"</th><th>"best"</th><th></th>
            </tr></thead>
            <tbody>
                {all.into_iter()
                    .map(|e| {
                        let id = e.id;
                        let record = move || progress.get().get(id).cloned().unwrap_or_default();
                        view! {
                            <tr class="exercise-row" data-id=id>
                                <td class="wrap">{e.title}</td>
                                <td class="wrap">{e.lab}</td>
                                <td class="wrap">{e.work.place()}</td>
                                <td>{difficulty(&e)}</td>
                                <td>{format!("{} min", e.minutes)}</td>
                                <td>{move || record().attempts}</td>
                                <td class="best">{move || match record() {
                                    r if r.attempts == 0 => "–".to_owned(),
                                    r => r.best.to_string(),
                                }}</td>
                                <td><button class="open" on:click=move |_| chosen.set(Some(id))>"Open"</button></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// The verdict on a submission and what it scored.
#[derive(Debug, Clone, PartialEq)]
struct Judged {
    verdict: Verdict,
    score: u32,
}

#[component]
fn ExerciseView(
    engine: EngineBridge,
    sql: RwSignal<String>,
    exercise: Exercise,
    progress: RwSignal<Progress>,
    chosen: RwSignal<Option<&'static str>>,
) -> impl IntoView {
    let exercise = StoredValue::new(exercise);
    let id = exercise.with_value(|e| e.id);
    let setup = RwSignal::new(Setup::NotStarted);
    // The clock starts when the start state is ready and stops when solved.
    let started_ms = RwSignal::new(None::<f64>);
    let solved_in = RwSignal::new(None::<u64>);
    let now = RwSignal::new(now_ms());
    if let Ok(tick) = set_interval_with_handle(move || now.set(now_ms()), Duration::from_secs(1)) {
        on_cleanup(move || tick.clear());
    }
    let hints = RwSignal::new(0usize);
    let checking = RwSignal::new(false);
    let judged = RwSignal::new(None::<Judged>);

    let elapsed = move || {
        solved_in.get().unwrap_or_else(|| {
            started_ms
                .get()
                .map_or(0, |s| ((now.get() - s).max(0.0) / 1000.0) as u64)
        })
    };
    // A cost exercise's configuration, as the candidate fills it in.
    let card = RwSignal::new(CardFields::new("", TriggerKind::Continuous, ""));
    let build = move |_| {
        let first = started_ms.get_untracked().is_none();
        let then: Rc<dyn Fn()> = Rc::new(move || {
            if first {
                started_ms.set(Some(now_ms()));
            }
        });
        let ready = then.clone();
        let started = move |answer: Result<(), String>| match answer {
            Ok(_) => {
                setup.set(Setup::Ready);
                ready();
            }
            Err(e) => setup.set(Setup::Failed(e)),
        };
        let starting = |total| Setup::Running {
            done: 0,
            total,
            label: "starting the lab".to_owned(),
        };
        match exercise.with_value(|e| e.work.clone()) {
            Work::Sql { setup: sql, .. } => {
                let n = sql.len();
                let statements = sql
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| (format!("statement {} of {n}", i + 1), s))
                    .collect();
                run_setup(engine, Rc::new(statements), 0, setup, then);
            }
            Work::Cdc { start, .. } => {
                setup.set(starting(start.len()));
                send_all(
                    start.into(),
                    cdc_sender(engine),
                    Box::new(move |a| started(a.map(drop))),
                );
            }
            Work::Late { start, .. } => {
                setup.set(starting(start.len()));
                send_all(
                    start.into(),
                    late_sender(engine),
                    Box::new(move |a| started(a.map(drop))),
                );
            }
            Work::Cost { start, .. } => {
                card.set(CardFields::from_option(&start));
                started(Ok(()));
            }
        }
    };
    let submit = move |_| {
        checking.set(true);
        judged.set(None);
        let finish = move |verdict: Verdict| {
            let seconds = untrack(elapsed);
            let score = exercise.with_value(|e| e.score(&verdict, hints.get_untracked(), seconds));
            if verdict.passed() && solved_in.get_untracked().is_none() {
                solved_in.set(Some(seconds));
            }
            progress.update(|p| {
                let record = p.entry(id.to_owned()).or_default();
                record.attempts += 1;
                record.best = record.best.max(score);
                if verdict.passed() {
                    record.solved_in.get_or_insert(seconds);
                }
                saved::save(PROGRESS_KEY, p);
            });
            judged.set(Some(Judged { verdict, score }));
            checking.set(false);
        };
        match exercise.with_value(|e| e.work.clone()) {
            Work::Sql { probes, .. } => {
                let queries = probes.iter().map(|p| p.sql()).collect();
                engine.query_all(queries, move |answers| {
                    let lookup = |sql: &str| match answers.iter().find(|(q, _)| q == sql) {
                        None => Err("not run".to_owned()),
                        Some((_, Outcome::Failed(e))) => Err(e.clone()),
                        Some((_, Outcome::Cancelled { .. })) => Err("cancelled".to_owned()),
                        Some((_, outcome)) => seen(outcome).ok_or_else(|| "unreadable".to_owned()),
                    };
                    finish(exercise.with_value(|e| e.judge(&lookup)));
                });
            }
            // The view as the candidate left it (its lag), then the
            // verification, which drains the pipeline first.
            Work::Cdc { judge, .. } => engine.cdc(CdcCommand::Show, move |shown| match shown {
                Ok(Some(mut view)) => {
                    engine.cdc(CdcCommand::Verify, move |verified| match verified {
                        Ok(answer) => {
                            view.verification = answer.and_then(|v| v.verification);
                            finish(Verdict {
                                findings: judge(&view),
                            });
                        }
                        Err(e) => finish(not_judged(e)),
                    })
                }
                Ok(None) => finish(not_judged("the lab has not started".into())),
                Err(e) => finish(not_judged(e)),
            }),
            Work::Late { measure, judge, .. } => {
                let mut commands = VecDeque::from(measure);
                commands.push_back(LateCommand::Show);
                let judged = move |answer: Result<Option<Box<_>>, String>| match answer {
                    Ok(Some(view)) => finish(Verdict {
                        findings: judge(&view),
                    }),
                    Ok(None) => finish(not_judged("the lab has not started".into())),
                    Err(e) => finish(not_judged(e)),
                };
                send_all(commands, late_sender(engine), Box::new(judged));
            }
            // Priced on the UI thread (a few dozen simulated days): after
            // this frame, so "Checking…" shows first.
            Work::Cost { judge, .. } => set_timeout(
                move || {
                    let findings = match card.with_untracked(configured) {
                        Ok(option) => judge(&option),
                        Err(e) => vec![Finding::new("the configuration is valid", false, e)],
                    };
                    finish(Verdict { findings });
                },
                Duration::ZERO,
            ),
        }
    };

    let ready = move || setup.get() == Setup::Ready;
    let status = move || match setup.get() {
        Setup::NotStarted => {
            "Build the start state to begin; the clock starts when it is ready.".to_owned()
        }
        Setup::Running { done, total, label } => format!("Building… {label} ({done} of {total})"),
        Setup::Ready => "Ready: the start state is as the task describes.".to_owned(),
        Setup::Failed(e) => format!("Building failed: {e}"),
    };
    let state = move || match setup.get() {
        Setup::NotStarted => "not-started",
        Setup::Running { .. } => "running",
        Setup::Ready => "ready",
        Setup::Failed(_) => "failed",
    };
    let limit = exercise.with_value(|e| u64::from(e.minutes) * 60);
    let hint_total = exercise.with_value(|e| e.hints.len());
    let timer_class = move || match (solved_in.get(), elapsed() > limit) {
        (Some(_), _) => "timer solved",
        (None, true) => "timer over",
        (None, false) => "timer",
    };

    let workspace = match exercise.with_value(|e| e.work.clone()) {
        Work::Sql { .. } => view! { <SqlConsole engine=engine sql=sql history=false /> }.into_any(),
        // The lab page is mounted once the start state is built, so it
        // draws that state.
        Work::Cdc { .. } => {
            view! { <Show when=ready><CdcPage engine exercise=true /></Show> }.into_any()
        }
        Work::Late { .. } => {
            view! { <Show when=ready><LatePage engine exercise=true /></Show> }.into_any()
        }
        Work::Cost { .. } => view! { <Show when=ready><CostWorkspace card /></Show> }.into_any(),
    };

    view! {
        <div class="setup">
            <button class="back" on:click=move |_| chosen.set(None)>"← All exercises"</button>
            <button id="exercise-setup" class="primary"
                disabled=move || matches!(setup.get(), Setup::Running { .. }) || !engine.is_ready()
                on:click=build>
                {move || if started_ms.get().is_none() { "Start" } else { "Reset to the start state" }}
            </button>
            <span id="exercise-status" data-state=state>{status}</span>
            <span id="timer" class=timer_class>
                {move || format!("{} / {}", minutes_seconds(elapsed()), minutes_seconds(limit))}
            </span>
        </div>
        <div class="lab-grid">
            <div class="steps brief-panel">
                <div class="step">
                    <h4>
                        <span id="exercise-title">{exercise.with_value(|e| e.title)}</span>
                        <span class="badge">{exercise.with_value(|e| format!("{} · {} min", difficulty(e), e.minutes))}</span>
                    </h4>
                    <p class="task" id="exercise-brief">{exercise.with_value(|e| e.brief.clone())}</p>
                    <ol class="hints">
                        {move || exercise.with_value(|e| {
                            e.hints.iter().take(hints.get()).map(|h| view! { <li>{h.clone()}</li> }).collect_view()
                        })}
                    </ol>
                    <button id="take-hint" disabled=move || { hints.get() >= hint_total }
                        on:click=move |_| hints.update(|h| *h += 1)>
                        {move || format!("Take a hint (−{HINT_COST} points) · {} of {hint_total} taken", hints.get())}
                    </button>
                    <p class="question"><b>"Talk it through: "</b>
                        "what you did and why, as you would say it to the interviewer."</p>
                    <textarea id="talk" class="answer" rows="4"
                        placeholder="Your explanation, before you see the rubric"></textarea>
                    <p>
                        <button id="exercise-submit" class="primary"
                            disabled=move || !ready() || checking.get() || engine.running.get().is_some()
                            on:click=submit>
                            {move || if checking.get() { "Checking…" } else { "Submit for a verdict" }}
                        </button>
                    </p>
                    {move || judged.get().map(|j| view! { <VerdictView judged=j exercise /> })}
                </div>
            </div>
            <div class="workspace">{workspace}</div>
        </div>
    }
}

#[component]
fn VerdictView(judged: Judged, exercise: StoredValue<Exercise>) -> impl IntoView {
    let passed = judged.verdict.passed();
    view! {
        <div id="verdict" class="verdict" class:passed=passed data-passed=passed.to_string()>
            <h4>
                <span>{if passed { "Solved" } else { "Not yet" }}</span>
                <span id="score" class="badge">{format!("score {}", judged.score)}</span>
            </h4>
            <ul class="findings">
                {judged.verdict.findings.into_iter()
                    .map(|f| view! {
                        <li class="finding" data-passed=f.passed.to_string()>
                            {if f.passed { "✓ " } else { "✗ " }}<b>{f.what}</b>": "{f.detail}
                        </li>
                    })
                    .collect_view()}
            </ul>
            <div class="model rubric">
                <b>"What a strong answer covers"</b>
                <ul>{exercise.with_value(|e| e.rubric.iter().map(|r| view! { <li>{*r}</li> }).collect_view())}</ul>
            </div>
        </div>
    }
}

/// An answer to a lab command, or why there is none.
type Reply<A> = Box<dyn FnOnce(Result<A, String>)>;
type Sender<C, A> = Rc<dyn Fn(C, Reply<A>)>;

/// Sends `commands` one after another, stopping at the first failure;
/// `done` gets the last answer.
fn send_all<C: 'static, A: 'static>(mut commands: VecDeque<C>, send: Sender<C, A>, done: Reply<A>) {
    let Some(next) = commands.pop_front() else {
        return done(Err("no command to send".into()));
    };
    let again = send.clone();
    send(
        next,
        Box::new(move |answer| match answer {
            Ok(_) if !commands.is_empty() => send_all(commands, again, done),
            answer => done(answer),
        }),
    );
}

fn cdc_sender(
    engine: EngineBridge,
) -> Sender<CdcCommand, Option<Box<lakelab_protocol::cdc::CdcView>>> {
    Rc::new(move |command, reply| engine.cdc(command, reply))
}

fn late_sender(
    engine: EngineBridge,
) -> Sender<LateCommand, Option<Box<lakelab_protocol::late::LateView>>> {
    Rc::new(move |command, reply| engine.late(command, reply))
}

fn not_judged(why: String) -> Verdict {
    Verdict {
        findings: vec![Finding::new("the lab answered", false, why)],
    }
}

/// The configuration the form describes, on the cost lab's default
/// measurements (the exercise's numbers do not depend on this browser's).
fn configured(fields: &CardFields) -> Result<NamedOption, String> {
    fields
        .to_option(&default_comparison().options)
        .map_err(|e| format!("{}: {}", e.field, e.message))
}

/// A cost exercise's workspace: the cost lab's configuration form and what
/// the cost model says of it, repriced as it changes.
#[component]
fn CostWorkspace(card: RwSignal<CardFields>) -> impl IntoView {
    let prices = RwSignal::new(PriceTable::default());
    let rungs = Signal::derive(|| {
        default_comparison()
            .options
            .into_iter()
            .filter_map(|o| match o.workload {
                lakelab_labs::cost::compare::Workload::Scan(s) => Some(s.rung),
                _ => None,
            })
            .collect::<Vec<_>>()
    });
    let priced = Memo::new(move |_| {
        card.with(configured)
            .and_then(|option| interview::price_configuration(&option))
    });
    let error = Signal::derive(move || {
        card.with(|f| f.to_option(&default_comparison().options))
            .err()
    });
    view! {
        <div class="cost exercise-cost">
            <ConfigCard id="exercise-card" fields=card error prices rungs />
            <p id="exercise-price" class="status">
                {move || match priced.get() {
                    Ok(r) => format!(
                        "The cost model: {} a day, {:.1} minutes at worst, {} workers at the peak.",
                        lakelab_labs::cost::dollars(r.cost_per_day),
                        r.latency_s / 60.0,
                        r.peak_workers
                    ),
                    Err(e) => format!("Not priced: {e}"),
                }}
            </p>
        </div>
    }
}
