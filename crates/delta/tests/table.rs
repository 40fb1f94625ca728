//! Writing Delta tables: commits, checkpoints, conflicts, idempotent writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Runs natively; the engine's browser tests cover this crate in wasm.
#![cfg(not(target_arch = "wasm32"))]

use std::rc::Rc;
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use lakelab_delta::checkpoint::read_checkpoint;
use lakelab_delta::log::{commit_path, list_log};
use lakelab_delta::{Action, Commit, ConflictKind, DeltaError, Remove, Table, TableSpec, Txn};
use lakelab_store::{FaultyStore, MemoryStore, Store};

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("region", DataType::Utf8, true),
    ]))
}

fn batch(ids: &[i64], region: &str) -> RecordBatch {
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(vec![region; ids.len()])),
        ],
    )
    .unwrap()
}

async fn create(table: &Table, partitioned: bool) {
    let spec = TableSpec {
        partition_columns: if partitioned {
            vec!["region".into()]
        } else {
            vec![]
        },
        ..Default::default()
    };
    let (protocol, metadata) = Table::create_actions(&schema(), &spec).unwrap();
    let mut c = Commit::new("CREATE TABLE", None);
    c.actions.push(Action::Protocol(protocol));
    c.actions.push(Action::Metadata(metadata));
    assert_eq!(table.commit(c).await.unwrap().version, 0);
}

async fn append(table: &Table, ids: &[i64], region: &str) -> i64 {
    let snapshot = table.snapshot().await.unwrap();
    let adds = table
        .write_files(&snapshot, &[batch(ids, region)])
        .await
        .unwrap();
    let mut c = Commit::new("WRITE", Some(snapshot.version)).parameter("mode", "Append");
    c.actions.extend(adds.into_iter().map(Action::Add));
    table.commit(c).await.unwrap().version
}

async fn ids(table: &Table, version: Option<i64>) -> Vec<i64> {
    let snapshot = match version {
        Some(v) => table.snapshot_at(v).await.unwrap(),
        None => table.snapshot().await.unwrap(),
    };
    let mut out: Vec<i64> = table
        .read(&snapshot, None)
        .await
        .unwrap()
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect();
    out.sort();
    out
}

fn new_table() -> (Rc<MemoryStore>, Table) {
    let store = Rc::new(MemoryStore::new());
    (store.clone(), Table::new(store, "tables/t"))
}

