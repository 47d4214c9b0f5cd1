//! The RESP face of the topic log (TCREATE, TPRODUCE, TFETCH, TOFFSETS, TCOMMIT,
//! TCOMMITTED, TINFO, INFO topics), crossed with Kafka clients in both directions.

use crate::common::{
    blocked_clients, client_unblock_and_check, kcat_with_input, python, wait_blocked, TestServer,
};
use redis::Value;
use std::io::{Read, Write};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A TFETCH entry: (offset, key, value).
type Entry = (i64, Option<String>, String);

/// TFETCH through the redis crate.
fn tfetch(c: &mut redis::Connection, topic: &str, from: i64) -> Vec<Entry> {
    let raw: Vec<(i64, Option<String>, String, i64)> = redis::cmd("TFETCH")
        .arg(topic)
        .arg(0)
        .arg(from)
        .query(c)
        .expect("TFETCH");
    raw.into_iter().map(|(o, k, v, _)| (o, k, v)).collect()
}

#[test]
fn redis_cli_create_produce_fetch() {
    let s = TestServer::start();
    assert_eq!(s.cli(&["TCREATE", "events", "PARTITIONS", "2"]), "OK\n");
    assert!(s
        .cli(&["TCREATE", "events"])
        .contains("topic already exists"));
    assert_eq!(s.cli(&["TPRODUCE", "events", "a", "b"]), "0\n");
    assert_eq!(s.cli(&["TPRODUCE", "events", "KEY", "k", "c"]).trim(), "2");
    let mut c = s.conn();
    let got = tfetch(&mut c, "events", 0);
    assert_eq!(
        got,
        [
            (0, None, "a".into()),
            (1, None, "b".into()),
            (2, Some("k".into()), "c".into())
        ]
    );
    assert_eq!(tfetch(&mut c, "events", 2).len(), 1);
    let offsets: Vec<i64> = redis::cmd("TOFFSETS")
        .arg("events")
        .arg(0)
        .query(&mut c)
        .expect("TOFFSETS");
    assert_eq!(offsets, [0, 3]);
    assert!(s
        .cli(&["TFETCH", "nope", "0", "0"])
        .contains("no such topic"));
}

#[test]
fn resp_records_read_by_kcat_and_confluent_kafka() {
    let s = TestServer::start();
    let mut c = s.conn();
    let _: () = redis::cmd("TCREATE")
        .arg("r2k")
        .arg("PARTITIONS")
        .arg(1)
        .query(&mut c)
        .expect("TCREATE");
    let first: i64 = redis::cmd("TPRODUCE")
        .arg("r2k")
        .arg("KEY")
        .arg("k1")
        .arg("v1")
        .arg("v2")
        .query(&mut c)
        .expect("TPRODUCE");
    assert_eq!(first, 0);
    let out = Command::new("timeout")
        .args(["30", "kcat", "-C", "-b", &s.kafka(), "-t", "r2k"])
        .args(["-o", "beginning", "-e", "-q", "-f", "%o %k=%s\n"])
        .output()
        .expect("kcat");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "0 k1=v1\n1 k1=v2\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = r#"
import sys
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "r2k-g",
              "auto.offset.reset": "earliest", "enable.auto.commit": False})
c.subscribe(["r2k"])
got = []
import time
deadline = time.time() + 30
while len(got) < 2 and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    got.append("%d %s=%s" % (m.offset(), m.key().decode(), m.value().decode()))
c.close()
print("\n".join(got))
"#;
    assert_eq!(python(code, &s.kafka()), "0 k1=v1\n1 k1=v2\n");
}

