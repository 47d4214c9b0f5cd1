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
use rill_storage::log::partition::Partition;
use rill_storage::log::{AppendError, Batches};
use std::sync::Arc;

/// The leader epoch stamped into stored batches; a single node never changes leader.
pub const LEADER_EPOCH: i32 = 0;

/// What one partition's append produced.
struct Appended {
    /// 0 (NONE) or a Kafka error code.
    error_code: i16,
    base_offset: i64,
    log_start_offset: i64,
}

impl Appended {
    fn error(error: ResponseError) -> Appended {
        Appended {
            error_code: error.code(),
            base_offset: -1,
            log_start_offset: -1,
        }
    }
}

/// ```text
/// Produce v3-9 transactional_id, acks, timeout_ms,
///   topic_data [name, partition_data [index, records]]
///   -> responses [name, partition_responses [index, error_code, base_offset,
///      log_append_time_ms -1, log_start_offset]]
/// ```
/// v0-2 are advertised for librdkafka's feature probe (trap T3) but refused: like Kafka 4,
/// which cannot parse them either, the connection is closed. acks=0 gets no response
/// (trap T7); on a single node acks=1 and acks=all both answer after the local append (and
/// its fsync with `kafka-flush always`). Unknown topics are auto-created as Metadata does.
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
                        .with_log_append_time_ms(-1)
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
    let mut buf = records.to_vec();
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
                    return Appended {
                        error_code: 0,
                        base_offset,
                        log_start_offset: partition.log_start_offset(),
                    }
                }
                SeqCheck::Reject(e) => return Appended::error(e),
            }
        }
        let result = append_locked(partition, &mut buf, now);
        if let (Ok(info), Some((pid, epoch, first, last))) = (&result, producer) {
            if pid >= 0 {
                state
                    .producers
                    .record(pid, epoch, first, last, info.base_offset);
            }
        }
        result
    };
    match result {
        Ok(info) => {
            log.appended.notify_waiters();
            Appended {
                error_code: 0,
                base_offset: info.base_offset,
                log_start_offset: info.log_start_offset,
            }
        }
        Err(e) => {
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
