//! # Layout
//! The Kafka face of Rill: a single-node broker (node 0) speaking the Kafka wire protocol.
//! - [`registry`]: the topic registry (name -> topic_id, partitions), auto-create rules.
//! - [`routes`]: the static route table `(ApiKey, min, max, handler)`; ApiVersions is
//!   generated from it.
//! - [`conn`]: the Kafka listener's accept loop and the per-connection task (frames in,
//!   responses out in request order).
//! - One file per API family: [`api_versions`], [`metadata`] (Metadata, DescribeCluster),
//!   [`topics`] (CreateTopics, DeleteTopics), [`coordinator`] (FindCoordinator),
//!   [`produce`], [`fetch`], [`list_offsets`], [`producer_id`] (InitProducerId),
//!   [`describe_configs`],
//!   [`group_api`] (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
//!   ListGroups, DescribeGroups) over the pure state machine in [`group`].
//! - [`producer_state`]: idempotent-producer de-duplication per partition.
//! - [`offsets_log`]: committed offsets as records in the internal partition
//!   `__consumer_offsets-0`, replayed into the coordinator's `OffsetStore` on start.
//!
//! Topic partitions are `rill_storage::log::Partition`s in `<dir>/topics/<topic>-<n>/`,
//! opened by [`start`] and closed by [`Broker::close`].
//!
//! Framing and the request header live in the sans-io `rill_protocol::kafka`; message
//! bodies come from the `kafka-protocol` crate.

pub mod api_versions;
pub mod conn;
pub mod coordinator;
pub mod describe_configs;
pub mod fetch;
pub mod group;
pub mod group_api;
pub mod list_offsets;
pub mod metadata;
pub mod offsets_log;
pub mod produce;
pub mod producer_id;
pub mod producer_state;
pub mod registry;
pub mod routes;
pub mod topics;

use crate::shared::Shared;
use parking_lot::Mutex;
use producer_id::ProducerIds;
use registry::Registry;
use rill_storage::log::{FlushPolicy, LogConfig};
use std::net::SocketAddr;
use std::sync::Arc;

/// This broker's node id; Rill is a single-node cluster.
pub const NODE_ID: i32 = 0;

/// A stable cluster id (Kafka's are 22 characters of base64url, as this one).
pub const CLUSTER_ID: &str = "RillKafkaCluster000000";

/// Broker state shared by every Kafka connection.
pub struct Broker {
    pub shared: Arc<Shared>,
    pub registry: Mutex<Registry>,
    pub producer_ids: Mutex<ProducerIds>,
    /// The classic group coordinator and committed offsets.
    pub groups: Mutex<group::Coordinator>,
    /// host and port clients are told to connect to (Metadata, FindCoordinator).
    advertised: Mutex<(String, i32)>,
}

impl Broker {
    /// A broker over `shared`; the first one created is the one RESP topic commands use.
    pub fn new(shared: Arc<Shared>) -> Arc<Broker> {
        let broker = Arc::new(Broker {
            shared: shared.clone(),
            registry: Mutex::new(Registry::default()),
            producer_ids: Mutex::new(ProducerIds::default()),
            groups: Mutex::new(group::Coordinator::default()),
            advertised: Mutex::new(("127.0.0.1".to_string(), 9092)),
        });
        // Already set only when a second broker is built over the same Shared (tests).
        let _ = shared.broker.set(Arc::downgrade(&broker));
        broker
    }

    /// The advertised (host, port).
    pub fn advertised(&self) -> (String, i32) {
        self.advertised.lock().clone()
    }