#[test]
fn kafka_records_read_by_tfetch() {
    let s = TestServer::start();
    kcat_with_input(&s.kafka(), &["-P", "-t", "k2r", "-K:"], "a:1\nb:2\n");
    // Compressed batches from librdkafka decode too.
    let code = r#"
import sys
from confluent_kafka import Producer
for codec in ["gzip", "zstd"]:
    p = Producer({"bootstrap.servers": sys.argv[1], "compression.type": codec,
                  "linger.ms": 50})
    for i in range(3):
        p.produce("k2r", key=codec, value="%s-%d" % (codec, i), partition=0)
    assert p.flush(30) == 0
print("ok")
"#;
    assert_eq!(python(code, &s.kafka()).trim(), "ok");
    let mut c = s.conn();
    let got = tfetch(&mut c, "k2r", 0);
    let text: Vec<String> = got
        .iter()
        .map(|(o, k, v)| format!("{o} {}={v}", k.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        text,
        [
            "0 a=1",
            "1 b=2",
            "2 gzip=gzip-0",
            "3 gzip=gzip-1",
            "4 gzip=gzip-2",
            "5 zstd=zstd-0",
            "6 zstd=zstd-1",
            "7 zstd=zstd-2"
        ]
    );
    // From the middle of a compressed batch.
    assert_eq!(tfetch(&mut c, "k2r", 6).len(), 2);
}

#[test]
fn tcommit_seen_by_kafka_offset_fetch() {
    let s = TestServer::start();
    assert_eq!(s.cli(&["TCREATE", "cm", "PARTITIONS", "1"]), "OK\n");
    assert_eq!(s.cli(&["TCOMMIT", "g1", "cm", "0", "7"]), "OK\n");
    assert_eq!(s.cli(&["TCOMMITTED", "g1", "cm", "0"]), "7\n");
    let code = r#"
import sys
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers=sys.argv[1], group_id="g1",
                  enable_auto_commit=False, request_timeout_ms=20000)
print(c.committed(TopicPartition("cm", 0)))
c.close()
"#;
    assert_eq!(python(code, &s.kafka()).trim(), "7");
}

#[test]
fn info_topics_fields() {
    let s = TestServer::start();
    assert_eq!(s.cli(&["TCREATE", "i1", "PARTITIONS", "2"]), "OK\n");
    assert_eq!(s.cli(&["TPRODUCE", "i1", "PARTITION", "1", "x"]), "0\n");
    let info = s.cli(&["INFO", "topics"]);
    assert!(
        info.contains("# Topics\r\ntopics:1\r\npartitions:2\r\n"),
        "{info}"
    );
    assert!(
        info.contains("topic_i1_1:leo=1,hw=1,log_start_offset=0,"),
        "{info}"
    );
    assert!(info.contains("topic_i1_0:leo=0,hw=0,"), "{info}");
    let default = s.cli(&["INFO"]);
    assert!(default.contains("# Topics\r\n"), "{default}");
    assert!(!default.contains("topic_i1_1:"), "{default}");
    let tinfo = s.cli(&["TINFO", "i1"]);
    assert!(tinfo.contains("partitions\n2\n"), "{tinfo}");
}

// ---------------------------------------------------------------------------------------
// TFETCH BLOCK

/// How long a test waits for a state it polls for, and the BLOCK of waits expected to be
/// woken: a missed wake-up answers null after this instead of hanging the test.
const WAKE: Duration = Duration::from_secs(20);

/// Runs TFETCH with `args` on its own connection in a thread; the connection exists (and
/// its CLIENT ID is returned) before this returns.
fn spawn_tfetch(s: &TestServer, args: &[&str]) -> (i64, JoinHandle<redis::RedisResult<Value>>) {
    let mut c = s.conn();
    let id: i64 = redis::cmd("CLIENT")
        .arg("ID")
        .query(&mut c)
        .expect("CLIENT ID");
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let t = std::thread::spawn(move || redis::cmd("TFETCH").arg(args).query::<Value>(&mut c));
    (id, t)
}

