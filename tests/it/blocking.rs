//! Blocking commands with several real clients: wake-ups by other clients' writes, FIFO
//! order, timeouts, CLIENT UNBLOCK, disconnects, pipelining behind a blocked command.

use crate::common::*;
use redis::Value;
use std::io::{Read, Write};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// Runs `args` on a new connection in a thread (the connection is made before returning).
fn spawn_cmd(s: &TestServer, args: &[&str]) -> JoinHandle<redis::RedisResult<Value>> {
    let mut c = s.conn();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    std::thread::spawn(move || {
        let mut cmd = redis::cmd(&args[0]);
        for a in &args[1..] {
            cmd.arg(a);
        }
        cmd.query::<Value>(&mut c)
    })
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn key_value(k: &str, v: &str) -> Value {
    Value::Array(vec![bulk(k), bulk(v)])
}

#[test]
fn blpop_is_woken_by_another_clients_push() {
    let s = TestServer::start();
    let mut c = s.conn();
    let t = spawn_cmd(&s, &["BLPOP", "nokey", "q", "0"]);
    wait_blocked(&mut c, 1);
    let list = s.cli(&["CLIENT", "LIST"]);
    assert!(
        list.lines()
            .any(|l| l.contains("flags=b ") && l.contains("cmd=blpop")),
        "{list}"
    );
    let _: i64 = redis::cmd("RPUSH").arg("q").arg("x").query(&mut c).unwrap();
    assert_eq!(t.join().unwrap().unwrap(), key_value("q", "x"));
    wait_blocked(&mut c, 0);
    let exists: i64 = redis::cmd("EXISTS").arg("q").query(&mut c).unwrap();
    assert_eq!(exists, 0, "the popped element emptied and deleted the list");
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let s = TestServer::start();
    let mut c = s.conn();
    let mut waiters = Vec::new();
    for n in 1..=3 {
        waiters.push(spawn_cmd(&s, &["BLPOP", "q", "5"]));
        wait_blocked(&mut c, n);
    }
    let _: i64 = redis::cmd("RPUSH")
        .arg(&["q", "a", "b", "c"])
        .query(&mut c)
        .unwrap();
    let got: Vec<Value> = waiters
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    assert_eq!(
        got,
        vec![
            key_value("q", "a"),
            key_value("q", "b"),
            key_value("q", "c")
        ]
    );
}

#[test]
fn one_push_serves_one_waiter_the_other_keeps_waiting() {
    let s = TestServer::start();
    let mut c = s.conn();
    let first = spawn_cmd(&s, &["BRPOP", "q", "5"]);
    wait_blocked(&mut c, 1);
    let second = spawn_cmd(&s, &["BRPOP", "q", "0.3"]);
    wait_blocked(&mut c, 2);
    let _: i64 = redis::cmd("RPUSH")
        .arg("q")
        .arg("only")
        .query(&mut c)
        .unwrap();
    assert_eq!(first.join().unwrap().unwrap(), key_value("q", "only"));
    assert_eq!(second.join().unwrap().unwrap(), Value::Nil);
}

#[test]
fn timeouts_accept_decimals() {
    let s = TestServer::start();
    let mut c = s.conn();
    let start = Instant::now();
    let v: Value = redis::cmd("BLPOP")
        .arg("nokey")
        .arg("0.25")
        .query(&mut c)
        .unwrap();
    let took = start.elapsed();
    assert_eq!(v, Value::Nil);
    assert!(
        took >= Duration::from_millis(240),
        "returned after {took:?}"
    );
    assert!(took < Duration::from_secs(5), "returned after {took:?}");
    let v: Value = redis::cmd("BZPOPMIN")
        .arg("nokey")
        .arg(".1")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, Value::Nil);
    let v: Value = redis::cmd("XREAD")
        .arg(&["BLOCK", "100", "STREAMS", "s", "$"])
        .query(&mut c)
        .unwrap();
    assert_eq!(v, Value::Nil);
    assert_eq!(blocked_clients(&mut c), 0);
    let err = redis::cmd("BLPOP")
        .arg("nokey")
        .arg("-0.5")
        .query::<Value>(&mut c)
        .unwrap_err();
    assert!(err.to_string().contains("timeout is negative"), "{err}");
}

