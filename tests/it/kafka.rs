//! The Kafka face: kcat and kafka-python against the `kafka listening on` address, and raw
//! frames that must close the connection without hurting the server.

use crate::common::{kafka_clients as clients, kcat_with_input, python, TestServer};
use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

/// Runs kcat with a hard time limit; returns stdout + stderr.
fn kcat(args: &[&str]) -> String {
    let out = Command::new("timeout")
        .arg("30")
        .arg("kcat")
        .args(args)
        .output()
        .expect("kcat (apt-get install kcat)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A request frame with a kafka-protocol body.
fn frame<T: Encodable>(key: i16, version: i16, correlation_id: i32, body: &T) -> Vec<u8> {
    frame_with_body_version(key, version, correlation_id, body, version)
}

/// A request frame whose header claims `version` while the body is encoded at
/// `body_version` (for versions the crate cannot encode; the server must not get that far).
fn frame_with_body_version<T: Encodable>(
    key: i16,
    version: i16,
    correlation_id: i32,
    body: &T,
    body_version: i16,
) -> Vec<u8> {
    let mut out = BytesMut::new();
    out.put_i32(0);
    let header_version = ApiKey::try_from(key)
        .map(|k| k.request_header_version(version))
        .unwrap_or(1);
    RequestHeader::default()
        .with_request_api_key(key)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("it")))
        .encode(&mut out, header_version)
        .expect("header");
    body.encode(&mut out, body_version).expect("body");
    let n = (out.len() - 4) as i32;
    out[..4].copy_from_slice(&n.to_be_bytes());
    out.to_vec()
}

/// Metadata v1 whose topics array claims 0x7fffffff entries in a 14-byte frame: the
/// decoder must not reserve memory for the claimed count (it used to abort the server).
fn count_bomb() -> Vec<u8> {
    let mut f = frame(
        3,
        1,
        1,
        &kafka_protocol::messages::MetadataRequest::default(),
    );
    // A v1 body is just the topics array: its int32 count is the frame's last 4 bytes.
    let n = f.len();
    f[n - 4..].copy_from_slice(&i32::MAX.to_be_bytes());
    f
}

/// The flexible form: Metadata v12 whose compact topics array claims u32::MAX - 1 entries.
fn compact_count_bomb() -> Vec<u8> {
    let mut f = frame(
        3,
        12,
        1,
        &kafka_protocol::messages::MetadataRequest::default(),
    );
    // The v12 body is topics, two booleans and an empty tag buffer: 4 bytes.
    f.truncate(f.len() - 4);
    f.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    let n = (f.len() - 4) as i32;
    f[..4].copy_from_slice(&n.to_be_bytes());
    f
}

fn connect(s: &TestServer) -> TcpStream {
    let c = TcpStream::connect(s.kafka_addr.expect("kafka")).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    c
}

/// Reads one response frame: (correlation_id, rest).
fn read_response(c: &mut TcpStream) -> (i32, Vec<u8>) {
    let mut size = [0u8; 4];
    c.read_exact(&mut size).expect("response size");
    let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
    c.read_exact(&mut body).expect("response body");
    let corr = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
    (corr, body[4..].to_vec())
}

/// ApiVersions v3 on `c`, decoded.
fn api_versions(c: &mut TcpStream, corr: i32) -> ApiVersionsResponse {
    c.write_all(&frame(18, 3, corr, &ApiVersionsRequest::default()))
        .expect("write");
    let (got, body) = read_response(c);
    assert_eq!(got, corr);
    ApiVersionsResponse::decode(&mut bytes::Bytes::from(body), 3).expect("decode")
}

/// True when the server closed `c` (EOF or reset) before the read timeout.
fn closed(c: &mut TcpStream) -> bool {
    let mut b = [0u8; 64];
    match c.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn kcat_lists_broker_and_topic_created_by_kafka_python() {
    let s = TestServer::start();
    let out = python(
        r#"
import sys
from kafka.admin import KafkaAdminClient, NewTopic
a = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=10000)
a.create_topics([NewTopic("orders", num_partitions=3, replication_factor=1)])
try:
    a.create_topics([NewTopic("orders", num_partitions=3, replication_factor=1)])
except Exception as e:
    print("second:", type(e).__name__)
try:
    a.create_topics([NewTopic("zero", num_partitions=0, replication_factor=1)])
except Exception as e:
    print("zero:", type(e).__name__)
print("topics:", sorted(a.list_topics()))
a.close()
"#,
        &s.kafka(),
    );
    assert!(out.contains("second: TopicAlreadyExistsError"), "{out}");
    assert!(out.contains("zero: InvalidPartitionsError"), "{out}");
    assert!(out.contains("topics: ['orders']"), "{out}");

    let out = kcat(&["-L", "-b", &s.kafka(), "-m", "10"]);
    assert!(
        out.contains(&format!("broker 0 at {} (controller)", s.kafka())),
        "{out}"
    );
    assert!(out.contains("topic \"orders\" with 3 partitions"), "{out}");
    assert!(
        out.contains("partition 2, leader 0, replicas: 0, isrs: 0"),
        "{out}"
    );
}

