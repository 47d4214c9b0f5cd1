//! Partition integration tests on temporary directories.

use rill_storage::log::batch::{encode_batch, NewRecord};
use rill_storage::log::{
    AppendError, Batches, FlushPolicy, LogConfig, Partition, ReadError, RecoveryReport,
};
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

/// A producer batch of `n` records stamped `ts`, `ts+1`, ..., values `value_len` bytes.
fn batch(n: usize, ts: i64, value_len: usize) -> Vec<u8> {
    let value = vec![b'v'; value_len];
    let recs: Vec<NewRecord> = (0..n)
        .map(|i| NewRecord {
            timestamp: ts + i as i64,
            key: Some(b"key"),
            value: Some(&value),
        })
        .collect();
    encode_batch(&recs)
}

fn small() -> LogConfig {
    LogConfig {
        segment_bytes: 2048,
        index_interval_bytes: 256,
        flush: FlushPolicy::Os,
        ..LogConfig::default()
    }
}

fn open(dir: &Path, config: LogConfig) -> (Partition, RecoveryReport) {
    Partition::open(dir, config).unwrap()
}

/// Appends 40 batches of 3 records (offsets 0..120, timestamps 1000 + 10*i + j).
fn fill(p: &mut Partition) -> Vec<Vec<u8>> {
    let mut stored = Vec::new();
    for i in 0..40 {
        let mut b = batch(3, 1000 + 10 * i, 100);
        let info = p.append(&mut b, 5, 0).unwrap();
        assert_eq!(info.base_offset, i * 3);
        assert_eq!(info.last_offset, i * 3 + 2);
        assert_eq!(info.max_timestamp, 1000 + 10 * i + 2);
        let hw = p.leo();
        p.set_hw(hw);
        stored.push(b);
    }
    stored
}

/// Every batch from `from` to the hw, fetching in `max_bytes` chunks.
fn read_all(p: &Partition, from: i64, max_bytes: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offset = from;
    while offset < p.hw() {
        let r = p.read(offset, max_bytes, p.hw()).unwrap();
        assert!(!r.records.is_empty(), "stuck at {offset}");
        let last = Batches::new(&r.records)
            .map(|b| b.unwrap().1)
            .inspect(|b| b.validate().unwrap())
            .last()
            .unwrap();
        offset = last.last_offset() + 1;
        out.extend_from_slice(&r.records);
    }
    out
}

fn segment_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn round_trip_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (mut p, report) = open(dir.path(), small());
    assert_eq!((report.leo, report.log_start_offset), (0, 0));
    let stored = fill(&mut p);
    assert_eq!(p.leo(), 120);
    assert!(p.segment_count() > 5, "{} segments", p.segment_count());
    assert_eq!(segment_files(dir.path(), "log").len(), p.segment_count());
    let all = stored.concat();
    assert_eq!(p.size_bytes(), all.len() as u64);
    for max in [1, 500, 100_000] {
        assert_eq!(read_all(&p, 0, max), all);
    }
    // Offsets were stamped in the caller's buffers, which are what was stored.
    let first = Batches::new(&stored[7]).next().unwrap().unwrap().1;
    assert_eq!(
        (first.base_offset(), first.partition_leader_epoch()),
        (21, 5)
    );
    assert_eq!(p.leader_epochs(), &[(5, 0)]);
}

#[test]
fn read_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let (mut p, _) = open(dir.path(), small());
    let stored = fill(&mut p);
    // An offset in the middle of a batch returns that batch.
    let r = p.read(31, 1, p.hw()).unwrap();
    assert_eq!(r.records, stored[10]);
    assert_eq!((r.leo, r.hw, r.log_start_offset), (120, 120, 0));
    // up_to is exclusive; at up_to the read is empty.
    assert!(p.read(30, 100_000, 30).unwrap().records.is_empty());
    // Batches 10..15 share a segment (5 batches of 385 bytes per 2048-byte segment).
    let r = p.read(30, 100_000, 36).unwrap();
    assert_eq!(r.records, [stored[10].clone(), stored[11].clone()].concat());
    // One read stays within one segment, as Kafka's.
    assert_eq!(p.read(27, 100_000, 120).unwrap().records, stored[9]);
    assert!(p.read(120, 100, 120).unwrap().records.is_empty());
    assert!(matches!(
        p.read(121, 100, 200),
        Err(ReadError::OffsetOutOfRange { offset: 121, .. })
    ));
    assert!(matches!(
        p.read(-1, 100, 200),
        Err(ReadError::OffsetOutOfRange { .. })
    ));
}

