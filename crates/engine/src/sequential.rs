//! Running plans without spawning tasks. DataFusion merges partitions in
//! `CoalescePartitionsExec` by spawning one tokio task per partition, and in
//! the browser there is no tokio runtime: a UNION ALL under an aggregate
//! would crash the worker. This rule swaps each such node for one that reads
//! the partitions one after another, on the caller's task; and the
//! engine reads a plan's output partitions in turn, with [`in_turn`].

use std::fmt;
use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::limit::GlobalLimitExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties, SendableRecordBatchStream,
};
use futures::StreamExt;

#[derive(Debug, Default)]
pub(crate) struct SequentialCoalesce;

impl PhysicalOptimizerRule for SequentialCoalesce {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(coalesce) = node.downcast_ref::<CoalescePartitionsExec>() else {
                return Ok(Transformed::no(node));
            };
            let input = coalesce.input().clone();
            if input.output_partitioning().partition_count() <= 1 {
                return Ok(Transformed::no(node));
            }
            let sequential: Arc<dyn ExecutionPlan> = Arc::new(SequentialCoalesceExec::new(input));
            Ok(Transformed::yes(match coalesce.fetch() {
                Some(fetch) => Arc::new(GlobalLimitExec::new(sequential, 0, Some(fetch))),
                None => sequential,
            }))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "sequential_coalesce"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// One partition made of the input's partitions, read in order.
#[derive(Debug)]
pub(crate) struct SequentialCoalesceExec {
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
}

impl SequentialCoalesceExec {
    fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        let mut equivalences = input.equivalence_properties().clone();
        equivalences.clear_orderings();
        equivalences.clear_per_partition_constants();
        let properties = PlanProperties::new(
            equivalences,
            Partitioning::UnknownPartitioning(1),
            input.pipeline_behavior(),
            input.boundedness(),
        );
        SequentialCoalesceExec {
            input,
            properties: Arc::new(properties),
        }
    }
}

impl DisplayAs for SequentialCoalesceExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SequentialCoalesceExec")
    }
}

impl ExecutionPlan for SequentialCoalesceExec {
    fn name(&self) -> &str {
        "SequentialCoalesceExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match children.into_iter().next() {
            Some(input) => Ok(Arc::new(SequentialCoalesceExec::new(input))),
            None => datafusion::common::internal_err!("SequentialCoalesceExec needs its input"),
        }
    }

    fn execute(
        &self,
        _partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.clone();
        let partitions = input.output_partitioning().partition_count();
        let streams = (0..partitions).map(move |i| input.execute(i, context.clone()));
        let batches = futures::stream::iter(streams).flat_map(|stream| match stream {
            Ok(stream) => stream.boxed(),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            batches,
        )))
    }
}

/// Every stream's batches, one partition after another (merging them
/// concurrently would spawn tasks), each reported to `progress` as it comes.
pub(crate) fn in_turn<'a>(
    streams: Vec<SendableRecordBatchStream>,
    progress: &'a mut dyn FnMut(crate::Progress),
) -> impl futures::Stream<Item = crate::Result<datafusion::arrow::array::RecordBatch>> + 'a {
    let mut seen = crate::Progress::default();
    futures::stream::iter(streams).flatten().map(move |batch| {
        let batch = batch?;
        seen.rows += batch.num_rows() as u64;
        seen.batches += 1;
        progress(seen);
        Ok(batch)
    })
}
