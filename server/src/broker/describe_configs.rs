//! DescribeConfigs (api_key 32): a topic's configs and this broker's, under Kafka's names
//! and with the values Rill actually uses.
//!
//! Every topic takes its settings from the broker parameters (there are no per-topic
//! overrides yet), so a topic config's source is the broker parameter it comes from:
//! STATIC_BROKER_CONFIG when that parameter was set away from its default, else
//! DEFAULT_CONFIG, as Kafka's `ConfigHelper` reports a topic without overrides.

use super::registry::valid_topic_name;
use super::routes::{reply, HandlerFuture};
use super::{Broker, NODE_ID};
use crate::config::Config;
use bytes::Bytes;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use rill_protocol::kafka::{decode_body, Header};
use rill_storage::log::{FlushPolicy, LogConfig};
use std::sync::Arc;

/// `ConfigResource.Type` ids.
pub const TOPIC: i8 = 2;
pub const BROKER: i8 = 4;

/// `DescribeConfigsResponse.ConfigSource` ids.
pub const STATIC_BROKER_CONFIG: i8 = 4;
pub const DEFAULT_CONFIG: i8 = 5;

/// `DescribeConfigsResponse.ConfigType` ids (v3+).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigType {
    Boolean = 1,
    String = 2,
    Int = 3,
    Short = 4,
    Long = 5,
    List = 7,
}

/// One described config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    pub value: String,
    pub config_type: ConfigType,
    /// STATIC_BROKER_CONFIG or DEFAULT_CONFIG.
    pub source: i8,
    pub read_only: bool,
    /// The broker config a topic config falls back to (Kafka's TOPIC_CONFIG_SYNONYMS);
    /// for broker configs, the config itself.
    pub synonym: &'static str,
}

/// Where a value comes from: a Rill parameter (set away from its default or not), or
/// nothing configurable (a fixed property of Rill).
fn source_of(config: &Config, params: &[&str]) -> (i8, bool) {
    let mut source = DEFAULT_CONFIG;
    let mut read_only = true;
    for name in params {
        if let Some(p) = crate::config::lookup(name) {
            if config.get(p.name) != p.default {
                source = STATIC_BROKER_CONFIG;
            }
            read_only &= p.flags & crate::config_params::F_IMMUTABLE != 0;
        }
    }
    (source, read_only)
}

/// Kafka's flush.messages and flush.ms for a flush policy (Long.MAX_VALUE = never).
fn flush_settings(flush: FlushPolicy) -> (i64, i64) {
    match flush {
        FlushPolicy::Always => (1, i64::MAX),
        FlushPolicy::EveryMs(ms) => (i64::MAX, i64::try_from(ms).unwrap_or(i64::MAX)),
        FlushPolicy::Os => (i64::MAX, i64::MAX),
    }
}

/// Kafka's name of the log's timestamp type.
fn timestamp_type(log: &LogConfig) -> &'static str {
    if log.log_append_time {
        "LogAppendTime"
    } else {
        "CreateTime"
    }
}

