//! A table as of one version: log replay from the newest usable checkpoint.

use std::collections::{BTreeMap, HashMap};

use arrow::datatypes::SchemaRef;
use lakelab_store::Store;

use crate::actions::{Action, Add, CommitInfo, Metadata, Protocol, Remove, parse_commit};
use crate::checkpoint::read_checkpoint;
use crate::error::{DeltaError, Result};
use crate::features::check_readable;
use crate::log::{LogListing, commit_path, list_log};
use crate::schema::parse_schema;

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub version: i64,
    pub protocol: Protocol,
    pub metadata: Metadata,
    pub schema: SchemaRef,
    /// Live data files by their log path.
    pub files: BTreeMap<String, Add>,
    /// Files removed and not yet vacuumed, by log path.
    pub tombstones: BTreeMap<String, Remove>,
    /// Last committed version of each idempotent writer (`txn.appId`).
    pub txns: HashMap<String, i64>,
    /// When this version was committed (`commitInfo.timestamp`, ms).
    pub timestamp: Option<i64>,
    /// Each live metadata domain's configuration (`domainMetadata`).
    pub domains: BTreeMap<String, String>,
}

impl Snapshot {
    pub fn partition_columns(&self) -> &[String] {
        &self.metadata.partition_columns
    }

    pub fn num_records(&self) -> Option<i64> {
        self.files.values().map(crate::stats::num_records).sum()
    }

    pub fn size_in_bytes(&self) -> i64 {
        self.files.values().map(|a| a.size).sum()
    }

    pub fn txn_version(&self, app_id: &str) -> Option<i64> {
        self.txns.get(app_id).copied()
    }

    /// The snapshot one version later, given that version's actions: what
    /// a writer knows after its own commit, without listing and reading the
    /// log again (which grows with every version).
    pub fn advanced(&self, version: i64, actions: &[Action], root: &str) -> Result<Snapshot> {
        if version != self.version + 1 {
            return Err(DeltaError::Invalid(format!(
                "cannot advance version {} to {version}: commits are missing",
                self.version
            )));
        }
        let mut replay = Replay {
            protocol: Some(self.protocol.clone()),
            metadata: Some(self.metadata.clone()),
            files: self.files.clone(),
            tombstones: self.tombstones.clone(),
            txns: self.txns.clone(),
            timestamp: self.timestamp,
            domains: self.domains.clone(),
        };
        for action in actions {
            replay.apply(action.clone());
        }
        replay.finish(version, root)
    }
}

/// State being replayed, before protocol and metadata are known to exist.
#[derive(Default)]
struct Replay {
    protocol: Option<Protocol>,
    metadata: Option<Metadata>,
    files: BTreeMap<String, Add>,
    tombstones: BTreeMap<String, Remove>,
    txns: HashMap<String, i64>,
    timestamp: Option<i64>,
    domains: BTreeMap<String, String>,
}

impl Replay {
    fn apply(&mut self, action: Action) {
        match action {
            Action::Protocol(p) => self.protocol = Some(p),
            Action::Metadata(m) => self.metadata = Some(m),
            Action::Add(a) => {
                self.tombstones.remove(&a.path);
                self.files.insert(a.path.clone(), a);
            }
            Action::Remove(r) => {
                self.files.remove(&r.path);
                self.tombstones.insert(r.path.clone(), r);
            }
            Action::Txn(t) => {
                self.txns.insert(t.app_id, t.version);
            }
            Action::CommitInfo(c) => self.timestamp = c.timestamp().or(self.timestamp),
            Action::DomainMetadata(d) if d.removed => {
                self.domains.remove(&d.domain);
            }
            Action::DomainMetadata(d) => {
                self.domains.insert(d.domain, d.configuration);
            }
        }
    }

