//! Silver: one Delta table per source table, kept equal to it by a MERGE of
//! each micro-batch's newest change per key. Order is the binlog's (file,
//! position, row), never wall-clock time: two changes in the same
//! millisecond, or a change re-sent later by an at-least-once connector,
//! still apply in commit order, and an older change never overwrites a newer.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use lakelab_engine::Engine;

use crate::error::{Result, StreamError};
use crate::parse::RowChange;
use crate::row::position_near;
use crate::values::{Kind, json_column};

/// Silver's extra column: the binlog position of the row's last change.
pub const BINLOG_SEQ: &str = "_binlog_seq";
/// The change's operation, in the micro-batch view only.
const OP: &str = "_op";

/// `sales.orders` → `silver.sales_orders`.
pub fn silver_name(source: &str) -> String {
    format!("silver.{}", source.replace('.', "_"))
}

/// What one micro-batch does to one Silver table.
#[derive(Debug)]
pub struct TablePlan {
    pub source: String,
    pub silver: String,
    pub key_column: String,
    pub exists: bool,
    /// The table's columns after this batch (without `_binlog_seq`).
    pub columns: Vec<(String, Kind)>,
    /// Columns this batch adds (a source `ALTER TABLE … ADD COLUMN`).
    pub added: Vec<(String, Kind)>,
    /// The newest change of each key in the batch.
    pub changes: Vec<RowChange>,
}

/// The Silver table's columns, or `None` if it does not exist yet.
pub fn existing_columns(engine: &Engine, silver: &str) -> Result<Option<Vec<(String, Kind)>>> {
    let Some(schema) = engine.table_schema(silver)? else {
        return Ok(None);
    };
    Ok(Some(
        schema
            .fields()
            .iter()
            .filter(|f| f.name() != BINLOG_SEQ)
            .map(|f| {
                let kind = Kind::of_data_type(f.data_type()).unwrap_or(Kind::Text);
                (f.name().clone(), kind)
            })
            .collect(),
    ))
}

/// A table's Silver schema after a batch's changes were checked against it.
#[derive(Debug)]
pub struct Checked {
    key_column: String,
    exists: bool,
    columns: Vec<(String, Kind)>,
    added: Vec<(String, Kind)>,
}

/// Checks a table's changes against its Silver schema. A value whose type
/// the column cannot take is a bad record: nothing of the batch may be
/// written.
pub fn check(
    topic: &str,
    source: &str,
    changes: &[RowChange],
    existing: Option<Vec<(String, Kind)>>,
) -> Result<Checked> {
    let key_column = changes
        .first()
        .map(|c| c.key_column.to_string())
        .unwrap_or_default();
    let exists = existing.is_some();
    let mut columns = existing.unwrap_or_else(|| vec![(key_column.clone(), Kind::Int)]);
    let known = columns.len();
    let bad = |c: &RowChange, reason: String| StreamError::BadRecord {
        topic: topic.to_owned(),
        partition: c.partition,
        offset: c.offset,
        reason,
    };
    for c in changes {
        if *c.key_column != *key_column {
            return Err(bad(
                c,
                format!(
                    "the key is {} where earlier keys were {key_column}",
                    c.key_column
                ),
            ));
        }
        for (at, (name, value)) in c.row.iter().enumerate() {
            let kind = match Kind::of_json(value) {
                None => continue,
                Some(Ok(kind)) => kind,
                Some(Err(what)) => {
                    return Err(bad(
                        c,
                        format!("column {name} holds {what}, which Silver cannot store"),
                    ));
                }
            };
            match position_near(&columns, at, |(n, _)| n == name) {
                Some(i) if columns[i].1.accepts(kind) => {}
                // A column this batch adds: integers and doubles make doubles.
                Some(i) if i >= known && kind.accepts(columns[i].1) => columns[i].1 = kind,
                Some(i) => {
                    return Err(bad(
                        c,
                        format!(
                            "column {name} is {} in {} and this change carries a {}: a schema change that cannot be merged",
                            columns[i].1.sql_type(),
                            silver_name(source),
                            kind.sql_type()
                        ),
                    ));
                }
                None if is_identifier(name) => columns.push((name.to_owned(), kind)),
                None => {
                    return Err(bad(
                        c,
                        format!("column name {name:?} is not a plain identifier"),
                    ));
                }
            }
        }
    }
    let added = if exists {
        columns[known..].to_vec()
    } else {
        Vec::new()
    };
    Ok(Checked {
        key_column,
        exists,
        columns,
        added,
    })
}

