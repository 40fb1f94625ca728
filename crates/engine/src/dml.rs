//! DELETE, UPDATE and MERGE: copy-on-write. The statement's predicate runs
//! over the table with each row's file number attached; files holding a
//! changed row are rewritten (their other rows copied), all in one commit.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, UInt32Array, UInt64Array,
};
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::compute::{and, filter_record_batch, is_null, not, nullif};
use datafusion::arrow::datatypes::{
    DataType, Field, Int64Type, Schema, SchemaRef, UInt32Type, UInt64Type,
};
use datafusion::catalog::MemTable;
use datafusion::datasource::TableProvider;
use datafusion::sql::sqlparser::ast::{
    AssignmentTarget, Delete, FromTable, Ident, TableFactor, TableWithJoins, Update,
};
use lakelab_delta::data::fit;
use lakelab_delta::{Action, Add, Commit, Remove, Snapshot, Table, now_ms};
use serde_json::json;

use crate::delta_sql::{Merge, MergeClause};
use crate::provider::DeltaProvider;
use crate::sql_text::{object_table_name, quote};
use crate::temporary::TemporaryTables;
use crate::write::{counts, refuse_if_append_only};
use crate::{Engine, EngineError, Output, Result, real_now_ms};

const TARGET: &str = "__lakelab_target";
const SOURCE: &str = "__lakelab_merge_source";
const SOURCE_FLAG: &str = "__lakelab_source";
const FILE: &str = "__lakelab_file";
const ROW: &str = "__lakelab_row";
/// A MERGE's joined row: the matched clause that applies, and the insert clause.
const ACTION: &str = "__lakelab_action";
const INSERT: &str = "__lakelab_insert";

/// The statement's single target table and the name its columns are qualified by.
fn single_table(tables: &[TableWithJoins]) -> Result<(String, String)> {
    match tables {
        [
            TableWithJoins {
                relation: TableFactor::Table { name, alias, .. },
                joins,
            },
        ] if joins.is_empty() => {
            let table = object_table_name(name)?;
            let qualifier = alias.as_ref().map_or_else(
                || crate::catalog::short_name(&table).to_owned(),
                |a| a.name.value.clone(),
            );
            Ok((table, qualifier))
        }
        _ => Err(EngineError::Unsupported(
            "DELETE and UPDATE take exactly one table".into(),
        )),
    }
}

/// The query for the rows of some files that `predicate` does not match:
/// what DELETE and REPLACE WHERE keep of the files they rewrite.
fn rows_not_matching<'a>(
    qualifier: &'a str,
    predicate: &'a str,
) -> impl Fn(&[String], &str) -> String + 'a {
    move |columns, files| {
        let columns: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        format!(
            "SELECT {} FROM {TARGET} AS {} WHERE {FILE} IN ({files}) AND NOT coalesce(({predicate}), false)",
            columns.join(", "),
            quote(qualifier)
        )
    }
}

/// A rewrite of some files: rows to write in their place.
struct Rewrite {
    removed: Vec<Add>,
    rows: Vec<RecordBatch>,
}

