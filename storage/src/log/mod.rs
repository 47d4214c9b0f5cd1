//! Segmented, append-only topic log (KAFKA.md 3.1-3.4). No sockets, no async: the caller
//! owns a [`Partition`] per `<dir>/topics/<topic>-<partition>/` and drives it.
//!
//! # Layout
//! - `batch.rs`: zero-copy RecordBatch v2 view, validation, offset/epoch patching.
//! - `index.rs`: sparse `.index` and `.timeindex`.
//! - `segment.rs`: one `{base_offset:020}.log` with its indexes; append, read, recover.
//! - `partition.rs`: the segments of one partition, leo/hw/log start offset, retention.
//!
//! Stored bytes are the producer's batches with only baseOffset and partitionLeaderEpoch
//! rewritten (neither is covered by the CRC), so fetches return them untouched.

pub mod batch;
pub mod index;
pub mod partition;
pub mod segment;

pub use batch::{Batch, BatchError, Batches};
pub use partition::Partition;
pub use segment::Segment;

use thiserror::Error;

/// When appended bytes are forced to disk (Redis's appendfsync, KAFKA.md 3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushPolicy {
    /// fdatasync before `append` returns.
    Always,
    /// fdatasync from `flush_if_due` once this many ms have passed since the last flush.
    EveryMs(u64),
    /// Leave it to the OS (Kafka's default; durability comes from replication).
    Os,
}

/// Per-topic log settings, Kafka's names without dots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes`; Kafka's default is 1 GiB, ours 64 MiB suits a CI broker.
    pub segment_bytes: u64,
    /// `segment.ms`, 7 days.
    pub segment_ms: i64,
    /// `index.interval.bytes`, 4096.
    pub index_interval_bytes: usize,
    /// `retention.ms`, 7 days; -1 keeps data forever.
    pub retention_ms: i64,
    /// `retention.bytes`, -1 = unlimited.
    pub retention_bytes: i64,
    /// `max.message.bytes`, the largest batch accepted, 1048588.
    pub max_message_bytes: usize,
    pub flush: FlushPolicy,
    /// `message.timestamp.type=LogAppendTime`: appends stamp the broker's time into each
    /// batch (false: CreateTime, the producer's timestamps are kept).
    pub log_append_time: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 64 * 1024 * 1024,
            segment_ms: 7 * 24 * 3600 * 1000,
            index_interval_bytes: 4096,
            retention_ms: 7 * 24 * 3600 * 1000,
            retention_bytes: -1,
            max_message_bytes: 1_048_588,
            flush: FlushPolicy::EveryMs(1000),
            log_append_time: false,
        }
    }
}

/// What one `append` stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendInfo {
    pub base_offset: i64,
    pub last_offset: i64,
    /// Largest batch maxTimestamp in the append, -1 when none.
    pub max_timestamp: i64,
    pub log_start_offset: i64,
}

/// Why an append was refused; nothing was stored unless the error is `Io`.
#[derive(Debug, Error)]
pub enum AppendError {
    /// Damaged or partial batch (Kafka CORRUPT_MESSAGE, error 2).
    #[error("corrupt batch at byte {position}: {source}")]
    Corrupt { position: usize, source: BatchError },
    /// A batch over `max_message_bytes` (MESSAGE_TOO_LARGE, 10).
    #[error("batch at byte {position} is {size} bytes, over max.message.bytes {max}")]
    MessageTooLarge {
        position: usize,
        size: usize,
        max: usize,
    },
    /// Well-formed bytes with bad contents, e.g. an empty set or wrong counts
    /// (INVALID_RECORD, 87).
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    #[error(transparent)]
    Io(#[from] crate::Error),
}

/// Raw bytes of whole batches plus the partition state a Fetch response carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadResult {
    pub records: Vec<u8>,
    pub log_start_offset: i64,
    pub leo: i64,
    pub hw: i64,
}

#[derive(Debug, Error)]
pub enum ReadError {
    /// OFFSET_OUT_OF_RANGE (1): below the log start offset or past the leo.
    #[error("offset {offset} out of range [{log_start_offset}, {leo}]")]
    OffsetOutOfRange {
        offset: i64,
        log_start_offset: i64,
        leo: i64,
    },
    #[error(transparent)]
    Io(#[from] crate::Error),
}

/// Where recovery cut a segment file, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    pub segment: std::path::PathBuf,
    /// Byte position of the first batch not kept; the file now ends there.
    pub position: u64,
    /// Bytes dropped from that position on.
    pub bytes: u64,
    pub reason: String,
    /// The batch ran past the end of the file: a torn write, expected after a crash.
    pub torn: bool,
}

/// What `Partition::open` found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The clean-shutdown marker was present.
    pub clean_shutdown: bool,
    /// Segments re-validated with `Segment::recover`.
    pub recovered_segments: usize,
    /// Bytes cut from the first segment with an invalid or partial batch.
    pub truncated_bytes: u64,
    /// Segments after that cut, deleted because their data follows the corruption.
    pub deleted_segments: usize,
    /// The cut itself.
    pub cut: Option<Cut>,
    pub log_start_offset: i64,
    pub leo: i64,
    pub hw: i64,
}
