//! Pauses in long queries. Every leaf of a plan the engine runs pauses
//! between its batches when the thread has computed for a while (see
//! [`lakelab_store::cooperate`]), so in the browser another table's storage
//! writes advance while this query computes. Added after planning, not as an
//! optimizer rule: EXPLAIN shows the plan without it.

use std::fmt;
use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use futures::StreamExt;
use lakelab_store::cooperate::yield_if_due;

/// `plan` with every leaf wrapped in a [`PausingExec`].
pub(crate) fn with_pauses(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        if !node.children().is_empty() {
            return Ok(Transformed::no(node));
        }
        let paused: Arc<dyn ExecutionPlan> = Arc::new(PausingExec { input: node });
        Ok(Transformed::yes(paused))
    })
    .map(|t| t.data)
}

/// Its input's batches, unchanged, with a pause after each when one is due.
#[derive(Debug)]
pub(crate) struct PausingExec {
    input: Arc<dyn ExecutionPlan>,
}

impl DisplayAs for PausingExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PausingExec")
    }
}

impl ExecutionPlan for PausingExec {
    fn name(&self) -> &str {
        "PausingExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
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
            Some(input) => Ok(Arc::new(PausingExec { input })),
            None => datafusion::common::internal_err!("PausingExec needs its input"),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let paused = input.then(|batch| async move {
            yield_if_due().await;
            batch
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, paused)))
    }
}
