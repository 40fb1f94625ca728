//! EXPLAIN ANALYZE without spawning. DataFusion's `AnalyzeExec` runs its
//! input on a tokio `JoinSet`, and the browser has no tokio runtime; here the
//! physical plan runs partition by partition like every other query, then is
//! printed with the metrics its operators collected (rows, time, and the
//! Delta scans' files and bytes as extra rows).

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::logical_expr::Analyze;
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::physical_plan::display::DisplayableExecutionPlan;
use futures::StreamExt;

use crate::sequential::in_turn;
use crate::{Engine, Output, Progress, Result, describe};

impl Engine {
    pub(crate) async fn explain_analyze(
        &self,
        analyze: &Analyze,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Output> {
        let state = self.ctx.state();
        let plan = state.create_physical_plan(&analyze.input).await?;
        let task = self.ctx.task_ctx();
        let partitions = (0..plan.output_partitioning().partition_count())
            .map(|p| plan.execute(p, task.clone()))
            .collect::<datafusion::common::Result<Vec<_>>>()?;
        // The rows are counted into the metrics, then dropped.
        let mut batches = in_turn(partitions, progress);
        while let Some(batch) = batches.next().await {
            batch?;
        }
        let text = DisplayableExecutionPlan::with_metrics(plan.as_ref())
            .indent(true)
            .to_string();
        let schema = Arc::new(analyze.schema.as_arrow().clone());
        let mut rows = vec![RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["Plan with Metrics"])),
                Arc::new(StringArray::from(vec![text])),
            ],
        )?];
        rows.extend(describe::scan_rows(&schema, &self.catalog.reports)?);
        Ok(Output::batches(schema, rows))
    }
}
