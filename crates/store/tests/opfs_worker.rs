//! The store behaviour suite against OPFS, in a dedicated worker of headless
//! Chromium (where the engine runs, and where OPFS offers everything).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use lakelab_store::{Error, OpfsStore, Store, testkit};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn opfs_store_behaves() {
    let store = OpfsStore::open("lakelab-tests/suite").await.unwrap();
    testkit::run_all(&store).await;
}

#[wasm_bindgen_test]
async fn opfs_data_outlives_the_store_handle() {
    let first = OpfsStore::open("lakelab-tests/reopen").await.unwrap();
    first
        .put("t/part-0", Bytes::from_static(b"kept"))
        .await
        .unwrap();
    drop(first);
    let second = OpfsStore::open("lakelab-tests/reopen").await.unwrap();
    assert_eq!(second.get("t/part-0").await.unwrap(), &b"kept"[..]);
    let other = OpfsStore::open("lakelab-tests/elsewhere").await.unwrap();
    assert_eq!(
        other.get("t/part-0").await,
        Err(Error::NotFound("t/part-0".into())),
        "stores in different folders do not see each other"
    );
}

#[wasm_bindgen_test]
async fn a_store_sees_what_another_store_adds_to_its_folders() {
    // Two tabs of one origin, each with its own store on the same folder.
    let ours = OpfsStore::open("lakelab-tests/shared").await.unwrap();
    let theirs = OpfsStore::open("lakelab-tests/shared").await.unwrap();
    for meta in ours.list("t/").await.unwrap() {
        ours.delete(&meta.path).await.unwrap();
    }
    assert!(ours.list("t/later/").await.unwrap().is_empty());
    ours.put("t/first", Bytes::from_static(b"1")).await.unwrap();
    theirs
        .put("t/later/second", Bytes::from_static(b"2"))
        .await
        .unwrap();
    theirs
        .put("t/third", Bytes::from_static(b"3"))
        .await
        .unwrap();
    let paths: Vec<String> = ours
        .list("t/")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.path)
        .collect();
    assert_eq!(paths, ["t/first", "t/later/second", "t/third"]);
    assert_eq!(ours.get("t/later/second").await.unwrap(), &b"2"[..]);
}
