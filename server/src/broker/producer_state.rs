//! Idempotent-producer state of one partition (KAFKA.md 1.3 "Idempotent producer"): per
//! producer_id the epoch and the last 5 batches (Kafka's
//! `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`, which is why clients keep at most 5 requests
//! in flight). Rebuilt on open from the batch headers of the last segments, so it survives
//! restarts without snapshot files.

use kafka_protocol::ResponseError;
use rill_storage::log::{Batches, Partition};
use std::collections::{HashMap, VecDeque};

/// Kafka's NUM_BATCHES_TO_RETAIN.
const RETAINED: usize = 5;

/// Segments scanned on open. Older producers lose their state, which is safe: a producer
/// without state is accepted at any sequence, as Kafka does.
const SCANNED_SEGMENTS: usize = 2;

/// One appended batch of a producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchMeta {
    pub first_seq: i32,
    pub last_seq: i32,
    pub base_offset: i64,
}

#[derive(Debug, Default)]
struct Entry {
    epoch: i16,
    batches: VecDeque<BatchMeta>,
}

/// What to do with an incoming batch.
#[derive(Debug, PartialEq, Eq)]
pub enum SeqCheck {
    Append,
    /// A retransmission: answer with the original base offset, append nothing.
    Duplicate(i64),
    Reject(ResponseError),
}

/// producer_id -> state, for one partition.
#[derive(Debug, Default)]
pub struct ProducerStates {
    producers: HashMap<i64, Entry>,
}

/// The sequence after `seq`, wrapping Int.MAX -> 0 as Kafka does.
fn next_seq(seq: i32) -> i32 {
    if seq == i32::MAX {
        0
    } else {
        seq + 1
    }
}

/// The last sequence of a batch of `count` records starting at `first_seq` (wrapping).
pub fn last_seq(first_seq: i32, last_offset_delta: i32) -> i32 {
    ((i64::from(first_seq) + i64::from(last_offset_delta)) % (i64::from(i32::MAX) + 1)) as i32
}

impl ProducerStates {
    /// Scans the batch headers of the last segments of `log`.
    pub fn rebuild(log: &Partition) -> ProducerStates {
        let mut states = ProducerStates::default();
        let bases = log.segment_base_offsets();
        let from = bases
            .len()
            .checked_sub(SCANNED_SEGMENTS)
            .map_or(log.log_start_offset(), |i| bases[i])
            .max(log.log_start_offset());
        let leo = log.leo();
        let mut offset = from;
        while offset < leo {
            let Ok(read) = log.read(offset, 1 << 20, leo) else {
                break;
            };
            if read.records.is_empty() {
                break;
            }
            let mut next = offset;
            for (_, b) in Batches::new(&read.records).map_while(Result::ok) {
                if b.producer_id() >= 0 && b.last_offset() >= offset {
                    states.record(
                        b.producer_id(),
                        b.producer_epoch(),
                        b.base_sequence(),
                        last_seq(b.base_sequence(), b.last_offset_delta()),
                        b.base_offset(),
                    );
                }
                next = next.max(b.last_offset() + 1);
            }
            if next <= offset {
                break;
            }
            offset = next;
        }
        states
    }

    /// Kafka's `ProducerAppendInfo.checkProducerEpoch` and `checkSequence`.
    pub fn check(&self, producer_id: i64, epoch: i16, first_seq: i32, last_seq: i32) -> SeqCheck {
        let Some(e) = self.producers.get(&producer_id) else {
            return SeqCheck::Append;
        };
        if epoch < e.epoch {
            return SeqCheck::Reject(ResponseError::InvalidProducerEpoch);
        }
        if epoch > e.epoch {
            return if first_seq == 0 {
                SeqCheck::Append
            } else {
                SeqCheck::Reject(ResponseError::OutOfOrderSequenceNumber)
            };
        }
        if let Some(b) = e
            .batches
            .iter()
            .find(|b| b.first_seq == first_seq && b.last_seq == last_seq)
        {
            return SeqCheck::Duplicate(b.base_offset);
        }
        match e.batches.back() {
            Some(last) if first_seq != next_seq(last.last_seq) => {
                SeqCheck::Reject(ResponseError::OutOfOrderSequenceNumber)
            }
            _ => SeqCheck::Append,
        }
    }

    /// Remembers an appended batch.
    pub fn record(
        &mut self,
        producer_id: i64,
        epoch: i16,
        first_seq: i32,
        last_seq: i32,
        base_offset: i64,
    ) {
        let e = self.producers.entry(producer_id).or_default();
        if epoch != e.epoch {
            e.epoch = epoch;
            e.batches.clear();
        }
        e.batches.push_back(BatchMeta {
            first_seq,
            last_seq,
            base_offset,
        });
        while e.batches.len() > RETAINED {
            e.batches.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences() {
        let mut s = ProducerStates::default();
        assert_eq!(s.check(7, 0, 0, 4), SeqCheck::Append);
        s.record(7, 0, 0, 4, 100);
        assert_eq!(s.check(7, 0, 0, 4), SeqCheck::Duplicate(100));
        assert_eq!(
            s.check(7, 0, 6, 9),
            SeqCheck::Reject(ResponseError::OutOfOrderSequenceNumber)
        );
        assert_eq!(s.check(7, 0, 5, 9), SeqCheck::Append);
        for i in 1..=6 {
            s.record(7, 0, i * 5, i * 5 + 4, 100 + i64::from(i) * 5);
        }
        // Only the last 5 are retained.
        assert_eq!(
            s.check(7, 0, 0, 4),
            SeqCheck::Reject(ResponseError::OutOfOrderSequenceNumber)
        );
        assert_eq!(s.check(7, 0, 30, 34), SeqCheck::Duplicate(130));
        assert_eq!(
            s.check(7, -1, 35, 35),
            SeqCheck::Reject(ResponseError::InvalidProducerEpoch)
        );
        assert_eq!(s.check(7, 1, 0, 0), SeqCheck::Append);
        assert_eq!(
            s.check(7, 1, 3, 3),
            SeqCheck::Reject(ResponseError::OutOfOrderSequenceNumber)
        );
        assert_eq!(last_seq(i32::MAX, 1), 0);
        assert_eq!(next_seq(i32::MAX), 0);
    }
}