#[test]
fn blmove_feeds_a_list_another_client_waits_on() {
    let s = TestServer::start();
    let mut c = s.conn();
    let reader = spawn_cmd(&s, &["BLPOP", "dst", "5"]);
    wait_blocked(&mut c, 1);
    let mover = spawn_cmd(&s, &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "5"]);
    wait_blocked(&mut c, 2);
    let _: i64 = redis::cmd("RPUSH")
        .arg("src")
        .arg("v")
        .query(&mut c)
        .unwrap();
    assert_eq!(mover.join().unwrap().unwrap(), bulk("v"));
    assert_eq!(reader.join().unwrap().unwrap(), key_value("dst", "v"));
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[test]
fn keys_made_ready_by_rename_and_zadd() {
    let s = TestServer::start();
    let mut c = s.conn();
    let z = spawn_cmd(&s, &["BZPOPMAX", "z", "5"]);
    wait_blocked(&mut c, 1);
    let _: i64 = redis::cmd("ZADD")
        .arg(&["tmp", "1", "a", "2", "b"])
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("RENAME")
        .arg("tmp")
        .arg("z")
        .query(&mut c)
        .unwrap();
    assert_eq!(
        z.join().unwrap().unwrap(),
        Value::Array(vec![bulk("z"), bulk("b"), bulk("2")])
    );
    let l = spawn_cmd(&s, &["BLMPOP", "5", "2", "x", "y", "LEFT", "COUNT", "2"]);
    wait_blocked(&mut c, 1);
    let _: () = redis::cmd("SELECT").arg(1).query(&mut c).unwrap();
    let _: i64 = redis::cmd("RPUSH")
        .arg(&["y", "1", "2", "3"])
        .query(&mut c)
        .unwrap();
    let _: i64 = redis::cmd("MOVE").arg("y").arg(0).query(&mut c).unwrap();
    assert_eq!(
        l.join().unwrap().unwrap(),
        Value::Array(vec![bulk("y"), Value::Array(vec![bulk("1"), bulk("2")])])
    );
}

#[test]
fn client_unblock_timeout_and_error() {
    let s = TestServer::start();
    let mut c = s.conn();
    for mode in ["TIMEOUT", "ERROR"] {
        let mut b = s.conn();
        let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut b).unwrap();
        let t = std::thread::spawn(move || {
            redis::cmd("BLPOP").arg("q").arg("0").query::<Value>(&mut b)
        });
        client_unblock_and_check(&mut c, id, mode, t);
    }
}

