//! Lakelab's storage: one small async interface over the Origin Private File
//! System in the browser, and over a local directory or memory natively.
//!
//! Everything above this crate (tables, the Delta log) sees only [`Store`].
//! Paths are relative, `/`-separated keys such as `tables/t/part-00000.parquet`.
//!
//! The trait is `?Send`: in the browser every handle is a JavaScript object
//! that lives on one thread, and the engine drives its futures on that thread.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod cooperate;
mod error;
mod faulty;
mod lock;
mod memory;
mod path;
pub mod testkit;

#[cfg(not(target_arch = "wasm32"))]
mod local;
#[cfg(target_arch = "wasm32")]
mod opfs;

use std::ops::Range;

use async_trait::async_trait;
use bytes::Bytes;

pub use error::{Error, Result};
pub use faulty::FaultyStore;
#[cfg(not(target_arch = "wasm32"))]
pub use local::LocalStore;
pub use lock::CommitLock;
pub use memory::MemoryStore;
#[cfg(target_arch = "wasm32")]
pub use opfs::OpfsStore;

/// A stored file as `list` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub path: String,
    pub size: u64,
}

/// The storage interface every implementation provides with the same
/// behaviour (checked by [`testkit`] against each of them).
#[async_trait(?Send)]
pub trait Store {
    /// The whole file. [`Error::NotFound`] if it does not exist.
    async fn get(&self, path: &str) -> Result<Bytes>;

    /// Bytes `range.start .. range.end` of a file; a range past the end is an
    /// [`Error::InvalidRange`].
    async fn get_range(&self, path: &str, range: Range<u64>) -> Result<Bytes>;

    /// Creates or replaces a file atomically: a reader sees the old content or
    /// the new, never a part of it.
    async fn put(&self, path: &str, data: Bytes) -> Result<()>;

    /// Writes a file under a fresh name that nobody else writes and no reader
    /// looks for until the caller publishes it (a data file, before the log
    /// commit that adds it). It need not be atomic: a crash may leave part of
    /// it, which nothing references. Stores where atomicity costs extra
    /// round trips (OPFS) skip them here.
    async fn put_new(&self, path: &str, data: Bytes) -> Result<()> {
        self.put(path, data).await
    }

    /// Creates a file only if none exists at `path`, atomically even across
    /// browser tabs; otherwise fails with [`Error::AlreadyExists`] and leaves
    /// the existing file untouched. This is what a log commit is built on.
    async fn put_if_absent(&self, path: &str, data: Bytes) -> Result<()>;

    /// Files whose path starts with `prefix`, sorted by path.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>>;

    /// Removes a file. [`Error::NotFound`] if it does not exist.
    async fn delete(&self, path: &str) -> Result<()>;

    /// Takes the exclusive lock called `name`, waiting while another writer
    /// (another task, or another tab of the same origin) holds it. The lock is
    /// released when the returned guard is dropped.
    async fn lock(&self, name: &str) -> Result<CommitLock>;
}

/// Fails with [`Error::InvalidRange`] unless `range` lies within a file of `size` bytes.
pub(crate) fn check_range(path: &str, range: &Range<u64>, size: u64) -> Result<()> {
    if range.start > range.end || range.end > size {
        return Err(Error::InvalidRange {
            path: path.to_owned(),
            start: range.start,
            end: range.end,
            size,
        });
    }
    Ok(())
}

/// The bytes of `range` within a whole file, or [`Error::InvalidRange`].
pub(crate) fn slice_range(path: &str, data: &Bytes, range: Range<u64>) -> Result<Bytes> {
    check_range(path, &range, data.len() as u64)?;
    Ok(data.slice(range.start as usize..range.end as usize))
}

/// A shared store is a store: lets tests keep a handle on what the engine uses.
#[async_trait(?Send)]
impl<T: Store + ?Sized> Store for std::rc::Rc<T> {
    async fn get(&self, path: &str) -> Result<Bytes> {
        (**self).get(path).await
    }
    async fn get_range(&self, path: &str, range: Range<u64>) -> Result<Bytes> {
        (**self).get_range(path, range).await
    }
    async fn put(&self, path: &str, data: Bytes) -> Result<()> {
        (**self).put(path, data).await
    }
    async fn put_new(&self, path: &str, data: Bytes) -> Result<()> {
        (**self).put_new(path, data).await
    }
    async fn put_if_absent(&self, path: &str, data: Bytes) -> Result<()> {
        (**self).put_if_absent(path, data).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        (**self).list(prefix).await
    }
    async fn delete(&self, path: &str) -> Result<()> {
        (**self).delete(path).await
    }
    async fn lock(&self, name: &str) -> Result<CommitLock> {
        (**self).lock(name).await
    }
}
