//! Statements that write whole sets of rows: CREATE TABLE [AS SELECT],
//! INSERT INTO / OVERWRITE, RESTORE; and the checks every write passes
//! (schema enforcement, NOT NULL, CHECK constraints) before anything is stored.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::catalog::MemTable;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::sql::sqlparser::ast::ColumnDef;
use lakelab_delta::clustering;
use lakelab_delta::{
    Action, Add, Commit, CommitOutcome, Remove, Snapshot, Table, TableSpec, now_ms,
};
use serde_json::json;

use crate::delta_sql::{CreateTable, TimeTravel};
use crate::sql_text::object_table_name;
use crate::temporary::TemporaryTables;
use crate::{Engine, EngineError, Output, Progress, Result};

const CHECK_TABLE: &str = "__lakelab_check";

/// One row of named counts, as Databricks reports a write.
pub(crate) fn counts(columns: &[(&str, i64)]) -> Result<RecordBatch> {
    Ok(RecordBatch::try_from_iter(columns.iter().map(
        |(name, n)| (*name, Arc::new(Int64Array::from(vec![*n])) as _),
    ))?)
}

fn total_rows(batches: &[RecordBatch]) -> i64 {
    batches.iter().map(|b| b.num_rows() as i64).sum()
}

fn bytes(adds: &[Add]) -> i64 {
    adds.iter().map(|a| a.size).sum()
}

/// The table's CHECK constraints: (name, SQL expression).
pub(crate) fn constraints(snapshot: &Snapshot) -> Vec<(String, String)> {
    snapshot
        .metadata
        .configuration
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("delta.constraints.")?.to_owned(), v.clone()?)))
        .collect()
}

