//! Pub/sub through the `redis` crate and raw sockets: delivery and order, pattern and
//! keyspace notifications (including expiry), CLIENT LIST counts, and a subscriber that
//! stops reading being disconnected at the pubsub output buffer limit.

use crate::common::*;
use redis::Value;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn q(c: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<Value> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
}

fn int(v: redis::RedisResult<Value>) -> i64 {
    match v.unwrap() {
        Value::Int(n) => n,
        other => panic!("not an int: {other:?}"),
    }
}

fn text(v: redis::RedisResult<Value>) -> String {
    match v.unwrap() {
        Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        Value::VerbatimString { text, .. } => text,
        Value::SimpleString(s) => s,
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn messages_arrive_in_publish_order_with_patterns() {
    let s = TestServer::start();
    let mut p = s.conn();
    let mut sc = s.conn();
    let mut sub = sc.as_pubsub();
    sub.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sub.subscribe("news").unwrap();
    sub.psubscribe("n?ws.*").unwrap();
    assert_eq!(int(q(&mut p, &["PUBSUB", "NUMPAT"])), 1);
    for i in 0..100 {
        assert_eq!(int(q(&mut p, &["PUBLISH", "news", &i.to_string()])), 1);
    }
    assert_eq!(int(q(&mut p, &["PUBLISH", "news.eu", "x"])), 1);
    assert_eq!(int(q(&mut p, &["PUBLISH", "other", "x"])), 0);
    for i in 0..100 {
        let m = sub.get_message().unwrap();
        assert_eq!(m.get_channel_name(), "news");
        assert_eq!(m.get_payload::<String>().unwrap(), i.to_string());
    }
    let m = sub.get_message().unwrap();
    assert!(m.from_pattern());
    assert_eq!(m.get_pattern::<String>().unwrap(), "n?ws.*");
    assert_eq!(m.get_channel_name(), "news.eu");
    let list = text(q(&mut p, &["CLIENT", "LIST", "TYPE", "pubsub"]));
    assert!(list.contains("flags=P"), "{list}");
    assert!(list.contains("sub=1 psub=1 ssub=0"), "{list}");
    drop(sub);
    drop(sc);
    assert!(wait_for(Duration::from_secs(5), || {
        int(q(&mut p, &["PUBSUB", "NUMPAT"])) == 0
            && int(q(&mut p, &["PUBLISH", "news", "gone"])) == 0
    }));
}

#[test]
fn keyspace_notifications_including_expiry() {
    let s = TestServer::start();
    let mut p = s.conn();
    assert_eq!(
        q(&mut p, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]).unwrap(),
        Value::Okay
    );
    let mut sc = s.conn();
    let mut sub = sc.as_pubsub();
    sub.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sub.psubscribe("__key*__:*").unwrap();
    q(&mut p, &["SET", "foo", "bar"]).unwrap();
    q(&mut p, &["SET", "tmp", "v", "PX", "30"]).unwrap();
    let mut got = Vec::new();
    for _ in 0..8 {
        let m = sub.get_message().unwrap();
        got.push(format!(
            "{} {}",
            m.get_channel_name(),
            m.get_payload::<String>().unwrap()
        ));
        if got.iter().any(|g| g == "__keyevent@0__:expired tmp") {
            break;
        }
    }
    assert_eq!(got[0], "__keyspace@0__:foo set", "{got:?}");
    assert_eq!(got[1], "__keyevent@0__:set foo", "{got:?}");
    assert!(
        got.contains(&"__keyspace@0__:tmp expired".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"__keyevent@0__:expired tmp".to_string()),
        "{got:?}"
    );
    // Only the classes configured: E with g only sees generic events.
    q(&mut p, &["CONFIG", "SET", "notify-keyspace-events", "Eg"]).unwrap();
    q(&mut p, &["SET", "a", "1"]).unwrap();
    q(&mut p, &["DEL", "a"]).unwrap();
    let m = sub.get_message().unwrap();
    assert_eq!(m.get_channel_name(), "__keyevent@0__:del");
    assert_eq!(m.get_payload::<String>().unwrap(), "a");
}

/// Reads from `s` until `needle` was seen or `timeout`.
fn read_until(s: &mut std::net::TcpStream, needle: &[u8], timeout: Duration) -> Vec<u8> {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    while start.elapsed() < timeout && !out.windows(needle.len()).any(|w| w == needle) {
        if let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
    out
}

#[test]
fn resp3_push_and_resp2_restriction_on_the_wire() {
    let s = TestServer::start();
    let mut c = std::net::TcpStream::connect(s.addr).unwrap();
    c.write_all(b"SUBSCRIBE a\r\nGET x\r\nPING\r\nRESET\r\nGET x\r\n")
        .unwrap();
    let out = read_until(&mut c, b"$-1\r\n", Duration::from_secs(5));
    let want: &[u8] = b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n+RESET\r\n$-1\r\n";
    assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(want));
    c.write_all(b"HELLO 3\r\nSUBSCRIBE a\r\nPUBLISH a hi\r\nPING\r\n")
        .unwrap();
    let out = read_until(&mut c, b"+PONG\r\n", Duration::from_secs(5));
    let s = String::from_utf8_lossy(&out);
    assert!(
        s.ends_with(">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n>3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n:1\r\n+PONG\r\n"),
        "{s}"
    );
}

#[test]
fn slow_subscriber_is_disconnected_at_the_pubsub_limit() {
    let s = TestServer::start();
    let mut p = s.conn();
    assert_eq!(
        q(
            &mut p,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "pubsub 2mb 1mb 60"
            ]
        )
        .unwrap(),
        Value::Okay
    );
    let mut sub = std::net::TcpStream::connect(s.addr).unwrap();
    sub.write_all(b"SUBSCRIBE big\r\n").unwrap();
    let ack = read_until(&mut sub, b":1\r\n", Duration::from_secs(5));
    assert!(ack.ends_with(b":1\r\n"));
    // The subscriber stops reading; the publisher sends 100 KB messages, at most 100 MB.
    let payload = "x".repeat(100 * 1024);
    let start = Instant::now();
    let mut sent = 0;
    loop {
        let n = int(q(&mut p, &["PUBLISH", "big", &payload]));
        if n == 0 {
            break;
        }
        sent += 1;
        assert!(sent < 1000, "subscriber never disconnected");
        assert!(start.elapsed() < Duration::from_secs(60));
    }
    assert!(sent > 10, "disconnected too early: {sent}");
    // The publisher and the server are fine; the subscriber's socket reaches EOF.
    assert_eq!(text(q(&mut p, &["PING"])), "PONG");
    assert_eq!(
        int(q(&mut p, &["PUBSUB", "NUMSUB", "big"]).map(|v| match v {
            Value::Array(a) => a[1].clone(),
            o => o,
        })),
        0
    );
    sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0usize;
    let eof = loop {
        match sub.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    assert!(eof, "subscriber not closed after {total} bytes");
    let clients = text(q(&mut p, &["CLIENT", "LIST"]));
    assert_eq!(clients.lines().count(), 1, "{clients}");
}
