//! Named exclusive locks for commits.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Holds a named lock taken with [`Store::lock`](crate::Store::lock);
/// dropping it releases the lock.
pub struct CommitLock {
    _held: Box<dyn Any>,
}

impl CommitLock {
    pub(crate) fn new(held: impl Any) -> Self {
        CommitLock {
            _held: Box::new(held),
        }
    }
}

impl std::fmt::Debug for CommitLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommitLock")
    }
}

/// In-process named locks, for the native stores (one process owns a lake
/// folder; the browser's tabs are covered by the Web Locks API instead).
#[derive(Default)]
pub(crate) struct LockTable {
    locks: Mutex<HashMap<String, Arc<async_lock::Mutex<()>>>>,
}

impl LockTable {
    pub(crate) async fn lock(&self, name: &str) -> CommitLock {
        let mutex = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(name.to_owned()).or_default().clone()
        };
        CommitLock::new(mutex.lock_arc().await)
    }
}