#[test]
fn offset_for_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let (mut p, _) = open(dir.path(), small());
    fill(&mut p);
    assert_eq!(p.offset_for_timestamp(0), Some((0, 1000)));
    assert_eq!(p.offset_for_timestamp(1001), Some((1, 1001)));
    assert_eq!(p.offset_for_timestamp(1003), Some((3, 1010)));
    assert_eq!(p.offset_for_timestamp(1251), Some((76, 1251)));
    assert_eq!(p.offset_for_timestamp(1392), Some((119, 1392)));
    assert_eq!(p.offset_for_timestamp(1393), None);
}

#[test]
fn reopen_after_clean_close() {
    let dir = tempfile::tempdir().unwrap();
    let (mut p, _) = open(dir.path(), small());
    let stored = fill(&mut p);
    let segments = p.segment_count();
    p.close().unwrap();
    assert!(dir.path().join("clean-shutdown").exists());
    let (mut p, report) = open(dir.path(), small());
    assert!(!dir.path().join("clean-shutdown").exists());
    assert!(report.clean_shutdown);
    assert_eq!(report.recovered_segments, 0);
    assert_eq!(
        (report.leo, report.hw, report.truncated_bytes),
        (120, 120, 0)
    );
    assert_eq!(p.segment_count(), segments);
    assert_eq!(read_all(&p, 0, 700), stored.concat());
    assert_eq!(p.offset_for_timestamp(1251), Some((76, 1251)));
    let info = p.append(&mut batch(2, 5000, 10), 6, 0).unwrap();
    assert_eq!((info.base_offset, info.last_offset), (120, 121));
    assert_eq!(p.leader_epochs(), &[(5, 0), (6, 120)]);
}

#[test]
fn reopen_after_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (mut p, _) = open(dir.path(), small());
    let stored = fill(&mut p);
    let segments = p.segment_count();
    p.flush().unwrap();
    drop(p); // a crash: no clean-shutdown marker
    let last = segment_files(dir.path(), "log").pop().unwrap();
    let len = fs::metadata(&last).unwrap().len();
    let last_batch = stored.last().unwrap().len() as u64;
    OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(len - 20)
        .unwrap();
    let index = last.with_extension("index");
    fs::write(&index, [0xff; 16]).unwrap(); // garbage index, rebuilt by recovery

    let (mut p, report) = open(dir.path(), small());
    assert!(!report.clean_shutdown);
    assert_eq!(report.recovered_segments, segments);
    assert_eq!(report.truncated_bytes, last_batch - 20);
    assert_eq!(report.deleted_segments, 0);
    assert_eq!((p.leo(), report.leo), (117, 117));
    assert_eq!(p.hw(), 117);
    assert_eq!(fs::metadata(&last).unwrap().len(), len - last_batch);
    assert_eq!(fs::metadata(&index).unwrap().len() % 8, 0);
    assert_eq!(read_all(&p, 0, 300), stored[..39].concat());
    assert_eq!(p.read(116, 1, 117).unwrap().records, stored[38]);
    let info = p.append(&mut batch(1, 9000, 10), 5, 0).unwrap();
    assert_eq!(info.base_offset, 117);
}

#[test]
fn corrupt_byte_in_first_of_two_segments() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 8 * 1024,
        ..small()
    };
    let (mut p, _) = open(dir.path(), config.clone());
    let stored = fill(&mut p);
    assert_eq!(p.segment_count(), 2);
    p.flush().unwrap(); // checkpoints hw = 120, clamped to the new leo on open
    drop(p);
    let logs = segment_files(dir.path(), "log");
    // Flip a byte in the middle of the record data of batch 10 (offsets 30..33).
    let pos = stored[..10].iter().map(Vec::len).sum::<usize>() + 100;
    let mut bytes = fs::read(&logs[0]).unwrap();
    let first_len = bytes.len();
    bytes[pos] ^= 0x40;
    fs::write(&logs[0], bytes).unwrap();

    let (p, report) = open(dir.path(), config);
    assert_eq!(report.deleted_segments, 1);
    let kept = stored[..10].concat();
    assert_eq!(report.truncated_bytes, (first_len - kept.len()) as u64);
    assert_eq!(p.segment_count(), 1);
    assert_eq!(segment_files(dir.path(), "log"), logs[..1]);
    assert!(!logs[1].with_extension("index").exists());
    assert_eq!((p.leo(), p.hw()), (30, 30));
    assert_eq!(read_all(&p, 0, 100_000), kept);
}