#[test]
fn kcat_auto_creates_with_num_partitions() {
    let s = TestServer::start_with(&["--num.partitions", "2"]);
    let out = kcat(&["-L", "-b", &s.kafka(), "-t", "auto1", "-m", "10"]);
    assert!(out.contains("topic \"auto1\" with 2 partitions"), "{out}");
    // Kafka's dotted names are CONFIG parameters like any other.
    let out = s.cli(&["CONFIG", "GET", "num.partitions"]);
    assert_eq!(out, "num.partitions\n2\n");
    let out = s.cli(&["CONFIG", "GET", "auto.create.topics.enable"]);
    assert_eq!(out, "auto.create.topics.enable\nyes\n");
}

#[test]
fn kcat_unknown_topic_without_auto_create() {
    let s = TestServer::start_with(&["--auto.create.topics.enable", "no"]);
    let out = kcat(&["-L", "-b", &s.kafka(), "-t", "nope", "-m", "10"]);
    assert!(
        out.contains("topic \"nope\" with 0 partitions: Broker: Unknown topic or partition"),
        "{out}"
    );
    let out = kcat(&["-L", "-b", &s.kafka(), "-m", "10"]);
    assert!(out.contains(" 0 topics:"), "{out}");
}

#[test]
fn garbage_frames_close_the_connection_only() {
    let s = TestServer::start();
    let garbage: Vec<(&str, Vec<u8>)> = vec![
        ("negative size", (-5i32).to_be_bytes().to_vec()),
        ("huge size", i32::MAX.to_be_bytes().to_vec()),
        ("short header", vec![0, 0, 0, 2, 0, 18]),
        (
            "unknown api_key",
            frame_with_body_version(0x7f00, 0, 1, &ApiVersionsRequest::default(), 0),
        ),
        // Produce is a known key this broker does not route yet.
        (
            "unrouted api",
            frame_with_body_version(0, 9, 1, &ApiVersionsRequest::default(), 3),
        ),
        // Metadata v13 is beyond the advertised 0-12.
        (
            "version too new",
            frame_with_body_version(3, 13, 1, &ApiVersionsRequest::default(), 3),
        ),
        ("array count bomb", count_bomb()),
        ("compact array count bomb", compact_count_bomb()),
    ];
    for (what, bytes) in garbage {
        let mut c = connect(&s);
        c.write_all(&bytes).expect("write");
        assert!(closed(&mut c), "{what}: connection left open");
        // The server is fine: a fresh connection negotiates.
        let mut c = connect(&s);
        let r = api_versions(&mut c, 7);
        assert_eq!(r.error_code, 0, "{what}");
    }
    // RESP is unaffected too.
    assert_eq!(s.cli(&["PING"]).trim(), "PONG");
}

#[test]
fn api_versions_too_new_gets_v0_error_then_negotiates() {
    let s = TestServer::start();
    let mut c = connect(&s);
    // A future client's v5 request; v4's body layout stands in for it.
    c.write_all(&frame_with_body_version(
        18,
        5,
        11,
        &ApiVersionsRequest::default(),
        4,
    ))
    .expect("write");
    let (corr, body) = read_response(&mut c);
    assert_eq!(corr, 11);
    // Header v0, body v0 (trap T2): decodes as v0 with error 35 and our range.
    let r = ApiVersionsResponse::decode(&mut bytes::Bytes::from(body), 0).expect("v0");
    assert_eq!(r.error_code, 35);
    assert!(r
        .api_keys
        .iter()
        .any(|k| (k.api_key, k.min_version, k.max_version) == (18, 0, 4)));
    // Same connection, the version the client would retry with.
    let r = api_versions(&mut c, 12);
    assert_eq!(r.error_code, 0);
    let metadata = r
        .api_keys
        .iter()
        .find(|k| k.api_key == 3)
        .expect("metadata");
    assert_eq!((metadata.min_version, metadata.max_version), (0, 12));
}

