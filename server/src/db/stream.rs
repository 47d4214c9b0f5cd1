//! The stream type: entries in delta-encoded blocks keyed by their master ID (as Redis's
//! radix tree of listpacks), plus consumer groups. Nothing here knows argv or replies.
//!
//! A [`Block`] holds up to [`NODE_MAX_ENTRIES`] entries (live + deleted, as Redis counts)
//! in one byte buffer: the master entry's field names, then per entry a flags byte
//! (deleted, same-fields), the ID as varint deltas against the master ID, and either just
//! the values (when the field names equal the master's) or the field/value pairs.
//! Deleting marks the flags byte; a block without live entries is dropped. The block is
//! split when Redis would split its listpack (entry count, or an estimate of the listpack's
//! byte size against stream-node-max-bytes), so approximate trimming removes the same
//! entries as Redis does.

use std::collections::{BTreeMap, BTreeSet};

use super::SBytes;

/// Redis's stream-node-max-entries default.
pub const NODE_MAX_ENTRIES: usize = 100;
/// Redis's stream-node-max-bytes default.
pub const NODE_MAX_BYTES: usize = 4096;

/// Entries-read counter value meaning "unknown" (Redis's SCG_INVALID_ENTRIES_READ).
pub const INVALID_ENTRIES_READ: i64 = -1;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID (streamIncrID); None at the maximum.
    pub fn incr(&self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID (streamDecrID); None at 0-0.
    pub fn decr(&self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

const FLAG_DELETED: u8 = 1;
const FLAG_SAMEFIELDS: u8 = 2;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&c) = b.get(*pos) {
        *pos += 1;
        if shift < 64 {
            v |= ((c & 0x7f) as u64) << shift;
        }
        if c & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    v
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn get_bytes<'a>(b: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let n = get_varint(b, pos) as usize;
    let start = (*pos).min(b.len());
    let end = start.saturating_add(n).min(b.len());
    *pos = end;
    &b[start..end]
}

/// Size of a listpack integer element with its back-length byte.
fn lp_int_size(v: i64) -> usize {
    1 + if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
        3
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        4
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        5
    } else {
        9
    }
}

