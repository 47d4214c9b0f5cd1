//! RDB version 10: the format redis-server 7.0 writes and redis-check-rdb 7.0 accepts.
//!
//! A neutral value model ([`Value`]) sits between the file and the server's data types:
//! the reader yields owned values, the writer takes borrowed ones, so the server converts
//! one key at a time and never holds a second copy of the dataset.

use std::borrow::Cow;

pub mod crc64;
mod listpack;
mod lzf;
mod reader;
mod util;
mod writer;
mod ziplist;

pub use reader::{decode_dump, decode_functions_dump, FunctionsDumpError, Item, RdbReader};
pub use writer::{encode_dump, encode_functions_dump, RdbWriter, WriteOptions};

/// The RDB version written (Redis 7.0's RDB_VERSION).
pub const RDB_VERSION: u16 = 10;

pub type Blob<'a> = Cow<'a, [u8]>;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// One key's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    String(Blob<'a>),
    /// Head to tail.
    List(Vec<Blob<'a>>),
    Set(Vec<Blob<'a>>),
    Hash(Vec<(Blob<'a>, Blob<'a>)>),
    /// In any order; the writer does not sort.
    ZSet(Vec<(Blob<'a>, f64)>),
    Stream(Box<Stream<'a>>),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream<'a> {
    /// Live entries in ID order.
    pub entries: Vec<StreamEntry<'a>>,
    /// Number of live entries (XLEN).
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_entry_id: StreamId,
    pub entries_added: u64,
    pub groups: Vec<Group<'a>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StreamEntry<'a> {
    pub id: StreamId,
    pub fields: Vec<(Blob<'a>, Blob<'a>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group<'a> {
    pub name: Blob<'a>,
    pub last_id: StreamId,
    /// -1 when unknown (Redis's SCG_INVALID_ENTRIES_READ).
    pub entries_read: i64,
    /// The group's pending entries list, in ID order.
    pub pel: Vec<PendingEntry>,
    pub consumers: Vec<Consumer<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PendingEntry {
    pub id: StreamId,
    /// Last delivery, unix ms.
    pub delivery_time: i64,
    pub delivery_count: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Consumer<'a> {
    pub name: Blob<'a>,
    /// Unix ms.
    pub seen_time: i64,
    /// IDs of the group PEL entries this consumer owns, in ID order.
    pub pel: Vec<StreamId>,
}

/// What precedes a key in the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyMeta {
    /// Absolute unix ms.
    pub expire_ms: Option<i64>,
    /// RDB_OPCODE_IDLE (seconds), written under an LRU maxmemory-policy.
    pub lru_idle: Option<u64>,
    /// RDB_OPCODE_FREQ, written under an LFU maxmemory-policy.
    pub lfu_freq: Option<u8>,
}