/// A TFETCH reply as (offset, key, value) entries.
fn entries(v: Value) -> Vec<Entry> {
    let text = |v: &Value| match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Nil => None,
        other => panic!("not a bulk: {other:?}"),
    };
    let Value::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    items
        .iter()
        .map(|e| match e {
            Value::Array(f) => match &f[..] {
                [Value::Int(o), k, v, Value::Int(_)] => (*o, text(k), text(v).expect("value")),
                other => panic!("bad entry {other:?}"),
            },
            other => panic!("bad entry {other:?}"),
        })
        .collect()
}

fn tcreate(c: &mut redis::Connection, topic: &str) {
    let _: () = redis::cmd("TCREATE")
        .arg(topic)
        .arg("PARTITIONS")
        .arg(1)
        .query(c)
        .expect("TCREATE");
}

fn tproduce(c: &mut redis::Connection, topic: &str, values: &[&str]) -> i64 {
    redis::cmd("TPRODUCE")
        .arg(topic)
        .arg(values)
        .query(c)
        .expect("TPRODUCE")
}

#[test]
fn tfetch_block_is_woken_by_tproduce_from_another_client() {
    let s = TestServer::start();
    let mut c = s.conn();
    tcreate(&mut c, "tb");
    let wake = WAKE.as_millis().to_string();
    // Two readers of the same partition are both served, as XREAD readers of one stream.
    let (_, first) = spawn_tfetch(&s, &["tb", "0", "0", "BLOCK", &wake]);
    wait_blocked(&mut c, 1);
    let (_, second) = spawn_tfetch(&s, &["tb", "0", "0", "COUNT", "1", "BLOCK", "0"]);
    wait_blocked(&mut c, 2);
    let list = s.cli(&["CLIENT", "LIST"]);
    let parked = list
        .lines()
        .filter(|l| l.contains("flags=b ") && l.contains("cmd=tfetch"))
        .count();
    assert_eq!(parked, 2, "{list}");
    assert_eq!(tproduce(&mut c, "tb", &["x", "y"]), 0);
    assert_eq!(
        entries(first.join().unwrap().unwrap()),
        [(0, None, "x".into()), (1, None, "y".into())]
    );
    assert_eq!(
        entries(second.join().unwrap().unwrap()),
        [(0, None, "x".into())]
    );
    wait_blocked(&mut c, 0);
}

#[test]
fn tfetch_block_is_woken_by_a_kafka_producer() {
    let s = TestServer::start();
    let mut c = s.conn();
    tcreate(&mut c, "kb");
    let wake = WAKE.as_millis().to_string();
    let (_, reader) = spawn_tfetch(&s, &["kb", "0", "$", "BLOCK", &wake]);
    wait_blocked(&mut c, 1);
    kcat_with_input(&s.kafka(), &["-P", "-t", "kb", "-K:"], "k1:from-kafka\n");
    // Null here would mean the wait timed out: the Kafka append did not wake it.
    assert_eq!(
        entries(reader.join().unwrap().unwrap()),
        [(0, Some("k1".into()), "from-kafka".into())]
    );
    wait_blocked(&mut c, 0);
    // And through confluent-kafka (librdkafka's own batching), woken again.
    let (_, reader) = spawn_tfetch(&s, &["kb", "0", "1", "BLOCK", &wake]);
    wait_blocked(&mut c, 1);
    let code = r#"
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1]})
p.produce("kb", key="k2", value="from-confluent", partition=0)
assert p.flush(30) == 0
print("ok")
"#;
    assert_eq!(python(code, &s.kafka()).trim(), "ok");
    assert_eq!(
        entries(reader.join().unwrap().unwrap()),
        [(1, Some("k2".into()), "from-confluent".into())]
    );
}

