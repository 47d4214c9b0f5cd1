//! One partition directory, `<dir>/topics/<topic>-<partition>/`:
//!
//! ```text
//! {base_offset:020}.log / .index / .timeindex   segments, oldest first; the last is active
//! log-start-offset          text: the log start offset (after retention)
//! high-watermark            text: the hw (Kafka's replication-offset-checkpoint)
//! leader-epoch-checkpoint   Kafka's format: "0\n<count>\n<epoch> <start offset>\n..."
//! clean-shutdown            present only between a clean close and the next open
//! ```
//!
//! Kafka keeps the first three per log dir; one file each per partition keeps a partition
//! self-contained. Checkpoints are written to `<name>.tmp`, synced and renamed.

use super::batch::{
    set_base_offset, set_log_append_time, set_partition_leader_epoch, BatchError, Batches,
};
use super::segment::Segment;
use super::{
    AppendError, AppendInfo, FlushPolicy, LogConfig, ReadError, ReadResult, RecoveryReport,
};
use crate::Error;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

const CLEAN_SHUTDOWN: &str = "clean-shutdown";
const LOG_START_OFFSET: &str = "log-start-offset";
const HIGH_WATERMARK: &str = "high-watermark";
const LEADER_EPOCH: &str = "leader-epoch-checkpoint";
/// Kafka's replica.high.watermark.checkpoint.interval.ms.
const HW_CHECKPOINT_INTERVAL_MS: i64 = 5000;

