//! The messages the UI and the engine worker exchange.
//!
//! Both sides serialise these with `serde-wasm-bindgen` and `postMessage`;
//! result rows travel as Arrow IPC stream bytes, so the UI decodes exactly the
//! batches the engine produced (types and nulls included).

use serde::{Deserialize, Serialize};

pub mod cdc;
pub mod late;
pub mod notebook;

/// A request from the UI. `id` ties every answer to its request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Run SQL: one statement, or a script of statements separated by `;`
    /// (run in order; the answer is the last one's, or the first failure).
    Sql { id: u64, sql: String },
    /// Tables' Delta folders (each under its name) and `files` (at the
    /// top) as one zip: answered with `Exported`.
    Export {
        id: u64,
        tables: Vec<String>,
        files: Vec<FileData>,
    },
    /// A Delta table from a zip of its folder: answered with `Done`.
    ImportZip {
        id: u64,
        table: String,
        #[serde(with = "serde_bytes")]
        zip: Vec<u8>,
    },
    /// A Delta table from the files of a folder the user picked.
    ImportFiles {
        id: u64,
        table: String,
        files: Vec<FileData>,
    },
    /// Every file of the lake (tables, the labs' saved runs, checkpoints)
    /// with `files` at the top, as one zip: answered with `Exported`.
    ExportLake { id: u64, files: Vec<FileData> },
    /// Replaces the lake with a snapshot made by `ExportLake` and reopens
    /// it: answered with `LakeImported`.
    ImportLake {
        id: u64,
        #[serde(with = "serde_bytes")]
        zip: Vec<u8>,
    },
    /// A command for the CDC lab's simulation: answered with `Cdc`.
    Cdc { id: u64, command: cdc::CdcCommand },
    /// A command for the late-events lab: answered with `Late`.
    Late { id: u64, command: late::LateCommand },
}

/// A file of a table folder: its path inside the folder and its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileData {
    pub path: String,
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

/// A message from the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The engine has opened its storage and accepts requests.
    Ready {
        tables: Vec<TableInfo>,
        /// Where tables live, e.g. "OPFS" or why they live in memory instead.
        storage: String,
        /// Milliseconds from worker start to ready, measured in the worker.
        startup_ms: f64,
    },
    /// Rows produced so far by a running statement.
    Progress { id: u64, rows: u64, batches: u64 },
    /// A finished statement.
    Done {
        id: u64,
        /// Arrow IPC stream with the result (schema and batches).
        #[serde(with = "serde_bytes")]
        ipc: Vec<u8>,
        rows: u64,
        /// What a statement without rows did, e.g. "created table t (3 rows)".
        message: Option<String>,
        /// Milliseconds spent in the engine, measured in the worker.
        engine_ms: f64,
        tables: Vec<TableInfo>,
        /// What each Delta scan read and skipped.
        scans: Vec<ScanInfo>,
    },
    /// A lake snapshot loaded: the snapshot's own files (outside the lake).
    LakeImported {
        id: u64,
        files: Vec<FileData>,
        tables: Vec<TableInfo>,
    },
    /// Exported tables.
    Exported {
        id: u64,
        #[serde(with = "serde_bytes")]
        zip: Vec<u8>,
    },
    /// The CDC lab's state after a command.
    Cdc {
        id: u64,
        /// `None`: the lab has not been started in this browser.
        view: Option<Box<cdc::CdcView>>,
        tables: Vec<TableInfo>,
    },
    /// The late-events lab's state after a command.
    Late {
        id: u64,
        /// `None`: the lab has not been started since the worker started.
        view: Option<Box<late::LateView>>,
        tables: Vec<TableInfo>,
    },
    /// A statement that failed; nothing was changed.
    Failed { id: u64, message: String },
}

/// What one Delta scan of a statement read and skipped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanInfo {
    pub table: String,
    pub files_total: u64,
    pub files_read: u64,
    /// Parquet row groups of all the files, and of those read.
    #[serde(default)]
    pub row_groups_total: u64,
    #[serde(default)]
    pub row_groups_read: u64,
    /// Rows of all the files, and rows scanned after row groups and pages
    /// were skipped.
    #[serde(default)]
    pub rows_total: u64,
    #[serde(default)]
    pub rows_read: u64,
    /// Stored (Parquet) bytes of all the files, and of the files read less
    /// the row groups skipped.
    pub bytes_total: i64,
    pub bytes_read: i64,
    /// The engine's one-line account, e.g. "events v3: read 2 of 6 files, …".
    pub text: String,
}

impl ScanInfo {
    /// This scan and `other` counted as one (a statement that read two tables).
    pub fn plus(mut self, other: &ScanInfo) -> ScanInfo {
        self.table.clone_from(&other.table);
        self.files_total += other.files_total;
        self.files_read += other.files_read;
        self.row_groups_total += other.row_groups_total;
        self.row_groups_read += other.row_groups_read;
        self.rows_total += other.rows_total;
        self.rows_read += other.rows_read;
        self.bytes_total += other.bytes_total;
        self.bytes_read += other.bytes_read;
        self
    }
}

/// One persisted table as the catalog sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableInfo {
    pub name: String,
    /// Rows, when the table could be read.
    pub rows: Option<u64>,
    /// Its latest Delta version.
    pub version: Option<i64>,
    /// Why the table cannot be read (a corrupt file, say).
    pub error: Option<String>,
}
