//! Metadata (api_key 3) and DescribeCluster (api_key 60): this node, its topics and their
//! partitions.

use super::registry::{valid_topic_name, Topic};
use super::routes::{reply, HandlerFuture};
use super::{Broker, CLUSTER_ID, NODE_ID};
use bytes::Bytes;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{
    BrokerId, DescribeClusterRequest, DescribeClusterResponse, MetadataRequest, MetadataResponse,
    TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use rill_protocol::kafka::{decode_body, Header};
use std::sync::Arc;
use uuid::Uuid;

/// ```text
/// Metadata v0-12 [topics (null: all; v0: empty means all)] allow_auto_topic_creation
///   -> brokers [node 0], cluster_id, controller_id 0,
///      topics [error_code, name, topic_id, partitions [leader 0, leader_epoch 0, isr [0]]]
/// ```
/// Unknown topics are created when both `auto.create.topics.enable` and the request's
/// allow_auto_topic_creation say so (returned at once with error NONE, trap T8), else
/// UNKNOWN_TOPIC_OR_PARTITION.
pub fn metadata(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: MetadataRequest = decode_body(&header, &mut body)?;
        let all = match &req.topics {
            None => true,
            Some(t) => t.is_empty() && header.api_version == 0,
        };
        let auto_create = broker.auto_create() && req.allow_auto_topic_creation;
        let num_partitions = broker.num_partitions();
        let mut topics = Vec::new();
        {
            let mut registry = broker.registry.lock();
            if all {
                for (name, t) in registry.iter() {
                    topics.push(topic_entry(name, t));
                }
            }
            for rt in req.topics.iter().flatten() {
                let Some(name) = &rt.name else {
                    // v10+: by topic_id alone.
                    let found = registry.name_of(rt.topic_id).map(str::to_string);
                    match found.and_then(|n| registry.get(&n).map(|t| topic_entry(&n, t))) {
                        Some(e) => topics.push(e),
                        None => topics.push(
                            MetadataResponseTopic::default()
                                .with_topic_id(rt.topic_id)
                                .with_error_code(ResponseError::UnknownTopicId.code()),
                        ),
                    }
                    continue;
                };
                let name = name.as_str();
                if let Some(t) = registry.get(name) {
                    topics.push(topic_entry(name, t));
                } else if !valid_topic_name(name) {
                    topics.push(topic_error(
                        name,
                        ResponseError::InvalidTopicException.code(),
                    ));
                } else if auto_create {
                    let t = registry.create(name, num_partitions).cloned();
                    if let Some(t) = t {
                        tracing::info!(
                            "Kafka: auto-created topic {name} ({num_partitions} partitions)"
                        );
                        topics.push(topic_entry(name, &t));
                    }
                } else {
                    topics.push(topic_error(
                        name,
                        ResponseError::UnknownTopicOrPartition.code(),
                    ));
                }
            }
        }
        let (host, port) = broker.advertised();
        let resp = MetadataResponse::default()
            .with_brokers(vec![MetadataResponseBroker::default()
                .with_node_id(BrokerId(NODE_ID))
                .with_host(StrBytes::from_string(host))
                .with_port(port)])
            .with_cluster_id(Some(StrBytes::from_static_str(CLUSTER_ID)))
            .with_controller_id(BrokerId(NODE_ID))
            .with_topics(topics);
        reply(&header, &resp)
    })
}

fn topic_entry(name: &str, t: &Topic) -> MetadataResponseTopic {
    let partitions = (0..t.partitions)
        .map(|p| {
            MetadataResponsePartition::default()
                .with_partition_index(p)
                .with_leader_id(BrokerId(NODE_ID))
                .with_leader_epoch(0)
                .with_replica_nodes(vec![BrokerId(NODE_ID)])
                .with_isr_nodes(vec![BrokerId(NODE_ID)])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(topic_name(name)))
        .with_topic_id(t.topic_id)
        .with_partitions(partitions)
}

fn topic_error(name: &str, error_code: i16) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_name(Some(topic_name(name)))
        .with_topic_id(Uuid::nil())
        .with_error_code(error_code)
}

pub(super) fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

/// ```text
/// DescribeCluster v0-1 -> cluster_id, controller_id 0, brokers [node 0]
/// ```
pub fn describe_cluster(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let _req: DescribeClusterRequest = decode_body(&header, &mut body)?;
        let (host, port) = broker.advertised();
        let resp = DescribeClusterResponse::default()
            .with_cluster_id(StrBytes::from_static_str(CLUSTER_ID))
            .with_controller_id(BrokerId(NODE_ID))
            .with_brokers(vec![DescribeClusterBroker::default()
                .with_broker_id(BrokerId(NODE_ID))
                .with_host(StrBytes::from_string(host))
                .with_port(port)]);
        reply(&header, &resp)
    })
}