    /// Sets the advertised address from `kafka-advertised-listener` (`host:port`, or just
    /// `host` to keep the bound port) or else from the first bound address; a wildcard
    /// bind is advertised as 127.0.0.1, which is reachable at least locally.
    pub fn set_advertised(&self, configured: &str, bound: SocketAddr) {
        let configured = configured.trim();
        let default_host = if bound.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            bound.ip().to_string()
        };
        let port = i32::from(bound.port());
        let adv = if configured.is_empty() {
            (default_host, port)
        } else {
            // rsplit so an IPv6 literal in brackets keeps its colons.
            match configured.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(':') => match p.parse::<u16>() {
                    Ok(p) => (h.trim_matches(['[', ']']).to_string(), i32::from(p)),
                    Err(_) => (configured.to_string(), port),
                },
                _ => (configured.to_string(), port),
            }
        };
        *self.advertised.lock() = adv;
    }

    /// `num.partitions`: partitions of an auto-created topic, and of CreateTopics with -1.
    pub fn num_partitions(&self) -> i32 {
        let n = self.shared.config().get_i64("num.partitions");
        i32::try_from(n).unwrap_or(1).max(1)
    }

    /// The partition log settings from `kafka-flush`, `log.segment.bytes`,
    /// `log.retention.ms`, `log.retention.bytes`, `message.max.bytes` and
    /// `log.message.timestamp.type`.
    pub fn log_config(&self) -> LogConfig {
        let config = self.shared.config();
        let flush = match config.get("kafka-flush") {
            "always" => FlushPolicy::Always,
            "no" => FlushPolicy::Os,
            _ => FlushPolicy::EveryMs(1000),
        };
        LogConfig {
            segment_bytes: u64::try_from(config.get_i64("log.segment.bytes")).unwrap_or(1 << 26),
            retention_ms: config.get_i64("log.retention.ms"),
            retention_bytes: config.get_i64("log.retention.bytes"),
            max_message_bytes: usize::try_from(config.get_i64("message.max.bytes"))
                .unwrap_or(1_048_588),
            log_append_time: config.get("log.message.timestamp.type") == "LogAppendTime",
            flush,
            ..LogConfig::default()
        }
    }

    /// Opens every partition under `<dir>/topics`, the producer id counter, and
    /// `__consumer_offsets-0` if it exists (else it is created at the first commit), whose
    /// records are replayed into the offset store here, before any Kafka client is served.
    pub fn load(&self) -> std::io::Result<()> {
        let root = self.shared.config().dir.join("topics");
        self.registry.lock().load(&root, self.log_config())?;
        let offsets_dir = root.join(format!("{}-0", offsets_log::OFFSETS_TOPIC));
        let mut n = 0;
        let compact_bytes = self.shared.config().get_i64("offsets.topic.segment.bytes");
        self.groups
            .lock()
            .offsets
            .set_compact_bytes(compact_bytes.unsigned_abs());
        if offsets_dir.exists() {
            let (log, records) = offsets_log::OffsetsLog::open(&root, self.log_config())?;
            n = records.len();
            let mut groups = self.groups.lock();
            groups.offsets.load(records);
            groups.offsets.attach(log);
        } else {
            self.groups
                .lock()
                .offsets
                .attach_on_first_commit(root.clone(), self.log_config());
        }
        if n > 0 {
            tracing::info!("Kafka: replayed {n} offset commit records");
        }
        *self.producer_ids.lock() = ProducerIds::load(root.join("producer-ids"));
        Ok(())
    }

    /// The periodic half of the flush policy and retention (from the server cron). Each
    /// partition lock is held for its own flush only.
    pub fn cron(&self, now_ms: i64, retention: bool) {
        let logs = self.registry.lock().all_logs();
        for l in logs {
            let mut state = l.state.lock();
            let Some(log) = state.log.as_mut() else {
                continue;
            };
            if let Err(e) = log.flush_if_due(now_ms) {
                tracing::warn!("Kafka: log flush: {e}");
            }
            if retention {
                log.apply_retention(now_ms);
            }
        }
        let compact_bytes = self.shared.config().get_i64("offsets.topic.segment.bytes");
        let mut groups = self.groups.lock();
        groups
            .offsets
            .set_compact_bytes(compact_bytes.unsigned_abs());
        groups.offsets.flush_if_due(now_ms);
    }

    /// Closes every partition cleanly (shutdown): sealed segments, checkpoints and the
    /// clean-shutdown marker. Later appends and fetches get NOT_LEADER_OR_FOLLOWER.
    pub fn close(&self) {
        let logs = self.registry.lock().all_logs();
        for l in logs {
            let log = l.state.lock().log.take();
            if let Some(log) = log {
                if let Err(e) = log.close() {
                    tracing::warn!("Kafka: closing a partition: {e}");
                }
            }
        }
        self.groups.lock().offsets.close();
    }

    /// `auto.create.topics.enable`.
    pub fn auto_create(&self) -> bool {
        self.shared.config().get_bool("auto.create.topics.enable")
    }
}

/// Opens the topic logs, binds the Kafka listeners on the `bind` addresses and
/// `kafka-port` and starts their accept loops. No listener when `kafka-port` is -1; the
/// logs are opened anyway, as the RESP topic commands use them too.
pub fn start(broker: &Arc<Broker>) -> std::io::Result<Vec<SocketAddr>> {
    let config = broker.shared.config();
    broker.load()?;
    let Ok(port) = u16::try_from(config.kafka_port) else {
        return Ok(Vec::new());
    };
    let listeners = crate::listener::bind_addrs(&config.bind, port)?;
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    if let Some(first) = addrs.first() {
        broker.set_advertised(config.get("kafka-advertised-listener"), *first);
    }
    for (l, a) in listeners.into_iter().zip(&addrs) {
        tracing::info!("Kafka listener on {a}");
        tokio::spawn(conn::accept_loop(broker.clone(), l));
    }
    if !addrs.is_empty() {
        tokio::spawn(group_sweep(broker.clone()));
    }
    Ok(addrs)
}

/// Expires group members whose session timed out and ends join phases whose rebalance
/// timeout or initial delay is over. 50 ms keeps the initial delay close to its setting.
async fn group_sweep(broker: Arc<Broker>) {
    let mut every = tokio::time::interval(std::time::Duration::from_millis(50));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => broker.groups.lock().tick(std::time::Instant::now()),
            _ = broker.shared.shutdown.notified() => return,
        }
        if broker
            .shared
            .shutting_down
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker() -> Arc<Broker> {
        let config = crate::config::Config::from_args(&[]).expect("config");
        Broker::new(Shared::new(config))
    }

    #[test]
    fn advertised_rules() {
        let b = broker();
        b.set_advertised("", "0.0.0.0:9093".parse().expect("addr"));
        assert_eq!(b.advertised(), ("127.0.0.1".into(), 9093));
        b.set_advertised("", "10.1.2.3:9093".parse().expect("addr"));
        assert_eq!(b.advertised(), ("10.1.2.3".into(), 9093));
        b.set_advertised("kafka.example:19092", "0.0.0.0:9093".parse().expect("addr"));
        assert_eq!(b.advertised(), ("kafka.example".into(), 19092));
        b.set_advertised("kafka.example", "0.0.0.0:9093".parse().expect("addr"));
        assert_eq!(b.advertised(), ("kafka.example".into(), 9093));
        b.set_advertised("[::1]:9000", "0.0.0.0:9093".parse().expect("addr"));
        assert_eq!(b.advertised(), ("::1".into(), 9000));
    }
}