#[tokio::test(flavor = "current_thread")]
async fn appends_time_travel_and_partition_folders() {
    let (store, table) = new_table();
    create(&table, true).await;
    append(&table, &[1, 2], "eu").await;
    append(&table, &[3], "us west").await;
    assert_eq!(ids(&table, None).await, vec![1, 2, 3]);
    assert_eq!(ids(&table, Some(1)).await, vec![1, 2]);
    assert_eq!(ids(&table, Some(0)).await, Vec::<i64>::new());
    let files = store.list("tables/t/region=").await.unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    let snapshot = table.snapshot().await.unwrap();
    let add = snapshot
        .files
        .values()
        .find(|a| a.path.contains("us"))
        .unwrap();
    assert!(
        add.path.starts_with("region=us%20west/"),
        "log path is encoded: {}",
        add.path
    );
    let stats: serde_json::Value = serde_json::from_str(add.stats.as_deref().unwrap()).unwrap();
    assert_eq!(stats["numRecords"], 1);
    assert_eq!(stats["minValues"]["id"], 3);
    let err = table.snapshot_at(7).await.unwrap_err();
    assert!(
        matches!(
            err,
            DeltaError::VersionNotFound {
                requested: 7,
                latest: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn checkpoints_every_ten_commits_and_reads_from_them() {
    let (store, table) = new_table();
    create(&table, false).await;
    for i in 1..=11 {
        append(&table, &[i], "eu").await;
    }
    let listing = list_log(store.as_ref(), "tables/t").await.unwrap();
    assert_eq!(listing.checkpoints, vec![10]);
    assert!(
        store
            .get("tables/t/_delta_log/_last_checkpoint")
            .await
            .is_ok()
    );
    let actions = read_checkpoint(store.as_ref(), "tables/t", 10)
        .await
        .unwrap();
    assert_eq!(
        actions
            .iter()
            .filter(|a| matches!(a, Action::Add(_)))
            .count(),
        10
    );
    // Without the commits before it, the checkpoint alone rebuilds the table.
    for v in 0..10 {
        store.delete(&commit_path("tables/t", v)).await.unwrap();
    }
    assert_eq!(ids(&table, None).await, (1..=11).collect::<Vec<_>>());
    assert_eq!(ids(&table, Some(10)).await, (1..=10).collect::<Vec<_>>());
    let err = table.snapshot_at(3).await.unwrap_err();
    assert!(
        matches!(err, DeltaError::VersionNotFound { earliest: 10, .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_writer_gets_each_files_rows_as_they_read_back() {
    let (_, table) = new_table();
    create(&table, true).await;
    let snapshot = table.snapshot().await.unwrap();
    let rows = [batch(&[1, 2], "eu"), batch(&[3], "us"), batch(&[4], "eu")];
    let written = table.write_files_with_rows(&snapshot, &rows).await.unwrap();
    assert_eq!(written.len(), 2);
    for file in written {
        let read = table.read_file(&snapshot, &file.add).await.unwrap();
        let schema = read.batches().next().unwrap().schema();
        assert_eq!(
            arrow::compute::concat_batches(&schema, file.rows.batches()).unwrap(),
            arrow::compute::concat_batches(&schema, read.batches()).unwrap(),
            "{}",
            file.add.path
        );
        assert_eq!(
            file.rows.metadata.num_row_groups(),
            read.metadata.num_row_groups()
        );
        assert_eq!(file.rows.row_groups.len(), read.row_groups.len());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_writer_holding_its_snapshot_checkpoints_without_reading_the_log() {
    let store = Rc::new(FaultyStore::new(MemoryStore::new()));
    let table = Table::new(store.clone(), "tables/t");
    create(&table, false).await;
    for i in 1..=9 {
        append(&table, &[i], "eu").await;
    }
    let base = table.snapshot().await.unwrap();
    let adds = table
        .write_files(&base, &[batch(&[10], "eu")])
        .await
        .unwrap();
    let mut c = Commit::new("WRITE", Some(base.version));
    c.actions.extend(adds.into_iter().map(Action::Add));
    let before = store.calls();
    let outcome = table.commit_over(&base, c).await.unwrap();
    assert_eq!(outcome.version, 10);
    assert_eq!(outcome.checkpoint_error, None);
    // The commit, the checkpoint and `_last_checkpoint`: no list, no get.
    assert_eq!(store.calls() - before, 3);
    // The checkpoint holds what the log says.
    for v in 0..10 {
        store.delete(&commit_path("tables/t", v)).await.unwrap();
    }
    assert_eq!(ids(&table, None).await, (1..=10).collect::<Vec<_>>());
    let from_checkpoint = table.snapshot().await.unwrap();
    assert_eq!(
        from_checkpoint.files.keys().collect::<Vec<_>>(),
        base.advanced(10, &outcome.actions, table.root())
            .unwrap()
            .files
            .keys()
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_missing_or_corrupt_commit_is_a_clear_error() {
    let (store, table) = new_table();
    create(&table, false).await;
    append(&table, &[1], "eu").await;
    append(&table, &[2], "eu").await;
    store
        .put(&commit_path("tables/t", 2), "{\"add\": {".into())
        .await
        .unwrap();
    let err = table.snapshot().await.unwrap_err();
    assert!(
        err.to_string().contains("00000000000000000002.json"),
        "{err}"
    );
    assert_eq!(
        ids(&table, Some(1)).await,
        vec![1],
        "earlier versions still read"
    );
    store.delete(&commit_path("tables/t", 1)).await.unwrap();
    let err = table.snapshot().await.unwrap_err();
    assert!(
        matches!(err, DeltaError::MissingCommit { missing: 1, .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_writers_follow_deltas_conflict_rules() {
    let (_, table) = new_table();
    create(&table, false).await;
    append(&table, &[1], "eu").await;
    let base = table.snapshot().await.unwrap();

    // Two blind appends from the same base both commit.
    let adds = table
        .write_files(&base, &[batch(&[2], "eu")])
        .await
        .unwrap();
    append(&table, &[3], "eu").await;
    let mut late = Commit::new("WRITE", Some(base.version));
    late.actions.extend(adds.into_iter().map(Action::Add));
    assert_eq!(table.commit(late).await.unwrap().version, 3);

    // A delete that read the whole table loses to a concurrent append.
    let file = base.files.values().next().unwrap().clone();
    let delete = |read_version| {
        let mut c = Commit::new("DELETE", Some(read_version));
        c.read.whole_table = true;
        c.actions.push(Action::Remove(Remove::of(&file, 0, true)));
        c
    };
    let err = table.commit(delete(base.version)).await.unwrap_err();
    assert!(
        matches!(
            err,
            DeltaError::Conflict {
                kind: ConflictKind::ConcurrentAppend,
                ..
            }
        ),
        "{err}"
    );
    // Two deletes of the same file: the second is ConcurrentDeleteDelete.
    let now = table.snapshot().await.unwrap().version;
    table.commit(delete(now)).await.unwrap();
    let mut second = delete(now);
    second.read.whole_table = false;
    let err = table.commit(second).await.unwrap_err();
    assert!(
        matches!(
            err,
            DeltaError::Conflict {
                kind: ConflictKind::ConcurrentDeleteDelete,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(ids(&table, None).await, vec![2, 3]);
}

#[tokio::test(flavor = "current_thread")]
async fn txn_records_the_last_version_of_each_writer() {
    let (_, table) = new_table();
    create(&table, false).await;
    let mut c = Commit::new("STREAMING UPDATE", Some(0));
    c.actions.push(Action::Txn(Txn {
        app_id: "stream-1".into(),
        version: 7,
        last_updated: None,
    }));
    table.commit(c).await.unwrap();
    assert_eq!(
        table.snapshot().await.unwrap().txn_version("stream-1"),
        Some(7)
    );
    assert_eq!(table.snapshot().await.unwrap().txn_version("other"), None);
}

#[tokio::test(flavor = "current_thread")]
async fn restore_brings_back_an_old_version_in_one_commit() {
    let (_, table) = new_table();
    create(&table, false).await;
    append(&table, &[1, 2], "eu").await;
    append(&table, &[3], "eu").await;
    let current = table.snapshot().await.unwrap();
    let target = table.snapshot_at(1).await.unwrap();
    let restore = table.restore_commit(&current, &target).await.unwrap();
    let outcome = table.commit(restore).await.unwrap();
    assert_eq!(outcome.version, 3);
    assert_eq!(ids(&table, None).await, vec![1, 2]);
    let history = table.history(Some(1)).await.unwrap();
    let info = &history[0].1;
    assert_eq!(info.operation(), Some("RESTORE"));
    assert_eq!(info.0["operationMetrics"]["numRemovedFiles"], 1);
    assert_eq!(info.0["operationMetrics"]["numRestoredFiles"], 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_data_file_with_another_schema_is_a_clear_error() {
    let (store, table) = new_table();
    create(&table, false).await;
    append(&table, &[1, 2], "eu").await;
    let snapshot = table.snapshot().await.unwrap();
    let add = snapshot.files.values().next().unwrap().clone();
    // Replace the file behind the log's back with one whose `id` is text.
    let wrong = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(
        wrong.clone(),
        vec![Arc::new(StringArray::from(vec!["one"]))],
    )
    .unwrap();
    let mut buffer = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut buffer, wrong, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    store
        .put(&format!("tables/t/{}", add.path), buffer.into())
        .await
        .unwrap();
    let err = table.read(&snapshot, None).await.unwrap_err();
    assert!(
        matches!(&err, DeltaError::SchemaMismatch(m) if m.contains("stores column 'id'")),
        "{err}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_writer_advances_its_snapshot_to_what_the_log_reads() {
    let (_, table) = new_table();
    create(&table, true).await;
    append(&table, &[1, 2], "eu").await;
    let before = table.snapshot().await.unwrap();
    let adds = table
        .write_files(&before, &[batch(&[3], "us")])
        .await
        .unwrap();
    let mut c = Commit::new("MERGE", Some(before.version));
    let replaced = before.files.values().next().unwrap().clone();
    c.actions.push(Action::Remove(Remove::of(
        &replaced,
        1_700_000_000_000,
        true,
    )));
    c.actions.extend(adds.into_iter().map(Action::Add));
    c.actions.push(Action::Txn(Txn {
        app_id: "query".into(),
        version: 7,
        last_updated: None,
    }));
    let outcome = table.commit(c).await.unwrap();

    let advanced = before
        .advanced(outcome.version, &outcome.actions, table.root())
        .unwrap();
    let read = table.snapshot().await.unwrap();
    assert_eq!(advanced.version, read.version);
    assert_eq!(
        advanced.files.keys().collect::<Vec<_>>(),
        read.files.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        advanced.tombstones.keys().collect::<Vec<_>>(),
        read.tombstones.keys().collect::<Vec<_>>()
    );
    assert_eq!(advanced.txn_version("query"), Some(7));
    assert_eq!(advanced.timestamp, read.timestamp);
    assert_eq!(advanced.schema, read.schema);
    // Only the next version can be reached this way.
    assert!(
        before
            .advanced(outcome.version + 1, &[], table.root())
            .is_err()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_clustered_tables_domain_and_providers_survive_a_checkpoint() {
    use lakelab_delta::clustering;
    let (store, table) = new_table();
    let (protocol, metadata) = Table::create_actions(&schema(), &TableSpec::default()).unwrap();
    let mut c = Commit::new("CREATE TABLE", None);
    c.actions.push(Action::Protocol(
        clustering::protocol_with_clustering(&protocol).unwrap(),
    ));
    c.actions.push(Action::Metadata(metadata));
    c.actions
        .push(clustering::domain_action(&["id".to_owned()]).unwrap());
    table.commit(c).await.unwrap();
    // A clustered file, then appends up to the checkpoint at version 10.
    let snapshot = table.snapshot().await.unwrap();
    let mut adds = table
        .write_files(&snapshot, &[batch(&[1, 2], "eu")])
        .await
        .unwrap();
    adds[0].clustering_provider = Some(clustering::PROVIDER.to_owned());
    let mut c = Commit::new("OPTIMIZE", Some(snapshot.version));
    c.actions.extend(adds.into_iter().map(Action::Add));
    table.commit(c).await.unwrap();
    for i in 3..=11 {
        append(&table, &[i], "eu").await;
    }
    for v in 0..10 {
        store.delete(&commit_path("tables/t", v)).await.unwrap();
    }
    let from_checkpoint = table.snapshot().await.unwrap();
    assert_eq!(
        clustering::columns(&from_checkpoint).unwrap(),
        Some(vec!["id".to_owned()])
    );
    let providers: Vec<Option<&str>> = from_checkpoint
        .files
        .values()
        .map(|a| a.clustering_provider.as_deref())
        .collect();
    assert_eq!(
        providers
            .iter()
            .filter(|p| **p == Some(clustering::PROVIDER))
            .count(),
        1,
        "{providers:?}"
    );
    assert_eq!(ids(&table, None).await, (1..=11).collect::<Vec<_>>());
    // Setting the domain again replaces it; removing it unclusters.
    let mut c = Commit::new("CLUSTER BY", Some(from_checkpoint.version));
    c.actions
        .push(Action::DomainMetadata(lakelab_delta::DomainMetadata {
            domain: clustering::DOMAIN.to_owned(),
            configuration: String::new(),
            removed: true,
        }));
    table.commit(c).await.unwrap();
    assert_eq!(
        clustering::columns(&table.snapshot().await.unwrap()).unwrap(),
        None
    );
}
