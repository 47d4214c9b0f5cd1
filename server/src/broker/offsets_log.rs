//! The durable half of committed offsets: the internal partition
//! `<dir>/topics/__consumer_offsets-0/` (KAFKA.md 3.6), a plain
//! [`rill_storage::log::Partition`] with one record per committed partition.
//!
//! Records use Kafka's layout, written by hand because kafka-protocol 0.18 does not
//! generate the coordinator record types (all fields big-endian, strings as int16 length
//! and UTF-8 bytes, nullable strings with length -1):
//!
//! ```text
//! key   OffsetCommitKey   version=1 (int16), group string, topic string, partition int32
//! value OffsetCommitValue version=3 (int16), offset int64, leader_epoch int32,
//!                         metadata string, commit_timestamp int64
//! ```
//!
//! A null value is a tombstone. Replay keeps the last record per key. Key versions other
//! than 0/1 (group metadata, version 2) and value versions other than 0-3 are skipped.
//!
//! Compaction (Kafka's log cleaner keeps the last record per key): once the partition is
//! over `offsets.topic.segment.bytes` and at least half its records are superseded, the
//! active segment is rolled, the latest record of every key is appended there and
//! fsynced, and the older segments are deleted. A crash anywhere in between replays to
//! the same offsets (the rewritten records repeat the latest ones). Time and size
//! retention would drop live offsets, so this partition is opened with them off.

use super::group::CommittedOffset;
use super::produce::LEADER_EPOCH;
use crate::db::TopicOffsets;
use rill_storage::log::batch::{encode_batch, read_varlong, NewRecord, HEADER_LEN};
use rill_storage::log::{Batches, LogConfig, Partition};
use std::collections::BTreeMap;
use std::path::Path;

/// Kafka's internal offsets topic; clients may not create, produce to or list it.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// `(group, topic, partition)`, the key of a committed offset.
pub type OffsetKey = (String, String, i32);

/// One replayed record: a commit, or None for a tombstone.
pub type OffsetRecord = (OffsetKey, Option<CommittedOffset>);

/// A raw record: `(offset_delta, key, value)`.
type RawRecord<'a> = (i32, Option<&'a [u8]>, Option<&'a [u8]>);

/// Compaction rewrites at most this many records per batch.
const COMPACT_BATCH: usize = 1000;

/// Kafka's `offsets.topic.segment.bytes` default.
pub const DEFAULT_COMPACT_BYTES: u64 = 100 * 1024 * 1024;

/// The open `__consumer_offsets-0` partition.
#[derive(Debug)]
pub struct OffsetsLog {
    partition: Partition,
    /// The last value of every key in the log: what a compaction writes.
    latest: BTreeMap<OffsetKey, CommittedOffset>,
    /// Records from the log start to the leo (one per key right after a compaction).
    records: u64,
    /// Compact once the partition holds this many bytes (and half its records are stale).
    pub compact_bytes: u64,
}

impl OffsetsLog {
    /// Opens (or creates) `<topics>/__consumer_offsets-0` and reads every record in it,
    /// oldest first, for [`super::group::OffsetStore::load`].
    pub fn open(
        topics: &Path,
        mut config: LogConfig,
    ) -> std::io::Result<(OffsetsLog, Vec<OffsetRecord>)> {
        // Without compaction, retention would delete offsets that are still in use.
        config.retention_ms = -1;
        config.retention_bytes = -1;
        let dir = topics.join(format!("{OFFSETS_TOPIC}-0"));
        let (mut partition, report) =
            Partition::open(&dir, config).map_err(std::io::Error::other)?;
        super::registry::log_recovery(&report);
        let leo = partition.leo();
        partition.set_hw(leo);
        let records = replay(&partition)?;
        let mut latest = BTreeMap::new();
        for (key, value) in &records {
            match value {
                Some(v) => latest.insert(key.clone(), v.clone()),
                None => latest.remove(key),
            };
        }
        let log = OffsetsLog {
            partition,
            latest,
            records: records.len() as u64,
            compact_bytes: DEFAULT_COMPACT_BYTES,
        };
        Ok((log, records))
    }

