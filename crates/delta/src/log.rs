//! The files of `_delta_log/`: which commits and checkpoints exist.

use lakelab_store::Store;

use crate::error::Result;

/// What a listing of `_delta_log/` holds, by version.
#[derive(Debug, Default, Clone)]
pub struct LogListing {
    /// Versions with a commit file, ascending.
    pub commits: Vec<i64>,
    /// Versions with a classic single-file checkpoint, ascending.
    pub checkpoints: Vec<i64>,
}

impl LogListing {
    pub fn latest(&self) -> Option<i64> {
        let c = self.commits.last().copied();
        let k = self.checkpoints.last().copied();
        c.max(k)
    }

    /// The oldest version that can still be reconstructed: the first commit
    /// if the log starts at 0, else the oldest checkpoint.
    pub fn earliest(&self) -> Option<i64> {
        match self.commits.first() {
            Some(0) => Some(0),
            first => match (self.checkpoints.first(), first) {
                (Some(&k), _) => Some(k),
                (None, Some(&c)) => Some(c),
                (None, None) => None,
            },
        }
    }
}

pub fn log_dir(root: &str) -> String {
    join(root, "_delta_log")
}

pub fn commit_path(root: &str, version: i64) -> String {
    join(&log_dir(root), &format!("{version:020}.json"))
}

pub fn checkpoint_path(root: &str, version: i64) -> String {
    join(&log_dir(root), &format!("{version:020}.checkpoint.parquet"))
}

pub fn last_checkpoint_path(root: &str) -> String {
    join(&log_dir(root), "_last_checkpoint")
}

/// `root/rel`, or `rel` for a table at the store's root.
pub fn join(root: &str, rel: &str) -> String {
    if root.is_empty() {
        rel.to_owned()
    } else {
        format!("{root}/{rel}")
    }
}

pub async fn list_log(store: &dyn Store, root: &str) -> Result<LogListing> {
    let dir = format!("{}/", log_dir(root));
    let mut listing = LogListing::default();
    for meta in store.list(&dir).await? {
        let name = &meta.path[dir.len()..];
        if let Some(v) = name.strip_suffix(".json").and_then(version_of) {
            listing.commits.push(v);
        } else if let Some(v) = name
            .strip_suffix(".checkpoint.parquet")
            .and_then(version_of)
        {
            listing.checkpoints.push(v);
        }
        // Multi-part and V2 checkpoints, .crc files and temporaries are not
        // needed to read the table: commits alone always suffice.
    }
    Ok(listing)
}

fn version_of(stem: &str) -> Option<i64> {
    (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.parse().ok())
        .flatten()
}
