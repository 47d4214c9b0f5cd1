//! The route table: one row per Kafka API this broker serves, `(ApiKey, min_version,
//! max_version, handler)`. ApiVersions advertises exactly these rows, so adding an API is
//! one line here plus its handler.
//!
//! Versions follow KAFKA.md §1.1 "Advertise": every minimum covers librdkafka's exact
//! feature probes (trap T3).

use super::{
    api_versions, coordinator, describe_configs, fetch, group_api, list_offsets, metadata, produce,
    producer_id, topics, Broker,
};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::Encodable;
use rill_protocol::kafka::{encode_response, Header, KafkaError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A response frame, or None for requests that get no response (Produce with acks=0).
pub type HandlerResult = Result<Option<BytesMut>, KafkaError>;

/// Handlers are async so that Fetch can long-poll and Produce can wait for acks=all.
pub type HandlerFuture = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;

/// Takes the broker, the parsed header and the undecoded body.
pub type Handler = fn(Arc<Broker>, Header, Bytes) -> HandlerFuture;

/// One row of the table.
pub struct Route {
    pub api_key: ApiKey,
    pub min_version: i16,
    pub max_version: i16,
    pub handler: Handler,
}

const fn route(api_key: ApiKey, min_version: i16, max_version: i16, handler: Handler) -> Route {
    Route {
        api_key,
        min_version,
        max_version,
        handler,
    }
}

/// Every API this broker serves.
pub static ROUTES: &[Route] = &[
    // Min 0 for librdkafka's probe (trap T3); produce() refuses v0-2.
    route(ApiKey::Produce, 0, 9, produce::produce),
    route(ApiKey::Fetch, 4, 12, fetch::fetch),
    route(ApiKey::ListOffsets, 1, 7, list_offsets::list_offsets),
    route(ApiKey::Metadata, 0, 12, metadata::metadata),
    route(ApiKey::FindCoordinator, 0, 4, coordinator::find_coordinator),
    route(ApiKey::ApiVersions, 0, 4, api_versions::api_versions),
    route(ApiKey::CreateTopics, 2, 7, topics::create_topics),
    route(ApiKey::DeleteTopics, 1, 6, topics::delete_topics),
    route(ApiKey::DescribeCluster, 0, 1, metadata::describe_cluster),
    route(ApiKey::InitProducerId, 0, 4, producer_id::init_producer_id),
    // Admin only; kafka-protocol decodes no v0 (KAFKA.md 1.1: librdkafka sends v1).
    route(
        ApiKey::DescribeConfigs,
        1,
        4,
        describe_configs::describe_configs,
    ),
    // Classic group protocol. OffsetCommit starts at 2: kafka-protocol decodes no v0-1
    // (Kafka 4 dropped them too, KIP-896); librdkafka's BalancedConsumer probe {1,2}
    // overlaps it.
    route(ApiKey::JoinGroup, 0, 7, group_api::join_group),
    route(ApiKey::SyncGroup, 0, 5, group_api::sync_group),
    route(ApiKey::Heartbeat, 0, 4, group_api::heartbeat),
    route(ApiKey::LeaveGroup, 0, 5, group_api::leave_group),
    route(ApiKey::OffsetCommit, 2, 8, group_api::offset_commit),
    route(ApiKey::OffsetFetch, 1, 8, group_api::offset_fetch),
    route(ApiKey::ListGroups, 0, 4, group_api::list_groups),
    route(ApiKey::DescribeGroups, 0, 5, group_api::describe_groups),
];

/// The route for `api_key`, if this broker serves it.
pub fn find(api_key: ApiKey) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.api_key == api_key)
}

/// Runs one request. Err means the connection must be closed: an API or version outside
/// the table (except ApiVersions, which answers with trap T2's v0 error body) or a body
/// that does not decode.
pub async fn dispatch(broker: Arc<Broker>, header: Header, body: Bytes) -> HandlerResult {
    match find(header.api_key) {
        Some(r) if (r.min_version..=r.max_version).contains(&header.api_version) => {
            (r.handler)(broker, header, body).await
        }
        _ if header.api_key == ApiKey::ApiVersions => api_versions::unsupported_version(&header),
        _ => Err(KafkaError::Unsupported {
            api_key: header.api_key,
            api_version: header.api_version,
        }),
    }
}

/// Encodes `body` as the response to `header`.
pub fn reply<T: Encodable>(header: &Header, body: &T) -> HandlerResult {
    let mut out = BytesMut::new();
    encode_response(
        header.api_key,
        header.api_version,
        header.correlation_id,
        body,
        &mut out,
    )?;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sane() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert(r.api_key as i16), "{:?} twice", r.api_key);
            assert!(r.min_version <= r.max_version);
            // Never advertise a version kafka-protocol cannot encode (Produce v0-2 are
            // advertised for trap T3 and refused by the handler).
            let v = r.api_key.valid_versions();
            let min = if r.api_key == ApiKey::Produce {
                3
            } else {
                r.min_version
            };
            assert!(v.min <= min && r.max_version <= v.max, "{:?}", r.api_key);
        }
    }
}
