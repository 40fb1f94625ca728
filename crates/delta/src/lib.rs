//! The Delta Lake protocol (delta-io/delta PROTOCOL.md) over a
//! [`lakelab_store::Store`]: log replay from checkpoints, snapshots at any
//! version or timestamp, data files with statistics, commits with
//! optimistic concurrency, and classic checkpoints every ten commits.
//!
//! Reader version 1 (and 3 with `timestampNtz`), writer versions 2, 3 and
//! 7 (CHECK constraints, appendOnly, invariants, timestampNtz, domain
//! metadata, clustering); anything else is refused by name. See ARCHITECTURE.md for why this is not `delta_kernel`.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod actions;
pub mod checkpoint;
pub mod clustering;
pub mod commit;
pub mod data;
mod error;
pub mod features;
pub mod file_rows;
pub mod log;
pub mod paths;
pub mod schema;
pub mod snapshot;
pub mod stats;
mod table;

pub use actions::{Action, Add, CommitInfo, DomainMetadata, Metadata, Protocol, Remove, Txn};
pub use commit::{Commit, CommitOutcome, ReadSet};
pub use error::{ConflictKind, DeltaError, Result};
pub use file_rows::FileRows;
pub use snapshot::Snapshot;
pub use table::{Table, TableSpec, now_ms, set_simulated_now};
