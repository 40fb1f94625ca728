//! A store that times its calls, by operation and kind of file: where a
//! benchmark's storage time goes (Delta log, data files, checkpoints).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Range;
use std::rc::Rc;

use async_trait::async_trait;
use bytes::Bytes;
use lakelab_store::{CommitLock, ObjectMeta, Result, Store};
use web_time::Instant;

type Key = (&'static str, &'static str);

pub struct Timed {
    inner: Rc<dyn Store>,
    /// Calls and seconds per (operation, kind of file).
    spent: RefCell<BTreeMap<Key, (u64, f64)>>,
}

fn kind(path: &str) -> &'static str {
    if path.contains("_delta_log/") && path.contains("checkpoint") {
        "delta checkpoint"
    } else if path.contains("_delta_log") {
        "delta log"
    } else if path.ends_with(".parquet") || path.contains("/part-") {
        "data"
    } else {
        "other"
    }
}

impl Timed {
    pub fn new(inner: Rc<dyn Store>) -> Self {
        Timed {
            inner,
            spent: RefCell::new(BTreeMap::new()),
        }
    }

    /// Forgets the calls timed so far.
    pub fn reset(&self) {
        self.spent.borrow_mut().clear();
    }

    fn record(&self, operation: &'static str, path: &str, started: Instant) {
        let mut spent = self.spent.borrow_mut();
        let entry = spent.entry((operation, kind(path))).or_default();
        entry.0 += 1;
        entry.1 += started.elapsed().as_secs_f64();
    }

    /// One line per (operation, kind): calls, seconds, milliseconds per call.
    pub fn lines(&self) -> Vec<String> {
        let spent = self.spent.borrow();
        let total: f64 = spent.values().map(|(_, s)| s).sum();
        let mut lines = vec![format!("store calls       {total:.2} s in all")];
        for ((operation, kind), (calls, s)) in spent.iter() {
            lines.push(format!(
                "  {operation:<14} {kind:<17} {calls:>6} calls {s:>7.2} s {:>6.2} ms each",
                s * 1000.0 / (*calls).max(1) as f64
            ));
        }
        lines
    }
}

#[async_trait(?Send)]
impl Store for Timed {
    async fn get(&self, path: &str) -> Result<Bytes> {
        let started = Instant::now();
        let out = self.inner.get(path).await;
        self.record("get", path, started);
        out
    }

    async fn get_range(&self, path: &str, range: Range<u64>) -> Result<Bytes> {
        let started = Instant::now();
        let out = self.inner.get_range(path, range).await;
        self.record("get_range", path, started);
        out
    }

    async fn put(&self, path: &str, data: Bytes) -> Result<()> {
        let started = Instant::now();
        let out = self.inner.put(path, data).await;
        self.record("put", path, started);
        out
    }

    async fn put_new(&self, path: &str, data: Bytes) -> Result<()> {
        let started = Instant::now();
        let out = self.inner.put_new(path, data).await;
        self.record("put_new", path, started);
        out
    }

    async fn put_if_absent(&self, path: &str, data: Bytes) -> Result<()> {
        let started = Instant::now();
        let out = self.inner.put_if_absent(path, data).await;
        self.record("put_if_absent", path, started);
        out
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let started = Instant::now();
        let out = self.inner.list(prefix).await;
        self.record("list", prefix, started);
        out
    }

    async fn delete(&self, path: &str) -> Result<()> {
        let started = Instant::now();
        let out = self.inner.delete(path).await;
        self.record("delete", path, started);
        out
    }

    async fn lock(&self, name: &str) -> Result<CommitLock> {
        let started = Instant::now();
        let out = self.inner.lock(name).await;
        self.record("lock", name, started);
        out
    }
}
