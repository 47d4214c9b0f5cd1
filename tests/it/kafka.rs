//! The Kafka face: kcat and kafka-python against the `kafka listening on` address, and raw
//! frames that must close the connection without hurting the server.

use crate::common::TestServer;
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

/// Runs a python3 snippet with `sys.argv[1]` = the bootstrap address.
fn python(code: &str, bootstrap: &str) -> String {
    let out = Command::new("timeout")
        .args(["60", "python3", "-c", code, bootstrap])
        .output()
        .expect("python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "python failed: {text}");
    text
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
