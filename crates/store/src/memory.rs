//! A store in memory: for native tests and for labs that need no persistence.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use crate::lock::LockTable;
use crate::{CommitLock, Error, ObjectMeta, Result, Store, path};

#[derive(Default)]
pub struct MemoryStore {
    files: Mutex<BTreeMap<String, Bytes>>,
    locks: LockTable,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn files(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Bytes>> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait(?Send)]
impl Store for MemoryStore {
    async fn get(&self, path: &str) -> Result<Bytes> {
        path::segments(path)?;
        self.files()
            .get(path)
            .cloned()
            .ok_or_else(|| Error::NotFound(path.to_owned()))
    }

    async fn get_range(&self, path: &str, range: Range<u64>) -> Result<Bytes> {
        let data = self.get(path).await?;
        crate::slice_range(path, &data, range)
    }

    async fn put(&self, path: &str, data: Bytes) -> Result<()> {
        path::segments(path)?;
        self.files().insert(path.to_owned(), data);
        Ok(())
    }

    async fn put_if_absent(&self, path: &str, data: Bytes) -> Result<()> {
        path::segments(path)?;
        let mut files = self.files();
        if files.contains_key(path) {
            return Err(Error::AlreadyExists(path.to_owned()));
        }
        files.insert(path.to_owned(), data);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        Ok(self
            .files()
            .range(prefix.to_owned()..)
            .take_while(|(path, _)| path.starts_with(prefix))
            .map(|(path, data)| ObjectMeta {
                path: path.clone(),
                size: data.len() as u64,
            })
            .collect())
    }

    async fn delete(&self, path: &str) -> Result<()> {
        path::segments(path)?;
        self.files()
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| Error::NotFound(path.to_owned()))
    }

    async fn lock(&self, name: &str) -> Result<CommitLock> {
        Ok(self.locks.lock(name).await)
    }
}
