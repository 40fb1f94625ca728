//! The UI side of the engine worker: starts it, sends statements, turns its
//! messages into signals, and cancels by terminating it and starting afresh
//! (see `crates/worker` for why).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use lakelab_protocol::cdc::{CdcCommand, CdcView};
use lakelab_protocol::late::{LateCommand, LateView};
use lakelab_protocol::{FileData, Request, Response, ScanInfo, TableInfo};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// The script trunk generates to load the worker's wasm (`data-loader-shim`).
const WORKER_SCRIPT: &str = "./engine_worker_loader.js";

#[derive(Debug, Clone, PartialEq)]
pub enum EngineStatus {
    Starting,
    Ready { storage: String, startup_ms: f64 },
    Failed(String),
}

/// A statement in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Running {
    pub id: u64,
    pub started_ms: f64,
    pub rows: u64,
}

/// The rows and timings of a finished statement.
#[derive(Debug)]
pub struct ResultSet {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub rows: u64,
    pub message: Option<String>,
    pub engine_ms: f64,
    /// From the click to the decoded result, as the user waits for it.
    pub total_ms: f64,
    /// What each Delta scan read and skipped.
    pub scans: Vec<ScanInfo>,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Rows(Arc<ResultSet>),
    Failed(String),
    Cancelled { after_ms: f64 },
}

struct WorkerHandle {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// Handle to the engine; `Copy`, so every component can hold one.
#[derive(Clone, Copy)]
pub struct EngineBridge {
    pub status: RwSignal<EngineStatus>,
    pub tables: RwSignal<Vec<TableInfo>>,
    pub running: RwSignal<Option<Running>>,
    pub outcome: RwSignal<Option<Outcome>>,
    /// Statements finished so far (tests wait on it changing).
    pub finished: RwSignal<u64>,
    /// Every script the console sent, oldest first (labs check what was run).
    pub ran: RwSignal<Vec<String>>,
    /// The latest progress of any request: (request id, rows so far).
    pub progress: RwSignal<(u64, u64)>,
    worker: StoredValue<Option<WorkerHandle>, LocalStorage>,
    next_id: StoredValue<u64>,
    /// Answers awaited by background queries (labs, explorer), by request id.
    waiting: StoredValue<Vec<(u64, Callback)>, LocalStorage>,
}

/// What a background request gets back: a result, an exported table, or
/// a lab's state.
enum Answer {
    Outcome(Outcome),
    Zip(Vec<u8>),
    Cdc(Option<Box<CdcView>>),
    Late(Option<Box<LateView>>),
    Files(Vec<FileData>),
}

impl Answer {
    fn zip(self) -> Result<Vec<u8>, Answer> {
        match self {
            Answer::Zip(zip) => Ok(zip),
            other => Err(other),
        }
    }

    fn files(self) -> Result<Vec<FileData>, Answer> {
        match self {
            Answer::Files(files) => Ok(files),
            other => Err(other),
        }
    }

    fn cdc(self) -> Result<Option<Box<CdcView>>, Answer> {
        match self {
            Answer::Cdc(view) => Ok(view),
            other => Err(other),
        }
    }

    fn late(self) -> Result<Option<Box<LateView>>, Answer> {
        match self {
            Answer::Late(view) => Ok(view),
            other => Err(other),
        }
    }
}

/// What a background request does with its answer.
type Callback = Box<dyn FnOnce(Answer)>;

/// A callback giving `done` what `pick` takes out of the answer, or the
/// request's failure.
fn answer_with<T: 'static>(
    pick: fn(Answer) -> Result<T, Answer>,
    done: impl FnOnce(Result<T, String>) + 'static,
) -> Callback {
    Box::new(move |answer| match pick(answer) {
        Ok(value) => done(Ok(value)),
        Err(Answer::Outcome(Outcome::Failed(e))) => done(Err(e)),
        Err(_) => done(Err("unexpected answer".into())),
    })
}

pub fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

impl EngineBridge {
    pub fn start() -> Self {
        let bridge = EngineBridge {
            status: RwSignal::new(EngineStatus::Starting),
            tables: RwSignal::new(Vec::new()),
            running: RwSignal::new(None),
            outcome: RwSignal::new(None),
            finished: RwSignal::new(0),
            ran: RwSignal::new(Vec::new()),
            progress: RwSignal::new((0, 0)),
            worker: StoredValue::new_local(None),
            next_id: StoredValue::new(1),
            waiting: StoredValue::new_local(Vec::new()),
        };
        bridge.spawn_worker();
        bridge
    }