impl Engine {
    /// Registers the table's rows with two extra columns: the file each row
    /// is in (its index in `provider.files`) and a row number.
    fn register_target(&self, provider: &DeltaProvider) -> Result<TemporaryTables<'_>> {
        let mut fields: Vec<Field> = provider
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(FILE, DataType::UInt32, false));
        fields.push(Field::new(ROW, DataType::UInt64, false));
        let schema = Arc::new(Schema::new(fields));
        let mut batches = Vec::new();
        let mut row = 0u64;
        for (i, file) in provider.files.iter().enumerate() {
            for batch in file.rows.batches() {
                let n = batch.num_rows();
                let mut columns = batch.columns().to_vec();
                columns.push(Arc::new(UInt32Array::from(vec![i as u32; n])));
                columns.push(Arc::new(UInt64Array::from_iter_values(row..row + n as u64)));
                row += n as u64;
                batches.push(RecordBatch::try_new(schema.clone(), columns)?);
            }
        }
        let mut temporary = TemporaryTables::new(&self.ctx);
        temporary.register(TARGET, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
        Ok(temporary)
    }

    /// The rows of a view made by `register_batches`, if `source` names one
    /// as it is: a CDC batch's MERGE then plans one query, not two.
    async fn view_rows(
        &self,
        source: &TableFactor,
    ) -> Result<Option<(SchemaRef, Vec<RecordBatch>)>> {
        let TableFactor::Table {
            name,
            args: None,
            version: None,
            sample: None,
            ..
        } = source
        else {
            return Ok(None);
        };
        let name = object_table_name(name)?;
        if self.catalog.contains(&name) {
            return Ok(None);
        }
        let Ok(provider) = self.ctx.table_provider(name.as_str()).await else {
            return Ok(None);
        };
        let Some(view) = provider.downcast_ref::<MemTable>() else {
            return Ok(None);
        };
        let mut rows = Vec::new();
        for partition in &view.batches {
            rows.extend(partition.read().await.iter().cloned());
        }
        Ok(Some((view.schema(), rows)))
    }

    /// The copy-on-write core of DELETE and UPDATE: finds the files holding a
    /// row that matches `predicate` and what rows should replace them
    /// (`select` writes that query from the columns and the file list).
    /// `None` if no row matches.
    async fn rewrite_matching(
        &self,
        name: &str,
        table: &Table,
        snapshot: &Snapshot,
        qualifier: &str,
        predicate: &str,
        select: &dyn Fn(&[String], &str) -> String,
    ) -> Result<Option<(i64, Rewrite)>> {
        let provider = self.catalog.provider(table, snapshot, name).await?;
        let _target = self.register_target(&provider)?;
        let matched = self.matches_per_file(qualifier, predicate).await?;
        let count: i64 = matched.values().sum();
        if count == 0 {
            return Ok(None);
        }
        let columns: Vec<String> = provider
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let (_, rows) = self.query(&select(&columns, &file_list(&matched))).await?;
        let removed = matched
            .keys()
            .map(|&i| provider.files[i as usize].add.clone())
            .collect();
        Ok(Some((count, Rewrite { removed, rows })))
    }

    /// Rows per file matching `predicate` (files with none are absent).
    async fn matches_per_file(
        &self,
        qualifier: &str,
        predicate: &str,
    ) -> Result<BTreeMap<u32, i64>> {
        let sql = format!(
            "SELECT {FILE}, count(*) FROM {TARGET} AS {} WHERE coalesce(({predicate}), false) GROUP BY {FILE}",
            quote(qualifier)
        );
        let (_, batches) = self.query(&sql).await?;
        let mut out = BTreeMap::new();
        for b in &batches {
            let files = b.column(0).as_primitive::<UInt32Type>();
            let n = b.column(1).as_primitive::<Int64Type>();
            for i in 0..b.num_rows() {
                out.insert(files.value(i), n.value(i));
            }
        }
        Ok(out)
    }

    /// Writes `rewrite`'s rows and commits them with the removal of the files they replace.
    async fn commit_rewrite(
        &self,
        name: &str,
        table: &Table,
        snapshot: &Snapshot,
        rewrite: Rewrite,
        commit: Commit,
    ) -> Result<(i64, usize, usize)> {
        let rows = self.checked_rows(snapshot, rewrite.rows).await?;
        let adds = self.write_files(name, table, snapshot, &rows).await?;
        let now = now_ms();
        let (added, removed) = (adds.len(), rewrite.removed.len());
        let mut commit = commit
            .metric("numAddedFiles", added)
            .metric("numRemovedFiles", removed)
            .metric("numAddedBytes", adds.iter().map(|a| a.size).sum::<i64>())
            .metric(
                "numRemovedBytes",
                rewrite.removed.iter().map(|a| a.size).sum::<i64>(),
            );
        commit.read.whole_table = true;
        commit.actions.extend(
            rewrite
                .removed
                .iter()
                .map(|a| Action::Remove(Remove::of(a, now, true))),
        );
        commit.actions.extend(adds.into_iter().map(Action::Add));
        let outcome = self.commit(name, table, commit).await?;
        Ok((outcome.version, added, removed))
    }

    pub(crate) async fn delete(&self, delete: &Delete) -> Result<Output> {
        let tables = match &delete.from {
            FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
        };
        let (name, qualifier) = single_table(tables)?;
        let (table, snapshot) = self.catalog.get(&name)?;
        refuse_if_append_only(&name, &snapshot, "DELETE")?;
        let started = real_now_ms();
        let predicate = delete
            .selection
            .as_ref()
            .map_or("TRUE".to_owned(), |e| e.to_string());
        let keep = rows_not_matching(&qualifier, &predicate);
        let Some((deleted, rewrite)) = self
            .rewrite_matching(&name, &table, &snapshot, &qualifier, &predicate, &keep)
            .await?
        else {
            return Ok(Output::rows(
                counts(&[("num_affected_rows", 0)])?,
                format!("no rows of {name} matched; nothing committed"),
            ));
        };
        let copied: i64 = rewrite.rows.iter().map(|b| b.num_rows() as i64).sum();
        let commit = Commit::new("DELETE", Some(snapshot.version))
            .parameter("predicate", json!([predicate]).to_string())
            .metric("numDeletedRows", deleted)
            .metric("numCopiedRows", copied)
            .metric("executionTimeMs", real_now_ms() - started);
        let (version, _, removed) = self
            .commit_rewrite(&name, &table, &snapshot, rewrite, commit)
            .await?;
        Ok(Output::rows(
            counts(&[("num_affected_rows", deleted)])?,
            format!(
                "deleted {deleted} rows from {name} ({removed} files rewritten, version {version})"
            ),
        ))
    }

    /// `INSERT INTO name REPLACE WHERE predicate query`: the rows matching
    /// `predicate` are replaced by the query's, in one commit. Every new row
    /// must match `predicate` (Delta's rule), or nothing is written.
    pub(crate) async fn replace_where(
        &self,
        name: &str,
        predicate: &str,
        query: &str,
    ) -> Result<Output> {
        let (table, snapshot) = self.catalog.get(name)?;
        refuse_if_append_only(name, &snapshot, "INSERT … REPLACE WHERE")?;
        if let Some(skipped) = self.already_written(name, &snapshot)? {
            return Ok(skipped);
        }
        let started = real_now_ms();
        let (schema, new_rows) = self.query(query).await?;
        let qualifier = crate::catalog::short_name(name).to_owned();
        {
            let mut temporary = TemporaryTables::new(&self.ctx);
            temporary.register(
                SOURCE,
                Arc::new(MemTable::try_new(schema, vec![new_rows.clone()])?),
            )?;
            let (_, outside) = self
                .query(&format!(
                    "SELECT count(*) FROM {SOURCE} AS {} WHERE NOT coalesce(({predicate}), false)",
                    quote(&qualifier)
                ))
                .await?;
            let outside = outside
                .first()
                .filter(|b| b.num_rows() > 0)
                .map_or(0, |b| b.column(0).as_primitive::<Int64Type>().value(0));
            if outside > 0 {
                return Err(EngineError::Invalid(format!(
                    "DELTA_REPLACE_WHERE_MISMATCH: {outside} written rows do not match the replaceWhere predicate {predicate}; nothing committed"
                )));
            }
        }
        let keep = rows_not_matching(&qualifier, predicate);
        let (replaced, mut rewrite) = self
            .rewrite_matching(name, &table, &snapshot, &qualifier, predicate, &keep)
            .await?
            .unwrap_or((
                0,
                Rewrite {
                    removed: Vec::new(),
                    rows: Vec::new(),
                },
            ));
        let written: i64 = new_rows.iter().map(|b| b.num_rows() as i64).sum();
        rewrite.rows.extend(new_rows);
        let commit = Commit::new("WRITE", Some(snapshot.version))
            .parameter("mode", "Overwrite")
            .parameter("predicate", json!([predicate]).to_string())
            .metric("numOutputRows", written)
            .metric("numDeletedRows", replaced)
            .metric("executionTimeMs", real_now_ms() - started);
        let commit = self.stamp_txn(commit);
        let (version, added, removed) = self
            .commit_rewrite(name, &table, &snapshot, rewrite, commit)
            .await?;
        Ok(Output::rows(
            counts(&[
                ("num_affected_rows", written),
                ("num_inserted_rows", written),
            ])?,
            format!(
                "replaced {replaced} rows of {name} matching {predicate} with {written} ({removed} files removed, {added} written, version {version})"
            ),
        ))
    }

    pub(crate) async fn update(&self, update: &Update) -> Result<Output> {
        if update.from.is_some() {
            return Err(EngineError::Unsupported(
                "UPDATE … FROM: use MERGE INTO".into(),
            ));
        }
        let (name, qualifier) = single_table(std::slice::from_ref(&update.table))?;
        let (table, snapshot) = self.catalog.get(&name)?;
        refuse_if_append_only(&name, &snapshot, "UPDATE")?;
        let started = real_now_ms();
        let predicate = update
            .selection
            .as_ref()
            .map_or("TRUE".to_owned(), |e| e.to_string());
        let mut set: BTreeMap<String, String> = BTreeMap::new();
        for a in &update.assignments {
            let AssignmentTarget::ColumnName(column) = &a.target else {
                return Err(EngineError::Unsupported("UPDATE SET (a, b) = …".into()));
            };
            let column = column_of(&snapshot, column.0.last().and_then(|p| p.as_ident()))?;
            set.insert(column, a.value.to_string());
        }
        let updated_rows = |columns: &[String], files: &str| {
            let projection: Vec<String> = columns
                .iter()
                .map(|column| match set.get(column) {
                    Some(value) => format!(
                        "CASE WHEN coalesce(({predicate}), false) THEN ({value}) ELSE {} END AS {}",
                        quote(column),
                        quote(column)
                    ),
                    None => quote(column),
                })
                .collect();
            format!(
                "SELECT {} FROM {TARGET} AS {} WHERE {FILE} IN ({files})",
                projection.join(", "),
                quote(&qualifier)
            )
        };
        let Some((updated, rewrite)) = self
            .rewrite_matching(
                &name,
                &table,
                &snapshot,
                &qualifier,
                &predicate,
                &updated_rows,
            )
            .await?
        else {
            return Ok(Output::rows(
                counts(&[("num_affected_rows", 0)])?,
                format!("no rows of {name} matched; nothing committed"),
            ));
        };
        let total: i64 = rewrite.rows.iter().map(|b| b.num_rows() as i64).sum();
        let commit = Commit::new("UPDATE", Some(snapshot.version))
            .parameter("predicate", json!([predicate]).to_string())
            .metric("numUpdatedRows", updated)
            .metric("numCopiedRows", total - updated)
            .metric("executionTimeMs", real_now_ms() - started);
        let (version, _, removed) = self
            .commit_rewrite(&name, &table, &snapshot, rewrite, commit)
            .await?;
        Ok(Output::rows(
            counts(&[("num_affected_rows", updated)])?,
            format!(
                "updated {updated} rows of {name} ({removed} files rewritten, version {version})"
            ),
        ))
    }

    pub(crate) async fn merge(&self, merge: Merge) -> Result<Output> {
        let name = object_table_name(&merge.target)?;
        let t = merge.target_alias.as_ref().map_or_else(
            || crate::catalog::short_name(&name).to_owned(),
            |a| a.value.clone(),
        );
        let (table, snapshot) = self.catalog.get(&name)?;
        if let Some(skipped) = self.already_written(&name, &snapshot)? {
            return Ok(skipped);
        }
        let has_matched = merge
            .clauses
            .iter()
            .any(|c| !matches!(c, MergeClause::Insert { .. }));
        if has_matched {
            refuse_if_append_only(&name, &snapshot, "MERGE with WHEN MATCHED")?;
        }
        let started = real_now_ms();
        let (source_sql, s) = source_relation(&merge.source)?;
        let provider = self.catalog.provider(&table, &snapshot, &name).await?;
        let mut temporary = self.register_target(&provider)?;
        // The source runs once, before anything changes (it may read the target).
        let (source_schema, source_batches) = match self.view_rows(&merge.source).await? {
            Some(rows) => rows,
            None => self.query(&format!("SELECT * FROM {source_sql}")).await?,
        };
        let source_rows: i64 = source_batches.iter().map(|b| b.num_rows() as i64).sum();
        temporary.register(
            SOURCE,
            Arc::new(MemTable::try_new(
                source_schema.clone(),
                vec![source_batches],
            )?),
        )?;
        let source = format!(
            "(SELECT *, TRUE AS {SOURCE_FLAG} FROM {SOURCE}) AS {}",
            quote(&s)
        );
        let target = format!("{TARGET} AS {}", quote(&t));
        let on = merge.on.to_string();

        // What each (target row, source row) pair does: -1 for a target row
        // no source row matches, 0 for a match no clause applies to, else
        // the number of the matched clause that applies.
        let matched: Vec<(usize, &MergeClause)> = merge
            .clauses
            .iter()
            .enumerate()
            .filter(|(_, c)| !matches!(c, MergeClause::Insert { .. }))
            .collect();
        let action = first_clause(
            &format!("CASE WHEN {}.{SOURCE_FLAG} IS NULL THEN -1", quote(&s)),
            &matched,
        );
        // Which NOT MATCHED clause inserts a source row no target row matches (0: none).
        let inserts: Vec<(usize, &MergeClause)> = merge
            .clauses
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, MergeClause::Insert { .. }))
            .collect();
        let insert = if inserts.is_empty() {
            "0".to_owned()
        } else {
            first_clause("CASE", &inserts)
        };
        for (_, clause) in &inserts {
            if let MergeClause::Insert {
                columns: Some(names),
                ..
            } = clause
            {
                for n in names {
                    column_of(&snapshot, Some(n))?;
                }
            }
        }

        // One query joins both sides and computes each clause's choice and
        // every value a clause may write; `Picks` then assembles the output
        // columns. (Small MERGEs, as a CDC batch makes, spend most of their
        // time planning, and a CASE per column made DataFusion's physical
        // optimizer rebuild large expressions over and over.)
        let columns: Vec<String> = provider
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut projection = vec![
            format!("{}.{FILE} AS {FILE}", quote(&t)),
            format!("{}.{ROW} AS {ROW}", quote(&t)),
            format!("{action} AS {ACTION}"),
            format!("{insert} AS {INSERT}"),
        ];
        let mut picks = Vec::with_capacity(columns.len());
        for column in &columns {
            let mut pick = Pick {
                kept: projection.len(),
                ..Pick::default()
            };
            projection.push(format!("{}.{}", quote(&t), quote(column)));
            for (i, clause) in &matched {
                let MergeClause::Update { assignments, .. } = clause else {
                    continue;
                };
                let value = match assignments {
                    None => source_column(&source_schema, column, &s)?,
                    Some(list) => match list
                        .iter()
                        .find(|a| assigned_column(a) == Some(column.as_str()))
                    {
                        Some(a) => format!("({})", a.value),
                        None => continue,
                    },
                };
                pick.updates.push((*i as i64 + 1, projection.len()));
                projection.push(value);
            }
            for (i, clause) in &inserts {
                let MergeClause::Insert {
                    columns: names,
                    values,
                    ..
                } = clause
                else {
                    continue;
                };
                let value = match names {
                    None => source_column(&source_schema, column, &s)?,
                    Some(names) => match names.iter().position(|n| ident_is(n, column)) {
                        Some(p) => format!("({})", values[p]),
                        None => "NULL".into(),
                    },
                };
                pick.inserts.push((*i as i64 + 1, projection.len()));
                projection.push(value);
            }
            picks.push(pick);
        }
        // Unique names: a value may repeat another's text.
        let projection: Vec<String> = projection
            .into_iter()
            .enumerate()
            .map(|(i, e)| match i {
                0..4 => e,
                _ => format!("{e} AS __lakelab_v{i}"),
            })
            .collect();
        let join = if inserts.is_empty() { "LEFT" } else { "FULL" };
        let sql = format!(
            "SELECT {} FROM {target} {join} JOIN {source} ON {on}",
            projection.join(", ")
        );
        let (_, values) = self.query(&sql).await?;
        let joined = values
            .iter()
            .map(|b| assemble(b, &picks, &provider.schema))
            .collect::<Result<Vec<_>>>()?;
        let deletes: Vec<i64> = matched
            .iter()
            .filter(|(_, c)| matches!(c, MergeClause::Delete { .. }))
            .map(|(i, _)| *i as i64 + 1)
            .collect();
        let only_unconditional_delete = matches!(
            matched.as_slice(),
            [(_, MergeClause::Delete { condition: None })]
        );
        let one_match_per_row = !matched.is_empty() && !only_unconditional_delete;
        let MergeOutcome {
            touched,
            updated,
            deleted,
            rows,
            rewritten,
            inserted,
        } = MergeOutcome::of(&joined, &deletes, one_match_per_row)?;
        if touched.is_empty() && inserted == 0 {
            return Ok(Output::rows(
                counts(&[
                    ("num_affected_rows", 0),
                    ("num_updated_rows", 0),
                    ("num_deleted_rows", 0),
                    ("num_inserted_rows", 0),
                ])?,
                format!("MERGE changed no rows of {name}; nothing committed"),
            ));
        }
        let copied = rewritten - updated;
        let clause_json = |c: &MergeClause| {
            let (kind, condition) = match c {
                MergeClause::Update { condition, .. } => ("update", condition),
                MergeClause::Delete { condition } => ("delete", condition),
                MergeClause::Insert { condition, .. } => ("insert", condition),
            };
            let mut o = serde_json::Map::new();
            if let Some(p) = condition {
                o.insert("predicate".into(), json!(p.to_string()));
            }
            o.insert("actionType".into(), json!(kind));
            serde_json::Value::Object(o)
        };
        let matched_json: Vec<_> = matched.iter().map(|(_, c)| clause_json(c)).collect();
        let inserts_json: Vec<_> = inserts.iter().map(|(_, c)| clause_json(c)).collect();
        let rewrite = Rewrite {
            removed: touched
                .keys()
                .map(|&i| provider.files[i as usize].add.clone())
                .collect(),
            rows,
        };
        let commit = Commit::new("MERGE", Some(snapshot.version))
            .parameter("predicate", json!([on]).to_string())
            .parameter("matchedPredicates", json!(matched_json).to_string())
            .parameter("notMatchedPredicates", json!(inserts_json).to_string())
            .metric("numSourceRows", source_rows)
            .metric("numTargetRowsInserted", inserted)
            .metric("numTargetRowsUpdated", updated)
            .metric("numTargetRowsDeleted", deleted)
            .metric("numTargetRowsCopied", copied)
            .metric("numOutputRows", rewritten + inserted)
            .metric("executionTimeMs", real_now_ms() - started);
        let commit = self.stamp_txn(commit);
        let (version, added, removed) = self
            .commit_rewrite(&name, &table, &snapshot, rewrite, commit)
            .await?;
        let affected = inserted + updated + deleted;
        Ok(Output::rows(
            counts(&[
                ("num_affected_rows", affected),
                ("num_updated_rows", updated),
                ("num_deleted_rows", deleted),
                ("num_inserted_rows", inserted),
            ])?,
            format!(
                "merged into {name}: {updated} updated, {deleted} deleted, {inserted} inserted \
                 ({removed} files rewritten, {added} written, version {version})"
            ),
        ))
    }
}

