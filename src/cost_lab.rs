//! The cost lab page: the options of the cost model priced from what this
//! tab measured (the CDC lab's work per event, the slow-query lab's scans),
//! a simulated day per option, cost against latency, the break-even
//! trigger interval, and the price table and options as editable JSON.

use lakelab_labs::cost::compare::{
    Comparison, Kind, NamedOption, OptionResult, Report, Workload, comparison_for,
};
use lakelab_labs::cost::lab::{MODEL_ANSWER, PROMPTS, STORY, TITLE};
use lakelab_labs::cost::prices::PriceTable;
use lakelab_labs::cost::workload::MEASURED_CORE_SECONDS_PER_EVENT;
use lakelab_labs::cost::{CostError, DISCLAIMER, dollars};
use lakelab_labs::slow_query::human_seconds;
use leptos::prelude::*;

use crate::bridge::{EngineBridge, now_ms};
use crate::cdc::{Prompts, chart};
use crate::cost_card::{CardFields, ConfigCard, TriggerKind};
use crate::measured::{Measured, Measurements};
use crate::transfer::NotebookExport;

const PRICES_KEY: &str = "lakelab.cost.prices";
const OPTIONS_KEY: &str = "lakelab.cost.options";
const CARDS_KEY: &str = "lakelab.cost.cards";
/// Seconds per simulation step on this page: five times coarser than the
/// CLI's, so pricing every option stays well under a second on the UI thread.
const STEP_S: f64 = 5.0;

/// The default options for what has been measured: streams only with a
/// measured work per event, scans only for measured rungs.
fn default_options(m: &Measurements) -> Option<Comparison> {
    let scans: Vec<_> = m.scans.iter().filter_map(|s| s.workload()).collect();
    let work = m.cdc.as_ref().and_then(|c| c.cost()).map(|c| c.per_event_s);
    if work.is_none() && scans.is_empty() {
        return None;
    }
    // Without a measured work per event the streams are dropped below.
    let mut comparison = comparison_for(work.unwrap_or(MEASURED_CORE_SECONDS_PER_EVENT), &scans);
    if work.is_none() {
        comparison
            .options
            .retain(|o| !matches!(o.workload, Workload::Stream(_)));
        comparison.break_even = None;
    }
    comparison.settings.step_s = STEP_S;
    Some(comparison)
}

/// An editor of one JSON document: its text, its error next to it.
#[component]
fn JsonEditor(
    id: &'static str,
    title: &'static str,
    text: RwSignal<String>,
    error: RwSignal<Option<CostError>>,
    on_apply: Callback<()>,
    on_reset: Callback<()>,
) -> impl IntoView {
    view! {
        <details class="panel cost-editor" id=id>
            <summary>{title}</summary>
            <textarea rows="16" prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <div>
                <button class="apply" on:click=move |_| on_apply.run(())>"Apply"</button>
                <button class="reset" on:click=move |_| on_reset.run(())>"Reset to the defaults"</button>
                {move || error.get().map(|e| view! {
                    <p class="error field-error">{format!("{}: {}", e.field, e.message)}
                        <br/><span class="hint">"The last valid version stays in use."</span></p>
                })}
            </div>
        </details>
    }
}

