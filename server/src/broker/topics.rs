//! CreateTopics (api_key 19) and DeleteTopics (api_key 20).

use super::metadata::topic_name;
use super::registry::valid_topic_name;
use super::routes::{reply, HandlerFuture};
use super::Broker;
use bytes::Bytes;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{
    CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use rill_protocol::kafka::{decode_body, Header};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

/// ```text
/// CreateTopics v2-7 topics [name, num_partitions, replication_factor, ...] validate_only
///   -> topics [name, topic_id, error_code, error_message, num_partitions, replication_factor]
/// ```
/// num_partitions -1 means `num.partitions` (KIP-464), other values <= 0 get
/// INVALID_PARTITIONS; replication_factor must be -1 or 1 on a single node. validate_only
/// checks everything and creates nothing.
pub fn create_topics(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: CreateTopicsRequest = decode_body(&header, &mut body)?;
        let default_partitions = broker.num_partitions();
        let mut seen = HashSet::new();
        let mut results = Vec::with_capacity(req.topics.len());
        let mut registry = broker.registry.lock();
        for t in &req.topics {
            let name = t.name.as_str();
            let partitions = if t.num_partitions == -1 {
                default_partitions
            } else {
                t.num_partitions
            };
            let result = CreatableTopicResult::default()
                .with_name(t.name.clone())
                .with_num_partitions(partitions)
                .with_replication_factor(1);
            let fail = |e: ResponseError, msg: String| {
                CreatableTopicResult::default()
                    .with_name(t.name.clone())
                    .with_error_code(e.code())
                    .with_error_message(Some(StrBytes::from_string(msg)))
            };
            let r = if !seen.insert(name) {
                fail(
                    ResponseError::InvalidRequest,
                    format!("Topic {name} appears more than once in the request."),
                )
            } else if !valid_topic_name(name) {
                fail(
                    ResponseError::InvalidTopicException,
                    format!("Topic name {name:?} is illegal."),
                )
            } else if registry.get(name).is_some() {
                fail(
                    ResponseError::TopicAlreadyExists,
                    format!("Topic '{name}' already exists."),
                )
            } else if partitions <= 0 {
                fail(
                    ResponseError::InvalidPartitions,
                    "Number of partitions must be larger than 0.".into(),
                )
            } else if !matches!(t.replication_factor, -1 | 1) {
                fail(
                    ResponseError::InvalidReplicationFactor,
                    format!(
                        "Replication factor: {} larger than available brokers: 1.",
                        t.replication_factor
                    ),
                )
            } else if req.validate_only {
                result
            } else {
                match registry.create(name, partitions) {
                    Some(created) => {
                        tracing::info!("Kafka: created topic {name} ({partitions} partitions)");
                        result.with_topic_id(created.topic_id)
                    }
                    None => fail(ResponseError::TopicAlreadyExists, name.into()),
                }
            };
            results.push(r);
        }
        drop(registry);
        reply(
            &header,
            &CreateTopicsResponse::default().with_topics(results),
        )
    })
}

/// ```text
/// DeleteTopics v1-6 topic_names [name] (v6: topics [name | topic_id])
///   -> responses [name, topic_id, error_code]
/// ```
pub fn delete_topics(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: DeleteTopicsRequest = decode_body(&header, &mut body)?;
        // v0-5 name topics in topic_names, v6 in topics (by name or by topic_id).
        let wanted: Vec<(Option<String>, Uuid)> = req
            .topic_names
            .iter()
            .map(|n| (Some(n.as_str().to_string()), Uuid::nil()))
            .chain(
                req.topics
                    .iter()
                    .map(|t| (t.name.as_ref().map(|n| n.as_str().to_string()), t.topic_id)),
            )
            .collect();
        let mut registry = broker.registry.lock();
        let mut responses = Vec::with_capacity(wanted.len());
        for (name, topic_id) in wanted {
            let name = name.or_else(|| registry.name_of(topic_id).map(str::to_string));
            let r = DeletableTopicResult::default()
                .with_name(name.as_deref().map(topic_name))
                .with_topic_id(topic_id);
            let deleted = name.as_deref().and_then(|n| registry.delete(n));
            responses.push(match deleted {
                Some(t) => {
                    tracing::info!("Kafka: deleted topic {}", name.as_deref().unwrap_or(""));
                    r.with_topic_id(t.topic_id)
                }
                None if name.is_none() => r.with_error_code(ResponseError::UnknownTopicId.code()),
                None => r.with_error_code(ResponseError::UnknownTopicOrPartition.code()),
            });
        }
        drop(registry);
        reply(
            &header,
            &DeleteTopicsResponse::default().with_responses(responses),
        )
    })
}
