//! The store behaviour suite against the native implementations.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use lakelab_store::{Error, FaultyStore, LocalStore, MemoryStore, Store, testkit};

#[tokio::test]
async fn memory_store_behaves() {
    testkit::run_all(&MemoryStore::new()).await;
}

#[tokio::test]
async fn local_store_behaves() {
    let dir = tempfile::tempdir().unwrap();
    testkit::run_all(&LocalStore::new(dir.path()).unwrap()).await;
}

#[tokio::test]
async fn local_store_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    store.put("t/a", Bytes::from_static(b"1")).await.unwrap();
    let _ = store.put_if_absent("t/a", Bytes::from_static(b"2")).await;
    let names: Vec<_> = std::fs::read_dir(dir.path().join("t"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["a"]);
}

#[tokio::test]
async fn an_unarmed_faulty_store_behaves() {
    testkit::run_all(&FaultyStore::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn faulty_store_fails_exactly_the_chosen_call() {
    let store = FaultyStore::new(MemoryStore::new());
    store.put("a", Bytes::from_static(b"1")).await.unwrap();
    store.fail_call(2);
    assert!(
        store.get("a").await.is_ok(),
        "first call after arming passes"
    );
    assert!(matches!(
        store.put("a", Bytes::from_static(b"2")).await,
        Err(Error::Injected {
            operation: "put",
            ..
        })
    ));
    assert_eq!(
        store.get("a").await.unwrap(),
        &b"1"[..],
        "failed put changed nothing"
    );
    store.put("a", Bytes::from_static(b"3")).await.unwrap();
    assert_eq!(
        store.get("a").await.unwrap(),
        &b"3"[..],
        "the fault fires once"
    );

    store.fail_call_with(1, Error::QuotaExceeded("b".into()));
    assert_eq!(
        store.put("b", Bytes::from_static(b"x")).await,
        Err(Error::QuotaExceeded("b".into()))
    );
}
