//! RdbWriter: the encodings redis-server 7.0 would choose for the same contents.
use super::crc64::{crc64, Crc64};
use super::listpack::{self, Builder};
use super::lzf;
use super::reader::*;
use super::util::{d2string, double2ll, string2ll};
use super::ziplist::encode_intset;
use super::*;
use std::cmp::Ordering;
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
    w: W,
    opts: WriteOptions,
    crc: Crc64,
    buf: Vec<u8>,
}

impl<W: Write> RdbWriter<W> {
    /// Writes the `REDIS0010` header.
    pub fn new(w: W, opts: WriteOptions) -> io::Result<Self> {
        let mut me = RdbWriter {
            w,
            opts,
            crc: Crc64::new(),
            buf: Vec::with_capacity(4096),
        };
        me.buf
            .extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
        me.flush_buf()?;
        Ok(me)
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        if self.opts.checksum {
            self.crc.update(&self.buf);
        }
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.buf.push(OP_AUX);
        put_string(&mut self.buf, key, self.opts.compression);
        put_string(&mut self.buf, value, self.opts.compression);
        self.flush_buf()
    }

    pub fn select_db(&mut self, db: u64) -> io::Result<()> {
        self.buf.push(OP_SELECTDB);
        put_len(&mut self.buf, db);
        self.flush_buf()
    }

    pub fn resize_db(&mut self, db_size: u64, expires_size: u64) -> io::Result<()> {
        self.buf.push(OP_RESIZEDB);
        put_len(&mut self.buf, db_size);
        put_len(&mut self.buf, expires_size);
        self.flush_buf()
    }

    pub fn function(&mut self, code: &[u8]) -> io::Result<()> {
        self.buf.push(OP_FUNCTION2);
        put_string(&mut self.buf, code, self.opts.compression);
        self.flush_buf()
    }

    /// rdbSaveKeyValuePair: expire, LRU idle or LFU freq, then type, key and value.
    pub fn entry(&mut self, key: &[u8], value: &Value<'_>, meta: &KeyMeta) -> io::Result<()> {
        if let Some(ms) = meta.expire_ms {
            self.buf.push(OP_EXPIRETIME_MS);
            self.buf.extend_from_slice(&ms.to_le_bytes());
        }
        if let Some(idle) = meta.lru_idle {
            self.buf.push(OP_IDLE);
            put_len(&mut self.buf, idle);
        }
        if let Some(freq) = meta.lfu_freq {
            self.buf.push(OP_FREQ);
            self.buf.push(freq);
        }
        let mut body = std::mem::take(&mut self.buf);
        let type_at = body.len();
        body.push(0);
        put_string(&mut body, key, self.opts.compression);
        // The type is only known once the encoding is chosen: encode the object after
        // the key, then patch the type byte in front of the key.
        let t = put_object(&mut body, value, &self.opts);
        body[type_at] = t;
        self.buf = body;
        self.flush_buf()
    }

