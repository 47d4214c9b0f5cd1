//! One segment: `{base_offset:020}.log` (concatenated batches), `.index`, `.timeindex`.
//!
//! Only the active (last) segment is appended to. Reads use positioned reads (`read_at`),
//! so they never move the append position.

use super::batch::{Batch, Batches, HEADER_LEN};
use super::index::{OffsetIndex, TimeIndex};
use super::Cut;
use crate::Error;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// `<dir>/{base_offset:020}.<ext>`, Kafka's `filenamePrefixFromOffset`.
pub fn segment_path(dir: &Path, base_offset: i64, ext: &str) -> PathBuf {
    dir.join(format!("{base_offset:020}.{ext}"))
}

/// What the fixed header says about a batch stored at some position.
#[derive(Clone, Copy, Debug)]
struct Header {
    base_offset: i64,
    last_offset: i64,
    max_timestamp: i64,
    size: u64,
}

#[derive(Debug)]
pub struct Segment {
    base_offset: i64,
    log_path: PathBuf,
    log: File,
    /// Valid bytes in the `.log` file; the append position.
    size: u64,
    offset_index: OffsetIndex,
    time_index: TimeIndex,
    /// Offset after the last batch, `base_offset` when empty.
    next_offset: i64,
    /// -1 (Kafka's NO_TIMESTAMP) until a batch carries a timestamp.
    max_timestamp: i64,
    offset_of_max_timestamp: i64,
    /// maxTimestamp of the first batch, the basis of time-based roll; -1 when absent.
    first_batch_timestamp: i64,
    created_ms: i64,
    bytes_since_last_index_entry: usize,
    index_interval_bytes: usize,
}

