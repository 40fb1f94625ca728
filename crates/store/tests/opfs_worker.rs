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
