//! Tables in and out of the browser: export a table as a `.zip` of its Delta
//! folder (for delta-rs or Spark), import one from a zip or from a folder
//! picked with the directory picker. The worker checks what arrives.

use js_sys::{Array, Function, Reflect, Uint8Array};
use lakelab_protocol::notebook::Notebook;
use lakelab_protocol::{FileData, Request};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, HtmlInputElement, Url};

use crate::bridge::{EngineBridge, Outcome};

/// A table name from a file or folder name: `Orders 2024.zip` → `orders_2024`.
pub fn table_name_from(file: &str) -> String {
    let stem = file.strip_suffix(".zip").unwrap_or(file);
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert_str(0, "t_");
    }
    name
}

/// Saves `bytes` as a download called `name`.
pub(crate) fn download(name: &str, bytes: &[u8]) -> Result<(), JsValue> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type("application/zip");
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    let anchor: HtmlAnchorElement = document().create_element("a")?.dyn_into()?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    Url::revoke_object_url(&url)
}

pub fn export(engine: EngineBridge, table: String, status: RwSignal<String>) {
    status.set(format!("exporting {table}…"));
    save_zip(
        engine,
        vec![table.clone()],
        Vec::new(),
        format!("{table}.zip"),
        status,
    );
}

/// Zips `tables` and `files` in the worker and saves the zip as `file`.
fn save_zip(
    engine: EngineBridge,
    tables: Vec<String>,
    files: Vec<FileData>,
    file: String,
    status: RwSignal<String>,
) {
    engine.export(tables, files, move |result| {
        status.set(match result.map(|zip| (download(&file, &zip), zip.len())) {
            Ok((Ok(()), size)) => format!("exported {file} ({size} bytes)"),
            Ok((Err(e), _)) => format!("could not save {file}: {e:?}"),
            Err(e) => format!("export failed: {e}"),
        });
    });
}

/// "Export as a Databricks notebook": the code for the lab as configured
/// (`notebook`, `None` until there is something to export) in a zip with
/// the lab's `tables` (those that exist), as Delta folders.
#[component]
pub fn NotebookExport(
    engine: EngineBridge,
    #[prop(into)] notebook: Signal<Option<Notebook>>,
    #[prop(into, optional)] tables: Signal<Vec<String>>,
) -> impl IntoView {
    let status = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    let export = move |_| {
        let Some(notebook) = notebook.get_untracked() else {
            return;
        };
        let wanted = tables.get_untracked();
        let tables: Vec<String> = engine.tables.with_untracked(|all| {
            all.iter()
                .filter(|t| wanted.contains(&t.name))
                .map(|t| t.name.clone())
                .collect()
        });
        status.set(format!(
            "exporting {} and {} tables…",
            notebook.name,
            tables.len()
        ));
        let file = FileData {
            path: format!("{}.py", notebook.name),
            data: notebook.source().into_bytes(),
        };
        save_zip(
            engine,
            tables,
            vec![file],
            format!("{}.zip", notebook.name),
            status,
        );
    };
    view! {
        <p class="notebook-export">
            <button class="notebook" disabled=move || notebook.with(Option::is_none) on:click=export
                title="The PySpark / Spark SQL a candidate would run on Databricks for these settings, with the lab's tables">
                "Export as a Databricks notebook"
            </button>
            " "
            <span class="status notebook-status">{move || status.get()}</span>
        </p>
        <details class="notebook-preview" on:toggle=move |ev| open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
            <summary>"The code on Databricks, for these settings"</summary>
            // Rendered only while open: a 50-table pipeline's notebook is long.
            {move || open.get().then(|| view! { <pre>{notebook.with(|n| n.as_ref().map(Notebook::source))}</pre> })}
        </details>
    }
}

fn report(status: RwSignal<String>) -> impl FnOnce(Outcome) {
    move |outcome| {
        status.set(match outcome {
            Outcome::Rows(result) => result.message.clone().unwrap_or_else(|| "imported".into()),
            Outcome::Failed(e) => format!("import failed: {e}"),
            Outcome::Cancelled { .. } => "import cancelled".into(),
        })
    }
}

pub(crate) async fn read_zip(input: HtmlInputElement) -> Result<(String, Vec<u8>), JsValue> {
    let file = input
        .files()
        .and_then(|files| files.get(0))
        .ok_or_else(|| JsValue::from_str("no file chosen"))?;
    let buffer = JsFuture::from(file.array_buffer()).await?;
    Ok((file.name(), Uint8Array::new(&buffer).to_vec()))
}

pub fn import_zip(engine: EngineBridge, input: HtmlInputElement, status: RwSignal<String>) {
    wasm_bindgen_futures::spawn_local(async move {
        match read_zip(input.clone()).await {
            Ok((file, zip)) => {
                let table = table_name_from(&file);
                status.set(format!("importing {file} as {table}…"));
                engine.request(|id| Request::ImportZip { id, table, zip }, report(status));
            }
            Err(e) => status.set(format!("could not read the file: {e:?}")),
        }
        input.set_value("");
    });
}

/// The files of a folder the user picks, as (folder name, files).
async fn pick_folder() -> Result<(String, Vec<FileData>), JsValue> {
    let window = window();
    let picker: Function = Reflect::get(&window, &"showDirectoryPicker".into())?
        .dyn_into()
        .map_err(|_| {
            JsValue::from_str("this browser has no folder picker; import a .zip instead")
        })?;
    let folder = JsFuture::from(picker.call0(&window)?.dyn_into::<js_sys::Promise>()?).await?;
    // Walking a directory handle needs `for await`, which Rust cannot write
    // against web-sys' stable API; a few lines of JS do it.
    let walk = Function::new_with_args(
        "dir",
        "const out = [];
         async function walk(handle, prefix) {
           for await (const [name, entry] of handle.entries()) {
             if (entry.kind === 'directory') await walk(entry, prefix + name + '/');
             else out.push([prefix + name, new Uint8Array(await (await entry.getFile()).arrayBuffer())]);
           }
         }
         return walk(dir, '').then(() => out);",
    );
    let entries: Array = JsFuture::from(
        walk.call1(&JsValue::NULL, &folder)?
            .dyn_into::<js_sys::Promise>()?,
    )
    .await?
    .dyn_into()?;
    let name = Reflect::get(&folder, &"name".into())?
        .as_string()
        .unwrap_or_default();
    let files = entries
        .iter()
        .map(|pair| {
            let pair: Array = pair.unchecked_into();
            FileData {
                path: pair.get(0).as_string().unwrap_or_default(),
                data: Uint8Array::new(&pair.get(1)).to_vec(),
            }
        })
        .collect();
    Ok((name, files))
}

pub fn import_folder(engine: EngineBridge, status: RwSignal<String>) {
    wasm_bindgen_futures::spawn_local(async move {
        match pick_folder().await {
            Ok((folder, files)) => {
                let table = table_name_from(&folder);
                status.set(format!(
                    "importing folder {folder} ({} files) as {table}…",
                    files.len()
                ));
                engine.request(
                    |id| Request::ImportFiles { id, table, files },
                    report(status),
                );
            }
            Err(e) => status.set(format!(
                "no folder imported: {}",
                e.as_string().unwrap_or_else(|| format!("{e:?}"))
            )),
        }
    });
}