    /// Appends one batch holding a record per `(topic, partition, value)` of `group`, and
    /// fsyncs it under `kafka-flush always` (Partition::append does), so a commit is
    /// durable before its response is sent.
    pub fn append(
        &mut self,
        group: &str,
        entries: &[(&str, i32, &CommittedOffset)],
        now_ms: i64,
    ) -> std::io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let encoded: Vec<(Vec<u8>, Vec<u8>)> = entries
            .iter()
            .map(|(t, p, v)| (encode_key(group, t, *p), encode_value(v)))
            .collect();
        self.append_encoded(&encoded, now_ms)?;
        for (t, p, v) in entries {
            self.latest
                .insert((group.to_string(), t.to_string(), *p), (*v).clone());
        }
        self.records += entries.len() as u64;
        if self.partition.size_bytes() >= self.compact_bytes
            && self.records >= 2 * self.latest.len() as u64
        {
            // The commit itself is stored; a failed compaction only leaves the log longer.
            if let Err(e) = self.compact(now_ms) {
                tracing::warn!("Kafka: compacting {OFFSETS_TOPIC}: {e}");
            }
        }
        Ok(())
    }

    /// One batch of `(key, value)` records at the leo, which becomes the hw at once (the
    /// coordinator is its only reader).
    fn append_encoded(
        &mut self,
        encoded: &[(Vec<u8>, Vec<u8>)],
        now_ms: i64,
    ) -> std::io::Result<()> {
        let records: Vec<NewRecord<'_>> = encoded
            .iter()
            .map(|(k, v)| NewRecord {
                timestamp: now_ms,
                key: Some(k),
                value: Some(v),
            })
            .collect();
        let mut batch = encode_batch(&records);
        self.partition
            .append(&mut batch, LEADER_EPOCH, now_ms)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let leo = self.partition.leo();
        self.partition.set_hw(leo);
        Ok(())
    }

    /// Rewrites the latest record of every key into a fresh segment, syncs it, then
    /// deletes the segments before it.
    fn compact(&mut self, now_ms: i64) -> std::io::Result<()> {
        self.partition
            .roll_now(now_ms)
            .map_err(std::io::Error::other)?;
        let start = self.partition.leo();
        let encoded: Vec<(Vec<u8>, Vec<u8>)> = self
            .latest
            .iter()
            .map(|((g, t, p), v)| (encode_key(g, t, *p), encode_value(v)))
            .collect();
        for chunk in encoded.chunks(COMPACT_BATCH) {
            self.append_encoded(chunk, now_ms)?;
        }
        // Under any kafka-flush policy the rewrite is on disk before what it replaces goes.
        self.partition.flush().map_err(std::io::Error::other)?;
        let deleted = self.partition.delete_segments_below(start);
        self.records = self.latest.len() as u64;
        tracing::info!(
            "Kafka: compacted {OFFSETS_TOPIC}: {} live offsets, {deleted} segments deleted",
            self.latest.len()
        );
        Ok(())
    }

    /// Bytes on disk (INFO, tests).
    pub fn size_bytes(&self) -> u64 {
        self.partition.size_bytes()
    }

    /// The periodic flush (`kafka-flush everysec`), from the server cron.
    pub fn flush_if_due(&mut self, now_ms: i64) -> std::io::Result<()> {
        self.partition
            .flush_if_due(now_ms)
            .map_err(std::io::Error::other)
    }

    /// Closes cleanly (shutdown).
    pub fn close(self) -> std::io::Result<()> {
        self.partition.close().map_err(std::io::Error::other)
    }
}

/// Every record of `partition`, oldest first, decoded; undecodable records are skipped
/// (logged), so one bad record cannot keep the broker from starting.
fn replay(partition: &Partition) -> std::io::Result<Vec<OffsetRecord>> {
    let mut out = Vec::new();
    let end = partition.leo();
    let mut offset = partition.log_start_offset();
    while offset < end {
        let read = partition
            .read(offset, 1 << 20, end)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut next = offset;
        for (_, batch) in Batches::new(&read.records).map_while(Result::ok) {
            next = next.max(batch.last_offset() + 1);
            if batch.compression() != 0 {
                // We only write uncompressed batches.
                tracing::warn!("Kafka: skipping a compressed batch in {OFFSETS_TOPIC}");
                continue;
            }
            let bytes = batch.as_bytes();
            let base = batch.base_offset();
            for (delta, key, value) in records(bytes.get(HEADER_LEN..).unwrap_or_default()) {
                if base + i64::from(delta) < offset {
                    continue;
                }
                let Some(key) = key.and_then(decode_key) else {
                    continue;
                };
                match value {
                    None => out.push((key, None)),
                    Some(v) => match decode_value(v) {
                        Some(v) => out.push((key, Some(v))),
                        None => tracing::warn!("Kafka: bad value in {OFFSETS_TOPIC}"),
                    },
                }
            }
        }
        if next <= offset {
            // Nothing readable at `offset`: stop rather than spin.
            break;
        }
        offset = next;
    }
    Ok(out)
}

