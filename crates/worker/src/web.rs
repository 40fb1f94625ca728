//! The worker's message loop.

use std::rc::Rc;

use futures::StreamExt;
use futures::channel::mpsc;
use lakelab_engine::{Engine, EngineError, Output, Progress, split_statements, to_ipc};
use lakelab_protocol::{FileData, Request, Response, ScanInfo, TableInfo};
use lakelab_store::{MemoryStore, OpfsStore, Store};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// The OPFS folder that holds the lake.
const LAKE_FOLDER: &str = "lakelab";
/// Progress messages are sent at most this often (ms).
const PROGRESS_INTERVAL_MS: f64 = 100.0;

pub fn start() {
    // A panic aborts the worker: tell the UI why before it goes.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        post(
            &scope,
            &Response::Failed {
                id: 0,
                message: format!("the engine crashed: {info}"),
            },
        );
    }));
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // Requests are queued from the first moment, while the engine opens.
    let (sender, receiver) = mpsc::unbounded::<Request>();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        match serde_wasm_bindgen::from_value::<Request>(event.data()) {
            Ok(request) => {
                let _ = sender.unbounded_send(request);
            }
            Err(e) => web_sys::console::error_1(&format!("unreadable request: {e}").into()),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    wasm_bindgen_futures::spawn_local(serve(scope, receiver));
}

fn now(scope: &DedicatedWorkerGlobalScope) -> f64 {
    scope.performance().map_or(0.0, |p| p.now())
}

fn post(scope: &DedicatedWorkerGlobalScope, response: &Response) {
    let sent = serde_wasm_bindgen::to_value(response)
        .map_err(JsValue::from)
        .and_then(|value| scope.post_message(&value));
    if let Err(e) = sent {
        web_sys::console::error_2(&"could not post a response".into(), &e);
    }
}

async fn open_store() -> (Rc<dyn Store>, String) {
    match OpfsStore::open(LAKE_FOLDER).await {
        Ok(store) => (Rc::new(store), "OPFS".to_owned()),
        Err(e) => (
            Rc::new(MemoryStore::new()),
            format!("memory only: OPFS is unavailable ({e})"),
        ),
    }
}

fn table_infos(engine: &Engine) -> Vec<TableInfo> {
    engine
        .tables()
        .into_iter()
        .map(|t| TableInfo {
            name: t.name,
            rows: t.rows,
            version: t.version,
            error: t.error,
        })
        .collect()
}

