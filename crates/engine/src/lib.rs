//! Lakelab's engine: a DataFusion session whose tables are Delta tables in
//! a [`lakelab_store::Store`], speaking Spark SQL as the interview uses it.
//!
//! DataFusion parses (Databricks dialect), plans and runs queries. Statements
//! that change tables are carried out here, as Delta commits: DataFusion's own
//! write paths spawn tokio tasks, which do not exist in the browser, and the
//! Delta statements (MERGE, DESCRIBE HISTORY, RESTORE, …) are not DataFusion's.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod analyze;
mod bag_set_operations;
mod catalog;
mod chunked_write;
mod clustering;
mod convert;
mod cooperative;
mod delta_sql;
mod describe;
mod dml;
mod error;
mod events_function;
mod expectations;
mod in_file_pruning;
mod ipc;
mod maintenance;
mod optimize;
mod provider;
mod pruning;
mod sequential;
mod spark_functions;
mod sql_text;
mod temporary;
mod time_travel;
mod transfer;
pub use transfer::{export_lake, import_lake};
mod write;

use std::rc::Rc;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::config::Dialect;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{DdlStatement, DmlStatement, LogicalPlan, WriteOp};
use datafusion::physical_plan::{SendableRecordBatchStream, execute_stream_partitioned};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement;
use futures::TryStreamExt;
use lakelab_store::Store;

pub use catalog::TableSummary;
pub use error::{EngineError, Result};
pub use ipc::{from_ipc, to_ipc};
pub use provider::ScanReport;
pub use sql_text::split_statements;

use catalog::Catalog;
use delta_sql::DeltaStatement;

/// Where the browser keeps its tables in the store.
pub const TABLES_ROOT: &str = "tables";

/// What a statement produced.
#[derive(Debug, Clone)]
pub struct Output {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// What a statement that changes tables did, in words.
    pub message: Option<String>,
    /// Files each Delta scan read and skipped.
    pub scans: Vec<ScanReport>,
}

impl Output {
    pub fn row_count(&self) -> u64 {
        self.batches.iter().map(|b| b.num_rows() as u64).sum()
    }

    pub(crate) fn rows(batch: RecordBatch, message: String) -> Self {
        Output {
            schema: batch.schema(),
            batches: vec![batch],
            message: Some(message),
            scans: Vec::new(),
        }
    }

    pub(crate) fn batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Output {
            schema,
            batches,
            message: None,
            scans: Vec::new(),
        }
    }

    pub(crate) fn message(message: String) -> Self {
        Output {
            schema: Arc::new(Schema::empty()),
            batches: Vec::new(),
            message: Some(message),
            scans: Vec::new(),
        }
    }
}

/// Rows and batches produced so far by a running statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub rows: u64,
    pub batches: u64,
}

/// A DataFusion session over the Delta tables of one store.
pub struct Engine {
    ctx: SessionContext,
    catalog: Catalog,
    settings: std::cell::RefCell<maintenance::Settings>,
}

impl Engine {
    /// Opens the tables under `tables/` in the store (the browser's layout).
    pub async fn open(store: Rc<dyn Store>) -> Result<Self> {
        Self::open_at(store, TABLES_ROOT).await
    }

    /// Opens the tables in the folders under `root` (`""`: the store's top level).
    /// A table whose log cannot be read is kept aside with the reason: the
    /// others stay usable.
    pub async fn open_at(store: Rc<dyn Store>, root: &str) -> Result<Self> {
        // One partition: the browser has one thread and no tokio runtime.
        let mut config = SessionConfig::new()
            .with_target_partitions(1)
            .with_information_schema(true);
        config.options_mut().sql_parser.dialect = Dialect::Databricks;
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_analyzer_rule(Arc::new(bag_set_operations::BagSetOperations))
            .with_physical_optimizer_rule(Arc::new(sequential::SequentialCoalesce))
            .build();
        let ctx = SessionContext::new_with_state(state);
        ctx.register_udtf(
            events_function::NAME,
            Arc::new(events_function::EventsFunction),
        );
        let catalog = Catalog::open(store, root).await?;
        Ok(Engine {
            ctx,
            catalog,
            settings: Default::default(),
        })
    }

