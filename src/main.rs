//! Lakelab's UI: the app shell and the SQL console. The engine runs in a Web
//! Worker (see `bridge`); this crate never links DataFusion.

mod bridge;
mod cdc;
mod console;
mod cost_card;
mod cost_lab;
mod grid;
mod history;
mod interview;
mod lab;
mod late;
mod measured;
mod query_lab;
mod saved;
mod shell;
mod transfer;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(shell::App);
}
