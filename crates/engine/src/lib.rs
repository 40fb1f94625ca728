//! Lakelab's engine: a DataFusion session whose tables live in a
//! [`lakelab_store::Store`].
//!
//! DataFusion parses and plans every statement. Statements that change
//! tables (`CREATE TABLE`, `CREATE TABLE … AS SELECT`, `INSERT INTO`,
//! `DROP TABLE`) are carried out here instead: DataFusion's own write paths
//! spawn tokio tasks, which do not exist in the browser, and the data must
//! reach the store anyway. Everything else runs as DataFusion planned it.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod catalog;
mod error;
mod ipc;

use std::rc::Rc;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::logical_expr::{DdlStatement, DmlStatement, LogicalPlan, WriteOp};
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use lakelab_store::Store;

pub use catalog::TableSummary;
pub use error::{EngineError, Result};
pub use ipc::{from_ipc, to_ipc};

use catalog::Catalog;

/// What a statement produced.
#[derive(Debug, Clone)]
pub struct Output {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// What a statement that changes tables did, in words.
    pub message: Option<String>,
}

impl Output {
    pub fn row_count(&self) -> u64 {
        self.batches.iter().map(|b| b.num_rows() as u64).sum()
    }
}

/// Rows and batches produced so far by a running statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub rows: u64,
    pub batches: u64,
}

/// A DataFusion session over the tables of one store.
pub struct Engine {
    ctx: SessionContext,
    catalog: Catalog,
}

impl Engine {
    /// Opens the store and registers every table in it. A table whose files
    /// cannot be read is kept aside with the reason: the others stay usable.
    pub async fn open(store: Rc<dyn Store>) -> Result<Self> {
        // One partition: the browser has one thread and no tokio runtime.
        let config = SessionConfig::new()
            .with_target_partitions(1)
            .with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        let catalog = Catalog::open(store, &ctx).await?;
        Ok(Engine { ctx, catalog })
    }

    /// The persisted tables, readable or not.
    pub fn tables(&self) -> Vec<TableSummary> {
        self.catalog.summaries()
    }

    /// Runs one SQL statement; `progress` hears of every batch produced.
    pub async fn execute(&self, sql: &str, progress: &mut dyn FnMut(Progress)) -> Result<Output> {
        let state = self.ctx.state();
        let dialect = state.config().options().sql_parser.dialect;
        let statement = state.sql_to_statement(sql, &dialect)?;
        let references = state.resolve_table_references(&statement)?;
        let plan = match state.statement_to_plan(statement).await {
            Ok(plan) => plan,
            // Unreadable tables are not registered, so planning a read of one
            // fails with "not found": say why instead.
            Err(e) => {
                for table in &references {
                    self.catalog.check_readable(table.table())?;
                }
                return Err(e.into());
            }
        };
        match plan {
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(create)) => {
                let name = catalog::table_name(&create.name)?;
                if self.catalog.contains(&name) && !create.or_replace {
                    return if create.if_not_exists {
                        Ok(message_only(format!(
                            "table {name} already exists; nothing done"
                        )))
                    } else {
                        Err(EngineError::TableExists(name))
                    };
                }
                let schema = Arc::new(create.input.schema().as_arrow().clone());
                let batches = self
                    .run_plan(create.input.as_ref().clone(), progress)
                    .await?;
                let rows = self
                    .catalog
                    .create(&self.ctx, &name, schema, batches, create.or_replace)
                    .await?;
                Ok(message_only(format!("created table {name} ({rows} rows)")))
            }
            LogicalPlan::Ddl(DdlStatement::DropTable(drop)) => {
                let name = catalog::table_name(&drop.name)?;
                if !self.catalog.contains(&name) {
                    return if drop.if_exists {
                        Ok(message_only(format!(
                            "table {name} does not exist; nothing done"
                        )))
                    } else {
                        Err(EngineError::NoSuchTable(name))
                    };
                }
                self.catalog.drop_table(&self.ctx, &name).await?;
                Ok(message_only(format!("dropped table {name}")))
            }
            LogicalPlan::Dml(DmlStatement {
                table_name,
                op: WriteOp::Insert(_),
                input,
                ..
            }) => {
                let name = catalog::table_name(&table_name)?;
                let batches = self.run_plan(input.as_ref().clone(), progress).await?;
                let rows = self.catalog.append(&self.ctx, &name, batches).await?;
                let count = RecordBatch::try_new(
                    Arc::new(Schema::new(vec![Field::new(
                        "count",
                        DataType::UInt64,
                        false,
                    )])),
                    vec![Arc::new(UInt64Array::from(vec![rows]))],
                )?;
                Ok(Output {
                    schema: count.schema(),
                    batches: vec![count],
                    message: Some(format!("inserted {rows} rows into {name}")),
                })
            }
            LogicalPlan::Dml(dml) => Err(EngineError::Unsupported(format!(
                "{} is not supported yet (Delta tables bring it)",
                dml.op
            ))),
            plan => {
                let schema = Arc::new(plan.schema().as_arrow().clone());
                let batches = self.run_plan(plan, progress).await?;
                Ok(Output {
                    schema,
                    batches,
                    message: None,
                })
            }
        }
    }

    /// Executes a plan, reporting each batch as it arrives.
    async fn run_plan(
        &self,
        plan: LogicalPlan,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<RecordBatch>> {
        let mut stream = self
            .ctx
            .execute_logical_plan(plan)
            .await?
            .execute_stream()
            .await?;
        let mut batches = Vec::new();
        let mut seen = Progress::default();
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            seen.rows += batch.num_rows() as u64;
            seen.batches += 1;
            progress(seen);
            batches.push(batch);
        }
        Ok(batches)
    }
}

fn message_only(message: String) -> Output {
    Output {
        schema: Arc::new(Schema::empty()),
        batches: Vec::new(),
        message: Some(message),
    }
}