#[test]
fn kafka_port_minus_one_disables_the_listener() {
    let s = TestServer::start_with(&["--kafka-port", "-1"]);
    assert!(s.kafka_addr.is_none());
    assert_eq!(s.cli(&["PING"]).trim(), "PONG");
}

// ---- the data path: Produce, Fetch, ListOffsets, InitProducerId ----

/// kcat -P with `input` on stdin (keys split at ':').
fn kcat_produce(bootstrap: &str, topic: &str, acks: &str, input: &str) {
    let acks = format!("acks={acks}");
    kcat_with_input(bootstrap, &["-P", "-t", topic, "-K:", "-X", &acks], input);
}

/// Every record of `topic` as `key=value` lines, from the beginning.
fn kcat_consume(bootstrap: &str, topic: &str) -> Vec<String> {
    let out = Command::new("timeout")
        .args(["30", "kcat", "-C", "-b", bootstrap, "-t", topic])
        .args(["-o", "beginning", "-e", "-q", "-f", "%k=%s\n"])
        .output()
        .expect("kcat");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// `kcat -Q` for partition 0 at `ts` (-1 latest, -2 earliest): the offset.
fn kcat_offset(bootstrap: &str, topic: &str, ts: i64) -> i64 {
    let out = kcat(&["-Q", "-b", bootstrap, "-t", &format!("{topic}:0:{ts}")]);
    out.lines()
        .find_map(|l| l.split("offset ").nth(1))
        .and_then(|o| o.trim().parse().ok())
        .unwrap_or_else(|| panic!("kcat -Q: {out}"))
}

/// Metadata v12 for `topic` over a raw connection: its topic_id.
fn topic_id(s: &TestServer, topic: &str) -> uuid::Uuid {
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
    use kafka_protocol::messages::{MetadataRequest, MetadataResponse, TopicName};
    let mut c = connect(s);
    let req = MetadataRequest::default().with_topics(Some(vec![MetadataRequestTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(topic.to_string()))))]));
    c.write_all(&frame(3, 12, 7, &req)).expect("write");
    let (corr, body) = read_response(&mut c);
    assert_eq!(corr, 7);
    // Flexible response header: skip its empty tagged-field section.
    let r =
        MetadataResponse::decode(&mut bytes::Bytes::from(body[1..].to_vec()), 12).expect("decode");
    r.topics[0].topic_id
}

fn lines(n: usize, prefix: &str) -> String {
    (0..n).map(|i| format!("k{i}:{prefix}{i}\n")).collect()
}

fn expected(n: usize, prefix: &str) -> Vec<String> {
    (0..n).map(|i| format!("k{i}={prefix}{i}")).collect()
}

#[test]
fn kcat_produce_each_acks_and_consume_in_order() {
    let s = TestServer::start();
    let b = s.kafka();
    for acks in ["0", "1", "all"] {
        let topic = format!("acks-{acks}");
        kcat_produce(&b, &topic, acks, &lines(50, "v"));
        kcat_produce(&b, &topic, acks, &lines(50, "w"));
        let mut want = expected(50, "v");
        want.extend(expected(50, "w"));
        assert_eq!(kcat_consume(&b, &topic), want, "acks={acks}");
        assert_eq!(kcat_offset(&b, &topic, -2), 0);
        assert_eq!(kcat_offset(&b, &topic, -1), 100);
    }
}

#[test]
fn kafka_python_idempotent_producer_round_trip() {
    let s = TestServer::start();
    let out = clients("kafka-python-round-trip", &s.kafka(), &["kp", "300"]);
    assert!(out.contains("ends 0 300"), "{out}");
}

#[test]
fn confluent_idempotent_every_codec_exactly_once() {
    let s = TestServer::start();
    let out = clients("confluent-compression", &s.kafka(), &["500"]);
    assert!(out.contains("codecs ok"), "{out}");
}

#[test]
fn restart_keeps_records_and_topic_ids() {
    let s = TestServer::start_with(&["--num.partitions", "2"]);
    let b = s.kafka();
    kcat_produce(&b, "keep", "all", &lines(20, "v"));
    let id = topic_id(&s, "keep");
    assert!(!id.is_nil());
    // A clean stop, then a crash: both must keep the data and the id.
    let dir = s.term();
    let s = TestServer::start_in(dir, &["--num.partitions", "2"]);
    assert_eq!(topic_id(&s, "keep"), id);
    let mut got = kcat_consume(&s.kafka(), "keep");
    got.sort();
    let mut want = expected(20, "v");
    want.sort();
    assert_eq!(got, want);
    let dir = s.kill9();
    let s = TestServer::start_in(dir, &[]);
    assert_eq!(topic_id(&s, "keep"), id);
    assert_eq!(kcat_consume(&s.kafka(), "keep").len(), 20);
    // Producer ids never repeat and idempotent producers keep working after restarts.
    let out = clients("kafka-python-round-trip", &s.kafka(), &["kp2", "10"]);
    assert!(out.contains("ends 0 10"), "{out}");
}

