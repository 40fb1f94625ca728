//! Statements that change a table's definition or housekeeping rather than
//! its rows: ALTER TABLE (constraints, NOT NULL, columns, properties),
//! VACUUM, and the Delta session settings.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::sql::sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, ColumnDef, Expr, SqlOption,
    TableConstraint, Value,
};
use lakelab_delta::schema::schema_string;
use lakelab_delta::{Action, Commit, Protocol, Snapshot, now_ms};
use serde_json::json;

use crate::sql_text::{object_table_name, quote};
use crate::{Engine, EngineError, Output, Result};

/// Delta's default and minimum safe retention: seven days.
const SAFE_RETENTION_HOURS: f64 = 168.0;
const RETENTION_CHECK: &str = "spark.databricks.delta.retentionDurationCheck.enabled";
const AUTO_MERGE: &str = "spark.databricks.delta.schema.autoMerge.enabled";
const SIMULATED_TIME: &str = "lakelab.simulated_time";
const TXN_APP_ID: &str = "spark.databricks.delta.write.txnAppId";
const TXN_VERSION: &str = "spark.databricks.delta.write.txnVersion";
const MAX_RECORDS_PER_FILE: &str = "spark.sql.files.maxRecordsPerFile";
const OPTIMIZE_MAX_FILE_SIZE: &str = "spark.databricks.delta.optimize.maxFileSize";

/// Rows a write buffers before it writes a file when no
/// `maxRecordsPerFile` is set: Spark writes a file per task; this bounds the
/// memory a large CREATE TABLE … AS SELECT holds instead.
pub(crate) const DEFAULT_RECORDS_PER_FILE: usize = 1_000_000;
/// Delta's default target size of the files OPTIMIZE writes: 1 GiB.
const DEFAULT_OPTIMIZE_FILE_SIZE: i64 = 1 << 30;

/// The Delta settings of a session.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub retention_check: bool,
    pub auto_merge: bool,
    /// Idempotent writes: the application and version the next writes carry
    /// (`spark.databricks.delta.write.txnAppId` / `txnVersion`).
    pub txn_app_id: Option<String>,
    pub txn_version: Option<i64>,
    /// Rows per data file a write produces at most (`spark.sql.files.maxRecordsPerFile`).
    pub records_per_file: usize,
    /// Bytes OPTIMIZE aims for per file (`spark.databricks.delta.optimize.maxFileSize`).
    pub optimize_file_size: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retention_check: true,
            auto_merge: false,
            txn_app_id: None,
            txn_version: None,
            records_per_file: DEFAULT_RECORDS_PER_FILE,
            optimize_file_size: DEFAULT_OPTIMIZE_FILE_SIZE,
        }
    }
}

/// A setting's whole-number value.
fn number(key: &str, value: &str) -> Result<i64> {
    value
        .parse()
        .map_err(|_| EngineError::Invalid(format!("{key} takes a whole number, not {value}")))
}

/// Hours in `interval 7 days` / `interval 168 hours` (a table property's form).
fn interval_hours(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    if !parts.next()?.eq_ignore_ascii_case("interval") {
        return None;
    }
    let n: f64 = parts.next()?.parse().ok()?;
    let unit = parts.next()?.to_ascii_lowercase();
    Some(match unit.trim_end_matches('s') {
        "week" => n * 168.0,
        "day" => n * 24.0,
        "hour" => n,
        "minute" => n / 60.0,
        "second" => n / 3600.0,
        _ => return None,
    })
}

fn with_metadata(snapshot: &Snapshot, operation: &str) -> (Commit, lakelab_delta::Metadata) {
    (
        Commit::new(operation, Some(snapshot.version)),
        snapshot.metadata.clone(),
    )
}

/// Protocol with writer version 3 at least: what CHECK constraints need.
fn with_check_constraints(protocol: &Protocol) -> Option<Protocol> {
    (protocol.min_writer_version < 3).then(|| Protocol {
        min_writer_version: 3,
        ..protocol.clone()
    })
}

impl Engine {
    /// `SET lakelab.simulated_time = '2024-01-15 14:00:00'` (or `'off'`):
    /// commits are stamped with that time, so a lab's history reads in the
    /// lab's own day.
    fn set_simulated_time(&self, value: &str) -> Result<Output> {
        if value.eq_ignore_ascii_case("off") {
            lakelab_delta::set_simulated_now(None);
            return Ok(Output::message("commits use the real time again".into()));
        }
        let at = crate::sql_text::parse_timestamp_ms(value)?;
        lakelab_delta::set_simulated_now(Some(at));
        Ok(Output::message(format!(
            "commits are stamped {value} (simulated time)"
        )))
    }

