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
    #[error("{0}")]
    Delta(#[from] lakelab_delta::DeltaError),
    #[error("table {name} cannot be read: {reason}")]
    UnreadableTable { name: String, reason: String },
    #[error("table {0} already exists")]
    TableExists(String),
    #[error("table {0} does not exist")]
    NoSuchTable(String),
    #[error("invalid table name '{0}': use letters, digits and _, as table or schema.table")]
    InvalidTableName(String),
    #[error("CHECK constraint {name} ({expr}) violated by row with values:\n{row}")]
    ConstraintViolated {
        name: String,
        expr: String,
        row: String,
    },
    #[error(
        "expectation {name} ({expr}) failed on {failed} of {total} rows: the load was rejected and nothing \
         was written. One of them:\n{row}"
    )]
    ExpectationFailed {
        name: String,
        expr: String,
        failed: i64,
        total: i64,
        row: String,
    },
    #[error(
        "Cannot perform Merge as multiple source rows matched and attempted to modify the same target row \
         in the Delta table in possibly conflicting ways. Deduplicate the source (for example, keep the \
         latest change per key) before merging."
    )]
    MergeAmbiguous,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unsupported(String),
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
