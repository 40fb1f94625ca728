//! A streaming query's checkpoint, laid out as Spark lays it out: `metadata`
//! (the query id), `sources/0/0` (where it started), `offsets/<batch>` (the
//! write-ahead log: a batch's end offsets, written before the batch runs) and
//! `commits/<batch>` (written once the batch's writes are all done). A batch
//! with offsets but no commit is re-run with exactly those offsets.

use std::rc::Rc;

use bytes::Bytes;
use lakelab_protocol::cdc::Offsets;
use lakelab_store::{Error as StoreError, Store};

use crate::error::{Result, StreamError};

/// The CDC query's checkpoint folder, next to the tables under `root`.
pub fn checkpoint_dir(root: &str) -> String {
    if root.is_empty() {
        "_checkpoints/cdc".to_owned()
    } else {
        format!("{root}/_checkpoints/cdc")
    }
}

pub struct Checkpoint {
    store: Rc<dyn Store>,
    dir: String,
}

/// What a restart finds in the checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovered {
    pub query_id: String,
    /// Where the first batch started, once known.
    pub initial: Option<Offsets>,
    /// The last batch whose commit is written, and its end offsets.
    pub committed: Option<(i64, Offsets)>,
    /// A batch planned (offsets written) but not committed: it runs again.
    pub pending: Option<(i64, Offsets)>,
}

impl Checkpoint {
    pub fn new(store: Rc<dyn Store>, dir: &str) -> Self {
        Checkpoint {
            store,
            dir: dir.trim_end_matches('/').to_owned(),
        }
    }

    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// Reads the checkpoint, creating its metadata (a new query id) if absent.
    pub async fn recover(&self, new_id: &str) -> Result<Recovered> {
        let metadata = format!("{}/metadata", self.dir);
        let query_id = match self.read(&metadata).await? {
            Some(text) => serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_owned))
                .ok_or_else(|| corrupt(&metadata, "no query id"))?,
            None => {
                let text = serde_json::json!({ "id": new_id }).to_string();
                self.store.put(&metadata, Bytes::from(text)).await?;
                new_id.to_owned()
            }
        };
        let initial = match self.read(&self.initial_path()).await? {
            Some(text) => Some(parse_offsets(&self.initial_path(), &text)?),
            None => None,
        };
        let last_offsets = self.last_batch("offsets").await?;
        let last_commit = self.last_batch("commits").await?;
        let mut recovered = Recovered {
            query_id,
            initial,
            committed: None,
            pending: None,
        };
        if let Some(c) = last_commit {
            recovered.committed = Some((c, self.offsets(c).await?));
        }
        if let Some(o) = last_offsets
            && last_commit.is_none_or(|c| o > c)
        {
            recovered.pending = Some((o, self.offsets(o).await?));
        }
        Ok(recovered)
    }

    fn initial_path(&self) -> String {
        format!("{}/sources/0/0", self.dir)
    }

    pub async fn write_initial(&self, offsets: &Offsets) -> Result<()> {
        let text = serde_json::to_string(offsets).unwrap_or_default();
        self.store
            .put(&self.initial_path(), Bytes::from(format!("v1\n{text}")))
            .await?;
        Ok(())
    }

    /// The write-ahead log entry of batch `n`: its end offsets.
    pub async fn write_offsets(&self, n: i64, batch_ms: i64, end: &Offsets) -> Result<()> {
        let meta = serde_json::json!({ "batchWatermarkMs": 0, "batchTimestampMs": batch_ms });
        let text = format!(
            "v1\n{meta}\n{}",
            serde_json::to_string(end).unwrap_or_default()
        );
        let path = format!("{}/offsets/{n}", self.dir);
        self.store.put(&path, Bytes::from(text)).await?;
        Ok(())
    }

    pub async fn write_commit(&self, n: i64) -> Result<()> {
        let path = format!("{}/commits/{n}", self.dir);
        self.store
            .put(&path, Bytes::from("v1\n{\"nextBatchWatermarkMs\":0}"))
            .await?;
        Ok(())
    }

    async fn offsets(&self, n: i64) -> Result<Offsets> {
        let path = format!("{}/offsets/{n}", self.dir);
        let text = self
            .read(&path)
            .await?
            .ok_or_else(|| corrupt(&path, "missing"))?;
        parse_offsets(&path, &text)
    }

    async fn last_batch(&self, kind: &str) -> Result<Option<i64>> {
        let prefix = format!("{}/{kind}/", self.dir);
        let files = self.store.list(&prefix).await?;
        Ok(files
            .iter()
            .filter_map(|m| m.path.strip_prefix(&prefix)?.parse::<i64>().ok())
            .max())
    }

    async fn read(&self, path: &str) -> Result<Option<String>> {
        match self.store.get(path).await {
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The offsets are the last line (Spark's files start with a version line).
fn parse_offsets(path: &str, text: &str) -> Result<Offsets> {
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).map_err(|e| corrupt(path, &e.to_string()))
}

fn corrupt(path: &str, reason: &str) -> StreamError {
    StreamError::Checkpoint {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}
