//! Lakelab's change-data-capture system, simulated faithfully and run for
//! real: a MySQL server with a binlog ([`mysql`]), a Debezium connector
//! ([`debezium`]), a Kafka cluster ([`kafka`]), and a Structured-Streaming
//! style query ([`pipeline`]) that writes Bronze, Silver and Gold Delta
//! tables exactly once, which [`verify`] proves against the source. The
//! [`late`] module is the late-arriving-events lab's event-time streaming.

pub mod checkpoint;
pub mod debezium;
pub mod error;
pub mod gold;
pub mod kafka;
pub mod late;
pub mod mysql;
pub mod notebook;
pub mod parse;
pub mod pipeline;
pub mod row;
pub mod silver;
pub mod sim;
pub mod values;
pub mod verify;

pub use error::{CrashPoint, Result, StreamError};
pub use sim::{SavedRun, Simulation};
