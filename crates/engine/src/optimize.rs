//! `OPTIMIZE t [WHERE …] [ZORDER BY (cols)]`: Delta's file compaction.
//!
//! Without ZORDER, small files of each partition are bin-packed into files
//! of up to `spark.databricks.delta.optimize.maxFileSize` bytes. With ZORDER,
//! every file of each selected partition is rewritten in Z-order over the
//! columns, cut into files of about that size, so each file covers a small
//! box of the columns' values and its min/max stats let scans skip it.
//! The rows do not change: removes and adds carry `dataChange = false`.
//!
//! On a clustered table (`CLUSTER BY`), OPTIMIZE orders by the clustering
//! columns along the same curve, but only the files no clustering wrote
//! yet, and marks what it writes with its `clusteringProvider`: the
//! incremental work of liquid clustering. `OPTIMIZE t FULL` reclusters
//! every file this implementation (or nobody) clustered.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, RecordBatch, StringArray, UInt32Array, UInt64Array, make_comparator,
};
use datafusion::arrow::compute::{
    SortOptions, cast, concat_batches, sort_to_indices, take_record_batch,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::sql::sqlparser::ast::{Expr, Ident};
use lakelab_delta::clustering;
use lakelab_delta::stats::has_min_max;
use lakelab_delta::{Action, Add, Commit, Remove, Snapshot, now_ms};
use serde_json::json;

use crate::clustering::INDEXED_COLUMNS;
use crate::provider::LoadedFile;
use crate::temporary::TemporaryTables;
use crate::write::counts;
use crate::{Engine, EngineError, Output, Result};

const FILES_TABLE: &str = "__lakelab_optimize_files";
const FILE_INDEX: &str = "__lakelab_file";

/// The files OPTIMIZE rewrites together into new files.
struct Bin<'a> {
    files: Vec<&'a LoadedFile>,
}

impl Bin<'_> {
    fn bytes(&self) -> i64 {
        self.files.iter().map(|f| f.add.size).sum()
    }
}

