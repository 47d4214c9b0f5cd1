//! Transactions through the `redis` crate and raw sockets: other clients invalidating
//! WATCH, MONITOR and commandstats around EXEC, and 50 concurrent WATCH/MULTI/EXEC
//! incrementers whose final count must be exact (single- and multi-thread runtime).

use crate::common::*;
use redis::Value;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

fn q(c: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<Value> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
}

fn ok(v: redis::RedisResult<Value>) {
    assert_eq!(v.unwrap(), Value::Okay);
}

#[test]
fn other_clients_writes_invalidate_watch() {
    let s = TestServer::start();
    let mut a = s.conn();
    let mut b = s.conn();
    ok(q(&mut b, &["SET", "k", "1"]));
    ok(q(&mut a, &["WATCH", "k"]));
    ok(q(&mut b, &["SET", "k", "2"]));
    let list = String::from_utf8(match q(&mut b, &["CLIENT", "LIST"]).unwrap() {
        Value::BulkString(d) => d,
        v => panic!("{v:?}"),
    })
    .unwrap();
    assert!(list.contains("flags=d "), "{list}");
    ok(q(&mut a, &["MULTI"]));
    assert_eq!(
        q(&mut a, &["SET", "k", "3"]).unwrap(),
        Value::SimpleString("QUEUED".into())
    );
    assert_eq!(q(&mut a, &["EXEC"]).unwrap(), Value::Nil);
    assert_eq!(
        q(&mut a, &["GET", "k"]).unwrap(),
        Value::BulkString(b"2".to_vec())
    );

    // A watcher that disconnects leaves no trace; the remaining watcher still works.
    {
        let mut gone = s.conn();
        ok(q(&mut gone, &["WATCH", "k"]));
    }
    ok(q(&mut a, &["WATCH", "k"]));
    ok(q(&mut a, &["MULTI"]));
    q(&mut a, &["INCR", "k"]).unwrap();
    assert_eq!(
        q(&mut a, &["EXEC"]).unwrap(),
        Value::Array(vec![Value::Int(3)])
    );

    // RENAME onto a watched key from another client.
    ok(q(&mut a, &["WATCH", "k"]));
    ok(q(&mut b, &["SET", "src", "x"]));
    ok(q(&mut b, &["RENAME", "src", "k"]));
    ok(q(&mut a, &["MULTI"]));
    assert_eq!(q(&mut a, &["EXEC"]).unwrap(), Value::Nil);
}

#[test]
fn resp3_null_exec_and_queue_errors() {
    let s = TestServer::start();
    let out = raw_exchange(
        s.addr,
        b"HELLO 3\r\nSET w 1\r\nWATCH w\r\nSET w 2\r\nMULTI\r\nGET w\r\nEXEC\r\nMULTI\r\nNOPE\r\nEXEC\r\nQUIT\r\n",
        Duration::from_secs(5),
    );
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.ends_with("+OK\r\n+QUEUED\r\n_\r\n+OK\r\n-ERR unknown command 'NOPE', with args beginning with: \r\n-EXECABORT Transaction discarded because of previous errors.\r\n+OK\r\n"),
        "{text}"
    );
}

#[test]
fn monitor_and_commandstats_see_queued_commands() {
    let s = TestServer::start();
    let mut mon = std::net::TcpStream::connect(s.addr).unwrap();
    mon.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    mon.write_all(b"MONITOR\r\n").unwrap();
    let mut r = BufReader::new(mon.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "+OK\r\n");
    let mut c = s.conn();
    ok(q(&mut c, &["CONFIG", "RESETSTAT"]));
    let out = raw_exchange(
        s.addr,
        b"MULTI\r\nSET a 1\r\nLPUSH a x\r\nEXEC\r\nQUIT\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(
        String::from_utf8_lossy(&out),
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n+OK\r\n"
    );
    // As Redis 7.0: MULTI, then each command as EXEC runs it, then EXEC.
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("\"EXEC\"") && seen.len() < 10 {
        line.clear();
        r.read_line(&mut line).unwrap();
        let cmd = line.trim_end().split("] ").nth(1).unwrap_or("").to_string();
        if !cmd.starts_with("\"CONFIG\"") {
            seen.push(cmd);
        }
    }
    assert_eq!(
        seen,
        [
            "\"MULTI\"",
            "\"SET\" \"a\" \"1\"",
            "\"LPUSH\" \"a\" \"x\"",
            "\"EXEC\""
        ]
    );
    let info = s.cli(&["INFO", "commandstats"]);
    assert!(info.contains("cmdstat_set:calls=1,"), "{info}");
    assert!(info.contains("cmdstat_exec:calls=1,"), "{info}");
    let lpush = info
        .lines()
        .find(|l| l.starts_with("cmdstat_lpush:"))
        .unwrap();
    assert!(lpush.ends_with("failed_calls=1"), "{lpush}");
    let errs = s.cli(&["INFO", "errorstats"]);
    assert!(errs.contains("errorstat_WRONGTYPE:count=1"), "{errs}");
}