pub(crate) fn is_append_only(snapshot: &Snapshot) -> bool {
    snapshot
        .metadata
        .property("delta.appendOnly")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

pub(crate) fn refuse_if_append_only(
    name: &str,
    snapshot: &Snapshot,
    operation: &str,
) -> Result<()> {
    if is_append_only(snapshot) {
        return Err(EngineError::Invalid(format!(
            "{operation} is not allowed: table {name} is append-only (delta.appendOnly = true); \
             only INSERT INTO may change it"
        )));
    }
    Ok(())
}

impl Engine {
    /// Puts rows in the table's schema and checks them against its
    /// constraints; fails (storing nothing) on the first violation.
    pub(crate) async fn checked_rows(
        &self,
        snapshot: &Snapshot,
        batches: Vec<RecordBatch>,
    ) -> Result<Vec<RecordBatch>> {
        let rows = batches
            .iter()
            .map(|b| lakelab_delta::data::conform(b, &snapshot.schema))
            .collect::<Result<Vec<_>, _>>()?;
        self.check_constraints(snapshot, &rows, &constraints(snapshot))
            .await?;
        Ok(rows)
    }

    /// Fails with Delta's message if a row breaks one of `checks`.
    pub(crate) async fn check_constraints(
        &self,
        snapshot: &Snapshot,
        rows: &[RecordBatch],
        checks: &[(String, String)],
    ) -> Result<()> {
        if checks.is_empty() || rows.iter().all(|b| b.num_rows() == 0) {
            return Ok(());
        }
        let schema: SchemaRef = crate::catalog::nullable(&snapshot.schema);
        let relaxed: Vec<RecordBatch> = rows
            .iter()
            .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
            .collect::<Result<_, _>>()?;
        let mut temporary = TemporaryTables::new(&self.ctx);
        temporary.register(
            CHECK_TABLE,
            Arc::new(MemTable::try_new(schema, vec![relaxed])?),
        )?;
        for (name, expr) in checks {
            // NULL breaks a CHECK constraint in Delta, as false does.
            let sql =
                format!("SELECT * FROM {CHECK_TABLE} WHERE NOT coalesce(({expr}), false) LIMIT 1");
            let (_, found) = self.query(&sql).await?;
            if let Some(row) = found.iter().find(|b| b.num_rows() > 0) {
                return Err(EngineError::ConstraintViolated {
                    name: name.clone(),
                    expr: expr.clone(),
                    row: describe_row(row),
                });
            }
        }
        Ok(())
    }

    pub(crate) async fn create_table(
        &self,
        create: CreateTable,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Output> {
        let name = object_table_name(&create.name)?;
        match create.using.as_deref() {
            Some(f) if f.eq_ignore_ascii_case("parquet") => {
                return self.create_parquet_table(&name, &create, progress).await;
            }
            Some(f) if !f.eq_ignore_ascii_case("delta") => {
                return Err(EngineError::Unsupported(format!(
                    "USING {f}: Lakelab tables are Delta tables (USING DELTA), or plain \
                     Parquet to migrate (USING PARQUET)"
                )));
            }
            _ => {}
        }
        let existing = self.catalog.get(&name);
        if self.catalog.contains(&name) && !create.or_replace {
            return if create.if_not_exists {
                Ok(Output::message(format!(
                    "table {name} already exists; nothing done"
                )))
            } else {
                Err(EngineError::TableExists(name))
            };
        }
        let (schema, plan) = match (&create.query, create.columns.is_empty()) {
            (Some(query), true) => {
                let planned = self.planned_query(&query.to_string()).await?;
                let schema: SchemaRef = Arc::new(planned.0.schema().as_arrow().clone());
                (schema, Some(planned))
            }
            (None, false) => (self.schema_of(&create.columns).await?, None),
            (Some(_), false) => {
                return Err(EngineError::Unsupported(
                    "CREATE TABLE with both a column list and AS SELECT: give one of them".into(),
                ));
            }
            (None, true) => {
                return Err(EngineError::Invalid(format!(
                    "CREATE TABLE {name} needs a column list or AS SELECT"
                )));
            }
        };
        let spec = TableSpec {
            partition_columns: create.partition_columns(),
            configuration: create
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
            description: create.comment.clone(),
        };
        if spec
            .configuration
            .keys()
            .any(|k| k.starts_with("delta.constraints."))
        {
            return Err(EngineError::Invalid(
                "CHECK constraints are added with ALTER TABLE … ADD CONSTRAINT, not TBLPROPERTIES"
                    .into(),
            ));
        }
        let (mut protocol, metadata) = Table::create_actions(&schema, &spec)?;
        let cluster_by = if create.cluster_by.is_empty() {
            Vec::new()
        } else {
            let columns = crate::clustering::check_columns(
                &name,
                &schema,
                &spec.partition_columns,
                &create.cluster_by,
            )?;
            protocol = clustering::protocol_with_clustering(&protocol).unwrap_or(protocol);
            columns
        };
        let pending = Table::pending_snapshot(protocol.clone(), metadata.clone())?;

        let mut unclustered = None;
        let (table, read_version, removes) = match existing {
            Ok((table, current)) if create.or_replace => {
                let now = now_ms();
                let removes: Vec<Remove> = current
                    .files
                    .values()
                    .map(|a| Remove::of(a, now, true))
                    .collect();
                // A clustered table replaced without CLUSTER BY keeps the
                // feature (protocols never go down) with no columns.
                if cluster_by.is_empty() && current.domains.contains_key(clustering::DOMAIN) {
                    unclustered = Some(clustering::domain_action(&[])?);
                    protocol = clustering::protocol_with_clustering(&protocol).unwrap_or(protocol);
                }
                (table, Some(current.version), removes)
            }
            Err(EngineError::UnreadableTable { .. }) if create.or_replace => {
                self.catalog.drop_files(&name).await?;
                (self.catalog.delta_table(&name), None, Vec::new())
            }
            _ => {
                // Files left by a CREATE that failed before its commit.
                self.catalog.drop_files(&name).await?;
                (self.catalog.delta_table(&name), None, Vec::new())
            }
        };
        let (adds, count) = match plan {
            Some((plan, _travel)) => {
                self.write_streamed(&table, &pending, plan, progress)
                    .await?
            }
            None => (Vec::new(), 0),
        };
        let operation = match (
            create.or_replace && read_version.is_some(),
            create.query.is_some(),
        ) {
            (true, true) => "CREATE OR REPLACE TABLE AS SELECT",
            (true, false) => "CREATE OR REPLACE TABLE",
            (false, true) => "CREATE TABLE AS SELECT",
            (false, false) => "CREATE TABLE",
        };
        let properties: serde_json::Map<String, serde_json::Value> = create
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let mut commit = Commit::new(operation, read_version)
            .parameter("isManaged", "true")
            .parameter("description", create.comment.clone().unwrap_or_default())
            .parameter("partitionBy", json!(spec.partition_columns).to_string())
            .parameter("clusterBy", json!(cluster_by).to_string())
            .parameter(
                "properties",
                serde_json::Value::Object(properties).to_string(),
            );
        if create.query.is_some() {
            commit = commit
                .metric("numFiles", adds.len())
                .metric("numOutputRows", count)
                .metric("numOutputBytes", bytes(&adds));
        }
        commit.actions.push(Action::Protocol(protocol));
        commit.actions.push(Action::Metadata(metadata));
        if !cluster_by.is_empty() {
            commit.actions.push(clustering::domain_action(&cluster_by)?);
        }
        commit.actions.extend(unclustered);
        commit
            .actions
            .extend(removes.into_iter().map(Action::Remove));
        commit.actions.extend(adds.into_iter().map(Action::Add));
        let outcome = self.commit(&name, &table, commit).await?;
        Ok(Output::message(format!(
            "created table {name} ({count} rows, version {})",
            outcome.version
        )))
    }

    /// The schema of a column list, typed by DataFusion.
    pub(crate) async fn schema_of(&self, columns: &[ColumnDef]) -> Result<SchemaRef> {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let sql = format!("CREATE TABLE __lakelab_schema ({})", columns.join(", "));
        let state = self.ctx.state();
        let statement =
            state.sql_to_statement(&sql, &datafusion::common::config::Dialect::Databricks)?;
        match state.statement_to_plan(statement).await? {
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(c)) => {
                Ok(Arc::new(c.input.schema().as_arrow().clone()))
            }
            _ => Err(EngineError::Invalid(
                "could not read the column list".into(),
            )),
        }
    }

    /// Commits to table `name`, then re-reads its log whether the commit
    /// landed or not, so the catalog shows exactly what is committed.
    pub(crate) async fn commit(
        &self,
        name: &str,
        table: &Table,
        commit: Commit,
    ) -> Result<CommitOutcome> {
        // A writer at the catalog's version hands it over, so a checkpoint
        // due need not read the log again.
        let base = commit
            .read_version
            .filter(|v| lakelab_delta::commit::checkpoint_due(v + 1))
            .and_then(|v| self.catalog.get(name).ok().filter(|(_, s)| s.version == v));
        let outcome = match base {
            Some((_, base)) => table.commit_over(&base, commit).await,
            None => table.commit(commit).await,
        };
        self.after_commit(name, outcome.as_ref().ok()).await?;
        Ok(outcome?)
    }

    /// The session's idempotent-write stamp (`txnAppId`, `txnVersion`), if set.
    fn session_txn(&self) -> Option<(String, i64)> {
        let settings = self.settings.borrow();
        settings.txn_app_id.clone().zip(settings.txn_version)
    }

    /// If the session's idempotent write already landed in `snapshot`, the
    /// answer of a write that is skipped (Delta's `txn` rule): replaying a
    /// micro-batch after a crash changes nothing.
    pub(crate) fn already_written(
        &self,
        name: &str,
        snapshot: &Snapshot,
    ) -> Result<Option<Output>> {
        let Some((app, version)) = self.session_txn() else {
            return Ok(None);
        };
        if snapshot.txn_version(&app).is_none_or(|done| done < version) {
            return Ok(None);
        }
        Ok(Some(Output::rows(
            counts(&[("num_affected_rows", 0)])?,
            format!(
                "skipped: application {app} already wrote version {version} to {name}; nothing committed"
            ),
        )))
    }

    /// Adds the session's idempotent-write stamp, if any, to a data write.
    pub(crate) fn stamp_txn(&self, mut commit: Commit) -> Commit {
        if let Some((app_id, version)) = self.session_txn() {
            commit.actions.push(Action::Txn(lakelab_delta::Txn {
                app_id,
                version,
                last_updated: Some(now_ms()),
            }));
        }
        commit
    }

    /// After a commit (or a failed one) the catalog shows exactly what is
    /// committed: the version a commit wrote, from its own actions when it
    /// directly followed the catalog's version; otherwise the log, re-read.
    async fn after_commit(&self, name: &str, done: Option<&CommitOutcome>) -> Result<()> {
        self.catalog.unregister(&self.ctx, name)?;
        let advanced = done.is_some_and(|done| self.catalog.advance(name, done));
        self.catalog.drop_written(name);
        if advanced {
            return Ok(());
        }
        self.catalog.reload(name).await
    }

    /// Writes `rows` as data files of table `name` (not yet committed); the
    /// catalog keeps their rows if it keeps the table's.
    pub(crate) async fn write_files(
        &self,
        name: &str,
        table: &Table,
        snapshot: &Snapshot,
        rows: &[RecordBatch],
    ) -> Result<Vec<Add>> {
        let written = table.write_files_with_rows(snapshot, rows).await?;
        Ok(self.catalog.hold_written(name, snapshot, written))
    }

    /// INSERT with `spark.databricks.delta.schema.autoMerge.enabled`: rows
    /// match the table by column name, and columns the table lacks are added
    /// to its schema in the same commit (Delta's `mergeSchema`).
    pub(crate) async fn insert_merging_schema(
        &self,
        name: &str,
        source: &str,
        overwrite: bool,
        progress: &mut dyn FnMut(crate::Progress),
    ) -> Result<Output> {
        let (_, snapshot) = self.catalog.get(name)?;
        let (schema, batches) = self.query_with_progress(source, progress).await?;
        let mut fields: Vec<datafusion::arrow::datatypes::Field> = snapshot
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut added = Vec::new();
        for f in schema.fields() {
            if !fields
                .iter()
                .any(|e| e.name().eq_ignore_ascii_case(f.name()))
            {
                fields.push(f.as_ref().clone().with_nullable(true));
                added.push(f.name().clone());
            }
        }
        let evolved = if added.is_empty() {
            None
        } else {
            let delta = lakelab_delta::schema::to_delta_schema(
                &datafusion::arrow::datatypes::Schema::new(fields),
            )?;
            Some(lakelab_delta::schema::schema_string(&delta)?)
        };
        self.insert_with(name, batches, overwrite, evolved).await
    }

    pub(crate) async fn insert(
        &self,
        name: &str,
        batches: Vec<RecordBatch>,
        overwrite: bool,
    ) -> Result<Output> {
        self.insert_with(name, batches, overwrite, None).await
    }

    /// Appends (or overwrites with) `batches`, first changing the table's
    /// schema to `evolved_schema` if given, all in one commit.
    async fn insert_with(
        &self,
        name: &str,
        batches: Vec<RecordBatch>,
        overwrite: bool,
        evolved_schema: Option<String>,
    ) -> Result<Output> {
        let (table, current) = self.catalog.get(name)?;
        if overwrite {
            refuse_if_append_only(name, &current, "INSERT OVERWRITE")?;
        }
        if let Some(skipped) = self.already_written(name, &current)? {
            return Ok(skipped);
        }
        // The rows are written in the evolved schema, if any.
        let evolved = evolved_schema.map(|schema_string| {
            let mut metadata = current.metadata.clone();
            metadata.schema_string = schema_string;
            metadata
        });
        let evolved_snapshot = match &evolved {
            Some(metadata) => Some(Table::pending_snapshot(
                current.protocol.clone(),
                metadata.clone(),
            )?),
            None => None,
        };
        let snapshot = evolved_snapshot.as_ref().unwrap_or(&current);
        let (batches, expectations) = self.apply_expectations(snapshot, batches).await?;
        let rows = self.checked_rows(snapshot, batches).await?;
        let count = total_rows(&rows);
        let adds = self.write_files(name, &table, snapshot, &rows).await?;
        let commit = Commit::new("WRITE", Some(current.version))
            .parameter("mode", if overwrite { "Overwrite" } else { "Append" })
            .parameter(
                "partitionBy",
                json!(snapshot.partition_columns()).to_string(),
            )
            .metric("numFiles", adds.len())
            .metric("numOutputRows", count)
            .metric("numOutputBytes", bytes(&adds));
        let mut commit = self.stamp_txn(crate::expectations::record(commit, &expectations));
        if let Some(metadata) = evolved {
            commit = commit.parameter("mergeSchema", "true");
            commit.actions.push(Action::Metadata(metadata));
        }
        if overwrite {
            let now = now_ms();
            commit.actions.extend(
                current
                    .files
                    .values()
                    .map(|a| Action::Remove(Remove::of(a, now, true))),
            );
        }
        commit.actions.extend(adds.into_iter().map(Action::Add));
        let outcome = self.commit(name, &table, commit).await?;
        let verb = if overwrite { "overwrote" } else { "inserted" };
        let mut message = format!(
            "{verb} {count} rows into {name} (version {})",
            outcome.version
        );
        if !expectations.is_empty() {
            message.push_str(&format!(
                "; expectations: {}",
                crate::expectations::summary(&expectations)
            ));
        }
        Ok(Output::rows(
            counts(&[("num_affected_rows", count), ("num_inserted_rows", count)])?,
            message,
        ))
    }

    pub(crate) async fn restore(&self, name: &str, to: &TimeTravel) -> Result<Output> {
        let (table, current) = self.catalog.get(name)?;
        let target = self.snapshot_as_of(&table, to).await?;
        // The real clock, not the (maybe simulated) commit clock.
        let started = chrono::Utc::now();
        let commit = table.restore_commit(&current, &target).await?;
        let metric = |k: &str| {
            commit
                .metrics
                .get(k)
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(0)
        };
        let batch = counts(&[
            ("table_size_after_restore", metric("tableSizeAfterRestore")),
            (
                "num_of_files_after_restore",
                metric("numOfFilesAfterRestore"),
            ),
            ("num_removed_files", metric("numRemovedFiles")),
            ("num_restored_files", metric("numRestoredFiles")),
            ("removed_files_size", metric("removedFilesSize")),
            ("restored_files_size", metric("restoredFilesSize")),
        ])?;
        let outcome = self.commit(name, &table, commit).await?;
        Ok(Output::rows(
            batch,
            format!(
                "restored {name} to version {} as version {} in {:.1} ms",
                target.version,
                outcome.version,
                (chrono::Utc::now() - started)
                    .num_microseconds()
                    .unwrap_or(0) as f64
                    / 1000.0
            ),
        ))
    }

    pub(crate) async fn query_with_progress(
        &self,
        sql: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let (plan, _travel) = self.planned_query(sql).await?;
        let schema = Arc::new(plan.schema().as_arrow().clone());
        let batches = self.run_plan(plan, progress).await?;
        Ok((schema, batches))
    }
}

/// ` - column : value` lines for an error message.
pub(crate) fn describe_row(batch: &RecordBatch) -> String {
    let options = FormatOptions::default().with_null("null");
    let mut lines = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if let Ok(f) = ArrayFormatter::try_new(column.as_ref(), &options) {
            lines.push(format!(" - {} : {}", field.name(), f.value(0)));
        }
    }
    lines.join("\n")
}
