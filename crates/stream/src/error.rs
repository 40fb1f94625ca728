use lakelab_engine::EngineError;
use lakelab_store::Error as StoreError;

/// Where a micro-batch can be made to crash, in the order it passes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CrashPoint {
    /// The batch's offsets are in the write-ahead log; nothing read yet.
    AfterOffsetLog,
    /// Records read from Kafka and parsed; nothing written.
    AfterRead,
    /// Bronze committed.
    AfterBronze,
    /// The first Silver table merged, the others not.
    MidSilver,
    /// Every Silver table merged.
    AfterSilver,
    /// Gold refreshed; the batch is not marked done.
    AfterGold,
    /// The commit log says done; the consumer group has not heard of it.
    AfterCommitLog,
}

impl CrashPoint {
    pub const ALL: [CrashPoint; 7] = [
        CrashPoint::AfterOffsetLog,
        CrashPoint::AfterRead,
        CrashPoint::AfterBronze,
        CrashPoint::MidSilver,
        CrashPoint::AfterSilver,
        CrashPoint::AfterGold,
        CrashPoint::AfterCommitLog,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            CrashPoint::AfterOffsetLog => "after writing the offsets log",
            CrashPoint::AfterRead => "after reading from Kafka",
            CrashPoint::AfterBronze => "after the Bronze append",
            CrashPoint::MidSilver => "in the middle of the Silver MERGEs",
            CrashPoint::AfterSilver => "after the Silver MERGEs",
            CrashPoint::AfterGold => "after the Gold refresh",
            CrashPoint::AfterCommitLog => "after the commit log, before the group commit",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the consumer crashed {} (batch {batch})", point.describe())]
    Crashed { batch: i64, point: CrashPoint },
    /// A record the pipeline cannot apply; nothing of its batch is committed.
    #[error("bad record at {topic}-{partition} offset {offset}: {reason}")]
    BadRecord {
        topic: String,
        partition: u32,
        offset: i64,
        reason: String,
    },
    #[error(transparent)]
    DataLoss(#[from] crate::kafka::DataLoss),
    #[error("checkpoint {path} is unreadable: {reason}")]
    Checkpoint { path: String, reason: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    /// A streaming query Spark's planner would refuse.
    #[error(transparent)]
    Query(#[from] crate::late::aggregate::QueryError),
}

pub type Result<T, E = StreamError> = std::result::Result<T, E>;
