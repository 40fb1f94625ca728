//! A Delta snapshot as a DataFusion table: the files' rows are held in
//! memory (read once per file, which never changes), and a scan keeps only
//! the files its filters can match, by partition values and min/max stats.
//!
//! DataFusion's table providers must be `Send + Sync`; the browser's
//! storage handles are not, so files are read before planning (see
//! `catalog.rs`) rather than inside `scan`.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, Result as DfResult};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_optimizer::pruning::PruningPredicateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use lakelab_delta::Add;

use crate::pruning::FileStats;

/// One data file and its rows.
#[derive(Debug, Clone)]
pub(crate) struct LoadedFile {
    pub add: Add,
    pub batches: Arc<Vec<RecordBatch>>,
}

/// What a scan read and skipped: shown by EXPLAIN and the UI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    pub table: String,
    pub version: i64,
    pub files_total: usize,
    pub files_read: usize,
    /// Stored (Parquet) bytes of all files and of the files read.
    pub bytes_total: i64,
    pub bytes_read: i64,
}

impl fmt::Display for ScanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} v{}: read {} of {} files, {} of {} bytes ({} files skipped by partition values and min/max stats)",
            self.table,
            self.version,
            self.files_read,
            self.files_total,
            self.bytes_read,
            self.bytes_total,
            self.files_total - self.files_read
        )
    }
}

/// Scan reports of the statement being run.
pub(crate) type Reports = Arc<Mutex<Vec<ScanReport>>>;

#[derive(Debug)]
pub(crate) struct DeltaProvider {
    pub name: String,
    pub version: i64,
    pub schema: SchemaRef,
    pub partition_columns: Vec<String>,
    pub files: Vec<LoadedFile>,
    pub reports: Reports,
    /// The files' statistics, decoded from their JSON on the first filtered scan.
    pub stats: OnceLock<FileStats>,
}

impl DeltaProvider {
    /// Which files may hold rows matching `filters` (all, if unknown).
    fn keep(&self, state: &dyn Session, filters: &[Expr]) -> Vec<bool> {
        let all = vec![true; self.files.len()];
        let Some(predicate) = conjunction(filters.iter().cloned()) else {
            return all;
        };
        let Ok(df_schema) = DFSchema::try_from(self.schema.as_ref().clone()) else {
            return all;
        };
        let Ok(physical) = state.create_physical_expr(predicate, &df_schema) else {
            return all;
        };
        let Some(pruning) = PruningPredicateBuilder::new()
            .with_file_schema(self.schema.clone())
            .build(physical)
        else {
            return all;
        };
        let stats = self.stats.get_or_init(|| {
            let adds: Vec<&Add> = self.files.iter().map(|f| &f.add).collect();
            FileStats::new(&self.schema, &self.partition_columns, &adds)
        });
        pruning.prune(stats).unwrap_or(all)
    }
}

#[async_trait]
impl TableProvider for DeltaProvider {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Files are skipped, rows are not: DataFusion still applies every filter.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let keep = self.keep(state, filters);
        let batches: Vec<RecordBatch> = self
            .files
            .iter()
            .zip(&keep)
            .filter(|(_, keep)| **keep)
            .flat_map(|(f, _)| f.batches.iter().cloned())
            .collect();
        if let Ok(mut reports) = self.reports.lock() {
            reports.push(ScanReport {
                table: self.name.clone(),
                version: self.version,
                files_total: self.files.len(),
                files_read: keep.iter().filter(|k| **k).count(),
                bytes_total: self.files.iter().map(|f| f.add.size).sum(),
                bytes_read: self
                    .files
                    .iter()
                    .zip(&keep)
                    .filter(|(_, keep)| **keep)
                    .map(|(f, _)| f.add.size)
                    .sum(),
            });
        }
        let exec =
            MemorySourceConfig::try_new_exec(&[batches], self.schema.clone(), projection.cloned())?;
        Ok(exec)
    }
}