impl Engine {
    pub(crate) async fn optimize(
        &self,
        name: &str,
        predicate: Option<&Expr>,
        zorder_by: &[Ident],
        full: bool,
    ) -> Result<Output> {
        let (table, snapshot) = self.catalog.get(name)?;
        let zorder: Vec<String> = zorder_by.iter().map(|c| c.value.to_lowercase()).collect();
        let cluster_by = clustering::columns(&snapshot)?.filter(|c| !c.is_empty());
        match &cluster_by {
            Some(columns) if !zorder.is_empty() => {
                return Err(EngineError::Invalid(format!(
                    "DELTA_CLUSTERING_WITH_ZORDER_BY: {name} is clustered by ({}); OPTIMIZE \
                     {name} clusters it, ZORDER BY does not apply",
                    columns.join(", ")
                )));
            }
            Some(_) => {}
            None if full => {
                return Err(EngineError::Invalid(format!(
                    "OPTIMIZE … FULL reclusters a clustered table, and {name} is not clustered \
                     (ALTER TABLE {name} CLUSTER BY (…) first)"
                )));
            }
            None => {}
        }
        // The curve's columns: the clustering columns, or ZORDER BY's.
        let curve = cluster_by.as_deref().unwrap_or(&zorder);
        let zorder_columns = zorder_columns(name, &snapshot, curve)?;
        let provider = self.catalog.provider(&table, &snapshot, name).await?;
        let mut selected = match predicate {
            Some(p) => self.files_matching(&snapshot, &provider.files, p).await?,
            None => vec![true; provider.files.len()],
        };
        if cluster_by.is_some() {
            // Files nobody clustered; with FULL, also the ones we did
            // (another implementation's clustering is its own to redo).
            for (file, chosen) in provider.files.iter().zip(&mut selected) {
                *chosen &= match file.add.clustering_provider.as_deref() {
                    None => true,
                    Some(p) => full && p == clustering::PROVIDER,
                };
            }
        }
        let target = self.settings.borrow().optimize_file_size;
        let mut partitions: BTreeMap<Vec<(String, Option<String>)>, Vec<&LoadedFile>> =
            BTreeMap::new();
        for (file, _) in provider.files.iter().zip(&selected).filter(|(_, s)| **s) {
            let key = file.add.partition_values.clone().into_iter().collect();
            partitions.entry(key).or_default().push(file);
        }
        let bins: Vec<Bin> = partitions
            .into_values()
            .flat_map(|files| {
                if curve.is_empty() {
                    bin_pack(files, target)
                } else {
                    vec![Bin { files }]
                }
            })
            .collect();

        let mut adds: Vec<Add> = Vec::new();
        for bin in &bins {
            let batches: Vec<RecordBatch> = bin
                .files
                .iter()
                .flat_map(|f| f.rows.batches().cloned())
                .collect();
            let rows = concat_batches(&snapshot.schema, batches.iter())?;
            if zorder_columns.is_empty() {
                adds.extend(table.write_files(&snapshot, &[rows]).await?);
                continue;
            }
            let sorted = take_record_batch(&rows, &zorder_indices(&rows, &zorder_columns)?)?;
            let files = usize::try_from(((bin.bytes() + target - 1) / target).max(1)).unwrap_or(1);
            let per_file = sorted.num_rows().div_ceil(files).max(1);
            let mut start = 0;
            while start < sorted.num_rows() {
                let len = per_file.min(sorted.num_rows() - start);
                adds.extend(
                    table
                        .write_files(&snapshot, &[sorted.slice(start, len)])
                        .await?,
                );
                start += len;
            }
        }
        for add in &mut adds {
            add.data_change = false;
            if cluster_by.is_some() {
                add.clustering_provider = Some(clustering::PROVIDER.to_owned());
            }
        }
        let removed: Vec<&Add> = bins
            .iter()
            .flat_map(|b| b.files.iter().map(|f| &f.add))
            .collect();
        let added_bytes: i64 = adds.iter().map(|a| a.size).sum();
        let removed_bytes: i64 = removed.iter().map(|a| a.size).sum();
        let (added_files, removed_files) = (adds.len(), removed.len());
        let result = counts(&[
            ("numFilesAdded", added_files as i64),
            ("numFilesRemoved", removed_files as i64),
            ("filesAddedBytes", added_bytes),
            ("filesRemovedBytes", removed_bytes),
            ("binsRewritten", bins.len() as i64),
        ])?;
        if removed.is_empty() {
            let already = if cluster_by.is_some() {
                "clustered"
            } else {
                "compacted"
            };
            return Ok(Output::rows(
                result,
                format!("{name} is already {already}: no files to rewrite"),
            ));
        }
        let now = now_ms();
        let predicates: Vec<String> = predicate.iter().map(|p| p.to_string()).collect();
        let mut commit = Commit::new("OPTIMIZE", Some(snapshot.version))
            .parameter("predicate", json!(predicates).to_string())
            .parameter("zOrderBy", json!(zorder).to_string())
            .parameter("clusterBy", json!(cluster_by).to_string())
            .parameter("isFull", full.to_string())
            .parameter("auto", "false")
            .metric("numAddedFiles", added_files)
            .metric("numRemovedFiles", removed_files)
            .metric("numAddedBytes", added_bytes)
            .metric("numRemovedBytes", removed_bytes);
        if let (Some(min), Some(max)) = (
            adds.iter().map(|a| a.size).min(),
            adds.iter().map(|a| a.size).max(),
        ) {
            commit = commit.metric("minFileSize", min).metric("maxFileSize", max);
        }
        commit.actions.extend(
            removed
                .iter()
                .map(|a| Action::Remove(Remove::of(a, now, false))),
        );
        commit.actions.extend(adds.into_iter().map(Action::Add));
        let outcome = self.commit(name, &table, commit).await?;
        let how = match (&cluster_by, zorder.is_empty()) {
            (Some(columns), _) => format!("clustered by ({})", columns.join(", ")),
            (None, true) => "compacted".to_owned(),
            (None, false) => format!("Z-ordered by ({})", zorder.join(", ")),
        };
        Ok(Output::rows(
            result,
            format!(
                "{name} {how}: {removed_files} files ({removed_bytes} bytes) rewritten as \
                 {added_files} ({added_bytes} bytes), version {}",
                outcome.version
            ),
        ))
    }