    /// EOF opcode and CRC64 trailer (zero when checksum is off); returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.buf.push(OP_EOF);
        self.flush_buf()?;
        let crc = if self.opts.checksum {
            self.crc.value()
        } else {
            0
        };
        self.w.write_all(&crc.to_le_bytes())?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// DUMP's payload for a value: `<type><object><RDB_VERSION u16 LE><crc64 LE>`.
pub fn encode_dump(value: &Value<'_>, opts: &WriteOptions) -> Vec<u8> {
    let mut buf = vec![0u8];
    let t = put_object(&mut buf, value, opts);
    buf[0] = t;
    buf.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf
}

/// FUNCTION DUMP's payload: one RDB_OPCODE_FUNCTION2 record per library, then
/// `<RDB_VERSION u16 LE><crc64 LE>` as DUMP.
pub fn encode_functions_dump<C: AsRef<[u8]>>(codes: &[C], opts: &WriteOptions) -> Vec<u8> {
    let mut buf = Vec::new();
    for code in codes {
        buf.push(OP_FUNCTION2);
        put_string(&mut buf, code.as_ref(), opts.compression);
    }
    buf.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf
}

/// rdbSaveLen.
pub(crate) fn put_len(buf: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        buf.push(n as u8);
    } else if n < 1 << 14 {
        buf.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if n <= u32::MAX as u64 {
        buf.push(0x80);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        buf.push(0x81);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

/// rdbSaveRawString: integer encoding, else LZF when it saves 4+ bytes, else raw.
pub(crate) fn put_string(buf: &mut Vec<u8>, s: &[u8], compression: bool) {
    if s.len() <= 11 {
        if let Some(v) = string2ll(s) {
            if let Ok(b) = i8::try_from(v) {
                buf.extend_from_slice(&[0xC0, b as u8]);
                return;
            } else if let Ok(h) = i16::try_from(v) {
                buf.push(0xC1);
                buf.extend_from_slice(&h.to_le_bytes());
                return;
            } else if let Ok(w) = i32::try_from(v) {
                buf.push(0xC2);
                buf.extend_from_slice(&w.to_le_bytes());
                return;
            }
        }
    }
    if compression && s.len() > 20 {
        if let Some(z) = lzf::compress(s, s.len() - 4) {
            buf.push(0xC3);
            put_len(buf, z.len() as u64);
            put_len(buf, s.len() as u64);
            buf.extend_from_slice(&z);
            return;
        }
    }
    put_len(buf, s.len() as u64);
    buf.extend_from_slice(s);
}

fn encode_id(id: StreamId) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&id.ms.to_be_bytes());
    b[8..].copy_from_slice(&id.seq.to_be_bytes());
    b
}

/// Score order of a sorted set (zslValueGteMin and friends): score, then member bytes.
fn zcmp(a: &(&[u8], f64), b: &(&[u8], f64)) -> Ordering {
    a.1.partial_cmp(&b.1)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.0.cmp(b.0))
}

/// Appends the object body and returns its RDB type.
fn put_object(buf: &mut Vec<u8>, value: &Value<'_>, o: &WriteOptions) -> u8 {
    let c = o.compression;
    match value {
        Value::String(s) => {
            put_string(buf, s, c);
            T_STRING
        }
        Value::List(items) => {
            put_quicklist(buf, items, o);
            T_LIST_QUICKLIST_2
        }
        Value::Set(members) => {
            let ints: Option<Vec<i64>> = if members.len() <= o.set_max_intset_entries {
                members.iter().map(|m| string2ll(m)).collect()
            } else {
                None
            };
            match ints {
                Some(mut v) => {
                    v.sort_unstable();
                    v.dedup();
                    put_string(buf, &encode_intset(&v), c);
                    T_SET_INTSET
                }
                None => {
                    put_len(buf, members.len() as u64);
                    for m in members {
                        put_string(buf, m, c);
                    }
                    T_SET
                }
            }
        }
        Value::Hash(pairs) => {
            let small = pairs.len() <= o.hash_max_listpack_entries
                && pairs.iter().all(|(f, v)| {
                    f.len() <= o.hash_max_listpack_value && v.len() <= o.hash_max_listpack_value
                });
            if small {
                let mut lp = Builder::new();
                for (f, v) in pairs {
                    lp.push_str(f);
                    lp.push_str(v);
                }
                put_string(buf, &lp.finish(), c);
                T_HASH_LISTPACK
            } else {
                put_len(buf, pairs.len() as u64);
                for (f, v) in pairs {
                    put_string(buf, f, c);
                    put_string(buf, v, c);
                }
                T_HASH
            }
        }
        Value::ZSet(pairs) => {
            let mut sorted: Vec<(&[u8], f64)> = pairs.iter().map(|(m, s)| (&m[..], *s)).collect();
            sorted.sort_by(zcmp);
            let small = o.zset_max_listpack_entries > 0
                && sorted.len() <= o.zset_max_listpack_entries
                && sorted
                    .iter()
                    .all(|(m, _)| m.len() <= o.zset_max_listpack_value);
            if small {
                let mut lp = Builder::new();
                for (m, s) in &sorted {
                    lp.push_str(m);
                    // zzlInsertAt: integral scores as listpack integers (double2ll).
                    match double2ll(*s) {
                        Some(v) => lp.push_int(v),
                        None => lp.push_str(d2string(*s).as_bytes()),
                    }
                }
                put_string(buf, &lp.finish(), c);
                T_ZSET_LISTPACK
            } else {
                put_len(buf, sorted.len() as u64);
                for (m, s) in sorted.iter().rev() {
                    put_string(buf, m, c);
                    buf.extend_from_slice(&s.to_le_bytes());
                }
                T_ZSET_2
            }
        }
        Value::Stream(s) => {
            put_stream(buf, s, o);
            T_STREAM_LISTPACKS_2
        }
    }
}

