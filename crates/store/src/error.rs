use thiserror::Error;

/// Everything a [`Store`](crate::Store) call can fail with.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Error {
    #[error("no file at '{0}'")]
    NotFound(String),
    #[error("a file already exists at '{0}'")]
    AlreadyExists(String),
    #[error("invalid path '{path}': {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error("range {start}..{end} is outside '{path}' ({size} bytes)")]
    InvalidRange {
        path: String,
        start: u64,
        end: u64,
        size: u64,
    },
    #[error("storage quota exceeded while writing '{0}'")]
    QuotaExceeded(String),
    #[error("injected fault: call {call} ({operation} '{path}') failed")]
    Injected {
        call: usize,
        operation: &'static str,
        path: String,
    },
    #[error("storage error on '{path}': {message}")]
    Io { path: String, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: &str, message: impl ToString) -> Self {
        Error::Io {
            path: path.to_owned(),
            message: message.to_string(),
        }
    }
}
