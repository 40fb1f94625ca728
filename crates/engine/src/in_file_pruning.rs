//! Skipping inside a file: DataFusion's own Parquet row-group pruning (by
//! the footer's min/max/null counts) and page pruning (by the page index),
//! run over the footer kept with each file's rows in memory. The rows are
//! already decoded, so what is skipped is the work on them; the bytes a
//! reader on storage would not fetch are counted from the footer.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::DFSchema;
use datafusion::datasource::physical_plan::ParquetFileMetrics;
use datafusion::datasource::physical_plan::parquet::{
    PagePruningAccessPlanFilter, ParquetAccessPlan, RowGroupAccess, RowGroupAccessPlanFilter,
};
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_optimizer::pruning::{PruningPredicate, PruningPredicateBuilder};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use lakelab_delta::FileRows;
use lakelab_delta::file_rows::slice_rows;

/// A scan's filters, turned into DataFusion's row-group and page pruning
/// for each file schema met (a file stores only the columns it had when
/// written, by position, so the predicate is built against its schema).
pub(crate) struct InFilePruning<'a> {
    state: &'a dyn Session,
    filters: &'a [Expr],
    built: Vec<(SchemaRef, Option<Pruning>)>,
    metrics: ExecutionPlanMetricsSet,
}

struct Pruning {
    row_groups: Arc<PruningPredicate>,
    pages: PagePruningAccessPlanFilter,
}

/// What a scan takes from one file.
#[derive(Debug, Default)]
pub(crate) struct FileScan {
    pub batches: Vec<RecordBatch>,
    pub row_groups_read: usize,
    pub rows_read: usize,
    /// Stored bytes of the row groups skipped.
    pub bytes_skipped: i64,
}

impl<'a> InFilePruning<'a> {
    pub(crate) fn new(state: &'a dyn Session, filters: &'a [Expr]) -> Self {
        Self {
            state,
            filters,
            built: Vec::new(),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// The row groups (and, within them, the rows of pages) of `file` that
    /// may hold matching rows; `None` if the filters say nothing about them.
    pub(crate) fn plan(&mut self, file: &FileRows, name: &str) -> Option<ParquetAccessPlan> {
        let schema = &file.file_schema;
        let at = match self.built.iter().position(|(s, _)| s == schema) {
            Some(at) => at,
            None => {
                let pruning = self.build(schema);
                self.built.push((schema.clone(), pruning));
                self.built.len() - 1
            }
        };
        let pruning = self.built[at].1.as_ref()?;
        let metadata = file.metadata.as_ref();
        let parquet_schema = metadata.file_metadata().schema_descr();
        let metrics = ParquetFileMetrics::new(0, name, &self.metrics);
        let mut groups =
            RowGroupAccessPlanFilter::new(ParquetAccessPlan::new_all(metadata.num_row_groups()));
        groups.prune_by_statistics(
            schema,
            parquet_schema,
            metadata.row_groups(),
            &pruning.row_groups,
            &metrics,
        );
        Some(pruning.pages.prune_plan_with_page_index(
            groups.build(),
            schema,
            parquet_schema,
            metadata,
            &metrics,
        ))
    }

    /// The filters that name only columns `schema` has, as pruning.
    fn build(&self, schema: &SchemaRef) -> Option<Pruning> {
        let usable = self.filters.iter().filter(|f| {
            f.column_refs()
                .iter()
                .all(|c| schema.field_with_name(&c.name).is_ok())
        });
        let predicate = conjunction(usable.cloned())?;
        let df_schema = DFSchema::try_from(schema.as_ref().clone()).ok()?;
        let physical = self
            .state
            .create_physical_expr(predicate, &df_schema)
            .ok()?;
        let row_groups = PruningPredicateBuilder::new()
            .with_file_schema(schema.clone())
            .build(physical.clone())?;
        Some(Pruning {
            row_groups,
            pages: PagePruningAccessPlanFilter::new(&physical, schema.clone()),
        })
    }
}

/// The rows of `file` that `plan` (all of them if `None`) says to scan.
pub(crate) fn scan_file(file: &FileRows, plan: Option<&ParquetAccessPlan>) -> FileScan {
    let mut scan = FileScan::default();
    for (i, rows) in file.row_groups.iter().enumerate() {
        let access = plan.map(|p| &p.inner()[i]);
        match access {
            None | Some(RowGroupAccess::Scan) => scan.batches.extend(rows.iter().cloned()),
            Some(RowGroupAccess::Skip) => {
                scan.bytes_skipped += file.metadata.row_group(i).compressed_size();
                continue;
            }
            Some(RowGroupAccess::Selection(selection)) => {
                let mut offset = 0;
                for selector in selection.iter() {
                    if !selector.skip {
                        scan.batches
                            .extend(slice_rows(rows, offset, selector.row_count));
                    }
                    offset += selector.row_count;
                }
            }
        }
        scan.row_groups_read += 1;
    }
    scan.rows_read = scan.batches.iter().map(RecordBatch::num_rows).sum();
    scan
}
