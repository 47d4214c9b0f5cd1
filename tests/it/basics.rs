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

/// Random commands with random arguments (fixed seed, bounded count): every one gets a
/// reply, the server never drops the connection or panics, and stored data survives.
#[test]
fn random_commands_never_break_the_server() {
    use rand::{Rng, SeedableRng};
    let s = TestServer::start();
    let mut c = s.conn();
    let _: () = redis::cmd("SET")
        .arg("keep")
        .arg("safe")
        .query(&mut c)
        .unwrap();
    let names: Vec<String> = redis::cmd("COMMAND")
        .query::<Vec<redis::Value>>(&mut c)
        .unwrap()
        .into_iter()
        .filter_map(|v| match v {
            redis::Value::Array(items) => match items.first() {
                Some(redis::Value::BulkString(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                Some(redis::Value::SimpleString(s)) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        })
        // Commands that end, block or reconfigure the connection, or wipe every key, are
        // out of scope here. "keep" is not in the argument pool, so nothing else reaches it.
        .filter(|n| {
            ![
                "shutdown",
                "quit",
                "monitor",
                "debug",
                "client",
                "reset",
                "hello",
                "auth",
                "select",
                "flushall",
                "flushdb",
                "swapdb",
                "config",
                "subscribe",
                "psubscribe",
                "ssubscribe",
                "unsubscribe",
                "punsubscribe",
                "sunsubscribe",
                "blpop",
                "brpop",
                "blmove",
                "brpoplpush",
                "blmpop",
                "bzpopmin",
                "bzpopmax",
                "bzmpop",
                "xread",
                "xreadgroup",
                "wait",
                "sync",
                "psync",
                "replicaof",
                "slaveof",
                "failover",
            ]
            .contains(&n.as_str())
        })
        .collect();
    assert!(names.len() > 100, "COMMAND lists {} commands", names.len());
    let pool = [
        "k",
        "h",
        "l",
        "z",
        "0",
        "-1",
        "1",
        "99999999999999999999",
        "inf",
        "nan",
        "(1",
        "[a",
        "-",
        "+",
        "*",
        "",
        "LIMIT",
        "COUNT",
        "WITHSCORES",
        "BYSCORE",
        "REV",
        "NX",
        "XX",
        "GT",
        "EX",
        "GET",
        "MATCH",
        "TYPE",
        "LEFT",
        "RIGHT",
        "\x00\u{ff}",
    ];
    let seed = std::env::var("RILL_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for _ in 0..3000 {
        let name = &names[rng.gen_range(0..names.len())];
        let mut cmd = redis::cmd(name);
        for _ in 0..rng.gen_range(0..7) {
            cmd.arg(pool[rng.gen_range(0..pool.len())]);
        }
        // Any reply, error replies included, is fine; a transport error is not.
        let r: redis::RedisResult<redis::Value> = cmd.query(&mut c);
        if let Err(e) = &r {
            assert!(
                e.kind() != redis::ErrorKind::IoError,
                "{name}: connection broke: {e}"
            );
        }
    }
    // A random MULTI may still be open: leave it before checking.
    let _: redis::RedisResult<redis::Value> = redis::cmd("DISCARD").query(&mut c);
    let v: String = redis::cmd("GET").arg("keep").query(&mut c).unwrap();
    assert_eq!(v, "safe");
    assert_eq!(s.cli(&["PING"]).trim(), "PONG");
}
