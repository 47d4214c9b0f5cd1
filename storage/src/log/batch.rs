//! Zero-copy view over Kafka RecordBatch v2 bytes (KAFKA.md 1.4).
//!
//! ```text
//! 0  baseOffset i64            (broker-assigned, not CRC-covered)
//! 8  batchLength i32           (bytes after this field)
//! 12 partitionLeaderEpoch i32  (broker-assigned, not CRC-covered)
//! 16 magic i8 = 2
//! 17 crc u32                   CRC-32C of bytes [21..end]
//! 21 attributes i16, 23 lastOffsetDelta i32, 27 baseTimestamp i64, 35 maxTimestamp i64,
//! 43 producerId i64, 51 producerEpoch i16, 53 baseSequence i32, 57 recordsCount i32
//! 61 records
//! ```

use thiserror::Error;

/// Bytes before `batchLength` counts: baseOffset + batchLength.
pub const LOG_OVERHEAD: usize = 12;
/// Fixed header of a v2 batch, up to and including recordsCount.
pub const HEADER_LEN: usize = 61;
/// Attribute bit 3: the broker's append time is the timestamp of every record.
const TIMESTAMP_TYPE_LOG_APPEND: i16 = 1 << 3;
const CODEC_MASK: i16 = 0x07;

/// Why a batch failed validation. `Truncated` means the bytes end early (a torn write or a
/// short buffer); every other variant means the bytes that are there are wrong.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum BatchError {
    #[error("batch truncated: need {needed} bytes, have {available}")]
    Truncated { needed: usize, available: usize },
    #[error("bad batch length {0}")]
    BadLength(i64),
    #[error("unsupported magic {0}")]
    BadMagic(i8),
    #[error("CRC-32C mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    BadCrc { stored: u32, computed: u32 },
    #[error("invalid record: {0}")]
    InvalidRecord(&'static str),
}

impl BatchError {
    /// True for damaged bytes (length, magic, CRC), false for truncation and bad counts.
    pub fn is_corrupt(&self) -> bool {
        matches!(
            self,
            BatchError::BadLength(_) | BatchError::BadMagic(_) | BatchError::BadCrc { .. }
        )
    }
}

/// A read-only view over one batch. The view holds at least the 61-byte header; the body
/// may be short until `validate` has passed.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    buf: &'a [u8],
}

fn be<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&buf[at..at + N]);
    out
}