/// `(offset_delta, key, value)` of each record in an uncompressed records section.
fn records(mut buf: &[u8]) -> Vec<RawRecord<'_>> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let mut pos = 0;
        let Some(len) = read_varlong(buf, &mut pos).and_then(|l| usize::try_from(l).ok()) else {
            break;
        };
        let Some(body) = buf.get(pos..pos + len) else {
            break;
        };
        buf = &buf[pos + len..];
        let mut p = 1; // attributes
        let parsed = (|| {
            read_varlong(body, &mut p)?; // timestamp delta
            let delta = i32::try_from(read_varlong(body, &mut p)?).ok()?;
            let mut field = || -> Option<Option<&[u8]>> {
                let n = read_varlong(body, &mut p)?;
                if n < 0 {
                    return Some(None);
                }
                let n = usize::try_from(n).ok()?;
                let f = body.get(p..p + n)?;
                p += n;
                Some(Some(f))
            };
            let key = field()?;
            let value = field()?;
            Some((delta, key, value))
        })();
        match parsed {
            Some(r) => out.push(r),
            None => break,
        }
    }
    out
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Kafka strings are at most i16::MAX bytes; group ids and topic names are far shorter.
    let n = i16::try_from(s.len()).unwrap_or(i16::MAX);
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..n as usize]);
}

/// OffsetCommitKey version 1.
pub fn encode_key(group: &str, topic: &str, partition: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + group.len() + topic.len());
    out.extend_from_slice(&1i16.to_be_bytes());
    put_str(&mut out, group);
    put_str(&mut out, topic);
    out.extend_from_slice(&partition.to_be_bytes());
    out
}

/// OffsetCommitValue version 3; no metadata is written as the empty string, as Kafka does.
pub fn encode_value(v: &CommittedOffset) -> Vec<u8> {
    let metadata = v.metadata.as_deref().unwrap_or("");
    let mut out = Vec::with_capacity(24 + metadata.len());
    out.extend_from_slice(&3i16.to_be_bytes());
    out.extend_from_slice(&v.offset.to_be_bytes());
    out.extend_from_slice(&v.leader_epoch.to_be_bytes());
    put_str(&mut out, metadata);
    out.extend_from_slice(&v.commit_timestamp_ms.to_be_bytes());
    out
}

/// TCOMMIT's offsets as one RDB aux value (`rill-topic-offsets`): per entry an
/// OffsetCommitKey and an OffsetCommitValue, each preceded by its int32 length.
pub fn encode_topic_offsets(offsets: &TopicOffsets) -> Vec<u8> {
    let mut out = Vec::new();
    for ((group, topic, partition), &(offset, ts)) in offsets {
        for part in [
            encode_key(group, topic, *partition),
            encode_value(&CommittedOffset::resp(offset, ts)),
        ] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(&part);
        }
    }
    out
}

/// The inverse of [`encode_topic_offsets`]; None when the bytes do not parse.
pub fn decode_topic_offsets(buf: &[u8]) -> Option<TopicOffsets> {
    let mut r = Reader(buf);
    let mut out = TopicOffsets::new();
    while !r.0.is_empty() {
        let key = decode_key(r.bytes()?)?;
        let value = decode_value(r.bytes()?)?;
        out.insert(key, (value.offset, value.commit_timestamp_ms));
    }
    Some(out)
}

/// A big-endian reader over a record key or value.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn i16(&mut self) -> Option<i16> {
        self.take().map(i16::from_be_bytes)
    }
    fn i32(&mut self) -> Option<i32> {
        self.take().map(i32::from_be_bytes)
    }
    fn i64(&mut self) -> Option<i64> {
        self.take().map(i64::from_be_bytes)
    }
    /// int32 length, then that many bytes.
    fn bytes(&mut self) -> Option<&[u8]> {
        let n = usize::try_from(self.i32()?).ok()?;
        let b = self.0.get(..n)?;
        self.0 = &self.0[n..];
        Some(b)
    }
    fn string(&mut self) -> Option<String> {
        let n = usize::try_from(self.i16()?).ok()?;
        let s = self.0.get(..n)?;
        self.0 = &self.0[n..];
        String::from_utf8(s.to_vec()).ok()
    }
}

/// OffsetCommitKey versions 0 and 1 (same fields); None for other record kinds.
pub fn decode_key(buf: &[u8]) -> Option<OffsetKey> {
    let mut r = Reader(buf);
    if !matches!(r.i16()?, 0 | 1) {
        return None;
    }
    Some((r.string()?, r.string()?, r.i32()?))
}