/// The segmented log of one partition. Single writer: the caller serializes access.
#[derive(Debug)]
pub struct Partition {
    dir: PathBuf,
    config: LogConfig,
    /// Oldest first, never empty; the last one is active.
    segments: Vec<Segment>,
    log_start_offset: i64,
    hw: i64,
    hw_checkpointed: i64,
    /// (epoch, start offset), both increasing (KIP-101).
    leader_epochs: Vec<(i32, i64)>,
    /// Appends not yet fdatasync'd.
    dirty: bool,
    last_flush_ms: i64,
    last_hw_checkpoint_ms: i64,
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Partition {
    /// Opens (or creates) the partition in `dir`. Without the clean-shutdown marker every
    /// segment is re-validated in order (Kafka's `LogLoader.recoverLog` with no recovery
    /// point); the first cut ends loading and the later segments are deleted. Leftover
    /// `.tmp`/`.deleted` files and indexes without a `.log` are removed.
    pub fn open(dir: &Path, config: LogConfig) -> Result<(Partition, RecoveryReport), Error> {
        fs::create_dir_all(dir)?;
        let now = wall_clock_ms();
        let clean = dir.join(CLEAN_SHUTDOWN).exists();
        let mut report = RecoveryReport {
            clean_shutdown: clean,
            ..RecoveryReport::default()
        };

        let mut bases = Vec::new();
        let mut index_files = Vec::new();
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.ends_with(".tmp") || name.ends_with(".deleted") {
                fs::remove_file(&path)?;
            } else if let Some((stem, ext)) = name.split_once('.') {
                let base = stem.parse::<i64>().ok().filter(|_| stem.len() == 20);
                match (base, ext) {
                    (Some(base), "log") => bases.push(base),
                    (Some(base), "index" | "timeindex") => index_files.push((base, path)),
                    _ => {}
                }
            }
        }
        bases.sort_unstable();
        for (base, path) in index_files {
            if bases.binary_search(&base).is_err() {
                fs::remove_file(path)?;
            }
        }

        let mut segments: Vec<Segment> = Vec::new();
        let mut cut = false;
        for base in bases {
            if cut {
                Segment::open(dir, base, config.index_interval_bytes, now)?.delete()?;
                report.deleted_segments += 1;
                continue;
            }
            let mut seg = Segment::open(dir, base, config.index_interval_bytes, now)?;
            if !(clean && seg.load_clean()?) {
                report.recovered_segments += 1;
                if let Some(c) = seg.recover()? {
                    report.truncated_bytes = c.bytes;
                    report.cut = Some(c);
                    cut = true;
                }
            }
            segments.push(seg);
        }

        let checkpointed_start = read_offset(&dir.join(LOG_START_OFFSET))?.unwrap_or(0);
        let first_base = segments.first().map(Segment::base_offset);
        let mut log_start_offset =
            first_base.map_or(checkpointed_start, |b| b.max(checkpointed_start));
        if segments.is_empty() {
            segments.push(Segment::create(
                dir,
                log_start_offset,
                config.index_interval_bytes,
                now,
            )?);
        }
        let leo = segments
            .last()
            .map_or(log_start_offset, Segment::next_offset);
        log_start_offset = log_start_offset.min(leo);
        let hw = read_offset(&dir.join(HIGH_WATERMARK))?
            .unwrap_or(0)
            .clamp(log_start_offset, leo);
        let mut leader_epochs = read_leader_epochs(&dir.join(LEADER_EPOCH))?;
        leader_epochs.retain(|&(_, start)| start < leo);

        let mut partition = Partition {
            dir: dir.to_path_buf(),
            config,
            segments,
            log_start_offset,
            hw,
            hw_checkpointed: hw,
            leader_epochs,
            dirty: false,
            // The caller's clock may differ from ours: the first periodic check is due.
            last_flush_ms: i64::MIN,
            last_hw_checkpoint_ms: i64::MIN,
        };
        partition.truncate_epochs_from_start();
        partition.write_checkpoints()?;
        match fs::remove_file(dir.join(CLEAN_SHUTDOWN)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        sync_dir(dir)?;
        report.log_start_offset = partition.log_start_offset;
        report.leo = partition.leo();
        report.hw = partition.hw;
        Ok((partition, report))
    }

    /// Validates every batch of `batches` (a Produce request's records), assigns offsets
    /// from the leo (bytes 0..8) and stamps `leader_epoch` (bytes 12..16) in place (and,
    /// with `log_append_time`, `now_ms` as each batch's timestamp), rolls the
    /// active segment if due, writes, and advances the leo. Nothing is stored on a
    /// validation error. Check order follows Kafka's `analyzeAndValidateRecords`: size, then
    /// `ensureValid`.
    pub fn append(
        &mut self,
        batches: &mut [u8],
        leader_epoch: i32,
        now_ms: i64,
    ) -> Result<AppendInfo, AppendError> {
        let mut spans = Vec::new();
        let mut max_timestamp = -1;
        for item in Batches::new(batches) {
            let (position, b) =
                item.map_err(|(position, source)| AppendError::Corrupt { position, source })?;
            let size = b.as_bytes().len();
            if size > self.config.max_message_bytes {
                return Err(AppendError::MessageTooLarge {
                    position,
                    size,
                    max: self.config.max_message_bytes,
                });
            }
            b.validate().map_err(|source| match source {
                BatchError::InvalidRecord(why) => AppendError::InvalidRecord(why.to_string()),
                source => AppendError::Corrupt { position, source },
            })?;
            max_timestamp = max_timestamp.max(b.max_timestamp());
            spans.push((position, size, i64::from(b.last_offset_delta())));
        }
        if spans.is_empty() {
            return Err(AppendError::InvalidRecord("empty record set".into()));
        }

        let base_offset = self.leo();
        let mut next = base_offset;
        for &(position, size, delta) in &spans {
            let batch = &mut batches[position..position + size];
            set_base_offset(batch, next);
            set_partition_leader_epoch(batch, leader_epoch);
            if self.config.log_append_time {
                set_log_append_time(batch, now_ms);
                max_timestamp = now_ms;
            }
            next += delta + 1;
        }
        let last_offset = next - 1;

        let active = self.active();
        if active.should_roll(
            batches.len(),
            last_offset,
            max_timestamp,
            now_ms,
            self.config.segment_bytes,
            self.config.segment_ms,
        ) {
            self.roll(now_ms)?;
        }
        if self
            .leader_epochs
            .last()
            .is_none_or(|&(e, _)| leader_epoch > e)
            && leader_epoch >= 0
        {
            self.leader_epochs.push((leader_epoch, base_offset));
            self.write_leader_epochs()?;
        }
        self.active_mut().append(batches)?;
        self.dirty = true;
        if self.config.flush == FlushPolicy::Always {
            self.active().flush()?;
            self.dirty = false;
        }
        Ok(AppendInfo {
            base_offset,
            last_offset,
            max_timestamp,
            log_start_offset: self.log_start_offset,
        })
    }

    /// Whole batches from the one containing `offset`, below `up_to` (exclusive; pass the
    /// hw for consumers), at most `max_bytes` but always one whole batch when any is there
    /// (KIP-74). As Kafka, one call reads from one segment; the caller fetches again.
    pub fn read(&self, offset: i64, max_bytes: usize, up_to: i64) -> Result<ReadResult, ReadError> {
        let leo = self.leo();
        if offset < self.log_start_offset || offset > leo {
            return Err(ReadError::OffsetOutOfRange {
                offset,
                log_start_offset: self.log_start_offset,
                leo,
            });
        }
        let mut out = ReadResult {
            records: Vec::new(),
            log_start_offset: self.log_start_offset,
            leo,
            hw: self.hw,
        };
        let first = self
            .segments
            .partition_point(|s| s.base_offset() <= offset)
            .saturating_sub(1);
        for seg in &self.segments[first..] {
            if offset >= up_to || seg.base_offset() >= up_to {
                break;
            }
            out.records = seg.read(offset, max_bytes, up_to, true)?;
            if !out.records.is_empty() {
                break;
            }
        }
        Ok(out)
    }

    /// ListOffsets by timestamp: the first record at or after the log start offset whose
    /// timestamp is >= `ts`, as (offset, timestamp); `None` when every record is older.
    /// The special timestamps -1 (latest) and -2 (earliest) are the caller's (leo and
    /// log start offset). An I/O error reads as `None`.
    pub fn offset_for_timestamp(&self, ts: i64) -> Option<(i64, i64)> {
        self.segments
            .iter()
            .filter(|s| s.max_timestamp() >= ts)
            .find_map(|s| {
                s.find_offset_by_timestamp(ts, self.log_start_offset)
                    .ok()
                    .flatten()
            })
    }

    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }
    /// Log end offset: the next offset to assign.
    pub fn leo(&self) -> i64 {
        self.active().next_offset()
    }
    pub fn hw(&self) -> i64 {
        self.hw
    }
    /// Sets the high watermark, clamped to [log_start_offset, leo] as Kafka's
    /// `updateHighWatermark`. It is checkpointed by `flush`, `flush_if_due` and `close`.
    pub fn set_hw(&mut self, hw: i64) {
        self.hw = hw.clamp(self.log_start_offset, self.leo());
    }
    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(Segment::size).sum()
    }
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
    /// Base offsets of the segments, oldest first (the broker rebuilds producer state from
    /// the last ones).
    pub fn segment_base_offsets(&self) -> Vec<i64> {
        self.segments.iter().map(Segment::base_offset).collect()
    }
    pub fn config(&self) -> &LogConfig {
        &self.config
    }
    /// (epoch, start offset) pairs, oldest first.
    pub fn leader_epochs(&self) -> &[(i32, i64)] {
        &self.leader_epochs
    }

    /// Deletes whole non-active segments, oldest first, while they are past `retention_ms`
    /// (by their largest timestamp, or creation time without one) or the partition is over
    /// `retention_bytes` without them; never a segment holding offsets at or above the hw.
    /// Advances and persists the log start offset. Returns the number deleted.
    pub fn apply_retention(&mut self, now_ms: i64) -> usize {
        let mut total = self.size_bytes();
        let mut n = 0;
        while n + 1 < self.segments.len() {
            let seg = &self.segments[n];
            if seg.next_offset() > self.hw {
                break;
            }
            let newest = if seg.max_timestamp() >= 0 {
                seg.max_timestamp()
            } else {
                seg.created_ms()
            };
            let by_time = self.config.retention_ms >= 0
                && now_ms.saturating_sub(newest) > self.config.retention_ms;
            let by_size = self.config.retention_bytes >= 0
                && total - seg.size() >= self.config.retention_bytes as u64;
            if !(by_time || by_size) {
                break;
            }
            total -= seg.size();
            n += 1;
        }
        self.delete_front(n)
    }

    /// Starts a new active segment at the leo unless the active one is empty, so what
    /// is appended next can outlive everything before it (see
    /// [`Partition::delete_segments_below`]).
    pub fn roll_now(&mut self, now_ms: i64) -> Result<(), Error> {
        if self.active().size() == 0 {
            return Ok(());
        }
        self.roll(now_ms)
    }

    /// Deletes the whole non-active segments that end at or below `offset` (and the hw),
    /// moving the log start offset up: how a log that rewrote its live records after a
    /// [`Partition::roll_now`] drops what they superseded (the offsets log's compaction).
    /// Returns the number of segments deleted.
    pub fn delete_segments_below(&mut self, offset: i64) -> usize {
        let limit = offset.min(self.hw);
        let n = self.segments[..self.segments.len() - 1]
            .iter()
            .take_while(|s| s.next_offset() <= limit)
            .count();
        self.delete_front(n)
    }

    /// Drops the `n` oldest segments: the new log start is checkpointed before any file
    /// goes, so a crash in between leaves files below the start, which the next open and
    /// retention pass skip and delete.
    fn delete_front(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let doomed: Vec<Segment> = self.segments.drain(..n).collect();
        self.log_start_offset = self.log_start_offset.max(self.segments[0].base_offset());
        self.hw = self.hw.max(self.log_start_offset);
        self.truncate_epochs_from_start();
        let _ = self.write_checkpoints();
        for seg in doomed {
            let _ = seg.delete();
        }
        n
    }

    /// fdatasync of the active segment, then the hw checkpoint.
    pub fn flush(&mut self) -> Result<(), Error> {
        if self.dirty {
            self.active().flush()?;
            self.dirty = false;
        }
        if self.hw != self.hw_checkpointed {
            self.write_hw()?;
        }
        Ok(())
    }

    /// The periodic half of the flush policy: flushes under `EveryMs` when due, and
    /// checkpoints a changed hw every 5 s under any policy.
    pub fn flush_if_due(&mut self, now_ms: i64) -> Result<(), Error> {
        if let FlushPolicy::EveryMs(every) = self.config.flush {
            if self.dirty && now_ms.saturating_sub(self.last_flush_ms) >= every as i64 {
                self.active().flush()?;
                self.dirty = false;
                self.last_flush_ms = now_ms;
            }
        }
        if self.hw != self.hw_checkpointed
            && now_ms.saturating_sub(self.last_hw_checkpoint_ms) >= HW_CHECKPOINT_INTERVAL_MS
        {
            self.write_hw()?;
            self.last_hw_checkpoint_ms = now_ms;
        }
        Ok(())
    }

    /// Seals and syncs the active segment, writes every checkpoint, then the clean-shutdown
    /// marker, so the next open trusts the indexes instead of re-reading every batch.
    pub fn close(mut self) -> Result<(), Error> {
        self.active_mut().seal()?;
        self.write_checkpoints()?;
        File::create(self.dir.join(CLEAN_SHUTDOWN))?.sync_all()?;
        sync_dir(&self.dir)
    }

    fn active(&self) -> &Segment {
        self.segments
            .last()
            .expect("invariant: a partition has a segment")
    }

    fn active_mut(&mut self) -> &mut Segment {
        self.segments
            .last_mut()
            .expect("invariant: a partition has a segment")
    }

    fn roll(&mut self, now_ms: i64) -> Result<(), Error> {
        let leo = self.leo();
        self.active_mut().seal()?;
        let seg = Segment::create(&self.dir, leo, self.config.index_interval_bytes, now_ms)?;
        self.segments.push(seg);
        self.dirty = false;
        sync_dir(&self.dir)
    }

    /// Kafka's `truncateFromStart`: drops epochs wholly below the log start offset, keeping
    /// the latest of them, moved up to start there.
    fn truncate_epochs_from_start(&mut self) {
        let start = self.log_start_offset;
        let below = self.leader_epochs.partition_point(|&(_, s)| s <= start);
        if below > 0 {
            self.leader_epochs.drain(..below - 1);
            self.leader_epochs[0].1 = start;
        }
    }

    fn write_checkpoints(&mut self) -> Result<(), Error> {
        write_checkpoint(
            &self.dir.join(LOG_START_OFFSET),
            &format!("{}\n", self.log_start_offset),
        )?;
        self.write_hw()?;
        self.write_leader_epochs()
    }

    fn write_hw(&mut self) -> Result<(), Error> {
        write_checkpoint(&self.dir.join(HIGH_WATERMARK), &format!("{}\n", self.hw))?;
        self.hw_checkpointed = self.hw;
        Ok(())
    }

    fn write_leader_epochs(&self) -> Result<(), Error> {
        let mut text = format!("0\n{}\n", self.leader_epochs.len());
        for (epoch, start) in &self.leader_epochs {
            text.push_str(&format!("{epoch} {start}\n"));
        }
        write_checkpoint(&self.dir.join(LEADER_EPOCH), &text)
    }

    /// ListOffsets MAX_TIMESTAMP (-3): the record with the largest timestamp in the
    /// partition, as (offset, timestamp); the earliest such record on ties, as Kafka's
    /// `maxBy` over segments picks the first. `None` when the log holds no timestamp
    /// (Kafka then answers offset -1, timestamp -1).
    pub fn max_timestamp_offset(&self) -> Result<Option<(i64, i64)>, Error> {
        let mut best: Option<&Segment> = None;
        for seg in &self.segments {
            if seg.max_timestamp() >= 0
                && best.is_none_or(|b| seg.max_timestamp() > b.max_timestamp())
            {
                best = Some(seg);
            }
        }
        match best {
            Some(seg) => seg.max_timestamp_record(),
            None => Ok(None),
        }
    }
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Writes `<path>.tmp`, syncs it and renames it over `path`.
fn write_checkpoint(path: &Path, text: &str) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_data()?;
    fs::rename(&tmp, path)?;
    Ok(())
}

