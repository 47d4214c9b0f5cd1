//! The RESP face of the topic log (TCREATE, TPRODUCE, TFETCH, TOFFSETS, TCOMMIT,
//! TCOMMITTED, TINFO, INFO topics), crossed with Kafka clients in both directions.

use crate::common::TestServer;
use std::io::Write;
use std::process::{Command, Stdio};

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

/// Runs a python3 snippet with `sys.argv[1]` = the bootstrap address, bounded in time.
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
    String::from_utf8_lossy(&out.stdout).into_owned()
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
    let mut child = Command::new("timeout")
        .args(["30", "kcat", "-P", "-b", &s.kafka(), "-t", "k2r", "-K:"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("kcat");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a:1\nb:2\n")
        .expect("write");
    assert!(child.wait().expect("wait").success());
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