#[component]
pub fn CostLabPage(engine: EngineBridge) -> impl IntoView {
    let measured = Measured::get()
        .map(|m| m.0)
        .unwrap_or_else(|| RwSignal::new(Measurements::default()));
    let prices = RwSignal::new(crate::saved::load::<PriceTable>(PRICES_KEY).unwrap_or_default());
    let prices_text = RwSignal::new(prices.get_untracked().to_json());
    let prices_error = RwSignal::new(None::<CostError>);
    // `None`: the defaults for what was measured, rebuilt as measurements change.
    let edited = RwSignal::new(crate::saved::load::<Comparison>(OPTIONS_KEY));
    let comparison = Memo::new(move |_| edited.get().or_else(|| measured.with(default_options)));
    let options_text = RwSignal::new(String::new());
    let options_error = RwSignal::new(None::<CostError>);
    Effect::new(move |_| {
        options_text.set(comparison.get().map(|c| c.to_json()).unwrap_or_default())
    });
    let report = RwSignal::new(None::<Result<Report, CostError>>);
    let priced_ms = RwSignal::new(0.0);
    let selected = RwSignal::new(0usize);

    // The candidate's own two configurations, priced with the others and
    // kept across reloads.
    let saved_cards: [CardFields; 2] = crate::saved::load(CARDS_KEY).unwrap_or_else(|| {
        [
            CardFields::new(
                "mine: availableNow every 10 min",
                TriggerKind::AvailableNow,
                "10",
            ),
            CardFields::new(
                "mine: processingTime 60 s",
                TriggerKind::ProcessingTime,
                "60",
            ),
        ]
    });
    let [a, b] = saved_cards.map(RwSignal::new);
    let cards = [("cost-card-a", a), ("cost-card-b", b)];
    Effect::new(move |_| crate::saved::save(CARDS_KEY, &[a.get(), b.get()]));
    let checked = Memo::new(move |_| {
        let c = comparison.get();
        cards.map(|(_, fields)| {
            let c = c.as_ref()?;
            Some(fields.with(|f| f.to_option(&c.options)).and_then(|option| {
                let alone = Comparison {
                    options: vec![option.clone()],
                    break_even: None,
                    ..c.clone()
                };
                prices
                    .with(|p| alone.validate(p))
                    .map(|()| option)
                    .map_err(|e| {
                        let field = e
                            .field
                            .strip_prefix("options[0].")
                            .unwrap_or(&e.field)
                            .to_owned();
                        CostError::new(field, e.message)
                    })
            }))
        })
    });
    let last_valid = StoredValue::new([None::<NamedOption>, None]);
    let with_cards = Memo::new(move |_| {
        let mut c = comparison.get()?;
        for (i, check) in checked.get().into_iter().enumerate() {
            let Some(check) = check else {
                continue;
            };
            if let Ok(option) = check {
                last_valid.update_value(|l| l[i] = Some(option));
            }
            if let Some(option) = last_valid.with_value(|l| l[i].clone()) {
                c.options.push(option);
            }
        }
        Some(c)
    });
    let rungs = Signal::derive(move || {
        measured.with(|m| m.scans.iter().map(|s| s.rung.clone()).collect::<Vec<_>>())
    });
    let card_error = move |i: usize| {
        Signal::derive(move || match checked.with(|c| c[i].clone()) {
            Some(Err(e)) => Some(e),
            _ => None,
        })
    };

    // Each scan option's measured error, by option name.
    let accuracy = move || -> Vec<(String, f64)> {
        let m = measured.get();
        with_cards.with(|c| {
            c.iter()
                .flat_map(|c| &c.options)
                .filter_map(|o| match &o.workload {
                    Workload::Scan(scan) => {
                        let measured = m.scans.iter().find(|s| s.rung == scan.rung)?;
                        Some((o.name.clone(), measured.relative_error))
                    }
                    Workload::Stream(_) => None,
                })
                .collect()
        })
    };

    // Priced whenever the options, the cards or the prices change.
    Effect::new(move |_| {
        let Some(c) = with_cards.get() else {
            return;
        };
        let started = now_ms();
        report.set(Some(prices.with(|p| c.run(p))));
        priced_ms.set(now_ms() - started);
    });

    let apply_prices =
        Callback::new(
            move |_| match PriceTable::from_json(&prices_text.get_untracked()) {
                Ok(table) => {
                    crate::saved::save(PRICES_KEY, &table);
                    prices_error.set(None);
                    prices.set(table);
                }
                Err(e) => prices_error.set(Some(e)),
            },
        );
    let reset_prices = Callback::new(move |_| {
        let table = PriceTable::default();
        prices_text.set(table.to_json());
        crate::saved::save(PRICES_KEY, &table);
        prices_error.set(None);
        prices.set(table);
    });
    let apply_options = Callback::new(move |_| {
        let parsed = Comparison::from_json(&options_text.get_untracked())
            .and_then(|c| prices.with_untracked(|p| c.validate(p)).map(|()| c));
        match parsed {
            Ok(c) => {
                crate::saved::save(OPTIONS_KEY, &c);
                options_error.set(None);
                edited.set(Some(c));
            }
            Err(e) => options_error.set(Some(e)),
        }
    });
    let reset_options = Callback::new(move |_| {
        crate::saved::save(OPTIONS_KEY, &None::<Comparison>);
        options_error.set(None);
        edited.set(None);
    });

    view! {
        <section class="cdc cost-lab">
            <h2>{TITLE}</h2>
            <p class="story">{STORY}</p>
            <p class="hint disclaimer">{DISCLAIMER}</p>
            <Measurements measured=measured />
            <p id="cost-status" class="status"
                data-state=move || match report.get() {
                    None => "waiting",
                    Some(Ok(_)) => "priced",
                    Some(Err(_)) => "failed",
                }>
                {move || match report.get() {
                    None => "Nothing measured yet: run a few batches in the CDC lab, or climb the slow-query ladder, then come back.".to_owned(),
                    Some(Ok(r)) => format!("{} options priced over a simulated day each, in {:.0} ms.", r.results.len(), priced_ms.get()),
                    Some(Err(e)) => format!("Cannot price: {e}"),
                }}
            </p>
            {move || match report.get() {
                Some(Ok(r)) => view! { <Priced report=r selected=selected accuracy=accuracy() /> }.into_any(),
                _ => ().into_any(),
            }}
            <div class="panel">
                <h3>"Your configurations"</h3>
                <p class="hint">"Each is priced as one more option of the table above, on what the labs measured: the CDC pipeline's work per event, or a rung's scan at 10 TB. An empty latency target uses the table's for its kind."</p>
                <div class="cost-cards">
                    {cards.into_iter().enumerate().map(|(i, (id, fields))| view! {
                        <div>
                            <ConfigCard id=id fields=fields error=card_error(i) prices=prices rungs=rungs />
                            <NotebookExport engine notebook=Signal::derive(move || {
                                checked.with(|c| c[i].clone()?.ok()).map(|o| lakelab_labs::notebook::cost(&o))
                            }) />
                        </div>
                    }).collect_view()}
                </div>
            </div>
            <JsonEditor id="cost-options" title="The options (JSON: clusters, workloads, triggers, latency targets)"
                text=options_text error=options_error on_apply=apply_options on_reset=reset_options />
            <JsonEditor id="cost-prices" title="The price table (JSON: each number with its source and date)"
                text=prices_text error=prices_error on_apply=apply_prices on_reset=reset_prices />
            <Prompts prompts=&PROMPTS model_answer=MODEL_ANSWER />
        </section>
    }
}