    fn spawn_worker(self) {
        self.status.set(EngineStatus::Starting);
        // Drop (and so terminate) the old worker before starting the next.
        self.worker.set_value(None);
        let worker = match Worker::new(WORKER_SCRIPT) {
            Ok(worker) => worker,
            Err(e) => {
                self.status.set(EngineStatus::Failed(format!(
                    "could not start the engine: {e:?}"
                )));
                return;
            }
        };
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            match serde_wasm_bindgen::from_value::<Response>(event.data()) {
                Ok(response) => self.receive(response),
                Err(e) => self.status.set(EngineStatus::Failed(format!(
                    "unreadable engine message: {e}"
                ))),
            }
        });
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            // A crash report from the worker itself says more: keep it.
            if !matches!(self.status.get_untracked(), EngineStatus::Failed(_)) {
                self.fail_engine(format!("the engine stopped: {}", event.message()));
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        self.worker.set_value(Some(WorkerHandle {
            worker,
            _on_message: on_message,
            _on_error: on_error,
        }));
    }

    fn receive(self, response: Response) {
        match response {
            Response::Ready {
                tables,
                storage,
                startup_ms,
            } => {
                self.tables.set(tables);
                self.status.set(EngineStatus::Ready {
                    storage,
                    startup_ms,
                });
            }
            Response::Progress { id, rows, .. } => {
                self.progress.set((id, rows));
                self.running.update(|running| {
                    if let Some(r) = running.as_mut().filter(|r| r.id == id) {
                        r.rows = rows;
                    }
                })
            }
            Response::Done {
                id,
                ipc,
                rows,
                message,
                engine_ms,
                tables,
                scans,
            } => {
                self.tables.set(tables);
                let callback = self.take_callback(id);
                let running = self.take_running(id);
                let started = running.map_or(engine_ms, |r| r.started_ms);
                let outcome = match decode_ipc(&ipc) {
                    Ok((schema, batches)) => Outcome::Rows(Arc::new(ResultSet {
                        schema,
                        batches,
                        rows,
                        message,
                        engine_ms,
                        total_ms: now_ms() - started,
                        scans,
                    })),
                    Err(e) => Outcome::Failed(format!("could not decode the result: {e}")),
                };
                if let Some(callback) = callback {
                    callback(Answer::Outcome(outcome));
                } else if running.is_some() {
                    self.finish(outcome);
                }
            }
            Response::Exported { id, zip, .. } => {
                if let Some(callback) = self.take_callback(id) {
                    callback(Answer::Zip(zip));
                }
            }
            Response::LakeImported { id, files, tables } => {
                self.tables.set(tables);
                if let Some(callback) = self.take_callback(id) {
                    callback(Answer::Files(files));
                }
            }
            Response::Cdc { id, view, tables } => {
                self.tables.set(tables);
                if let Some(callback) = self.take_callback(id) {
                    callback(Answer::Cdc(view));
                }
            }
            Response::Late { id, view, tables } => {
                self.tables.set(tables);
                if let Some(callback) = self.take_callback(id) {
                    callback(Answer::Late(view));
                }
            }
            Response::Failed { id: 0, message } => self.fail_engine(message),
            Response::Failed { id, message } => {
                if let Some(callback) = self.take_callback(id) {
                    callback(Answer::Outcome(Outcome::Failed(message)));
                } else if self.take_running(id).is_some() {
                    self.finish(Outcome::Failed(message));
                }
            }
        }
    }

    fn take_callback(self, id: u64) -> Option<Callback> {
        let mut found = None;
        self.waiting.update_value(|waiting| {
            if let Some(i) = waiting.iter().position(|(w, _)| *w == id) {
                found = Some(waiting.remove(i).1);
            }
        });
        found
    }

    /// Fails every background query still waiting (the engine restarted).
    fn fail_waiting(self, message: &str) {
        let mut waiting = Vec::new();
        self.waiting.update_value(|w| waiting = std::mem::take(w));
        for (_, callback) in waiting {
            callback(Answer::Outcome(Outcome::Failed(message.to_owned())));
        }
    }

    /// The engine is gone: fail what was running and say why.
    fn fail_engine(self, message: String) {
        self.fail_waiting(&message);
        if self.running.get_untracked().is_some() {
            self.running.set(None);
            self.finish(Outcome::Failed(message.clone()));
        }
        self.status.set(EngineStatus::Failed(message));
    }

    fn finish(self, outcome: Outcome) {
        self.outcome.set(Some(outcome));
        self.finished.update(|n| *n += 1);
    }

    fn take_running(self, id: u64) -> Option<Running> {
        let running = self.running.get_untracked().filter(|r| r.id == id)?;
        self.running.set(None);
        Some(running)
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.status.get(), EngineStatus::Ready { .. })
    }

    /// Posts a SQL request to the worker and returns its id.
    fn post(self, sql: String) -> Result<u64, String> {
        self.post_request(|id| Request::Sql { id, sql })
    }

    /// Posts the request `make` builds for a fresh id, and returns the id.
    fn post_request(self, make: impl FnOnce(u64) -> Request) -> Result<u64, String> {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let request = serde_wasm_bindgen::to_value(&make(id)).map_err(|e| e.to_string())?;
        let posted = self
            .worker
            .with_value(|w| w.as_ref().map(|h| h.worker.post_message(&request)));
        match posted {
            Some(Ok(())) => Ok(id),
            Some(Err(e)) => Err(format!("{e:?}")),
            None => Err("the engine is not running".into()),
        }
    }

    /// Sends the console's SQL; ignored while another runs or the engine starts.
    pub fn run(self, sql: String) {
        if self.running.get_untracked().is_some()
            || !matches!(self.status.get_untracked(), EngineStatus::Ready { .. })
        {
            return;
        }
        self.ran.update(|ran| ran.push(sql.clone()));
        match self.post(sql) {
            Ok(id) => self.running.set(Some(Running {
                id,
                started_ms: now_ms(),
                rows: 0,
            })),
            Err(e) => self.finish(Outcome::Failed(e)),
        }
    }

    /// Runs SQL in the background (not in the console): `done` gets the
    /// outcome. The worker answers requests in the order they were sent.
    pub fn query(self, sql: String, done: impl FnOnce(Outcome) + 'static) {
        self.request(|id| Request::Sql { id, sql }, done);
    }

    /// Runs `queries` in the background; `done` gets each with its outcome,
    /// once all have answered (at once if there are none).
    pub fn query_all(
        self,
        queries: Vec<String>,
        done: impl FnOnce(Vec<(String, Outcome)>) + 'static,
    ) {
        let count = queries.len();
        let answers: Rc<RefCell<Vec<(String, Outcome)>>> = Rc::default();
        let done = Rc::new(RefCell::new(Some(done)));
        let finish = move |answers: &Rc<RefCell<Vec<(String, Outcome)>>>| {
            if answers.borrow().len() == count
                && let Some(done) = done.borrow_mut().take()
            {
                done(answers.take());
            }
        };
        finish(&answers);
        for query in queries {
            let (answers, finish) = (answers.clone(), finish.clone());
            self.query(query.clone(), move |outcome| {
                answers.borrow_mut().push((query, outcome));
                finish(&answers);
            });
        }
    }

    /// Sends any request in the background; `done` gets its outcome.
    pub fn request(self, make: impl FnOnce(u64) -> Request, done: impl FnOnce(Outcome) + 'static) {
        let callback: Callback = Box::new(move |answer| match answer {
            Answer::Outcome(outcome) => done(outcome),
            _ => done(Outcome::Failed("unexpected answer".into())),
        });
        self.send(make, callback);
    }

    /// The table's Delta folder as a zip.
    pub fn export(
        self,
        tables: Vec<String>,
        files: Vec<FileData>,
        done: impl FnOnce(Result<Vec<u8>, String>) + 'static,
    ) {
        let callback = answer_with(Answer::zip, done);
        self.send(|id| Request::Export { id, tables, files }, callback);
    }

    /// The whole lake with `files` at the top, as a zip.
    pub fn export_lake(
        self,
        files: Vec<FileData>,
        done: impl FnOnce(Result<Vec<u8>, String>) + 'static,
    ) {
        let callback = answer_with(Answer::zip, done);
        self.send(|id| Request::ExportLake { id, files }, callback);
    }

    /// Replaces the lake with a snapshot; `done` gets the snapshot's own files.
    pub fn import_lake(
        self,
        zip: Vec<u8>,
        done: impl FnOnce(Result<Vec<FileData>, String>) + 'static,
    ) {
        let callback = answer_with(Answer::files, done);
        self.send(|id| Request::ImportLake { id, zip }, callback);
    }

    /// A command for the CDC lab; `done` gets the lab's state (`None`: not
    /// started in this browser yet).
    pub fn cdc(
        self,
        command: CdcCommand,
        done: impl FnOnce(Result<Option<Box<CdcView>>, String>) + 'static,
    ) {
        let callback = answer_with(Answer::cdc, done);
        self.send(|id| Request::Cdc { id, command }, callback);
    }

    /// A command for the late-events lab; `done` gets the lab's state
    /// (`None`: not started since the engine started).
    pub fn late(
        self,
        command: LateCommand,
        done: impl FnOnce(Result<Option<Box<LateView>>, String>) + 'static,
    ) {
        let callback = answer_with(Answer::late, done);
        self.send(|id| Request::Late { id, command }, callback);
    }

    fn send(self, make: impl FnOnce(u64) -> Request, callback: Callback) {
        match self.post_request(make) {
            Ok(id) => self.waiting.update_value(|w| w.push((id, callback))),
            Err(e) => callback(Answer::Outcome(Outcome::Failed(e))),
        }
    }

    /// Starts a fresh engine after a crash; the tables reopen from storage.
    pub fn restart(self) {
        self.running.set(None);
        self.fail_waiting("the engine restarted");
        self.spawn_worker();
    }

    /// Stops the running statement by restarting the engine; tables are safe
    /// in storage and reopen with it.
    pub fn cancel(self) {
        let Some(running) = self.running.get_untracked() else {
            return;
        };
        self.running.set(None);
        self.finish(Outcome::Cancelled {
            after_ms: now_ms() - running.started_ms,
        });
        self.fail_waiting("cancelled: the engine restarted");
        self.spawn_worker();
    }
}

fn decode_ipc(bytes: &[u8]) -> Result<(SchemaRef, Vec<RecordBatch>), arrow_schema::ArrowError> {
    let reader = arrow_ipc::reader::StreamReader::try_new(bytes, None)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    Ok((schema, batches))
}
