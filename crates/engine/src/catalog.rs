//! Persisted tables: each table is a folder of Parquet files in the store,
//! `tables/<name>/part-NNNNN.parquet`, loaded into memory when the engine
//! opens. (Delta tables replace this layout; the store interface stays.)
//!
//! Every change writes its new file first and updates memory only after the
//! store accepted it, so a failed write leaves the table as it was.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::MemTable;
use datafusion::common::TableReference;
use datafusion::prelude::SessionContext;
use lakelab_store::Store;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::{EngineError, Result};

const ROOT: &str = "tables/";

/// A table as the UI lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    pub name: String,
    pub rows: Option<u64>,
    pub error: Option<String>,
}

enum Table {
    Ready {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    /// Its files exist but cannot be read; only `DROP` or `CREATE OR REPLACE` touch it.
    Broken { reason: String },
}

pub(crate) struct Catalog {
    store: Rc<dyn Store>,
    tables: RefCell<BTreeMap<String, Table>>,
}

/// The plain name of a table in the default schema.
pub(crate) fn table_name(reference: &TableReference) -> Result<String> {
    let name = match reference {
        TableReference::Bare { table } => table.to_string(),
        other => return Err(EngineError::InvalidTableName(other.to_string())),
    };
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(name)
    } else {
        Err(EngineError::InvalidTableName(name))
    }
}

fn part_path(table: &str, index: u32) -> String {
    format!("{ROOT}{table}/part-{index:05}.parquet")
}

/// The part index of a file name like `part-00003.parquet`.
fn part_index(path: &str) -> Option<u32> {
    path.rsplit('/')
        .next()?
        .strip_prefix("part-")?
        .strip_suffix(".parquet")?
        .parse()
        .ok()
}

impl Catalog {
    pub(crate) async fn open(store: Rc<dyn Store>, ctx: &SessionContext) -> Result<Self> {
        let catalog = Catalog {
            store,
            tables: RefCell::new(BTreeMap::new()),
        };
        let mut names: Vec<String> = catalog
            .store
            .list(ROOT)
            .await?
            .into_iter()
            .filter_map(|meta| Some(meta.path.strip_prefix(ROOT)?.split_once('/')?.0.to_owned()))
            .collect();
        names.dedup();
        for name in names {
            catalog.refresh(ctx, &name).await?;
        }
        Ok(catalog)
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.tables.borrow().contains_key(name)
    }

    pub(crate) fn summaries(&self) -> Vec<TableSummary> {
        self.tables
            .borrow()
            .iter()
            .map(|(name, table)| match table {
                Table::Ready { batches, .. } => TableSummary {
                    name: name.clone(),
                    rows: Some(batches.iter().map(|b| b.num_rows() as u64).sum()),
                    error: None,
                },
                Table::Broken { reason } => TableSummary {
                    name: name.clone(),
                    rows: None,
                    error: Some(reason.clone()),
                },
            })
            .collect()
    }

