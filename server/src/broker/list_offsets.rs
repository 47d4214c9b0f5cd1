//! ListOffsets (api_key 2): offsets by timestamp, earliest and latest.

use super::metadata::topic_name;
use super::produce::LEADER_EPOCH;
use super::routes::{reply, HandlerFuture};
use super::Broker;
use bytes::Bytes;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use kafka_protocol::ResponseError;
use rill_protocol::kafka::{decode_body, Header};
use std::sync::Arc;

/// Kafka's ListOffsetsRequest.LATEST_TIMESTAMP.
const LATEST: i64 = -1;
/// EARLIEST_TIMESTAMP.
const EARLIEST: i64 = -2;
/// MAX_TIMESTAMP (KIP-734, v7).
const MAX_TIMESTAMP: i64 = -3;

/// ```text
/// ListOffsets v1-7 replica_id, isolation_level, topics [name, partitions [partition_index,
///   current_leader_epoch, timestamp]]
///   -> topics [name, partitions [partition_index, error_code, timestamp, offset,
///      leader_epoch (v4+)]]
/// ```
/// -2 is the log start offset, -1 the hw (= last stable offset without transactions),
/// -3 (MAX_TIMESTAMP) the offset and timestamp of the record with the largest timestamp
/// (offset -1, timestamp -1 for an empty partition), t >= 0 the first offset whose
/// timestamp is >= t (offset -1 when none). Answers by timestamp only count records below
/// the hw, as Kafka's. Other negative timestamps get INVALID_REQUEST.
pub fn list_offsets(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: ListOffsetsRequest = decode_body(&header, &mut body)?;
        let mut topics = Vec::with_capacity(req.topics.len());
        for t in &req.topics {
            let logs = broker.topic_logs(t.name.as_str(), false);
            let mut partitions = Vec::with_capacity(t.partitions.len());
            for p in &t.partitions {
                let r = ListOffsetsPartitionResponse::default()
                    .with_partition_index(p.partition_index)
                    .with_timestamp(-1)
                    .with_offset(-1);
                let log = usize::try_from(p.partition_index)
                    .ok()
                    .and_then(|i| logs.as_ref()?.get(i));
                let Some(log) = log else {
                    partitions
                        .push(r.with_error_code(ResponseError::UnknownTopicOrPartition.code()));
                    continue;
                };
                let found = {
                    let state = log.state.lock();
                    match state.log.as_ref() {
                        None => Err(ResponseError::NotLeaderOrFollower),
                        Some(l) => match p.timestamp {
                            EARLIEST => Ok((l.log_start_offset(), -1)),
                            LATEST => Ok((l.hw(), -1)),
                            MAX_TIMESTAMP => match l.max_timestamp_offset() {
                                Ok(found) => Ok(found
                                    .filter(|&(offset, _)| offset < l.hw())
                                    .unwrap_or((-1, -1))),
                                Err(e) => {
                                    tracing::warn!("Kafka: ListOffsets MAX_TIMESTAMP: {e}");
                                    Err(ResponseError::KafkaStorageError)
                                }
                            },
                            ts if ts >= 0 => Ok(l
                                .offset_for_timestamp(ts)
                                .filter(|&(offset, _)| offset < l.hw())
                                .map_or((-1, -1), |(offset, ts)| (offset, ts))),
                            _ => Err(ResponseError::InvalidRequest),
                        },
                    }
                };
                partitions.push(match found {
                    // leader_epoch exists from v4 only; its default -1 encodes nothing.
                    Ok((offset, timestamp)) if offset >= 0 && header.api_version >= 4 => r
                        .with_offset(offset)
                        .with_timestamp(timestamp)
                        .with_leader_epoch(LEADER_EPOCH),
                    Ok((offset, timestamp)) => r.with_offset(offset).with_timestamp(timestamp),
                    Err(e) => r.with_error_code(e.code()),
                });
            }
            topics.push(
                ListOffsetsTopicResponse::default()
                    .with_name(topic_name(t.name.as_str()))
                    .with_partitions(partitions),
            );
        }
        reply(&header, &ListOffsetsResponse::default().with_topics(topics))
    })
}