/// OffsetCommitValue versions 0-3 (v1 has an expire timestamp, v3 a leader epoch).
pub fn decode_value(buf: &[u8]) -> Option<CommittedOffset> {
    let mut r = Reader(buf);
    let version = r.i16()?;
    if !(0..=3).contains(&version) {
        return None;
    }
    let offset = r.i64()?;
    let leader_epoch = if version >= 3 { r.i32()? } else { -1 };
    let metadata = r.string()?;
    let commit_timestamp_ms = r.i64()?;
    Some(CommittedOffset {
        offset,
        leader_epoch,
        metadata: Some(metadata),
        commit_timestamp_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_storage::log::FlushPolicy;

    fn v(offset: i64, md: &str) -> CommittedOffset {
        CommittedOffset {
            offset,
            leader_epoch: 4,
            metadata: Some(md.into()),
            commit_timestamp_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn key_value_layout() {
        let k = encode_key("g", "tp", 3);
        assert_eq!(k, [0, 1, 0, 1, b'g', 0, 2, b't', b'p', 0, 0, 0, 3]);
        assert_eq!(decode_key(&k), Some(("g".into(), "tp".into(), 3)));
        // A GroupMetadataKey (version 2) is not an offset key.
        assert_eq!(decode_key(&[0, 2, 0, 1, b'g']), None);
        let val = encode_value(&v(42, "m"));
        assert_eq!(&val[..2], &[0, 3]);
        assert_eq!(decode_value(&val), Some(v(42, "m")));
        assert_eq!(decode_value(&val[..val.len() - 1]), None);
    }

    #[test]
    fn append_and_replay_across_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            flush: FlushPolicy::Always,
            ..LogConfig::default()
        };
        let (mut log, records) = OffsetsLog::open(dir.path(), config.clone()).expect("open");
        assert!(records.is_empty());
        log.append("g", &[("t", 0, &v(5, "")), ("t", 1, &v(6, ""))], 1)
            .expect("append");
        log.append("g", &[("t", 0, &v(9, "x"))], 2).expect("append");
        drop(log); // as after kill -9: no clean close
        let (_log, records) = OffsetsLog::open(dir.path(), config).expect("reopen");
        let mut store = super::super::group::OffsetStore::default();
        store.load(records);
        assert_eq!(store.fetch("g", "t", 0), Some(&v(9, "x")));
        assert_eq!(store.fetch("g", "t", 1).map(|c| c.offset), Some(6));
        assert!(dir.path().join("__consumer_offsets-0").is_dir());
    }

    #[test]
    fn topic_offsets_aux_round_trip() {
        let mut o = TopicOffsets::new();
        o.insert(("g".into(), "t".into(), 0), (5, 1_700_000_000_000));
        o.insert(("g 2".into(), "t".into(), 3), (0, 1));
        let enc = encode_topic_offsets(&o);
        assert_eq!(decode_topic_offsets(&enc), Some(o));
        assert_eq!(decode_topic_offsets(&enc[..enc.len() - 1]), None);
        assert_eq!(decode_topic_offsets(&[]), Some(TopicOffsets::new()));
    }

    #[test]
    fn compaction_keeps_the_latest_offset_of_every_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Compaction syncs its rewrite whatever the policy.
        let config = LogConfig {
            flush: FlushPolicy::Os,
            ..LogConfig::default()
        };
        let (mut log, _) = OffsetsLog::open(dir.path(), config.clone()).expect("open");
        log.compact_bytes = 4096;
        let mut peak = 0;
        for i in 0..2000 {
            log.append("g", &[("t", i % 3, &v(i64::from(i), ""))], 1)
                .expect("append");
            log.append("h", &[("u", 0, &v(7, "keep"))], 1)
                .expect("append");
            peak = peak.max(log.size_bytes());
        }
        // Without compaction 4000 records of ~90 bytes would be ~360 KB.
        assert!(peak < 3 * 4096, "log grew to {peak} bytes");
        assert!(log.records < 100, "{} records", log.records);
        drop(log); // no clean close
        let (log, records) = OffsetsLog::open(dir.path(), config).expect("reopen");
        assert!(log.partition.log_start_offset() > 0);
        let mut store = super::super::group::OffsetStore::default();
        store.load(records);
        assert_eq!(store.fetch("g", "t", 0).map(|c| c.offset), Some(1998));
        assert_eq!(store.fetch("g", "t", 1).map(|c| c.offset), Some(1999));
        assert_eq!(store.fetch("g", "t", 2).map(|c| c.offset), Some(1997));
        assert_eq!(store.fetch("h", "u", 0), Some(&v(7, "keep")));
        assert_eq!(log.latest.len(), 4);
    }
}