    pub(crate) fn set(&self, key: &str, value: &str) -> Result<Output> {
        if key.eq_ignore_ascii_case(SIMULATED_TIME) {
            return self.set_simulated_time(value);
        }
        if key.eq_ignore_ascii_case(TXN_APP_ID) {
            self.settings.borrow_mut().txn_app_id =
                Some(value.to_owned()).filter(|v| !v.is_empty());
            return Ok(Output::message(format!("{key} = {value}")));
        }
        if key.eq_ignore_ascii_case(TXN_VERSION) {
            let version: i64 = number(key, value)?;
            self.settings.borrow_mut().txn_version = Some(version);
            return Ok(Output::message(format!("{key} = {version}")));
        }
        if key.eq_ignore_ascii_case(MAX_RECORDS_PER_FILE) {
            // Spark's 0 (or less) means "no limit": here, the default chunk.
            let rows: i64 = number(key, value)?;
            self.settings.borrow_mut().records_per_file = usize::try_from(rows)
                .ok()
                .filter(|r| *r > 0)
                .unwrap_or(DEFAULT_RECORDS_PER_FILE);
            return Ok(Output::message(format!("{key} = {rows}")));
        }
        if key.eq_ignore_ascii_case(OPTIMIZE_MAX_FILE_SIZE) {
            let bytes: i64 = number(key, value)?;
            if bytes <= 0 {
                return Err(EngineError::Invalid(format!(
                    "{key} must be a positive number of bytes, not {value}"
                )));
            }
            self.settings.borrow_mut().optimize_file_size = bytes;
            return Ok(Output::message(format!("{key} = {bytes}")));
        }
        let on = match value.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(EngineError::Invalid(format!(
                    "{key} takes true or false, not {value}"
                )));
            }
        };
        let mut settings = self.settings.borrow_mut();
        if key.eq_ignore_ascii_case(RETENTION_CHECK) {
            settings.retention_check = on;
        } else if key.eq_ignore_ascii_case(AUTO_MERGE) {
            settings.auto_merge = on;
        } else {
            return Err(EngineError::Unsupported(format!(
                "unknown setting {key}; Lakelab knows {RETENTION_CHECK}, {AUTO_MERGE}, {TXN_APP_ID}, \
                 {TXN_VERSION}, {MAX_RECORDS_PER_FILE}, {OPTIMIZE_MAX_FILE_SIZE} and {SIMULATED_TIME}"
            )));
        }
        Ok(Output::message(format!("{key} = {on}")))
    }

    pub(crate) async fn alter_table(&self, alter: &AlterTable) -> Result<Output> {
        let name = object_table_name(&alter.name)?;
        let [operation] = alter.operations.as_slice() else {
            return Err(EngineError::Unsupported(
                "one ALTER TABLE operation at a time".into(),
            ));
        };
        let (table, snapshot) = self.catalog.get(&name)?;
        let mut protocol = None;
        let (commit, metadata, message) = match operation {
            AlterTableOperation::AddConstraint {
                constraint: TableConstraint::Check(check),
                ..
            } => {
                let Some(constraint) = check.name.as_ref().map(|n| n.value.clone()) else {
                    return Err(EngineError::Invalid(
                        "ADD CONSTRAINT needs a name: ADD CONSTRAINT c CHECK (…)".into(),
                    ));
                };
                let key = format!("delta.constraints.{}", constraint.to_ascii_lowercase());
                if snapshot.metadata.configuration.contains_key(&key) {
                    return Err(EngineError::Invalid(format!(
                        "constraint '{constraint}' already exists on {name}; DROP CONSTRAINT it first"
                    )));
                }
                let expr = check.expr.to_string();
                self.validate_existing(
                    &name,
                    &table,
                    &snapshot,
                    &expr,
                    &format!("the new CHECK constraint ({expr})"),
                )
                .await?;
                let (commit, mut metadata) = with_metadata(&snapshot, "ADD CONSTRAINT");
                metadata.configuration.insert(key, Some(expr.clone()));
                protocol = with_check_constraints(&snapshot.protocol);
                let commit = commit
                    .parameter("name", &constraint)
                    .parameter("expr", &expr);
                (
                    commit,
                    metadata,
                    format!("added constraint {constraint} CHECK ({expr}) to {name}"),
                )
            }
            AlterTableOperation::DropConstraint {
                if_exists,
                name: constraint,
                ..
            } => {
                let key = format!(
                    "delta.constraints.{}",
                    constraint.value.to_ascii_lowercase()
                );
                let (commit, mut metadata) = with_metadata(&snapshot, "DROP CONSTRAINT");
                let removed = metadata.configuration.remove(&key).or_else(|| {
                    let expectation = crate::expectations::property_key(&constraint.value);
                    metadata.configuration.remove(&expectation)
                });
                let Some(expr) = removed else {
                    return if *if_exists {
                        Ok(Output::message(format!(
                            "no constraint {constraint} on {name}; nothing done"
                        )))
                    } else {
                        Err(EngineError::Invalid(format!(
                            "constraint '{constraint}' does not exist on {name}"
                        )))
                    };
                };
                let commit = commit
                    .parameter("name", &constraint.value)
                    .parameter("expr", expr.unwrap_or_default());
                (
                    commit,
                    metadata,
                    format!("dropped constraint {constraint} from {name}"),
                )
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let field = snapshot
                    .schema
                    .fields()
                    .iter()
                    .find(|f| f.name().eq_ignore_ascii_case(&column_name.value))
                    .ok_or_else(|| {
                        EngineError::Invalid(format!("column '{column_name}' is not in {name}"))
                    })?;
                let nullable = match op {
                    AlterColumnOperation::SetNotNull => false,
                    AlterColumnOperation::DropNotNull => true,
                    other => {
                        return Err(EngineError::Unsupported(format!("ALTER COLUMN … {other}")));
                    }
                };
                if !nullable {
                    let check = format!("{} IS NOT NULL", quote(field.name()));
                    self.validate_existing(
                        &name,
                        &table,
                        &snapshot,
                        &check,
                        &format!("NOT NULL on {}", field.name()),
                    )
                    .await?;
                }
                let fields: Vec<Field> = snapshot
                    .schema
                    .fields()
                    .iter()
                    .map(|f| {
                        let f = f.as_ref().clone();
                        if f.name() == field.name() {
                            f.with_nullable(nullable)
                        } else {
                            f
                        }
                    })
                    .collect();
                let (commit, mut metadata) = with_metadata(&snapshot, "CHANGE COLUMN");
                metadata.schema_string = schema_string(&Schema::new(fields))?;
                let commit = commit.parameter(
                    "column",
                    json!({"name": field.name(), "nullable": nullable}).to_string(),
                );
                let what = if nullable {
                    "may now be null"
                } else {
                    "is now NOT NULL"
                };
                (
                    commit,
                    metadata,
                    format!("column {} of {name} {what}", field.name()),
                )
            }
            AlterTableOperation::AddColumn { column_def, .. } => {
                return self
                    .add_columns(&name, std::slice::from_ref(column_def))
                    .await;
            }
            AlterTableOperation::SetTblProperties { table_properties } => {
                let (commit, mut metadata) = with_metadata(&snapshot, "SET TBLPROPERTIES");
                let mut shown = serde_json::Map::new();
                for option in table_properties {
                    let SqlOption::KeyValue { key, value } = option else {
                        return Err(EngineError::Invalid(format!(
                            "expected 'key' = 'value', found {option}"
                        )));
                    };
                    let value = match value {
                        Expr::Value(v) => match &v.value {
                            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
                                s.clone()
                            }
                            other => other.to_string(),
                        },
                        other => other.to_string(),
                    };
                    if key.value.starts_with("delta.constraints.") {
                        return Err(EngineError::Invalid(
                            "use ALTER TABLE … ADD CONSTRAINT for constraints".into(),
                        ));
                    }
                    shown.insert(key.value.clone(), json!(value));
                    metadata
                        .configuration
                        .insert(key.value.clone(), Some(value));
                }
                let commit =
                    commit.parameter("properties", serde_json::Value::Object(shown).to_string());
                (commit, metadata, format!("set properties of {name}"))
            }
            other => return Err(EngineError::Unsupported(format!("ALTER TABLE … {other}"))),
        };
        let mut commit = commit;
        if let Some(p) = protocol {
            commit.actions.push(Action::Protocol(p));
        }
        commit.actions.push(Action::Metadata(metadata));
        let outcome = self.commit(&name, &table, commit).await?;
        Ok(Output::message(format!(
            "{message} (version {})",
            outcome.version
        )))
    }

    /// Fails if a current row of the table does not satisfy `check`.
    async fn validate_existing(
        &self,
        name: &str,
        table: &lakelab_delta::Table,
        snapshot: &Snapshot,
        check: &str,
        what: &str,
    ) -> Result<()> {
        let rows = table.read(snapshot, None).await?;
        match self
            .check_constraints(snapshot, &rows, &[("new".into(), check.to_owned())])
            .await
        {
            Err(EngineError::ConstraintViolated { row, .. }) => Err(EngineError::Invalid(format!(
                "rows of {name} violate {what}; nothing was changed. One of them:\n{row}"
            ))),
            other => other,
        }
    }

    pub(crate) async fn add_columns(&self, name: &str, columns: &[ColumnDef]) -> Result<Output> {
        let (table, snapshot) = self.catalog.get(name)?;
        let added = self.schema_of(columns).await?;
        let mut fields: Vec<Field> = snapshot
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for f in added.fields() {
            if fields
                .iter()
                .any(|e| e.name().eq_ignore_ascii_case(f.name()))
            {
                return Err(EngineError::Invalid(format!(
                    "column '{}' already exists in {name}",
                    f.name()
                )));
            }
            if !f.is_nullable() {
                return Err(EngineError::Invalid(format!(
                    "added column '{}' cannot be NOT NULL: existing rows have no value for it",
                    f.name()
                )));
            }
            fields.push(f.as_ref().clone());
        }
        let (mut commit, mut metadata) = with_metadata(&snapshot, "ADD COLUMNS");
        metadata.schema_string = schema_string(&Schema::new(fields))?;
        let names: Vec<&String> = added.fields().iter().map(|f| f.name()).collect();
        commit = commit.parameter("columns", json!(names).to_string());
        commit.actions.push(Action::Metadata(metadata));
        let outcome = self.commit(name, &table, commit).await?;
        Ok(Output::message(format!(
            "added {} column(s) to {name} (version {})",
            names.len(),
            outcome.version
        )))
    }

    pub(crate) async fn vacuum(
        &self,
        name: &str,
        retain_hours: Option<f64>,
        dry_run: bool,
    ) -> Result<Output> {
        let (table, snapshot) = self.catalog.get(name)?;
        let default_hours = snapshot
            .metadata
            .property("delta.deletedFileRetentionDuration")
            .and_then(interval_hours)
            .unwrap_or(SAFE_RETENTION_HOURS);
        let hours = retain_hours.unwrap_or(default_hours);
        let check = self.settings.borrow().retention_check;
        if check && hours < SAFE_RETENTION_HOURS {
            return Err(EngineError::Invalid(format!(
                "requirement failed: Are you sure you would like to vacuum files with such a low retention \
                 period ({hours} hours)? If you have writers that are currently writing to this table, there is \
                 a risk that you may corrupt the state of your Delta table, and time travel to older versions \
                 will fail. If you are certain that no operation is running on this table, turn this check off \
                 with SET {RETENTION_CHECK} = false. If you are not sure, use a value not less than \
                 \"{SAFE_RETENTION_HOURS} hours\"."
            )));
        }
        let now = now_ms();
        let cutoff = now - (hours * 3_600_000.0) as i64;
        let files = table
            .vacuum_candidates(&snapshot, cutoff, hours <= 0.0)
            .await?;
        let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        let output = |message: String| -> Result<Output> {
            let batch = RecordBatch::try_new(
                Arc::new(Schema::new(vec![Field::new("path", DataType::Utf8, false)])),
                vec![Arc::new(StringArray::from(paths.clone()))],
            )?;
            Ok(Output::rows(batch, message))
        };
        if dry_run {
            return output(format!(
                "{} files of {name} would be deleted (dry run)",
                paths.len()
            ));
        }
        let retention_ms = (hours * 3_600_000.0) as i64;
        let start = Commit::new("VACUUM START", Some(snapshot.version))
            .parameter("retentionCheckEnabled", check)
            .parameter("specifiedRetentionMillis", retention_ms)
            .parameter(
                "defaultRetentionMillis",
                (default_hours * 3_600_000.0) as i64,
            )
            .metric("numFilesToDelete", files.len())
            .metric(
                "sizeOfDataToDelete",
                files.iter().map(|f| f.size).sum::<u64>(),
            );
        let started = self.commit(name, &table, start).await?;
        let mut deleted = 0usize;
        let mut failure = None;
        for file in &files {
            match table.store().delete(&file.path).await {
                Ok(()) | Err(lakelab_store::Error::NotFound(_)) => deleted += 1,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.catalog.evict(&paths);
        let status = if failure.is_some() {
            "FAILED"
        } else {
            "COMPLETED"
        };
        let end = Commit::new("VACUUM END", Some(started.version))
            .parameter("status", status)
            .metric("numDeletedFiles", deleted)
            .metric("numVacuumedDirectories", 0);
        let ended = self.commit(name, &table, end).await;
        if let Some(e) = failure {
            return Err(e.into());
        }
        ended?;
        output(format!(
            "deleted {deleted} files of {name} no longer needed by versions within {hours} hours"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_intervals_parse() {
        assert_eq!(interval_hours("interval 7 days"), Some(168.0));
        assert_eq!(interval_hours("interval 1 hour"), Some(1.0));
        assert_eq!(interval_hours("7 days"), None);
    }
}
