//! Fetch (api_key 1): whole stored batches up to the hw, with long-polling (trap T5).

use super::registry::PartitionLog;
use super::routes::{reply, HandlerFuture};
use super::Broker;
use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse};
use kafka_protocol::ResponseError;
use rill_protocol::kafka::{decode_body, Header};
use rill_storage::log::ReadError;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// ```text
/// Fetch v4-12 max_wait_ms, min_bytes, max_bytes, isolation_level, session_id, epoch,
///   topics [topic, partitions [partition, fetch_offset, partition_max_bytes, ...]]
///   -> session_id 0, responses [topic, partitions [partition_index, error_code,
///      high_watermark, last_stable_offset, log_start_offset, aborted_transactions [],
///      preferred_read_replica -1, records]]
/// ```
/// Sessionless: session_id 0 and every requested partition in every response (trap T4).
/// Reads stop at the hw; the first partition with data gets at least one whole batch
/// (KIP-74), later ones only what fits in max_bytes. With less than min_bytes available the
/// request parks until an append to one of its partitions or max_wait_ms (trap T5).
pub fn fetch(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: FetchRequest = decode_body(&header, &mut body)?;
        let wait = Duration::from_millis(u64::try_from(req.max_wait_ms).unwrap_or(0));
        let deadline = tokio::time::Instant::now() + wait;
        // Resolved once: a topic created while parked is answered on the next Fetch.
        let logs: Vec<Vec<Option<Arc<PartitionLog>>>> = req
            .topics
            .iter()
            .map(|t| {
                let topic = broker.topic_logs(t.topic.as_str(), false);
                t.partitions
                    .iter()
                    .map(|p| {
                        let i = usize::try_from(p.partition).ok()?;
                        topic.as_ref()?.get(i).cloned()
                    })
                    .collect()
            })
            .collect();
        loop {
            // Registered before reading, so an append between the read and the wait is
            // not missed.
            let mut waits: Vec<_> = logs
                .iter()
                .flatten()
                .flatten()
                .map(|l| Box::pin(l.appended.notified()))
                .collect();
            for w in &mut waits {
                w.as_mut().enable();
            }
            let (resp, bytes, failed) = read_all(&req, &logs);
            let min_bytes = usize::try_from(req.min_bytes).unwrap_or(0);
            if bytes >= min_bytes || failed || tokio::time::Instant::now() >= deadline {
                return reply(&header, &resp);
            }
            let any = std::future::poll_fn(|cx| {
                for w in &mut waits {
                    if w.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(());
                    }
                }
                Poll::Pending
            });
            if tokio::time::timeout_at(deadline, any).await.is_err() {
                // Timed out: one last read answers with whatever is there.
                let (resp, _, _) = read_all(&req, &logs);
                return reply(&header, &resp);
            }
        }
    })
}

/// Builds the response; returns it with the record bytes it carries and whether any
/// partition has an error (an error answers at once).
fn read_all(
    req: &FetchRequest,
    logs: &[Vec<Option<Arc<PartitionLog>>>],
) -> (FetchResponse, usize, bool) {
    let mut budget = usize::try_from(req.max_bytes).unwrap_or(0);
    let mut total = 0usize;
    let mut failed = false;
    let mut responses = Vec::with_capacity(req.topics.len());
    for (t, tlogs) in req.topics.iter().zip(logs) {
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for (p, log) in t.partitions.iter().zip(tlogs) {
            let mut data = PartitionData::default()
                .with_partition_index(p.partition)
                .with_high_watermark(-1)
                .with_last_stable_offset(-1)
                .with_log_start_offset(-1)
                .with_aborted_transactions(Some(Vec::new()))
                .with_preferred_read_replica(BrokerId(-1));
            let Some(log) = log else {
                failed = true;
                partitions.push(
                    data.with_error_code(ResponseError::UnknownTopicOrPartition.code())
                        .with_records(Some(Bytes::new())),
                );
                continue;
            };
            let part_max = usize::try_from(p.partition_max_bytes).unwrap_or(0);
            // KIP-74: only the first partition with data may exceed the limits.
            let first = total == 0;
            let max = part_max.min(budget);
            let read = {
                let state = log.state.lock();
                match state.log.as_ref() {
                    None => Err(ResponseError::NotLeaderOrFollower),
                    Some(l) => {
                        let (hw, start) = (l.hw(), l.log_start_offset());
                        data = data
                            .with_high_watermark(hw)
                            .with_last_stable_offset(hw)
                            .with_log_start_offset(start);
                        if p.fetch_offset < start || p.fetch_offset > hw {
                            Err(ResponseError::OffsetOutOfRange)
                        } else if p.fetch_offset == hw || (!first && max == 0) {
                            Ok(Vec::new())
                        } else {
                            match l.read(p.fetch_offset, max.max(1), hw) {
                                Ok(r) => Ok(r.records),
                                Err(ReadError::OffsetOutOfRange { .. }) => {
                                    Err(ResponseError::OffsetOutOfRange)
                                }
                                Err(ReadError::Io(e)) => {
                                    tracing::warn!("Kafka: fetch read: {e}");
                                    Err(ResponseError::KafkaStorageError)
                                }
                            }
                        }
                    }
                }
            };
            match read {
                Ok(mut records) => {
                    if !first && records.len() > max {
                        records.clear();
                    }
                    total += records.len();
                    budget = budget.saturating_sub(records.len());
                    partitions.push(data.with_records(Some(Bytes::from(records))));
                }
                Err(e) => {
                    failed = true;
                    partitions.push(
                        data.with_error_code(e.code())
                            .with_records(Some(Bytes::new())),
                    );
                }
            }
        }
        responses.push(
            FetchableTopicResponse::default()
                .with_topic(t.topic.clone())
                .with_topic_id(t.topic_id)
                .with_partitions(partitions),
        );
    }
    let resp = FetchResponse::default()
        .with_session_id(0)
        .with_responses(responses);
    (resp, total, failed)
}