#[test]
fn sigkill_with_flush_always_keeps_every_acknowledged_offset() {
    let args = ["--kafka-flush", "always"];
    let s = TestServer::start_with(&args);
    let b = s.kafka();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/kafka_clients.py");
    let mut producer = Command::new("timeout")
        .args(["60", "python3", script, "produce-forever", &b, "crash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3");
    std::thread::sleep(Duration::from_millis(2500));
    let dir = s.kill9();
    let mut out = String::new();
    producer
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    let _ = producer.wait();
    let acked: Vec<(i64, String)> = out
        .lines()
        .filter_map(|l| {
            let (o, v) = l.split_once(' ')?;
            Some((o.parse().ok()?, v.to_string()))
        })
        .collect();
    assert!(acked.len() > 10, "too few acknowledged: {}", acked.len());
    let s = TestServer::start_in(dir, &args);
    let n = acked.len().to_string();
    let read = clients("consume-all", &s.kafka(), &["crash", &n]);
    let read: std::collections::HashMap<i64, String> = read
        .lines()
        .filter_map(|l| {
            let (o, v) = l.split_once(' ')?;
            Some((o.parse().ok()?, v.to_string()))
        })
        .collect();
    for (offset, value) in &acked {
        assert_eq!(
            read.get(offset),
            Some(value),
            "acknowledged offset {offset}"
        );
    }
}

#[test]
fn bad_crc_batch_gets_corrupt_message_and_is_not_stored() {
    let s = TestServer::start();
    let good = record_batch(b"value");
    let mut bad = good.clone();
    let last = bad.len() - 2;
    bad[last] ^= 0xff;
    let produce = |records: Vec<u8>, corr: i32| -> i16 {
        produce_raw(&mut connect(&s), "crc", vec![(0, records)], corr)[0]
    };
    assert_eq!(produce(bad, 1), 2, "CORRUPT_MESSAGE");
    assert_eq!(kcat_offset(&s.kafka(), "crc", -1), 0);
    assert_eq!(produce(good, 2), 0);
    assert_eq!(kcat_offset(&s.kafka(), "crc", -1), 1);
}

#[test]
fn a_redis_only_data_dir_gets_no_topics_directory() {
    let s = TestServer::start();
    assert_eq!(s.cli(&["SET", "k", "v"]).trim(), "OK");
    let dir = s.term();
    // The offsets log is created at the first commit, topic dirs at the first topic.
    assert!(!dir.path().join("topics").exists());
}

// ---- DescribeConfigs ----

#[test]
fn describe_configs_through_confluent_and_kafka_python() {
    let s = TestServer::start_with(&["--log.retention.ms", "3600000", "--num.partitions", "2"]);
    let out = clients("describe-configs", &s.kafka(), &["cfg"]);
    let has = |line: &str| out.lines().any(|l| l == line);
    // Topic configs: Kafka's names, Rill's values; a parameter set away from its default is
    // STATIC_BROKER_CONFIG, the rest DEFAULT_CONFIG.
    for line in [
        "ck topic retention.ms=3600000 STATIC_BROKER_CONFIG rw",
        "ck topic cleanup.policy=delete DEFAULT_CONFIG rw",
        "ck topic retention.bytes=-1 DEFAULT_CONFIG rw",
        "ck topic segment.bytes=67108864 DEFAULT_CONFIG rw",
        "ck topic segment.ms=604800000 DEFAULT_CONFIG rw",
        "ck topic max.message.bytes=1048588 DEFAULT_CONFIG rw",
        "ck topic message.timestamp.type=CreateTime DEFAULT_CONFIG rw",
        "ck topic compression.type=producer DEFAULT_CONFIG rw",
        "ck topic min.insync.replicas=1 DEFAULT_CONFIG rw",
        "ck broker num.partitions=2 STATIC_BROKER_CONFIG rw",
        "ck broker log.retention.ms=3600000 STATIC_BROKER_CONFIG ro",
        "ck broker log.segment.bytes=67108864 DEFAULT_CONFIG ro",
        "ck broker auto.create.topics.enable=true DEFAULT_CONFIG rw",
        "ck broker group.initial.rebalance.delay.ms=0 DEFAULT_CONFIG rw",
        "ck topic error UNKNOWN_TOPIC_OR_PART Topic 'missing-cfg' does not exist",
        // kafka-python (v4, flexible) adds config_type.
        "kp topic retention.ms=3600000 STATIC_BROKER_CONFIG LONG rw",
        "kp topic cleanup.policy=delete DEFAULT_CONFIG LIST rw",
        "kp topic segment.bytes=67108864 DEFAULT_CONFIG INT rw",
        "kp keys ['retention.ms']",
        "kp synonyms [('log.retention.ms', 'STATIC_BROKER_CONFIG')]",
    ] {
        assert!(has(line), "missing {line:?} in:\n{out}");
    }
    assert_eq!(
        out.lines().filter(|l| l.starts_with("kp topic ")).count(),
        out.lines()
            .filter(|l| l.starts_with("ck topic ") && !l.contains(" error "))
            .count(),
        "{out}"
    );
}

#[test]
fn describe_configs_bad_resources_get_per_resource_errors() {
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
    let s = TestServer::start();
    let resource = |t: i8, name: &'static str| {
        DescribeConfigsResource::default()
            .with_resource_type(t)
            .with_resource_name(StrBytes::from_static_str(name))
            .with_configuration_keys(Some(vec![StrBytes::from_static_str("num.partitions")]))
    };
    let req = DescribeConfigsRequest::default().with_resources(vec![
        resource(4, "0"),
        resource(4, ""),
        resource(4, "7"),
        resource(8, "0"),
        resource(99, "x"),
        resource(2, "bad/name"),
    ]);
    let mut c = connect(&s);
    c.write_all(&frame(32, 1, 5, &req)).expect("write");
    let (corr, body) = read_response(&mut c);
    assert_eq!(corr, 5);
    let r = DescribeConfigsResponse::decode(&mut bytes::Bytes::from(body), 1).expect("decode");
    let codes: Vec<i16> = r.results.iter().map(|x| x.error_code).collect();
    // NONE, NONE (no dynamic defaults), INVALID_REQUEST x3, INVALID_TOPIC_EXCEPTION.
    assert_eq!(codes, [0, 0, 42, 42, 42, 17]);
    // configuration_keys is honoured.
    let names: Vec<&str> = r.results[0]
        .configs
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["num.partitions"]);
    assert_eq!(r.results[0].configs[0].value.as_deref(), Some("1"));
    assert!(r.results[1].configs.is_empty());
    assert!(r.results[2]
        .error_message
        .as_deref()
        .is_some_and(|m| m.contains("broker id")));
    // The connection keeps serving.
    assert_eq!(api_versions(&mut c, 6).error_code, 0);
}

