//! The tables of a store: each is a Delta table at `tables/<name>/`.
//!
//! A table's log is read when the engine opens (cheap); its data files are
//! read the first time a statement uses it, and kept: a data file never
//! changes, so later versions and time travel reuse what was read.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::MemorySchemaProvider;
use datafusion::common::TableReference;
use datafusion::prelude::SessionContext;
use lakelab_delta::{FileRows, Snapshot, Table};
use lakelab_store::Store;

use crate::provider::{DeltaProvider, LoadedFile, Reports};
use crate::{EngineError, Result};

/// A table as the UI lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    pub name: String,
    pub rows: Option<u64>,
    pub version: Option<i64>,
    pub error: Option<String>,
}

enum Entry {
    Ready {
        table: Table,
        snapshot: Box<Snapshot>,
        registered: bool,
    },
    /// Its files exist but cannot be read; only `DROP` or `CREATE OR REPLACE` touch it.
    Broken { reason: String },
}

pub(crate) struct Catalog {
    store: Rc<dyn Store>,
    root: String,
    tables: RefCell<BTreeMap<String, Entry>>,
    /// Rows of data files read so far, by store path and table schema.
    files: RefCell<HashMap<String, Arc<FileRows>>>,
    /// Rows of files written but not yet committed, keyed like `files`:
    /// they join it when their commit lands, so a writer never reads back
    /// what it has just written.
    written: RefCell<HashMap<String, Arc<FileRows>>>,
    pub(crate) reports: Reports,
}

fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A stored table's name: `table`, or `schema.table` (folder `schema/table`).
pub(crate) fn table_name(reference: &TableReference) -> Result<String> {
    let (schema, table) = match reference {
        TableReference::Bare { table } => (None, table.to_string()),
        TableReference::Partial { schema, table } => (Some(schema.to_string()), table.to_string()),
        other => return Err(EngineError::InvalidTableName(other.to_string())),
    };
    let parts: Vec<String> = schema.into_iter().chain([table]).collect();
    if parts.iter().all(|p| is_identifier(p)) {
        Ok(parts.join(".").to_ascii_lowercase())
    } else {
        Err(EngineError::InvalidTableName(parts.join(".")))
    }
}

/// How DataFusion refers to a stored table.
pub(crate) fn reference(name: &str) -> TableReference {
    match name.split_once('.') {
        Some((schema, table)) => TableReference::partial(schema, table),
        None => TableReference::bare(name),
    }
}

/// The name columns are qualified with: the table's own name, without its schema.
pub(crate) fn short_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// A schema whose columns all accept nulls: what scans produce (files
/// written before a NOT NULL constraint, or without a later column, hold nulls).
pub(crate) fn nullable(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ))
}

/// How the rows of a data file are cached: a file reads differently under
/// another schema (columns added later read as null), so the schema is
/// part of the key.
fn file_key(path: &str, schema_string: &str) -> String {
    format!("{path}\n{schema_string}")
}

/// `part-00003.parquet`: how Lakelab stored tables before they were Delta tables.
fn is_legacy_part(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .and_then(|f| f.strip_prefix("part-")?.strip_suffix(".parquet"))
        .is_some_and(|n| n.len() == 5 && n.bytes().all(|b| b.is_ascii_digit()))
}

