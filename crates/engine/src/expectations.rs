//! Expectations, the Delta Live Tables idea: declared on a table, checked on
//! every load into it. A failing row is kept and counted (warn), left out and
//! counted (drop), or rejects the whole load (fail). Each load's counts are
//! recorded with its commit, in `operationMetrics`.
//!
//! Expectations live in the table's properties (`lakelab.expectations.<name>`),
//! so they travel with the table; other Delta readers ignore them.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::catalog::MemTable;
use lakelab_delta::{Action, Commit, Snapshot};
use serde_json::json;

use crate::delta_sql::OnViolation;
use crate::temporary::TemporaryTables;
use crate::write::describe_row;
use crate::{Engine, EngineError, Output, Result};

const PREFIX: &str = "lakelab.expectations.";
const LOAD: &str = "__lakelab_load";

#[derive(Debug, Clone)]
pub(crate) struct Expectation {
    pub name: String,
    pub expr: String,
    pub on_violation: OnViolation,
}

/// What one expectation saw in one load.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub expectation: Expectation,
    pub passed: i64,
    pub failed: i64,
}

pub(crate) fn property_key(name: &str) -> String {
    format!("{PREFIX}{}", name.to_ascii_lowercase())
}

pub(crate) fn expectations(snapshot: &Snapshot) -> Vec<Expectation> {
    snapshot
        .metadata
        .configuration
        .iter()
        .filter_map(|(key, value)| {
            let name = key.strip_prefix(PREFIX)?;
            let value: serde_json::Value = serde_json::from_str(value.as_deref()?).ok()?;
            Some(Expectation {
                name: name.to_owned(),
                expr: value["expr"].as_str()?.to_owned(),
                on_violation: OnViolation::from_name(value["onViolation"].as_str()?)?,
            })
        })
        .collect()
}

/// The commit metrics of a load's expectations.
pub(crate) fn record(commit: Commit, checked: &[Checked]) -> Commit {
    checked.iter().fold(commit, |c, e| {
        let name = &e.expectation.name;
        c.metric(&format!("expectations.{name}.passedRecords"), e.passed)
            .metric(&format!("expectations.{name}.failedRecords"), e.failed)
    })
}

/// One line per expectation, for the statement's message.
pub(crate) fn summary(checked: &[Checked]) -> String {
    checked
        .iter()
        .map(|e| {
            let verb = match e.expectation.on_violation {
                OnViolation::Drop if e.failed > 0 => "dropped",
                _ => "flagged",
            };
            format!(
                "{}: {} passed, {} {verb}",
                e.expectation.name, e.passed, e.failed
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl Engine {
    pub(crate) async fn add_expectation(
        &self,
        name: &str,
        expectation: &str,
        expr: &str,
        on_violation: OnViolation,
    ) -> Result<Output> {
        let (table, snapshot) = self.catalog.get(name)?;
        // Checks that the expression runs on this table, and says how many
        // of today's rows would fail it.
        let sql = format!("SELECT count(*) FROM {name} WHERE NOT coalesce(({expr}), false)");
        let (_, counts) = self.query(&sql).await?;
        let failing = counts
            .first()
            .map_or(0, |b| b.column(0).as_primitive::<Int64Type>().value(0));
        let mut metadata = snapshot.metadata.clone();
        let value = json!({"expr": expr, "onViolation": on_violation.name()}).to_string();
        metadata
            .configuration
            .insert(property_key(expectation), Some(value));
        let mut commit = Commit::new("ADD EXPECTATION", Some(snapshot.version))
            .parameter("name", expectation)
            .parameter("expr", expr)
            .parameter("onViolation", on_violation.name());
        commit.actions.push(Action::Metadata(metadata));
        let outcome = self.commit(name, &table, commit).await?;
        Ok(Output::message(format!(
            "added expectation {expectation} EXPECT ({expr}) ON VIOLATION {} to {name} (version {}); \
             {failing} current rows would fail it",
            on_violation.name().to_uppercase(),
            outcome.version
        )))
    }

    /// Checks a load against the table's expectations: rows failing a `drop`
    /// expectation are left out; a failing `fail` expectation rejects the load.
    pub(crate) async fn apply_expectations(
        &self,
        snapshot: &Snapshot,
        batches: Vec<RecordBatch>,
    ) -> Result<(Vec<RecordBatch>, Vec<Checked>)> {
        let declared = expectations(snapshot);
        let Some(first) = batches.first() else {
            return Ok((batches, Vec::new()));
        };
        if declared.is_empty() {
            return Ok((batches, Vec::new()));
        }
        let schema = first.schema();
        let total: i64 = batches.iter().map(|b| b.num_rows() as i64).sum();
        let mut temporary = TemporaryTables::new(&self.ctx);
        temporary.register(LOAD, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
        let mut checked = Vec::new();
        for expectation in declared {
            let failing = format!(
                "SELECT * FROM {LOAD} WHERE NOT coalesce(({}), false)",
                expectation.expr
            );
            let (_, rows) = self.query(&failing).await?;
            let failed: i64 = rows.iter().map(|b| b.num_rows() as i64).sum();
            if expectation.on_violation == OnViolation::Fail && failed > 0 {
                let sample = rows
                    .iter()
                    .find(|b| b.num_rows() > 0)
                    .map(describe_row)
                    .unwrap_or_default();
                return Err(EngineError::ExpectationFailed {
                    name: expectation.name.clone(),
                    expr: expectation.expr.clone(),
                    failed,
                    total,
                    row: sample,
                });
            }
            checked.push(Checked {
                expectation,
                passed: total - failed,
                failed,
            });
        }
        let keep: Vec<String> = checked
            .iter()
            .filter(|c| c.expectation.on_violation == OnViolation::Drop)
            .map(|c| format!("coalesce(({}), false)", c.expectation.expr))
            .collect();
        let condition = if keep.is_empty() {
            "TRUE".to_owned()
        } else {
            keep.join(" AND ")
        };
        let (_, kept) = self
            .query(&format!("SELECT * FROM {LOAD} WHERE {condition}"))
            .await?;
        Ok((kept, checked))
    }
}
