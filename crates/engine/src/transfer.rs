//! Tables in and out as `.zip` files of their Delta folder: export for
//! delta-rs or Spark, import of a table written elsewhere. An import is
//! refused whole if an entry would land outside the table's folder, if there
//! is no Delta log, or if the table does not read; nothing stays behind.

use std::io::{Cursor, Read, Write};

use bytes::Bytes;
use lakelab_delta::log::join;
use zip::write::SimpleFileOptions;

use crate::{Engine, EngineError, Output, Result};

/// The most an import may unpack: a zip bomb stops here, not in OPFS.
const MAX_UNPACKED: u64 = 2 << 30;

fn invalid(message: impl Into<String>) -> EngineError {
    EngineError::Invalid(message.into())
}

/// Whether a relative path stays inside its folder: no absolute path, no
/// `..`, no empty or `.` segment, no backslash.
fn is_contained(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Files of a zip as (path, bytes); a single top folder holding `_delta_log`
/// (how `export` and most zip tools lay it out) is taken off.
pub(crate) fn unzip(zip: &[u8]) -> Result<Vec<(String, Bytes)>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip))
        .map_err(|e| invalid(format!("not a zip file: {e}")))?;
    let mut files = Vec::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| invalid(format!("unreadable zip entry: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_owned();
        if !is_contained(&name) {
            return Err(invalid(format!(
                "zip entry '{name}' would land outside the table's folder; nothing was imported"
            )));
        }
        total += entry.size();
        if total > MAX_UNPACKED {
            return Err(invalid(
                "the zip unpacks to more than 2 GiB; nothing was imported",
            ));
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| invalid(format!("zip entry '{name}' does not unpack: {e}")))?;
        files.push((name, Bytes::from(data)));
    }
    let top: Option<&str> = files
        .first()
        .and_then(|(p, _)| p.split_once('/'))
        .map(|(t, _)| t);
    let shared_top = top.filter(|t| {
        *t != "_delta_log"
            && files
                .iter()
                .all(|(p, _)| p.strip_prefix(t).is_some_and(|r| r.starts_with('/')))
    });
    if let Some(top) = shared_top.map(str::to_owned) {
        for (path, _) in &mut files {
            *path = path[top.len() + 1..].to_owned();
        }
    }
    Ok(files)
}

impl Engine {
    /// The table's Delta folder as a zip, entries under `<name>/`.
    pub async fn export_table(&self, name: &str) -> Result<Vec<u8>> {
        self.export_tables(&[name.to_owned()], Vec::new()).await
    }