/// What the prices rest on: this tab's measurements.
#[component]
fn Measurements(measured: RwSignal<Measurements>) -> impl IntoView {
    view! {
        <div class="panel" id="cost-measured">
            <h3>"Measured in this tab"</h3>
            <ul>
                <li id="cost-measured-cdc">{move || match measured.get().cdc.as_ref().and_then(|c| Some((c.clone(), c.cost()?))) {
                    Some((c, cost)) => {
                        let rates = c.runs.keys().map(|t| format!("{t}")).collect::<Vec<_>>().join(", ");
                        let split = if cost.separated {
                            format!("{:.3} s fixed per batch + {:.2e} core-seconds per event", cost.per_batch_s, cost.per_event_s)
                        } else {
                            format!("{:.2e} core-seconds per event, fixed costs included", cost.per_event_s)
                        };
                        format!(
                            "CDC lab: {} change events in {} batches took {:.2} s of processing ({} tables; transactions/s: {rates}): {split}.",
                            c.events(), cost.batches, c.seconds(), c.tables
                        )
                    }
                    None => "CDC lab: not measured yet (run a few batches there).".to_owned(),
                }}</li>
                <li class="hint">{move || {
                    let cdc = measured.get().cdc;
                    let rates = cdc.as_ref().map_or(0, |c| c.runs.len());
                    match cdc.and_then(|c| c.cost()) {
                        Some(c) if c.separated => "The line through batches of different sizes separates each batch's fixed cost (planning, commits) from the work per event; only the latter is scaled to the scenario's rate.",
                        _ if rates < 2 => "Each batch also pays fixed costs (planning, commits), which this number still includes: run the CDC lab again at a rate a few times higher or lower, and the two runs' batches separate them.",
                        _ => "The batches took about as long whatever their size: at these rates fixed costs (planning, commits) dominate and the work per event is lost in the timing noise, so this number includes them and overstates a busy stream. A run at a much higher rate (thousands of transactions/s) separates them.",
                    }
                }}</li>
                <li>{move || {
                    let scans = measured.get().scans;
                    match scans.first() {
                        Some(first) => format!(
                            "Slow-query lab: {} rungs at {} rows ({}).",
                            scans.len(),
                            first.rows,
                            scans.iter().map(|s| format!("{} {:.0} ms", s.rung, s.ms)).collect::<Vec<_>>().join(", ")
                        ),
                        None => "Slow-query lab: not measured yet (climb the ladder there).".to_owned(),
                    }
                }}</li>
            </ul>
        </div>
    }
}