    /// Which files `predicate` selects: it may name partition columns only
    /// (as in Delta), and is evaluated on each file's partition values.
    async fn files_matching(
        &self,
        snapshot: &Snapshot,
        files: &[LoadedFile],
        predicate: &Expr,
    ) -> Result<Vec<bool>> {
        let partition_columns = snapshot.partition_columns();
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for column in partition_columns {
            let field = snapshot.schema.field_with_name(column)?;
            let text: StringArray = files
                .iter()
                .map(|f| f.add.partition_values.get(column).cloned().flatten())
                .collect();
            columns.push(cast(&text, field.data_type())?);
            fields.push(Field::new(column, field.data_type().clone(), true));
        }
        fields.push(Field::new(FILE_INDEX, DataType::UInt64, false));
        columns.push(Arc::new(UInt64Array::from_iter_values(
            0..files.len() as u64,
        )));
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
        let mut temporary = TemporaryTables::new(&self.ctx);
        temporary.register(
            FILES_TABLE,
            Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?),
        )?;
        let sql = format!("SELECT {FILE_INDEX} FROM {FILES_TABLE} WHERE {predicate}");
        let (_, found) = self.query(&sql).await.map_err(|e| {
            EngineError::Invalid(format!(
                "OPTIMIZE … WHERE may only use partition columns ({}): {e}",
                partition_columns.join(", ")
            ))
        })?;
        let mut selected = vec![false; files.len()];
        for batch in &found {
            let Some(indices) = batch.column(0).as_any().downcast_ref::<UInt64Array>() else {
                continue;
            };
            for i in indices.values() {
                selected[*i as usize] = true;
            }
        }
        Ok(selected)
    }
}

/// The table-schema positions of the Z-order columns, refusing what Delta
/// refuses: unknown columns, partition columns, columns without stats.
fn zorder_columns(name: &str, snapshot: &Snapshot, zorder: &[String]) -> Result<Vec<usize>> {
    let partitions = snapshot.partition_columns();
    let data_columns: Vec<&str> = snapshot
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .filter(|c| !partitions.iter().any(|p| p == c))
        .collect();
    zorder
        .iter()
        .map(|column| {
            if partitions.contains(column) {
                return Err(EngineError::Invalid(format!(
                    "DELTA_ZORDERING_ON_PARTITION_COLUMN: {column} is a partition column of \
                     {name}. Z-Ordering can only be performed on data columns"
                )));
            }
            let index = snapshot.schema.index_of(column).map_err(|_| {
                EngineError::Invalid(format!(
                    "ZORDER BY {column}: {name} has no such column (it has {})",
                    data_columns.join(", ")
                ))
            })?;
            let field = snapshot.schema.field(index);
            let position = data_columns.iter().position(|c| c == column).unwrap_or(0);
            if !has_min_max(field.data_type()) || position >= INDEXED_COLUMNS {
                return Err(EngineError::Invalid(format!(
                    "DELTA_ZORDERING_ON_COLUMN_WITHOUT_STATS: Z-Ordering on [{column}] would be \
                     ineffective: files record no min/max statistics for it ({})",
                    field.data_type()
                )));
            }
            Ok(index)
        })
        .collect()
}

