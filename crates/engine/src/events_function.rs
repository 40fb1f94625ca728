//! `lakelab_events(n)`: the shared benchmark's `events` table as a SQL table
//! function, generated as it is read (`crates/workload`), so `CREATE TABLE
//! events AS SELECT * FROM lakelab_events(1000000)` builds the identical
//! table other engines are measured on.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, ScalarValue, plan_err};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;

pub(crate) const NAME: &str = "lakelab_events";
/// Rows per generated batch: small enough to stream, large enough to vectorise.
const BATCH_ROWS: i64 = 65_536;

#[derive(Debug)]
pub(crate) struct EventsFunction;

impl TableFunctionImpl for EventsFunction {
    fn call_with_args(
        &self,
        args: TableFunctionArgs,
    ) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        let n = match args.exprs() {
            [Expr::Literal(ScalarValue::Int64(Some(n)), _)] if *n >= 0 => *n,
            _ => return plan_err!("{NAME}(n) takes one non-negative integer: the number of rows"),
        };
        let schema = lakelab_workload::schema();
        let table = StreamingTable::try_new(schema.clone(), vec![Arc::new(Events { schema, n })])?;
        Ok(Arc::new(table))
    }
}

/// The rows, generated batch by batch when the scan pulls them.
#[derive(Debug)]
struct Events {
    schema: SchemaRef,
    n: i64,
}

impl PartitionStream for Events {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batches = lakelab_workload::batches(self.n, BATCH_ROWS)
            .map(|b| b.map_err(|e| DataFusionError::ArrowError(Box::new(e), None)));
        Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::iter(batches),
        ))
    }
}