/// A topic's configs: (topic name, broker synonym, type, value, Rill parameters).
pub fn topic_entries(config: &Config, log: &LogConfig) -> Vec<Entry> {
    let (flush_messages, flush_ms) = flush_settings(log.flush);
    let rows: Vec<(&'static str, &'static str, ConfigType, String, &[&str])> = vec![
        (
            "cleanup.policy",
            "log.cleanup.policy",
            ConfigType::List,
            "delete".into(),
            &[],
        ),
        (
            "compression.type",
            "compression.type",
            ConfigType::String,
            "producer".into(),
            &[],
        ),
        (
            "flush.messages",
            "log.flush.interval.messages",
            ConfigType::Long,
            flush_messages.to_string(),
            &["kafka-flush"],
        ),
        (
            "flush.ms",
            "log.flush.interval.ms",
            ConfigType::Long,
            flush_ms.to_string(),
            &["kafka-flush"],
        ),
        (
            "index.interval.bytes",
            "log.index.interval.bytes",
            ConfigType::Int,
            log.index_interval_bytes.to_string(),
            &[],
        ),
        (
            "max.message.bytes",
            "message.max.bytes",
            ConfigType::Int,
            log.max_message_bytes.to_string(),
            &["message.max.bytes"],
        ),
        (
            "message.timestamp.type",
            "log.message.timestamp.type",
            ConfigType::String,
            timestamp_type(log).into(),
            &["log.message.timestamp.type"],
        ),
        (
            "min.insync.replicas",
            "min.insync.replicas",
            ConfigType::Int,
            "1".into(),
            &[],
        ),
        (
            "retention.bytes",
            "log.retention.bytes",
            ConfigType::Long,
            log.retention_bytes.to_string(),
            &["log.retention.bytes"],
        ),
        (
            "retention.ms",
            "log.retention.ms",
            ConfigType::Long,
            log.retention_ms.to_string(),
            &["log.retention.ms"],
        ),
        (
            "segment.bytes",
            "log.segment.bytes",
            ConfigType::Int,
            log.segment_bytes.to_string(),
            &["log.segment.bytes"],
        ),
        (
            "segment.jitter.ms",
            "log.roll.jitter.ms",
            ConfigType::Long,
            "0".into(),
            &[],
        ),
        (
            "segment.ms",
            "log.roll.ms",
            ConfigType::Long,
            log.segment_ms.to_string(),
            &[],
        ),
    ];
    rows.into_iter()
        .map(|(name, synonym, config_type, value, params)| Entry {
            name,
            value,
            config_type,
            source: source_of(config, params).0,
            // Topic configs are per-topic settings in Kafka, alterable in principle.
            read_only: false,
            synonym,
        })
        .collect()
}

/// This broker's configs, Kafka's broker names, values from `config`.
pub fn broker_entries(broker: &Broker, config: &Config) -> Vec<Entry> {
    let log = broker.log_config();
    let (flush_messages, flush_ms) = flush_settings(log.flush);
    let (host, port) = broker.advertised();
    let bool_of = |name: &str| {
        if config.get_bool(name) {
            "true"
        } else {
            "false"
        }
    };
    let log_dirs = config.dir.join("topics").display().to_string();
    let rows: Vec<(&'static str, ConfigType, String, &[&str])> = vec![
        (
            "advertised.listeners",
            ConfigType::String,
            format!("PLAINTEXT://{host}:{port}"),
            &["kafka-advertised-listener"],
        ),
        (
            "auto.create.topics.enable",
            ConfigType::Boolean,
            bool_of("auto.create.topics.enable").into(),
            &["auto.create.topics.enable"],
        ),
        ("broker.id", ConfigType::Int, NODE_ID.to_string(), &[]),
        (
            "compression.type",
            ConfigType::String,
            "producer".into(),
            &[],
        ),
        (
            "default.replication.factor",
            ConfigType::Int,
            "1".into(),
            &[],
        ),
        (
            "group.initial.rebalance.delay.ms",
            ConfigType::Int,
            config.get("group.initial.rebalance.delay.ms").into(),
            &["group.initial.rebalance.delay.ms"],
        ),
        ("log.cleanup.policy", ConfigType::List, "delete".into(), &[]),
        ("log.dirs", ConfigType::String, log_dirs, &["dir"]),
        (
            "log.flush.interval.messages",
            ConfigType::Long,
            flush_messages.to_string(),
            &["kafka-flush"],
        ),
        (
            "log.flush.interval.ms",
            ConfigType::Long,
            flush_ms.to_string(),
            &["kafka-flush"],
        ),
        (
            "log.index.interval.bytes",
            ConfigType::Int,
            log.index_interval_bytes.to_string(),
            &[],
        ),
        (
            "log.message.timestamp.type",
            ConfigType::String,
            timestamp_type(&log).into(),
            &["log.message.timestamp.type"],
        ),
        (
            "log.retention.bytes",
            ConfigType::Long,
            log.retention_bytes.to_string(),
            &["log.retention.bytes"],
        ),
        (
            "log.retention.ms",
            ConfigType::Long,
            log.retention_ms.to_string(),
            &["log.retention.ms"],
        ),
        (
            "log.roll.ms",
            ConfigType::Long,
            log.segment_ms.to_string(),
            &[],
        ),
        (
            "log.segment.bytes",
            ConfigType::Int,
            log.segment_bytes.to_string(),
            &["log.segment.bytes"],
        ),
        (
            "message.max.bytes",
            ConfigType::Int,
            log.max_message_bytes.to_string(),
            &["message.max.bytes"],
        ),
        ("min.insync.replicas", ConfigType::Int, "1".into(), &[]),
        ("node.id", ConfigType::Int, NODE_ID.to_string(), &[]),
        (
            "num.partitions",
            ConfigType::Int,
            broker.num_partitions().to_string(),
            &["num.partitions"],
        ),
        // Rill keeps committed offsets in one partition, never replicated.
        (
            "offsets.topic.num.partitions",
            ConfigType::Int,
            "1".into(),
            &[],
        ),
        (
            "offsets.topic.replication.factor",
            ConfigType::Short,
            "1".into(),
            &[],
        ),
    ];
    rows.into_iter()
        .map(|(name, config_type, value, params)| {
            let (source, read_only) = source_of(config, params);
            Entry {
                name,
                value,
                config_type,
                source,
                // CONFIG SET can change only the mutable parameters; `dir` is mutable
                // but the topic logs stay where they were opened.
                read_only: read_only || name == "log.dirs",
                synonym: name,
            }
        })
        .collect()
}

