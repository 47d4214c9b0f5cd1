//! # Layout
//! File formats, no sockets. Filled in by the durability (RDB, AOF) and topic-log issues:
//! - `rdb/`: RdbWriter / RdbReader, RDB version 10.
//! - `aof.rs`: Redis 7 multi-part AOF.
//! - `log/`: segmented Kafka topic log: RecordBatch v2 view (`batch`), sparse offset and
//!   time indexes (`index`), segments (`segment`) and `Partition` (append, read, retention,
//!   crash recovery).
//!

pub mod aof;
pub mod log;
pub mod rdb;

use thiserror::Error;

/// Errors from reading or writing Rill's files.
#[derive(Debug, Error)]
pub enum Error {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{path}: corrupt at offset {offset}: {reason}")]
    Corrupt {
        path: String,
        offset: u64,
        reason: String,
    },
    #[error("checksum mismatch")]
    Checksum,
    #[error("unsupported version {0}")]
    UnsupportedVersion(u32),
}
