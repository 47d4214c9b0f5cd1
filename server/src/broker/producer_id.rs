//! InitProducerId (api_key 22) for idempotent producers, and the producer_id allocator.

use super::routes::{reply, HandlerFuture};
use super::Broker;
use bytes::Bytes;
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use kafka_protocol::ResponseError;
use rill_protocol::kafka::{decode_body, Header};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// Ids reserved per write of the counter file (Kafka's controller hands out blocks of 1000
/// too), so an InitProducerId rarely touches the disk.
const BLOCK: i64 = 1000;

/// Hands out producer ids that never repeat across restarts: the file `producer-ids` holds
/// the end of the reserved block, written (and synced) before any id of the block is used.
#[derive(Debug, Default)]
pub struct ProducerIds {
    path: Option<PathBuf>,
    next: i64,
    block_end: i64,
}

impl ProducerIds {
    /// Starts after the block recorded in `path` (so after every id ever handed out).
    pub fn load(path: PathBuf) -> ProducerIds {
        let end = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(0)
            .max(0);
        ProducerIds {
            path: Some(path),
            next: end,
            block_end: end,
        }
    }

    /// The next producer_id; Err when the counter cannot be persisted.
    pub fn allocate(&mut self) -> std::io::Result<i64> {
        if self.next >= self.block_end {
            let end = self.next + BLOCK;
            if let Some(path) = &self.path {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let tmp = path.with_extension("tmp");
                let mut f = std::fs::File::create(&tmp)?;
                writeln!(f, "{end}")?;
                f.sync_all()?;
                std::fs::rename(&tmp, path)?;
            }
            self.block_end = end;
        }
        let id = self.next;
        self.next += 1;
        Ok(id)
    }
}

/// ```text
/// InitProducerId v0-4 transactional_id, transaction_timeout_ms, (v3+) producer_id,
///   producer_epoch -> error_code, producer_id, producer_epoch
/// ```
/// Without a transactional_id: a new producer_id with epoch 0, or (v3+, KIP-360) the same
/// producer_id with the epoch bumped; at the last epoch a new id is allocated. Transactions
/// are not supported: a transactional_id gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
pub fn init_producer_id(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: InitProducerIdRequest = decode_body(&header, &mut body)?;
        let resp = InitProducerIdResponse::default()
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1);
        if req.transactional_id.is_some() {
            return reply(
                &header,
                &resp.with_error_code(ResponseError::TransactionalIdAuthorizationFailed.code()),
            );
        }
        let (pid, epoch) = (req.producer_id.0, req.producer_epoch);
        if pid >= 0 && (0..i16::MAX - 1).contains(&epoch) {
            return reply(
                &header,
                &resp
                    .with_producer_id(ProducerId(pid))
                    .with_producer_epoch(epoch + 1),
            );
        }
        let allocated = broker.producer_ids.lock().allocate();
        match allocated {
            Ok(id) => reply(
                &header,
                &resp.with_producer_id(ProducerId(id)).with_producer_epoch(0),
            ),
            Err(e) => {
                tracing::warn!("Kafka: cannot persist the producer id counter: {e}");
                reply(
                    &header,
                    &resp.with_error_code(ResponseError::KafkaStorageError.code()),
                )
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_never_repeat_across_reloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("producer-ids");
        let mut a = ProducerIds::load(path.clone());
        let first = a.allocate().expect("id");
        let second = a.allocate().expect("id");
        assert!(second > first);
        let mut b = ProducerIds::load(path);
        assert!(b.allocate().expect("id") > second);
    }
}
