//! Server commands through real clients: INFO, MONITOR, SLOWLOG, DEBUG, SHUTDOWN.

use crate::common::*;
use crate::connection::Raw;
use std::time::{Duration, Instant};

fn info(c: &mut redis::Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(c).unwrap()
}

fn field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} not in {info}"))
        .trim()
        .to_string()
}

#[test]
fn info_fields_and_counters() {
    let s = TestServer::start();
    let mut c = s.conn();
    let srv = info(&mut c, "server");
    assert_eq!(field(&srv, "redis_version"), "7.0.15");
    assert_eq!(field(&srv, "tcp_port"), s.port().to_string());
    assert_eq!(field(&srv, "process_id"), s.child.id().to_string());
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let _: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    let _: Option<String> = redis::cmd("GET").arg("nope").query(&mut c).unwrap();
    // The redis crate's CLIENT SETINFO on connect already failed (as on Redis 7.0), and
    // TestServer's wait for the end of loading may have seen a -LOADING.
    let errors_before: u64 = field(&info(&mut c, "stats"), "total_error_replies")
        .parse()
        .unwrap();
    let err_before: u64 = field(&info(&mut c, "errorstats"), "errorstat_ERR")
        .trim_start_matches("count=")
        .parse()
        .unwrap();
    let _ = redis::cmd("NOSUCHCMD").query::<()>(&mut c);
    let st = info(&mut c, "stats");
    assert_eq!(field(&st, "keyspace_hits"), "1");
    assert_eq!(field(&st, "keyspace_misses"), "1");
    assert!(
        field(&st, "total_commands_processed")
            .parse::<u64>()
            .unwrap()
            >= 3
    );
    assert!(
        field(&st, "total_connections_received")
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(
        field(&st, "total_error_replies"),
        (errors_before + 1).to_string()
    );
    let ks = info(&mut c, "keyspace");
    assert_eq!(field(&ks, "db0"), "keys=1,expires=0,avg_ttl=0");
    let cs = info(&mut c, "commandstats");
    assert!(
        field(&cs, "cmdstat_get").starts_with("calls=2,usec="),
        "{cs}"
    );
    let es = info(&mut c, "errorstats");
    assert_eq!(
        field(&es, "errorstat_ERR"),
        format!("count={}", err_before + 1)
    );
    let cl = info(&mut c, "clients");
    assert_eq!(field(&cl, "connected_clients"), "1");
    let mem = info(&mut c, "memory");
    assert!(field(&mem, "used_memory").parse::<u64>().unwrap() > 0);
    let all = info(&mut c, "everything");
    for h in ["# Server", "# Commandstats", "# Latencystats", "# Keyspace"] {
        assert!(all.contains(h), "{h}");
    }
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(dbsize, 1);
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(dbsize, 0);
}

#[test]
fn monitor_feed_format_and_redaction() {
    let s = TestServer::start();
    let mut m = Raw::connect(s.addr);
    m.expect("MONITOR\r\n", "+OK\r\n");
    assert_eq!(s.cli(&["-n", "3", "SET", "a b", "x\"y"]).trim(), "OK");
    let mut c = s.conn();
    let _: () = redis::cmd("AUTH")
        .arg("default")
        .arg("pw")
        .query(&mut c)
        .unwrap();
    let out = m.read_until(Duration::from_secs(5), |b| {
        String::from_utf8_lossy(b).contains("(redacted)\"\r\n")
    });
    let out = String::from_utf8_lossy(&out);
    let set = out
        .lines()
        .find(|l| l.contains("\"SET\" \"a b\""))
        .unwrap_or_else(|| panic!("{out}"));
    // +<secs>.<micros> [<db> <ip:port>] "arg" ...
    let (ts, rest) = set.strip_prefix('+').unwrap().split_once(' ').unwrap();
    let (secs, micros) = ts.split_once('.').unwrap();
    assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{set}");
    assert!(rest.starts_with("[3 127.0.0.1:"), "{set}");
    assert!(rest.ends_with("] \"SET\" \"a b\" \"x\\\"y\""), "{set}");
    assert!(
        out.contains("\"AUTH\" \"(redacted)\" \"(redacted)\""),
        "{out}"
    );
}

#[test]
fn slowlog_records_commands() {
    let s = TestServer::start_with(&["--slowlog-log-slower-than", "0"]);
    let mut c = s.conn();
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("slowpoke")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let entries: Vec<redis::Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(1)
        .query(&mut c)
        .unwrap();
    assert_eq!(entries.len(), 1);
    let redis::Value::Array(e) = &entries[0] else {
        panic!("{entries:?}")
    };
    assert_eq!(e.len(), 6);
    let args: Vec<String> = redis::from_redis_value(&e[3]).unwrap();
    assert_eq!(args, ["SET", "k", "v"]);
    let name: String = redis::from_redis_value(&e[5]).unwrap();
    assert_eq!(name, "slowpoke");
    let n: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert!(n >= 2);
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut c).unwrap();
    let n: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert!(n <= 1, "{n}");
}

#[test]
fn debug_is_gated_and_sleep_blocks_the_server() {
    if rill_server::config::lookup("enable-debug-command").is_none() {
        // Redis's default (no): refused with its exact text.
        let s = TestServer::start();
        let mut r = Raw::connect(s.addr);
        r.expect(
            "DEBUG SLEEP 0\r\n",
            "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n",
        );
        return;
    }
    let mut args = vec!["--enable-debug-command", "yes"];
    let latency = rill_server::config::lookup("latency-monitor-threshold").is_some();
    if latency {
        args.extend(["--latency-monitor-threshold", "100"]);
    }
    let s = TestServer::start_with(&args);
    let mut sleeper = Raw::connect(s.addr);
    sleeper.send(b"DEBUG SLEEP 0.6\r\n");
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    let mut c = s.conn();
    let _: String = redis::cmd("PING").query(&mut c).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(
        sleeper.read_until(Duration::from_secs(5), |b| b.len() >= 5),
        b"+OK\r\n"
    );
    if latency {
        let latest: Vec<(String, i64, i64, i64)> =
            redis::cmd("LATENCY").arg("LATEST").query(&mut c).unwrap();
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[0].0, "command");
        assert!(latest[0].2 >= 500, "{latest:?}");
    }
}

#[test]
fn shutdown_exits_the_process() {
    let mut s = TestServer::start();
    let mut r = Raw::connect(s.addr);
    r.send(b"SHUTDOWN NOSAVE\r\n");
    assert!(r.closed_within(Duration::from_secs(5)));
    let mut status = None;
    assert!(wait_for(Duration::from_secs(10), || {
        status = s.child.try_wait().unwrap();
        status.is_some()
    }));
    assert!(status.unwrap().success());
}

#[test]
fn time_and_swapdb() {
    let s = TestServer::start();
    let mut c = s.conn();
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query(&mut c).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2 && micros < 1_000_000);
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let _: () = redis::cmd("SWAPDB").arg(0).arg(5).query(&mut c).unwrap();
    let v: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v, None);
    let _: () = redis::cmd("SELECT").arg(5).query(&mut c).unwrap();
    let v: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(v.as_deref(), Some("v"));
}