/// The priced options: the table, cost against latency, the chosen
/// option's day, the break-even and the assumptions.
#[component]
fn Priced(
    report: Report,
    selected: RwSignal<usize>,
    accuracy: Vec<(String, f64)>,
) -> impl IntoView {
    let results = report.results.clone();
    let cheapest = [report.cheapest_stream.clone(), report.cheapest_scan.clone()];
    let rows = results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let best = cheapest.iter().flatten().any(|n| *n == r.name);
            view! {
                <tr id=format!("cost-option-{i}") class:best=best class:chosen=move || selected.get() == i
                    data-cost-day=format!("{:.6}", r.cost_per_day)
                    data-latency=format!("{:.1}", r.latency_s)
                    data-kind=match r.kind { Kind::Stream => "stream", Kind::Scan => "scan" }
                    data-meets=match r.meets_target { Some(true) => "yes", Some(false) => "no", None => "" }
                    on:click=move |_| selected.set(i)>
                    <td>{i + 1}</td>
                    <td class="rung">{r.name.clone()}</td>
                    <td>{r.cost_per_run.map(dollars).unwrap_or_else(|| "–".into())}</td>
                    <td>{dollars(r.cost_per_day)}</td>
                    <td>{dollars(r.cost_per_month)}</td>
                    <td>{human_seconds(r.latency_s)}</td>
                    <td>{match r.meets_target { Some(true) => "yes", Some(false) => "no", None => "–" }}</td>
                    <td>{r.peak_workers}</td>
                </tr>
            }
        })
        .collect_view();
    let final_table = (!accuracy.is_empty()).then(|| {
        let rows = accuracy
            .iter()
            .filter_map(|(name, error)| {
                let r = results.iter().find(|r| r.name == *name)?;
                Some(view! {
                    <tr>
                        <td class="rung">{name.trim_start_matches("10 TB scan: ").to_owned()}</td>
                        <td>{human_seconds(r.latency_s)}</td>
                        <td>{r.cost_per_run.map(dollars).unwrap_or_else(|| "–".into())}</td>
                        <td>{if *error == 0.0 { "exact".to_owned() } else { format!("within {:.2} %", error * 100.0) }}</td>
                    </tr>
                })
            })
            .collect_view();
        view! {
            <div class="panel">
                <h3>"The slow report at 10 TB: time, cost and accuracy"</h3>
                <table id="cost-final" class="mini">
                    <thead><tr><th>"approach"</th><th>"time at 10 TB"</th><th>"cost per run"</th><th>"accuracy (measured)"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                <p class="hint">"The seed's table claims 45 min and $15 for the original query and $0.01 for the pre-aggregate; these rows are computed from this tab's measurements and the prices below."</p>
            </div>
        }
    });
    let day = {
        let results = results.clone();
        move || results.get(selected.get()).cloned().map(day_view)
    };
    view! {
        <div class="panel">
            <h3>"The options, priced"</h3>
            <table id="cost-table" class="mini">
                <thead><tr>
                    <th>"#"</th><th>"option"</th><th>"per run"</th><th>"per day"</th><th>"per month"</th>
                    <th>"latency (worst)"</th><th>"meets target"</th><th>"peak workers"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <p class="hint">
                {["Cheapest stream meeting its target", "Cheapest scan meeting its target"]
                    .iter()
                    .zip(&cheapest)
                    .filter_map(|(what, name)| Some(format!("{what}: {}. ", name.as_ref()?)))
                    .collect::<String>()}
                "Click a row to see its simulated day."
            </p>
        </div>
        {final_table}
        <div class="cost-charts">
            {scatter(&results)}
            {report.break_even.clone().map(|b| break_even_view(&b))}
        </div>
        {day}
        <details class="panel">
            <summary>"What the model assumes"</summary>
            <ul>{report.assumptions.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}</ul>
        </details>
    }
}