/// The batch's plan for a table whose changes passed `check`: the newest
/// change per key.
pub fn plan(source: &str, checked: Checked, changes: Vec<RowChange>) -> TablePlan {
    let mut newest: HashMap<i64, RowChange> = HashMap::with_capacity(changes.len());
    for c in changes {
        match newest.get(&c.key) {
            Some(kept) if kept.seq > c.seq => {}
            _ => {
                newest.insert(c.key, c);
            }
        }
    }
    let mut changes: Vec<RowChange> = newest.into_values().collect();
    changes.sort_by_key(|c| c.key);
    TablePlan {
        source: source.to_owned(),
        silver: silver_name(source),
        key_column: checked.key_column,
        exists: checked.exists,
        columns: checked.columns,
        added: checked.added,
        changes,
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl TablePlan {
    /// `CREATE TABLE` for a Silver table this batch creates.
    pub fn create_sql(&self) -> Option<String> {
        if self.exists {
            return None;
        }
        Some(create_sql(&self.silver, &self.columns))
    }

    /// `ALTER TABLE … ADD COLUMNS` for the columns this batch adds.
    pub fn add_columns_sql(&self) -> Option<String> {
        if self.added.is_empty() {
            return None;
        }
        Some(format!(
            "ALTER TABLE {} ADD COLUMNS ({})",
            self.silver,
            column_definitions(&self.added)
        ))
    }

    /// The micro-batch's changes as rows: the columns, `_op`, `_binlog_seq`.
    pub fn changes_batch(&self) -> Result<RecordBatch> {
        let mut fields: Vec<Field> = self
            .columns
            .iter()
            .map(|(n, k)| Field::new(n, k.data_type(), true))
            .collect();
        fields.push(Field::new(OP, arrow::datatypes::DataType::Utf8, false));
        fields.push(Field::new(
            BINLOG_SEQ,
            arrow::datatypes::DataType::Int64,
            false,
        ));
        let mut arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .enumerate()
            .map(|(at, (name, kind))| {
                json_column(*kind, self.changes.iter().map(|c| c.row.get_near(at, name)))
            })
            .collect();
        arrays.push(Arc::new(StringArray::from_iter_values(
            self.changes.iter().map(|c| c.op.code()),
        )));
        arrays.push(Arc::new(Int64Array::from_iter_values(
            self.changes.iter().map(|c| c.seq),
        )));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| StreamError::Engine(lakelab_engine::EngineError::Invalid(e.to_string())))
    }

    /// The MERGE that applies the batch (registered as `view`): deletes,
    /// updates only when the change is newer than the row, inserts of keys
    /// not yet there (unless the newest change deletes them).
    pub fn merge_sql(&self, view: &str) -> String {
        merge_sql(&self.silver, &self.key_column, &self.columns, view)
    }
}

/// The Silver table for a source table with these columns.
pub fn create_sql(silver: &str, columns: &[(String, Kind)]) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {silver} ({}, {BINLOG_SEQ} BIGINT) USING DELTA",
        column_definitions(columns)
    )
}

/// `name TYPE, …` for a CREATE TABLE or ADD COLUMNS.
fn column_definitions(columns: &[(String, Kind)]) -> String {
    let definitions: Vec<String> = columns
        .iter()
        .map(|(n, k)| format!("{n} {}", k.sql_type()))
        .collect();
    definitions.join(", ")
}

/// The Silver MERGE for a table with these columns.
pub fn merge_sql(silver: &str, key: &str, columns: &[(String, Kind)], view: &str) -> String {
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    let set: Vec<String> = names
        .iter()
        .filter(|n| **n != key)
        .map(|n| format!("{n} = s.{n}"))
        .chain([format!("{BINLOG_SEQ} = s.{BINLOG_SEQ}")])
        .collect();
    let values: Vec<String> = names.iter().map(|n| format!("s.{n}")).collect();
    format!(
        "MERGE INTO {silver} AS t USING {view} AS s ON t.{key} = s.{key}\n\
         WHEN MATCHED AND s.{OP} = 'd' AND s.{BINLOG_SEQ} > t.{BINLOG_SEQ} THEN DELETE\n\
         WHEN MATCHED AND s.{BINLOG_SEQ} > t.{BINLOG_SEQ} THEN UPDATE SET {}\n\
         WHEN NOT MATCHED AND s.{OP} <> 'd' THEN INSERT ({}, {BINLOG_SEQ}) VALUES ({}, s.{BINLOG_SEQ})",
        set.join(", "),
        names.join(", "),
        values.join(", ")
    )
}
