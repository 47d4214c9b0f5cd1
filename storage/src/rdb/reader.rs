//! RdbReader: every encoding Redis 7.0 loads (listpack, quicklist, intset, ziplist, zipmap).
use super::crc64::{crc64, Crc64};
use super::listpack::{self, Ele};
use super::lzf;
use super::util::parse_f64;
use super::ziplist::{decode_intset, decode_ziplist, decode_zipmap};
use super::*;
use crate::Error;
use std::borrow::Cow;
use std::collections::HashSet;
use std::io::BufRead;

/// One top-level record of an RDB file.
#[derive(Debug, PartialEq)]
pub enum Item {
    Aux {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    SelectDb(u64),
    ResizeDb {
        db_size: u64,
        expires_size: u64,
    },
    /// RDB_OPCODE_FUNCTION2: a function library's source code.
    Function(Vec<u8>),
    Entry {
        key: Vec<u8>,
        value: Value<'static>,
        meta: KeyMeta,
    },
}

// Opcodes (rdb.h).
pub(crate) const OP_FUNCTION_PRE_GA: u8 = 0xF6;
pub(crate) const OP_FUNCTION2: u8 = 0xF5;
pub(crate) const OP_MODULE_AUX: u8 = 0xF7;
pub(crate) const OP_IDLE: u8 = 0xF8;
pub(crate) const OP_FREQ: u8 = 0xF9;
pub(crate) const OP_AUX: u8 = 0xFA;
pub(crate) const OP_RESIZEDB: u8 = 0xFB;
pub(crate) const OP_EXPIRETIME_MS: u8 = 0xFC;
pub(crate) const OP_EXPIRETIME: u8 = 0xFD;
pub(crate) const OP_SELECTDB: u8 = 0xFE;
pub(crate) const OP_EOF: u8 = 0xFF;

// Object types (rdb.h).
pub(crate) const T_STRING: u8 = 0;
pub(crate) const T_LIST: u8 = 1;
pub(crate) const T_SET: u8 = 2;
pub(crate) const T_ZSET: u8 = 3;
pub(crate) const T_HASH: u8 = 4;
pub(crate) const T_ZSET_2: u8 = 5;
pub(crate) const T_MODULE_PRE_GA: u8 = 6;
pub(crate) const T_MODULE_2: u8 = 7;
pub(crate) const T_HASH_ZIPMAP: u8 = 9;
pub(crate) const T_LIST_ZIPLIST: u8 = 10;
pub(crate) const T_SET_INTSET: u8 = 11;
pub(crate) const T_ZSET_ZIPLIST: u8 = 12;
pub(crate) const T_HASH_ZIPLIST: u8 = 13;
pub(crate) const T_LIST_QUICKLIST: u8 = 14;
pub(crate) const T_STREAM_LISTPACKS: u8 = 15;
pub(crate) const T_HASH_LISTPACK: u8 = 16;
pub(crate) const T_ZSET_LISTPACK: u8 = 17;
pub(crate) const T_LIST_QUICKLIST_2: u8 = 18;
pub(crate) const T_STREAM_LISTPACKS_2: u8 = 19;
pub(crate) const T_SET_LISTPACK: u8 = 20;
pub(crate) const T_STREAM_LISTPACKS_3: u8 = 21;

// String encodings (RDB_ENC_*).
const ENC_INT8: u64 = 0;
const ENC_INT16: u64 = 1;
const ENC_INT32: u64 = 2;
const ENC_LZF: u64 = 3;

const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;

/// Stream listpack entry flags (t_stream.c).
pub(crate) const STREAM_ITEM_FLAG_DELETED: i64 = 1;
pub(crate) const STREAM_ITEM_FLAG_SAMEFIELDS: i64 = 2;

/// Initial capacity cap for collections whose length comes from the file.
const PREALLOC_CAP: usize = 4096;

/// Byte source with offset and running CRC, plus every object decoder.
struct Parser<R: BufRead> {
    r: R,
    offset: u64,
    crc: Crc64,
    path: String,
}

type Res<T> = Result<T, Error>;

impl<R: BufRead> Parser<R> {
    fn corrupt(&self, reason: impl Into<String>) -> Error {
        Error::Corrupt {
            path: self.path.clone(),
            offset: self.offset,
            reason: reason.into(),
        }
    }

    fn eof(&self) -> Error {
        self.corrupt("unexpected end of file")
    }

    #[inline]
    fn read_u8(&mut self) -> Res<u8> {
        let buf = self.r.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Err(self.eof());
        };
        self.crc.update(&buf[..1]);
        self.r.consume(1);
        self.offset += 1;
        Ok(b)
    }

