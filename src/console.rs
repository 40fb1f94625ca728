//! The SQL console: editor, run / cancel, status, result grid, history.

use std::time::Duration;

use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::bridge::{EngineBridge, Outcome, now_ms};
use crate::grid::{ResultGrid, thousands};
use crate::history;

const FIRST_QUERY: &str = "-- Ctrl+Enter runs the statement. Tables you create are stored in this\n\
-- browser (OPFS) and are still here after a reload.\n\
SELECT value AS n, value * value AS square, value % 3 = 0 AS fizz\n\
FROM generate_series(1, 1000)";

fn seconds(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// What the editor holds when the page opens: the last statement run, or a first example.
pub fn initial_sql() -> String {
    history::load()
        .first()
        .cloned()
        .unwrap_or_else(|| FIRST_QUERY.to_owned())
}

/// The console; `sql` is the editor's text, shared so that labs can fill it.
/// `history` shows the list of earlier statements (off where space is short).
#[component]
pub fn SqlConsole(
    engine: EngineBridge,
    sql: RwSignal<String>,
    #[prop(default = true)] history: bool,
) -> impl IntoView {
    let show_history = history;
    let history = RwSignal::new(history::load());
    // Ticks while a statement runs, so the elapsed time counts up.
    let clock = RwSignal::new(now_ms());
    let _ = set_interval_with_handle(
        move || {
            if engine.running.get_untracked().is_some() {
                clock.set(now_ms());
            }
        },
        Duration::from_millis(100),
    );

    let run = move || {
        let text = sql.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        history.update(|h| history::remember(h, &text));
        engine.run(text);
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.key() == "Enter" {
            ev.prevent_default();
            run();
        }
    };
    let running = move || engine.running.get().is_some();

    let status = move || match engine.running.get() {
        Some(r) => format!(
            "Running… {} · {} rows so far",
            seconds(clock.get().max(r.started_ms) - r.started_ms),
            thousands(r.rows)
        ),
        None => match engine.outcome.get() {
            Some(Outcome::Rows(result)) => {
                let mut text = format!(
                    "{} rows · engine {} · total {}",
                    thousands(result.rows),
                    seconds(result.engine_ms),
                    seconds(result.total_ms)
                );
                for scan in &result.scans {
                    text.push_str(" · ");
                    text.push_str(&scan.text);
                }
                text
            }
            Some(Outcome::Failed(_)) => "Failed; no table was changed.".to_owned(),
            Some(Outcome::Cancelled { after_ms }) => {
                format!(
                    "Cancelled after {}; the engine restarted.",
                    seconds(after_ms)
                )
            }
            None => String::new(),
        },
    };

    let outcome = move || {
        engine.outcome.get().map(|outcome| match outcome {
            Outcome::Rows(result) => {
                let message = result
                    .message
                    .clone()
                    .map(|m| view! { <div id="message" class="message">{m}</div> });
                let grid = (!result.schema.fields().is_empty())
                    .then(|| view! { <ResultGrid result=result.clone() /> });
                view! { {message} {grid} }.into_any()
            }
            Outcome::Failed(message) => {
                view! { <pre id="error" class="error" role="alert">{message}</pre> }.into_any()
            }
            Outcome::Cancelled { .. } => view! {
                <div id="cancelled" class="message">"The statement was cancelled."</div>
            }
            .into_any(),
        })
    };

    view! {
        <section class="console">
            <h2>"SQL console"</h2>
            <textarea
                id="sql-editor"
                spellcheck="false"
                rows="7"
                prop:value=move || sql.get()
                on:input=move |ev| sql.set(event_target_value(&ev))
                on:keydown=on_keydown
            ></textarea>
            <div class="actions">
                <button id="run" class="primary"
                    disabled=move || running() || !engine.is_ready()
                    on:click=move |_| run()>"Run"</button>
                <button id="cancel" disabled=move || !running()
                    on:click=move |_| engine.cancel()>"Cancel"</button>
                <span class="hint">"Ctrl+Enter"</span>
                <span id="status" class="status"
                    data-finished=move || engine.finished.get().to_string()
                    data-total-ms=move || match engine.outcome.get() {
                        Some(Outcome::Rows(result)) => format!("{:.2}", result.total_ms),
                        _ => String::new(),
                    }
                    data-running=move || running().to_string()>{status}</span>
            </div>
            <div class="outcome">{outcome}</div>
            <details class="history" open=move || !history.get().is_empty()
                style:display=move || if show_history { "" } else { "none" }>
                <summary>"History"</summary>
                <ul id="history">
                    <For each=move || history.get() key=|entry| entry.clone() let:entry>
                        <li>
                            <button class="history-entry" title="Put into the editor"
                                on:click={
                                    let entry = entry.clone();
                                    move |_| sql.set(entry.clone())
                                }>{entry.clone()}</button>
                        </li>
                    </For>
                </ul>
            </details>
        </section>
    }
}