/// `prefix` followed by an arm per clause (numbered from 1 in the
/// statement's order) taken when its condition holds, else 0.
fn first_clause(prefix: &str, clauses: &[(usize, &MergeClause)]) -> String {
    let mut case = prefix.to_owned();
    for (i, clause) in clauses {
        let (MergeClause::Update { condition, .. }
        | MergeClause::Delete { condition }
        | MergeClause::Insert { condition, .. }) = clause;
        let condition = condition
            .as_ref()
            .map_or("TRUE".into(), |c| format!("coalesce(({c}), false)"));
        case.push_str(&format!(" WHEN {condition} THEN {}", i + 1));
    }
    case + " ELSE 0 END"
}

/// Where an output column's values come from in the MERGE's joined rows:
/// the target's value, replaced where a matched clause updates it, or where
/// the row is an insert by the insert clause's value.
#[derive(Default)]
struct Pick {
    kept: usize,
    /// (clause number, column) per UPDATE clause that assigns the column.
    updates: Vec<(i64, usize)>,
    /// (clause number, column) per INSERT clause.
    inserts: Vec<(i64, usize)>,
}

/// The joined rows as file, row, action, insert, then the table's columns.
fn assemble(values: &RecordBatch, picks: &[Pick], table: &Schema) -> Result<RecordBatch> {
    let is_insert = is_null(values.column(1))?;
    let is_match = not(&is_insert)?;
    // The rows each clause writes, found once for every column it assigns.
    let updates = chosen_rows(
        values.column(2),
        &is_match,
        picks.iter().flat_map(|p| &p.updates),
    )?;
    let inserts = chosen_rows(
        values.column(3),
        &is_insert,
        picks.iter().flat_map(|p| &p.inserts),
    )?;
    let mut fields: Vec<Field> = [FILE, ROW, ACTION, INSERT]
        .iter()
        .enumerate()
        .map(|(i, name)| Field::new(*name, values.schema().field(i).data_type().clone(), true))
        .collect();
    let mut arrays: Vec<ArrayRef> = values.columns()[..4].to_vec();
    for (pick, field) in picks.iter().zip(table.fields()) {
        let mut column = fit(values.column(pick.kept), field)?;
        for (clause, i) in &pick.updates {
            column = choose(column, &updates[clause], values.column(*i), field)?;
        }
        for (clause, i) in &pick.inserts {
            column = choose(column, &inserts[clause], values.column(*i), field)?;
        }
        fields.push(Field::new(field.name(), field.data_type().clone(), true));
        arrays.push(column);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

/// Rows a clause writes (and the others), by clause number: among `rows`,
/// those whose `clauses` column holds the number.
fn chosen_rows<'a>(
    clauses: &ArrayRef,
    rows: &BooleanArray,
    picked: impl Iterator<Item = &'a (i64, usize)>,
) -> Result<HashMap<i64, (BooleanArray, BooleanArray)>> {
    let mut chosen = HashMap::new();
    for (clause, _) in picked {
        if !chosen.contains_key(clause) {
            let rows = and(rows, &eq(clauses, &Int64Array::new_scalar(*clause))?)?;
            let others = not(&rows)?;
            chosen.insert(*clause, (rows, others));
        }
    }
    Ok(chosen)
}

/// `column` with `value` where the clause writes. A value is cast to the
/// column's type only there (one that does not fit fails the MERGE only if
/// it would land).
fn choose(
    column: ArrayRef,
    (rows, others): &(BooleanArray, BooleanArray),
    value: &ArrayRef,
    field: &Field,
) -> Result<ArrayRef> {
    let value = fit(&nullif(value, others)?, field)?;
    Ok(zip(rows, &value, &column)?)
}

/// What a MERGE's joined rows come to.
struct MergeOutcome {
    /// Rows changed per file, for the files to rewrite.
    touched: BTreeMap<u32, i64>,
    updated: i64,
    deleted: i64,
    /// What to write: the rows of touched files that stay, then inserts.
    rows: Vec<RecordBatch>,
    rewritten: i64,
    inserted: i64,
}

impl MergeOutcome {
    /// `joined` has the file, row, action and insert columns first, then the
    /// table's; `deletes` are the numbers of the DELETE clauses.
    fn of(joined: &[RecordBatch], deletes: &[i64], one_match_per_row: bool) -> Result<Self> {
        let meta = |b: &RecordBatch| {
            (
                b.column(0).as_primitive::<UInt32Type>().clone(),
                b.column(1).as_primitive::<UInt64Type>().clone(),
                b.column(2).as_primitive::<Int64Type>().clone(),
                b.column(3).as_primitive::<Int64Type>().clone(),
            )
        };
        // Each matched target row: its file, the clause that applies, and
        // how many source rows match it.
        let mut per_row: HashMap<u64, (u32, i64, usize)> = HashMap::new();
        for b in joined {
            let (files, rows, actions, _) = meta(b);
            for i in 0..b.num_rows() {
                if rows.is_null(i) || actions.value(i) < 0 {
                    continue;
                }
                let entry = per_row
                    .entry(rows.value(i))
                    .or_insert((files.value(i), 0, 0));
                entry.1 = entry.1.max(actions.value(i));
                entry.2 += 1;
            }
        }
        if one_match_per_row && per_row.values().any(|(_, _, n)| *n > 1) {
            return Err(EngineError::MergeAmbiguous);
        }
        let (mut touched, mut updated, mut deleted) = (BTreeMap::new(), 0, 0);
        for (file, action, _) in per_row.values() {
            if *action == 0 {
                continue;
            }
            *touched.entry(*file).or_default() += 1;
            if deletes.contains(action) {
                deleted += 1;
            } else {
                updated += 1;
            }
        }
        let (mut rows, mut rewritten, mut inserted) = (Vec::new(), 0, 0);
        for b in joined {
            let (files, target_rows, actions, inserts) = meta(b);
            let keep: BooleanArray = (0..b.num_rows())
                .map(|i| {
                    Some(if target_rows.is_null(i) {
                        inserts.value(i) != 0
                    } else {
                        touched.contains_key(&files.value(i))
                            && !deletes.contains(&actions.value(i))
                    })
                })
                .collect();
            let kept = filter_record_batch(b, &keep)?;
            let new = kept.column(1).null_count() as i64;
            inserted += new;
            rewritten += kept.num_rows() as i64 - new;
            rows.push(kept.project(&(4..b.num_columns()).collect::<Vec<_>>())?);
        }
        Ok(Self {
            touched,
            updated,
            deleted,
            rows,
            rewritten,
            inserted,
        })
    }
}

/// The column `ident` names in the table (case-insensitively), or an error.
fn column_of(snapshot: &Snapshot, ident: Option<&Ident>) -> Result<String> {
    let wanted = ident.map(|i| i.value.clone()).unwrap_or_default();
    snapshot
        .schema
        .fields()
        .iter()
        .find(|f| f.name().eq_ignore_ascii_case(&wanted))
        .map(|f| f.name().clone())
        .ok_or_else(|| EngineError::Invalid(format!("column '{wanted}' is not in the table")))
}

fn ident_is(ident: &Ident, column: &str) -> bool {
    ident.value.eq_ignore_ascii_case(column)
}

fn assigned_column(a: &datafusion::sql::sqlparser::ast::Assignment) -> Option<&str> {
    match &a.target {
        AssignmentTarget::ColumnName(name) => name.0.last()?.as_ident().map(|i| i.value.as_str()),
        AssignmentTarget::Tuple(_) => None,
    }
}

/// `s.column` for `UPDATE SET *` / `INSERT *`, which need the source to have it.
fn source_column(source: &Schema, column: &str, s: &str) -> Result<String> {
    source
        .fields()
        .iter()
        .find(|f| f.name().eq_ignore_ascii_case(column))
        .map(|f| format!("{}.{}", quote(s), quote(f.name())))
        .ok_or_else(|| {
            EngineError::Invalid(format!(
                "UPDATE SET * / INSERT * need source column '{column}' for the target column of that name"
            ))
        })
}

/// The MERGE source as a subquery, and the name its columns go by. The
/// source keeps its own alias inside, so `(VALUES …) AS s(a, b)` keeps its
/// column names.
fn source_relation(source: &TableFactor) -> Result<(String, String)> {
    let alias = match source {
        TableFactor::Table { name, alias, .. } => alias.as_ref().map_or_else(
            || {
                name.0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.clone())
                    .unwrap_or_default()
            },
            |a| a.name.value.clone(),
        ),
        TableFactor::Derived { alias, .. } => alias
            .as_ref()
            .map(|a| a.name.value.clone())
            .ok_or_else(|| EngineError::Invalid("a MERGE source subquery needs an alias".into()))?,
        other => return Err(EngineError::Unsupported(format!("MERGE source {other}"))),
    };
    Ok((format!("(SELECT * FROM {source})"), alias))
}

fn file_list(files: &BTreeMap<u32, i64>) -> String {
    files
        .keys()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