impl<'a> Batch<'a> {
    /// Wraps `buf`, which must start with a whole header; fields are not checked here.
    pub fn new(buf: &'a [u8]) -> Result<Batch<'a>, BatchError> {
        if buf.len() < HEADER_LEN {
            return Err(BatchError::Truncated {
                needed: HEADER_LEN,
                available: buf.len(),
            });
        }
        Ok(Batch { buf })
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
    pub fn base_offset(&self) -> i64 {
        i64::from_be_bytes(be(self.buf, 0))
    }
    pub fn batch_length(&self) -> i32 {
        i32::from_be_bytes(be(self.buf, 8))
    }
    pub fn partition_leader_epoch(&self) -> i32 {
        i32::from_be_bytes(be(self.buf, 12))
    }
    pub fn magic(&self) -> i8 {
        self.buf[16] as i8
    }
    pub fn crc(&self) -> u32 {
        u32::from_be_bytes(be(self.buf, 17))
    }
    pub fn attributes(&self) -> i16 {
        i16::from_be_bytes(be(self.buf, 21))
    }
    pub fn last_offset_delta(&self) -> i32 {
        i32::from_be_bytes(be(self.buf, 23))
    }
    pub fn base_timestamp(&self) -> i64 {
        i64::from_be_bytes(be(self.buf, 27))
    }
    pub fn max_timestamp(&self) -> i64 {
        i64::from_be_bytes(be(self.buf, 35))
    }
    pub fn producer_id(&self) -> i64 {
        i64::from_be_bytes(be(self.buf, 43))
    }
    pub fn producer_epoch(&self) -> i16 {
        i16::from_be_bytes(be(self.buf, 51))
    }
    pub fn base_sequence(&self) -> i32 {
        i32::from_be_bytes(be(self.buf, 53))
    }
    pub fn records_count(&self) -> i32 {
        i32::from_be_bytes(be(self.buf, 57))
    }
    /// `base_offset + last_offset_delta`.
    pub fn last_offset(&self) -> i64 {
        self.base_offset() + i64::from(self.last_offset_delta())
    }
    /// Compression codec, attribute bits 0-2 (0 = none).
    pub fn compression(&self) -> i16 {
        self.attributes() & CODEC_MASK
    }
    /// Declared total size, `batchLength + 12`, or `BadLength` when it cannot hold a header.
    pub fn size(&self) -> Result<usize, BatchError> {
        declared_size(self.buf)
    }

    /// Kafka's `ensureValid` plus the producer-batch checks of KAFKA.md 1.4 step 1.
    pub fn validate(&self) -> Result<(), BatchError> {
        let size = self.size()?;
        if self.buf.len() < size {
            return Err(BatchError::Truncated {
                needed: size,
                available: self.buf.len(),
            });
        }
        if self.buf.len() > size {
            return Err(BatchError::BadLength(i64::from(self.batch_length())));
        }
        if self.magic() != 2 {
            return Err(BatchError::BadMagic(self.magic()));
        }
        let computed = crc32c::crc32c(&self.buf[21..]);
        if computed != self.crc() {
            return Err(BatchError::BadCrc {
                stored: self.crc(),
                computed,
            });
        }
        if self.records_count() < 1 {
            return Err(BatchError::InvalidRecord("records_count < 1"));
        }
        if self.last_offset_delta() != self.records_count() - 1 {
            return Err(BatchError::InvalidRecord(
                "last_offset_delta != records_count - 1",
            ));
        }
        Ok(())
    }

    /// `(offset_delta, timestamp)` of each record of an uncompressed batch; `None` when the
    /// batch is compressed (its records are one opaque blob). Stops at the first malformed
    /// record.
    pub fn record_timestamps(&self) -> Option<RecordTimestamps<'a>> {
        if self.compression() != 0 {
            return None;
        }
        Some(RecordTimestamps {
            buf: self.buf.get(HEADER_LEN..).unwrap_or(&[]),
            base_timestamp: self.base_timestamp(),
            log_append_time: (self.attributes() & TIMESTAMP_TYPE_LOG_APPEND != 0)
                .then(|| self.max_timestamp()),
        })
    }
}

/// `batchLength + 12` from the first 12 bytes of `buf`, which must be there.
fn declared_size(buf: &[u8]) -> Result<usize, BatchError> {
    let len = i64::from(i32::from_be_bytes(be(buf, 8)));
    if len < (HEADER_LEN - LOG_OVERHEAD) as i64 {
        return Err(BatchError::BadLength(len));
    }
    Ok(len as usize + LOG_OVERHEAD)
}

/// Overwrites baseOffset (bytes 0..8); the CRC does not cover it.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) {
    batch[0..8].copy_from_slice(&base_offset.to_be_bytes());
}

/// Overwrites partitionLeaderEpoch (bytes 12..16); the CRC does not cover it.
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) {
    batch[12..16].copy_from_slice(&epoch.to_be_bytes());
}

/// Recomputes the CRC-32C (bytes 17..21) over attributes..end, after a broker rewrite of
/// CRC-covered fields (LogAppendTime) or a test's deliberate edit. `batch` must be one
/// whole batch of at least [`HEADER_LEN`] bytes.
pub fn update_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

/// Kafka's LogAppendTime: sets attribute bit 3 and maxTimestamp to the broker's `now_ms`
/// (the timestamp of every record in the batch from then on) and recomputes the CRC,
/// which covers both. `batch` must be one whole, validated batch.
pub fn set_log_append_time(batch: &mut [u8], now_ms: i64) {
    let attributes = i16::from_be_bytes([batch[21], batch[22]]) | TIMESTAMP_TYPE_LOG_APPEND;
    batch[21..23].copy_from_slice(&attributes.to_be_bytes());
    batch[35..43].copy_from_slice(&now_ms.to_be_bytes());
    update_crc(batch);
}

/// Splits concatenated batches by their declared lengths. Yields `(position, batch)`; a
/// tail shorter than its declared size, or with an impossible length, is yielded once as an
/// error and ends the iteration. Batches are not validated.
pub struct Batches<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Batches<'a> {
    pub fn new(buf: &'a [u8]) -> Batches<'a> {
        Batches { buf, pos: 0 }
    }
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<(usize, Batch<'a>), (usize, BatchError)>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.pos..).filter(|r| !r.is_empty())?;
        let at = self.pos;
        let split = Batch::new(rest).and_then(|b| {
            let size = b.size()?;
            match rest.get(..size) {
                Some(exact) => Ok(Batch { buf: exact }),
                None => Err(BatchError::Truncated {
                    needed: size,
                    available: rest.len(),
                }),
            }
        });
        match split {
            Ok(b) => {
                self.pos += b.buf.len();
                Some(Ok((at, b)))
            }
            Err(e) => {
                self.pos = self.buf.len();
                Some(Err((at, e)))
            }
        }
    }
}

