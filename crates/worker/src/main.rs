//! The engine's Web Worker. trunk builds this binary as a worker script; the
//! UI starts it, sends [`Request`](lakelab_protocol::Request)s and receives
//! [`Response`](lakelab_protocol::Response)s. Running the engine here keeps
//! the page responsive while a query runs, and gives OPFS its worker-only
//! features. Cancelling a query terminates the worker (a running DataFusion
//! stream never yields to the event loop, so a cancel message could not be
//! read); every write is atomic in the store, so nothing is lost.

#[cfg(target_arch = "wasm32")]
mod cdc;
#[cfg(target_arch = "wasm32")]
mod web;

fn main() {
    #[cfg(target_arch = "wasm32")]
    web::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("engine_worker runs in a browser: build it with trunk (cargo xtask serve)");
}
