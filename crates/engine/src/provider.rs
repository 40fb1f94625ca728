//! A Delta snapshot as a DataFusion table: the files' rows are held in
//! memory (read once per file, which never changes), and a scan keeps only
//! the files its filters can match, by partition values and min/max stats,
//! and within them the row groups and pages their footers say may match.
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
use lakelab_delta::{Add, FileRows};

use crate::in_file_pruning::{InFilePruning, scan_file};
use crate::pruning::FileStats;

/// One data file and its rows.
#[derive(Debug, Clone)]
pub(crate) struct LoadedFile {
    pub add: Add,
    pub rows: Arc<FileRows>,
}

/// What a scan read and skipped: shown by EXPLAIN and the UI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    pub table: String,
    pub version: i64,
    pub files_total: usize,
    pub files_read: usize,
    /// Parquet row groups of all files and of those read.
    pub row_groups_total: usize,
    pub row_groups_read: usize,
    /// Rows of all files and rows scanned (after pages were skipped too).
    pub rows_total: usize,
    pub rows_read: usize,
    /// Stored (Parquet) bytes of all files, and of the files read less
    /// their row groups skipped: what a reader on storage would fetch.
    pub bytes_total: i64,
    pub bytes_read: i64,
}

impl fmt::Display for ScanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} v{}: read {} of {} files, {} of {} row groups, {} of {} rows, {} of {} bytes \
             (files skipped by partition values and min/max stats, row groups by their \
             footer's min/max, pages by the page index)",
            self.table,
            self.version,
            self.files_read,
            self.files_total,
            self.row_groups_read,
            self.row_groups_total,
            self.rows_read,
            self.rows_total,
            self.bytes_read,
            self.bytes_total,
        )
    }
}

/// The report as the UI and the CLI show it (summed there with `ScanInfo::plus`).
impl From<&ScanReport> for lakelab_protocol::ScanInfo {
    fn from(s: &ScanReport) -> Self {
        lakelab_protocol::ScanInfo {
            table: s.table.clone(),
            files_total: s.files_total as u64,
            files_read: s.files_read as u64,
            row_groups_total: s.row_groups_total as u64,
            row_groups_read: s.row_groups_read as u64,
            rows_total: s.rows_total as u64,
            rows_read: s.rows_read as u64,
            bytes_total: s.bytes_total,
            bytes_read: s.bytes_read,
            text: s.to_string(),
        }
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
        let mut in_file = InFilePruning::new(state, filters);
        let mut report = ScanReport {
            table: self.name.clone(),
            version: self.version,
            files_total: self.files.len(),
            row_groups_total: self.files.iter().map(|f| f.rows.row_groups.len()).sum(),
            rows_total: self.files.iter().map(|f| f.rows.num_rows()).sum(),
            bytes_total: self.files.iter().map(|f| f.add.size).sum(),
            ..ScanReport::default()
        };
        let mut batches: Vec<RecordBatch> = Vec::new();
        for file in self
            .files
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(f, _)| f)
        {
            let plan = in_file.plan(&file.rows, &file.add.path);
            let scan = scan_file(&file.rows, plan.as_ref());
            report.files_read += 1;
            report.row_groups_read += scan.row_groups_read;
            report.rows_read += scan.rows_read;
            report.bytes_read += file.add.size - scan.bytes_skipped;
            batches.extend(scan.batches);
        }
        if let Ok(mut reports) = self.reports.lock() {
            reports.push(report);
        }
        let exec =
            MemorySourceConfig::try_new_exec(&[batches], self.schema.clone(), projection.cloned())?;
        Ok(exec)
    }
}
