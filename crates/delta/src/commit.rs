//! Commits: put-if-absent of the next log version, with Delta's optimistic
//! concurrency. A writer that loses the race checks the winning commits
//! against what it read; if nothing conflicts it retries at the next version.

use std::collections::BTreeSet;

use bytes::Bytes;
use lakelab_store::Store;
use serde_json::{Map, Value};

use crate::actions::{Action, CommitInfo, commit_bytes, parse_commit};
use crate::checkpoint::write_checkpoint;
use crate::error::{ConflictKind, DeltaError, Result};
use crate::log::{commit_path, list_log};
use crate::snapshot::{Snapshot, load_snapshot};
use crate::table::now_ms;

/// Delta's default `delta.checkpointInterval`.
pub const CHECKPOINT_INTERVAL: i64 = 10;
/// Losing the race more often than this is reported, not retried forever.
const MAX_ATTEMPTS: usize = 20;

/// What a transaction read: used to decide whether a concurrent commit
/// invalidates it.
#[derive(Debug, Clone, Default)]
pub struct ReadSet {
    /// The operation's result depends on every row of the table
    /// (a predicate scan: DELETE, UPDATE, MERGE, overwrite).
    pub whole_table: bool,
    /// Log paths of files the operation read.
    pub files: BTreeSet<String>,
}

/// A commit to be made.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The version the transaction read; `None` creates the table.
    pub read_version: Option<i64>,
    pub actions: Vec<Action>,
    pub operation: String,
    /// Shown by DESCRIBE HISTORY; values are strings, as Databricks writes them.
    pub parameters: Map<String, Value>,
    pub metrics: Map<String, Value>,
    pub read: ReadSet,
}

#[derive(Debug, Clone)]
pub struct CommitOutcome {
    pub version: i64,
    /// The actions written at `version` (with its commitInfo): what a reader
    /// holding the previous version applies to be current without re-reading
    /// the log.
    pub actions: Vec<Action>,
    /// A checkpoint due at this version that could not be written. The
    /// commit stands; readers replay the commits instead.
    pub checkpoint_error: Option<String>,
}

impl Commit {
    pub fn new(operation: &str, read_version: Option<i64>) -> Self {
        Commit {
            read_version,
            actions: Vec::new(),
            operation: operation.to_owned(),
            parameters: Map::new(),
            metrics: Map::new(),
            read: ReadSet::default(),
        }
    }

    pub fn parameter(mut self, key: &str, value: impl ToString) -> Self {
        self.parameters
            .insert(key.into(), Value::String(value.to_string()));
        self
    }

    pub fn metric(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.metrics.insert(key.into(), value.into());
        self
    }

    fn is_blind_append(&self) -> bool {
        !self.read.whole_table
            && self.read.files.is_empty()
            && self
                .actions
                .iter()
                .all(|a| matches!(a, Action::Add(_) | Action::Txn(_)))
    }

    fn commit_info(&self, timestamp: i64) -> CommitInfo {
        let mut info = Map::new();
        info.insert("timestamp".into(), timestamp.into());
        info.insert("operation".into(), self.operation.clone().into());
        info.insert(
            "operationParameters".into(),
            Value::Object(self.parameters.clone()),
        );
        if let Some(v) = self.read_version {
            info.insert("readVersion".into(), v.into());
        }
        info.insert("isolationLevel".into(), "Serializable".into());
        info.insert("isBlindAppend".into(), self.is_blind_append().into());
        info.insert(
            "operationMetrics".into(),
            Value::Object(self.metrics.clone()),
        );
        info.insert(
            "engineInfo".into(),
            concat!("Lakelab/", env!("CARGO_PKG_VERSION")).into(),
        );
        CommitInfo(info)
    }