/// Cost per day against worst latency, both on log scales; each option
/// drawn as its row number.
fn scatter(results: &[OptionResult]) -> impl IntoView + use<> {
    let (w, h, pad) = (420.0, 240.0, 30.0);
    let log = |v: f64| v.max(1e-6).log10();
    let (xs, ys): (Vec<f64>, Vec<f64>) = results
        .iter()
        .map(|r| (log(r.latency_s.max(0.001)), log(r.cost_per_day.max(1e-5))))
        .unzip();
    let span = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min).floor();
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max).ceil();
        (lo, (hi - lo).max(1.0))
    };
    let ((x0, xw), (y0, yw)) = (span(&xs), span(&ys));
    let at = move |x: f64, y: f64| {
        (
            pad + (x - x0) / xw * (w - 2.0 * pad),
            h - pad - (y - y0) / yw * (h - 2.0 * pad),
        )
    };
    let points = xs
        .iter()
        .zip(&ys)
        .enumerate()
        .map(|(i, (&x, &y))| {
            let (cx, cy) = at(x, y);
            view! {
                <circle cx=cx cy=cy r="3" fill="#0b6fa4" />
                <text x=cx + 5.0 y=cy - 4.0 font-size="11">{(i + 1).to_string()}</text>
            }
        })
        .collect_view();
    view! {
        <figure class="chart wide" id="cost-scatter">
            <figcaption>"Cost per day against worst latency (log–log)"</figcaption>
            <svg viewBox=format!("0 0 {w} {h}")>
                <line x1=pad y1=h - pad x2=w - pad y2=h - pad stroke="#999" />
                <line x1=pad y1=pad x2=pad y2=h - pad stroke="#999" />
                <text x=pad y=h - 8.0 font-size="10">{human_seconds(10f64.powf(x0))}</text>
                <text x=w - pad - 30.0 y=h - 8.0 font-size="10">{human_seconds(10f64.powf(x0 + xw))}</text>
                <text x=2.0 y=h - pad font-size="10">{dollars(10f64.powf(y0))}</text>
                <text x=2.0 y=pad font-size="10">{dollars(10f64.powf(y0 + yw))}</text>
                {points}
            </svg>
        </figure>
    }
}

