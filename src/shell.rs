//! The app shell: header, navigation (the labs), the table list, the console.

use leptos::prelude::*;

use crate::bridge::{EngineBridge, EngineStatus};
use crate::cdc::CdcPage;
use crate::console::{SqlConsole, initial_sql};
use crate::cost_lab::CostLabPage;
use crate::grid::thousands;
use crate::interview::InterviewPage;
use crate::lab::LabPage;
use crate::late::LatePage;
use crate::measured::Measured;
use crate::query_lab::QueryLabPage;

/// The labs, in the order a candidate takes them. They arrive one by one;
/// until then the navigation says so. A lab is built when `lakelab_labs`
/// has one with its title.
const LABS: [(&str, &str); 6] = [
    (
        "Real-time CDC pipeline",
        "MySQL → Debezium → Kafka → Bronze / Silver / Gold",
    ),
    ("Late-arriving events", "event time, watermarks, windows"),
    ("Make a slow query fast", "layout, data skipping, Z-order"),
    ("Recover from a corrupt load", "time travel and restore"),
    ("Cost comparisons", "what each design costs to run"),
    (
        "Migrate a legacy pipeline",
        "Parquet to Delta in place, full reload to incremental",
    ),
];

/// What the main area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Console,
    Lab(&'static str),
    Cdc,
    Late,
    Query,
    Cost,
    Interview,
}

