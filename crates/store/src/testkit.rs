//! The behaviour every [`Store`] must show, as one suite that the tests run
//! against each implementation: memory and local natively, OPFS in headless
//! Chromium. Each check works under its own prefix and clears it first, so
//! the suite also runs on a store that outlives the test (OPFS).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

use crate::{Error, Store};

/// Runs every check of the suite.
pub async fn run_all(store: &dyn Store) {
    round_trip(store).await;
    put_new_writes_a_fresh_file(store).await;
    put_if_absent_keeps_the_first(store).await;
    list_is_sorted_and_filtered(store).await;
    delete_removes(store).await;
    rejects_bad_paths(store).await;
    racing_creates_have_one_winner(store).await;
    lock_serialises_read_modify_write(store).await;
}

async fn clear(store: &dyn Store, prefix: &str) {
    for meta in store.list(prefix).await.expect("list for cleanup") {
        store.delete(&meta.path).await.expect("delete for cleanup");
    }
}

/// The paths and sizes `list` reports under `prefix`.
async fn listed(store: &dyn Store, prefix: &str) -> Vec<(String, u64)> {
    store
        .list(prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.path, m.size))
        .collect()
}

pub async fn round_trip(store: &dyn Store) {
    clear(store, "kit/rt/").await;
    let path = "kit/rt/a/b.bin";
    assert_eq!(
        store.get(path).await,
        Err(Error::NotFound(path.into())),
        "get of a missing file"
    );
    store
        .put(path, Bytes::from_static(b"hello world"))
        .await
        .unwrap();
    assert_eq!(store.get(path).await.unwrap(), &b"hello world"[..]);
    assert_eq!(store.get_range(path, 6..11).await.unwrap(), &b"world"[..]);
    assert_eq!(store.get_range(path, 0..0).await.unwrap(), &b""[..]);
    assert!(
        matches!(
            store.get_range(path, 6..12).await,
            Err(Error::InvalidRange { size: 11, .. })
        ),
        "a range past the end must fail"
    );
    store.put(path, Bytes::from_static(b"bye")).await.unwrap();
    assert_eq!(store.get(path).await.unwrap(), &b"bye"[..], "put replaces");
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    store
        .put("kit/rt/bin", Bytes::from(binary.clone()))
        .await
        .unwrap();
    assert_eq!(store.get("kit/rt/bin").await.unwrap(), binary);
    store.put("kit/rt/empty", Bytes::new()).await.unwrap();
    assert_eq!(store.get("kit/rt/empty").await.unwrap().len(), 0);
}

pub async fn put_new_writes_a_fresh_file(store: &dyn Store) {
    clear(store, "kit/new/").await;
    let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    store
        .put_new("kit/new/deep/part-0.parquet", Bytes::from(data.clone()))
        .await
        .unwrap();
    assert_eq!(
        store.get("kit/new/deep/part-0.parquet").await.unwrap(),
        data
    );
    store.put_new("kit/new/empty", Bytes::new()).await.unwrap();
    assert_eq!(
        listed(store, "kit/new/").await,
        vec![
            ("kit/new/deep/part-0.parquet".to_owned(), 70_000),
            ("kit/new/empty".to_owned(), 0)
        ],
        "the new files and nothing else (no temporary file left)"
    );
}

pub async fn put_if_absent_keeps_the_first(store: &dyn Store) {
    clear(store, "kit/pia/").await;
    let path = "kit/pia/00000.json";
    store
        .put_if_absent(path, Bytes::from_static(b"first"))
        .await
        .unwrap();
    assert_eq!(
        store
            .put_if_absent(path, Bytes::from_static(b"second"))
            .await,
        Err(Error::AlreadyExists(path.into()))
    );
    assert_eq!(store.get(path).await.unwrap(), &b"first"[..]);
}