#[test]
fn tfetch_block_timeout_answers_null_in_resp2_and_resp3() {
    let s = TestServer::start();
    let mut c = s.conn();
    tcreate(&mut c, "to");
    for (hello, null) in [("", &b"*-1\r\n"[..]), ("HELLO 3\r\n", b"_\r\n")] {
        let mut raw = std::net::TcpStream::connect(s.addr).unwrap();
        raw.set_read_timeout(Some(WAKE)).unwrap();
        let start = Instant::now();
        // HELLO's reply is written before the wait; TFETCH's comes after it.
        raw.write_all(format!("{hello}TFETCH to 0 0 BLOCK 300\r\n").as_bytes())
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.ends_with(null) {
            let n = raw.read(&mut buf).expect("a reply before the read timeout");
            assert!(n > 0, "closed: {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
        let elapsed = start.elapsed();
        if hello.is_empty() {
            assert_eq!(got, null);
        } else {
            assert_eq!(got.first(), Some(&b'%'), "HELLO 3 answers a map first");
        }
        // The deadline is in whole ms: allow for one ms of rounding, not more.
        assert!(elapsed >= Duration::from_millis(299), "{elapsed:?}");
    }
    wait_blocked(&mut c, 0);
}

#[test]
fn tfetch_dollar_sees_only_records_produced_after_the_call() {
    let s = TestServer::start();
    let mut c = s.conn();
    tcreate(&mut c, "dl");
    assert_eq!(tproduce(&mut c, "dl", &["old1", "old2"]), 0);
    let wake = WAKE.as_millis().to_string();
    let (_, reader) = spawn_tfetch(&s, &["dl", "0", "$", "BLOCK", &wake]);
    wait_blocked(&mut c, 1);
    assert_eq!(tproduce(&mut c, "dl", &["new"]), 2);
    assert_eq!(
        entries(reader.join().unwrap().unwrap()),
        [(2, None, "new".into())]
    );
    // Without BLOCK, `$` is the hw: nothing.
    let now: Value = redis::cmd("TFETCH")
        .arg(&["dl", "0", "$"])
        .query(&mut c)
        .unwrap();
    assert_eq!(now, Value::Array(vec![]));
}

#[test]
fn tfetch_block_client_unblock_timeout_and_error() {
    let s = TestServer::start();
    let mut c = s.conn();
    tcreate(&mut c, "ub");
    for mode in ["TIMEOUT", "ERROR"] {
        let (id, reader) = spawn_tfetch(&s, &["ub", "0", "$", "BLOCK", "0"]);
        client_unblock_and_check(&mut c, id, mode, reader);
    }
}

#[test]
fn tfetch_block_disconnected_waiter_leaves_nothing_behind() {
    let s = TestServer::start();
    let mut c = s.conn();
    tcreate(&mut c, "dc");
    let mut raw = std::net::TcpStream::connect(s.addr).unwrap();
    raw.write_all(b"TFETCH dc 0 0 BLOCK 0\r\n").unwrap();
    wait_blocked(&mut c, 1);
    drop(raw);
    wait_blocked(&mut c, 0);
    let info: String = redis::cmd("INFO").arg("clients").query(&mut c).unwrap();
    assert!(info.contains("connected_clients:1\r\n"), "{info}");
    // The partition still takes records and a new reader is served at once.
    assert_eq!(tproduce(&mut c, "dc", &["v"]), 0);
    let got: Value = redis::cmd("TFETCH")
        .arg(&["dc", "0", "0", "BLOCK", "0"])
        .query(&mut c)
        .unwrap();
    assert_eq!(entries(got), [(0, None, "v".into())]);
}

#[test]
fn tfetch_block_in_multi_does_not_block() {
    let s = TestServer::start();
    let mut c = s.conn();
    tcreate(&mut c, "mu");
    c.set_read_timeout(Some(WAKE)).unwrap();
    let v: Value = redis::pipe()
        .atomic()
        .cmd("TFETCH")
        .arg(&["mu", "0", "$", "BLOCK", "0"])
        .cmd("TFETCH")
        .arg(&["mu", "0", "0", "BLOCK", "0"])
        .query(&mut c)
        .unwrap();
    assert_eq!(v, Value::Array(vec![Value::Nil, Value::Nil]));
    assert_eq!(blocked_clients(&mut c), 0);
}
