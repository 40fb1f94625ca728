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

use lakelab_labs::cost::CostError;
use lakelab_labs::cost::compare::NamedOption;
use lakelab_labs::cost::default_comparison;
use lakelab_labs::cost::prices::PriceTable;
use lakelab_labs::interview::{self, Exercise, Finding, HINT_COST, Verdict, Work};
use lakelab_protocol::FileData;
use lakelab_protocol::cdc::CdcCommand;
use lakelab_protocol::late::{LateCommand, LateConfig};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bridge::{EngineBridge, Outcome, now_ms};
use crate::cdc::CdcPage;
use crate::console::SqlConsole;
use crate::cost_card::{CardFields, ConfigCard, TriggerKind};
use crate::lab::{Setup, run_setup, seen};
use crate::late::LatePage;
use crate::saved;
use crate::transfer::{download, read_zip};

const PROGRESS_KEY: &str = "lakelab.interview.progress";
/// The file in a shared state's zip that says what the lake is.
const SHARED_FILE: &str = "exercise.json";

/// A shared state, besides the lake itself (tables, the CDC run and its
/// checkpoint, all in the zip): whose exercise, and how far the candidate got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Shared {
    exercise: String,
    seconds: u64,
    hints: usize,
    talk: String,
    /// The last verdict, if there was one: its score and findings.
    verdict: Option<(u32, Vec<String>)>,
    /// A late-events run is not kept in the lake: its settings and the
    /// batches run, replayed on loading (the stream is seeded).
    late: Option<(LateConfig, u32)>,
    /// A cost exercise's configuration as filled in.
    card: Option<CardFields>,
}

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
    let loaded = RwSignal::new(None::<Shared>);
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
                None => view! { <ExerciseList engine progress chosen loaded /> }.into_any(),
                Some(exercise) => {
                    view! { <ExerciseView engine sql exercise progress chosen loaded /> }.into_any()
                }
            }}
        </section>
    }
}

/// Loads a shared state from the file picked in `input`: the lake is
/// replaced, then the exercise opens where the candidate left it.
fn load_shared(
    engine: EngineBridge,
    input: web_sys::HtmlInputElement,
    status: RwSignal<String>,
    chosen: RwSignal<Option<&'static str>>,
    loaded: RwSignal<Option<Shared>>,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let read = read_zip(input.clone()).await;
        input.set_value("");
        let (file, zip) = match read {
            Ok(file) => file,
            Err(e) => return status.set(format!("could not read the file: {e:?}")),
        };
        status.set(format!("loading {file}…"));
        engine.import_lake(zip, move |answer| {
            let shared = answer.and_then(|files| {
                let manifest = files
                    .iter()
                    .find(|f| f.path == SHARED_FILE)
                    .ok_or_else(|| format!("{file} has no {SHARED_FILE}: not a shared exercise"))?;
                serde_json::from_slice::<Shared>(&manifest.data)
                    .map_err(|e| format!("{SHARED_FILE} is unreadable: {e}"))
            });
            match shared.map(|s| (interview::by_id(&s.exercise).map(|e| e.id), s)) {
                Ok((Some(id), shared)) => {
                    status.set(format!("loaded {file}"));
                    loaded.set(Some(shared));
                    chosen.set(Some(id));
                }
                Ok((None, shared)) => status.set(format!(
                    "{file} is for exercise '{}', which this Lakelab does not have",
                    shared.exercise
                )),
                Err(e) => status.set(format!("not loaded: {e}")),
            }
        });
    });
}