impl Segment {
    /// Creates an empty segment, replacing any files of that name.
    pub fn create(
        dir: &Path,
        base_offset: i64,
        index_interval_bytes: usize,
        now_ms: i64,
    ) -> Result<Segment, Error> {
        for ext in ["log", "index", "timeindex"] {
            match fs::remove_file(segment_path(dir, base_offset, ext)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        let mut seg = Segment::open(dir, base_offset, index_interval_bytes, now_ms)?;
        seg.next_offset = base_offset;
        Ok(seg)
    }

    /// Opens the files of an existing segment without scanning them; follow with
    /// [`Segment::load_clean`] or [`Segment::recover`] before use.
    pub fn open(
        dir: &Path,
        base_offset: i64,
        index_interval_bytes: usize,
        now_ms: i64,
    ) -> Result<Segment, Error> {
        let log_path = segment_path(dir, base_offset, "log");
        let log = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&log_path)?;
        let size = log.metadata()?.len();
        Ok(Segment {
            base_offset,
            log_path,
            log,
            size,
            offset_index: OffsetIndex::open(&segment_path(dir, base_offset, "index"), base_offset)?,
            time_index: TimeIndex::open(&segment_path(dir, base_offset, "timeindex"), base_offset)?,
            next_offset: base_offset,
            max_timestamp: -1,
            offset_of_max_timestamp: base_offset,
            first_batch_timestamp: -1,
            created_ms: now_ms,
            bytes_since_last_index_entry: 0,
            index_interval_bytes,
        })
    }

    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }
    /// Offset after the last stored batch (the LEO when this is the active segment).
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
    /// Largest batch maxTimestamp, -1 when none.
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }
    pub fn created_ms(&self) -> i64 {
        self.created_ms
    }
    pub fn offset_index(&self) -> &OffsetIndex {
        &self.offset_index
    }
    pub fn time_index(&self) -> &TimeIndex {
        &self.time_index
    }

    /// Loads state after a clean shutdown: trusts the indexes if they are consistent and
    /// scans batch headers (no CRC) from the last index entry to the end. Returns false when
    /// anything is off, and the caller then runs [`Segment::recover`].
    pub fn load_clean(&mut self) -> Result<bool, Error> {
        if !self.offset_index.is_sane(self.size) {
            return Ok(false);
        }
        let (_, start) = self.offset_index.lookup(i64::MAX);
        let (ts, off) = self.time_index.last().unwrap_or((-1, self.base_offset));
        self.max_timestamp = ts;
        self.offset_of_max_timestamp = off;
        self.next_offset = self.base_offset;
        let mut pos = u64::from(start);
        while pos < self.size {
            let Some(h) = self.header_at(pos)? else {
                return Ok(false);
            };
            if h.base_offset < self.next_offset || h.last_offset < h.base_offset {
                return Ok(false);
            }
            self.note_batch(&h);
            pos += h.size;
        }
        if self.size > 0 {
            match self.header_at(0)? {
                Some(h) => self.first_batch_timestamp = h.max_timestamp,
                None => return Ok(false),
            }
        }
        Ok(self.time_index.is_sane(self.next_offset))
    }

    /// Kafka's `LogSegment.recover`: resets the indexes, validates every batch from
    /// position 0 (framing, magic, CRC-32C, increasing offsets), rebuilds the indexes and
    /// cuts the log at the first invalid or partial batch. Returns the bytes cut.
    pub fn recover(&mut self) -> Result<Option<Cut>, Error> {
        self.offset_index.reset()?;
        self.time_index.reset()?;
        self.next_offset = self.base_offset;
        self.max_timestamp = -1;
        self.offset_of_max_timestamp = self.base_offset;
        self.first_batch_timestamp = -1;
        self.bytes_since_last_index_entry = 0;
        let file_len = self.log.metadata()?.len();
        self.size = file_len;
        let mut pos = 0u64;
        let mut buf = Vec::new();
        // (reason, torn) for the first batch that is not kept.
        let mut why: Option<(String, bool)> = None;
        loop {
            let Some(h) = self.header_at(pos)? else {
                if pos < file_len {
                    why = Some(self.why_unreadable(pos, file_len)?);
                }
                break;
            };
            if pos > u64::from(u32::MAX)
                || h.base_offset < self.next_offset
                || h.last_offset - self.base_offset > i64::from(i32::MAX)
            {
                let reason = format!(
                    "batch at offset {} does not follow offset {}",
                    h.base_offset,
                    self.next_offset - 1
                );
                why = Some((reason, false));
                break;
            }
            buf.resize(h.size as usize, 0);
            self.log.read_exact_at(&mut buf, pos)?;
            if let Err(e) = Batch::new(&buf).and_then(|b| b.validate()) {
                why = Some((e.to_string(), false));
                break;
            }
            self.index_batch(pos, &h)?;
            pos += h.size;
        }
        let truncated = file_len - pos;
        if truncated > 0 {
            self.log.set_len(pos)?;
        }
        self.size = pos;
        Ok(why.map(|(reason, torn)| Cut {
            segment: self.log_path.clone(),
            position: pos,
            bytes: truncated,
            reason,
            torn,
        }))
    }

    /// Why no batch header could be read at `pos` (< `file_len`), and whether that is a
    /// torn write: a batch that runs past the end of the file.
    fn why_unreadable(&self, pos: u64, file_len: u64) -> Result<(String, bool), Error> {
        let n = (file_len - pos).min(HEADER_LEN as u64) as usize;
        let mut hdr = vec![0u8; n];
        self.log.read_exact_at(&mut hdr, pos)?;
        if n < HEADER_LEN {
            return Ok(("a partial batch header at the end of the file".into(), true));
        }
        Ok(match Batch::new(&hdr).and_then(|b| b.size()) {
            Ok(size) if pos + size as u64 > file_len => {
                ("a partial batch at the end of the file".into(), true)
            }
            Ok(_) => ("an unreadable batch header".into(), false),
            Err(e) => (e.to_string(), false),
        })
    }

    /// Appends a batch set that the caller has validated and stamped with offsets.
    /// Index entries follow Kafka's `LogSegment.append`: one per batch once more than
    /// `index_interval_bytes` have been written since the previous entry.
    pub fn append(&mut self, batches: &[u8]) -> Result<(), Error> {
        let start = self.size;
        if let Err(e) = self.log.write_all(batches) {
            // Drop a partial write so the file never holds a torn batch we know about.
            let _ = self.log.set_len(start);
            return Err(e.into());
        }
        self.size += batches.len() as u64;
        for item in Batches::new(batches) {
            let (at, b) = item.map_err(|(at, e)| self.corrupt(start + at as u64, e.to_string()))?;
            let h = Header {
                base_offset: b.base_offset(),
                last_offset: b.last_offset(),
                max_timestamp: b.max_timestamp(),
                size: b.as_bytes().len() as u64,
            };
            self.index_batch(start + at as u64, &h)?;
        }
        Ok(())
    }

    /// Kafka's `shouldRoll` (KAFKA.md 3.2) before appending `set_size` bytes whose last
    /// offset is `last_offset` and largest timestamp `max_timestamp`. An empty segment never
    /// rolls. As Kafka, the time check compares the incoming batch's timestamp with the first
    /// batch's, and falls back to wall-clock age when the segment has no timestamps.
    pub fn should_roll(
        &self,
        set_size: usize,
        last_offset: i64,
        max_timestamp: i64,
        now_ms: i64,
        segment_bytes: u64,
        segment_ms: i64,
    ) -> bool {
        if self.is_empty() {
            return false;
        }
        let new_size = self.size + set_size as u64;
        let waited = if self.first_batch_timestamp >= 0 {
            max_timestamp - self.first_batch_timestamp
        } else {
            now_ms - self.created_ms
        };
        new_size > segment_bytes
            || new_size > u64::from(u32::MAX)
            || waited > segment_ms
            || last_offset - self.base_offset > i64::from(i32::MAX)
    }

    /// Whole batches from the one containing `offset`, stopping before a batch that starts
    /// at or after `up_to` or that would take the total past `max_bytes`. With `min_one`,
    /// the first batch is returned whatever its size (KIP-74).
    pub fn read(
        &self,
        offset: i64,
        max_bytes: usize,
        up_to: i64,
        min_one: bool,
    ) -> Result<Vec<u8>, Error> {
        let (_, from) = self.offset_index.lookup(offset);
        let mut start = u64::from(from);
        loop {
            match self.header_at(start)? {
                Some(h) if h.last_offset < offset => start += h.size,
                Some(_) => break,
                None => return Ok(Vec::new()),
            }
        }
        let mut end = start;
        while let Some(h) = self.header_at(end)? {
            let total = (end - start + h.size) as usize;
            if h.base_offset >= up_to || total > max_bytes && !(min_one && end == start) {
                break;
            }
            end += h.size;
        }
        let mut out = vec![0u8; (end - start) as usize];
        self.log.read_exact_at(&mut out, start)?;
        Ok(out)
    }

    /// Kafka's `findOffsetByTimestamp`: the first record at or after `starting_offset`
    /// whose timestamp is >= `ts`, as (offset, timestamp). For a compressed batch, whose
    /// records are not decoded here, the batch's first offset and maxTimestamp stand in.
    pub fn find_offset_by_timestamp(
        &self,
        ts: i64,
        starting_offset: i64,
    ) -> Result<Option<(i64, i64)>, Error> {
        let (_, hint) = self.time_index.lookup(ts);
        let (_, from) = self.offset_index.lookup(hint.max(starting_offset));
        let mut pos = u64::from(from);
        let mut buf = Vec::new();
        while let Some(h) = self.header_at(pos)? {
            if h.max_timestamp >= ts && h.last_offset >= starting_offset {
                buf.resize(h.size as usize, 0);
                self.log.read_exact_at(&mut buf, pos)?;
                let batch = Batch::new(&buf).map_err(|e| self.corrupt(pos, e.to_string()))?;
                let found = batch.record_timestamps().and_then(|mut records| {
                    records.find_map(|(delta, t)| {
                        let off = h.base_offset + i64::from(delta);
                        (t >= ts && off >= starting_offset).then_some((off, t))
                    })
                });
                return Ok(Some(
                    found.unwrap_or((h.base_offset.max(starting_offset), h.max_timestamp)),
                ));
            }
            pos += h.size;
        }
        Ok(None)
    }

    /// Called when the segment stops being active and on close: records the largest
    /// timestamp in the time index (as Kafka's `onBecomeInactiveSegment`) and syncs.
    pub fn seal(&mut self) -> Result<(), Error> {
        if self.max_timestamp >= 0 {
            self.time_index
                .maybe_append(self.max_timestamp, self.offset_of_max_timestamp)?;
        }
        self.sync_all()
    }

    /// fdatasync of the `.log` file; the indexes are rebuilt after a crash anyway.
    pub fn flush(&self) -> Result<(), Error> {
        self.log.sync_data()?;
        Ok(())
    }

    /// fdatasync of the log and both indexes.
    pub fn sync_all(&self) -> Result<(), Error> {
        self.flush()?;
        self.offset_index.sync()?;
        self.time_index.sync()
    }

    /// Removes the three files.
    pub fn delete(self) -> Result<(), Error> {
        fs::remove_file(&self.log_path)?;
        fs::remove_file(self.offset_index.path())?;
        fs::remove_file(self.time_index.path())?;
        Ok(())
    }

    fn note_batch(&mut self, h: &Header) {
        if h.max_timestamp > self.max_timestamp {
            self.max_timestamp = h.max_timestamp;
            self.offset_of_max_timestamp = h.last_offset;
        }
        self.next_offset = h.last_offset + 1;
    }

    fn index_batch(&mut self, pos: u64, h: &Header) -> Result<(), Error> {
        if pos == 0 {
            self.first_batch_timestamp = h.max_timestamp;
        }
        self.note_batch(h);
        if self.bytes_since_last_index_entry > self.index_interval_bytes {
            let pos = u32::try_from(pos).map_err(|_| self.corrupt(pos, "position > u32".into()))?;
            self.offset_index.append(h.last_offset, pos)?;
            self.time_index
                .maybe_append(self.max_timestamp, self.offset_of_max_timestamp)?;
            self.bytes_since_last_index_entry = 0;
        }
        self.bytes_since_last_index_entry += h.size as usize;
        Ok(())
    }

    /// Header of the batch at `pos`, or `None` when the bytes left cannot hold it whole.
    fn header_at(&self, pos: u64) -> Result<Option<Header>, Error> {
        if pos + HEADER_LEN as u64 > self.size {
            return Ok(None);
        }
        let mut hdr = [0u8; HEADER_LEN];
        self.log.read_exact_at(&mut hdr, pos)?;
        let Ok(b) = Batch::new(&hdr) else {
            return Ok(None);
        };
        let Ok(size) = b.size() else {
            return Ok(None);
        };
        if pos + size as u64 > self.size {
            return Ok(None);
        }
        Ok(Some(Header {
            base_offset: b.base_offset(),
            last_offset: b.last_offset(),
            max_timestamp: b.max_timestamp(),
            size: size as u64,
        }))
    }

    fn corrupt(&self, offset: u64, reason: String) -> Error {
        Error::Corrupt {
            path: self.log_path.display().to_string(),
            offset,
            reason,
        }
    }

    /// The record holding this segment's largest timestamp, as (offset, timestamp): the
    /// first record stamped with it in the first batch whose maxTimestamp it is (Kafka's
    /// `batch.offsetOfMaxTimestamp()`, KAFKA-16310). A compressed batch's records are not
    /// decoded here, so its last offset stands in, as Kafka reported before 3.7.1. `None`
    /// when no batch carries a timestamp.
    pub fn max_timestamp_record(&self) -> Result<Option<(i64, i64)>, Error> {
        if self.max_timestamp < 0 {
            return Ok(None);
        }
        let (_, from) = self.offset_index.lookup(self.offset_of_max_timestamp);
        let mut pos = u64::from(from);
        let mut buf = Vec::new();
        while let Some(h) = self.header_at(pos)? {
            if h.max_timestamp == self.max_timestamp {
                buf.resize(h.size as usize, 0);
                self.log.read_exact_at(&mut buf, pos)?;
                let batch = Batch::new(&buf).map_err(|e| self.corrupt(pos, e.to_string()))?;
                let found = batch.record_timestamps().and_then(|mut records| {
                    records.find_map(|(delta, t)| {
                        (t == h.max_timestamp).then_some(h.base_offset + i64::from(delta))
                    })
                });
                return Ok(Some((found.unwrap_or(h.last_offset), h.max_timestamp)));
            }
            pos += h.size;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::batch::{encode_batch, set_base_offset, NewRecord};
    use super::*;

    /// A batch of `n` records at `offset`, record i stamped `ts + i`, ~`pad`-byte values.
    fn batch(offset: i64, n: usize, ts: i64, pad: usize) -> Vec<u8> {
        let value = vec![b'x'; pad];
        let recs: Vec<NewRecord> = (0..n)
            .map(|i| NewRecord {
                timestamp: ts + i as i64,
                key: None,
                value: Some(&value),
            })
            .collect();
        let mut b = encode_batch(&recs);
        set_base_offset(&mut b, offset);
        b
    }

    fn filled(dir: &Path) -> (Segment, Vec<Vec<u8>>) {
        let mut seg = Segment::create(dir, 100, 1000, 0).unwrap();
        let mut all = Vec::new();
        for i in 0..20 {
            let b = batch(100 + i * 3, 3, 1000 + i * 10, 200);
            seg.append(&b).unwrap();
            all.push(b);
        }
        (seg, all)
    }

    #[test]
    fn append_read_and_index() {
        let dir = tempfile::tempdir().unwrap();
        let (seg, all) = filled(dir.path());
        assert_eq!(seg.next_offset(), 160);
        assert_eq!(seg.max_timestamp(), 1192);
        assert!(seg.offset_index().len() >= 3);
        // Offset 104 sits inside the second batch (103..=105).
        let got = seg.read(104, 1, i64::MAX, true).unwrap();
        assert_eq!(got, all[1]);
        assert!(seg.read(104, 1, i64::MAX, false).unwrap().is_empty());
        let got = seg.read(104, all[1].len() * 2, i64::MAX, true).unwrap();
        assert_eq!(got, [all[1].clone(), all[2].clone()].concat());
        // up_to is exclusive on batch starts.
        let got = seg.read(100, usize::MAX, 106, true).unwrap();
        assert_eq!(got, all[..2].concat());
        assert!(seg.read(160, 1000, i64::MAX, true).unwrap().is_empty());
        assert_eq!(
            seg.read(0, usize::MAX, i64::MAX, true).unwrap(),
            all.concat()
        );
    }

    #[test]
    fn offset_by_timestamp() {
        let dir = tempfile::tempdir().unwrap();
        let (seg, _) = filled(dir.path());
        assert_eq!(
            seg.find_offset_by_timestamp(0, 100).unwrap(),
            Some((100, 1000))
        );
        assert_eq!(
            seg.find_offset_by_timestamp(1011, 100).unwrap(),
            Some((104, 1011))
        );
        assert_eq!(
            seg.find_offset_by_timestamp(1013, 100).unwrap(),
            Some((106, 1020))
        );
        assert_eq!(
            seg.find_offset_by_timestamp(1150, 0).unwrap(),
            Some((145, 1150))
        );
        assert_eq!(
            seg.find_offset_by_timestamp(1000, 150).unwrap(),
            Some((150, 1162))
        );
        assert_eq!(seg.find_offset_by_timestamp(1193, 100).unwrap(), None);
    }

    #[test]
    fn recover_rebuilds_indexes_and_cuts_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let (mut seg, all) = filled(dir.path());
        let entries = seg.offset_index().len();
        let full = seg.size();
        assert_eq!(seg.recover().unwrap(), None);
        assert_eq!(seg.offset_index().len(), entries);
        assert_eq!(seg.next_offset(), 160);
        drop(seg);
        let log = segment_path(dir.path(), 100, "log");
        let cut = full - 50;
        OpenOptions::new()
            .write(true)
            .open(&log)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let mut seg = Segment::open(dir.path(), 100, 1000, 0).unwrap();
        let last = all.last().unwrap().len() as u64;
        let cut = seg.recover().unwrap().expect("a cut");
        assert_eq!(
            (cut.position, cut.bytes, cut.torn),
            (full - last, last - 50, true)
        );
        assert_eq!(seg.size(), full - last);
        assert_eq!(seg.next_offset(), 157);
        assert_eq!(fs::metadata(&log).unwrap().len(), full - last);
        assert!(seg.offset_index().is_sane(seg.size()));
    }

    #[test]
    fn load_clean_matches_recover() {
        let dir = tempfile::tempdir().unwrap();
        let (mut seg, _) = filled(dir.path());
        seg.seal().unwrap();
        let (next, max, idx) = (
            seg.next_offset(),
            seg.max_timestamp(),
            seg.offset_index().len(),
        );
        drop(seg);
        let mut seg = Segment::open(dir.path(), 100, 1000, 0).unwrap();
        assert!(seg.load_clean().unwrap());
        assert_eq!((seg.next_offset(), seg.max_timestamp()), (next, max));
        assert_eq!(seg.offset_index().len(), idx);
        // A missing index entry is fine; an index pointing past the end is not.
        fs::write(
            segment_path(dir.path(), 100, "index"),
            [0, 0, 0, 9, 0, 1, 0, 0],
        )
        .unwrap();
        let mut seg = Segment::open(dir.path(), 100, 1000, 0).unwrap();
        assert!(!seg.load_clean().unwrap());
    }

    #[test]
    fn roll_rules() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment::create(dir.path(), 0, 4096, 0).unwrap();
        assert!(!seg.should_roll(10_000, 0, 0, i64::MAX, 100, 1));
        seg.append(&batch(0, 1, 1000, 10)).unwrap();
        let s = seg.size() as usize;
        assert!(!seg.should_roll(100, 1, 1000, 0, (s + 100) as u64, 10));
        assert!(seg.should_roll(101, 1, 1000, 0, (s + 100) as u64, 10));
        assert!(seg.should_roll(1, 1, 1011, 0, 1 << 30, 10));
        assert!(!seg.should_roll(1, 1, 1010, 0, 1 << 30, 10));
        assert!(seg.should_roll(1, i64::from(i32::MAX) + 1, 1000, 0, 1 << 30, 10));
    }
}
