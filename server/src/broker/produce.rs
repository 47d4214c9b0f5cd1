//! Produce (api_key 0): validate and append each partition's record batches to its log.

use super::metadata::topic_name;
use super::producer_state::{last_seq, SeqCheck};
use super::registry::{is_internal_topic, valid_topic_name, PartitionLog};
use super::routes::{reply, HandlerFuture};
use super::Broker;
use bytes::Bytes;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::ResponseError;
use rill_protocol::kafka::{decode_body, Header, KafkaError};
use rill_storage::log::batch::{HEADER_LEN, LOG_OVERHEAD};
use rill_storage::log::partition::Partition;
use rill_storage::log::{AppendError, Batch, Batches};
use std::sync::Arc;

/// The leader epoch stamped into stored batches; a single node never changes leader.
pub const LEADER_EPOCH: i32 = 0;

/// Where every record format keeps its magic byte (after baseOffset, size and the
/// leader epoch or v0/v1 CRC).
const MAGIC_AT: usize = 16;
/// Attribute bit 5: a control batch (transaction markers), written by the broker only.
const CONTROL_BATCH: i16 = 1 << 5;

/// What one partition's append produced.
struct Appended {
    /// 0 (NONE) or a Kafka error code.
    error_code: i16,
    base_offset: i64,
    log_start_offset: i64,
    /// The broker's timestamp under LogAppendTime, else -1.
    log_append_time_ms: i64,
}

impl Appended {
    fn error(error: ResponseError) -> Appended {
        Appended {
            error_code: error.code(),
            base_offset: -1,
            log_start_offset: -1,
            log_append_time_ms: -1,
        }
    }
}

/// ```text
/// Produce v3-9 transactional_id, acks, timeout_ms,
///   topic_data [name, partition_data [index, records]]
///   -> responses [name, partition_responses [index, error_code, base_offset,
///      log_append_time_ms (-1 unless LogAppendTime), log_start_offset]]
/// ```
/// v0-2 are advertised for librdkafka's feature probe (trap T3) but refused: like Kafka 4,
/// which cannot parse them either, the connection is closed. acks=0 gets no response
/// (trap T7); on a single node acks=1 and acks=all both answer after the local append (and
/// its fsync with `kafka-flush always`). Unknown topics are auto-created as Metadata does.
/// Each partition's records are checked as Kafka does, each failure answered in that
/// partition alone, nothing of it stored: no whole batch, magic != 2, more than one batch,
/// a non-zero baseOffset or a control batch -> INVALID_RECORD; a bad size field or CRC ->
/// CORRUPT_MESSAGE; over `message.max.bytes` -> MESSAGE_TOO_LARGE; bad record counts ->
/// INVALID_RECORD.
pub fn produce(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        if header.api_version < 3 {
            return Err(KafkaError::Unsupported {
                api_key: header.api_key,
                api_version: header.api_version,
            });
        }
        let req: ProduceRequest = decode_body(&header, &mut body)?;
        let now = crate::util::now_ms();
        let mut responses = Vec::with_capacity(req.topic_data.len());
        for t in &req.topic_data {
            let name = t.name.as_str();
            let logs = if req.transactional_id.is_some() || !matches!(req.acks, -1..=1) {
                None
            } else {
                broker.topic_logs(name, true)
            };
            let mut partitions = Vec::with_capacity(t.partition_data.len());
            for p in &t.partition_data {
                let a = if is_internal_topic(name) {
                    // Only the coordinator writes __consumer_offsets.
                    Appended::error(ResponseError::InvalidTopicException)
                } else if req.transactional_id.is_some() {
                    // No transactions on this broker (KAFKA.md 1.4).
                    Appended::error(ResponseError::TransactionalIdAuthorizationFailed)
                } else if !matches!(req.acks, -1..=1) {
                    Appended::error(ResponseError::InvalidRequiredAcks)
                } else {
                    match usize::try_from(p.index)
                        .ok()
                        .and_then(|i| logs.as_ref()?.get(i))
                    {
                        Some(log) => append(log, p.records.as_ref(), now),
                        None => Appended::error(ResponseError::UnknownTopicOrPartition),
                    }
                };
                partitions.push(
                    PartitionProduceResponse::default()
                        .with_index(p.index)
                        .with_error_code(a.error_code)
                        .with_base_offset(a.base_offset)
                        .with_log_append_time_ms(a.log_append_time_ms)
                        .with_log_start_offset(a.log_start_offset),
                );
            }
            responses.push(
                TopicProduceResponse::default()
                    .with_name(topic_name(name))
                    .with_partition_responses(partitions),
            );
        }
        if req.acks == 0 {
            return Ok(None);
        }
        reply(
            &header,
            &ProduceResponse::default().with_responses(responses),
        )
    })
}