    fn read_exact(&mut self, out: &mut [u8]) -> Res<()> {
        let mut done = 0;
        while done < out.len() {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(self.eof());
            }
            let n = buf.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&buf[..n]);
            self.crc.update(&buf[..n]);
            self.r.consume(n);
            self.offset += n as u64;
            done += n;
        }
        Ok(())
    }

    fn read_array<const N: usize>(&mut self) -> Res<[u8; N]> {
        let mut a = [0u8; N];
        self.read_exact(&mut a)?;
        Ok(a)
    }

    /// `n` bytes, allocated as they arrive (a hostile length costs no memory up front).
    fn read_bytes(&mut self, n: u64) -> Res<Vec<u8>> {
        let n = usize::try_from(n).map_err(|_| self.corrupt("length too large"))?;
        let mut v = Vec::with_capacity(n.min(1 << 20));
        while v.len() < n {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(self.eof());
            }
            let k = buf.len().min(n - v.len());
            v.extend_from_slice(&buf[..k]);
            self.crc.update(&buf[..k]);
            self.r.consume(k);
            self.offset += k as u64;
        }
        Ok(v)
    }

    /// rdbLoadLenByRef: (length or encoding, is_encoded).
    fn read_len_enc(&mut self) -> Res<(u64, bool)> {
        let b = self.read_u8()?;
        match b >> 6 {
            0 => Ok(((b & 0x3f) as u64, false)),
            1 => {
                let b2 = self.read_u8()?;
                Ok(((((b & 0x3f) as u64) << 8) | b2 as u64, false))
            }
            2 => match b {
                0x80 => Ok((u32::from_be_bytes(self.read_array()?) as u64, false)),
                0x81 => Ok((u64::from_be_bytes(self.read_array()?), false)),
                _ => Err(self.corrupt(format!("unknown length encoding {b:#04x}"))),
            },
            _ => Ok(((b & 0x3f) as u64, true)),
        }
    }

    fn read_len(&mut self) -> Res<u64> {
        match self.read_len_enc()? {
            (n, false) => Ok(n),
            (_, true) => Err(self.corrupt("unexpected encoded length")),
        }
    }

    /// A length used as a collection count.
    fn read_count(&mut self) -> Res<usize> {
        let n = self.read_len()?;
        usize::try_from(n).map_err(|_| self.corrupt("count too large"))
    }

    /// rdbGenericLoadStringObject: raw, integer-encoded or LZF.
    fn read_string(&mut self) -> Res<Vec<u8>> {
        let (n, enc) = self.read_len_enc()?;
        if !enc {
            return self.read_bytes(n);
        }
        match n {
            ENC_INT8 => Ok((self.read_u8()? as i8).to_string().into_bytes()),
            ENC_INT16 => Ok(i16::from_le_bytes(self.read_array()?)
                .to_string()
                .into_bytes()),
            ENC_INT32 => Ok(i32::from_le_bytes(self.read_array()?)
                .to_string()
                .into_bytes()),
            ENC_LZF => {
                let clen = self.read_len()?;
                let len = self.read_len()?;
                // LZF expands at most 264 bytes per 3-byte back reference.
                if len > clen.saturating_mul(89).saturating_add(64) || (len > 0 && clen == 0) {
                    return Err(self.corrupt("implausible LZF lengths"));
                }
                let c = self.read_bytes(clen)?;
                lzf::decompress(&c, len as usize)
                    .ok_or_else(|| self.corrupt("invalid LZF compressed string"))
            }
            _ => Err(self.corrupt(format!("unknown string encoding {n}"))),
        }
    }

    fn read_i64_le(&mut self) -> Res<i64> {
        Ok(i64::from_le_bytes(self.read_array()?))
    }

    /// rdbLoadDoubleValue (the old string form used by RDB_TYPE_ZSET).
    fn read_string_double(&mut self) -> Res<f64> {
        let n = self.read_u8()?;
        match n {
            255 => Ok(f64::NEG_INFINITY),
            254 => Ok(f64::INFINITY),
            253 => Ok(f64::NAN),
            _ => {
                let mut b = [0u8; 253];
                self.read_exact(&mut b[..n as usize])?;
                parse_f64(&b[..n as usize]).ok_or_else(|| self.corrupt("bad double value"))
            }
        }
    }

    fn read_stream_id_raw(&mut self) -> Res<StreamId> {
        let b: [u8; 16] = self.read_array()?;
        Ok(decode_id(&b))
    }

    fn read_stream_id_lens(&mut self) -> Res<StreamId> {
        let ms = self.read_len()?;
        let seq = self.read_len()?;
        Ok(StreamId { ms, seq })
    }

    fn lp<'b>(&self, blob: &'b [u8]) -> Res<Vec<Ele<'b>>> {
        listpack::decode(blob).map_err(|e| self.corrupt(e))
    }

    fn zl<'b>(&self, blob: &'b [u8]) -> Res<Vec<Ele<'b>>> {
        decode_ziplist(blob).map_err(|e| self.corrupt(e))
    }

    fn pairs(&self, eles: Vec<Ele<'_>>) -> Res<Vec<(Blob<'static>, Blob<'static>)>> {
        if eles.len() & 1 != 0 {
            return Err(self.corrupt("odd number of elements in a hash"));
        }
        Ok(eles
            .chunks_exact(2)
            .map(|c| (owned(c[0].to_vec()), owned(c[1].to_vec())))
            .collect())
    }

    fn zpairs(&self, eles: Vec<Ele<'_>>) -> Res<Vec<(Blob<'static>, f64)>> {
        if eles.len() & 1 != 0 {
            return Err(self.corrupt("odd number of elements in a sorted set"));
        }
        let mut out = Vec::with_capacity(eles.len() / 2);
        for c in eles.chunks_exact(2) {
            let score = match c[1] {
                Ele::Int(v) => v as f64,
                Ele::Str(s) => {
                    parse_f64(s).ok_or_else(|| self.corrupt("bad score in a sorted set"))?
                }
            };
            if score.is_nan() {
                return Err(self.corrupt("NaN score in a sorted set"));
            }
            out.push((owned(c[0].to_vec()), score));
        }
        Ok(out)
    }

    /// rdbLoadObject for `t`.
    fn read_object(&mut self, t: u8) -> Res<Value<'static>> {
        Ok(match t {
            T_STRING => Value::String(owned(self.read_string()?)),
            T_LIST | T_SET => {
                let n = self.read_count()?;
                let mut v = Vec::with_capacity(n.min(PREALLOC_CAP));
                for _ in 0..n {
                    v.push(owned(self.read_string()?));
                }
                if t == T_LIST {
                    Value::List(v)
                } else {
                    Value::Set(v)
                }
            }
            T_ZSET | T_ZSET_2 => {
                let n = self.read_count()?;
                let mut v = Vec::with_capacity(n.min(PREALLOC_CAP));
                for _ in 0..n {
                    let m = self.read_string()?;
                    let s = if t == T_ZSET {
                        self.read_string_double()?
                    } else {
                        f64::from_le_bytes(self.read_array()?)
                    };
                    if s.is_nan() {
                        return Err(self.corrupt("NaN score in a sorted set"));
                    }
                    v.push((owned(m), s));
                }
                Value::ZSet(v)
            }
            T_HASH => {
                let n = self.read_count()?;
                let mut v = Vec::with_capacity(n.min(PREALLOC_CAP));
                for _ in 0..n {
                    let f = self.read_string()?;
                    let x = self.read_string()?;
                    v.push((owned(f), owned(x)));
                }
                Value::Hash(v)
            }
            T_MODULE_PRE_GA | T_MODULE_2 => return Err(self.corrupt("module data not supported")),
            T_HASH_ZIPMAP => {
                let blob = self.read_string()?;
                let pairs = decode_zipmap(&blob).map_err(|e| self.corrupt(e))?;
                Value::Hash(
                    pairs
                        .into_iter()
                        .map(|(f, v)| (owned(f.to_vec()), owned(v.to_vec())))
                        .collect(),
                )
            }
            T_LIST_ZIPLIST => {
                let blob = self.read_string()?;
                Value::List(self.zl(&blob)?.iter().map(|e| owned(e.to_vec())).collect())
            }
            T_SET_INTSET => {
                let blob = self.read_string()?;
                let v = decode_intset(&blob).map_err(|e| self.corrupt(e))?;
                Value::Set(
                    v.into_iter()
                        .map(|i| owned(i.to_string().into_bytes()))
                        .collect(),
                )
            }
            T_SET_LISTPACK => {
                let blob = self.read_string()?;
                Value::Set(self.lp(&blob)?.iter().map(|e| owned(e.to_vec())).collect())
            }
            T_ZSET_ZIPLIST => {
                let blob = self.read_string()?;
                let e = self.zl(&blob)?;
                Value::ZSet(self.zpairs(e)?)
            }
            T_ZSET_LISTPACK => {
                let blob = self.read_string()?;
                let e = self.lp(&blob)?;
                Value::ZSet(self.zpairs(e)?)
            }
            T_HASH_ZIPLIST => {
                let blob = self.read_string()?;
                let e = self.zl(&blob)?;
                Value::Hash(self.pairs(e)?)
            }
            T_HASH_LISTPACK => {
                let blob = self.read_string()?;
                let e = self.lp(&blob)?;
                Value::Hash(self.pairs(e)?)
            }
            T_LIST_QUICKLIST | T_LIST_QUICKLIST_2 => {
                let nodes = self.read_count()?;
                let mut v = Vec::new();
                for _ in 0..nodes {
                    let container = if t == T_LIST_QUICKLIST_2 {
                        self.read_len()?
                    } else {
                        QUICKLIST_NODE_PACKED
                    };
                    let blob = self.read_string()?;
                    match container {
                        QUICKLIST_NODE_PLAIN => v.push(owned(blob)),
                        QUICKLIST_NODE_PACKED => {
                            let e = if t == T_LIST_QUICKLIST {
                                self.zl(&blob)?
                            } else {
                                self.lp(&blob)?
                            };
                            v.extend(e.iter().map(|e| owned(e.to_vec())));
                        }
                        _ => return Err(self.corrupt("unknown quicklist node container")),
                    }
                }
                Value::List(v)
            }
            T_STREAM_LISTPACKS | T_STREAM_LISTPACKS_2 | T_STREAM_LISTPACKS_3 => {
                Value::Stream(Box::new(self.read_stream(t)?))
            }
            _ => return Err(self.corrupt(format!("unknown object type {t}"))),
        })
    }

    fn read_stream(&mut self, t: u8) -> Res<Stream<'static>> {
        let mut s = Stream::default();
        let nodes = self.read_count()?;
        for _ in 0..nodes {
            let key = self.read_string()?;
            let Ok(key) = <[u8; 16]>::try_from(key.as_slice()) else {
                return Err(self.corrupt("stream node key is not a 128 bit ID"));
            };
            let master = decode_id(&key);
            let blob = self.read_string()?;
            let e = self.lp(&blob)?;
            if e.is_empty() {
                return Err(self.corrupt("empty listpack inside stream"));
            }
            let before = s.entries.len();
            parse_stream_node(master, &e, &mut s.entries).map_err(|r| self.corrupt(r))?;
            if s.entries[before..].windows(2).any(|w| w[0].id >= w[1].id)
                || (before > 0
                    && s.entries.len() > before
                    && s.entries[before - 1].id >= s.entries[before].id)
            {
                return Err(self.corrupt("stream entries out of order"));
            }
        }
        s.length = self.read_len()?;
        s.last_id = self.read_stream_id_lens()?;
        if t >= T_STREAM_LISTPACKS_2 {
            s.first_id = self.read_stream_id_lens()?;
            s.max_deleted_entry_id = self.read_stream_id_lens()?;
            s.entries_added = self.read_len()?;
        } else {
            s.first_id = s.entries.first().map(|e| e.id).unwrap_or_default();
            s.entries_added = s.length;
        }
        let ngroups = self.read_count()?;
        for _ in 0..ngroups {
            let name = self.read_string()?;
            let last_id = self.read_stream_id_lens()?;
            let entries_read = if t >= T_STREAM_LISTPACKS_2 {
                self.read_len()? as i64
            } else {
                -1
            };
            let npel = self.read_count()?;
            let mut pel = Vec::with_capacity(npel.min(PREALLOC_CAP));
            for _ in 0..npel {
                let id = self.read_stream_id_raw()?;
                let delivery_time = self.read_i64_le()?;
                let delivery_count = self.read_len()?;
                pel.push(PendingEntry {
                    id,
                    delivery_time,
                    delivery_count,
                });
            }
            let ids: HashSet<StreamId> = pel.iter().map(|p| p.id).collect();
            if ids.len() != pel.len() {
                return Err(self.corrupt("duplicated ID in a consumer group PEL"));
            }
            let ncons = self.read_count()?;
            let mut consumers = Vec::with_capacity(ncons.min(PREALLOC_CAP));
            let mut owned_ids = HashSet::new();
            for _ in 0..ncons {
                let cname = self.read_string()?;
                let seen_time = self.read_i64_le()?;
                if t >= T_STREAM_LISTPACKS_3 {
                    let _active_time = self.read_i64_le()?;
                }
                let n = self.read_count()?;
                let mut cpel = Vec::with_capacity(n.min(PREALLOC_CAP));
                for _ in 0..n {
                    let id = self.read_stream_id_raw()?;
                    if !ids.contains(&id) {
                        return Err(self.corrupt("consumer PEL entry not in the group PEL"));
                    }
                    if !owned_ids.insert(id) {
                        return Err(self.corrupt("PEL entry owned by two consumers"));
                    }
                    cpel.push(id);
                }
                consumers.push(Consumer {
                    name: owned(cname),
                    seen_time,
                    pel: cpel,
                });
            }
            s.groups.push(Group {
                name: owned(name),
                last_id,
                entries_read,
                pel,
                consumers,
            });
        }
        Ok(s)
    }
}