fn lp_backlen(n: usize) -> usize {
    match n {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Size of a listpack string element (stored as an integer when it reads as one).
fn lp_str_size(b: &[u8]) -> usize {
    if b.len() <= 20 {
        if let Some(v) = rill_protocol::fmt::parse_i64(b) {
            return lp_int_size(v);
        }
    }
    let enc = if b.len() <= 63 {
        1 + b.len()
    } else if b.len() <= 4095 {
        2 + b.len()
    } else {
        5 + b.len()
    };
    enc + lp_backlen(enc)
}

/// One decoded entry of a block.
#[derive(Debug)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    pub deleted: bool,
    /// Offset of the flags byte in the block's buffer.
    offset: usize,
    /// field, value, field, value, ...
    pub fields: Vec<&'a [u8]>,
}

/// Up to [`NODE_MAX_ENTRIES`] entries, delta-encoded against `master` (the map key).
#[derive(Clone, Debug)]
pub struct Block {
    /// Master field names, then the entries.
    data: Vec<u8>,
    /// Where the entries start in `data`.
    entries_start: u32,
    master_fields: u32,
    live: u32,
    deleted: u32,
    /// Estimate of the equivalent listpack's size, for the node split rule.
    lp_bytes: u32,
    /// ID of the last entry, deleted or not.
    last: StreamId,
}

impl Block {
    fn new(master: StreamId, fields: &[&[u8]]) -> Block {
        let mut data = Vec::new();
        let nf = fields.len() / 2;
        let mut lp = 7 + lp_int_size(0) * 2 + lp_int_size(nf as i64) + lp_int_size(0);
        for f in fields.iter().step_by(2) {
            put_bytes(&mut data, f);
            lp += lp_str_size(f);
        }
        Block {
            entries_start: data.len() as u32,
            data,
            master_fields: nf as u32,
            live: 0,
            deleted: 0,
            lp_bytes: lp as u32,
            last: master,
        }
    }

    fn master_field_names(&self) -> Vec<&[u8]> {
        let mut pos = 0;
        (0..self.master_fields)
            .map(|_| get_bytes(&self.data, &mut pos))
            .collect()
    }

    fn same_fields(&self, fields: &[&[u8]]) -> bool {
        if fields.len() / 2 != self.master_fields as usize {
            return false;
        }
        let mut pos = 0;
        fields
            .iter()
            .step_by(2)
            .all(|f| get_bytes(&self.data, &mut pos) == *f)
    }

    fn append(&mut self, master: StreamId, id: StreamId, fields: &[&[u8]]) {
        let same = self.same_fields(fields);
        let ms_delta = id.ms - master.ms;
        let seq_delta = if ms_delta == 0 {
            id.seq - master.seq
        } else {
            id.seq
        };
        self.data.push(if same { FLAG_SAMEFIELDS } else { 0 });
        put_varint(&mut self.data, ms_delta);
        put_varint(&mut self.data, seq_delta);
        let nf = fields.len() / 2;
        let mut lp = lp_int_size(if same { 2 } else { 0 })
            + lp_int_size(ms_delta as i64)
            + lp_int_size(id.seq.wrapping_sub(master.seq) as i64);
        if same {
            for v in fields.iter().skip(1).step_by(2) {
                put_bytes(&mut self.data, v);
                lp += lp_str_size(v);
            }
            lp += lp_int_size(nf as i64 + 3);
        } else {
            put_varint(&mut self.data, nf as u64);
            lp += lp_int_size(nf as i64);
            for f in fields {
                put_bytes(&mut self.data, f);
                lp += lp_str_size(f);
            }
            lp += lp_int_size(2 * nf as i64 + 4);
        }
        self.lp_bytes = self.lp_bytes.saturating_add(lp as u32);
        self.live += 1;
        self.last = id;
    }

    /// Decodes entries in order until `f` returns false.
    fn each<'a>(&'a self, master: StreamId, mut f: impl FnMut(EntryRef<'a>) -> bool) {
        let d = &self.data[..];
        let mut master_names: Option<Vec<&[u8]>> = None;
        let mut pos = self.entries_start as usize;
        while pos < d.len() {
            let offset = pos;
            let flags = d[pos];
            pos += 1;
            let ms_delta = get_varint(d, &mut pos);
            let seq_raw = get_varint(d, &mut pos);
            let ms = master.ms.wrapping_add(ms_delta);
            let seq = if ms_delta == 0 {
                master.seq.wrapping_add(seq_raw)
            } else {
                seq_raw
            };
            let mut fields = Vec::new();
            if flags & FLAG_SAMEFIELDS != 0 {
                let names = master_names.get_or_insert_with(|| self.master_field_names());
                fields.reserve(names.len() * 2);
                for n in names.iter() {
                    fields.push(*n);
                    fields.push(get_bytes(d, &mut pos));
                }
            } else {
                let nf = get_varint(d, &mut pos) as usize;
                for _ in 0..nf.saturating_mul(2) {
                    if pos >= d.len() {
                        break;
                    }
                    fields.push(get_bytes(d, &mut pos));
                }
            }
            let e = EntryRef {
                id: StreamId::new(ms, seq),
                deleted: flags & FLAG_DELETED != 0,
                offset,
                fields,
            };
            if !f(e) {
                return;
            }
        }
    }

    fn entries(&self, master: StreamId) -> Vec<EntryRef<'_>> {
        let mut v = Vec::with_capacity((self.live + self.deleted) as usize);
        self.each(master, |e| {
            v.push(e);
            true
        });
        v
    }

    fn mark_deleted(&mut self, offset: usize) {
        self.data[offset] |= FLAG_DELETED;
        self.live -= 1;
        self.deleted += 1;
    }

    pub fn heap_size(&self) -> usize {
        self.data.capacity()
    }
}