    /// Fails with the reason if `name` is a stored table that cannot be read.
    pub(crate) fn check_readable(&self, name: &str) -> Result<()> {
        match self.tables.borrow().get(name) {
            Some(Table::Broken { reason }) => Err(EngineError::UnreadableTable {
                name: name.to_owned(),
                reason: reason.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Creates `name` from `batches`, replacing an existing table if `replace`.
    /// Returns the number of rows written.
    pub(crate) async fn create(
        &self,
        ctx: &SessionContext,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        replace: bool,
    ) -> Result<u64> {
        let batches = conform(name, &schema, batches)?;
        let data = encode_parquet(&schema, &batches)?;
        let _lock = self.store.lock(&format!("table:{name}")).await?;
        let old_parts = self.part_paths(name).await?;
        if !old_parts.is_empty() && !replace {
            return Err(EngineError::TableExists(name.to_owned()));
        }
        let next = old_parts
            .iter()
            .filter_map(|p| part_index(p))
            .max()
            .map_or(0, |i| i + 1);
        match self.store.put_if_absent(&part_path(name, next), data).await {
            Err(lakelab_store::Error::AlreadyExists(_)) => {
                return Err(EngineError::TableExists(name.to_owned()));
            }
            other => other?,
        }
        // Not atomic: a crash here leaves old and new rows together. Delta's
        // log makes replacement one commit; this layout has no such step.
        for old in &old_parts {
            self.store.delete(old).await?;
        }
        let rows = row_count(&batches);
        self.register(ctx, name, schema, batches)?;
        Ok(rows)
    }

    /// Appends `batches` to `name` as a new file. Returns the rows appended.
    pub(crate) async fn append(
        &self,
        ctx: &SessionContext,
        name: &str,
        batches: Vec<RecordBatch>,
    ) -> Result<u64> {
        let (schema, mut current) = match self.tables.borrow().get(name) {
            Some(Table::Ready { schema, batches }) => (schema.clone(), batches.clone()),
            Some(Table::Broken { reason }) => {
                return Err(EngineError::UnreadableTable {
                    name: name.to_owned(),
                    reason: reason.clone(),
                });
            }
            None => return Err(EngineError::NoSuchTable(name.to_owned())),
        };
        let batches = conform(name, &schema, batches)?;
        let rows = row_count(&batches);
        if rows == 0 {
            return Ok(0);
        }
        let data = encode_parquet(&schema, &batches)?;
        let _lock = self.store.lock(&format!("table:{name}")).await?;
        let next = self
            .part_paths(name)
            .await?
            .iter()
            .filter_map(|p| part_index(p))
            .max()
            .map_or(0, |i| i + 1);
        self.store
            .put_if_absent(&part_path(name, next), data)
            .await?;
        current.extend(batches);
        self.register(ctx, name, schema, current)?;
        Ok(rows)
    }

    pub(crate) async fn drop_table(&self, ctx: &SessionContext, name: &str) -> Result<()> {
        let _lock = self.store.lock(&format!("table:{name}")).await?;
        for part in self.part_paths(name).await? {
            if let Err(e) = self.store.delete(&part).await {
                // Some files may be gone: show the table as the store now has it.
                self.refresh(ctx, name).await?;
                return Err(e.into());
            }
        }
        ctx.deregister_table(name)?;
        self.tables.borrow_mut().remove(name);
        Ok(())
    }

    async fn part_paths(&self, name: &str) -> Result<Vec<String>> {
        Ok(self
            .store
            .list(&format!("{ROOT}{name}/"))
            .await?
            .into_iter()
            .map(|meta| meta.path)
            .filter(|path| part_index(path).is_some())
            .collect())
    }

    /// Loads `name` from the store and registers it, or records why it cannot be read.
    async fn refresh(&self, ctx: &SessionContext, name: &str) -> Result<()> {
        ctx.deregister_table(name)?;
        let parts = self.part_paths(name).await?;
        if parts.is_empty() {
            self.tables.borrow_mut().remove(name);
            return Ok(());
        }
        match self.load(&parts).await {
            Ok((schema, batches)) => self.register(ctx, name, schema, batches)?,
            Err(reason) => {
                self.tables
                    .borrow_mut()
                    .insert(name.to_owned(), Table::Broken { reason });
            }
        }
        Ok(())
    }

    async fn load(&self, parts: &[String]) -> Result<(SchemaRef, Vec<RecordBatch>), String> {
        let mut schema: Option<SchemaRef> = None;
        let mut batches = Vec::new();
        for part in parts {
            let bytes = self.store.get(part).await.map_err(|e| e.to_string())?;
            let (part_schema, part_batches) = decode_parquet(bytes)
                .map_err(|e| format!("{part} is not a readable Parquet file ({e})"))?;
            match &schema {
                Some(s) if s.fields() != part_schema.fields() => {
                    return Err(format!(
                        "{part} has a different schema from the table's other files"
                    ));
                }
                Some(_) => {}
                None => schema = Some(part_schema),
            }
            batches.extend(part_batches);
        }
        schema
            .map(|s| (s, batches))
            .ok_or_else(|| "the table has no data files".to_owned())
    }

    fn register(
        &self,
        ctx: &SessionContext,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        let table = MemTable::try_new(schema.clone(), vec![batches.clone()])?;
        ctx.deregister_table(name)?;
        ctx.register_table(name, Arc::new(table))?;
        self.tables
            .borrow_mut()
            .insert(name.to_owned(), Table::Ready { schema, batches });
        Ok(())
    }
}

fn row_count(batches: &[RecordBatch]) -> u64 {
    batches.iter().map(|b| b.num_rows() as u64).sum()
}

/// Gives every batch the table's schema (names, nullability), or says why it cannot.
fn conform(table: &str, schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    batches
        .into_iter()
        .map(|batch| {
            RecordBatch::try_new(schema.clone(), batch.columns().to_vec()).map_err(|e| {
                EngineError::SchemaMismatch {
                    table: table.to_owned(),
                    reason: e.to_string(),
                }
            })
        })
        .collect()
}

fn encode_parquet(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Bytes> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))
        .map_err(datafusion::error::DataFusionError::from)?;
    for batch in batches {
        writer
            .write(batch)
            .map_err(datafusion::error::DataFusionError::from)?;
    }
    let data = writer
        .into_inner()
        .map_err(datafusion::error::DataFusionError::from)?;
    Ok(Bytes::from(data))
}

fn decode_parquet(
    bytes: Bytes,
) -> Result<(SchemaRef, Vec<RecordBatch>), parquet::errors::ParquetError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)?;
    let schema = builder.schema().clone();
    let batches = builder.build()?.collect::<Result<Vec<_>, _>>()?;
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        assert_eq!(
            table_name(&TableReference::bare("orders_2")).unwrap(),
            "orders_2"
        );
        for bad in ["", "9lives", "a-b", "a b", "ü"] {
            assert!(table_name(&TableReference::bare(bad)).is_err(), "{bad:?}");
        }
        assert!(table_name(&TableReference::partial("s", "t")).is_err());
    }

    #[test]
    fn part_indexes_parse_from_paths() {
        assert_eq!(part_index(&part_path("t", 7)), Some(7));
        assert_eq!(part_index("tables/t/notes.txt"), None);
    }
}