async fn serve(scope: DedicatedWorkerGlobalScope, mut requests: mpsc::UnboundedReceiver<Request>) {
    let (store, storage) = open_store().await;
    let mut cdc = crate::cdc::CdcLab::default();
    let mut late = lakelab_stream::late::lab::LateLab::default();
    let mut engine = match Engine::open(store.clone()).await {
        Ok(engine) => engine,
        Err(e) => {
            post(
                &scope,
                &Response::Failed {
                    id: 0,
                    message: format!("the engine could not open its tables: {e}"),
                },
            );
            return;
        }
    };
    post(
        &scope,
        &Response::Ready {
            tables: table_infos(&engine),
            storage,
            startup_ms: now(&scope),
        },
    );
    while let Some(request) = requests.next().await {
        let response = match request {
            Request::Sql { id, sql } => run_sql(&scope, &engine, id, &sql).await,
            Request::Export { id, tables, files } => match engine
                .export_tables(
                    &tables,
                    files.into_iter().map(|f| (f.path, f.data)).collect(),
                )
                .await
            {
                Ok(zip) => Response::Exported { id, zip },
                Err(e) => Response::Failed {
                    id,
                    message: e.to_string(),
                },
            },
            Request::ImportZip { id, table, zip } => {
                let started = now(&scope);
                let result = engine.import_zip(&table, &zip).await;
                done(&scope, &engine, id, started, result)
            }
            Request::ImportFiles { id, table, files } => {
                let started = now(&scope);
                let files = files.into_iter().map(|f| (f.path, f.data.into())).collect();
                let result = engine.import_files(&table, files).await;
                done(&scope, &engine, id, started, result)
            }
            Request::ExportLake { id, files } => {
                let files = files.into_iter().map(|f| (f.path, f.data)).collect();
                match lakelab_engine::export_lake(store.as_ref(), files).await {
                    Ok(zip) => Response::Exported { id, zip },
                    Err(e) => Response::Failed {
                        id,
                        message: e.to_string(),
                    },
                }
            }
            Request::ImportLake { id, zip } => {
                let imported = lakelab_engine::import_lake(store.as_ref(), &zip).await;
                // Whatever happened, the labs and the engine start again from storage.
                cdc = crate::cdc::CdcLab::default();
                late = lakelab_stream::late::lab::LateLab::default();
                let reopened = Engine::open(store.clone()).await;
                match (imported, reopened) {
                    (Ok(files), Ok(reopened)) => {
                        engine = reopened;
                        Response::LakeImported {
                            id,
                            files: files
                                .into_iter()
                                .map(|(path, data)| FileData {
                                    path,
                                    data: data.to_vec(),
                                })
                                .collect(),
                            tables: table_infos(&engine),
                        }
                    }
                    (Err(e), _) | (_, Err(e)) => Response::Failed {
                        id,
                        message: e.to_string(),
                    },
                }
            }
            Request::Cdc { id, command } => {
                let result = cdc.handle(&store, command).await;
                // The lab wrote tables through its own sessions: reopen, so
                // the console, the table list and the lab's view see them.
                if let Ok(reopened) = Engine::open(store.clone()).await {
                    engine = reopened;
                }
                let result = match result {
                    Ok(verification) => cdc.view(&engine, verification).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(view) => Response::Cdc {
                        id,
                        view: view.map(Box::new),
                        tables: table_infos(&engine),
                    },
                    Err(e) => Response::Failed {
                        id,
                        message: e.to_string(),
                    },
                }
            }
            Request::Late { id, command } => match late.handle(&engine, command).await {
                Ok(()) => Response::Late {
                    id,
                    view: late.view().map(Box::new),
                    tables: table_infos(&engine),
                },
                Err(e) => Response::Failed {
                    id,
                    message: e.to_string(),
                },
            },
        };
        post(&scope, &response);
    }
}

async fn run_sql(
    scope: &DedicatedWorkerGlobalScope,
    engine: &Engine,
    id: u64,
    sql: &str,
) -> Response {
    let started = now(scope);
    let mut last_report = started;
    let mut report = |p: Progress| {
        let t = now(scope);
        if t - last_report >= PROGRESS_INTERVAL_MS {
            last_report = t;
            post(
                scope,
                &Response::Progress {
                    id,
                    rows: p.rows,
                    batches: p.batches,
                },
            );
        }
    };
    let statements = match split_statements(sql) {
        Ok(statements) if !statements.is_empty() => statements,
        Ok(_) => vec![sql.to_owned()],
        Err(e) => {
            return Response::Failed {
                id,
                message: e.to_string(),
            };
        }
    };
    let mut messages = Vec::new();
    let mut last = None;
    for (n, statement) in statements.iter().enumerate() {
        match engine.execute(statement, &mut report).await {
            Ok(output) => {
                messages.extend(output.message.clone());
                last = Some(output);
            }
            Err(e) => {
                let message = if statements.len() > 1 {
                    format!("statement {} of {}: {e}", n + 1, statements.len())
                } else {
                    e.to_string()
                };
                return Response::Failed { id, message };
            }
        }
    }
    let Some(mut output) = last else {
        return Response::Failed {
            id,
            message: "nothing to run".into(),
        };
    };
    if messages.len() > 1 {
        output.message = Some(messages.join("\n"));
    }
    done(scope, engine, id, started, Ok(output))
}

/// The answer to a request that produced `result`, begun at `started`.
fn done(
    scope: &DedicatedWorkerGlobalScope,
    engine: &Engine,
    id: u64,
    started: f64,
    result: Result<Output, EngineError>,
) -> Response {
    let output = match result {
        Ok(output) => output,
        Err(e) => {
            return Response::Failed {
                id,
                message: e.to_string(),
            };
        }
    };
    let engine_ms = now(scope) - started;
    match to_ipc(&output.schema, &output.batches) {
        Ok(ipc) => Response::Done {
            id,
            ipc,
            rows: output.row_count(),
            message: output.message,
            engine_ms,
            tables: table_infos(engine),
            scans: output.scans.iter().map(ScanInfo::from).collect(),
        },
        Err(e) => Response::Failed {
            id,
            message: format!("could not encode the result: {e}"),
        },
    }
}
