//! Sparse offset and time indexes of one segment (Kafka's `OffsetIndex` / `TimeIndex`).
//!
//! Entries live in memory as a `Vec` and are appended to a plain file; nothing is
//! preallocated. The files carry no checksum: after a crash they are rebuilt from the log.

use crate::Error;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// `.index` entry: (offset - base_offset) u32 BE, file position u32 BE.
pub const OFFSET_ENTRY: usize = 8;
/// `.timeindex` entry: timestamp i64 BE, (offset - base_offset) u32 BE.
pub const TIME_ENTRY: usize = 12;

fn open_append(path: &Path) -> Result<(File, Vec<u8>), Error> {
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok((file, bytes))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Offset index: `lookup` returns the greatest entry whose offset is <= the target.
#[derive(Debug)]
pub struct OffsetIndex {
    path: PathBuf,
    file: File,
    base_offset: i64,
    /// (relative offset, position), both strictly increasing.
    entries: Vec<(u32, u32)>,
}

impl OffsetIndex {
    /// Opens or creates the file; a partial trailing entry (a torn write) is dropped.
    pub fn open(path: &Path, base_offset: i64) -> Result<OffsetIndex, Error> {
        let (file, bytes) = open_append(path)?;
        let entries = bytes
            .chunks_exact(OFFSET_ENTRY)
            .map(|e| (u32_at(e, 0), u32_at(e, 4)))
            .collect();
        let mut index = OffsetIndex {
            path: path.to_path_buf(),
            file,
            base_offset,
            entries,
        };
        if bytes.len() % OFFSET_ENTRY != 0 {
            index.rewrite()?;
        }
        Ok(index)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Last entry as (absolute offset, position).
    pub fn last(&self) -> Option<(i64, u32)> {
        self.entries
            .last()
            .map(|&(rel, pos)| (self.base_offset + i64::from(rel), pos))
    }

    /// Greatest entry with offset <= `target` as (absolute offset, position), else
    /// (base_offset, 0).
    pub fn lookup(&self, target: i64) -> (i64, u32) {
        let n = self
            .entries
            .partition_point(|&(rel, _)| self.base_offset + i64::from(rel) <= target);
        match n {
            0 => (self.base_offset, 0),
            _ => {
                let (rel, pos) = self.entries[n - 1];
                (self.base_offset + i64::from(rel), pos)
            }
        }
    }

    /// Appends (offset, position). Offsets and positions must increase and the offset must
    /// fit u32 relative to the base; otherwise the entry is refused as corrupt.
    pub fn append(&mut self, offset: i64, position: u32) -> Result<(), Error> {
        let rel = u32::try_from(offset - self.base_offset).ok();
        let ok = rel.is_some_and(|rel| {
            self.entries
                .last()
                .is_none_or(|&(r, p)| rel > r && position > p)
        });
        let Some(rel) = rel.filter(|_| ok) else {
            return Err(self.corrupt(format!("index entry {offset}@{position} out of order")));
        };
        let mut e = [0u8; OFFSET_ENTRY];
        e[..4].copy_from_slice(&rel.to_be_bytes());
        e[4..].copy_from_slice(&position.to_be_bytes());
        self.file.write_all(&e)?;
        self.entries.push((rel, position));
        Ok(())
    }

    /// Drops entries with offset >= `offset` (Kafka's `truncateTo`).
    pub fn truncate_to(&mut self, offset: i64) -> Result<(), Error> {
        let keep = self
            .entries
            .partition_point(|&(rel, _)| self.base_offset + i64::from(rel) < offset);
        if keep < self.entries.len() {
            self.entries.truncate(keep);
            self.file.set_len((keep * OFFSET_ENTRY) as u64)?;
        }
        Ok(())
    }

    /// Empties the index, before a rebuild.
    pub fn reset(&mut self) -> Result<(), Error> {
        self.entries.clear();
        self.file.set_len(0)?;
        Ok(())
    }

    /// True when entries increase and every position lies before `log_size`.
    pub fn is_sane(&self, log_size: u64) -> bool {
        self.entries
            .windows(2)
            .all(|w| w[0] < w[1] && w[0].1 < w[1].1)
            && self
                .entries
                .last()
                .is_none_or(|&(_, p)| u64::from(p) < log_size)
    }

    pub fn sync(&self) -> Result<(), Error> {
        self.file.sync_data()?;
        Ok(())
    }

    fn rewrite(&mut self) -> Result<(), Error> {
        let mut bytes = Vec::with_capacity(self.entries.len() * OFFSET_ENTRY);
        for &(rel, pos) in &self.entries {
            bytes.extend_from_slice(&rel.to_be_bytes());
            bytes.extend_from_slice(&pos.to_be_bytes());
        }
        self.file.set_len(0)?;
        self.file.write_all(&bytes)?;
        Ok(())
    }

    fn corrupt(&self, reason: String) -> Error {
        Error::Corrupt {
            path: self.path.display().to_string(),
            offset: (self.entries.len() * OFFSET_ENTRY) as u64,
            reason,
        }
    }
}

/// Time index: entry (T, O) means "the largest timestamp before and at offset O is T".
/// Entries are added only when the timestamp grows.
#[derive(Debug)]
pub struct TimeIndex {
    path: PathBuf,
    file: File,
    base_offset: i64,
    /// (timestamp, relative offset), both non-decreasing; timestamps strictly increasing.
    entries: Vec<(i64, u32)>,
}

impl TimeIndex {
    /// Opens or creates the file; a partial trailing entry is dropped.
    pub fn open(path: &Path, base_offset: i64) -> Result<TimeIndex, Error> {
        let (file, bytes) = open_append(path)?;
        let entries = bytes
            .chunks_exact(TIME_ENTRY)
            .map(|e| {
                let mut ts = [0u8; 8];
                ts.copy_from_slice(&e[..8]);
                (i64::from_be_bytes(ts), u32_at(e, 8))
            })
            .collect();
        let mut index = TimeIndex {
            path: path.to_path_buf(),
            file,
            base_offset,
            entries,
        };
        if bytes.len() % TIME_ENTRY != 0 {
            index.rewrite()?;
        }
        Ok(index)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Last entry as (timestamp, absolute offset).
    pub fn last(&self) -> Option<(i64, i64)> {
        self.entries
            .last()
            .map(|&(ts, rel)| (ts, self.base_offset + i64::from(rel)))
    }

    /// Greatest entry with timestamp <= `target` as (timestamp, absolute offset), else
    /// (-1, base_offset).
    pub fn lookup(&self, target: i64) -> (i64, i64) {
        let n = self.entries.partition_point(|&(ts, _)| ts <= target);
        match n {
            0 => (-1, self.base_offset),
            _ => {
                let (ts, rel) = self.entries[n - 1];
                (ts, self.base_offset + i64::from(rel))
            }
        }
    }

    /// Kafka's `maybeAppend`: adds (timestamp, offset) only when `timestamp` exceeds the
    /// last entry's. Returns whether an entry was written.
    pub fn maybe_append(&mut self, timestamp: i64, offset: i64) -> Result<bool, Error> {
        if self.entries.last().is_some_and(|&(ts, _)| timestamp <= ts) {
            return Ok(false);
        }
        let rel = u32::try_from(offset - self.base_offset).ok();
        let Some(rel) = rel.filter(|&r| self.entries.last().is_none_or(|&(_, o)| r >= o)) else {
            return Err(Error::Corrupt {
                path: self.path.display().to_string(),
                offset: (self.entries.len() * TIME_ENTRY) as u64,
                reason: format!("time index entry {timestamp}@{offset} out of order"),
            });
        };
        let mut e = [0u8; TIME_ENTRY];
        e[..8].copy_from_slice(&timestamp.to_be_bytes());
        e[8..].copy_from_slice(&rel.to_be_bytes());
        self.file.write_all(&e)?;
        self.entries.push((timestamp, rel));
        Ok(true)
    }

    /// Drops entries with offset >= `offset`.
    pub fn truncate_to(&mut self, offset: i64) -> Result<(), Error> {
        let keep = self
            .entries
            .partition_point(|&(_, rel)| self.base_offset + i64::from(rel) < offset);
        if keep < self.entries.len() {
            self.entries.truncate(keep);
            self.file.set_len((keep * TIME_ENTRY) as u64)?;
        }
        Ok(())
    }

    pub fn reset(&mut self) -> Result<(), Error> {
        self.entries.clear();
        self.file.set_len(0)?;
        Ok(())
    }

    /// True when timestamps strictly increase, offsets do not decrease and every offset is
    /// below `next_offset`.
    pub fn is_sane(&self, next_offset: i64) -> bool {
        self.entries
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
            && self
                .last()
                .is_none_or(|(_, off)| off < next_offset.max(self.base_offset + 1))
    }

    pub fn sync(&self) -> Result<(), Error> {
        self.file.sync_data()?;
        Ok(())
    }

    fn rewrite(&mut self) -> Result<(), Error> {
        let mut bytes = Vec::with_capacity(self.entries.len() * TIME_ENTRY);
        for &(ts, rel) in &self.entries {
            bytes.extend_from_slice(&ts.to_be_bytes());
            bytes.extend_from_slice(&rel.to_be_bytes());
        }
        self.file.set_len(0)?;
        self.file.write_all(&bytes)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_lookup_greatest_le() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.index");
        let mut idx = OffsetIndex::open(&path, 100).unwrap();
        assert_eq!(idx.lookup(150), (100, 0));
        idx.append(110, 4000).unwrap();
        idx.append(120, 8000).unwrap();
        idx.append(130, 12000).unwrap();
        assert_eq!(idx.lookup(99), (100, 0));
        assert_eq!(idx.lookup(109), (100, 0));
        assert_eq!(idx.lookup(110), (110, 4000));
        assert_eq!(idx.lookup(125), (120, 8000));
        assert_eq!(idx.lookup(1000), (130, 12000));
        assert!(idx.append(125, 20000).is_err());
        assert!(idx.append(140, 12000).is_err());
        assert!(idx.append(99, 20000).is_err());
        assert!(idx.is_sane(12001));
        assert!(!idx.is_sane(12000));

        // Reopen reads the same entries; a torn trailing entry is dropped.
        drop(idx);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[1, 2, 3]).unwrap();
        let mut idx = OffsetIndex::open(&path, 100).unwrap();
        assert_eq!(idx.len(), 3);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 24);
        idx.truncate_to(120).unwrap();
        assert_eq!(idx.last(), Some((110, 4000)));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 8);
        idx.reset().unwrap();
        assert!(idx.is_empty());
    }

    #[test]
    fn time_lookup_and_maybe_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.timeindex");
        let mut idx = TimeIndex::open(&path, 50).unwrap();
        assert_eq!(idx.lookup(1000), (-1, 50));
        assert!(idx.maybe_append(1000, 55).unwrap());
        assert!(!idx.maybe_append(1000, 60).unwrap());
        assert!(!idx.maybe_append(900, 61).unwrap());
        assert!(idx.maybe_append(2000, 70).unwrap());
        assert!(idx.maybe_append(3000, 70).unwrap());
        assert!(idx.maybe_append(4000, 60).is_err());
        assert_eq!(idx.lookup(999), (-1, 50));
        assert_eq!(idx.lookup(1000), (1000, 55));
        assert_eq!(idx.lookup(2500), (2000, 70));
        assert_eq!(idx.lookup(i64::MAX), (3000, 70));
        assert!(idx.is_sane(71));
        assert!(!idx.is_sane(70));
        drop(idx);
        let mut idx = TimeIndex::open(&path, 50).unwrap();
        assert_eq!(idx.len(), 3);
        idx.truncate_to(70).unwrap();
        assert_eq!(idx.last(), Some((1000, 55)));
    }
}