fn owned(v: Vec<u8>) -> Blob<'static> {
    Cow::Owned(v)
}

pub(crate) fn decode_id(b: &[u8; 16]) -> StreamId {
    StreamId {
        ms: u64::from_be_bytes(b[0..8].try_into().unwrap()),
        seq: u64::from_be_bytes(b[8..16].try_into().unwrap()),
    }
}

/// One stream listpack node (t_stream.c layout): master entry, then entries; live
/// entries are appended to `out`.
fn parse_stream_node(
    master: StreamId,
    e: &[Ele<'_>],
    out: &mut Vec<StreamEntry<'static>>,
) -> Result<(), &'static str> {
    let mut i = 0usize;
    fn take<'a>(e: &[Ele<'a>], i: &mut usize) -> Result<Ele<'a>, &'static str> {
        let x = *e.get(*i).ok_or("truncated stream listpack")?;
        *i += 1;
        Ok(x)
    }
    let int = |x: Ele<'_>| x.as_int().ok_or("expected an integer in stream listpack");
    let count = int(take(e, &mut i)?)?;
    let deleted = int(take(e, &mut i)?)?;
    let nmaster = int(take(e, &mut i)?)?;
    if count < 0 || deleted < 0 || nmaster < 0 || nmaster as usize > e.len() {
        return Err("bad stream listpack master entry");
    }
    let mut mfields = Vec::with_capacity(nmaster as usize);
    for _ in 0..nmaster {
        mfields.push(take(e, &mut i)?);
    }
    if int(take(e, &mut i)?)? != 0 {
        return Err("bad stream master entry terminator");
    }
    let (mut live, mut dead) = (0i64, 0i64);
    while i < e.len() {
        let flags = int(take(e, &mut i)?)?;
        let ms = master.ms.wrapping_add(int(take(e, &mut i)?)? as u64);
        let seq = master.seq.wrapping_add(int(take(e, &mut i)?)? as u64);
        let same = flags & STREAM_ITEM_FLAG_SAMEFIELDS != 0;
        let n = if same {
            nmaster
        } else {
            int(take(e, &mut i)?)?
        };
        if n < 0 || n as usize > e.len() {
            return Err("bad stream entry field count");
        }
        let mut fields = Vec::with_capacity(n as usize);
        for k in 0..n as usize {
            let f = if same {
                *mfields.get(k).ok_or("bad stream entry field count")?
            } else {
                take(e, &mut i)?
            };
            let v = take(e, &mut i)?;
            fields.push((owned(f.to_vec()), owned(v.to_vec())));
        }
        let lp_count = int(take(e, &mut i)?)?;
        let expect = if same { n + 3 } else { 2 * n + 4 };
        if lp_count != expect {
            return Err("bad stream entry lp-count");
        }
        if flags & STREAM_ITEM_FLAG_DELETED != 0 {
            dead += 1;
        } else {
            live += 1;
            out.push(StreamEntry {
                id: StreamId { ms, seq },
                fields,
            });
        }
    }
    if live != count || dead != deleted {
        return Err("stream listpack counts mismatch");
    }
    Ok(())
}