// ---- ListOffsets MAX_TIMESTAMP ----

#[test]
fn list_offsets_max_timestamp_through_confluent_and_kafka_python() {
    let s = TestServer::start();
    let out = clients("max-timestamp", &s.kafka(), &["maxts"]);
    for line in [
        // Kafka answers -1/-1 for a partition without records.
        "ck empty max_timestamp -1 -1",
        "kp empty max_timestamp -1 -1",
        // The first record holding the largest timestamp, not the last or the latest.
        "ck filled max_timestamp 1 5000",
        "kp filled max_timestamp 1 5000",
        "ck filled latest 6 -1",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing {line:?} in:\n{out}"
        );
    }
}

// ---- Produce validation and bad input ----

/// One uncompressed producer batch holding one record with key `k` and `value`.
fn record_batch(value: &[u8]) -> Vec<u8> {
    use rill_storage::log::batch::{encode_batch, NewRecord};
    encode_batch(&[NewRecord {
        timestamp: 1_700_000_000_000,
        key: Some(b"k"),
        value: Some(value),
    }])
}

/// Produce v9 (acks=all) of `records` per partition of `topic` on `c`: the per-partition
/// error codes, in request order.
fn produce_raw(c: &mut TcpStream, topic: &str, parts: Vec<(i32, Vec<u8>)>, corr: i32) -> Vec<i16> {
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::{ProduceRequest, ProduceResponse, TopicName};
    let partitions = parts
        .into_iter()
        .map(|(index, records)| {
            PartitionProduceData::default()
                .with_index(index)
                .with_records(Some(bytes::Bytes::from(records)))
        })
        .collect();
    let req = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partition_data(partitions)]);
    c.write_all(&frame(0, 9, corr, &req)).expect("write");
    let (got, body) = read_response(c);
    assert_eq!(got, corr);
    // Flexible response header: skip its empty tagged-field section.
    let r =
        ProduceResponse::decode(&mut bytes::Bytes::from(body[1..].to_vec()), 9).expect("decode");
    r.responses[0]
        .partition_responses
        .iter()
        .map(|p| p.error_code)
        .collect()
}

