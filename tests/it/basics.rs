//! Start-up, protocol and pipelining through real clients.

use crate::common::*;
use std::time::Duration;

#[test]
fn redis_crate_set_get() {
    let s = TestServer::start();
    let mut c = s.conn();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, "v");
    let n: i64 = redis::cmd("DEL")
        .arg("k")
        .arg("nope")
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn redis_cli_ping() {
    let s = TestServer::start();
    assert_eq!(s.cli(&["PING"]).trim(), "PONG");
}

#[test]
fn pipelined_replies_in_order() {
    let s = TestServer::start();
    let mut c = s.conn();
    let mut p = redis::pipe();
    for i in 0..100 {
        p.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
    }
    for i in 0..100 {
        p.cmd("GET").arg(format!("k{i}"));
    }
    let vals: Vec<i64> = p.query(&mut c).unwrap();
    assert_eq!(vals, (0..100).collect::<Vec<_>>());
}

#[test]
fn protocol_error_closes_with_redis_text() {
    let s = TestServer::start();
    let out = raw_exchange(s.addr, b"PING\r\n*1\r\n:x\r\n", Duration::from_secs(5));
    assert_eq!(
        String::from_utf8_lossy(&out),
        "+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n"
    );
    let out = raw_exchange(s.addr, b"*abc\r\n", Duration::from_secs(5));
    assert_eq!(
        String::from_utf8_lossy(&out),
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    // The server is still fine for others.
    assert_eq!(s.cli(&["PING"]).trim(), "PONG");
}

#[test]
fn inline_commands() {
    let s = TestServer::start();
    let out = raw_exchange(
        s.addr,
        b"SET a \"hello world\"\r\nGET a\r\nQUIT\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(
        String::from_utf8_lossy(&out),
        "+OK\r\n$11\r\nhello world\r\n+OK\r\n"
    );
}
