//! Plain Parquet tables, and making them Delta in place — the migration
//! lab's subject. `CREATE TABLE … USING PARQUET AS SELECT` writes what a
//! legacy Spark or Hive job leaves: Hive-style `col=value` folders of
//! Parquet files and a `_SUCCESS` marker, no log. `CONVERT TO DELTA t
//! [NO STATISTICS] [PARTITIONED BY (col TYPE, …)]` writes a log over the
//! files already there, as Spark does: one commit adding every file with
//! its partition values and the statistics of its footer. Nothing is copied
//! or rewritten, so it costs a footer read per file whatever the data size.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use bytes::Bytes;
use datafusion::sql::sqlparser::ast::ColumnDef;
use lakelab_delta::paths::{parse_partition_segment, to_log_path};
use lakelab_delta::stats::file_stats;
use lakelab_delta::{Action, Add, Commit, Table, TableSpec, now_ms};
use parquet::arrow::parquet_to_arrow_schema;
use parquet::file::metadata::{FooterTail, ParquetMetaData, ParquetMetaDataReader};
use serde_json::json;

use crate::delta_sql::CreateTable;
use crate::{Engine, EngineError, Output, Progress, Result};

/// What a job that finished writing a Parquet folder leaves in it (Hadoop's
/// output committer); the catalog takes such a folder for a Parquet table.
pub(crate) const SUCCESS: &str = "_SUCCESS";

/// Why a Parquet table cannot be queried, and what to do.
pub(crate) fn parquet_table_reason(name: &str) -> String {
    format!(
        "a plain Parquet table (files in Hive-style folders, no Delta log): \
         CONVERT TO DELTA {name} makes it a Delta table in place"
    )
}

fn invalid(message: impl Into<String>) -> EngineError {
    EngineError::Invalid(message.into())
}

/// A data file found in a Parquet table's folder.
struct Found {
    path: String,
    relative: String,
    size: u64,
    partition_values: Vec<(String, Option<String>)>,
}

/// A Parquet file's footer, read with two range requests (its last 8
/// bytes, then the metadata they point at): converting reads no data.
async fn read_footer(
    store: &dyn lakelab_store::Store,
    path: &str,
    size: u64,
) -> std::result::Result<ParquetMetaData, String> {
    const TAIL: u64 = 8;
    if size < TAIL {
        return Err("shorter than a Parquet footer".into());
    }
    let tail = store
        .get_range(path, size - TAIL..size)
        .await
        .map_err(|e| e.to_string())?;
    let tail: [u8; TAIL as usize] = tail[..].try_into().map_err(|_| "no footer".to_owned())?;
    let length = FooterTail::try_new(&tail)
        .map_err(|e| e.to_string())?
        .metadata_length() as u64;
    let start = (size - TAIL)
        .checked_sub(length)
        .ok_or("its footer claims more bytes than the file has")?;
    let metadata = store
        .get_range(path, start..size - TAIL)
        .await
        .map_err(|e| e.to_string())?;
    ParquetMetaDataReader::decode_metadata(&metadata).map_err(|e| e.to_string())
}