#[test]
fn malformed_batches_get_per_partition_errors_and_nothing_is_stored() {
    let s = TestServer::start_with(&["--num.partitions", "2", "--message.max.bytes", "2000"]);
    let b = s.kafka();
    let mut c = connect(&s);
    assert_eq!(
        produce_raw(&mut c, "bad", vec![(0, record_batch(b"first"))], 1),
        [0]
    );

    let good = record_batch(b"x");
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };
    // CRC-32C recomputed so that only the field under test is wrong.
    let recrc = |v: &mut Vec<u8>| rill_storage::log::batch::update_crc(v);
    let cases: Vec<(&str, Vec<u8>, i16)> = vec![
        // Kafka's ProduceRequest.validateRecords: v3+ carries magic 2 only (INVALID_RECORD).
        ("magic 1", with(&|v| v[16] = 1), 87),
        ("magic 0", with(&|v| v[16] = 0), 87),
        // batchLength beyond the buffer: no whole batch (INVALID_RECORD in Kafka too).
        ("truncated", good[..good.len() - 3].to_vec(), 87),
        (
            "length too big",
            with(&|v| v[8..12].copy_from_slice(&1000i32.to_be_bytes())),
            87,
        ),
        // batchLength short of the buffer: the CRC no longer matches (CORRUPT_MESSAGE).
        (
            "length too small",
            with(&|v| {
                let n = i32::from_be_bytes([v[8], v[9], v[10], v[11]]) - 4;
                v[8..12].copy_from_slice(&n.to_be_bytes());
            }),
            2,
        ),
        (
            "length below any header",
            with(&|v| v[8..12].copy_from_slice(&10i32.to_be_bytes())),
            2,
        ),
        ("bad crc", with(&|v| v[30] ^= 1), 2),
        // Counts (LogValidator.validateBatch): INVALID_RECORD.
        (
            "records_count 0",
            with(&|v| {
                v[57..61].copy_from_slice(&0i32.to_be_bytes());
                recrc(v);
            }),
            87,
        ),
        (
            "last_offset_delta != count - 1",
            with(&|v| {
                v[23..27].copy_from_slice(&3i32.to_be_bytes());
                recrc(v);
            }),
            87,
        ),
        ("two batches", [good.clone(), good.clone()].concat(), 87),
        ("over max.message.bytes", record_batch(&[b'z'; 2100]), 10),
    ];
    for (i, (what, records, code)) in cases.into_iter().enumerate() {
        let corr = 10 + i as i32;
        // Partition 1 gets a good batch in the same request: errors are per partition.
        let got = produce_raw(&mut c, "bad", vec![(0, records), (1, good.clone())], corr);
        assert_eq!(got, [code, 0], "{what}");
    }
    // Same connection still serves; partition 0 holds only the good batches, intact.
    assert_eq!(
        produce_raw(&mut c, "bad", vec![(0, record_batch(b"last"))], 99),
        [0]
    );
    let out = Command::new("timeout")
        .args(["30", "kcat", "-C", "-b", &b, "-t", "bad", "-p", "0"])
        .args(["-o", "beginning", "-e", "-q", "-f", "%o:%s\n"])
        .output()
        .expect("kcat");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0:first\n1:last\n");
    assert_eq!(kcat_offset(&b, "bad", -1), 2);
    let p1 = kcat(&["-Q", "-b", &b, "-t", "bad:1:-1"]);
    assert!(p1.contains("offset 11"), "{p1}");
}