impl Broker {
    /// The partition logs of topic `name`, auto-creating it when `create` and the broker
    /// allow it (trap T8); None for an unknown or invalid topic.
    pub fn topic_logs(&self, name: &str, create: bool) -> Option<Vec<Arc<PartitionLog>>> {
        let mut registry = self.registry.lock();
        if let Some(t) = registry.get(name) {
            return Some(t.logs.clone());
        }
        if !(create && self.auto_create() && valid_topic_name(name)) {
            return None;
        }
        let n = self.num_partitions();
        let t = registry.create(name, n)?;
        tracing::info!("Kafka: auto-created topic {name} ({n} partitions)");
        Some(t.logs.clone())
    }
}

/// Appends one partition's records.
fn append(log: &PartitionLog, records: Option<&Bytes>, now: i64) -> Appended {
    let Some(records) = records else {
        return Appended::error(ResponseError::InvalidRecord);
    };
    let len = match check_records(records) {
        Ok(len) => len,
        Err((error, why)) => {
            tracing::debug!("Kafka: produce refused: {why}");
            return Appended::error(error);
        }
    };
    let mut buf = records[..len].to_vec();
    // Idempotence fields come from the batch headers; a request carries one batch per
    // partition from idempotent clients, so the first and last batch span its sequences.
    let mut producer = None;
    for (_, b) in Batches::new(&buf).map_while(Result::ok) {
        let seq_end = last_seq(b.base_sequence(), b.last_offset_delta());
        producer = match producer {
            None => Some((
                b.producer_id(),
                b.producer_epoch(),
                b.base_sequence(),
                seq_end,
            )),
            Some((pid, epoch, first, _)) => Some((pid, epoch, first, seq_end)),
        };
    }
    let result = {
        let mut state = log.state.lock();
        let state = &mut *state;
        let Some(partition) = state.log.as_mut() else {
            return Appended::error(ResponseError::NotLeaderOrFollower);
        };
        if let Some((pid, epoch, first, last)) = producer.filter(|p| p.0 >= 0) {
            match state.producers.check(pid, epoch, first, last) {
                SeqCheck::Append => {}
                SeqCheck::Duplicate(base_offset) => {
                    // The original append time is not kept; -1 as for CreateTime.
                    return Appended {
                        error_code: 0,
                        base_offset,
                        log_start_offset: partition.log_start_offset(),
                        log_append_time_ms: -1,
                    };
                }
                SeqCheck::Reject(e) => return Appended::error(e),
            }
        }
        let log_append_time = partition.config().log_append_time;
        let result = append_locked(partition, &mut buf, now);
        if let (Ok(info), Some((pid, epoch, first, last))) = (&result, producer) {
            if pid >= 0 {
                state
                    .producers
                    .record(pid, epoch, first, last, info.base_offset);
            }
        }
        (result, log_append_time)
    };
    match result {
        (Ok(info), log_append_time) => {
            log.appended.notify_waiters();
            Appended {
                error_code: 0,
                base_offset: info.base_offset,
                log_start_offset: info.log_start_offset,
                log_append_time_ms: if log_append_time {
                    info.max_timestamp
                } else {
                    -1
                },
            }
        }
        (Err(e), _) => {
            tracing::debug!("Kafka: produce refused: {e}");
            Appended::error(match e {
                AppendError::Corrupt { .. } => ResponseError::CorruptMessage,
                AppendError::MessageTooLarge { .. } => ResponseError::MessageTooLarge,
                AppendError::InvalidRecord(_) => ResponseError::InvalidRecord,
                AppendError::Io(_) => ResponseError::KafkaStorageError,
            })
        }
    }
}