/// 50 clients each add `per_client` to one counter with WATCH/GET/MULTI/SET/EXEC,
/// retrying on a null EXEC; the total must be exact.
fn concurrent_increments(s: &TestServer) {
    const CLIENTS: usize = 50;
    let per_client = 10;
    let deadline = Instant::now() + Duration::from_secs(120);
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let url = s.url();
            std::thread::spawn(move || -> Result<u64, String> {
                let mut c = redis::Client::open(url)
                    .and_then(|c| c.get_connection())
                    .map_err(|e| e.to_string())?;
                let mut retries = 0;
                for _ in 0..per_client {
                    loop {
                        if Instant::now() > deadline {
                            return Err("deadline passed".into());
                        }
                        let _: () = redis::cmd("WATCH")
                            .arg("counter")
                            .query(&mut c)
                            .map_err(|e| e.to_string())?;
                        let v: Option<i64> = redis::cmd("GET")
                            .arg("counter")
                            .query(&mut c)
                            .map_err(|e| e.to_string())?;
                        let _: () = redis::cmd("MULTI")
                            .query(&mut c)
                            .map_err(|e| e.to_string())?;
                        let _: () = redis::cmd("SET")
                            .arg("counter")
                            .arg(v.unwrap_or(0) + 1)
                            .query(&mut c)
                            .map_err(|e| e.to_string())?;
                        let r: Value = redis::cmd("EXEC")
                            .query(&mut c)
                            .map_err(|e| e.to_string())?;
                        match r {
                            Value::Nil => retries += 1,
                            Value::Array(ref items) if items == &[Value::Okay] => break,
                            other => return Err(format!("EXEC replied {other:?}")),
                        }
                    }
                }
                Ok(retries)
            })
        })
        .collect();
    let mut retries = 0;
    for h in handles {
        retries += h.join().expect("thread").expect("client");
    }
    let mut c = s.conn();
    let v: i64 = redis::cmd("GET").arg("counter").query(&mut c).unwrap();
    assert_eq!(v, (CLIENTS * per_client) as i64, "retries: {retries}");
    // The contention was real: some EXECs failed and were retried.
    assert!(retries > 0);
}

#[test]
fn concurrent_watch_increments_are_exact() {
    let s = TestServer::start();
    concurrent_increments(&s);
}

#[test]
fn concurrent_watch_increments_are_exact_with_io_threads() {
    let s = TestServer::start_with(&["--io-threads", "2"]);
    concurrent_increments(&s);
}

/// CLIENT PAUSE WRITE holds an EXEC whose queue has writes until the pause ends, while a
/// read-only EXEC goes through at once (Redis 7.0).
#[test]
fn pause_write_holds_exec_with_queued_writes() {
    use std::time::{Duration, Instant};
    let s = TestServer::start();
    let mut a = s.conn();
    let mut b = s.conn();
    let _: () = redis::cmd("MULTI").query(&mut a).unwrap();
    let _: () = redis::cmd("GET").arg("k").query(&mut a).unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(600)
        .arg("WRITE")
        .query(&mut b)
        .unwrap();
    let t = Instant::now();
    let _: redis::Value = redis::cmd("EXEC").query(&mut a).unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "read-only EXEC waited {:?}",
        t.elapsed()
    );

    // Queue the write before pausing again (queueing a write is itself postponed).
    let _: () = redis::cmd("CLIENT").arg("UNPAUSE").query(&mut b).unwrap();
    let _: () = redis::cmd("MULTI").query(&mut a).unwrap();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut a).unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(600)
        .arg("WRITE")
        .query(&mut b)
        .unwrap();
    let t = Instant::now();
    let _: redis::Value = redis::cmd("EXEC").query(&mut a).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "write EXEC ran during the pause"
    );
    let v: String = redis::cmd("GET").arg("k").query(&mut b).unwrap();
    assert_eq!(v, "v");
}
