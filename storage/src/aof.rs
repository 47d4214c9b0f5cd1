//! Redis 7 multi-part AOF: manifest, base and incremental files, RESP command stream.
//!
//! Layout (as Redis 7.0): `<dir>/<appenddirname>/` holds `<appendfilename>.manifest`,
//! one base file `<appendfilename>.<seq>.base.rdb` (or `.base.aof`) and incremental files
//! `<appendfilename>.<seq>.incr.aof`, replayed in manifest order.

use crate::rdb::{Stream, StreamId, Value};
use crate::Error;
use std::borrow::Cow;
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
    ///
    /// As Redis 7.0: lines are read 1024 bytes at a time (a longer line, or a last line
    /// without `\n`, is "The AOF manifest file contains too long line"); a line starting
    /// with `#` is a comment; a blank line is an invalid format; keys are matched without
    /// regard to case and a later key overrides an earlier one; the seq is read as `atoll`
    /// does and 0 is invalid. The result holds the base first, then history files, then
    /// incr files, each in file order (Redis's in-memory aofManifest).
    ///
    /// Differences: a negative seq (accepted by Redis for base and history files) and a
    /// name that is not UTF-8 are "Invalid AOF manifest file format".
    pub fn parse(text: &[u8]) -> Result<Manifest, String> {
        const MAX_LINE: usize = 1024;
        let invalid = || "Invalid AOF manifest file format".to_string();
        let mut base: Option<ManifestEntry> = None;
        let mut history = Vec::new();
        let mut incr: Vec<ManifestEntry> = Vec::new();
        let mut maxseq: i64 = 0;
        let mut pos = 0;
        let mut linenum = 0;
        loop {
            if pos >= text.len() {
                if linenum == 0 {
                    return Err("Found an empty AOF manifest".into());
                }
                break;
            }
            // fgets(buf, MANIFEST_MAX_LINE + 1, fp)
            let rest = &text[pos..];
            let limit = rest.len().min(MAX_LINE);
            let chunk_len = match rest[..limit].iter().position(|&c| c == b'\n') {
                Some(nl) => nl + 1,
                None => limit,
            };
            let chunk = &rest[..chunk_len];
            pos += chunk_len;
            linenum += 1;
            if chunk[0] == b'#' {
                continue;
            }
            // C string semantics: the line ends at a NUL byte.
            let cstr = match chunk.iter().position(|&c| c == 0) {
                Some(z) => &chunk[..z],
                None => chunk,
            };
            if !cstr.contains(&b'\n') {
                return Err("The AOF manifest file contains too long line".into());
            }
            let line = trim(cstr, b" \t\r\n");
            if line.is_empty() {
                return Err(invalid());
            }
            let argv = split_args(line).ok_or_else(invalid)?;
            if argv.len() < 6 || argv.len() % 2 != 0 {
                return Err(invalid());
            }
            let mut name: Option<Vec<u8>> = None;
            let mut seq: i64 = 0;
            let mut kind: u8 = 0;
            for pair in argv.chunks(2) {
                let (key, val) = (&pair[0], &pair[1]);
                if key.eq_ignore_ascii_case(b"file") {
                    if val.contains(&b'/') || val.contains(&b'\\') {
                        return Err("File can't be a path, just a filename".into());
                    }
                    // sdsnew(argv[i+1]): a C string.
                    let end = val.iter().position(|&c| c == 0).unwrap_or(val.len());
                    name = Some(val[..end].to_vec());
                } else if key.eq_ignore_ascii_case(b"seq") {
                    seq = atoll(val);
                } else if key.eq_ignore_ascii_case(b"type") {
                    kind = val.first().copied().unwrap_or(0);
                }
            }
            let name = match name {
                Some(n) if seq != 0 && kind != 0 => n,
                _ => return Err(invalid()),
            };
            if seq < 0 {
                return Err(invalid());
            }
            let name = String::from_utf8(name).map_err(|_| invalid())?;
            let mut entry = ManifestEntry {
                name,
                seq: seq as u64,
                kind: FileKind::Base,
            };
            match kind {
                b'b' => {
                    if base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    base = Some(entry);
                }
                b'h' => {
                    entry.kind = FileKind::History;
                    history.push(entry);
                }
                b'i' => {
                    if seq <= maxseq {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    maxseq = seq;
                    entry.kind = FileKind::Incr;
                    incr.push(entry);
                }
                _ => return Err("Unknown AOF file type".into()),
            }
        }
        let mut entries: Vec<ManifestEntry> = base.into_iter().collect();
        entries.extend(history);
        entries.extend(incr);
        Ok(Manifest { entries })
    }

    /// The manifest text as Redis's getAofManifestAsString: base, history, incr files,
    /// one `file <name> seq <n> type <t>` line each, names quoted when sdsneedsrepr says so.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for kind in [FileKind::Base, FileKind::History, FileKind::Incr] {
            for e in self.entries.iter().filter(|e| e.kind == kind) {
                out.extend_from_slice(b"file ");
                let name = e.name.as_bytes();
                if needs_repr(name) {
                    cat_repr(&mut out, name);
                } else {
                    out.extend_from_slice(name);
                }
                let t = match e.kind {
                    FileKind::Base => 'b',
                    FileKind::History => 'h',
                    FileKind::Incr => 'i',
                };
                out.extend_from_slice(format!(" seq {} type {t}\n", e.seq).as_bytes());
            }
        }
        out
    }

    /// The base file, if any.
    pub fn base(&self) -> Option<&ManifestEntry> {
        self.entries.iter().find(|e| e.kind == FileKind::Base)
    }
    /// History files (replaced by a rewrite, waiting to be deleted), in file order.
    pub fn history(&self) -> impl Iterator<Item = &ManifestEntry> {
        self.entries.iter().filter(|e| e.kind == FileKind::History)
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

/// Writes `dir/name` through a temp file, fsync and rename, then fsyncs the directory
/// (Redis's writeAofManifestFile: `temp-<name>`, mode 0644).
pub fn write_atomic(dir: &Path, name: &str, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = dir.join(format!("temp-{name}"));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, dir.join(name))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::File::open(dir)?.sync_all()
}