/// A pending (delivered, not acknowledged) entry of a group.
#[derive(Clone, Debug)]
pub struct PendingEntry {
    pub consumer: SBytes,
    pub delivery_time: i64,
    pub delivery_count: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Consumer {
    /// Last time the consumer was seen by a command (ms).
    pub seen_time: i64,
    /// Last time the consumer read or claimed something (ms); not reported by 7.0.
    pub active_time: i64,
    pub pel: BTreeSet<StreamId>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, PendingEntry>,
    pub consumers: BTreeMap<SBytes, Consumer>,
}

impl Group {
    /// streamCreateConsumer: None if it exists already.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(
            SBytes::new(name),
            Consumer {
                seen_time: now,
                active_time: -1,
                pel: BTreeSet::new(),
            },
        );
        true
    }

    /// streamDelConsumer: drops the consumer and its pending entries; returns how many.
    pub fn delete_consumer(&mut self, name: &[u8]) -> usize {
        let Some(c) = self.consumers.remove(name) else {
            return 0;
        };
        for id in &c.pel {
            self.pel.remove(id);
        }
        c.pel.len()
    }

    /// Removes a pending entry from the group and its consumer. True if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(p) => {
                if let Some(c) = self.consumers.get_mut(p.consumer.as_bytes()) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Assigns a pending entry (existing or new) to `consumer`, which must exist.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], time: i64, count: Option<u64>) {
        let prev = self.pel.get(&id).map(|p| p.consumer.clone());
        if let Some(prev) = &prev {
            if prev.as_bytes() != consumer {
                if let Some(c) = self.consumers.get_mut(prev.as_bytes()) {
                    c.pel.remove(&id);
                }
            }
        }
        let p = self.pel.entry(id).or_insert_with(|| PendingEntry {
            consumer: SBytes::new(consumer),
            delivery_time: time,
            delivery_count: 1,
        });
        p.consumer = SBytes::new(consumer);
        p.delivery_time = time;
        if let Some(n) = count {
            p.delivery_count = n;
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

/// How XADD/XTRIM trim.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trim {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Debug, Default)]
pub struct Stream {
    blocks: BTreeMap<StreamId, Block>,
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_entry_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<SBytes, Group>,
}

/// Why an append failed.
#[derive(Debug, PartialEq)]
pub enum AppendError {
    /// The ID is not greater than the top item (EDOM).
    IdTooSmall,
    /// `ms-*` with the top item's sequence at its maximum (ERANGE).
    SeqExhausted,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Number of blocks (XINFO's radix-tree-keys).
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Bytes held by entry blocks (buffer capacity plus struct and map-node overhead).
    pub fn blocks_size(&self) -> usize {
        self.blocks
            .values()
            .map(|b| b.heap_size() + std::mem::size_of::<Block>() + 16)
            .sum()
    }

    /// The ID XADD would use (streamAppendItem's ID logic). `id`: explicit ms and seq,
    /// with `seq_given` false for `ms-*`; None for `*`.
    pub fn next_id(
        &self,
        id: Option<StreamId>,
        seq_given: bool,
        now_ms: u64,
    ) -> Result<StreamId, AppendError> {
        let new = match id {
            Some(id) if seq_given => id,
            Some(id) => {
                if self.last_id.ms == id.ms {
                    if self.last_id.seq == u64::MAX {
                        return Err(AppendError::SeqExhausted);
                    }
                    StreamId::new(id.ms, self.last_id.seq + 1)
                } else {
                    id
                }
            }
            None => {
                if now_ms > self.last_id.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    self.last_id.incr().ok_or(AppendError::IdTooSmall)?
                }
            }
        };
        if new <= self.last_id {
            return Err(AppendError::IdTooSmall);
        }
        Ok(new)
    }

    /// Appends an entry with an ID from [`Stream::next_id`]; `fields` is field, value, ...
    pub fn append(&mut self, id: StreamId, fields: &[&[u8]]) {
        let total: usize = fields.iter().map(|f| f.len()).sum();
        let need_new = match self.blocks.iter().next_back() {
            None => true,
            Some((_, b)) => {
                b.lp_bytes as usize + total >= NODE_MAX_BYTES
                    || (b.live + b.deleted) as usize >= NODE_MAX_ENTRIES
            }
        };
        if need_new {
            if let Some((_, b)) = self.blocks.iter_mut().next_back() {
                b.data.shrink_to_fit();
            }
            self.blocks.insert(id, Block::new(id, fields));
        }
        if let Some((&master, b)) = self.blocks.iter_mut().next_back() {
            b.append(master, id, fields);
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Visits live entries with `start <= id <= end`, forward or reversed, until `f`
    /// returns false.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(StreamId, &[&[u8]]) -> bool,
    ) {
        if start > end {
            return;
        }
        if !rev {
            let first = self
                .blocks
                .range(..=start)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(start);
            for (&master, b) in self.blocks.range(first..=end) {
                if b.last < start {
                    continue;
                }
                let mut stop = false;
                b.each(master, |e| {
                    if e.id > end {
                        stop = true;
                        return false;
                    }
                    if e.deleted || e.id < start {
                        return true;
                    }
                    if !f(e.id, &e.fields) {
                        stop = true;
                        return false;
                    }
                    true
                });
                if stop {
                    return;
                }
            }
        } else {
            for (&master, b) in self.blocks.range(..=end).rev() {
                if b.last < start {
                    return;
                }
                for e in b.entries(master).iter().rev() {
                    if e.deleted || e.id > end {
                        continue;
                    }
                    if e.id < start || !f(e.id, &e.fields) {
                        return;
                    }
                }
            }
        }
    }

    /// Entries in a range as owned data (tests, small replies).
    pub fn collect(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        count: usize,
    ) -> Vec<(StreamId, Vec<Vec<u8>>)> {
        let mut out = Vec::new();
        self.range(start, end, rev, |id, f| {
            out.push((id, f.iter().map(|x| x.to_vec()).collect()));
            count == 0 || out.len() < count
        });
        out
    }

    /// True if `id` is a live entry.
    pub fn contains(&self, id: StreamId) -> bool {
        let mut found = false;
        self.range(id, id, false, |_, _| {
            found = true;
            false
        });
        found
    }

    /// First (or last) live entry's ID.
    pub fn edge_id(&self, last: bool) -> Option<StreamId> {
        let mut out = None;
        self.range(StreamId::MIN, StreamId::MAX, last, |id, _| {
            out = Some(id);
            false
        });
        out
    }

    /// Deletes a live entry (streamDeleteItem). True if it existed.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, b)) = self.blocks.range_mut(..=id).next_back() else {
            return false;
        };
        let mut off = None;
        b.each(master, |e| {
            if e.id == id && !e.deleted {
                off = Some(e.offset);
            }
            e.id < id
        });
        let Some(off) = off else {
            return false;
        };
        b.mark_deleted(off);
        if b.live == 0 {
            self.blocks.remove(&master);
        }
        self.length -= 1;
        true
    }

    /// XDEL's bookkeeping around [`Stream::delete`]: first ID and max deleted ID.
    pub fn xdel(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_entry = false;
        for &id in ids {
            if self.delete(id) {
                if id == self.first_id {
                    first_entry = true;
                }
                if id > self.max_deleted_entry_id {
                    self.max_deleted_entry_id = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_entry {
                self.first_id = self.edge_id(false).unwrap_or_default();
            }
        }
        deleted
    }

    /// streamTrim: removes whole blocks while possible; with `approx` stops at the first
    /// block that cannot go whole, otherwise marks entries inside it. `limit` 0 = none.
    pub fn trim(&mut self, trim: Trim, approx: bool, limit: u64) -> u64 {
        if trim == Trim::None {
            return 0;
        }
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(max) = trim {
                if self.length <= max {
                    break;
                }
            }
            let Some((&master, b)) = self.blocks.iter_mut().next() else {
                break;
            };
            let entries = b.live as u64;
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match trim {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => b.last < min,
                Trim::None => false,
            };
            if remove_node {
                self.blocks.remove(&master);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut marks = Vec::new();
            let mut length = self.length;
            b.each(master, |e| {
                let stop = match trim {
                    Trim::MaxLen(max) => length <= max,
                    Trim::MinId(min) => e.id >= min,
                    Trim::None => true,
                };
                if stop {
                    return false;
                }
                if !e.deleted {
                    marks.push(e.offset);
                    length -= 1;
                }
                true
            });
            for off in &marks {
                b.mark_deleted(*off);
            }
            self.length = length;
            deleted += marks.len() as u64;
            break;
        }
        self.first_id = if self.length > 0 {
            self.edge_id(false).unwrap_or_default()
        } else {
            StreamId::MIN
        };
        deleted
    }

    /// streamRangeHasTombstones.
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// streamEstimateDistanceFromFirstEverEntry.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag (streamReplyWithCGLag); None when unknown.
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(g.last_id, StreamId::MAX)
        {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.estimate_distance(g.last_id);
        if read != INVALID_ENTRIES_READ {
            Some(self.entries_added as i64 - read)
        } else {
            None
        }
    }

    /// Records that a group delivered `id` (the group-update part of
    /// streamReplyWithRange). True if the group's last ID moved.
    pub fn advance_group(&mut self, group: &[u8], id: StreamId) -> bool {
        let tomb = self.range_has_tombstones(id, StreamId::MAX);
        let est = self.estimate_distance(id);
        let added = self.entries_added;
        let Some(g) = self.groups.get_mut(group) else {
            return false;
        };
        if id <= g.last_id {
            return false;
        }
        if g.entries_read != INVALID_ENTRIES_READ && !tomb {
            g.entries_read += 1;
        } else if added > 0 {
            g.entries_read = est;
        }
        g.last_id = id;
        true
    }

    /// streamCreateCG: false if the group exists.
    pub fn create_group(&mut self, name: &[u8], id: StreamId, entries_read: i64) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups.insert(
            SBytes::new(name),
            Group {
                last_id: id,
                entries_read,
                pel: BTreeMap::new(),
                consumers: BTreeMap::new(),
            },
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    fn add(s: &mut Stream, i: StreamId, f: &[&str]) {
        let fields: Vec<&[u8]> = f.iter().map(|x| x.as_bytes()).collect();
        let got = s.next_id(Some(i), true, 0).unwrap();
        s.append(got, &fields);
    }

    #[test]
    fn ids_and_order() {
        let mut s = Stream::new();
        assert_eq!(
            s.next_id(Some(id(0, 0)), true, 5),
            Err(AppendError::IdTooSmall)
        );
        assert_eq!(s.next_id(None, true, 5).unwrap(), id(5, 0));
        add(&mut s, id(5, 3), &["a", "1"]);
        assert_eq!(s.next_id(None, true, 5).unwrap(), id(5, 4));
        assert_eq!(s.next_id(Some(id(5, 0)), false, 0).unwrap(), id(5, 4));
        assert_eq!(s.next_id(Some(id(6, 0)), false, 0).unwrap(), id(6, 0));
        assert!(s.next_id(Some(id(5, 3)), true, 0).is_err());
        assert_eq!(id(1, u64::MAX).incr(), Some(id(2, 0)));
        assert_eq!(id(2, 0).decr(), Some(id(1, u64::MAX)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::MIN.decr(), None);
    }

    #[test]
    fn same_fields_and_different_fields_decode() {
        let mut s = Stream::new();
        add(&mut s, id(1, 0), &["a", "1", "b", "2"]);
        add(&mut s, id(1, 1), &["a", "x", "b", "y"]);
        add(&mut s, id(2, 0), &["c", "3"]);
        add(&mut s, id(300, 7), &["a", "", "b", "long value here"]);
        let all = s.collect(StreamId::MIN, StreamId::MAX, false, 0);
        assert_eq!(all.len(), 4);
        assert_eq!(
            all[1].1,
            vec![b"a".to_vec(), b"x".to_vec(), b"b".to_vec(), b"y".to_vec()]
        );
        assert_eq!(all[2].1, vec![b"c".to_vec(), b"3".to_vec()]);
        assert_eq!(all[3].0, id(300, 7));
        assert_eq!(all[3].1[3], b"long value here".to_vec());
        let rev = s.collect(StreamId::MIN, StreamId::MAX, true, 2);
        assert_eq!(
            rev.iter().map(|e| e.0).collect::<Vec<_>>(),
            vec![id(300, 7), id(2, 0)]
        );
    }

    #[test]
    fn blocks_split_at_100_entries_and_approx_trim_removes_whole_blocks() {
        let mut s = Stream::new();
        for i in 1..=250 {
            add(&mut s, id(i, 0), &["f", "v"]);
        }
        assert_eq!(s.block_count(), 3);
        assert_eq!(s.trim(Trim::MaxLen(120), true, 0), 100);
        assert_eq!(s.len(), 150);
        assert_eq!(s.first_id, id(101, 0));
        assert_eq!(s.trim(Trim::MaxLen(120), false, 0), 30);
        assert_eq!(s.first_id, id(131, 0));
        assert_eq!(s.trim(Trim::MinId(id(240, 0)), false, 0), 109);
        assert_eq!(s.len(), 11);
        assert_eq!(s.edge_id(false), Some(id(240, 0)));
    }

    #[test]
    fn deleting_every_entry_of_a_block_drops_it() {
        let mut s = Stream::new();
        for i in 1..=150 {
            add(&mut s, id(i, 0), &["f", "v"]);
        }
        let ids: Vec<StreamId> = (1..=100).map(|i| id(i, 0)).collect();
        assert_eq!(s.xdel(&ids), 100);
        assert_eq!(s.block_count(), 1);
        assert_eq!(s.first_id, id(101, 0));
        assert_eq!(s.max_deleted_entry_id, id(100, 0));
        assert!(!s.contains(id(5, 0)));
        assert!(s.contains(id(150, 0)));
    }

    /// Random XADD/XDEL/XTRIM/XRANGE against a BTreeMap mirror.
    #[test]
    fn model_against_btreemap() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _round in 0..20 {
            let mut s = Stream::new();
            let mut m: BTreeMap<StreamId, Vec<Vec<u8>>> = BTreeMap::new();
            let mut ms = 1u64;
            for _ in 0..600 {
                match rng.gen_range(0..10) {
                    0..=5 => {
                        ms += rng.gen_range(0..3);
                        let nid = s.next_id(Some(id(ms, 0)), false, 0).unwrap();
                        let nf = rng.gen_range(1..4);
                        let mut f: Vec<Vec<u8>> = Vec::new();
                        for k in 0..nf {
                            let name = if rng.gen_bool(0.7) {
                                format!("f{k}")
                            } else {
                                format!("g{}", rng.gen_range(0..5))
                            };
                            f.push(name.into_bytes());
                            let len = rng.gen_range(0..40);
                            f.push((0..len).map(|_| rng.gen_range(b'a'..=b'z')).collect());
                        }
                        let refs: Vec<&[u8]> = f.iter().map(|x| &x[..]).collect();
                        s.append(nid, &refs);
                        m.insert(nid, f);
                    }
                    6 => {
                        let keys: Vec<StreamId> = m.keys().copied().collect();
                        if let Some(&k) = keys.get(rng.gen_range(0..keys.len().max(1))) {
                            assert_eq!(s.xdel(&[k]), 1);
                            m.remove(&k);
                        }
                        assert_eq!(s.xdel(&[id(ms + 100, 0)]), 0);
                    }
                    7 => {
                        let max = rng.gen_range(0..300) as u64;
                        let approx = rng.gen_bool(0.5);
                        let n = s.trim(Trim::MaxLen(max), approx, 0);
                        for _ in 0..n {
                            let k = *m.keys().next().unwrap();
                            m.remove(&k);
                        }
                        if !approx {
                            assert!(m.len() as u64 <= max);
                        }
                    }
                    8 => {
                        let min = id(rng.gen_range(0..=ms), rng.gen_range(0..3));
                        let n = s.trim(Trim::MinId(min), rng.gen_bool(0.5), 0);
                        let gone: Vec<StreamId> = m.range(..min).map(|(k, _)| *k).collect();
                        assert!(n as usize <= gone.len());
                        for k in gone.iter().take(n as usize) {
                            m.remove(k);
                        }
                    }
                    _ => {
                        let a = id(rng.gen_range(0..=ms), rng.gen_range(0..3));
                        let b = id(rng.gen_range(0..=ms + 1), rng.gen_range(0..3));
                        let rev = rng.gen_bool(0.5);
                        let count = rng.gen_range(0..20);
                        let got = s.collect(a, b, rev, count);
                        let mut want: Vec<(StreamId, Vec<Vec<u8>>)> = if a <= b {
                            m.range(a..=b).map(|(k, v)| (*k, v.clone())).collect()
                        } else {
                            vec![]
                        };
                        if rev {
                            want.reverse();
                        }
                        if count > 0 {
                            want.truncate(count);
                        }
                        assert_eq!(got, want);
                    }
                }
                assert_eq!(s.len(), m.len() as u64);
                let first = m.keys().next().copied().unwrap_or_default();
                assert_eq!(s.first_id, first);
            }
            let all = s.collect(StreamId::MIN, StreamId::MAX, false, 0);
            let want: Vec<_> = m.into_iter().collect();
            assert_eq!(all, want);
        }
    }
}