impl Engine {
    /// `CREATE [OR REPLACE] TABLE name USING PARQUET [PARTITIONED BY (…)] AS SELECT …`.
    pub(crate) async fn create_parquet_table(
        &self,
        name: &str,
        create: &CreateTable,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Output> {
        let Some(query) = &create.query else {
            return Err(invalid(
                "a Parquet table is written by CREATE TABLE … USING PARQUET AS SELECT",
            ));
        };
        if self.catalog.contains(name) && !create.or_replace {
            return Err(EngineError::TableExists(name.to_owned()));
        }
        let (plan, _travel) = self.planned_query(&query.to_string()).await?;
        let schema: SchemaRef = Arc::new(plan.schema().as_arrow().clone());
        let spec = TableSpec {
            partition_columns: create.partition_columns(),
            configuration: Default::default(),
            description: None,
        };
        // The log this table will not have: only its layout is used to write.
        let (protocol, metadata) = Table::create_actions(&schema, &spec)?;
        let layout = Table::pending_snapshot(protocol, metadata)?;
        self.catalog.drop_files(name).await?;
        let table = self.catalog.delta_table(name);
        let (adds, rows) = self.write_streamed(&table, &layout, plan, progress).await?;
        table
            .store()
            .put(&format!("{}/{SUCCESS}", table.root()), Bytes::new())
            .await?;
        self.catalog.reload(name).await?;
        Ok(Output::message(format!(
            "wrote {rows} rows to {name} as plain Parquet ({} files{}), without a Delta log",
            adds.len(),
            if spec.partition_columns.is_empty() {
                String::new()
            } else {
                format!(" in folders by {}", spec.partition_columns.join(", "))
            }
        )))
    }

    /// `CONVERT TO DELTA name [NO STATISTICS] [PARTITIONED BY (col TYPE, …)]`.
    pub(crate) async fn convert_to_delta(
        &self,
        name: &str,
        statistics: bool,
        partitioned_by: &[ColumnDef],
    ) -> Result<Output> {
        let table = self.catalog.delta_table(name);
        let prefix = format!("{}/", table.root());
        let listed = table.store().list(&prefix).await?;
        if listed.iter().any(|m| m.path.contains("/_delta_log/")) {
            return Err(invalid(format!(
                "{name} is already a Delta table; nothing was converted"
            )));
        }
        let mut found = Vec::new();
        for meta in &listed {
            let relative = meta.path[prefix.len()..].to_owned();
            let segments: Vec<&str> = relative.split('/').collect();
            // Spark skips hidden files and folders (`_SUCCESS`, `.crc`, `_temporary/`).
            if !relative.ends_with(".parquet")
                || segments
                    .iter()
                    .any(|s| s.starts_with('_') || s.starts_with('.'))
            {
                continue;
            }
            let partition_values = segments[..segments.len() - 1]
                .iter()
                .map(|s| {
                    parse_partition_segment(s).ok_or_else(|| {
                        invalid(format!(
                            "'{relative}' is in a folder that is not a partition (col=value); \
                             nothing was converted"
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            found.push(Found {
                path: meta.path.clone(),
                relative,
                size: meta.size,
                partition_values,
            });
        }
        let Some(first) = found.first() else {
            return Err(invalid(format!(
                "no Parquet files under {name}: nothing to convert"
            )));
        };
        let keys: Vec<String> = first
            .partition_values
            .iter()
            .map(|(k, _)| k.clone())
            .collect();
        if let Some(odd) = found
            .iter()
            .find(|f| f.partition_values.iter().map(|(k, _)| k).ne(keys.iter()))
        {
            return Err(invalid(format!(
                "'{}' is not partitioned like '{}'; nothing was converted",
                odd.relative, first.relative
            )));
        }
        let named: Vec<String> = partitioned_by
            .iter()
            .map(|c| c.name.value.to_ascii_lowercase())
            .collect();
        let folders: Vec<String> = keys.iter().map(|k| k.to_ascii_lowercase()).collect();
        if named != folders {
            return Err(invalid(if named.is_empty() {
                format!(
                    "{name}'s files are in folders by {}: give the partition columns' types, \
                     e.g. CONVERT TO DELTA {name} PARTITIONED BY ({} STRING); nothing was converted",
                    keys.join(", "),
                    keys.join(" STRING, ")
                )
            } else {
                format!(
                    "PARTITIONED BY ({}) does not match the folders, which are by ({}); \
                     nothing was converted",
                    named.join(", "),
                    keys.join(", ")
                )
            }));
        }
        let partition_schema = if partitioned_by.is_empty() {
            Arc::new(Schema::empty())
        } else {
            self.schema_of(partitioned_by).await?
        };
        let columns: Vec<String> = partition_schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();

        let first_file = first.relative.clone();
        let mut file_schema: Option<SchemaRef> = None;
        let mut adds = Vec::with_capacity(found.len());
        let mut rows = 0i64;
        let now = now_ms();
        for f in found {
            let unreadable = |e: String| {
                invalid(format!(
                    "'{}' is not a readable Parquet file ({e}); nothing was converted",
                    f.relative
                ))
            };
            let footer = read_footer(table.store(), &f.path, f.size)
                .await
                .map_err(unreadable)?;
            let meta = footer.file_metadata();
            let schema = Arc::new(
                parquet_to_arrow_schema(meta.schema_descr(), meta.key_value_metadata())
                    .map_err(|e| unreadable(e.to_string()))?,
            );
            match &file_schema {
                None => file_schema = Some(schema.clone()),
                Some(s) if s.fields() == schema.fields() => {}
                Some(_) => {
                    return Err(invalid(format!(
                        "'{}' has other columns than '{first_file}'; nothing was converted",
                        f.relative
                    )));
                }
            }
            rows += meta.num_rows();
            adds.push(Add {
                path: to_log_path(&f.relative),
                partition_values: columns
                    .iter()
                    .cloned()
                    .zip(f.partition_values.into_iter().map(|(_, v)| v))
                    .collect(),
                size: f.size as i64,
                modification_time: now,
                data_change: true,
                stats: if statistics {
                    Some(file_stats(&schema, &footer)?)
                } else {
                    None
                },
                tags: None,
                deletion_vector: None,
                clustering_provider: None,
            });
        }
        let data = file_schema.unwrap_or_else(|| Arc::new(Schema::empty()));
        let fields: Vec<Arc<Field>> = data
            .fields()
            .iter()
            .chain(partition_schema.fields().iter())
            .cloned()
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let spec = TableSpec {
            partition_columns: columns.clone(),
            configuration: Default::default(),
            description: None,
        };
        let (protocol, metadata) = Table::create_actions(&schema, &spec)?;
        let files = adds.len();
        let mut commit = Commit::new("CONVERT", None)
            .parameter("numFiles", files)
            .parameter("partitionedBy", json!(columns).to_string())
            .parameter("collectStats", statistics)
            .metric("numConvertedFiles", files);
        commit.actions.push(Action::Protocol(protocol));
        commit.actions.push(Action::Metadata(metadata));
        commit.actions.extend(adds.into_iter().map(Action::Add));
        let outcome = self.commit(name, &table, commit).await?;
        Ok(Output::message(format!(
            "converted {name} to Delta in place: {files} Parquet files, {rows} rows{}, version {}; \
             no data was copied",
            if columns.is_empty() {
                String::new()
            } else {
                format!(", partitioned by {}", columns.join(", "))
            },
            outcome.version
        )))
    }
}
