//! A query's rows written as data files while they stream, a chunk of at
//! most `spark.sql.files.maxRecordsPerFile` rows at a time: a large
//! `CREATE TABLE … AS SELECT` holds one chunk in memory, not the whole table.

use datafusion::arrow::array::RecordBatch;
use datafusion::logical_expr::LogicalPlan;
use futures::StreamExt;
use lakelab_delta::{Add, Snapshot, Table};

use crate::sequential::in_turn;
use crate::{Engine, Progress, Result};

/// Rows not yet written.
#[derive(Default)]
struct Chunk {
    batches: Vec<RecordBatch>,
    rows: usize,
}

impl Engine {
    /// Runs `plan` and writes its rows as files of `snapshot`'s table,
    /// checked against its constraints; returns the files and the row count.
    /// Nothing is committed: on failure the files are unreferenced garbage.
    pub(crate) async fn write_streamed(
        &self,
        table: &Table,
        snapshot: &Snapshot,
        plan: LogicalPlan,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(Vec<Add>, i64)> {
        let limit = self.settings.borrow().records_per_file;
        let mut batches = in_turn(self.partitions(plan).await?, progress);
        let mut adds = Vec::new();
        let mut written = 0i64;
        let mut chunk = Chunk::default();
        while let Some(batch) = batches.next().await {
            let mut batch = batch?;
            while batch.num_rows() > 0 {
                let take = (limit - chunk.rows).min(batch.num_rows());
                chunk.batches.push(batch.slice(0, take));
                chunk.rows += take;
                batch = batch.slice(take, batch.num_rows() - take);
                if chunk.rows == limit {
                    let full = std::mem::take(&mut chunk);
                    written += self.write_chunk(table, snapshot, full, &mut adds).await?;
                }
            }
        }
        if chunk.rows > 0 {
            written += self.write_chunk(table, snapshot, chunk, &mut adds).await?;
        }
        Ok((adds, written))
    }

    async fn write_chunk(
        &self,
        table: &Table,
        snapshot: &Snapshot,
        chunk: Chunk,
        adds: &mut Vec<Add>,
    ) -> Result<i64> {
        let rows = self.checked_rows(snapshot, chunk.batches).await?;
        adds.extend(table.write_files(snapshot, &rows).await?);
        Ok(chunk.rows as i64)
    }
}