/// See [`Batch::record_timestamps`].
pub struct RecordTimestamps<'a> {
    buf: &'a [u8],
    base_timestamp: i64,
    log_append_time: Option<i64>,
}

impl Iterator for RecordTimestamps<'_> {
    type Item = (i32, i64);

    fn next(&mut self) -> Option<(i32, i64)> {
        let mut pos = 0;
        let len = usize::try_from(read_varlong(self.buf, &mut pos)?).ok()?;
        let body = self.buf.get(pos..pos + len)?;
        let mut p = 1; // attributes i8, unused
        let ts_delta = read_varlong(body, &mut p)?;
        let offset_delta = i32::try_from(read_varlong(body, &mut p)?).ok()?;
        self.buf = &self.buf[pos + len..];
        let ts = self
            .log_append_time
            .unwrap_or(self.base_timestamp.wrapping_add(ts_delta));
        Some((offset_delta, ts))
    }
}

/// Reads a zigzag varlong (also right for zigzag varints); `None` past the end or past 10 bytes.
pub fn read_varlong(buf: &[u8], pos: &mut usize) -> Option<i64> {
    let mut raw: u64 = 0;
    for shift in (0..70).step_by(7) {
        let byte = *buf.get(*pos)?;
        *pos += 1;
        raw |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((raw >> 1) as i64 ^ -((raw & 1) as i64));
        }
    }
    None
}

/// Appends a zigzag varlong.
pub fn write_varlong(out: &mut Vec<u8>, v: i64) {
    let mut raw = ((v << 1) ^ (v >> 63)) as u64;
    while raw >= 0x80 {
        out.push((raw as u8) | 0x80);
        raw >>= 7;
    }
    out.push(raw as u8);
}

/// One record for [`encode_batch`].
#[derive(Clone, Copy, Debug)]
pub struct NewRecord<'a> {
    pub timestamp: i64,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
}