/// Kafka's `ByteBufferLogInputStream.nextBatchSize` at `pos`: the size and magic of the
/// batch there, None when the bytes left cannot hold it whole (a partial batch), Err for
/// a size or magic no batch can have.
fn probe_batch(records: &[u8], pos: usize) -> Result<Option<(usize, i8)>, String> {
    let rest = records.get(pos..).unwrap_or_default();
    if rest.len() < LOG_OVERHEAD {
        return Ok(None);
    }
    let size = i32::from_be_bytes([rest[8], rest[9], rest[10], rest[11]]);
    // A v0 message (14 bytes of overhead) is the smallest thing with this framing.
    if size < 14 {
        return Err(format!(
            "record size {size} is below the minimum overhead 14"
        ));
    }
    if rest.len() <= MAGIC_AT {
        return Ok(None);
    }
    let magic = rest[MAGIC_AT] as i8;
    if !(0..=2).contains(&magic) {
        return Err(format!("invalid magic {magic}"));
    }
    let size = size as usize + LOG_OVERHEAD;
    Ok((rest.len() >= size).then_some((size, magic)))
}

/// Kafka's checks on a client's records before the append (`ProduceRequest.validateRecords`
/// and the client-origin rules of `analyzeAndValidateRecords`/`LogValidator`): exactly one
/// whole batch, magic 2, baseOffset 0, no control batch. Returns the batch's length; a
/// partial batch after it is dropped, as Kafka's `trimInvalidBytes` does. CRC, counts and
/// size are the log's checks ([`Partition::append`]).
fn check_records(records: &[u8]) -> Result<usize, (ResponseError, String)> {
    let corrupt = |why: String| (ResponseError::CorruptMessage, why);
    let invalid = |why: &str| (ResponseError::InvalidRecord, why.to_string());
    let Some((size, magic)) = probe_batch(records, 0).map_err(corrupt)? else {
        return Err(invalid(
            "produce v3+ must carry at least one whole record batch",
        ));
    };
    if magic != 2 {
        return Err(invalid(
            "produce v3+ may carry record batches with magic 2 only",
        ));
    }
    if probe_batch(records, size).map_err(corrupt)?.is_some() {
        return Err(invalid(
            "produce v3+ may carry exactly one record batch per partition",
        ));
    }
    if size >= HEADER_LEN {
        let batch = Batch::new(&records[..size]).map_err(|e| corrupt(e.to_string()))?;
        if batch.base_offset() != 0 {
            return Err(invalid("a client batch's baseOffset must be 0"));
        }
        if batch.attributes() & CONTROL_BATCH != 0 {
            return Err(invalid("clients may not write control batches"));
        }
    }
    Ok(size)
}

/// Appends and, a single node being its own ISR, advances the hw to the leo at once.
pub(crate) fn append_locked(
    partition: &mut Partition,
    buf: &mut [u8],
    now: i64,
) -> Result<rill_storage::log::AppendInfo, AppendError> {
    let info = partition.append(buf, LEADER_EPOCH, now)?;
    let leo = partition.leo();
    partition.set_hw(leo);
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_storage::log::batch::{encode_batch, NewRecord};

    fn batch() -> Vec<u8> {
        encode_batch(&[NewRecord {
            timestamp: 1,
            key: None,
            value: Some(b"v"),
        }])
    }

    fn code(records: &[u8]) -> Result<usize, i16> {
        check_records(records).map_err(|(e, _)| e.code())
    }

    #[test]
    fn kafka_record_checks() {
        let b = batch();
        assert_eq!(code(&b), Ok(b.len()));
        // A partial second batch is trimmed; a whole one is refused.
        let mut two = b.clone();
        two.extend_from_slice(&b[..30]);
        assert_eq!(code(&two), Ok(b.len()));
        two.truncate(b.len());
        two.extend_from_slice(&b);
        assert_eq!(code(&two), Err(87));
        // Truncated or empty: no whole batch.
        assert_eq!(code(&b[..b.len() - 1]), Err(87));
        assert_eq!(code(&[]), Err(87));
        // Magic 0/1 (a legacy message set) and impossible magics.
        let mut m = b.clone();
        m[16] = 1;
        assert_eq!(code(&m), Err(87));
        m[16] = 3;
        assert_eq!(code(&m), Err(2));
        // A size below any format's overhead.
        let mut tiny = b.clone();
        tiny[8..12].copy_from_slice(&13i32.to_be_bytes());
        assert_eq!(code(&tiny), Err(2));
        // Client batches start at offset 0 and are never control batches.
        let mut off = b.clone();
        off[7] = 5;
        assert_eq!(code(&off), Err(87));
        let mut control = b.clone();
        control[22] |= 0x20;
        assert_eq!(code(&control), Err(87));
    }
}
