//! Liquid clustering: `CREATE TABLE … CLUSTER BY (cols)` and `ALTER TABLE t
//! CLUSTER BY (cols) | NONE`. The columns are kept in the log (see
//! `lakelab_delta::clustering`); `OPTIMIZE` then clusters the files nobody
//! clustered yet along the same curve as ZORDER BY, and `OPTIMIZE … FULL`
//! reclusters every file (`optimize.rs`). Unlike partitions, the columns
//! can change at any time without rewriting the table.

use datafusion::arrow::datatypes::Schema;
use lakelab_delta::clustering::{self, MAX_COLUMNS};
use lakelab_delta::stats::has_min_max;
use lakelab_delta::{Action, Commit};

use crate::{Engine, EngineError, Output, Result};

/// Delta's `delta.dataSkippingNumIndexedCols` default: data columns past it have no stats.
pub(crate) const INDEXED_COLUMNS: usize = 32;

/// The clustering columns, lower-cased, refusing what Delta refuses: a
/// partitioned table, unknown or repeated columns, more than four, columns
/// without min/max statistics (clustering is only as good as the stats).
pub(crate) fn check_columns(
    name: &str,
    schema: &Schema,
    partition_columns: &[String],
    columns: &[String],
) -> Result<Vec<String>> {
    if !partition_columns.is_empty() {
        return Err(EngineError::Invalid(format!(
            "DELTA_CLUSTER_BY_WITH_PARTITIONED_BY: {name} is partitioned by ({}); clustering \
             and partitioning cannot both be specified",
            partition_columns.join(", ")
        )));
    }
    if columns.len() > MAX_COLUMNS {
        return Err(EngineError::Invalid(format!(
            "DELTA_CLUSTER_BY_INVALID_NUM_COLUMNS: CLUSTER BY takes at most {MAX_COLUMNS} \
             columns, not {}",
            columns.len()
        )));
    }
    let columns: Vec<String> = columns.iter().map(|c| c.to_lowercase()).collect();
    for (i, column) in columns.iter().enumerate() {
        if columns[..i].contains(column) {
            return Err(EngineError::Invalid(format!(
                "CLUSTER BY names {column} twice"
            )));
        }
        let index = schema.index_of(column).map_err(|_| {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            EngineError::Invalid(format!(
                "CLUSTER BY {column}: {name} has no such column (it has {})",
                names.join(", ")
            ))
        })?;
        let field = schema.field(index);
        if !has_min_max(field.data_type()) || index >= INDEXED_COLUMNS {
            return Err(EngineError::Invalid(format!(
                "DELTA_CLUSTERING_COLUMN_MISSING_STATS: {name}'s files keep no min/max \
                 statistics for {column} ({}), so clustering by it could not skip files",
                field.data_type()
            )));
        }
    }
    Ok(columns)
}

impl Engine {
    /// `ALTER TABLE t CLUSTER BY (cols)` or `… CLUSTER BY NONE` (`None`):
    /// changes the clustering columns; files are reclustered by the next
    /// OPTIMIZE, never by this statement.
    pub(crate) async fn cluster_by(
        &self,
        name: &str,
        columns: Option<&[String]>,
    ) -> Result<Output> {
        let (table, snapshot) = self.catalog.get(name)?;
        let current = clustering::columns(&snapshot)?;
        let columns = match columns {
            Some([]) => {
                return Err(EngineError::Invalid(
                    "CLUSTER BY needs at least one column (or NONE)".into(),
                ));
            }
            Some(columns) => check_columns(
                name,
                &snapshot.schema,
                snapshot.partition_columns(),
                columns,
            )?,
            None if current.is_none() => {
                return Err(EngineError::Invalid(format!(
                    "{name} is not clustered: there is nothing to set to NONE"
                )));
            }
            None => Vec::new(),
        };
        let mut commit = Commit::new("CLUSTER BY", Some(snapshot.version))
            .parameter(
                "oldClusteringColumns",
                current.unwrap_or_default().join(","),
            )
            .parameter("newClusteringColumns", columns.join(","));
        if let Some(protocol) = clustering::protocol_with_clustering(&snapshot.protocol) {
            commit.actions.push(Action::Protocol(protocol));
        }
        commit.actions.push(clustering::domain_action(&columns)?);
        let outcome = self.commit(name, &table, commit).await?;
        let what = if columns.is_empty() {
            "no longer clustered".to_owned()
        } else {
            format!("clustered by ({})", columns.join(", "))
        };
        Ok(Output::message(format!(
            "{name} is {what} from version {}; OPTIMIZE {name} clusters its files",
            outcome.version
        )))
    }
}
