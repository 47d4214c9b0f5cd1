//! Redis 7 multi-part AOF: manifest, base and incremental files, RESP command stream.
//!
//! Layout (as Redis 7.0): `<dir>/<appenddirname>/` holds `<appendfilename>.manifest`,
//! one base file `<appendfilename>.<seq>.base.rdb` (or `.base.aof`) and incremental files
//! `<appendfilename>.<seq>.incr.aof`, replayed in manifest order.

use crate::Error;
use std::io;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Base,
    History,
    Incr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    pub name: String,
    pub seq: u64,
    pub kind: FileKind,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// In file order: base first, then history, then incr files by seq.
    pub entries: Vec<ManifestEntry>,
}

impl Manifest {
    /// Parses `file <name> seq <n> type <b|h|i>` lines as Redis's aofLoadManifestFromFile
    /// (quoted names, unknown keys ignored); errors carry Redis's texts.
    pub fn parse(_text: &[u8]) -> Result<Manifest, String> {
        todo!()
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        todo!()
    }
    pub fn base(&self) -> Option<&ManifestEntry> {
        todo!()
    }
    pub fn incrs(&self) -> impl Iterator<Item = &ManifestEntry> {
        self.entries.iter().filter(|e| e.kind == FileKind::Incr)
    }
}

pub fn manifest_name(appendfilename: &str) -> String {
    format!("{appendfilename}.manifest")
}
/// `<appendfilename>.<seq>.base.rdb` or `.base.aof`.
pub fn base_name(appendfilename: &str, seq: u64, rdb_preamble: bool) -> String {
    let ext = if rdb_preamble { "rdb" } else { "aof" };
    format!("{appendfilename}.{seq}.base.{ext}")
}
pub fn incr_name(appendfilename: &str, seq: u64) -> String {
    format!("{appendfilename}.{seq}.incr.aof")
}

/// Writes `dir/name` through a temp file, fsync and rename, then fsyncs the directory.
pub fn write_atomic(_dir: &Path, _name: &str, _contents: &[u8]) -> io::Result<()> {
    todo!()
}

/// Appends one command as a RESP array of bulk strings.
pub fn encode_command(_out: &mut Vec<u8>, _argv: &[&[u8]]) {
    todo!()
}

/// Commands from an AOF file's RESP section.
pub struct CommandReader<'a> {
    _buf: &'a [u8],
    _pos: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The file ends inside a command that starts at `offset` (a torn write).
    Truncated { offset: u64 },
    /// Bytes at `offset` are not a valid command.
    Corrupt { offset: u64, reason: String },
}

impl<'a> CommandReader<'a> {
    /// `start` is the offset of `buf[0]` in the file, for error offsets.
    pub fn new(_buf: &'a [u8], _start: u64) -> Self {
        todo!()
    }
    /// The next command's argv; `Ok(None)` at a clean end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Vec<&'a [u8]>>, ReadError> {
        todo!()
    }
    /// File offset just after the last command returned.
    pub fn offset(&self) -> u64 {
        todo!()
    }
}

impl From<ReadError> for Error {
    fn from(e: ReadError) -> Error {
        match e {
            ReadError::Truncated { offset } => Error::Corrupt {
                path: String::new(),
                offset,
                reason: "truncated command".into(),
            },
            ReadError::Corrupt { offset, reason } => Error::Corrupt {
                path: String::new(),
                offset,
                reason,
            },
        }
    }
}