    /// Whether the commit `winner` (already in the log) invalidates this one.
    fn check_against(&self, winner: &[Action]) -> Result<()> {
        let conflict = |kind, detail: String| Err(DeltaError::Conflict { kind, detail });
        let my_removes: BTreeSet<&str> = self
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Remove(r) => Some(r.path.as_str()),
                _ => None,
            })
            .collect();
        let my_txns: BTreeSet<&str> = self
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Txn(t) => Some(t.app_id.as_str()),
                _ => None,
            })
            .collect();
        for action in winner {
            match action {
                Action::Protocol(_) => {
                    return conflict(
                        ConflictKind::ProtocolChanged,
                        "the protocol version of the table was changed by a concurrent update"
                            .into(),
                    );
                }
                Action::Metadata(_) => {
                    return conflict(
                        ConflictKind::MetadataChanged,
                        "the metadata of the table was changed by a concurrent update".into(),
                    );
                }
                Action::Txn(t) if my_txns.contains(t.app_id.as_str()) => {
                    return conflict(
                        ConflictKind::ConcurrentTransaction,
                        format!("application '{}' committed concurrently", t.app_id),
                    );
                }
                Action::Add(a) if a.data_change && self.read.whole_table => {
                    return conflict(
                        ConflictKind::ConcurrentAppend,
                        format!(
                            "files were added to the table by a concurrent update ({})",
                            a.path
                        ),
                    );
                }
                Action::Remove(r) if r.data_change && my_removes.contains(r.path.as_str()) => {
                    return conflict(
                        ConflictKind::ConcurrentDeleteDelete,
                        format!("file {} was deleted by a concurrent update", r.path),
                    );
                }
                Action::Remove(r)
                    if r.data_change
                        && (self.read.whole_table || self.read.files.contains(&r.path)) =>
                {
                    return conflict(
                        ConflictKind::ConcurrentDeleteRead,
                        format!(
                            "file {} this operation read was deleted by a concurrent update",
                            r.path
                        ),
                    );
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Commits `commit`: writes the next log version, rebasing over concurrent
/// commits that do not conflict, and writes a checkpoint when one is due.
/// `base`, the snapshot at the version read, spares the checkpoint reading
/// the log again when the commit lands right after it.
pub async fn commit(
    store: &dyn Store,
    root: &str,
    commit: Commit,
    base: Option<&Snapshot>,
) -> Result<CommitOutcome> {
    let mut version = commit.read_version.map_or(0, |v| v + 1);
    for _ in 0..MAX_ATTEMPTS {
        let mut actions = vec![Action::CommitInfo(commit.commit_info(now_ms()))];
        actions.extend(commit.actions.iter().cloned());
        let bytes = Bytes::from(commit_bytes(&actions)?);
        match store
            .put_if_absent(&commit_path(root, version), bytes)
            .await
        {
            Ok(()) => {
                let checkpoint_error = if checkpoint_due(version) {
                    let base = base.filter(|b| b.version + 1 == version);
                    checkpoint(store, root, version, base, &actions)
                        .await
                        .err()
                        .map(|e| e.to_string())
                } else {
                    None
                };
                return Ok(CommitOutcome {
                    version,
                    actions,
                    checkpoint_error,
                });
            }
            Err(lakelab_store::Error::AlreadyExists(_)) => {
                if commit.read_version.is_none() {
                    return Err(DeltaError::Invalid(format!(
                        "table '{root}' already exists"
                    )));
                }
                let latest = list_log(store, root).await?.latest().unwrap_or(version);
                for v in version..=latest {
                    let path = commit_path(root, v);
                    commit.check_against(&parse_commit(&store.get(&path).await?, &path)?)?;
                }
                version = latest + 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(DeltaError::Conflict {
        kind: ConflictKind::ConcurrentTransaction,
        detail: format!("gave up after {MAX_ATTEMPTS} attempts lost to concurrent writers"),
    })
}

/// Whether a commit at `version` writes a checkpoint.
pub fn checkpoint_due(version: i64) -> bool {
    version > 0 && version % CHECKPOINT_INTERVAL == 0
}

/// Writes the checkpoint at `version`: from `base` and the version's
/// `actions` if given, else from the log.
async fn checkpoint(
    store: &dyn Store,
    root: &str,
    version: i64,
    base: Option<&Snapshot>,
    actions: &[Action],
) -> Result<()> {
    let snapshot = match base {
        Some(base) => base.advanced(version, actions, root)?,
        None => load_snapshot(store, root, Some(version)).await?,
    };
    write_checkpoint(store, root, &snapshot).await
}