/// ```text
/// DescribeConfigs v1-4 resources [resource_type, resource_name, configuration_keys],
///   include_synonyms, (v3+) include_documentation
///   -> results [error_code, error_message, resource_type, resource_name,
///      configs [name, value, read_only, config_source, is_sensitive, synonyms,
///      (v3+) config_type, documentation null]]
/// ```
/// TOPIC (2): an unknown topic gets UNKNOWN_TOPIC_OR_PARTITION, an invalid name
/// INVALID_TOPIC_EXCEPTION. BROKER (4): the name must be our node id, or empty for the
/// cluster-wide dynamic defaults (none here); another id gets INVALID_REQUEST, as in
/// Kafka. Other resource types get INVALID_REQUEST. `configuration_keys` null = all;
/// unknown keys are left out.
pub fn describe_configs(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: DescribeConfigsRequest = decode_body(&header, &mut body)?;
        let config = broker.shared.config();
        let mut results = Vec::with_capacity(req.resources.len());
        for r in &req.resources {
            let name = r.resource_name.as_str();
            let described = match r.resource_type {
                TOPIC if !valid_topic_name(name) => Err((
                    ResponseError::InvalidTopicException,
                    format!("Invalid topic name '{name}'"),
                )),
                TOPIC => match broker.topic_logs(name, false) {
                    Some(_) => Ok(topic_entries(&config, &broker.log_config())),
                    None => Err((
                        ResponseError::UnknownTopicOrPartition,
                        format!("Topic '{name}' does not exist"),
                    )),
                },
                BROKER if name.is_empty() => Ok(Vec::new()),
                BROKER => match name.parse::<i32>() {
                    Ok(id) if id == NODE_ID => Ok(broker_entries(&broker, &config)),
                    Ok(id) => Err((
                        ResponseError::InvalidRequest,
                        format!("Unexpected broker id, expected {NODE_ID} or empty string, but received {id}"),
                    )),
                    Err(_) => Err((
                        ResponseError::InvalidRequest,
                        format!("Broker id must be an integer, but it is: {name}"),
                    )),
                },
                t => Err((
                    ResponseError::InvalidRequest,
                    format!("Unsupported resource type: {t}"),
                )),
            };
            let result = DescribeConfigsResult::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone());
            results.push(match described {
                Ok(entries) => result.with_configs(
                    entries
                        .into_iter()
                        .filter(|e| {
                            r.configuration_keys
                                .as_ref()
                                .is_none_or(|keys| keys.iter().any(|k| k.as_str() == e.name))
                        })
                        .map(|e| encode_entry(e, req.include_synonyms))
                        .collect(),
                ),
                Err((error, message)) => result
                    .with_error_code(error.code())
                    .with_error_message(Some(StrBytes::from_string(message))),
            });
        }
        reply(
            &header,
            &DescribeConfigsResponse::default().with_results(results),
        )
    })
}