/// availableNow's cost per day against its interval, the always-on
/// cluster's as a line, and the break-even marked.
fn break_even_view(b: &lakelab_labs::cost::compare::BreakEven) -> impl IntoView + use<> {
    let (w, h, pad) = (420.0, 240.0, 30.0);
    let max_x = b.curve.iter().map(|p| p.0).fold(1.0_f64, f64::max);
    let max_y = b
        .curve
        .iter()
        .map(|p| p.1)
        .fold(b.continuous_cost_per_day, f64::max)
        .max(0.01);
    let at = |x: f64, y: f64| {
        (
            pad + x / max_x * (w - 2.0 * pad),
            h - pad - y / max_y * (h - 2.0 * pad),
        )
    };
    let curve: Vec<String> = b
        .curve
        .iter()
        .map(|&(x, y)| {
            let (px, py) = at(x, y);
            format!("{px:.1},{py:.1}")
        })
        .collect();
    let (_, level) = at(0.0, b.continuous_cost_per_day);
    let mark = b.interval_minutes.map(|m| at(m, b.continuous_cost_per_day));
    view! {
        <figure class="chart wide" id="cost-break-even"
            data-minutes=b.interval_minutes.map(|m| format!("{m:.2}")).unwrap_or_default()>
            <figcaption>{format!(
                "Break-even: {} vs {}",
                b.continuous, b.available_now
            )}</figcaption>
            <svg viewBox=format!("0 0 {w} {h}")>
                <line x1=pad y1=h - pad x2=w - pad y2=h - pad stroke="#999" />
                <line x1=pad y1=pad x2=pad y2=h - pad stroke="#999" />
                <line x1=pad y1=level x2=w - pad y2=level stroke="#c62828" stroke-dasharray="4 3" />
                <polyline points=curve.join(" ") fill="none" stroke="#0b6fa4" stroke-width="2" />
                {mark.map(|(x, y)| view! { <circle cx=x cy=y r="5" fill="none" stroke="#c62828" stroke-width="2" /> })}
                <text x=pad y=h - 8.0 font-size="10">"0 min"</text>
                <text x=w - pad - 40.0 y=h - 8.0 font-size="10">{format!("{max_x:.0} min")}</text>
                <text x=2.0 y=pad font-size="10">{dollars(max_y)}</text>
            </svg>
            <p class="hint">{b.explanation.clone()}</p>
        </figure>
    }
}

/// One option's simulated day: workers, backlog and the money spent.
fn day_view(r: OptionResult) -> impl IntoView {
    let workers: Vec<f64> = r
        .timeline
        .iter()
        .map(|p| f64::from(p.workers + p.pending))
        .collect();
    let backlog: Vec<f64> = r
        .timeline
        .iter()
        .map(|p| p.backlog_events.unwrap_or(p.backlog_core_s))
        .collect();
    let spent: Vec<f64> = r.timeline.iter().map(|p| p.dbu_cost + p.vm_cost).collect();
    view! {
        <div class="panel" id="cost-day">
            <h3>{format!("A simulated day: {}", r.name)}</h3>
            <div class="charts">
                {chart("workers (running + booting)", vec![("workers", "#2e7d32", workers)])}
                {chart("backlog (events, or core-seconds)", vec![("backlog", "#c62828", backlog)])}
                {chart("dollars spent so far", vec![("$", "#0b6fa4", spent)])}
            </div>
            <ul class="hint">{r.explanation.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
            <h4>"Sensitivity: the cost per day with each input 10 % higher"</h4>
            <table class="mini" id="cost-sensitivity">
                <tbody>{r.sensitivity.iter().map(|s| view! {
                    <tr>
                        <td>{s.input.clone()}</td>
                        <td>{s.cost_per_day_plus_10.map(dollars).unwrap_or_else(|| "–".into())}</td>
                        <td>{match (s.change_percent, &s.note) {
                            (Some(p), _) => format!("{p:+.1} %"),
                            (None, Some(note)) => note.clone(),
                            (None, None) => "–".into(),
                        }}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </div>
    }
}