/// quicklist.c's packed_threshold (7.0): elements this large get a plain node.
const PACKED_THRESHOLD: usize = 1 << 30;
const SIZE_SAFETY_LIMIT: usize = 8192;
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// _quicklistNodeAllowInsert as in Redis 7.0.15: the node's listpack bytes plus the
/// element plus a fixed 8-byte overestimate, against the fill's size or count limit.
fn allow_insert(node_sz: usize, count: usize, fill: i64, sz: usize) -> bool {
    const SIZE_ESTIMATE_OVERHEAD: usize = 8;
    let new_sz = node_sz + sz + SIZE_ESTIMATE_OVERHEAD;
    if fill < 0 {
        new_sz <= OPTIMIZATION_LEVEL[((-fill - 1) as usize).min(OPTIMIZATION_LEVEL.len() - 1)]
    } else {
        new_sz <= SIZE_SAFETY_LIMIT && (count as i64) < fill
    }
}

enum QlNode<'v> {
    Packed(Builder),
    Plain(&'v [u8]),
}

/// A list as a quicklist built by RPUSH of each element, saved as QUICKLIST_2.
fn put_quicklist(buf: &mut Vec<u8>, items: &[Blob<'_>], o: &WriteOptions) {
    let fill = o.list_max_listpack_size.clamp(-5, 32767);
    let mut nodes: Vec<QlNode<'_>> = Vec::new();
    for it in items {
        let sz = it.len();
        if sz >= PACKED_THRESHOLD {
            nodes.push(QlNode::Plain(it));
            continue;
        }
        match nodes.last_mut() {
            Some(QlNode::Packed(lp)) if allow_insert(lp.bytes(), lp.count(), fill, sz) => {
                lp.push_str(it);
            }
            _ => {
                let mut lp = Builder::new();
                lp.push_str(it);
                nodes.push(QlNode::Packed(lp));
            }
        }
    }
    put_len(buf, nodes.len() as u64);
    for n in nodes {
        match n {
            QlNode::Plain(s) => {
                put_len(buf, 1);
                put_string(buf, s, o.compression);
            }
            QlNode::Packed(lp) => {
                put_len(buf, 2);
                put_string(buf, &lp.finish(), o.compression);
            }
        }
    }
}

/// One stream listpack node under construction.
struct StreamNode<'v> {
    master: StreamId,
    master_fields: Vec<&'v [u8]>,
    /// Encoded entries after the master entry.
    body: Builder,
    count: usize,
}

impl StreamNode<'_> {
    fn header(&self) -> Builder {
        let mut lp = Builder::new();
        lp.push_int(self.count as i64);
        lp.push_int(0);
        lp.push_int(self.master_fields.len() as i64);
        for f in &self.master_fields {
            lp.push_str(f);
        }
        lp.push_int(0);
        lp
    }
    /// lpBytes of the node as it stands.
    fn bytes(&self) -> usize {
        let fields: usize = self
            .master_fields
            .iter()
            .map(|f| listpack::entry_size(f))
            .sum();
        listpack::HDR
            + listpack::int_entry_size(self.count as i64)
            + listpack::int_entry_size(0)
            + listpack::int_entry_size(self.master_fields.len() as i64)
            + fields
            + listpack::int_entry_size(0)
            + (self.body.bytes() - listpack::HDR - 1)
            + 1
    }
    fn finish(self) -> Vec<u8> {
        let mut lp = self.header();
        lp.append(self.body);
        lp.finish()
    }
}