/// Encodes an uncompressed, non-transactional v2 batch at base offset 0 with a valid
/// CRC-32C, as a producer without idempotence would (producer id/epoch/sequence = -1).
/// Used by tests and by writers that append from the Redis side.
pub fn encode_batch(records: &[NewRecord<'_>]) -> Vec<u8> {
    let base_ts = records.first().map_or(-1, |r| r.timestamp);
    let max_ts = records.iter().map(|r| r.timestamp).max().unwrap_or(-1);
    let count = records.len() as i32;
    let mut out = Vec::with_capacity(HEADER_LEN + 16 * records.len());
    out.extend_from_slice(&0i64.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes()); // batchLength, patched below
    out.extend_from_slice(&(-1i32).to_be_bytes());
    out.push(2);
    out.extend_from_slice(&0u32.to_be_bytes()); // crc, patched below
    out.extend_from_slice(&0i16.to_be_bytes());
    out.extend_from_slice(&(count - 1).to_be_bytes());
    out.extend_from_slice(&base_ts.to_be_bytes());
    out.extend_from_slice(&max_ts.to_be_bytes());
    out.extend_from_slice(&(-1i64).to_be_bytes());
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out.extend_from_slice(&(-1i32).to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    let mut body = Vec::new();
    for (i, r) in records.iter().enumerate() {
        body.clear();
        body.push(0);
        write_varlong(&mut body, r.timestamp - base_ts);
        write_varlong(&mut body, i as i64);
        for field in [r.key, r.value] {
            match field {
                Some(b) => {
                    write_varlong(&mut body, b.len() as i64);
                    body.extend_from_slice(b);
                }
                None => write_varlong(&mut body, -1),
            }
        }
        write_varlong(&mut body, 0); // headers
        write_varlong(&mut out, body.len() as i64);
        out.extend_from_slice(&body);
    }
    let batch_length = (out.len() - LOG_OVERHEAD) as i32;
    out[8..12].copy_from_slice(&batch_length.to_be_bytes());
    let crc = crc32c::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recs(n: usize, ts0: i64) -> Vec<u8> {
        let vals: Vec<Vec<u8>> = (0..n).map(|i| format!("v{i}").into_bytes()).collect();
        let records: Vec<NewRecord> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| NewRecord {
                timestamp: ts0 + i as i64 * 10,
                key: (i % 2 == 0).then_some(b"k".as_slice()),
                value: Some(v),
            })
            .collect();
        encode_batch(&records)
    }

    #[test]
    fn encode_then_view() {
        let buf = recs(3, 1000);
        let b = Batch::new(&buf).unwrap();
        b.validate().unwrap();
        assert_eq!(b.size().unwrap(), buf.len());
        assert_eq!(b.magic(), 2);
        assert_eq!(b.records_count(), 3);
        assert_eq!(b.last_offset_delta(), 2);
        assert_eq!(b.base_timestamp(), 1000);
        assert_eq!(b.max_timestamp(), 1020);
        assert_eq!(b.producer_id(), -1);
        assert_eq!(b.producer_epoch(), -1);
        assert_eq!(b.base_sequence(), -1);
        assert_eq!(b.attributes(), 0);
        let ts: Vec<_> = b.record_timestamps().unwrap().collect();
        assert_eq!(ts, vec![(0, 1000), (1, 1010), (2, 1020)]);
    }

    #[test]
    fn patching_keeps_crc_valid() {
        let mut buf = recs(2, 5);
        set_base_offset(&mut buf, 1234);
        set_partition_leader_epoch(&mut buf, 7);
        let b = Batch::new(&buf).unwrap();
        b.validate().unwrap();
        assert_eq!(b.base_offset(), 1234);
        assert_eq!(b.last_offset(), 1235);
        assert_eq!(b.partition_leader_epoch(), 7);
    }

    #[test]
    fn every_flipped_covered_byte_is_caught() {
        let buf = recs(2, 5);
        for i in 16..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x01;
            let err = Batch::new(&bad).unwrap().validate().unwrap_err();
            assert!(err.is_corrupt(), "byte {i}: {err:?}");
        }
    }

    #[test]
    fn truncated_and_length_errors() {
        let buf = recs(2, 5);
        let short = &buf[..buf.len() - 1];
        assert!(matches!(
            Batch::new(short).unwrap().validate(),
            Err(BatchError::Truncated { .. })
        ));
        assert!(matches!(
            Batch::new(&buf[..20]),
            Err(BatchError::Truncated { .. })
        ));
        let mut long = buf.clone();
        long.push(0);
        assert!(matches!(
            Batch::new(&long).unwrap().validate(),
            Err(BatchError::BadLength(_))
        ));
        let mut tiny = buf.clone();
        tiny[8..12].copy_from_slice(&3i32.to_be_bytes());
        assert_eq!(
            Batch::new(&tiny).unwrap().validate(),
            Err(BatchError::BadLength(3))
        );
    }

    #[test]
    fn bad_counts_are_invalid_record() {
        let mut buf = recs(2, 5);
        buf[23..27].copy_from_slice(&5i32.to_be_bytes());
        let crc = crc32c::crc32c(&buf[21..]);
        buf[17..21].copy_from_slice(&crc.to_be_bytes());
        let err = Batch::new(&buf).unwrap().validate().unwrap_err();
        assert!(matches!(err, BatchError::InvalidRecord(_)));
        assert!(!err.is_corrupt());
        let empty = encode_batch(&[]);
        assert!(matches!(
            Batch::new(&empty).unwrap().validate(),
            Err(BatchError::InvalidRecord(_))
        ));
    }

    #[test]
    fn iterator_splits_and_reports_torn_tail() {
        let mut buf = recs(1, 1);
        let first = buf.len();
        buf.extend_from_slice(&recs(3, 2));
        let whole = buf.len();
        buf.extend_from_slice(&recs(2, 3)[..30]);
        let items: Vec<_> = Batches::new(&buf).collect();
        assert_eq!(items.len(), 3);
        let (p0, b0) = items[0].as_ref().unwrap();
        let (p1, b1) = items[1].as_ref().unwrap();
        assert_eq!((*p0, b0.records_count()), (0, 1));
        assert_eq!((*p1, b1.records_count()), (first, 3));
        assert!(matches!(items[2], Err((p, BatchError::Truncated { .. })) if p == whole));
        assert_eq!(Batches::new(&[]).count(), 0);
    }

    #[test]
    fn varlong_round_trip() {
        for v in [0i64, 1, -1, 63, -64, 64, 300, -300, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            write_varlong(&mut out, v);
            let mut pos = 0;
            assert_eq!(read_varlong(&out, &mut pos), Some(v));
            assert_eq!(pos, out.len());
        }
        assert_eq!(read_varlong(&[0x80], &mut 0), None);
    }
}