fn read_text(path: &Path) -> Result<Option<String>, Error> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn corrupt(path: &Path, reason: &str) -> Error {
    Error::Corrupt {
        path: path.display().to_string(),
        offset: 0,
        reason: reason.to_string(),
    }
}

/// A one-number checkpoint; `None` when the file does not exist.
fn read_offset(path: &Path) -> Result<Option<i64>, Error> {
    let Some(text) = read_text(path)? else {
        return Ok(None);
    };
    match text.trim().parse::<i64>() {
        Ok(v) if v >= 0 => Ok(Some(v)),
        _ => Err(corrupt(path, "expected a non-negative offset")),
    }
}

fn read_leader_epochs(path: &Path) -> Result<Vec<(i32, i64)>, Error> {
    let Some(text) = read_text(path)? else {
        return Ok(Vec::new());
    };
    let bad = || corrupt(path, "expected \"0\\n<count>\\n<epoch> <offset>\\n...\"");
    let mut lines = text.lines();
    if lines.next() != Some("0") {
        return Err(bad());
    }
    let count: usize = lines.next().and_then(|l| l.parse().ok()).ok_or_else(bad)?;
    let entries = lines
        .map(|l| {
            let (e, o) = l.split_once(' ').ok_or_else(bad)?;
            Ok((e.parse().map_err(|_| bad())?, o.parse().map_err(|_| bad())?))
        })
        .collect::<Result<Vec<(i32, i64)>, Error>>()?;
    if entries.len() != count {
        return Err(bad());
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::super::segment::segment_path;
    use super::*;

    #[test]
    fn leader_epoch_checkpoint_round_trip_and_truncate_from_start() {
        let dir = tempfile::tempdir().unwrap();
        let (mut p, _) = Partition::open(dir.path(), LogConfig::default()).unwrap();
        p.leader_epochs = vec![(1, 0), (3, 10), (4, 20)];
        p.write_leader_epochs().unwrap();
        assert_eq!(
            read_leader_epochs(&dir.path().join(LEADER_EPOCH)).unwrap(),
            p.leader_epochs
        );
        p.log_start_offset = 15;
        p.truncate_epochs_from_start();
        assert_eq!(p.leader_epochs, vec![(3, 15), (4, 20)]);
        fs::write(dir.path().join(LEADER_EPOCH), "0\n2\n1 0\n").unwrap();
        assert!(read_leader_epochs(&dir.path().join(LEADER_EPOCH)).is_err());
        fs::write(dir.path().join(HIGH_WATERMARK), "x\n").unwrap();
        assert!(read_offset(&dir.path().join(HIGH_WATERMARK)).is_err());
        assert_eq!(read_offset(&dir.path().join("nope")).unwrap(), None);
    }

    #[test]
    fn files_are_named_as_kafka() {
        let p = segment_path(Path::new("/d"), 12345, "log");
        assert_eq!(p, Path::new("/d/00000000000000012345.log"));
    }
}
