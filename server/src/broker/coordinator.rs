//! FindCoordinator (api_key 10): this node coordinates every group. There is no
//! transaction coordinator: a transactional producer is told so at its first step.

use super::routes::{reply, HandlerFuture};
use super::{Broker, NODE_ID};
use bytes::Bytes;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use rill_protocol::kafka::{decode_body, Header};
use std::sync::Arc;

/// FindCoordinator key_type of a transactional id (0 is a group).
const KEY_TYPE_TRANSACTION: i8 = 1;

/// What a transactional producer is told. librdkafka prints it after the error name;
/// kafka-python shows only the error class.
pub const NO_TRANSACTIONS: &str = "Rill does not support Kafka transactions; unset \
    transactional.id (an idempotent producer still writes each partition exactly once)";

/// ```text
/// FindCoordinator v0-3 key key_type -> node_id 0, host, port
/// FindCoordinator v4   coordinator_keys [key] -> coordinators [key, node_id 0, host, port]
/// ```
/// key_type 1 (a transactional id) gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED with
/// [`NO_TRANSACTIONS`] as the message: both librdkafka and kafka-python treat that code as
/// fatal here, so `init_transactions()` fails at once instead of retrying the lookup
/// until its timeout (a retriable code such as COORDINATOR_NOT_AVAILABLE would).
pub fn find_coordinator(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: FindCoordinatorRequest = decode_body(&header, &mut body)?;
        let (host, port) = broker.advertised();
        let host = StrBytes::from_string(host);
        let refused = req.key_type == KEY_TYPE_TRANSACTION;
        let error = (
            ResponseError::TransactionalIdAuthorizationFailed.code(),
            Some(StrBytes::from_static_str(NO_TRANSACTIONS)),
        );
        let resp = if header.api_version >= 4 {
            // v4 (KIP-699) is batched: one coordinator per key, nothing at the top level.
            FindCoordinatorResponse::default().with_coordinators(
                req.coordinator_keys
                    .into_iter()
                    .map(|key| {
                        let c = Coordinator::default().with_key(key);
                        if refused {
                            c.with_node_id(BrokerId(-1))
                                .with_port(-1)
                                .with_error_code(error.0)
                                .with_error_message(error.1.clone())
                        } else {
                            c.with_node_id(BrokerId(NODE_ID))
                                .with_host(host.clone())
                                .with_port(port)
                        }
                    })
                    .collect(),
            )
        } else if refused {
            // error_message exists from v1, as key_type does.
            FindCoordinatorResponse::default()
                .with_node_id(BrokerId(-1))
                .with_port(-1)
                .with_error_code(error.0)
                .with_error_message(error.1)
        } else {
            FindCoordinatorResponse::default()
                .with_node_id(BrokerId(NODE_ID))
                .with_host(host)
                .with_port(port)
        };
        reply(&header, &resp)
    })
}