pub struct RdbReader<R: BufRead> {
    p: Parser<R>,
    version: u16,
    done: bool,
}

impl<R: BufRead> RdbReader<R> {
    /// Reads and checks the `REDIS00NN` header; `path` names the file in errors.
    pub fn new(r: R, path: &str) -> Result<Self, Error> {
        let mut p = Parser {
            r,
            offset: 0,
            crc: Crc64::new(),
            path: path.to_string(),
        };
        let hdr: [u8; 9] = p.read_array().map_err(|e| match e {
            Error::Corrupt { path, offset, .. } => Error::Corrupt {
                path,
                offset,
                reason: "too short for an RDB header".into(),
            },
            e => e,
        })?;
        if &hdr[..5] != b"REDIS" || !hdr[5..].iter().all(u8::is_ascii_digit) {
            return Err(Error::Corrupt {
                path: path.to_string(),
                offset: 0,
                reason: "wrong signature trying to load DB from file".into(),
            });
        }
        let version: u32 = std::str::from_utf8(&hdr[5..]).unwrap().parse().unwrap();
        if !(1..=11).contains(&version) {
            return Err(Error::UnsupportedVersion(version));
        }
        Ok(RdbReader {
            p,
            version: version as u16,
            done: false,
        })
    }

    /// The RDB version from the header.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The next record; `None` after the EOF opcode (and the checksum, when non-zero,
    /// verified). Bytes consumed so far are in [`RdbReader::offset`].
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Item>, Error> {
        if self.done {
            return Ok(None);
        }
        let mut meta = KeyMeta::default();
        loop {
            let t = self.p.read_u8()?;
            match t {
                OP_EXPIRETIME_MS => meta.expire_ms = Some(self.p.read_i64_le()?),
                OP_EXPIRETIME => {
                    let s = i32::from_le_bytes(self.p.read_array()?);
                    meta.expire_ms = Some(s as i64 * 1000);
                }
                OP_IDLE => meta.lru_idle = Some(self.p.read_len()?),
                OP_FREQ => meta.lfu_freq = Some(self.p.read_u8()?),
                OP_SELECTDB => return Ok(Some(Item::SelectDb(self.p.read_len()?))),
                OP_RESIZEDB => {
                    let db_size = self.p.read_len()?;
                    let expires_size = self.p.read_len()?;
                    return Ok(Some(Item::ResizeDb {
                        db_size,
                        expires_size,
                    }));
                }
                OP_AUX => {
                    let key = self.p.read_string()?;
                    let value = self.p.read_string()?;
                    return Ok(Some(Item::Aux { key, value }));
                }
                OP_FUNCTION2 => return Ok(Some(Item::Function(self.p.read_string()?))),
                OP_FUNCTION_PRE_GA => {
                    return Err(self.p.corrupt("pre-release function format not supported"))
                }
                OP_MODULE_AUX => return Err(self.p.corrupt("module data not supported")),
                OP_EOF => {
                    let computed = self.p.crc.value();
                    if self.version >= 5 {
                        let expected = u64::from_le_bytes(self.p.read_array()?);
                        if expected != 0 && expected != computed {
                            return Err(Error::Checksum);
                        }
                    }
                    self.done = true;
                    return Ok(None);
                }
                t => {
                    let key = self.p.read_string()?;
                    let value = self.p.read_object(t)?;
                    return Ok(Some(Item::Entry { key, value, meta }));
                }
            }
        }
    }

