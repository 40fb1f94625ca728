use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use thiserror::Error;

/// Why a statement failed. Whatever the reason, no table was changed.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("{0}")]
    Sql(#[from] DataFusionError),
    #[error("{0}")]
    Arrow(#[from] ArrowError),
    #[error("storage: {0}")]
    Store(#[from] lakelab_store::Error),
    #[error("table {name} cannot be read: {reason}")]
    UnreadableTable { name: String, reason: String },
    #[error("table {0} already exists")]
    TableExists(String),
    #[error("table {0} does not exist")]
    NoSuchTable(String),
    #[error("invalid table name '{0}': use letters, digits and _ (no schema prefix yet)")]
    InvalidTableName(String),
    #[error("the rows do not fit table {table}: {reason}")]
    SchemaMismatch { table: String, reason: String },
    #[error("{0}")]
    Unsupported(String),
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
