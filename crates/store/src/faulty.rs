//! A wrapper that makes one chosen call fail, to prove that every caller turns
//! a storage failure into a clear error and leaves committed data intact.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;

use crate::{CommitLock, Error, ObjectMeta, Result, Store};

pub struct FaultyStore<S> {
    inner: S,
    calls: AtomicUsize,
    fail_at: AtomicUsize,
    /// The error the failing call returns; an [`Error::Injected`] if unset.
    error: Mutex<Option<Error>>,
}

impl<S: Store> FaultyStore<S> {
    /// Passes every call through to `inner` until [`fail_call`](Self::fail_call) arms it.
    pub fn new(inner: S) -> Self {
        FaultyStore {
            inner,
            calls: AtomicUsize::new(0),
            fail_at: AtomicUsize::new(0),
            error: Mutex::new(None),
        }
    }

    /// Makes the `k`-th call from now (1 = the next one) fail, once.
    pub fn fail_call(&self, k: usize) {
        self.fail_at
            .store(self.calls.load(Ordering::SeqCst) + k, Ordering::SeqCst);
    }

    /// Like [`fail_call`](Self::fail_call), failing with `error` (say a full quota).
    pub fn fail_call_with(&self, k: usize, error: Error) {
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
        self.fail_call(k);
    }

    /// Cancels a failure armed but not yet reached.
    pub fn disarm(&self) {
        self.fail_at.store(0, Ordering::SeqCst);
    }

    /// Calls made so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn check(&self, operation: &'static str, path: &str) -> Result<()> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call != self.fail_at.load(Ordering::SeqCst) {
            return Ok(());
        }
        let chosen = self.error.lock().unwrap_or_else(|e| e.into_inner()).take();
        Err(chosen.unwrap_or_else(|| Error::Injected {
            call,
            operation,
            path: path.to_owned(),
        }))
    }
}

#[async_trait(?Send)]
impl<S: Store> Store for FaultyStore<S> {
    async fn get(&self, path: &str) -> Result<Bytes> {
        self.check("get", path)?;
        self.inner.get(path).await
    }

    async fn get_range(&self, path: &str, range: Range<u64>) -> Result<Bytes> {
        self.check("get_range", path)?;
        self.inner.get_range(path, range).await
    }

    async fn put(&self, path: &str, data: Bytes) -> Result<()> {
        self.check("put", path)?;
        self.inner.put(path, data).await
    }

    async fn put_new(&self, path: &str, data: Bytes) -> Result<()> {
        self.check("put_new", path)?;
        self.inner.put_new(path, data).await
    }

    async fn put_if_absent(&self, path: &str, data: Bytes) -> Result<()> {
        self.check("put_if_absent", path)?;
        self.inner.put_if_absent(path, data).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        self.check("list", prefix)?;
        self.inner.list(prefix).await
    }

    async fn delete(&self, path: &str) -> Result<()> {
        self.check("delete", path)?;
        self.inner.delete(path).await
    }

    async fn lock(&self, name: &str) -> Result<CommitLock> {
        self.check("lock", name)?;
        self.inner.lock(name).await
    }
}