    /// Makes `batches` queryable as `name` for this session, as a Spark
    /// `foreachBatch` function's temporary view of its micro-batch. Replaces
    /// an earlier view of that name; stored tables cannot be shadowed.
    pub fn register_batches(
        &self,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        if self.catalog.contains(name) {
            return Err(EngineError::Invalid(format!(
                "{name} is a stored table; a view cannot take its name"
            )));
        }
        let table = datafusion::catalog::MemTable::try_new(schema, vec![batches])?;
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, Arc::new(table))?;
        Ok(())
    }

    /// Drops a view made by [`register_batches`](Self::register_batches).
    pub fn deregister_batches(&self, name: &str) -> Result<()> {
        self.ctx.deregister_table(name)?;
        Ok(())
    }

    /// The persisted tables, readable or not.
    pub fn tables(&self) -> Vec<TableSummary> {
        self.catalog.summaries()
    }

    /// A stored table's current schema (as its columns read), without
    /// running a query: `None` if there is no such table.
    pub fn table_schema(&self, name: &str) -> Result<Option<SchemaRef>> {
        match self.catalog.get(name) {
            Ok((_, snapshot)) => Ok(Some(catalog::nullable(&snapshot.schema))),
            Err(EngineError::NoSuchTable(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Runs one SQL statement; `progress` hears of every batch produced.
    pub async fn execute(&self, sql: &str, progress: &mut dyn FnMut(Progress)) -> Result<Output> {
        if let Ok(mut reports) = self.catalog.reports.lock() {
            reports.clear();
        }
        let mut output =
            match delta_sql::parse(sql).map_err(datafusion::error::DataFusionError::from)? {
                Some(statement) => self.delta_statement(statement, progress).await?,
                None => self.sql_statement(sql, progress).await?,
            };
        if let Ok(reports) = self.catalog.reports.lock() {
            output.scans = reports.clone();
        }
        Ok(output)
    }

    async fn delta_statement(
        &self,
        statement: DeltaStatement,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Output> {
        match statement {
            DeltaStatement::CreateTable(create) => self.create_table(create, progress).await,
            DeltaStatement::Merge(merge) => self.merge(*merge).await,
            DeltaStatement::ConvertToDelta {
                table,
                statistics,
                partitioned_by,
            } => {
                let name = sql_text::object_table_name(&table)?;
                if name.starts_with("parquet.") {
                    return Err(EngineError::Unsupported(
                        "CONVERT TO DELTA parquet.`path`: Lakelab keeps tables by name;                          give the table's name"
                            .into(),
                    ));
                }
                self.convert_to_delta(&name, statistics, &partitioned_by)
                    .await
            }
            DeltaStatement::DescribeHistory { table, limit } => {
                let name = sql_text::object_table_name(&table)?;
                let (table, _) = self.catalog.get(&name)?;
                describe::history(&name, &table, limit).await
            }
            DeltaStatement::DescribeDetail { table } => {
                let name = sql_text::object_table_name(&table)?;
                let (table, snapshot) = self.catalog.get(&name)?;
                describe::detail(&name, &table, &snapshot)
            }
            DeltaStatement::DescribeFiles { table, version } => {
                let name = sql_text::object_table_name(&table)?;
                let (table, latest) = self.catalog.get(&name)?;
                let snapshot = match version {
                    Some(travel) => self.snapshot_as_of(&table, &travel).await?,
                    None => latest,
                };
                describe::files(&name, &snapshot)
            }
            DeltaStatement::Restore { table, to } => {
                self.restore(&sql_text::object_table_name(&table)?, &to)
                    .await
            }
            DeltaStatement::Vacuum {
                table,
                retain_hours,
                dry_run,
            } => {
                self.vacuum(&sql_text::object_table_name(&table)?, retain_hours, dry_run)
                    .await
            }
            DeltaStatement::AddColumns { table, columns } => {
                self.add_columns(&sql_text::object_table_name(&table)?, &columns)
                    .await
            }
            DeltaStatement::ReplaceWhere {
                table,
                predicate,
                query,
            } => {
                self.replace_where(
                    &sql_text::object_table_name(&table)?,
                    &predicate.to_string(),
                    &query.to_string(),
                )
                .await
            }
            DeltaStatement::Optimize {
                table,
                predicate,
                zorder_by,
                full,
            } => {
                self.optimize(
                    &sql_text::object_table_name(&table)?,
                    predicate.as_deref(),
                    &zorder_by,
                    full,
                )
                .await
            }
            DeltaStatement::ClusterBy { table, columns } => {
                self.cluster_by(&sql_text::object_table_name(&table)?, columns.as_deref())
                    .await
            }
            DeltaStatement::Uncache { table, if_exists } => {
                let name = sql_text::object_table_name(&table)?;
                if !self.catalog.contains(&name) {
                    return if if_exists {
                        Ok(Output::message(format!(
                            "no table {name}; nothing uncached"
                        )))
                    } else {
                        Err(EngineError::NoSuchTable(name))
                    };
                }
                self.catalog.uncache(&self.ctx, &name)?;
                Ok(Output::message(format!(
                    "uncached {name}: its rows are read from storage again"
                )))
            }
            DeltaStatement::Set { key, value } => self.set(&key, &value),
            DeltaStatement::AddExpectation {
                table,
                name,
                expr,
                on_violation,
            } => {
                let table = sql_text::object_table_name(&table)?;
                let expr = match *expr {
                    datafusion::sql::sqlparser::ast::Expr::Nested(inner) => inner.to_string(),
                    other => other.to_string(),
                };
                self.add_expectation(&table, &name, &expr, on_violation)
                    .await
            }
        }
    }

    /// Whether `sql` parses as [`execute`](Self::execute) would parse it (the
    /// Delta statements first, then DataFusion's parser in the Databricks
    /// dialect), without planning or running it: generated code is checked
    /// with this.
    pub fn parses(&self, sql: &str) -> Result<()> {
        if delta_sql::parse(sql)
            .map_err(datafusion::error::DataFusionError::from)?
            .is_none()
        {
            self.ctx
                .state()
                .sql_to_statement(sql, &Dialect::Databricks)?;
        }
        Ok(())
    }

    async fn sql_statement(&self, sql: &str, progress: &mut dyn FnMut(Progress)) -> Result<Output> {
        let state = self.ctx.state();
        let dialect = state.config().options().sql_parser.dialect;
        let mut statement = state.sql_to_statement(sql, &dialect)?;
        if let DfStatement::Statement(s) = &statement {
            match s.as_ref() {
                Statement::Delete(delete) => return self.delete(delete).await,
                Statement::Update(update) => return self.update(update).await,
                Statement::AlterTable(alter) => return self.alter_table(alter).await,
                Statement::Insert(insert)
                    if self.settings.borrow().auto_merge && insert.columns.is_empty() =>
                {
                    if let (
                        datafusion::sql::sqlparser::ast::TableObject::TableName(table),
                        Some(source),
                    ) = (&insert.table, &insert.source)
                    {
                        let name = sql_text::object_table_name(table)?;
                        return self
                            .insert_merging_schema(
                                &name,
                                &source.to_string(),
                                insert.overwrite,
                                progress,
                            )
                            .await;
                    }
                }
                _ => {}
            }
        }
        spark_functions::rewrite(&mut statement).map_err(EngineError::Invalid)?;
        let _travel = time_travel::resolve(self, &mut statement).await?;
        self.plan_and_run(statement, progress).await
    }

    /// Registers every stored table `statement` names, so DataFusion can plan it.
    async fn register_references(&self, statement: &DfStatement) -> Result<()> {
        let references = self.ctx.state().resolve_table_references(statement)?;
        // SHOW TABLES and information_schema list every stored table.
        let everything = references
            .iter()
            .any(|r| r.schema() == Some("information_schema"));
        let names: Vec<String> = if everything {
            self.catalog
                .summaries()
                .into_iter()
                .filter(|t| t.error.is_none())
                .map(|t| t.name)
                .collect()
        } else {
            references
                .iter()
                .filter_map(|r| catalog::table_name(r).ok())
                .collect()
        };
        let write_only = self.insert_target_not_read(statement)?;
        for name in names {
            self.catalog.check_readable(&name)?;
            let rows = write_only.as_deref() != Some(name.as_str());
            self.catalog.register(&self.ctx, &name, rows).await?;
        }
        Ok(())
    }

    /// The table an INSERT writes, if its query does not read it: planning
    /// needs only its schema, and reading all its rows would cost an
    /// append-only table (Bronze) memory in proportion to its whole history.
    fn insert_target_not_read(&self, statement: &DfStatement) -> Result<Option<String>> {
        let DfStatement::Statement(s) = statement else {
            return Ok(None);
        };
        let Statement::Insert(insert) = s.as_ref() else {
            return Ok(None);
        };
        let (datafusion::sql::sqlparser::ast::TableObject::TableName(table), Some(source)) =
            (&insert.table, &insert.source)
        else {
            return Ok(None);
        };
        let target = sql_text::object_table_name(table)?;
        let query = DfStatement::Statement(Box::new(Statement::Query(source.clone())));
        let read = self.ctx.state().resolve_table_references(&query)?;
        let reads_target = read
            .iter()
            .any(|r| catalog::table_name(r).ok().as_deref() == Some(target.as_str()));
        Ok((!reads_target).then_some(target))
    }

    async fn plan_and_run(
        &self,
        statement: DfStatement,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Output> {
        self.register_references(&statement).await?;
        let plan = self.ctx.state().statement_to_plan(statement).await?;
        match plan {
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(_)) => Err(EngineError::Unsupported(
                "this CREATE TABLE form is not supported".into(),
            )),
            LogicalPlan::Ddl(DdlStatement::DropTable(drop)) => {
                let name = catalog::table_name(&drop.name)?;
                if !self.catalog.contains(&name) {
                    return if drop.if_exists {
                        Ok(Output::message(format!(
                            "table {name} does not exist; nothing done"
                        )))
                    } else {
                        Err(EngineError::NoSuchTable(name))
                    };
                }
                self.catalog.unregister(&self.ctx, &name)?;
                let dropped = self.catalog.drop_files(&name).await;
                self.catalog.reload(&name).await?;
                dropped?;
                self.catalog.forget(&name);
                Ok(Output::message(format!("dropped table {name}")))
            }
            LogicalPlan::Dml(DmlStatement {
                table_name,
                op: WriteOp::Insert(op),
                input,
                ..
            }) => {
                let name = catalog::table_name(&table_name)?;
                let batches = self.run_plan(input.as_ref().clone(), progress).await?;
                self.insert(&name, batches, op == InsertOp::Overwrite).await
            }
            LogicalPlan::Dml(dml) => Err(EngineError::Unsupported(format!(
                "{} is not supported here",
                dml.op
            ))),
            LogicalPlan::Analyze(analyze) => self.explain_analyze(&analyze, progress).await,
            plan => {
                let explain = matches!(plan, LogicalPlan::Explain(_));
                let logical = Arc::new(plan.schema().as_arrow().clone());
                let partitions = self.partitions(plan).await?;
                // The batches' own schema: the logical plan's can name a type
                // they do not have (Utf8 planned for `concat`, Utf8View
                // produced), and the IPC stream must describe them exactly.
                let schema = partitions.first().map_or(logical, |p| p.schema());
                let mut batches: Vec<RecordBatch> = sequential::in_turn(partitions, progress)
                    .try_collect()
                    .await?;
                if explain {
                    batches.extend(describe::scan_rows(&schema, &self.catalog.reports)?);
                }
                Ok(Output::batches(schema, batches))
            }
        }
    }

    /// Runs a query the engine wrote itself (over registered tables).
    pub(crate) async fn query(&self, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        self.query_with_progress(sql, &mut |_| {}).await
    }

    /// Executes a plan, reporting each batch as it arrives.
    async fn run_plan(
        &self,
        plan: LogicalPlan,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<RecordBatch>> {
        sequential::in_turn(self.partitions(plan).await?, progress)
            .try_collect()
            .await
    }

    /// A plan's output partitions, to be read with [`sequential::in_turn`].
    pub(crate) async fn partitions(
        &self,
        plan: LogicalPlan,
    ) -> Result<Vec<SendableRecordBatchStream>> {
        let frame = self.ctx.execute_logical_plan(plan).await?;
        let task = Arc::new(frame.task_ctx());
        let plan = cooperative::with_pauses(frame.create_physical_plan().await?)?;
        Ok(execute_stream_partitioned(plan, task)?)
    }

    /// The logical plan of a query, with the time-travel views it reads
    /// (kept registered while the returned guard lives).
    pub(crate) async fn planned_query(
        &self,
        sql: &str,
    ) -> Result<(LogicalPlan, temporary::TemporaryTables<'_>)> {
        let state = self.ctx.state();
        let mut statement = state.sql_to_statement(sql, &Dialect::Databricks)?;
        spark_functions::rewrite(&mut statement).map_err(EngineError::Invalid)?;
        let travel = time_travel::resolve(self, &mut statement).await?;
        self.register_references(&statement).await?;
        let plan = state.statement_to_plan(statement).await?;
        Ok((plan, travel))
    }
}

/// Wall-clock milliseconds, for durations: commit times may be simulated.
pub(crate) fn real_now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
