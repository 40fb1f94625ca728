//! The app shell: header, navigation (the labs), the table list, the console.

use leptos::prelude::*;

use crate::bridge::{EngineBridge, EngineStatus};
use crate::console::SqlConsole;
use crate::grid::thousands;

/// The labs, in the order a candidate takes them. They arrive one by one;
/// until then the navigation says so.
const LABS: [(&str, &str); 5] = [
    (
        "Real-time CDC pipeline",
        "MySQL → Debezium → Kafka → Bronze / Silver / Gold",
    ),
    ("Late-arriving events", "event time, watermarks, windows"),
    ("Make a slow query fast", "layout, data skipping, Z-order"),
    ("Recover from a corrupt load", "time travel and restore"),
    ("Cost comparisons", "what each design costs to run"),
];

#[component]
pub fn App() -> impl IntoView {
    let engine = EngineBridge::start();
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
                    <li class="active">"SQL console"</li>
                </ul>
                <h3>"Labs"</h3>
                <ul class="labs">
                    {LABS
                        .iter()
                        .map(|(name, about)| {
                            view! {
                                <li class="lab soon" title="not built yet">
                                    <span>{*name}</span>
                                    <small>{*about}</small>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <h3>"Tables"</h3>
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
                                        <code>{t.name}</code>
                                        <small>{t.rows.map(thousands).unwrap_or_default()} " rows"</small>
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
                <SqlConsole engine=engine />
            </main>
        </div>
    }
}