    pub fn offset(&self) -> u64 {
        self.p.offset
    }

    /// The underlying reader, positioned after the trailer (an AOF's RDB preamble is
    /// followed by commands).
    pub fn into_inner(self) -> R {
        self.p.r
    }
}

/// A DUMP payload (`<type><object><version u16 LE><crc64 LE>`) back to a value.
pub fn decode_dump(payload: &[u8]) -> Result<Value<'static>, Error> {
    if payload.len() < 10 {
        return Err(Error::Checksum);
    }
    let n = payload.len();
    let version = u16::from_le_bytes([payload[n - 10], payload[n - 9]]);
    if version > RDB_VERSION {
        return Err(Error::Checksum);
    }
    let crc = u64::from_le_bytes(payload[n - 8..].try_into().unwrap());
    if crc64(0, &payload[..n - 8]) != crc {
        return Err(Error::Checksum);
    }
    let body = &payload[..n - 10];
    let mut p = Parser {
        r: body,
        offset: 0,
        crc: Crc64::new(),
        path: "DUMP payload".into(),
    };
    let t = p.read_u8()?;
    let v = p.read_object(t)?;
    if !p.r.is_empty() {
        return Err(p.corrupt("trailing bytes after the object"));
    }
    Ok(v)
}

/// Why a FUNCTION RESTORE payload was refused (Redis's functionRestoreCommand texts).
#[derive(Debug, PartialEq, Eq)]
pub enum FunctionsDumpError {
    /// Too short, RDB version too new or CRC64 mismatch.
    Checksum,
    /// A record that is not RDB_OPCODE_FUNCTION2.
    NotAFunction,
    /// A record that does not parse.
    Corrupt,
}