/// sdstrim: strips bytes of `set` from both ends.
fn trim<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|c| !set.contains(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !set.contains(c))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// C isspace in the "C" locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// sdssplitargs: space-separated arguments; "double quoted" with `\n \r \t \b \a \xHH`
/// escapes, 'single quoted' with `\'` only; a closing quote must be followed by a space or
/// the end. `None` on unbalanced quotes.
fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut argv = Vec::new();
    let mut p = 0;
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    loop {
        while at(p) != 0 && is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Some(argv);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = at(p);
            if inq {
                if c == 0 {
                    return None;
                } else if c == b'\\' && at(p + 1) == b'x' {
                    match (hex(at(p + 2)), hex(at(p + 3))) {
                        (Some(h), Some(l)) => {
                            cur.push(h * 16 + l);
                            p += 3;
                        }
                        // Not `\xHH`: an escaped 'x', as sdssplitargs' default case.
                        _ => {
                            cur.push(b'x');
                            p += 1;
                        }
                    }
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == 0 {
                    return None;
                } else if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            p += 1;
        }
        argv.push(cur);
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// C atoll: leading spaces, a sign, digits up to the first non-digit; saturates.
fn atoll(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut n: i64 = 0;
    while let Some(c @ b'0'..=b'9') = s.get(i).copied() {
        let d = (c - b'0') as i64;
        n = if neg {
            n.saturating_mul(10).saturating_sub(d)
        } else {
            n.saturating_mul(10).saturating_add(d)
        };
        i += 1;
    }
    n
}

/// sdsneedsrepr.
fn needs_repr(s: &[u8]) -> bool {
    s.iter().any(|&c| {
        matches!(c, b'\\' | b'"' | b'\n' | b'\r' | b'\t' | 0x07 | 0x08)
            || !(0x20..=0x7e).contains(&c)
            || is_space(c)
    })
}

/// sdscatrepr: a double-quoted, escaped copy.
fn cat_repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// Appends one command as a RESP array of bulk strings, as Redis writes its AOF
/// (catAppendOnlyGenericCommand).
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    let mut n = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(n.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(n.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Redis 7.0's AOF_REWRITE_ITEMS_PER_CMD: elements per RPUSH/SADD/ZADD/HMSET.
const ITEMS_PER_CMD: usize = 64;

fn id_arg(id: &StreamId) -> Vec<u8> {
    format!("{}-{}", id.ms, id.seq).into_bytes()
}

/// Appends the commands that rebuild one key, as Redis 7.0's rewriteAppendOnlyFileRio
/// writes a base file without RDB preamble (`aof-use-rdb-preamble no`): collections in
/// chunks of 64 elements, streams as XADD + XSETID + XGROUP CREATE + XCLAIM ... FORCE
/// (XGROUP CREATECONSUMER for consumers with nothing pending), the TTL as PEXPIREAT.
pub fn rewrite_key(out: &mut Vec<u8>, key: &[u8], value: &Value<'_>, expire_ms: Option<i64>) {
    fn chunked<'v, T>(
        out: &mut Vec<u8>,
        cmd: &'static [u8],
        key: &'v [u8],
        items: &'v [T],
        args: impl Fn(&'v T, &mut Vec<Cow<'v, [u8]>>),
    ) {
        for chunk in items.chunks(ITEMS_PER_CMD) {
            let mut argv: Vec<Cow<[u8]>> = vec![Cow::Borrowed(cmd), Cow::Borrowed(key)];
            for item in chunk {
                args(item, &mut argv);
            }
            encode_command(out, &argv);
        }
    }
    match value {
        Value::String(v) => encode_command(out, &[b"SET", key, v]),
        Value::List(items) => chunked(out, b"RPUSH", key, items, |i, a| a.push(Cow::Borrowed(i))),
        Value::Set(items) => chunked(out, b"SADD", key, items, |i, a| a.push(Cow::Borrowed(i))),
        Value::Hash(pairs) => chunked(out, b"HMSET", key, pairs, |(f, v), a| {
            a.push(Cow::Borrowed(f));
            a.push(Cow::Borrowed(v));
        }),
        Value::ZSet(pairs) => chunked(out, b"ZADD", key, pairs, |(m, score), a| {
            a.push(Cow::Owned(
                rill_protocol::fmt::double_g17(*score).into_bytes(),
            ));
            a.push(Cow::Borrowed(m));
        }),
        Value::Stream(s) => rewrite_stream(out, key, s),
    }
    if let Some(t) = expire_ms {
        encode_command(out, &[&b"PEXPIREAT"[..], key, t.to_string().as_bytes()]);
    }
}

/// rewriteStreamObject.
fn rewrite_stream(out: &mut Vec<u8>, key: &[u8], s: &Stream<'_>) {
    if s.entries.is_empty() {
        // The XADD MAXLEN 0 trick creates the (empty) stream key.
        encode_command(
            out,
            &[&b"XADD"[..], key, b"MAXLEN", b"0", b"0-1", b"x", b"y"],
        );
    }
    for e in &s.entries {
        let id = id_arg(&e.id);
        let mut argv: Vec<&[u8]> = vec![b"XADD", key, &id];
        for (f, v) in &e.fields {
            argv.push(f);
            argv.push(v);
        }
        encode_command(out, &argv);
    }
    let added = s.entries_added.to_string();
    encode_command(
        out,
        &[
            &b"XSETID"[..],
            key,
            &id_arg(&s.last_id),
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            &id_arg(&s.max_deleted_entry_id),
        ],
    );
    for g in &s.groups {
        let read = g.entries_read.to_string();
        encode_command(
            out,
            &[
                &b"XGROUP"[..],
                b"CREATE",
                key,
                &g.name,
                &id_arg(&g.last_id),
                b"ENTRIESREAD",
                read.as_bytes(),
            ],
        );
        for c in &g.consumers {
            if c.pel.is_empty() {
                encode_command(
                    out,
                    &[&b"XGROUP"[..], b"CREATECONSUMER", key, &g.name, &c.name],
                );
                continue;
            }
            for id in &c.pel {
                // The group PEL is in id order, as in the RDB.
                let Ok(i) = g.pel.binary_search_by_key(id, |p| p.id) else {
                    continue;
                };
                let nack = &g.pel[i];
                encode_command(
                    out,
                    &[
                        &b"XCLAIM"[..],
                        key,
                        &g.name,
                        &c.name,
                        b"0",
                        &id_arg(id),
                        b"TIME",
                        nack.delivery_time.to_string().as_bytes(),
                        b"RETRYCOUNT",
                        nack.delivery_count.to_string().as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                );
            }
        }
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
    use crate::rdb::Blob;

    fn commands(buf: &[u8]) -> Vec<Vec<String>> {
        let mut r = CommandReader::new(buf, 0);
        let mut out = Vec::new();
        while let Some(argv) = r.next().unwrap() {
            out.push(
                argv.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn rewrite_chunks_collections_and_ends_with_the_ttl() {
        let items: Vec<Blob> = (0..130)
            .map(|i| Cow::Owned(i.to_string().into_bytes()))
            .collect();
        let mut out = Vec::new();
        rewrite_key(&mut out, b"l", &Value::List(items), Some(1_700_000_000_000));
        let cmds = commands(&out);
        let lens: Vec<usize> = cmds.iter().map(|c| c.len()).collect();
        assert_eq!(lens, [66, 66, 4, 3]);
        assert_eq!(cmds[2][..3], ["RPUSH", "l", "128"]);
        assert_eq!(cmds[3], ["PEXPIREAT", "l", "1700000000000"]);

        out.clear();
        let z = vec![
            (Cow::Borrowed(&b"m"[..]), 0.1),
            (Cow::Borrowed(&b"n"[..]), f64::NEG_INFINITY),
        ];
        rewrite_key(&mut out, b"z", &Value::ZSet(z), None);
        assert_eq!(
            commands(&out),
            [["ZADD", "z", "0.10000000000000001", "m", "-inf", "n"]]
        );
    }

    #[test]
    fn rewrite_of_an_empty_stream_with_a_group_uses_the_maxlen_0_trick() {
        let s = Stream {
            last_id: StreamId { ms: 5, seq: 5 },
            entries_added: 1,
            groups: vec![crate::rdb::Group {
                name: Cow::Borrowed(b"g"),
                last_id: StreamId { ms: 5, seq: 5 },
                entries_read: 1,
                pel: vec![],
                consumers: vec![crate::rdb::Consumer {
                    name: Cow::Borrowed(b"c"),
                    seen_time: 0,
                    pel: vec![],
                }],
            }],
            ..Default::default()
        };
        let mut out = Vec::new();
        rewrite_key(&mut out, b"s", &Value::Stream(Box::new(s)), None);
        assert_eq!(
            commands(&out),
            [
                &["XADD", "s", "MAXLEN", "0", "0-1", "x", "y"][..],
                &[
                    "XSETID",
                    "s",
                    "5-5",
                    "ENTRIESADDED",
                    "1",
                    "MAXDELETEDID",
                    "0-0"
                ],
                &["XGROUP", "CREATE", "s", "g", "5-5", "ENTRIESREAD", "1"],
                &["XGROUP", "CREATECONSUMER", "s", "g", "c"],
            ]
        );
    }

    #[test]
    fn reads_commands_and_reports_a_torn_tail() {
        let mut buf = Vec::new();
        encode_command(&mut buf, &[&b"SET"[..], b"k", b"v"]);
        encode_command(&mut buf, &[&b"INCR"[..], b"n"]);
        let full = buf.len();
        encode_command(&mut buf, &[&b"SET"[..], b"k2", b"value"]);
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
        encode_command(&mut buf, &[&b"SET"[..], b"k", b"v"]);
        encode_command(&mut buf, &[&b"SET"[..], b"k", b"v"]);
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
    /// Written by redis-server 7.0.15 (`--appendonly yes`, two BGREWRITEAOFs).
    const REDIS_MANIFEST: &str =
        "file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n";
    /// Written by redis-server 7.0.15 with `--appendfilename 'my "file".aof'
    /// --aof-disable-auto-gc yes` after two BGREWRITEAOFs.
    const REDIS_MANIFEST_QUOTED: &str = concat!(
        "file \"my \\\"file\\\".aof.3.base.rdb\" seq 3 type b\n",
        "file \"my \\\"file\\\".aof.2.incr.aof\" seq 2 type h\n",
        "file \"my \\\"file\\\".aof.2.base.rdb\" seq 2 type h\n",
        "file \"my \\\"file\\\".aof.1.incr.aof\" seq 1 type h\n",
        "file \"my \\\"file\\\".aof.1.base.rdb\" seq 1 type h\n",
        "file \"my \\\"file\\\".aof.3.incr.aof\" seq 3 type i\n",
    );

    fn entry(name: &str, seq: u64, kind: FileKind) -> ManifestEntry {
        ManifestEntry {
            name: name.into(),
            seq,
            kind,
        }
    }

    #[test]
    fn parses_and_rewrites_redis_manifests_byte_for_byte() {
        let m = Manifest::parse(REDIS_MANIFEST.as_bytes()).unwrap();
        assert_eq!(
            m.entries,
            vec![
                entry("appendonly.aof.3.base.rdb", 3, FileKind::Base),
                entry("appendonly.aof.3.incr.aof", 3, FileKind::Incr),
            ]
        );
        assert_eq!(m.base().unwrap().seq, 3);
        assert_eq!(m.incrs().count(), 1);
        assert_eq!(m.to_bytes(), REDIS_MANIFEST.as_bytes());

        let m = Manifest::parse(REDIS_MANIFEST_QUOTED.as_bytes()).unwrap();
        assert_eq!(m.entries.len(), 6);
        assert_eq!(m.base().unwrap().name, "my \"file\".aof.3.base.rdb");
        assert_eq!(m.history().count(), 4);
        assert_eq!(
            m.incrs().collect::<Vec<_>>(),
            vec![&entry("my \"file\".aof.3.incr.aof", 3, FileKind::Incr)]
        );
        assert_eq!(m.to_bytes(), REDIS_MANIFEST_QUOTED.as_bytes());
        assert_eq!(Manifest::default().base(), None);
    }

    #[test]
    fn parse_follows_aof_load_manifest_from_file() {
        let ok = |t: &str| Manifest::parse(t.as_bytes()).unwrap().entries;
        // Comments, surrounding spaces and CR, case-insensitive keys, any key order,
        // unknown key pairs, atoll-style seq and first-byte type, later keys win.
        assert_eq!(
            ok("# comment\n  FILE a seq 1 TYPE b  \r\n"),
            vec![entry("a", 1, FileKind::Base)]
        );
        assert_eq!(
            ok("seq 2x type ixx file x k v\n"),
            vec![entry("x", 2, FileKind::Incr)]
        );
        assert_eq!(
            ok("file x file y seq 1 type i\n"),
            vec![entry("y", 1, FileKind::Incr)]
        );
        // Quoting as sdssplitargs, incl. single quotes and \x escapes.
        assert_eq!(ok("file \"a\\x20b\" seq 1 type i\n")[0].name, "a b");
        assert_eq!(ok("file 'a b' seq 1 type i\n")[0].name, "a b");
        assert_eq!(ok("file a\"b c\" seq 1 type i\n")[0].name, "ab c");
        // Order as Redis keeps it: base, history, incr.
        assert_eq!(
            ok("file i seq 1 type i\nfile h seq 1 type h\nfile b seq 1 type b\n"),
            vec![
                entry("b", 1, FileKind::Base),
                entry("h", 1, FileKind::History),
                entry("i", 1, FileKind::Incr),
            ]
        );
        // Only comments: an empty manifest, not an error.
        assert_eq!(ok("# only\n"), vec![]);

        // Each error text checked against redis-server 7.0.15 at startup.
        let err = |t: &str| Manifest::parse(t.as_bytes()).unwrap_err();
        assert_eq!(err(""), "Found an empty AOF manifest");
        assert_eq!(
            err("file a seq 1 type i"),
            "The AOF manifest file contains too long line"
        );
        let long = format!("file {} seq 1 type i\n", "a".repeat(1100));
        assert_eq!(err(&long), "The AOF manifest file contains too long line");
        for bad in [
            "\nfile a seq 1 type i\n",
            "file a seq 1 type i\n   \n",
            "file \"a b seq 1 type i\n",
            "file \"a b\"x seq 1 type i\n",
            "file a seq 1 type i extra\n",
            "file a seq 1\n",
            "file a seq 0 type i\n",
            "file a seq 1 type \"\"\n",
            "seq 1 type i k v\n",
        ] {
            assert_eq!(err(bad), "Invalid AOF manifest file format", "{bad:?}");
        }
        assert_eq!(
            err("file a/b seq 1 type i\n"),
            "File can't be a path, just a filename"
        );
        assert_eq!(
            err("file a seq 1 type b\nfile b seq 2 type b\n"),
            "Found duplicate base file information"
        );
        assert_eq!(
            err("file a seq 2 type i\nfile b seq 2 type i\n"),
            "Found a non-monotonic sequence number"
        );
        assert_eq!(err("file a seq 1 type x\n"), "Unknown AOF file type");
    }

    #[test]
    fn names_needing_repr_are_quoted_and_read_back() {
        for name in [
            "plain.aof",
            "a b",
            "q\"uote",
            "tab\there",
            "nl\nx",
            "\u{7f}é",
        ] {
            let m = Manifest {
                entries: vec![entry(name, 7, FileKind::History)],
            };
            let text = m.to_bytes();
            assert_eq!(
                Manifest::parse(&text).unwrap(),
                m,
                "{}",
                String::from_utf8_lossy(&text)
            );
        }
        let m = Manifest {
            entries: vec![entry("a b\u{1}", 1, FileKind::Base)],
        };
        assert_eq!(m.to_bytes(), b"file \"a b\\x01\" seq 1 type b\n");
    }

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("rill-aof-wa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write_atomic(&dir, "m.manifest", b"one").unwrap();
        write_atomic(&dir, "m.manifest", b"two").unwrap();
        assert_eq!(std::fs::read(dir.join("m.manifest")).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("m.manifest")]);
        assert!(write_atomic(&dir.join("missing"), "x", b"").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