#[test]
fn retention_by_bytes_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        retention_bytes: 5000,
        ..small()
    };
    let (mut p, _) = open(dir.path(), config.clone());
    let stored = fill(&mut p);
    let before = p.segment_count();
    // Nothing at or above the hw is deleted.
    p.set_hw(0);
    assert_eq!(p.apply_retention(0), 0);
    p.set_hw(120);
    let deleted = p.apply_retention(0);
    assert!(deleted > 0);
    assert_eq!(p.segment_count(), before - deleted);
    assert!(p.size_bytes() >= 5000 && p.size_bytes() < 5000 + 2048);
    let start = p.log_start_offset();
    assert!(start > 0 && start % 3 == 0);
    assert!(matches!(
        p.read(start - 1, 100, 120),
        Err(ReadError::OffsetOutOfRange { .. })
    ));
    let tail = stored[(start / 3) as usize..].concat();
    assert_eq!(read_all(&p, start, 1000), tail);
    assert_eq!(p.offset_for_timestamp(0).map(|(o, _)| o), Some(start));
    drop(p); // unclean: the checkpoint alone carries the start
    assert_eq!(
        fs::read_to_string(dir.path().join("log-start-offset"))
            .unwrap()
            .trim(),
        start.to_string()
    );
    let (p, report) = open(dir.path(), config);
    assert_eq!(
        (report.log_start_offset, p.log_start_offset()),
        (start, start)
    );
    assert_eq!(read_all(&p, start, 1000), tail);
}

#[test]
fn retention_by_time_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        retention_ms: 100,
        ..small()
    };
    let (mut p, _) = open(dir.path(), config.clone());
    fill(&mut p); // timestamps 1000..=1392
    let segments = p.segment_count();
    assert_eq!(p.apply_retention(1000), 0);
    // Segments whose newest record is older than 1350 - 100 go.
    let deleted = p.apply_retention(1350);
    assert!(deleted > 0 && deleted < segments - 1);
    let start = p.log_start_offset();
    assert!(start > 0);
    let first_ts_kept = 1000 + (start / 3) * 10;
    assert!(
        first_ts_kept > 1150 && first_ts_kept <= 1260,
        "{first_ts_kept}"
    );
    // The active segment always stays.
    p.apply_retention(i64::MAX);
    assert_eq!(p.segment_count(), 1);
    let start = p.log_start_offset();
    p.close().unwrap();
    let (p, _) = open(dir.path(), config);
    assert_eq!(p.log_start_offset(), start);
    assert_eq!(p.leo(), 120);
    assert_eq!(p.segment_count(), 1);
}

#[test]
fn rejected_appends_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        max_message_bytes: 1000,
        flush: FlushPolicy::Always,
        ..LogConfig::default()
    };
    let (mut p, _) = open(dir.path(), config);
    p.append(&mut batch(1, 1, 10), 0, 0).unwrap();
    let size = p.size_bytes();

    let mut big = batch(1, 1, 2000);
    assert!(matches!(
        p.append(&mut big, 0, 0),
        Err(AppendError::MessageTooLarge { size: s, max: 1000, .. }) if s == big.len()
    ));
    // A good batch followed by one with a bad CRC: the whole set is refused.
    let mut set = batch(2, 1, 10);
    let mut bad = batch(2, 1, 10);
    let mid = bad.len() - 5;
    bad[mid] ^= 1;
    set.extend_from_slice(&bad);
    let err = p.append(&mut set, 0, 0).unwrap_err();
    assert!(matches!(err, AppendError::Corrupt { source, .. } if source.is_corrupt()));
    let mut torn = batch(2, 1, 10);
    torn.pop();
    assert!(matches!(
        p.append(&mut torn, 0, 0),
        Err(AppendError::Corrupt { .. })
    ));
    assert!(matches!(
        p.append(&mut [], 0, 0),
        Err(AppendError::InvalidRecord(_))
    ));

    assert_eq!((p.leo(), p.size_bytes()), (1, size));
    let info = p.append(&mut batch(1, 1, 10), 0, 0).unwrap();
    assert_eq!(info.base_offset, 1);
}