/// Groups a partition's small files (under `target` bytes) into bins of at
/// most `target` bytes, in order; a bin of one file needs no rewrite.
fn bin_pack(files: Vec<&LoadedFile>, target: i64) -> Vec<Bin<'_>> {
    let mut bins: Vec<Bin> = Vec::new();
    let mut current = Bin { files: Vec::new() };
    for file in files.into_iter().filter(|f| f.add.size < target) {
        if !current.files.is_empty() && current.bytes() + file.add.size > target {
            bins.push(std::mem::replace(&mut current, Bin { files: Vec::new() }));
        }
        current.files.push(file);
    }
    bins.push(current);
    bins.retain(|b| b.files.len() > 1);
    bins
}

/// The rows' order along a Z-order (Morton) curve over `columns`.
///
/// Each column's values become their rank (equal values share one) scaled
/// to `64 / columns` bits, and the ranks' bits are interleaved, most
/// significant first. Ranks are exact quantiles, so skewed columns spread
/// evenly; Delta gets the same from range-partition ids of a sample.
/// Written by hand: no crate Z-orders Arrow arrays.
fn zorder_indices(batch: &RecordBatch, columns: &[usize]) -> Result<UInt32Array> {
    let rows = batch.num_rows();
    let bits = (64 / columns.len().max(1)).min(32) as u32;
    let mut ranks: Vec<Vec<u64>> = Vec::with_capacity(columns.len());
    for &c in columns {
        let values = batch.column(c);
        let options = SortOptions {
            descending: false,
            nulls_first: true,
        };
        let order = sort_to_indices(values, Some(options), None)?;
        let compare = make_comparator(values.as_ref(), values.as_ref(), options)?;
        let mut rank = vec![0u64; rows];
        let mut current = 0u64;
        let order = order.values();
        for (position, &row) in order.iter().enumerate() {
            if position > 0
                && compare(order[position - 1] as usize, row as usize) != Ordering::Equal
            {
                current = ((position as u128) << bits).div_euclid(rows as u128) as u64;
            }
            rank[row as usize] = current;
        }
        ranks.push(rank);
    }
    let keys: Vec<u64> = (0..rows)
        .map(|row| {
            let mut key = 0u64;
            for bit in (0..bits).rev() {
                for rank in &ranks {
                    key = (key << 1) | ((rank[row] >> bit) & 1);
                }
            }
            key
        })
        .collect();
    let mut order: Vec<u32> = (0..rows as u32).collect();
    order.sort_by_key(|&row| keys[row as usize]);
    Ok(UInt32Array::from(order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;

    #[test]
    fn z_order_interleaves_the_columns_ranks() {
        // A 4×4 grid: Morton order visits the 2×2 quadrants one after another.
        let x: Vec<i64> = (0..16).map(|i| i % 4).collect();
        let y: Vec<i64> = (0..16).map(|i| i / 4).collect();
        let batch = RecordBatch::try_from_iter(vec![
            ("x", Arc::new(Int64Array::from(x.clone())) as ArrayRef),
            ("y", Arc::new(Int64Array::from(y.clone())) as ArrayRef),
        ])
        .unwrap();
        let order = zorder_indices(&batch, &[0, 1]).unwrap();
        let quadrant = |row: u32| (x[row as usize] / 2, y[row as usize] / 2);
        let visited: Vec<(i64, i64)> = order.values().iter().map(|&r| quadrant(r)).collect();
        for q in visited.chunks(4) {
            assert!(q.iter().all(|c| *c == q[0]), "{visited:?}");
        }
        // Equal values share a rank: one column of ties keeps the input order.
        let ties = RecordBatch::try_from_iter(vec![(
            "t",
            Arc::new(Int64Array::from(vec![5; 6])) as ArrayRef,
        )])
        .unwrap();
        let order = zorder_indices(&ties, &[0]).unwrap();
        assert_eq!(order.values().to_vec(), vec![0, 1, 2, 3, 4, 5]);
    }
}
