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
pub fn encode_command(out: &mut Vec<u8>, argv: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Commands from an AOF file's RESP section.
pub struct CommandReader<'a> {
    buf: &'a [u8],
    pos: usize,
    start: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The file ends inside a command that starts at `offset` (a torn write).
    Truncated { offset: u64 },
    /// Bytes at `offset` are not a valid command.
    Corrupt { offset: u64, reason: String },
}

/// Largest argument count / bulk length accepted, so a corrupt length cannot make the
/// reader allocate without bound (Redis caps the same way via proto-max-bulk-len).
const MAX_ARGS: usize = 1 << 20;
const MAX_BULK: usize = 1 << 32;

impl<'a> CommandReader<'a> {
    /// `start` is the offset of `buf[0]` in the file, for error offsets.
    pub fn new(buf: &'a [u8], start: u64) -> Self {
        CommandReader { buf, pos: 0, start }
    }

    /// The next command's argv; `Ok(None)` at a clean end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Vec<&'a [u8]>>, ReadError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let cmd_start = self.pos;
        let mut p = self.pos;
        let corrupt = |at: usize, reason: &str| ReadError::Corrupt {
            offset: self.start + at as u64,
            reason: reason.to_string(),
        };
        let truncated = ReadError::Truncated {
            offset: self.start + cmd_start as u64,
        };
        if self.buf[p] != b'*' {
            return Err(corrupt(p, "expected '*'"));
        }
        p += 1;
        let (argc, np) = match read_len(self.buf, p) {
            Ok(v) => v,
            Err(None) => return Err(truncated),
            Err(Some(())) => return Err(corrupt(p, "bad argument count")),
        };
        if !(1..=MAX_ARGS).contains(&argc) {
            return Err(corrupt(p, "bad argument count"));
        }
        p = np;
        let mut argv = Vec::with_capacity(argc.min(64));
        for _ in 0..argc {
            match self.buf.get(p) {
                None => return Err(truncated),
                Some(b'$') => {}
                Some(_) => return Err(corrupt(p, "expected '$'")),
            }
            p += 1;
            let (len, np) = match read_len(self.buf, p) {
                Ok(v) => v,
                Err(None) => return Err(truncated),
                Err(Some(())) => return Err(corrupt(p, "bad bulk length")),
            };
            if len > MAX_BULK {
                return Err(corrupt(p, "bad bulk length"));
            }
            p = np;
            let end = p + len;
            if end + 2 > self.buf.len() {
                return Err(truncated);
            }
            if &self.buf[end..end + 2] != b"\r\n" {
                return Err(corrupt(end, "expected CRLF after bulk"));
            }
            argv.push(&self.buf[p..end]);
            p = end + 2;
        }
        self.pos = p;
        Ok(Some(argv))
    }

    /// File offset just after the last command returned.
    pub fn offset(&self) -> u64 {
        self.start + self.pos as u64
    }
}

/// A decimal length ending in CRLF at `buf[p..]`: (value, position after CRLF).
/// `Err(None)` when the buffer ends first, `Err(Some(()))` on a bad byte.
fn read_len(buf: &[u8], mut p: usize) -> Result<(usize, usize), Option<()>> {
    let mut n: usize = 0;
    let mut digits = 0;
    loop {
        match buf.get(p) {
            None => return Err(None),
            Some(b'\r') => break,
            Some(c @ b'0'..=b'9') if digits < 18 => {
                n = n * 10 + (c - b'0') as usize;
                digits += 1;
            }
            Some(_) => return Err(Some(())),
        }
        p += 1;
    }
    if digits == 0 {
        return Err(Some(()));
    }
    match buf.get(p + 1) {
        None => Err(None),
        Some(b'\n') => Ok((n, p + 2)),
        Some(_) => Err(Some(())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commands_and_reports_a_torn_tail() {
        let mut buf = Vec::new();
        encode_command(&mut buf, &[b"SET", b"k", b"v"]);
        encode_command(&mut buf, &[b"INCR", b"n"]);
        let full = buf.len();
        encode_command(&mut buf, &[b"SET", b"k2", b"value"]);
        for cut in full..buf.len() {
            let mut r = CommandReader::new(&buf[..cut], 100);
            assert_eq!(r.next().unwrap().unwrap(), vec![&b"SET"[..], b"k", b"v"]);
            assert_eq!(r.next().unwrap().unwrap(), vec![&b"INCR"[..], b"n"]);
            assert_eq!(r.offset(), 100 + full as u64);
            if cut == full {
                assert_eq!(r.next(), Ok(None));
            } else {
                assert_eq!(
                    r.next(),
                    Err(ReadError::Truncated {
                        offset: 100 + full as u64
                    })
                );
            }
        }
    }

    #[test]
    fn a_flipped_byte_is_corruption_with_its_offset() {
        let mut buf = Vec::new();
        encode_command(&mut buf, &[b"SET", b"k", b"v"]);
        encode_command(&mut buf, &[b"SET", b"k", b"v"]);
        let second = buf.len() / 2;
        buf[second] = b'x';
        let mut r = CommandReader::new(&buf, 0);
        assert!(r.next().unwrap().is_some());
        match r.next() {
            Err(ReadError::Corrupt { offset, .. }) => assert_eq!(offset, second as u64),
            other => panic!("{other:?}"),
        }
        // A length that would run past the end is a torn tail, not an allocation.
        let mut r = CommandReader::new(b"*1\r\n$99999999\r\nab", 0);
        assert_eq!(r.next(), Err(ReadError::Truncated { offset: 0 }));
    }
}