    /// Tables' Delta folders as one zip, each under `<name>/`, with `files`
    /// (path, bytes) at the top: a lab's notebook next to its tables.
    pub async fn export_tables(
        &self,
        names: &[String],
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<Vec<u8>> {
        let mut zip = Zipper::new();
        for (path, data) in &files {
            zip.add(path, data)?;
        }
        for name in names {
            let (table, _) = self.catalog.get(name)?;
            let prefix = format!("{}/", table.root());
            for meta in table.store().list(&prefix).await? {
                let data = table.store().get(&meta.path).await?;
                zip.add(&format!("{name}/{}", &meta.path[prefix.len()..]), &data)?;
            }
        }
        zip.finish()
    }

    /// Imports a Delta table from a zip as table `name`.
    pub async fn import_zip(&self, name: &str, zip: &[u8]) -> Result<Output> {
        let files = unzip(zip)?;
        self.import_files(name, files).await
    }

    /// Imports a Delta table from its files (paths relative to the table's
    /// folder) as table `name`. The log is written last, so the table appears
    /// only once every file is in place.
    pub async fn import_files(
        &self,
        name: &str,
        mut files: Vec<(String, Bytes)>,
    ) -> Result<Output> {
        let name = crate::catalog::table_name(&crate::catalog::reference(name))?;
        if self.catalog.contains(&name) {
            return Err(EngineError::TableExists(name));
        }
        if let Some((bad, _)) = files.iter().find(|(p, _)| !is_contained(p)) {
            return Err(invalid(format!(
                "'{bad}' would land outside the table's folder; nothing was imported"
            )));
        }
        if !files
            .iter()
            .any(|(p, _)| p.starts_with("_delta_log/") && p.ends_with(".json"))
        {
            return Err(invalid(
                "no _delta_log/ commits: this is not a Delta table; nothing was imported",
            ));
        }
        files.sort_by_key(|(p, _)| p.starts_with("_delta_log/"));
        let table = self.catalog.delta_table(&name);
        self.catalog.drop_files(&name).await?;
        let written = async {
            for (path, data) in &files {
                table
                    .store()
                    .put(&join(table.root(), path), data.clone())
                    .await?;
            }
            let snapshot = table.snapshot().await?;
            // Every data file must be there and read: better refused now than broken later.
            table.read(&snapshot, None).await?;
            Ok::<_, EngineError>(snapshot)
        }
        .await;
        let snapshot = match written {
            Ok(snapshot) => snapshot,
            Err(e) => {
                self.catalog.drop_files(&name).await?;
                self.catalog.forget(&name);
                return Err(invalid(format!(
                    "the import is not a readable Delta table ({e}); nothing was kept"
                )));
            }
        };
        self.catalog.reload(&name).await?;
        Ok(Output::message(format!(
            "imported {name}: version {}, {} files, {} rows",
            snapshot.version,
            snapshot.files.len(),
            snapshot
                .num_records()
                .map_or("?".to_owned(), |n| n.to_string())
        )))
    }
}

/// Where a lake snapshot keeps the store's files.
const LAKE: &str = "lake/";

/// Every file of `store` (tables, the labs' saved runs, checkpoints) as one
/// zip under `lake/`, with `files` (path, bytes) at the top: a whole lake
/// to hand to someone else.
pub async fn export_lake(
    store: &dyn lakelab_store::Store,
    files: Vec<(String, Vec<u8>)>,
) -> Result<Vec<u8>> {
    let mut zip = Zipper::new();
    for (path, data) in &files {
        zip.add(path, data)?;
    }
    for meta in store.list("").await? {
        let data = store.get(&meta.path).await?;
        zip.add(&format!("{LAKE}{}", meta.path), &data)?;
    }
    zip.finish()
}

/// A zip written in memory, its entries deflated.
struct Zipper(zip::ZipWriter<Cursor<Vec<u8>>>);

impl Zipper {
    fn new() -> Self {
        Zipper(zip::ZipWriter::new(Cursor::new(Vec::new())))
    }

    fn add(&mut self, entry: &str, data: &[u8]) -> Result<()> {
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        self.0
            .start_file(entry, options)
            .and_then(|()| self.0.write_all(data).map_err(Into::into))
            .map_err(|e| invalid(format!("could not zip {entry}: {e}")))
    }

    fn finish(self) -> Result<Vec<u8>> {
        let cursor = self
            .0
            .finish()
            .map_err(|e| invalid(format!("could not zip: {e}")))?;
        Ok(cursor.into_inner())
    }
}

/// Replaces `store`'s files with a lake snapshot's (see [`export_lake`])
/// and returns the snapshot's other files. Everything is read and checked
/// before anything is written; data files go first and each table's log
/// after them, so a table never points at a file not yet written; files
/// the snapshot lacks are deleted last. Reopen the engine afterwards.
pub async fn import_lake(
    store: &dyn lakelab_store::Store,
    zip: &[u8],
) -> Result<Vec<(String, Bytes)>> {
    let (mut lake, others): (Vec<_>, Vec<_>) = unzip(zip)?
        .into_iter()
        .partition(|(path, _)| path.starts_with(LAKE));
    if lake.is_empty() {
        return Err(invalid(
            "no lake/ folder: this is not a Lakelab snapshot; nothing was changed",
        ));
    }
    for (path, _) in &mut lake {
        *path = path[LAKE.len()..].to_owned();
    }
    // Data first, then logs, then the labs' saved state that refers to both.
    lake.sort_by_key(|(path, _)| {
        (
            path.starts_with("_labs/"),
            path.contains("/_delta_log/") || path.starts_with("_delta_log/"),
        )
    });
    let kept: std::collections::HashSet<&str> = lake.iter().map(|(p, _)| p.as_str()).collect();
    let stale: Vec<String> = store
        .list("")
        .await?
        .into_iter()
        .map(|meta| meta.path)
        .filter(|path| !kept.contains(path.as_str()))
        .collect();
    for (path, data) in &lake {
        store.put(path, data.clone()).await?;
    }
    for path in stale {
        store.delete(&path).await?;
    }
    Ok(others)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_inside() {
        for good in ["_delta_log/0.json", "d=1/part.parquet"] {
            assert!(is_contained(good), "{good}");
        }
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a\\\\b",
            "a//b",
            "./a",
            "",
        ] {
            assert!(!is_contained(bad), "{bad}");
        }
    }
}