#[test]
fn unknown_key_and_unsupported_version_close_after_earlier_answers() {
    use kafka_protocol::messages::MetadataRequest;
    let s = TestServer::start();
    // Kafka closes the connection for both (SocketServer: "not enabled" / unknown key);
    // only ApiVersions answers a version it does not know (trap T2). Requests pipelined
    // before the bad one are answered first.
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "unknown api_key 1000",
            frame_with_body_version(1000, 0, 2, &ApiVersionsRequest::default(), 0),
        ),
        (
            "Metadata v13",
            frame_with_body_version(3, 13, 2, &MetadataRequest::default(), 12),
        ),
        (
            "Fetch v3 (below min 4)",
            frame_with_body_version(1, 3, 2, &MetadataRequest::default(), 1),
        ),
        (
            "DescribeConfigs v0",
            frame_with_body_version(32, 0, 2, &ApiVersionsRequest::default(), 0),
        ),
    ];
    for (what, bad) in cases {
        let mut c = connect(&s);
        let mut both = frame(18, 3, 1, &ApiVersionsRequest::default());
        both.extend_from_slice(&bad);
        c.write_all(&both).expect("write");
        let (corr, _) = read_response(&mut c);
        assert_eq!(corr, 1, "{what}");
        assert!(closed(&mut c), "{what}: connection left open");
    }
    let mut c = connect(&s);
    assert_eq!(api_versions(&mut c, 3).error_code, 0);
}

// ---- Transactions are refused at once ----

/// The seconds, error name and text of `client`'s line from `kafka_clients.py transactional`.
fn transactional_failure<'a>(out: &'a str, client: &str) -> (f64, &'a str) {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix(client).and_then(|l| l.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {client} line in:\n{out}"));
    let (secs, rest) = line.split_once(' ').expect("seconds");
    (
        secs.parse()
            .unwrap_or_else(|_| panic!("{client} did not fail: {line}")),
        rest,
    )
}

#[test]
fn transactional_producers_fail_at_once_with_a_clear_error() {
    let s = TestServer::start();
    let out = clients("transactional", &s.kafka(), &[]);
    // Each client had 60 s; a retriable answer would use all of it.
    let (secs, rest) = transactional_failure(&out, "ck");
    assert!(secs < 10.0, "confluent-kafka took {secs} s: {out}");
    assert!(
        rest.starts_with("TRANSACTIONAL_ID_AUTHORIZATION_FAILED fatal=True "),
        "{out}"
    );
    assert!(
        rest.contains("Rill does not support Kafka transactions"),
        "{out}"
    );
    // kafka-python shows the error class only (no broker message on this path).
    let (secs, rest) = transactional_failure(&out, "kp");
    assert!(secs < 10.0, "kafka-python took {secs} s: {out}");
    assert!(
        rest.starts_with("TransactionalIdAuthorizationFailedError "),
        "{out}"
    );
    // Group coordinators are still found: a group consumer works on the same broker.
    let out = clients("kafka-python-group", &s.kafka(), &["txg", "g1", "0", "3"]);
    assert!(out.contains("group read 3"), "{out}");
}

// ---- log.message.timestamp.type ----

#[test]
fn log_append_time_is_what_every_client_sees() {
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
    let s = TestServer::start_with(&["--log.message.timestamp.type", "LogAppendTime"]);
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64
    };
    let before = now();
    // The producer stamps 1000 and 2000; the broker's append time replaces both.
    let out = clients("timestamp-types", &s.kafka(), &["lat"]);
    let after = now();
    let seen: Vec<(&str, &str, i64)> = out
        .lines()
        .filter_map(|l| {
            let mut w = l.split(' ');
            Some((w.next()?, w.next()?, w.next()?.parse().ok()?))
        })
        .collect();
    let clients_seen: Vec<&str> = seen.iter().map(|x| x.0).collect();
    assert_eq!(
        clients_seen,
        ["ck-delivery", "ck-delivery", "ck", "ck", "kp", "kp"],
        "{out}"
    );
    for (client, kind, ts) in &seen {
        assert_eq!(*kind, "LogAppendTime", "{client}: {out}");
        assert!(
            (before..=after).contains(ts),
            "{client}: {ts} not in {before}..{after}"
        );
    }
    // kcat reads the same broker timestamps (CRC recomputed, batch served as stored).
    let kc = kcat(&[
        "-C",
        "-b",
        &s.kafka(),
        "-t",
        "lat",
        "-o",
        "beginning",
        "-e",
        "-q",
        "-f",
        "%T\n",
    ]);
    let kc: Vec<i64> = kc.lines().filter_map(|l| l.trim().parse().ok()).collect();
    assert_eq!(kc, [seen[2].2, seen[3].2]);

    // DescribeConfigs reports it, as set on the broker.
    let req =
        DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_static_str("lat"))
            .with_configuration_keys(Some(vec![StrBytes::from_static_str(
                "message.timestamp.type",
            )]))]);
    let mut c = connect(&s);
    c.write_all(&frame(32, 1, 3, &req)).expect("write");
    let (_, body) = read_response(&mut c);
    let r = DescribeConfigsResponse::decode(&mut bytes::Bytes::from(body), 1).expect("decode");
    let e = &r.results[0].configs[0];
    assert_eq!(
        (e.value.as_deref(), e.config_source),
        (Some("LogAppendTime"), 4)
    );
}