/// The stream as XADD of each live entry builds it, saved as STREAM_LISTPACKS_2.
fn put_stream(buf: &mut Vec<u8>, s: &Stream<'_>, o: &WriteOptions) {
    let c = o.compression;
    let max_bytes = if o.stream_node_max_bytes == 0 || o.stream_node_max_bytes > 1 << 30 {
        1 << 30
    } else {
        o.stream_node_max_bytes
    };
    let mut nodes: Vec<StreamNode<'_>> = Vec::new();
    for e in &s.entries {
        let totelelen: usize = e.fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        let new_node = match nodes.last() {
            None => true,
            Some(n) => {
                n.bytes() + totelelen >= max_bytes
                    || (o.stream_node_max_entries > 0 && n.count >= o.stream_node_max_entries)
            }
        };
        if new_node {
            nodes.push(StreamNode {
                master: e.id,
                master_fields: e.fields.iter().map(|(f, _)| &f[..]).collect(),
                body: Builder::new(),
                count: 0,
            });
        }
        let n = nodes.last_mut().expect("a node");
        let same = n.master_fields.len() == e.fields.len()
            && n.master_fields
                .iter()
                .zip(&e.fields)
                .all(|(m, (f, _))| *m == &f[..]);
        let lp = &mut n.body;
        lp.push_int(if same { STREAM_ITEM_FLAG_SAMEFIELDS } else { 0 });
        lp.push_int(e.id.ms.wrapping_sub(n.master.ms) as i64);
        lp.push_int(e.id.seq.wrapping_sub(n.master.seq) as i64);
        if !same {
            lp.push_int(e.fields.len() as i64);
        }
        for (f, v) in &e.fields {
            if !same {
                lp.push_str(f);
            }
            lp.push_str(v);
        }
        let nf = e.fields.len() as i64;
        lp.push_int(if same { nf + 3 } else { nf + 3 + nf + 1 });
        n.count += 1;
    }
    put_len(buf, nodes.len() as u64);
    for n in nodes {
        put_string(buf, &encode_id(n.master), c);
        put_string(buf, &n.finish(), c);
    }
    put_len(buf, s.length);
    put_len(buf, s.last_id.ms);
    put_len(buf, s.last_id.seq);
    put_len(buf, s.first_id.ms);
    put_len(buf, s.first_id.seq);
    put_len(buf, s.max_deleted_entry_id.ms);
    put_len(buf, s.max_deleted_entry_id.seq);
    put_len(buf, s.entries_added);
    // Groups and consumers live in radix trees: saved in name order.
    let mut groups: Vec<&Group<'_>> = s.groups.iter().collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    put_len(buf, groups.len() as u64);
    for g in groups {
        put_string(buf, &g.name, c);
        put_len(buf, g.last_id.ms);
        put_len(buf, g.last_id.seq);
        put_len(buf, g.entries_read as u64);
        let mut pel: Vec<&PendingEntry> = g.pel.iter().collect();
        pel.sort_by_key(|p| p.id);
        put_len(buf, pel.len() as u64);
        for p in pel {
            buf.extend_from_slice(&encode_id(p.id));
            buf.extend_from_slice(&p.delivery_time.to_le_bytes());
            put_len(buf, p.delivery_count);
        }
        let mut consumers: Vec<&Consumer<'_>> = g.consumers.iter().collect();
        consumers.sort_by(|a, b| a.name.cmp(&b.name));
        put_len(buf, consumers.len() as u64);
        for cons in consumers {
            put_string(buf, &cons.name, c);
            buf.extend_from_slice(&cons.seen_time.to_le_bytes());
            let mut ids = cons.pel.clone();
            ids.sort();
            put_len(buf, ids.len() as u64);
            for id in ids {
                buf.extend_from_slice(&encode_id(id));
            }
        }
    }
}