#[test]
fn a_disconnected_waiter_stops_waiting() {
    let s = TestServer::start();
    let mut c = s.conn();
    let mut raw = std::net::TcpStream::connect(s.addr).unwrap();
    raw.write_all(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n")
        .unwrap();
    wait_blocked(&mut c, 1);
    drop(raw);
    wait_blocked(&mut c, 0);
    let _: i64 = redis::cmd("RPUSH")
        .arg("q")
        .arg("kept")
        .query(&mut c)
        .unwrap();
    let len: i64 = redis::cmd("LLEN").arg("q").query(&mut c).unwrap();
    assert_eq!(len, 1, "nobody popped for the closed connection");
}

#[test]
fn pipelined_commands_wait_for_the_blocked_one() {
    let s = TestServer::start();
    let mut c = s.conn();
    let mut raw = std::net::TcpStream::connect(s.addr).unwrap();
    raw.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    raw.write_all(b"PING first\r\nBLPOP q 0\r\nPING after\r\n")
        .unwrap();
    wait_blocked(&mut c, 1);
    let mut buf = [0u8; 256];
    let n = raw.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"$5\r\nfirst\r\n");
    assert!(raw.read(&mut buf).is_err(), "PING after must wait");
    let _: i64 = redis::cmd("RPUSH").arg("q").arg("v").query(&mut c).unwrap();
    raw.set_read_timeout(Some(WAIT)).unwrap();
    let want: &[u8] = b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n$5\r\nafter\r\n";
    let mut got = Vec::new();
    while got.len() < want.len() {
        let n = raw.read(&mut buf).unwrap();
        assert!(n > 0, "closed early: {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, want);
}

#[test]
fn xread_block_is_woken_by_xadd() {
    let s = TestServer::start();
    let mut c = s.conn();
    let _: String = redis::cmd("XADD")
        .arg(&["s", "1-1", "f", "old"])
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("XGROUP")
        .arg(&["CREATE", "s", "g", "$"])
        .query(&mut c)
        .unwrap();
    let reader = spawn_cmd(&s, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    let group = spawn_cmd(
        &s,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "BLOCK",
            "5000",
            "STREAMS",
            "s",
            ">",
        ],
    );
    wait_blocked(&mut c, 2);
    let _: String = redis::cmd("XADD")
        .arg(&["s", "2-1", "f", "new"])
        .query(&mut c)
        .unwrap();
    let entry = Value::Array(vec![
        bulk("2-1"),
        Value::Array(vec![bulk("f"), bulk("new")]),
    ]);
    let want = Value::Array(vec![Value::Array(vec![
        bulk("s"),
        Value::Array(vec![entry]),
    ])]);
    assert_eq!(reader.join().unwrap().unwrap(), want);
    assert_eq!(group.join().unwrap().unwrap(), want);
    let pending: Value = redis::cmd("XPENDING")
        .arg(&["s", "g"])
        .query(&mut c)
        .unwrap();
    match pending {
        Value::Array(v) => assert_eq!(v[0], Value::Int(1)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn multi_exec_does_not_block() {
    let s = TestServer::start();
    let mut c = s.conn();
    let start = Instant::now();
    let v: Value = redis::pipe()
        .atomic()
        .cmd("BLPOP")
        .arg("q")
        .arg("0")
        .cmd("BZPOPMIN")
        .arg("z")
        .arg("0")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, Value::Array(vec![Value::Nil, Value::Nil]));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(blocked_clients(&mut c), 0);
}

#[test]
fn wake_up_with_io_threads() {
    let s = TestServer::start_with(&["--io-threads", "2"]);
    let mut c = s.conn();
    let mut waiters = Vec::new();
    for n in 1..=2 {
        waiters.push(spawn_cmd(&s, &["BLPOP", "q", "5"]));
        wait_blocked(&mut c, n);
    }
    let _: i64 = redis::cmd("LPUSH")
        .arg(&["q", "a", "b"])
        .query(&mut c)
        .unwrap();
    let got: Vec<Value> = waiters
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    assert_eq!(got, vec![key_value("q", "b"), key_value("q", "a")]);
}

#[test]
fn xreadgroup_ends_when_its_stream_or_group_is_deleted() {
    let s = TestServer::start();
    let mut c = s.conn();
    let create = |c: &mut redis::Connection| {
        let _: () = redis::cmd("XGROUP")
            .arg(&["CREATE", "s", "g", "$", "MKSTREAM"])
            .query(c)
            .unwrap();
    };
    let args = [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ];
    create(&mut c);
    let t = spawn_cmd(&s, &args);
    wait_blocked(&mut c, 1);
    let _: i64 = redis::cmd("DEL").arg("s").query(&mut c).unwrap();
    let e = t.join().unwrap().unwrap_err();
    assert!(
        e.to_string().contains("the stream key no longer exists"),
        "{e}"
    );
    create(&mut c);
    let t = spawn_cmd(&s, &args);
    wait_blocked(&mut c, 1);
    let _: i64 = redis::cmd("XGROUP")
        .arg(&["DESTROY", "s", "g"])
        .query(&mut c)
        .unwrap();
    let e = t.join().unwrap().unwrap_err();
    assert!(e.to_string().contains("NOGROUP"), "{e}");
    wait_blocked(&mut c, 0);
}

/// INFO clients_in_timeout_table counts blocked clients with a timeout, not those
/// blocked forever (Redis 7.0's timeout table).
#[test]
fn timeout_table_counts_only_timed_waiters() {
    let s = TestServer::start();
    let mut c = s.conn();
    let forever = spawn_cmd(&s, &["BLPOP", "a", "0"]);
    let timed = spawn_cmd(&s, &["BLPOP", "b", "30"]);
    wait_blocked(&mut c, 2);
    let info: String = redis::cmd("INFO").arg("clients").query(&mut c).unwrap();
    assert!(info.contains("clients_in_timeout_table:1\r\n"), "{info}");
    let _: i64 = redis::cmd("RPUSH").arg("a").arg("x").query(&mut c).unwrap();
    let _: i64 = redis::cmd("RPUSH").arg("b").arg("y").query(&mut c).unwrap();
    assert_eq!(forever.join().unwrap().unwrap(), key_value("a", "x"));
    assert_eq!(timed.join().unwrap().unwrap(), key_value("b", "y"));
    wait_blocked(&mut c, 0);
    let info: String = redis::cmd("INFO").arg("clients").query(&mut c).unwrap();
    assert!(info.contains("clients_in_timeout_table:0\r\n"), "{info}");
}