/// A FUNCTION DUMP payload (`<FUNCTION2 code>...<version u16 LE><crc64 LE>`) back to the
/// libraries' source codes, in payload order.
pub fn decode_functions_dump(payload: &[u8]) -> Result<Vec<Vec<u8>>, FunctionsDumpError> {
    if payload.len() < 10 {
        return Err(FunctionsDumpError::Checksum);
    }
    let n = payload.len();
    let version = u16::from_le_bytes([payload[n - 10], payload[n - 9]]);
    let crc = u64::from_le_bytes(payload[n - 8..].try_into().expect("invariant: 8 bytes"));
    if version > RDB_VERSION || crc64(0, &payload[..n - 8]) != crc {
        return Err(FunctionsDumpError::Checksum);
    }
    let mut p = Parser {
        r: &payload[..n - 10],
        offset: 0,
        crc: Crc64::new(),
        path: "FUNCTION payload".into(),
    };
    let mut codes = Vec::new();
    while !p.r.is_empty() {
        match p.read_u8() {
            Ok(OP_FUNCTION2) => {}
            Ok(_) => return Err(FunctionsDumpError::NotAFunction),
            Err(_) => return Err(FunctionsDumpError::Corrupt),
        }
        codes.push(p.read_string().map_err(|_| FunctionsDumpError::Corrupt)?);
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::super::writer::{put_len, put_string};
    use super::*;
    use crate::rdb::listpack::Builder;

    fn dump(t: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![t];
        p.extend_from_slice(body);
        p.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(0, &p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    }

    fn s(x: &str) -> Blob<'static> {
        Cow::Owned(x.as_bytes().to_vec())
    }

    /// A ziplist of small strings (< 64 bytes) and 13-bit-or-less ints, per ziplist.c.
    fn ziplist(items: &[&str]) -> Vec<u8> {
        let mut z = vec![0u8; 10];
        let (mut prev, mut tail) = (0usize, 10usize);
        for it in items {
            tail = z.len();
            let start = z.len();
            z.push(prev as u8);
            match it.parse::<i16>() {
                Ok(v) if (0..=12).contains(&v) => z.push(0xF1 + v as u8),
                Ok(v) => {
                    z.push(0xC0);
                    z.extend_from_slice(&v.to_le_bytes());
                }
                Err(_) => {
                    z.push(it.len() as u8);
                    z.extend_from_slice(it.as_bytes());
                }
            }
            prev = z.len() - start;
        }
        z.push(0xFF);
        let n = z.len() as u32;
        z[0..4].copy_from_slice(&n.to_le_bytes());
        z[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        z[8..10].copy_from_slice(&(items.len() as u16).to_le_bytes());
        z
    }

    fn blob(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        put_string(&mut out, b, false);
        out
    }

    #[test]
    fn legacy_encodings() {
        // RDB_TYPE_LIST (linked list), RDB_TYPE_ZSET (string scores), RDB_TYPE_HASH.
        let mut body = vec![2];
        body.extend(blob(b"a"));
        body.extend(blob(b"12"));
        assert_eq!(
            decode_dump(&dump(T_LIST, &body)).unwrap(),
            Value::List(vec![s("a"), s("12")])
        );
        let mut body = vec![3];
        body.extend(blob(b"a"));
        body.extend([3, b'1', b'.', b'5']);
        body.extend(blob(b"b"));
        body.push(254);
        body.extend(blob(b"c"));
        body.push(255);
        assert_eq!(
            decode_dump(&dump(T_ZSET, &body)).unwrap(),
            Value::ZSet(vec![
                (s("a"), 1.5),
                (s("b"), f64::INFINITY),
                (s("c"), f64::NEG_INFINITY)
            ])
        );
        let zl = ziplist(&["a", "1", "bb", "300"]);
        assert_eq!(
            decode_dump(&dump(T_LIST_ZIPLIST, &blob(&zl))).unwrap(),
            Value::List(vec![s("a"), s("1"), s("bb"), s("300")])
        );
        assert_eq!(
            decode_dump(&dump(T_HASH_ZIPLIST, &blob(&zl))).unwrap(),
            Value::Hash(vec![(s("a"), s("1")), (s("bb"), s("300"))])
        );
        let zz = ziplist(&["m", "2", "n", "2.5"]);
        assert_eq!(
            decode_dump(&dump(T_ZSET_ZIPLIST, &blob(&zz))).unwrap(),
            Value::ZSet(vec![(s("m"), 2.0), (s("n"), 2.5)])
        );
        let mut body = vec![2];
        body.extend(blob(&zl));
        body.extend(blob(&ziplist(&["x"])));
        assert_eq!(
            decode_dump(&dump(T_LIST_QUICKLIST, &body)).unwrap(),
            Value::List(vec![s("a"), s("1"), s("bb"), s("300"), s("x")])
        );
        let zm = [1u8, 1, b'f', 2, 0, b'v', b'1', 0xff];
        assert_eq!(
            decode_dump(&dump(T_HASH_ZIPMAP, &blob(&zm))).unwrap(),
            Value::Hash(vec![(s("f"), s("v1"))])
        );
        let mut lp = Builder::new();
        lp.push_str(b"x");
        lp.push_str(b"7");
        assert_eq!(
            decode_dump(&dump(T_SET_LISTPACK, &blob(&lp.finish()))).unwrap(),
            Value::Set(vec![s("x"), s("7")])
        );
        // A quicklist 2 plain node.
        let mut body = vec![1, 1];
        body.extend(blob(b"plain"));
        assert_eq!(
            decode_dump(&dump(T_LIST_QUICKLIST_2, &body)).unwrap(),
            Value::List(vec![s("plain")])
        );
        assert!(decode_dump(&dump(6, &[])).is_err());
        assert!(decode_dump(&dump(7, &[])).is_err());
        assert!(decode_dump(&dump(99, &[])).is_err());
    }

    /// A one-node stream body of type `t` with one group, PEL entry and consumer.
    fn stream_body(t: u8) -> Vec<u8> {
        // Master entry: 1 live, 1 deleted, fields [a]; then 5-1 and the tombstone 5-2.
        let mut lp = Builder::new();
        for v in [1i64, 1, 1] {
            lp.push_int(v);
        }
        lp.push_str(b"a");
        lp.push_int(0);
        for (flags, seq, val) in [(0, 0, b"1"), (STREAM_ITEM_FLAG_DELETED, 1, b"2")] {
            lp.push_int(STREAM_ITEM_FLAG_SAMEFIELDS | flags);
            lp.push_int(0);
            lp.push_int(seq);
            lp.push_str(val);
            lp.push_int(4);
        }
        let mut b = vec![1];
        let mut key = [0u8; 16];
        key[7] = 5;
        key[15] = 1;
        b.extend(blob(&key));
        b.extend(blob(&lp.finish()));
        put_len(&mut b, 1); // length
        put_len(&mut b, 5);
        put_len(&mut b, 2); // last id
        if t >= T_STREAM_LISTPACKS_2 {
            put_len(&mut b, 5);
            put_len(&mut b, 1); // first id
            put_len(&mut b, 5);
            put_len(&mut b, 2); // max deleted
            put_len(&mut b, 2); // entries added
        }
        put_len(&mut b, 1); // groups
        b.extend(blob(b"g"));
        put_len(&mut b, 5);
        put_len(&mut b, 1);
        if t >= T_STREAM_LISTPACKS_2 {
            put_len(&mut b, 1);
        }
        put_len(&mut b, 1); // PEL
        b.extend_from_slice(&key[..15]);
        b.push(1);
        b.extend_from_slice(&77i64.to_le_bytes());
        put_len(&mut b, 2);
        put_len(&mut b, 1); // consumers
        b.extend(blob(b"c"));
        b.extend_from_slice(&88i64.to_le_bytes());
        if t >= T_STREAM_LISTPACKS_3 {
            b.extend_from_slice(&99i64.to_le_bytes());
        }
        put_len(&mut b, 1);
        b.extend_from_slice(&key[..15]);
        b.push(1);
        b
    }

    #[test]
    fn stream_types_15_19_21() {
        for t in [
            T_STREAM_LISTPACKS,
            T_STREAM_LISTPACKS_2,
            T_STREAM_LISTPACKS_3,
        ] {
            let Value::Stream(st) = decode_dump(&dump(t, &stream_body(t))).unwrap() else {
                panic!("stream")
            };
            let id = |ms, seq| StreamId { ms, seq };
            assert_eq!(
                st.entries,
                vec![StreamEntry {
                    id: id(5, 1),
                    fields: vec![(s("a"), s("1"))]
                }]
            );
            assert_eq!(
                (st.length, st.last_id, st.first_id),
                (1, id(5, 2), id(5, 1))
            );
            let g = &st.groups[0];
            assert_eq!(g.entries_read, if t == T_STREAM_LISTPACKS { -1 } else { 1 });
            assert_eq!(
                g.pel,
                vec![PendingEntry {
                    id: id(5, 1),
                    delivery_time: 77,
                    delivery_count: 2
                }]
            );
            assert_eq!(
                g.consumers,
                vec![Consumer {
                    name: s("c"),
                    seen_time: 88,
                    pel: vec![id(5, 1)]
                }]
            );
        }
    }

    #[test]
    fn functions_dump_round_trips_redis_payload() {
        // FUNCTION DUMP of redis-server 7.0.15 with two libraries.
        let payload = b"\xf5@B#!lua name=y\nredis.register_function('w', function() return 1 end)\xf5@B#!lua name=x\nredis.register_function('z', function() return 1 end)\n\x00\x9bX\xa12;\xf7q&";
        let codes = decode_functions_dump(payload).unwrap();
        assert_eq!(codes.len(), 2);
        assert!(codes[0].starts_with(b"#!lua name=y\n"));
        let opts = WriteOptions {
            compression: true,
            checksum: true,
            ..Default::default()
        };
        assert_eq!(
            super::super::writer::encode_functions_dump(&codes, &opts),
            payload.to_vec()
        );
        let mut bad = payload.to_vec();
        bad[5] ^= 1;
        assert_eq!(
            decode_functions_dump(&bad),
            Err(FunctionsDumpError::Checksum)
        );
        let key_dump = dump(T_STRING, b"\x01v");
        assert_eq!(
            decode_functions_dump(&key_dump),
            Err(FunctionsDumpError::NotAFunction)
        );
    }
}