#[test]
fn flush_policies_and_hw_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        flush: FlushPolicy::EveryMs(1000),
        ..small()
    };
    let (mut p, _) = open(dir.path(), config.clone());
    p.append(&mut batch(3, 1, 10), 0, 0).unwrap();
    p.set_hw(3);
    p.set_hw(99); // clamped to the leo
    assert_eq!(p.hw(), 3);
    p.flush_if_due(10_000).unwrap();
    drop(p);
    let (p, report) = open(dir.path(), config);
    assert_eq!((report.hw, p.hw(), p.leo()), (3, 3, 3));
}

/// A batch whose records carry exactly `timestamps` (any order).
fn stamped(timestamps: &[i64]) -> Vec<u8> {
    let recs: Vec<NewRecord> = timestamps
        .iter()
        .map(|&t| NewRecord {
            timestamp: t,
            key: None,
            value: Some(b"0123456789012345678901234567890123456789"),
        })
        .collect();
    encode_batch(&recs)
}

#[test]
fn max_timestamp_offset_finds_the_record_across_segments_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 700,
        index_interval_bytes: 100,
        flush: FlushPolicy::Os,
        ..LogConfig::default()
    };
    let (mut p, _) = open(dir.path(), config.clone());
    assert_eq!(p.max_timestamp_offset().unwrap(), None, "empty partition");
    // Offsets: [0..3) [3..6) [6..9) ...; the max (9000) is the middle record of batch 4,
    // offset 13, in a middle segment; 9000 again later (offset 20) loses the tie.
    let batches: [&[i64]; 8] = [
        &[100, 300, 200],
        &[400, 50, 60],
        &[500, 500, 10],
        &[700, 600, 650],
        &[800, 9000, 900],
        &[1000, 1100, 1200],
        &[1300, 1400, 9000],
        &[10, 20, 30],
    ];
    for ts in batches {
        p.append(&mut stamped(ts), 0, 0).unwrap();
    }
    assert!(p.segment_count() > 2, "{} segments", p.segment_count());
    assert_eq!(p.max_timestamp_offset().unwrap(), Some((13, 9000)));
    // A later, larger timestamp wins, whichever segment holds it.
    p.append(&mut stamped(&[5, 9001, 9001]), 0, 0).unwrap();
    assert_eq!(p.max_timestamp_offset().unwrap(), Some((25, 9001)));

    // Same answer after a clean close (indexes trusted) and after a crash (recovered).
    p.close().unwrap();
    let (p, report) = open(dir.path(), config.clone());
    assert!(report.clean_shutdown);
    assert_eq!(p.max_timestamp_offset().unwrap(), Some((25, 9001)));
    drop(p);
    let (p, report) = open(dir.path(), config);
    assert!(!report.clean_shutdown);
    assert_eq!(p.max_timestamp_offset().unwrap(), Some((25, 9001)));
}

#[test]
fn log_append_time_stamps_batches_and_keeps_the_crc_valid() {
    use rill_storage::log::Batch;
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        log_append_time: true,
        flush: FlushPolicy::Os,
        ..LogConfig::default()
    };
    let (mut p, _) = open(dir.path(), config);
    let mut b = stamped(&[100, 300, 200]);
    let info = p.append(&mut b, 0, 1_700_000_000_123).unwrap();
    assert_eq!(info.max_timestamp, 1_700_000_000_123);
    let hw = p.leo();
    p.set_hw(hw);
    let stored = p.read(0, 1 << 20, p.hw()).unwrap().records;
    let batch = Batch::new(&stored).unwrap();
    batch.validate().unwrap();
    assert_eq!(batch.attributes() & 0x08, 0x08, "timestampType bit");
    assert_eq!(batch.max_timestamp(), 1_700_000_000_123);
    // Every record now reads as the append time; lookups by time follow.
    let ts: Vec<i64> = batch.record_timestamps().unwrap().map(|(_, t)| t).collect();
    assert_eq!(ts, [1_700_000_000_123; 3]);
    assert_eq!(p.offset_for_timestamp(500), Some((0, 1_700_000_000_123)));
    assert_eq!(
        p.max_timestamp_offset().unwrap(),
        Some((0, 1_700_000_000_123))
    );
}
