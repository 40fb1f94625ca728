//! A Delta table at a folder of a store: the entry point for readers and writers.

use std::collections::BTreeMap;
use std::rc::Rc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use lakelab_store::Store;

use crate::actions::{Action, Add, CommitInfo, Metadata, Protocol, Remove};
use crate::commit::{Commit, CommitOutcome, commit};
use crate::data::{WrittenFile, read_file, write_files};
use crate::error::{DeltaError, Result};
use crate::features::check_writable;
use crate::file_rows::FileRows;
use crate::log::list_log;
use crate::paths::from_log_path;
use crate::schema::{schema_string, to_delta_schema};
use crate::snapshot::{Snapshot, history, load_snapshot, version_at};

#[derive(Clone)]
pub struct Table {
    store: Rc<dyn Store>,
    root: String,
}

/// What a new table is made of.
#[derive(Debug, Clone, Default)]
pub struct TableSpec {
    pub partition_columns: Vec<String>,
    pub configuration: BTreeMap<String, Option<String>>,
    pub description: Option<String>,
}

impl Table {
    pub fn new(store: Rc<dyn Store>, root: impl Into<String>) -> Self {
        Table {
            store,
            root: root.into(),
        }
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The latest version in the log, or `None` if there is no table here.
    pub async fn latest_version(&self) -> Result<Option<i64>> {
        Ok(list_log(self.store(), &self.root).await?.latest())
    }

    pub async fn snapshot(&self) -> Result<Snapshot> {
        load_snapshot(self.store(), &self.root, None).await
    }

    pub async fn snapshot_at(&self, version: i64) -> Result<Snapshot> {
        load_snapshot(self.store(), &self.root, Some(version)).await
    }

    pub async fn snapshot_at_timestamp(&self, timestamp_ms: i64) -> Result<Snapshot> {
        let version = version_at(self.store(), &self.root, timestamp_ms).await?;
        self.snapshot_at(version).await
    }

    /// Commit information of the newest `limit` versions, newest first.
    pub async fn history(&self, limit: Option<usize>) -> Result<Vec<(i64, CommitInfo)>> {
        history(self.store(), &self.root, limit).await
    }

    /// Reads `files` of `snapshot` (all of them if `None`).
    pub async fn read(
        &self,
        snapshot: &Snapshot,
        files: Option<&[&Add]>,
    ) -> Result<Vec<RecordBatch>> {
        let all: Vec<&Add> = snapshot.files.values().collect();
        let mut out = Vec::new();
        for add in files.unwrap_or(&all) {
            out.extend(self.read_file(snapshot, add).await?.batches().cloned());
        }
        Ok(out)
    }

    pub async fn read_file(&self, snapshot: &Snapshot, add: &Add) -> Result<FileRows> {
        read_file(
            self.store(),
            &self.root,
            &snapshot.schema,
            snapshot.partition_columns(),
            add,
        )
        .await
    }

    /// Writes batches (already in `snapshot`'s schema) as new data files; they
    /// are part of the table only once a commit adds them.
    pub async fn write_files(
        &self,
        snapshot: &Snapshot,
        batches: &[RecordBatch],
    ) -> Result<Vec<Add>> {
        let written = self.write_files_with_rows(snapshot, batches).await?;
        Ok(written.into_iter().map(|w| w.add).collect())
    }

    /// [`write_files`](Self::write_files), also returning each file's rows as
    /// [`read_file`](Self::read_file) would read them.
    pub async fn write_files_with_rows(
        &self,
        snapshot: &Snapshot,
        batches: &[RecordBatch],
    ) -> Result<Vec<WrittenFile>> {
        check_writable(&snapshot.protocol)?;
        write_files(
            self.store(),
            &self.root,
            &snapshot.schema,
            snapshot.partition_columns(),
            batches,
            now_ms(),
        )
        .await
    }

    pub async fn commit(&self, commit_: Commit) -> Result<CommitOutcome> {
        commit(self.store(), &self.root, commit_, None).await
    }

    /// [`commit`](Self::commit) by a writer holding `base`, the snapshot it
    /// read: a checkpoint due is then written without reading the log again.
    pub async fn commit_over(&self, base: &Snapshot, commit_: Commit) -> Result<CommitOutcome> {
        commit(self.store(), &self.root, commit_, Some(base)).await
    }

    /// The protocol and metadata actions of a new table.
    pub fn create_actions(schema: &SchemaRef, spec: &TableSpec) -> Result<(Protocol, Metadata)> {
        let schema = to_delta_schema(schema)?;
        for column in &spec.partition_columns {
            if schema.field_with_name(column).is_err() {
                return Err(DeltaError::SchemaMismatch(format!(
                    "partition column '{column}' is not a column of the table"
                )));
            }
        }
        let has_constraints = spec
            .configuration
            .keys()
            .any(|k| k.starts_with("delta.constraints."));
        let protocol = Protocol {
            min_reader_version: 1,
            min_writer_version: if has_constraints { 3 } else { 2 },
            reader_features: None,
            writer_features: None,
        };
        let metadata = Metadata {
            id: uuid::Uuid::new_v4().to_string(),
            name: None,
            description: spec.description.clone(),
            format: Default::default(),
            schema_string: schema_string(&schema)?,
            partition_columns: spec.partition_columns.clone(),
            created_time: Some(now_ms()),
            configuration: spec.configuration.clone(),
        };
        Ok((protocol, metadata))
    }

    /// An empty snapshot of a table about to be created: lets data files be
    /// written before the first commit exists.
    pub fn pending_snapshot(protocol: Protocol, metadata: Metadata) -> Result<Snapshot> {
        let schema = crate::schema::parse_schema(&metadata.schema_string)?;
        Ok(Snapshot {
            version: -1,
            protocol,
            metadata,
            schema,
            files: BTreeMap::new(),
            tombstones: BTreeMap::new(),
            txns: Default::default(),
            timestamp: None,
            domains: BTreeMap::new(),
        })
    }

    /// The RESTORE commit: makes the table read as it did at `target`, with
    /// Delta's restore metrics. Fails if a file the old version needs is gone.
    pub async fn restore_commit(&self, current: &Snapshot, target: &Snapshot) -> Result<Commit> {
        check_writable(&current.protocol)?;
        let now = now_ms();
        let mut restored = Vec::new();
        for (path, add) in &target.files {
            if current.files.contains_key(path) {
                continue;
            }
            let relative = crate::log::join(&self.root, &from_log_path(path));
            if let Err(e) = self.store.get_range(&relative, 0..0).await {
                return Err(DeltaError::MissingDataFile {
                    path: relative,
                    source: e,
                });
            }
            let mut add = add.clone();
            add.data_change = true;
            add.modification_time = now;
            restored.push(add);
        }
        let removed: Vec<Remove> = current
            .files
            .iter()
            .filter(|(path, _)| !target.files.contains_key(*path))
            .map(|(_, add)| Remove::of(add, now, true))
            .collect();
        let mut c = Commit::new("RESTORE", Some(current.version))
            .parameter("version", target.version)
            .parameter("timestamp", "")
            .metric("tableSizeAfterRestore", target.size_in_bytes())
            .metric("numOfFilesAfterRestore", target.files.len())
            .metric("numRemovedFiles", removed.len())
            .metric("numRestoredFiles", restored.len())
            .metric(
                "removedFilesSize",
                removed.iter().filter_map(|r| r.size).sum::<i64>(),
            )
            .metric(
                "restoredFilesSize",
                restored.iter().map(|a| a.size).sum::<i64>(),
            );
        c.read.whole_table = true;
        if target.protocol != current.protocol {
            c.actions.push(Action::Protocol(target.protocol.clone()));
        }
        if target.metadata != current.metadata {
            c.actions.push(Action::Metadata(target.metadata.clone()));
        }
        c.actions.extend(removed.into_iter().map(Action::Remove));
        c.actions.extend(restored.into_iter().map(Action::Add));
        Ok(c)
    }
}

impl Table {
    /// The files VACUUM may delete: data files the snapshot does not use
    /// that were removed from the log before `cutoff_ms`. Files the log never
    /// mentioned (left by failed writes) have no removal time here; they are
    /// deleted only when `untracked_too` (a zero retention period).
    pub async fn vacuum_candidates(
        &self,
        snapshot: &Snapshot,
        cutoff_ms: i64,
        untracked_too: bool,
    ) -> Result<Vec<lakelab_store::ObjectMeta>> {
        let prefix = crate::log::join(&self.root, "");
        let live: std::collections::BTreeSet<String> =
            snapshot.files.keys().map(|p| from_log_path(p)).collect();
        let removed: BTreeMap<String, i64> = snapshot
            .tombstones
            .values()
            .map(|r| (from_log_path(&r.path), r.deletion_timestamp.unwrap_or(0)))
            .collect();
        let mut out = Vec::new();
        for meta in self.store.list(&prefix).await? {
            let relative = &meta.path[prefix.len()..];
            // `_delta_log`, `_change_data` and other `_`/`.` entries are not data files.
            if relative
                .split('/')
                .any(|part| part.starts_with('_') && !part.contains('=') || part.starts_with('.'))
            {
                continue;
            }
            if live.contains(relative) {
                continue;
            }
            let expired = match removed.get(relative) {
                Some(&at) => at <= cutoff_ms,
                None => untracked_too,
            };
            if expired {
                out.push(meta);
            }
        }
        Ok(out)
    }
}

thread_local! {
    /// A simulated "now" (ms), for labs that replay a day in seconds.
    static SIMULATED_NOW: std::cell::Cell<Option<i64>> = const { std::cell::Cell::new(None) };
}

/// Makes [`now_ms`] return `at` (ms since the epoch) on this thread, or the
/// real time again with `None`. Commit timestamps, file times and removal
/// times all follow it, so a lab's history reads in its own clock.
pub fn set_simulated_now(at: Option<i64>) {
    SIMULATED_NOW.with(|c| c.set(at));
}

/// The time commits are stamped with: the simulated clock if set, else the real one.
pub fn now_ms() -> i64 {
    SIMULATED_NOW
        .with(|c| c.get())
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis())
}