#[component]
pub fn App() -> impl IntoView {
    let engine = EngineBridge::start();
    Measured::provide();
    let page = RwSignal::new(Page::Console);
    let sql = RwSignal::new(initial_sql());
    let labs = lakelab_labs::all();
    let transfer_status = RwSignal::new(String::new());
    let status = move || match engine.status.get() {
        EngineStatus::Starting => ("starting", "engine starting…".to_owned()),
        EngineStatus::Ready {
            storage,
            startup_ms,
        } => (
            "ready",
            format!("engine ready in {:.0} ms · tables in {storage}", startup_ms),
        ),
        EngineStatus::Failed(message) => ("failed", message),
    };
    view! {
        <header class="top">
            <h1>"Lakelab"</h1>
            <span class="tagline">"a lakehouse in your browser tab"</span>
            <span id="engine-status" class=move || format!("engine {}", status().0)>
                {move || status().1}
            </span>
            <Show when=move || matches!(engine.status.get(), EngineStatus::Failed(_))>
                <button id="restart" on:click=move |_| engine.restart()>"Restart engine"</button>
            </Show>
        </header>
        <div class="layout">
            <nav class="side">
                <h3>"Workspace"</h3>
                <ul>
                    <li id="nav-console" class="link" class:active=move || page.get() == Page::Console
                        on:click=move |_| page.set(Page::Console)>"SQL console"</li>
                </ul>
                <h3>"Labs"</h3>
                <ul class="labs">
                    {LABS
                        .iter()
                        .map(|(name, about)| match labs.iter().find(|l| l.title == *name) {
                            None if *name == lakelab_labs::cdc::TITLE => {
                                lab_link(lakelab_labs::cdc::ID, name, about, page, Page::Cdc)
                            }
                            None if *name == lakelab_labs::late_events::TITLE => {
                                lab_link(lakelab_labs::late_events::ID, name, about, page, Page::Late)
                            }
                            None if *name == lakelab_labs::slow_query::TITLE => {
                                lab_link(lakelab_labs::slow_query::ID, name, about, page, Page::Query)
                            }
                            None if *name == lakelab_labs::cost::lab::TITLE => {
                                lab_link(lakelab_labs::cost::lab::ID, name, about, page, Page::Cost)
                            }
                            Some(lab) => {
                                let id = lab.id;
                                view! {
                                    <li id=format!("nav-lab-{id}") class="lab link"
                                        class:active=move || page.get() == Page::Lab(id)
                                        on:click=move |_| page.set(Page::Lab(id))>
                                        <span>{*name}</span>
                                        <small>{*about}</small>
                                    </li>
                                }
                                .into_any()
                            }
                            None => view! {
                                <li class="lab soon" title="not built yet">
                                    <span>{*name}</span>
                                    <small>{*about}</small>
                                </li>
                            }
                            .into_any(),
                        })
                        .collect_view()}
                </ul>
                <h3>"Interview"</h3>
                <ul>
                    <li id="nav-interview" class="lab link" class:active=move || page.get() == Page::Interview
                        on:click=move |_| page.set(Page::Interview)>
                        <span>"Exercises"</span>
                        <small>{format!("{} tasks against the clock, checked on the real state", lakelab_labs::interview::all().len())}</small>
                    </li>
                </ul>
                <h3>"Tables"</h3>
                <div class="transfer">
                    <label class="button" title="Import a Delta table from a .zip of its folder">
                        "Import .zip"
                        <input id="import-zip" type="file" accept=".zip" hidden
                            on:change=move |ev| {
                                let input: web_sys::HtmlInputElement = event_target(&ev);
                                crate::transfer::import_zip(engine, input, transfer_status);
                            } />
                    </label>
                    <button id="import-folder" title="Import a Delta table folder (delta-rs, Spark)"
                        on:click=move |_| crate::transfer::import_folder(engine, transfer_status)>
                        "Import folder"
                    </button>
                </div>
                <p id="transfer-status" class="hint">{move || transfer_status.get()}</p>
                <ul id="tables" class="tables">
                    {move || {
                        let tables = engine.tables.get();
                        if tables.is_empty() {
                            return view! { <li class="empty">"none yet"</li> }.into_any();
                        }
                        tables
                            .into_iter()
                            .map(|t| match t.error {
                                None => view! {
                                    <li>
                                        <code>{t.name.clone()}</code>
                                        <small>
                                            {t.rows.map(thousands).unwrap_or_default()} " rows"
                                            {t.version.map(|v| format!(" · v{v}"))}
                                        </small>
                                        <button class="export" title="Export as .zip"
                                            data-table=t.name.clone()
                                            on:click={
                                                let name = t.name.clone();
                                                move |_| crate::transfer::export(engine, name.clone(), transfer_status)
                                            }>"⬇"</button>
                                    </li>
                                }
                                .into_any(),
                                Some(error) => view! {
                                    <li class="broken" title=error.clone()>
                                        <code>{t.name}</code>
                                        <small>"unreadable"</small>
                                    </li>
                                }
                                .into_any(),
                            })
                            .collect_view()
                            .into_any()
                    }}
                </ul>
            </nav>
            <main>
                {move || match page.get() {
                    Page::Console => view! { <SqlConsole engine=engine sql=sql /> }.into_any(),
                    Page::Cdc => view! { <CdcPage engine=engine /> }.into_any(),
                    Page::Late => view! { <LatePage engine=engine /> }.into_any(),
                    Page::Query => view! { <QueryLabPage engine=engine /> }.into_any(),
                    Page::Cost => view! { <CostLabPage engine=engine /> }.into_any(),
                    Page::Interview => view! { <InterviewPage engine=engine sql=sql /> }.into_any(),
                    Page::Lab(id) => match lakelab_labs::by_id(id) {
                        Some(lab) => view! { <LabPage engine=engine sql=sql lab=lab /> }.into_any(),
                        None => view! { <p>"No such lab."</p> }.into_any(),
                    },
                }}
            </main>
        </div>
    }
}

/// The navigation entry of a lab with its own page.
fn lab_link(
    id: &'static str,
    name: &'static str,
    about: &'static str,
    page: RwSignal<Page>,
    target: Page,
) -> AnyView {
    view! {
        <li id=format!("nav-lab-{id}") class="lab link"
            class:active=move || page.get() == target
            on:click=move |_| page.set(target)>
            <span>{name}</span>
            <small>{about}</small>
        </li>
    }
    .into_any()
}