impl Catalog {
    pub(crate) async fn open(store: Rc<dyn Store>, root: &str) -> Result<Self> {
        let catalog = Catalog {
            store,
            root: root.trim_end_matches('/').to_owned(),
            tables: RefCell::new(BTreeMap::new()),
            files: RefCell::new(HashMap::new()),
            written: RefCell::new(HashMap::new()),
            reports: Reports::default(),
        };
        let prefix = catalog.prefix();
        // `t/_delta_log/…` is table `t`; `s/t/_delta_log/…` is table `s.t`;
        // `t/part-00000.parquet` is a table of an older Lakelab.
        let mut names: Vec<String> = catalog
            .store
            .list(&prefix)
            .await?
            .into_iter()
            .filter_map(|meta| {
                let relative = meta.path.strip_prefix(&prefix)?.to_owned();
                let parts: Vec<&str> = relative.split('/').collect();
                match parts.as_slice() {
                    [t, "_delta_log", ..] => Some((*t).to_owned()),
                    [s, t, "_delta_log", ..] => Some(format!("{s}.{t}")),
                    [t, file] if is_legacy_part(file) => Some((*t).to_owned()),
                    [t, crate::convert::SUCCESS] => Some((*t).to_owned()),
                    _ => None,
                }
            })
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            catalog.reload(&name).await?;
        }
        Ok(catalog)
    }

    fn prefix(&self) -> String {
        if self.root.is_empty() {
            String::new()
        } else {
            format!("{}/", self.root)
        }
    }

    fn folder(&self, name: &str) -> String {
        format!("{}{}", self.prefix(), name.replace('.', "/"))
    }

    pub(crate) fn delta_table(&self, name: &str) -> Table {
        Table::new(self.store.clone(), self.folder(name))
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.tables.borrow().contains_key(name)
    }

    pub(crate) fn summaries(&self) -> Vec<TableSummary> {
        self.tables
            .borrow()
            .iter()
            .map(|(name, entry)| match entry {
                Entry::Ready { snapshot, .. } => TableSummary {
                    name: name.clone(),
                    rows: snapshot.num_records().and_then(|n| u64::try_from(n).ok()),
                    version: Some(snapshot.version),
                    error: None,
                },
                Entry::Broken { reason } => TableSummary {
                    name: name.clone(),
                    rows: None,
                    version: None,
                    error: Some(reason.clone()),
                },
            })
            .collect()
    }

    /// The table and its latest snapshot, or why it cannot be used.
    pub(crate) fn get(&self, name: &str) -> Result<(Table, Snapshot)> {
        match self.tables.borrow().get(name) {
            Some(Entry::Ready {
                table, snapshot, ..
            }) => Ok((table.clone(), snapshot.as_ref().clone())),
            Some(Entry::Broken { reason }) => Err(EngineError::UnreadableTable {
                name: name.to_owned(),
                reason: reason.clone(),
            }),
            None => Err(EngineError::NoSuchTable(name.to_owned())),
        }
    }

    /// Fails with the reason if `name` is a stored table that cannot be read.
    pub(crate) fn check_readable(&self, name: &str) -> Result<()> {
        match self.tables.borrow().get(name) {
            Some(Entry::Broken { reason }) => Err(EngineError::UnreadableTable {
                name: name.to_owned(),
                reason: reason.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Re-reads `name`'s log (after a commit, or at open).
    pub(crate) async fn reload(&self, name: &str) -> Result<()> {
        let table = self.delta_table(name);
        let entry = match table.snapshot().await {
            Ok(snapshot) => Entry::Ready {
                table,
                snapshot: Box::new(snapshot),
                registered: false,
            },
            Err(lakelab_delta::DeltaError::NotATable(_)) => {
                // Data files of a CREATE that never committed are not a table;
                // Parquet parts without a log are an older Lakelab's tables.
                let files = self.store.list(&format!("{}/", self.folder(name))).await?;
                let marker = format!("{}/{}", self.folder(name), crate::convert::SUCCESS);
                if files.iter().any(|m| m.path == marker) {
                    let reason = crate::convert::parquet_table_reason(name);
                    self.tables
                        .borrow_mut()
                        .insert(name.to_owned(), Entry::Broken { reason });
                    return Ok(());
                }
                if !files.iter().any(|m| is_legacy_part(&m.path)) {
                    self.tables.borrow_mut().remove(name);
                    return Ok(());
                }
                Entry::Broken {
                    reason:
                        "it was written by an older Lakelab as plain Parquet, without a Delta log; \
                             DROP TABLE it and create it again"
                            .into(),
                }
            }
            Err(e) => Entry::Broken {
                reason: e.to_string(),
            },
        };
        self.tables.borrow_mut().insert(name.to_owned(), entry);
        Ok(())
    }

    /// Brings `name` to the version its own commit just wrote, from that
    /// commit's actions. False if the table was not at the version before
    /// (another writer committed in between): then only a reload will do.
    pub(crate) fn advance(&self, name: &str, outcome: &lakelab_delta::CommitOutcome) -> bool {
        let mut tables = self.tables.borrow_mut();
        let Some(Entry::Ready {
            table, snapshot, ..
        }) = tables.get_mut(name)
        else {
            return false;
        };
        let Ok(next) = snapshot.advanced(outcome.version, &outcome.actions, table.root()) else {
            return false;
        };
        **snapshot = next;
        let schema = &snapshot.metadata.schema_string;
        let mut removed = Vec::new();
        for action in &outcome.actions {
            match action {
                // Rows of removed files are only wanted by time travel, which
                // reads them again: keeping them would grow memory with every
                // copy-on-write rewrite.
                lakelab_delta::Action::Remove(r) => removed.push(self.file_path(table, &r.path)),
                lakelab_delta::Action::Add(a) => {
                    let key = file_key(&self.file_path(table, &a.path), schema);
                    if let Some(rows) = self.written.borrow_mut().remove(&key) {
                        self.files.borrow_mut().insert(key, rows);
                    }
                }
                _ => {}
            }
        }
        drop(tables);
        self.evict(&removed);
        true
    }

    /// Keeps the rows of files just written to `name` until their commit
    /// lands, if the rows of `name` are kept at all (a table read before:
    /// an append-only table nobody reads keeps none); returns their adds.
    pub(crate) fn hold_written(
        &self,
        name: &str,
        snapshot: &Snapshot,
        files: Vec<lakelab_delta::data::WrittenFile>,
    ) -> Vec<lakelab_delta::Add> {
        let prefix = format!("{}/", self.folder(name));
        let hold = self.files.borrow().keys().any(|k| k.starts_with(&prefix));
        let table = self.delta_table(name);
        let mut written = self.written.borrow_mut();
        let mut adds = Vec::with_capacity(files.len());
        for file in files {
            if hold {
                let key = file_key(
                    &self.file_path(&table, &file.add.path),
                    &snapshot.metadata.schema_string,
                );
                written.insert(key, Arc::new(file.rows));
            }
            adds.push(file.add);
        }
        adds
    }

    /// Drops rows written to `name` whose commit did not land.
    pub(crate) fn drop_written(&self, name: &str) {
        let prefix = format!("{}/", self.folder(name));
        self.written
            .borrow_mut()
            .retain(|k, _| !k.starts_with(&prefix));
    }

    /// Where a file of `table`'s log is in the store.
    fn file_path(&self, table: &Table, log_path: &str) -> String {
        lakelab_delta::log::join(table.root(), &lakelab_delta::paths::from_log_path(log_path))
    }

    pub(crate) fn forget(&self, name: &str) {
        self.tables.borrow_mut().remove(name);
    }

    /// Makes sure `name` is registered with `ctx` at its latest version,
    /// reading any data files not read before. Without `rows`, only its
    /// schema is (for a statement that writes the table without reading
    /// it), and the next statement registers it again.
    pub(crate) async fn register(
        &self,
        ctx: &SessionContext,
        name: &str,
        rows: bool,
    ) -> Result<()> {
        let (table, snapshot) = match self.tables.borrow().get(name) {
            Some(Entry::Ready {
                registered: false,
                table,
                snapshot,
            }) => (table.clone(), snapshot.as_ref().clone()),
            _ => return Ok(()),
        };
        let provider = if rows {
            self.provider(&table, &snapshot, name).await?
        } else {
            self.empty_provider(&snapshot, name)
        };
        if let Some((schema, _)) = name.split_once('.') {
            let catalog = ctx
                .catalog("datafusion")
                .ok_or_else(|| EngineError::Invalid("no default catalog".into()))?;
            if catalog.schema(schema).is_none() {
                catalog.register_schema(schema, Arc::new(MemorySchemaProvider::new()))?;
            }
        }
        ctx.deregister_table(reference(name))?;
        ctx.register_table(reference(name), Arc::new(provider))?;
        if let Some(Entry::Ready { registered, .. }) = self.tables.borrow_mut().get_mut(name) {
            *registered = rows;
        }
        Ok(())
    }

    /// Drops `name` from the session so the next statement registers it afresh.
    pub(crate) fn unregister(&self, ctx: &SessionContext, name: &str) -> Result<()> {
        if ctx.table_exist(reference(name)).unwrap_or(false) {
            ctx.deregister_table(reference(name))?;
        }
        if let Some(Entry::Ready { registered, .. }) = self.tables.borrow_mut().get_mut(name) {
            *registered = false;
        }
        Ok(())
    }

    /// A provider over `snapshot`'s files.
    pub(crate) async fn provider(
        &self,
        table: &Table,
        snapshot: &Snapshot,
        name: &str,
    ) -> Result<DeltaProvider> {
        let mut files = Vec::with_capacity(snapshot.files.len());
        for add in snapshot.files.values() {
            let key = file_key(
                &self.file_path(table, &add.path),
                &snapshot.metadata.schema_string,
            );
            let cached = self.files.borrow().get(&key).cloned();
            let rows = match cached {
                Some(b) => b,
                None => {
                    let b = Arc::new(table.read_file(snapshot, add).await?);
                    self.files.borrow_mut().insert(key, b.clone());
                    b
                }
            };
            files.push(LoadedFile {
                add: add.clone(),
                rows,
            });
        }
        Ok(DeltaProvider {
            files,
            ..self.empty_provider(snapshot, name)
        })
    }

    /// A provider with `snapshot`'s schema and no rows.
    fn empty_provider(&self, snapshot: &Snapshot, name: &str) -> DeltaProvider {
        DeltaProvider {
            name: name.to_owned(),
            version: snapshot.version,
            schema: nullable(&snapshot.schema),
            partition_columns: snapshot.partition_columns().to_vec(),
            files: Vec::new(),
            reports: self.reports.clone(),
            stats: Default::default(),
        }
    }

    /// Forgets the rows of deleted files (by store path), so reads of them fail as they should.
    pub(crate) fn evict(&self, paths: &[String]) {
        if paths.is_empty() {
            return;
        }
        let paths: std::collections::HashSet<&str> = paths.iter().map(String::as_str).collect();
        self.files
            .borrow_mut()
            .retain(|key, _| !paths.contains(key.split('\n').next().unwrap_or_default()));
    }

    /// Forgets the rows of `name` held in memory (Spark's `UNCACHE TABLE`):
    /// its next reader reads its files from storage again.
    pub(crate) fn uncache(&self, ctx: &SessionContext, name: &str) -> Result<()> {
        self.forget_rows(name);
        ctx.deregister_table(reference(name))?;
        if let Some(Entry::Ready { registered, .. }) = self.tables.borrow_mut().get_mut(name) {
            *registered = false;
        }
        Ok(())
    }

    /// Deletes every file of `name`.
    pub(crate) async fn drop_files(&self, name: &str) -> Result<()> {
        let prefix = format!("{}/", self.folder(name));
        for meta in self.store.list(&prefix).await? {
            self.store.delete(&meta.path).await?;
        }
        self.forget_rows(name);
        Ok(())
    }

    /// Drops the cached rows of every file of `name`.
    fn forget_rows(&self, name: &str) {
        let prefix = format!("{}/", self.folder(name));
        self.files
            .borrow_mut()
            .retain(|k, _| !k.starts_with(&prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        assert_eq!(
            table_name(&TableReference::bare("Orders_2")).unwrap(),
            "orders_2"
        );
        for bad in ["", "9lives", "a-b", "a b", "ü"] {
            assert!(table_name(&TableReference::bare(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(
            table_name(&TableReference::partial("S", "t")).unwrap(),
            "s.t"
        );
        assert!(table_name(&TableReference::full("c", "s", "t")).is_err());
    }
}