/// One entry on the wire; its synonym list (when asked for) is the broker config the value
/// comes from, with the same source, as Kafka lists the winning synonym first.
fn encode_entry(e: Entry, include_synonyms: bool) -> DescribeConfigsResourceResult {
    let value = StrBytes::from_string(e.value);
    let synonyms = if include_synonyms {
        vec![DescribeConfigsSynonym::default()
            .with_name(StrBytes::from_static_str(e.synonym))
            .with_value(Some(value.clone()))
            .with_source(e.source)]
    } else {
        Vec::new()
    };
    DescribeConfigsResourceResult::default()
        .with_name(StrBytes::from_static_str(e.name))
        .with_value(Some(value))
        .with_read_only(e.read_only)
        .with_config_source(e.source)
        .with_is_sensitive(false)
        .with_synonyms(synonyms)
        .with_config_type(e.config_type as i8)
        .with_documentation(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::Shared;

    fn broker(args: &[&str]) -> Arc<Broker> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let config = Config::from_args(&args).expect("config");
        Broker::new(Shared::new(config))
    }

    fn find<'a>(entries: &'a [Entry], name: &str) -> &'a Entry {
        entries
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn defaults_are_default_config() {
        let b = broker(&[]);
        let config = b.shared.config();
        let topic = topic_entries(&config, &b.log_config());
        let e = find(&topic, "segment.bytes");
        assert_eq!(
            (e.value.as_str(), e.source, e.read_only),
            ("67108864", DEFAULT_CONFIG, false)
        );
        assert_eq!(find(&topic, "cleanup.policy").value, "delete");
        assert_eq!(find(&topic, "retention.ms").value, "604800000");
        assert_eq!(find(&topic, "max.message.bytes").value, "1048588");
        assert_eq!(find(&topic, "flush.ms").value, "1000");
        let brokers = broker_entries(&b, &config);
        let e = find(&brokers, "num.partitions");
        assert_eq!(
            (e.value.as_str(), e.source, e.read_only),
            ("1", DEFAULT_CONFIG, false)
        );
        let e = find(&brokers, "auto.create.topics.enable");
        assert_eq!(
            (e.value.as_str(), e.config_type),
            ("true", ConfigType::Boolean)
        );
        assert!(find(&brokers, "log.segment.bytes").read_only);
    }

    #[test]
    fn set_params_are_static_broker_config() {
        let b = broker(&[
            "--log.segment.bytes",
            "1048576",
            "--kafka-flush",
            "always",
            "--num.partitions",
            "3",
        ]);
        let config = b.shared.config();
        let topic = topic_entries(&config, &b.log_config());
        let e = find(&topic, "segment.bytes");
        assert_eq!(
            (e.value.as_str(), e.source),
            ("1048576", STATIC_BROKER_CONFIG)
        );
        let e = find(&topic, "flush.messages");
        assert_eq!((e.value.as_str(), e.source), ("1", STATIC_BROKER_CONFIG));
        assert_eq!(find(&topic, "retention.ms").source, DEFAULT_CONFIG);
        let brokers = broker_entries(&b, &config);
        let e = find(&brokers, "num.partitions");
        assert_eq!((e.value.as_str(), e.source), ("3", STATIC_BROKER_CONFIG));
    }
}