pub async fn list_is_sorted_and_filtered(store: &dyn Store) {
    clear(store, "kit/ls").await;
    for path in [
        "kit/ls/b/2",
        "kit/ls/a",
        "kit/ls/b/1",
        "kit/lsx/c",
        "kit/ls/c/d/e",
    ] {
        store
            .put(path, Bytes::from(path.as_bytes().to_vec()))
            .await
            .unwrap();
    }
    let listed = listed(store, "kit/ls/").await;
    let expected: Vec<(String, u64)> = ["kit/ls/a", "kit/ls/b/1", "kit/ls/b/2", "kit/ls/c/d/e"]
        .iter()
        .map(|p| (p.to_string(), p.len() as u64))
        .collect();
    assert_eq!(listed, expected, "sorted, nested, sizes, prefix respected");
    let partial: Vec<String> = store
        .list("kit/ls/b/")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.path)
        .collect();
    assert_eq!(partial, vec!["kit/ls/b/1", "kit/ls/b/2"]);
    let by_name: Vec<String> = store
        .list("kit/ls")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.path)
        .collect();
    assert!(
        by_name.contains(&"kit/lsx/c".to_string()),
        "a prefix need not end at a '/'"
    );
    assert!(store.list("kit/nothing-here/").await.unwrap().is_empty());
    clear(store, "kit/lsx/").await;
}

pub async fn delete_removes(store: &dyn Store) {
    clear(store, "kit/del/").await;
    store
        .put("kit/del/x", Bytes::from_static(b"x"))
        .await
        .unwrap();
    store.delete("kit/del/x").await.unwrap();
    assert_eq!(
        store.get("kit/del/x").await,
        Err(Error::NotFound("kit/del/x".into()))
    );
    assert_eq!(
        store.delete("kit/del/x").await,
        Err(Error::NotFound("kit/del/x".into()))
    );
    assert!(store.list("kit/del/").await.unwrap().is_empty());
}

pub async fn rejects_bad_paths(store: &dyn Store) {
    for bad in ["", "/abs", "a//b", "../escape", "trailing/"] {
        assert!(
            matches!(
                store.put(bad, Bytes::new()).await,
                Err(Error::InvalidPath { .. })
            ),
            "put {bad:?} must be rejected"
        );
        assert!(
            matches!(store.get(bad).await, Err(Error::InvalidPath { .. })),
            "get {bad:?} must be rejected"
        );
    }
}

pub async fn racing_creates_have_one_winner(store: &dyn Store) {
    clear(store, "kit/race/").await;
    let path = "kit/race/00001.json";
    let (a, b) = futures::join!(
        store.put_if_absent(path, Bytes::from_static(b"a")),
        store.put_if_absent(path, Bytes::from_static(b"b"))
    );
    let winners = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "exactly one create wins: {a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a };
    assert_eq!(loser, Err(Error::AlreadyExists(path.into())));
}

/// Two writers each read a counter, yield, and write it back plus one. Under
/// the lock the second sees the first's write; without it one update is lost.
pub async fn lock_serialises_read_modify_write(store: &dyn Store) {
    clear(store, "kit/lock/").await;
    let path = "kit/lock/counter";
    store.put(path, Bytes::from_static(b"0")).await.unwrap();
    let increment = || async {
        let _guard = store.lock("kit-lock").await.unwrap();
        let seen: u32 = String::from_utf8(store.get(path).await.unwrap().to_vec())
            .unwrap()
            .parse()
            .unwrap();
        YieldNow(false).await;
        store
            .put(path, Bytes::from((seen + 1).to_string()))
            .await
            .unwrap();
    };
    futures::join!(increment(), increment(), increment());
    assert_eq!(store.get(path).await.unwrap(), &b"3"[..], "no update lost");
}

/// Returns `Pending` once, so the other futures of a `join!` run in between.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A flag a zero-delay timer sets once the worker's thread lets it run: what
/// the pause tests watch (`cooperate`).
#[cfg(target_arch = "wasm32")]
pub fn timer_flag() -> std::rc::Rc<std::cell::Cell<bool>> {
    use wasm_bindgen::JsCast;
    let flag = std::rc::Rc::new(std::cell::Cell::new(false));
    let set = flag.clone();
    let callback = wasm_bindgen::closure::Closure::once_into_js(move || set.set(true));
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    scope
        .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), 0)
        .unwrap();
    flag
}
