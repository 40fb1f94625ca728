use thiserror::Error;

/// A Delta conflict, named as Delta names it, found when a commit is
/// checked against the commits that won the race for the same version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    ConcurrentAppend,
    ConcurrentDeleteRead,
    ConcurrentDeleteDelete,
    MetadataChanged,
    ProtocolChanged,
    ConcurrentTransaction,
}

impl ConflictKind {
    pub fn name(self) -> &'static str {
        match self {
            ConflictKind::ConcurrentAppend => "ConcurrentAppendException",
            ConflictKind::ConcurrentDeleteRead => "ConcurrentDeleteReadException",
            ConflictKind::ConcurrentDeleteDelete => "ConcurrentDeleteDeleteException",
            ConflictKind::MetadataChanged => "MetadataChangedException",
            ConflictKind::ProtocolChanged => "ProtocolChangedException",
            ConflictKind::ConcurrentTransaction => "ConcurrentTransactionException",
        }
    }
}

#[derive(Debug, Error)]
pub enum DeltaError {
    #[error(transparent)]
    Store(#[from] lakelab_store::Error),
    #[error("'{0}' is not a Delta table (no _delta_log commits)")]
    NotATable(String),
    #[error("corrupt Delta log file '{file}': {reason}")]
    CorruptLog { file: String, reason: String },
    #[error("the Delta log is missing commit {missing} (found versions up to {latest}); the table cannot be read past version {}", missing - 1)]
    MissingCommit { missing: i64, latest: i64 },
    #[error("version {requested} does not exist: available versions are {earliest} to {latest}")]
    VersionNotFound {
        requested: i64,
        earliest: i64,
        latest: i64,
    },
    #[error("timestamp {requested} is before the table's first version ({earliest_commit})")]
    TimestampTooEarly {
        requested: String,
        earliest_commit: String,
    },
    #[error(
        "timestamp {requested} is after the latest version available to this table ({latest_commit})"
    )]
    TimestampTooLate {
        requested: String,
        latest_commit: String,
    },
    #[error("the table needs {kind} feature '{feature}', which Lakelab does not support")]
    UnsupportedFeature { kind: &'static str, feature: String },
    #[error(
        "data file '{path}' listed in the log is missing (deleted behind the log's back, or vacuumed): {source}"
    )]
    MissingDataFile {
        path: String,
        source: lakelab_store::Error,
    },
    #[error("data file '{path}' is not readable Parquet: {reason}")]
    CorruptDataFile { path: String, reason: String },
    #[error("schema mismatch: {0}")]
    SchemaMismatch(String),
    #[error("NOT NULL constraint violated for column: {0}")]
    NotNullViolated(String),
    #[error("unsupported Delta type '{0}'")]
    UnsupportedType(String),
    #[error("{}: {detail}", kind.name())]
    Conflict { kind: ConflictKind, detail: String },
    #[error("{0}")]
    Invalid(String),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = DeltaError> = std::result::Result<T, E>;