#[component]
fn ExerciseList(
    engine: EngineBridge,
    progress: RwSignal<Progress>,
    chosen: RwSignal<Option<&'static str>>,
    loaded: RwSignal<Option<Shared>>,
) -> impl IntoView {
    let load_status = RwSignal::new(String::new());
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
        <p class="load-shared">
            <label class="button">"Load a shared state"
                <input id="exercise-load" type="file" accept=".zip" hidden
                    on:change=move |ev| load_shared(engine, event_target(&ev), load_status, chosen, loaded) />
            </label>
            " "
            <span class="hint">"A candidate's state, shared as a .zip from an exercise: it replaces this browser's tables."</span>
            " "
            <span id="exercise-load-status" class="status">{move || load_status.get()}</span>
        </p>
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
    loaded: RwSignal<Option<Shared>>,
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
    let talk = RwSignal::new(String::new());

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
                start_lab(start, cdc_sender(engine), setup, "starting the lab", then)
            }
            Work::Late { start, .. } => {
                start_lab(start, late_sender(engine), setup, "starting the lab", then)
            }
            Work::Cost { start, .. } => {
                card.set(CardFields::from_option(&start));
                setup.set(Setup::Ready);
                then();
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
                        Err(e) => vec![Finding::new(
                            "the configuration is valid",
                            false,
                            field_error(&e),
                        )],
                    };
                    finish(Verdict { findings });
                },
                Duration::ZERO,
            ),
        }
    };

    // Sharing: the lake as it is now, with the clock, hints, notes and the
    // last verdict; a late-events run travels as its settings and batches.
    let share_status = RwSignal::new(String::new());
    let share = move |_| {
        let seconds = untrack(elapsed);
        let shared = move |late: Option<(LateConfig, u32)>| Shared {
            exercise: id.to_owned(),
            seconds,
            hints: hints.get_untracked(),
            talk: talk.get_untracked(),
            verdict: judged.get_untracked().map(|j| {
                (
                    j.score,
                    j.verdict.findings.iter().map(Finding::to_string).collect(),
                )
            }),
            late,
            card: exercise
                .with_value(|e| matches!(e.work, Work::Cost { .. }))
                .then(|| card.get_untracked()),
        };
        let save = move |shared: Shared| {
            let file = FileData {
                path: SHARED_FILE.to_owned(),
                data: serde_json::to_vec_pretty(&shared).unwrap_or_default(),
            };
            let name = format!(
                "{id}-{}.lakelab.zip",
                minutes_seconds(seconds).replace(':', "m")
            );
            share_status.set(format!("saving {name}…"));
            engine.export_lake(vec![file], move |zip| {
                share_status.set(match zip.map(|zip| download(&name, &zip)) {
                    Ok(Ok(())) => format!("saved {name}"),
                    Ok(Err(e)) => format!("could not save {name}: {e:?}"),
                    Err(e) => format!("not shared: {e}"),
                });
            });
        };
        if exercise.with_value(|e| matches!(e.work, Work::Late { .. })) {
            engine.late(LateCommand::Show, move |view| match view {
                Ok(view) => save(shared(view.map(|v| (v.config, v.progress.len() as u32)))),
                Err(e) => share_status.set(format!("not shared: {e}")),
            });
        } else {
            save(shared(None));
        }
    };

    // A loaded shared state: the lake is already in place; the page takes
    // up the candidate's clock, hints and notes (and replays a late run).
    let review = RwSignal::new(None::<(String, Vec<String>)>);
    if let Some(s) = loaded.get_untracked().filter(|s| s.exercise == id) {
        loaded.set(None);
        hints.set(s.hints);
        talk.set(s.talk.clone());
        started_ms.set(Some(now_ms() - s.seconds as f64 * 1000.0));
        if let Some(fields) = s.card.clone() {
            card.set(fields);
        }
        let (summary, findings) = match &s.verdict {
            None => ("not yet submitted".to_owned(), Vec::new()),
            Some((score, findings)) => (format!("last verdict scored {score}"), findings.clone()),
        };
        review.set(Some((
            format!(
                "A shared state: {} on the candidate's clock, {} hints taken, {summary}. Submit to judge it here.",
                minutes_seconds(s.seconds),
                s.hints,
            ),
            findings,
        )));
        match s.late {
            // Starting runs the first batch.
            Some((config, batches)) => start_lab(
                vec![
                    LateCommand::Start(config),
                    LateCommand::Step {
                        batches: batches.saturating_sub(1),
                    },
                ],
                late_sender(engine),
                setup,
                "replaying the late-events run",
                Rc::new(|| {}),
            ),
            None => setup.set(Setup::Ready),
        }
    }

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
            <button id="exercise-share" disabled=move || !ready() on:click=share
                title="The tables and the lab as they are now, with the clock, hints, notes and last verdict: a .zip an interviewer loads under Interview → Exercises. Right after Start, it is the start state.">
                "Share this state"
            </button>
            <span id="exercise-share-status" class="status">{move || share_status.get()}</span>
        </div>
        {move || review.get().map(|(summary, findings)| view! {
            <div id="exercise-review" class="hint">
                <p>{summary}</p>
                <ul>{findings.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
            </div>
        })}
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
                        prop:value=move || talk.get()
                        on:input=move |ev| talk.set(event_target_value(&ev))
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

/// Sends a lab's start `commands`, `setup` showing it, then `ready`.
fn start_lab<C: 'static, A: 'static>(
    commands: Vec<C>,
    send: Sender<C, A>,
    setup: RwSignal<Setup>,
    label: &str,
    ready: Rc<dyn Fn()>,
) {
    setup.set(Setup::Running {
        done: 0,
        total: commands.len(),
        label: label.to_owned(),
    });
    let done: Reply<A> = Box::new(move |answer| match answer {
        Ok(_) => {
            setup.set(Setup::Ready);
            ready();
        }
        Err(e) => setup.set(Setup::Failed(e)),
    });
    send_all(commands.into(), send, done);
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
fn configured(fields: &CardFields) -> Result<NamedOption, CostError> {
    fields.to_option(&default_comparison().options)
}

fn field_error(e: &CostError) -> String {
    format!("{}: {}", e.field, e.message)
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
    let option = Memo::new(move |_| card.with(configured));
    let error = Signal::derive(move || option.get().err());
    let priced = Memo::new(move |_| {
        option.with(|o| match o {
            Ok(option) => interview::price_configuration(option),
            Err(e) => Err(field_error(e)),
        })
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