/// TFETCH's values from offset 0 (the log as the RESP face reads it).
fn tfetch_values(s: &TestServer, topic: &str) -> Vec<String> {
    let raw: Vec<(i64, Option<String>, String, i64)> = redis::cmd("TFETCH")
        .arg(topic)
        .arg(0)
        .arg(0)
        .arg("COUNT")
        .arg(1000)
        .query(&mut s.conn())
        .expect("TFETCH");
    raw.into_iter().map(|(_, _, v, _)| v).collect()
}

/// After SIGKILL: a torn batch at the end of the segment is cut and its indexes rebuilt,
/// committed offsets are intact, new records continue the offsets; a corrupt byte in the
/// middle of the segment cuts it at that batch with a logged error.
#[test]
fn restart_repairs_torn_tail_and_corruption_and_keeps_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logfile = dir.path().join("rill.log");
    let logarg = logfile.to_string_lossy().into_owned();
    let args = ["--kafka-flush", "always", "--logfile", logarg.as_str()];
    let s = TestServer::start_in(dir, &args);
    assert_eq!(s.cli(&["TCREATE", "rc"]), "OK\n");
    let values: Vec<String> = (0..30).map(|i| format!("v{i}")).collect();
    for chunk in values.chunks(10) {
        // One batch per TPRODUCE.
        let mut cmd = redis::cmd("TPRODUCE");
        cmd.arg("rc");
        for v in chunk {
            cmd.arg(v);
        }
        let _: i64 = cmd.query(&mut s.conn()).expect("TPRODUCE");
    }
    let out = clients("commit", &s.kafka(), &["g", "rc", "20"]);
    assert_eq!(out.trim(), "20");
    let dir = s.kill9();
    let part = dir.path().join("topics/rc-0");
    let seg = part.join(format!("{:020}.log", 0));
    let good = std::fs::read(&seg).expect("segment");
    // Half a batch at the end (its header claims more bytes than follow), no indexes.
    let mut torn = good.clone();
    torn.extend_from_slice(&good[..40]);
    std::fs::write(&seg, &torn).expect("tear");
    for ext in ["index", "timeindex"] {
        std::fs::remove_file(part.join(format!("{:020}.{ext}", 0))).expect("rm index");
    }

    let s = TestServer::start_in(dir, &args);
    assert_eq!(tfetch_values(&s, "rc"), values);
    assert_eq!(
        std::fs::metadata(&seg).expect("seg").len(),
        good.len() as u64
    );
    for ext in ["index", "timeindex"] {
        assert!(
            part.join(format!("{:020}.{ext}", 0)).exists(),
            "{ext} rebuilt"
        );
    }
    assert_eq!(s.cli(&["TCOMMITTED", "g", "rc", "0"]), "20\n");
    assert_eq!(s.cli(&["TPRODUCE", "rc", "v30"]), "30\n");
    let log = std::fs::read_to_string(&logfile).expect("log");
    assert!(log.contains("cut a torn write at byte"), "{log}");

    // A flipped byte inside the second batch's records: its CRC fails, the segment is cut
    // at that batch, and only the first batch survives.
    let dir = s.kill9();
    let mut bytes = std::fs::read(&seg).expect("segment");
    let first = 12 + i32::from_be_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    let second = 12 + i32::from_be_bytes(bytes[first + 8..first + 12].try_into().expect("4"));
    bytes[first + second as usize - 3] ^= 0xff;
    std::fs::write(&seg, &bytes).expect("corrupt");
    let s = TestServer::start_in(dir, &args);
    assert_eq!(tfetch_values(&s, "rc"), values[..10]);
    assert_eq!(std::fs::metadata(&seg).expect("seg").len(), first as u64);
    let offsets: Vec<i64> = redis::cmd("TOFFSETS")
        .arg("rc")
        .arg(0)
        .query(&mut s.conn())
        .expect("TOFFSETS");
    assert_eq!(offsets, [0, 10]);
    let log = std::fs::read_to_string(&logfile).expect("log");
    let line = log
        .lines()
        .find(|l| l.contains("is corrupt at byte"))
        .unwrap_or_else(|| panic!("no corruption error logged: {log}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains(&format!("at byte {first}")), "{line}");
}