    fn finish(self, version: i64, root: &str) -> Result<Snapshot> {
        let missing = |what: &str| DeltaError::CorruptLog {
            file: commit_path(root, version),
            reason: format!("no {what} action in the log up to version {version}"),
        };
        let protocol = self.protocol.ok_or_else(|| missing("protocol"))?;
        check_readable(&protocol)?;
        let metadata = self.metadata.ok_or_else(|| missing("metaData"))?;
        let schema = parse_schema(&metadata.schema_string)?;
        for column in &metadata.partition_columns {
            if schema.field_with_name(column).is_err() {
                return Err(missing(&format!("column for partition column '{column}'")));
            }
        }
        Ok(Snapshot {
            version,
            protocol,
            metadata,
            schema,
            files: self.files,
            tombstones: self.tombstones,
            txns: self.txns,
            timestamp: self.timestamp,
            domains: self.domains,
        })
    }
}

/// Loads the snapshot at `version` (the latest if `None`).
pub async fn load_snapshot(
    store: &dyn Store,
    root: &str,
    version: Option<i64>,
) -> Result<Snapshot> {
    let listing = list_log(store, root).await?;
    load_from_listing(store, root, &listing, version).await
}

pub(crate) async fn load_from_listing(
    store: &dyn Store,
    root: &str,
    listing: &LogListing,
    version: Option<i64>,
) -> Result<Snapshot> {
    let (Some(latest), Some(earliest)) = (listing.latest(), listing.earliest()) else {
        return Err(DeltaError::NotATable(root.to_owned()));
    };
    let target = version.unwrap_or(latest);
    if target < earliest || target > latest {
        return Err(DeltaError::VersionNotFound {
            requested: target,
            earliest,
            latest,
        });
    }
    // Newest checkpoint at or before the target that reads; a checkpoint
    // that does not read is skipped in favour of an older one or the commits.
    let mut replay = Replay::default();
    let mut start = 0;
    for &k in listing.checkpoints.iter().rev().filter(|&&k| k <= target) {
        if let Ok(actions) = read_checkpoint(store, root, k).await {
            actions.into_iter().for_each(|a| replay.apply(a));
            start = k + 1;
            break;
        }
    }
    let mut expected = start;
    for &v in listing
        .commits
        .iter()
        .filter(|&&v| v >= start && v <= target)
    {
        if v != expected {
            return Err(DeltaError::MissingCommit {
                missing: expected,
                latest,
            });
        }
        let path = commit_path(root, v);
        let bytes = store.get(&path).await?;
        for action in parse_commit(&bytes, &path)? {
            replay.apply(action);
        }
        expected += 1;
    }
    if expected <= target {
        return Err(DeltaError::MissingCommit {
            missing: expected,
            latest,
        });
    }
    replay.finish(target, root)
}

/// The commit information of every version still in the log, newest first.
pub async fn history(
    store: &dyn Store,
    root: &str,
    limit: Option<usize>,
) -> Result<Vec<(i64, CommitInfo)>> {
    let listing = list_log(store, root).await?;
    if listing.commits.is_empty() {
        return Err(DeltaError::NotATable(root.to_owned()));
    }
    let mut out = Vec::new();
    for &v in listing
        .commits
        .iter()
        .rev()
        .take(limit.unwrap_or(usize::MAX))
    {
        let path = commit_path(root, v);
        let info = parse_commit(&store.get(&path).await?, &path)?
            .into_iter()
            .find_map(|a| match a {
                Action::CommitInfo(c) => Some(c),
                _ => None,
            })
            .unwrap_or_default();
        out.push((v, info));
    }
    Ok(out)
}

/// The version current at `timestamp_ms`: the newest commit at or before it.
pub async fn version_at(store: &dyn Store, root: &str, timestamp_ms: i64) -> Result<i64> {
    let commits = history(store, root, None).await?;
    let show = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
            .unwrap_or_else(|| ms.to_string())
    };
    if let Some(latest) = commits.first().and_then(|(_, info)| info.timestamp())
        && timestamp_ms > latest
    {
        return Err(DeltaError::TimestampTooLate {
            requested: show(timestamp_ms),
            latest_commit: show(latest),
        });
    }
    let mut earliest = None;
    for (v, info) in &commits {
        let Some(ts) = info.timestamp() else { continue };
        if ts <= timestamp_ms {
            return Ok(*v);
        }
        earliest = Some(ts);
    }
    Err(DeltaError::TimestampTooEarly {
        requested: show(timestamp_ms),
        earliest_commit: earliest.map(show).unwrap_or_else(|| "unknown".into()),
    })
}
