//! FindCoordinator (api_key 10): this node coordinates every group and transaction.

use super::routes::{reply, HandlerFuture};
use super::{Broker, NODE_ID};
use bytes::Bytes;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use rill_protocol::kafka::{decode_body, Header};
use std::sync::Arc;

/// ```text
/// FindCoordinator v0-3 key key_type -> node_id 0, host, port
/// FindCoordinator v4   coordinator_keys [key] -> coordinators [key, node_id 0, host, port]
/// ```
pub fn find_coordinator(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: FindCoordinatorRequest = decode_body(&header, &mut body)?;
        let (host, port) = broker.advertised();
        let host = StrBytes::from_string(host);
        let resp = if header.api_version >= 4 {
            // v4 (KIP-699) is batched: one coordinator per key, nothing at the top level.
            FindCoordinatorResponse::default().with_coordinators(
                req.coordinator_keys
                    .into_iter()
                    .map(|key| {
                        Coordinator::default()
                            .with_key(key)
                            .with_node_id(BrokerId(NODE_ID))
                            .with_host(host.clone())
                            .with_port(port)
                    })
                    .collect(),
            )
        } else {
            FindCoordinatorResponse::default()
                .with_node_id(BrokerId(NODE_ID))
                .with_host(host)
                .with_port(port)
        };
        reply(&header, &resp)
    })
}
