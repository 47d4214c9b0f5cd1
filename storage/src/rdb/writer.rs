//! RdbWriter: the encodings redis-server 7.0 would choose for the same contents.
use super::*;
use std::io::{self, Write};

/// Encoding thresholds and switches, from the server's config.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    pub compression: bool,
    pub checksum: bool,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub list_max_listpack_size: i64,
    pub stream_node_max_entries: usize,
    pub stream_node_max_bytes: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compression: true,
            checksum: true,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            set_max_intset_entries: 512,
            list_max_listpack_size: -2,
            stream_node_max_entries: 100,
            stream_node_max_bytes: 4096,
        }
    }
}

pub struct RdbWriter<W: Write> {
    _w: W,
}

impl<W: Write> RdbWriter<W> {
    /// Writes the `REDIS0010` header.
    pub fn new(_w: W, _opts: WriteOptions) -> io::Result<Self> {
        todo!()
    }
    pub fn aux(&mut self, _key: &[u8], _value: &[u8]) -> io::Result<()> {
        todo!()
    }
    pub fn select_db(&mut self, _db: u64) -> io::Result<()> {
        todo!()
    }
    pub fn resize_db(&mut self, _db_size: u64, _expires_size: u64) -> io::Result<()> {
        todo!()
    }
    pub fn function(&mut self, _code: &[u8]) -> io::Result<()> {
        todo!()
    }
    pub fn entry(&mut self, _key: &[u8], _value: &Value<'_>, _meta: &KeyMeta) -> io::Result<()> {
        todo!()
    }
    /// EOF opcode and CRC64 trailer (zero when checksum is off); returns the writer.
    pub fn finish(self) -> io::Result<W> {
        todo!()
    }
}

/// DUMP's payload for a value: `<type><object><RDB_VERSION u16 LE><crc64 LE>`.
pub fn encode_dump(_value: &Value<'_>, _opts: &WriteOptions) -> Vec<u8> {
    todo!()
}
