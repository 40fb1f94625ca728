//! The slow-query lab page: generate the benchmark's `events` table at a
//! chosen size, then climb the ladder of remedies. Every number on it is
//! measured here: a rung's time is the wall clock around the request to
//! the engine worker and its answer, its files and bytes are what the
//! Delta scans reported, its error is its answer against the exact one.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use lakelab_labs::slow_query::{
    self, Accuracy, Day, MODEL_ANSWER, PROMPTS, SIZES, STORY, Scaling, Step, TITLE,
};
use lakelab_protocol::ScanInfo;
use leptos::prelude::*;

use crate::bridge::{EngineBridge, Outcome, ResultSet, now_ms};
use crate::cdc::Prompts;
use crate::grid::thousands;
use crate::measured::{Measured, ScanMeasure};
use crate::transfer::NotebookExport;

/// Memory the engine may fill in a tab: wasm32's 4 GiB, less a quarter for
/// the engine itself and the query's working memory.
const BROWSER_MEMORY: u64 = 3 << 30;

/// A statement's answer and the milliseconds the page waited for it.
struct Timed {
    result: Arc<ResultSet>,
    ms: f64,
}

/// What one rung measured.
#[derive(Debug, Clone)]
struct Rung {
    step: Step,
    prepare_ms: f64,
    cold_ms: f64,
    ms: f64,
    scan: ScanInfo,
    probe: ScanInfo,
    accuracy: Accuracy,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Idle,
    Generating { rows: u64, request: u64 },
    Climbing(&'static str),
    Failed(String),
}

/// Runs `statements` one after another, then calls `done` with every answer.
fn run_all(
    engine: EngineBridge,
    mut statements: VecDeque<String>,
    mut answers: Vec<Timed>,
    done: Box<dyn FnOnce(Result<Vec<Timed>, String>)>,
) {
    let Some(sql) = statements.pop_front() else {
        done(Ok(answers));
        return;
    };
    let started = now_ms();
    engine.query(sql.clone(), move |outcome| match outcome {
        Outcome::Rows(result) => {
            answers.push(Timed {
                result,
                ms: now_ms() - started,
            });
            run_all(engine, statements, answers, done);
        }
        Outcome::Failed(e) => done(Err(format!("{e}\n(while running: {sql})"))),
        Outcome::Cancelled { .. } => done(Err("cancelled".into())),
    });
}

/// The scans of one statement, summed.
fn scan_of(result: &ResultSet) -> ScanInfo {
    result
        .scans
        .iter()
        .fold(ScanInfo::default(), ScanInfo::plus)
}

fn human_count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

fn human_bytes(bytes: i64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// EXPLAIN's rows as text: each plan under its kind.
fn plan_text(result: &ResultSet) -> String {
    let mut out = String::new();
    for batch in &result.batches {
        let (Some(kinds), Some(plans)) = (
            batch.column(0).as_string_opt::<i32>(),
            batch.column(1).as_string_opt::<i32>(),
        ) else {
            continue;
        };
        for (kind, plan) in kinds.iter().zip(plans.iter()) {
            out.push_str(&format!(
                "── {} ──\n{}\n",
                kind.unwrap_or(""),
                plan.unwrap_or("")
            ));
        }
    }
    out
}

fn extrapolated(rung: &Rung) -> f64 {
    slow_query::extrapolate(rung.step.scales_with, rung.ms, rung.scan.bytes_total)
}

#[component]
pub fn QueryLabPage(engine: EngineBridge) -> impl IntoView {
    let size = RwSignal::new(0usize);
    let rows = move || SIZES[size.get()];
    let phase = RwSignal::new(Phase::Idle);
    let generated = RwSignal::new(None::<(u64, f64)>);
    let rungs = RwSignal::new(Vec::<Rung>::new());
    let exact = StoredValue::new(None::<Vec<Day>>);
    let plan = RwSignal::new(None::<(String, String)>);
    let busy = move || matches!(phase.get(), Phase::Generating { .. } | Phase::Climbing(_));
    // The cost lab prices each rung's measured scan at 10 TB.
    if let Some(measured) = Measured::get() {
        Effect::new(move |_| {
            let Some((n, _)) = generated.get() else {
                return;
            };
            for r in rungs.get() {
                measured.record_scan(ScanMeasure {
                    rung: r.step.id.to_owned(),
                    title: r.step.title.to_owned(),
                    rows: n,
                    ms: r.ms,
                    table_bytes: r.scan.bytes_total,
                    relative_error: r.accuracy.max_error,
                });
            }
        });
    }

    let generate = move || {
        let n = rows();
        if let Err(e) = slow_query::check_size(n, BROWSER_MEMORY) {
            phase.set(Phase::Failed(e));
            return;
        }
        rungs.set(Vec::new());
        plan.set(None);
        exact.set_value(None);
        generated.set(None);
        let (request, _) = engine.progress.get_untracked();
        phase.set(Phase::Generating { rows: n, request });
        let started = now_ms();
        run_all(
            engine,
            slow_query::generate(n).into(),
            Vec::new(),
            Box::new(move |answers| match answers {
                Ok(_) => {
                    generated.set(Some((n, now_ms() - started)));
                    phase.set(Phase::Idle);
                }
                Err(e) => phase.set(Phase::Failed(e)),
            }),
        );
    };

    // Climbs from rung `index` to the top, one rung per round trip.
    fn climb(
        engine: EngineBridge,
        steps: Vec<Step>,
        index: usize,
        phase: RwSignal<Phase>,
        rungs: RwSignal<Vec<Rung>>,
        exact: StoredValue<Option<Vec<Day>>>,
    ) {
        let Some(step) = steps.get(index).cloned() else {
            phase.set(Phase::Idle);
            return;
        };
        phase.set(Phase::Climbing(step.id));
        let mut statements: VecDeque<String> = step.prepare.iter().cloned().collect();
        let prepared = statements.len();
        statements.extend([step.query.clone(), step.query.clone(), step.probe.clone()]);
        run_all(
            engine,
            statements,
            Vec::new(),
            Box::new(move |answers| {
                let answers = match answers {
                    Ok(a) => a,
                    Err(e) => return phase.set(Phase::Failed(e)),
                };
                let [cold, warm, probe] = &answers[prepared..] else {
                    return phase.set(Phase::Failed("missing answers".into()));
                };
                let days = match slow_query::days(&warm.result.batches) {
                    Ok(d) => d,
                    Err(e) => return phase.set(Phase::Failed(e)),
                };
                if exact.with_value(Option::is_none) {
                    exact.set_value(Some(days.clone()));
                }
                let accuracy =
                    exact.with_value(|e| slow_query::compare(e.as_deref().unwrap_or(&[]), &days));
                let rung = Rung {
                    prepare_ms: answers[..prepared].iter().map(|a| a.ms).sum(),
                    cold_ms: cold.ms,
                    ms: warm.ms,
                    scan: scan_of(&warm.result),
                    probe: scan_of(&probe.result),
                    accuracy,
                    step,
                };
                rungs.update(|r| {
                    r.retain(|x| x.step.id != rung.step.id);
                    r.push(rung);
                });
                climb(engine, steps, index + 1, phase, rungs, exact);
            }),
        );
    }

    let run_ladder = move || {
        let Some((n, _)) = generated.get_untracked() else {
            return;
        };
        rungs.set(Vec::new());
        exact.set_value(None);
        climb(engine, slow_query::ladder(n), 0, phase, rungs, exact);
    };

    let show_plan = move |step: Step| {
        let sql = format!("EXPLAIN ANALYZE {}", step.query);
        engine.query(sql, move |outcome| {
            let text = match outcome {
                Outcome::Rows(r) => plan_text(&r),
                Outcome::Failed(e) => e,
                Outcome::Cancelled { .. } => "cancelled".into(),
            };
            plan.set(Some((step.title.to_owned(), text)));
        });
    };

    view! {
        <section class="cdc query-lab">
            <h2>{TITLE}</h2>
            <p class="story">{STORY}</p>
            <div class="cdc-controls">
                <label>
                    {move || format!(
                        "rows: {} (about {} MiB in memory)",
                        thousands(rows()),
                        (rows() * slow_query::BYTES_PER_ROW * 3 / 2) >> 20
                    )}
                    <input id="query-size" type="range" min="0" max=(SIZES.len() - 1).to_string()
                        prop:value=move || size.get().to_string()
                        prop:disabled=busy
                        on:input=move |ev| {
                            if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                                size.set(i.min(SIZES.len() - 1));
                            }
                        } />
                </label>
                <button id="query-generate" prop:disabled=busy on:click=move |_| generate()>
                    "Generate events"
                </button>
                <button id="query-ladder"
                    prop:disabled=move || busy() || generated.get().is_none()
                    on:click=move |_| run_ladder()>
                    "Run the ladder"
                </button>
                <Show when=busy>
                    <button id="query-cancel" on:click=move |_| engine.restart()>"Cancel"</button>
                </Show>
            </div>
            <p id="query-status" class="status"
                data-state=move || match phase.get() {
                    Phase::Idle if generated.get().is_some() => "generated",
                    Phase::Idle => "empty",
                    Phase::Generating { .. } => "generating",
                    Phase::Climbing(_) => "climbing",
                    Phase::Failed(_) => "failed",
                }
                data-rungs=move || rungs.with(Vec::len).to_string()>
                {move || match phase.get() {
                    Phase::Idle => match generated.get() {
                        Some((n, ms)) => format!(
                            "events: {} rows generated and stored as Delta in {:.1} s",
                            thousands(n), ms / 1000.0
                        ),
                        None => "Choose a size and generate the events table.".to_owned(),
                    },
                    Phase::Generating { rows, .. } => format!("generating {} rows…", thousands(rows)),
                    Phase::Climbing(id) => format!("running rung “{id}”…"),
                    Phase::Failed(e) => format!("Failed: {e}"),
                }}
            </p>
            {move || match phase.get() {
                Phase::Generating { rows, request } => {
                    let done = move || {
                        let (id, seen) = engine.progress.get();
                        if id > request { seen.min(rows) } else { 0 }
                    };
                    view! {
                        <progress id="query-progress" max=rows.to_string()
                            value=move || done().to_string()></progress>
                        <span class="hint">{move || format!(" {} of {} rows", thousands(done()), thousands(rows))}</span>
                    }.into_any()
                }
                _ => ().into_any(),
            }}
            <Show when=move || !rungs.with(Vec::is_empty)>
                <div class="panel">
                    <h3>"The ladder, measured"</h3>
                    <table id="ladder" class="mini">
                        <thead><tr>
                            <th>"rung"</th><th>"time"</th><th>"first run"</th><th>"remedy"</th>
                            <th>"files · row groups read"</th><th>"bytes read"</th><th>"error"</th>
                            <th>"one-user probe: files · rows read"</th><th>"at 10 TB (extrapolated)"</th>
                            <th>"scenario claims"</th><th></th>
                        </tr></thead>
                        <tbody>
                            {move || rungs.get().into_iter().map(|r| {
                                let step = r.step.clone();
                                let extra = extrapolated(&r);
                                view! {
                                    <tr id=format!("rung-{}", r.step.id)
                                        data-ms=format!("{:.1}", r.ms)
                                        data-error=format!("{:.6}", r.accuracy.max_error)
                                        data-checksum=r.accuracy.checksum.to_string()
                                        data-files-read=r.scan.files_read.to_string()
                                        data-files-total=r.scan.files_total.to_string()
                                        data-row-groups-read=r.scan.row_groups_read.to_string()
                                        data-row-groups-total=r.scan.row_groups_total.to_string()
                                        data-probe-read=r.probe.files_read.to_string()
                                        data-probe-total=r.probe.files_total.to_string()
                                        data-probe-rows-read=r.probe.rows_read.to_string()
                                        data-probe-rows-total=r.probe.rows_total.to_string()>
                                        <td class="rung" title=r.step.change><b>{r.step.title}</b></td>
                                        <td>{format!("{:.0} ms", r.ms)}</td>
                                        <td>{format!("{:.0} ms", r.cold_ms)}</td>
                                        <td>{if r.step.prepare.is_empty() { "–".to_owned() } else { format!("{:.1} s", r.prepare_ms / 1000.0) }}</td>
                                        <td>{format!("{} / {}", r.scan.files_read, r.scan.files_total)}<br/>
                                            {format!("{} / {}", r.scan.row_groups_read, r.scan.row_groups_total)}</td>
                                        <td>{human_bytes(r.scan.bytes_read)}<br/>
                                            {format!("of {}", human_bytes(r.scan.bytes_total))}</td>
                                        <td>{if r.step.exact && r.accuracy.max_error == 0.0 {
                                            "exact".into_any()
                                        } else {
                                            view! {
                                                {format!("≤ {:.2} %", r.accuracy.max_error * 100.0)}<br/>
                                                {format!("mean {:.2} %", r.accuracy.mean_error * 100.0)}
                                            }.into_any()
                                        }}</td>
                                        <td>{format!("{} / {}", r.probe.files_read, r.probe.files_total)}<br/>
                                            {format!("{} / {}", human_count(r.probe.rows_read), human_count(r.probe.rows_total))}</td>
                                        <td>{slow_query::human_seconds(extra)}</td>
                                        <td class="rung">{r.step.claim}</td>
                                        <td><button class="plan" on:click=move |_| show_plan(step.clone())>"plan"</button></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h4>"Time per rung (log scale)"</h4>
                    {move || bars(&rungs.get())}
                    <p class="hint">
                        "Time: the page's wall clock around the request to the engine worker, the second of two runs (the first reads the files from OPFS). "
                        "Extrapolated: each scan-bound time scaled by 10 TB ÷ this table's stored bytes, on "
                        {slow_query::SCENARIO_CORES as u32}
                        " cores; the pre-aggregate reads a row per day whatever the size. A model, not a measurement: it ignores shuffles, skew and caching."
                    </p>
                </div>
            </Show>
            {move || plan.get().map(|(title, text)| view! {
                <div class="panel">
                    <h3>{format!("Plan of “{title}” (EXPLAIN ANALYZE)")}</h3>
                    <pre id="query-plan">{text}</pre>
                </div>
            })}
            <NotebookExport engine
                notebook=Signal::derive(move || Some(lakelab_labs::notebook::slow_query(rows())))
                tables=vec!["events".to_owned(), "events_by_date".to_owned(), "daily_user_metrics".to_owned()] />
            <Prompts prompts=&PROMPTS model_answer=MODEL_ANSWER />
        </section>
    }
}

/// Horizontal bars of each rung's time, on a log scale so the pre-aggregate shows.
/// Hand-drawn SVG, like the other labs' charts.
fn bars(rungs: &[Rung]) -> AnyView {
    let max = rungs.iter().map(|r| r.ms).fold(1.0_f64, f64::max);
    let (w, row) = (420.0, 18.0);
    let scale = |ms: f64| (ms.max(0.1).log10() + 1.0) / (max.log10() + 1.0) * (w - 150.0);
    view! {
        <svg class="bars" viewBox=format!("0 0 {w} {}", row * rungs.len() as f64 + 4.0)>
            {rungs.iter().enumerate().map(|(i, r)| {
                let y = i as f64 * row + 2.0;
                let color = match r.step.scales_with {
                    Scaling::Days => "#2e7d32",
                    Scaling::BytesRead if !r.step.exact => "#f9a825",
                    Scaling::BytesRead => "#1565c0",
                };
                view! {
                    <text x="0" y=y + 12.0 class="axis">{r.step.id}</text>
                    <rect x="90" y=y width=scale(r.ms).max(1.0) height=row - 5.0 fill=color></rect>
                    <text x=95.0 + scale(r.ms).max(1.0) y=y + 12.0 class="axis">{format!("{:.0} ms", r.ms)}</text>
                }
            }).collect_view()}
        </svg>
    }
    .into_any()
}
