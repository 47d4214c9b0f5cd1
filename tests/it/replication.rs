//! Master-replica replication between Rill servers on loopback: full sync, streaming,
//! partial resync, WAIT, read-only replicas, promotion with replid2, chained replicas,
//! expiry driven by the master, min-replicas-to-write.

use crate::common::{wait_for, TestServer};
use std::time::Duration;

pub(crate) const ARGS: &[&str] = &[
    "--enable-debug-command",
    "yes",
    "--repl-diskless-sync-delay",
    "0",
    "--save",
    "",
    "--kafka-port",
    "-1",
];

pub(crate) const T: Duration = Duration::from_secs(20);

pub fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> String {
    let info: String = redis::cmd("INFO").arg(section).query(c).expect("INFO");
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_default()
        .to_string()
}

fn replicaof(r: &mut redis::Connection, m: &TestServer) {
    replicaof_port(r, m.port());
}

pub(crate) fn replicaof_port(r: &mut redis::Connection, port: u16) {
    let ok: String = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(port)
        .query(r)
        .expect("REPLICAOF");
    assert_eq!(ok, "OK");
}

fn link_up(c: &mut redis::Connection) -> bool {
    info_field(c, "replication", "master_link_status") == "up"
}

/// Waits until the replica's offset reached the master's.
pub(crate) fn caught_up(m: &mut redis::Connection, r: &mut redis::Connection) -> bool {
    wait_for(T, || {
        let mo = info_field(m, "replication", "master_repl_offset");
        link_up(r) && info_field(r, "replication", "slave_repl_offset") == mo
    })
}

fn get(c: &mut redis::Connection, k: &str) -> Option<String> {
    redis::cmd("GET").arg(k).query(c).expect("GET")
}

fn dbsize(c: &mut redis::Connection) -> i64 {
    redis::cmd("DBSIZE").query(c).expect("DBSIZE")
}

/// `keys` strings (DEBUG POPULATE) and one key of every type, one with a TTL, one in db 3.
pub(crate) fn fill_every_type(c: &mut redis::Connection, keys: usize) {
    redis::cmd("DEBUG")
        .arg("POPULATE")
        .arg(keys)
        .query::<()>(c)
        .unwrap();
    redis::pipe()
        .cmd("RPUSH")
        .arg("list")
        .arg("a")
        .arg("b")
        .arg("c")
        .cmd("SADD")
        .arg("set")
        .arg("x")
        .arg("y")
        .cmd("HSET")
        .arg("hash")
        .arg("f")
        .arg("v")
        .cmd("ZADD")
        .arg("zset")
        .arg(1)
        .arg("m")
        .cmd("XADD")
        .arg("stream")
        .arg("1-1")
        .arg("f")
        .arg("v")
        .cmd("SET")
        .arg("ttl")
        .arg("v")
        .arg("EX")
        .arg(1000)
        .cmd("SELECT")
        .arg(3)
        .cmd("SET")
        .arg("in3")
        .arg("v")
        .cmd("SELECT")
        .arg(0)
        .query::<()>(c)
        .unwrap();
}

type Typed = (
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    i64,
    Option<String>,
    Option<String>,
);

/// What the dataset looks like: sizes per database and every typed key's content.
pub(crate) fn digest(c: &mut redis::Connection, keys: usize) -> String {
    let mut out = String::new();
    for db in [0, 3] {
        redis::cmd("SELECT").arg(db).query::<()>(c).unwrap();
        out.push_str(&format!("db{db}={} ", dbsize(c)));
    }
    redis::cmd("SELECT").arg(0).query::<()>(c).unwrap();
    let mut v: Typed = redis::pipe()
        .cmd("LRANGE")
        .arg("list")
        .arg(0)
        .arg(-1)
        .cmd("SMEMBERS")
        .arg("set")
        .cmd("HGETALL")
        .arg("hash")
        .cmd("ZRANGE")
        .arg("zset")
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .cmd("XLEN")
        .arg("stream")
        .cmd("GET")
        .arg(format!("key:{}", keys - 1))
        .cmd("GET")
        .arg("counter")
        .query(c)
        .unwrap();
    // redis-server orders a hashtable set by its per-process hash seed
    v.1.sort();
    let ttl: i64 = redis::cmd("TTL").arg("ttl").query(c).unwrap();
    out.push_str(&format!("{v:?} ttl>0:{}", ttl > 0));
    out
}

#[test]
fn full_sync_of_two_replicas_then_the_stream_then_partial_resync() {
    let m = TestServer::start_with(ARGS);
    let mut mc = m.conn();
    fill_every_type(&mut mc, 200_000);
    let r1 = TestServer::start_with(ARGS);
    let r2 = TestServer::start_with(ARGS);
    let (mut c1, mut c2) = (r1.conn(), r2.conn());
    // One replica by disk-backed sync, one diskless.
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("repl-diskless-sync")
        .arg("no")
        .query::<()>(&mut mc)
        .unwrap();
    replicaof(&mut c1, &m);
    assert!(caught_up(&mut mc, &mut c1));
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("repl-diskless-sync")
        .arg("yes")
        .query::<()>(&mut mc)
        .unwrap();
    replicaof(&mut c2, &m);
    assert!(caught_up(&mut mc, &mut c2));
    assert_eq!(dbsize(&mut c1), 200_006);
    assert_eq!(digest(&mut c1, 200_000), digest(&mut mc, 200_000));
    assert_eq!(digest(&mut c2, 200_000), digest(&mut mc, 200_000));
    assert_eq!(info_field(&mut mc, "stats", "sync_full"), "2");
    assert_eq!(info_field(&mut mc, "replication", "connected_slaves"), "2");
    let slave0 = info_field(&mut mc, "replication", "slave0");
    assert!(slave0.starts_with("ip=127.0.0.1,port="), "{slave0}");
    assert!(slave0.contains("state=online"), "{slave0}");

    // The stream: writes, SELECT, MULTI/EXEC, relative expiries.
    redis::pipe()
        .cmd("SET")
        .arg("after")
        .arg("1")
        .cmd("INCR")
        .arg("counter")
        .cmd("EXPIRE")
        .arg("list")
        .arg(500)
        .cmd("MULTI")
        .cmd("INCR")
        .arg("counter")
        .cmd("LPUSH")
        .arg("list")
        .arg("z")
        .cmd("EXEC")
        .query::<()>(&mut mc)
        .unwrap();
    assert!(caught_up(&mut mc, &mut c1) && caught_up(&mut mc, &mut c2));
    assert_eq!(get(&mut c1, "counter").as_deref(), Some("2"));
    assert_eq!(digest(&mut c2, 200_000), digest(&mut mc, 200_000));

    // WAIT counts both replicas.
    let n: i64 = redis::cmd("WAIT").arg(2).arg(5000).query(&mut mc).unwrap();
    assert_eq!(n, 2);

    // Partial resync after the link is killed. The stream was last in database 3: the
    // master continues there without a SELECT, and so must the replica.
    redis::pipe()
        .cmd("SELECT")
        .arg(3)
        .cmd("SET")
        .arg("before")
        .arg("3")
        .query::<()>(&mut mc)
        .unwrap();
    assert!(caught_up(&mut mc, &mut c1));
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("master")
        .query(&mut c1)
        .unwrap();
    assert_eq!(killed, 1);
    redis::cmd("SET")
        .arg("during")
        .arg("x")
        .query::<()>(&mut mc)
        .unwrap();
    assert!(wait_for(T, || info_field(
        &mut mc,
        "stats",
        "sync_partial_ok"
    ) == "1"));
    assert!(caught_up(&mut mc, &mut c1));
    redis::cmd("SELECT").arg(3).query::<()>(&mut c1).unwrap();
    assert_eq!(get(&mut c1, "during").as_deref(), Some("x"));
    redis::cmd("SELECT").arg(0).query::<()>(&mut c1).unwrap();
    redis::cmd("SELECT").arg(0).query::<()>(&mut mc).unwrap();
    assert_eq!(info_field(&mut mc, "stats", "sync_full"), "2");

    // ROLE on both sides.
    let role: redis::Value = redis::cmd("ROLE").query(&mut mc).unwrap();
    let redis::Value::Array(items) = role else {
        panic!("{role:?}")
    };
    assert_eq!(items[0], redis::Value::BulkString(b"master".to_vec()));
    let role: redis::Value = redis::cmd("ROLE").query(&mut c1).unwrap();
    let redis::Value::Array(items) = role else {
        panic!("{role:?}")
    };
    assert_eq!(items[0], redis::Value::BulkString(b"slave".to_vec()));
    assert_eq!(items[2], redis::Value::Int(m.port() as i64));
    assert_eq!(items[3], redis::Value::BulkString(b"connected".to_vec()));
    // CLIENT LIST flags: M on the replica, S on the master.
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("master")
        .query(&mut c1)
        .unwrap();
    assert!(list.contains("flags=M"), "{list}");
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("replica")
        .query(&mut mc)
        .unwrap();
    assert_eq!(list.matches("flags=S").count(), 2, "{list}");
}

#[test]
fn replicas_are_read_only_and_masterdown_without_stale_data() {
    let m = TestServer::start_with(ARGS);
    let r = TestServer::start_with(ARGS);
    let mut rc = r.conn();
    replicaof(&mut rc, &m);
    assert!(wait_for(T, || link_up(&mut rc)));
    // REPLICAOF is recorded in the config (CONFIG GET, CONFIG REWRITE).
    let cfg: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("replicaof")
        .query(&mut rc)
        .unwrap();
    assert_eq!(
        cfg,
        vec!["replicaof".to_string(), format!("127.0.0.1 {}", m.port())]
    );
    let e = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query::<()>(&mut rc)
        .unwrap_err();
    assert_eq!(e.code(), Some("READONLY"));
    assert!(r
        .cli(&["SET", "k", "v"])
        .contains("READONLY You can't write against a read only replica."));
    // Link down: stale reads are served unless replica-serve-stale-data is no.
    drop(m);
    assert!(wait_for(T, || !link_up(&mut rc)));
    assert_eq!(get(&mut rc, "k"), None);
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("replica-serve-stale-data")
        .arg("no")
        .query::<()>(&mut rc)
        .unwrap();
    assert_eq!(
        r.cli(&["GET", "k"]).trim(),
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    );
    assert!(
        info_field(&mut rc, "replication", "master_link_down_since_seconds")
            .parse::<i64>()
            .is_ok()
    );
    // INFO and ROLE still answer (stale commands).
    assert!(r.cli(&["ROLE"]).starts_with("slave"));
}

#[test]
fn promoted_replica_keeps_the_other_on_partial_sync() {
    let a = TestServer::start_with(ARGS);
    let b = TestServer::start_with(ARGS);
    let c = TestServer::start_with(ARGS);
    let (mut ac, mut bc, mut cc) = (a.conn(), b.conn(), c.conn());
    redis::cmd("SET")
        .arg("k")
        .arg("1")
        .query::<()>(&mut ac)
        .unwrap();
    replicaof(&mut bc, &a);
    replicaof(&mut cc, &a);
    assert!(caught_up(&mut ac, &mut bc) && caught_up(&mut ac, &mut cc));
    let old_id = info_field(&mut ac, "replication", "master_replid");
    drop(a);
    let ok: String = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut bc)
        .unwrap();
    assert_eq!(ok, "OK");
    assert_eq!(info_field(&mut bc, "replication", "role"), "master");
    assert_eq!(info_field(&mut bc, "replication", "master_replid2"), old_id);
    replicaof(&mut cc, &b);
    assert!(caught_up(&mut bc, &mut cc));
    assert_eq!(info_field(&mut bc, "stats", "sync_full"), "0");
    assert_eq!(info_field(&mut bc, "stats", "sync_partial_ok"), "1");
    // B's first writes of its own: the stream it proxied switched databases, so its
    // own effects start with a SELECT.
    redis::pipe()
        .cmd("SET")
        .arg("k")
        .arg("2")
        .cmd("SELECT")
        .arg(5)
        .cmd("SET")
        .arg("in5")
        .arg("v")
        .query::<()>(&mut bc)
        .unwrap();
    assert!(caught_up(&mut bc, &mut cc));
    assert_eq!(get(&mut cc, "k").as_deref(), Some("2"));
    assert_eq!(get(&mut cc, "in5"), None);
    redis::cmd("SELECT").arg(5).query::<()>(&mut cc).unwrap();
    assert_eq!(get(&mut cc, "in5").as_deref(), Some("v"));
    assert_eq!(
        info_field(&mut cc, "replication", "master_replid"),
        info_field(&mut bc, "replication", "master_replid")
    );
}

#[test]
fn chained_replica_follows_the_top_master() {
    let a = TestServer::start_with(ARGS);
    let b = TestServer::start_with(ARGS);
    let c = TestServer::start_with(ARGS);
    let (mut ac, mut bc, mut cc) = (a.conn(), b.conn(), c.conn());
    replicaof(&mut bc, &a);
    assert!(wait_for(T, || link_up(&mut bc)));
    replicaof(&mut cc, &b);
    assert!(wait_for(T, || link_up(&mut cc)));
    redis::cmd("SET")
        .arg("chain")
        .arg("v")
        .query::<()>(&mut ac)
        .unwrap();
    assert!(wait_for(T, || get(&mut cc, "chain").as_deref() == Some("v")));
    assert_eq!(
        info_field(&mut cc, "replication", "master_repl_offset"),
        info_field(&mut ac, "replication", "master_repl_offset")
    );
}

#[test]
fn expiry_is_driven_by_the_master() {
    let m = TestServer::start_with(ARGS);
    let r = TestServer::start_with(ARGS);
    let (mut mc, mut rc) = (m.conn(), r.conn());
    redis::cmd("DEBUG")
        .arg("SET-ACTIVE-EXPIRE")
        .arg(0)
        .query::<()>(&mut mc)
        .unwrap();
    replicaof(&mut rc, &m);
    assert!(wait_for(T, || link_up(&mut rc)));
    redis::cmd("SET")
        .arg("e")
        .arg("v")
        .arg("PX")
        .arg(300)
        .query::<()>(&mut mc)
        .unwrap();
    assert!(wait_for(T, || get(&mut rc, "e").is_some()));
    // Logically expired on the replica: hidden, not deleted.
    assert!(wait_for(T, || get(&mut rc, "e").is_none()));
    assert_eq!(dbsize(&mut rc), 1);
    // The master's lazy expiry propagates DEL.
    assert_eq!(get(&mut mc, "e"), None);
    assert!(wait_for(T, || dbsize(&mut rc) == 0));
}

#[test]
fn min_replicas_to_write() {
    let m = TestServer::start_with(ARGS);
    let r = TestServer::start_with(ARGS);
    let (mut mc, mut rc) = (m.conn(), r.conn());
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("min-replicas-to-write")
        .arg(1)
        .query::<()>(&mut mc)
        .unwrap();
    assert_eq!(
        m.cli(&["SET", "a", "b"]).trim(),
        "NOREPLICAS Not enough good replicas to write."
    );
    replicaof(&mut rc, &m);
    assert!(wait_for(T, || m.cli(&["SET", "a", "b"]).trim() == "OK"));
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("min-replicas-to-write")
        .arg(2)
        .query::<()>(&mut mc)
        .unwrap();
    let e = redis::cmd("SET")
        .arg("a")
        .arg("c")
        .query::<()>(&mut mc)
        .unwrap_err();
    assert_eq!(e.code(), Some("NOREPLICAS"));
    // WAIT with a timeout returns the count it has.
    let n: i64 = redis::cmd("WAIT").arg(2).arg(100).query(&mut mc).unwrap();
    assert_eq!(n, 1);
    // Commands pipelined behind a WAIT run after it, replies in order.
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("min-replicas-to-write")
        .arg(0)
        .query::<()>(&mut mc)
        .unwrap();
    let (ok, n, v): (String, i64, String) = redis::pipe()
        .cmd("SET")
        .arg("p")
        .arg("1")
        .cmd("WAIT")
        .arg(1)
        .arg(5000)
        .cmd("GET")
        .arg("p")
        .query(&mut mc)
        .unwrap();
    assert_eq!((ok.as_str(), n, v.as_str()), ("OK", 1, "1"));
}

#[test]
fn backlog_is_freed_after_repl_backlog_ttl_without_replicas() {
    let m = TestServer::start_with(&[ARGS, &["--repl-backlog-ttl", "1"]].concat());
    let r = TestServer::start_with(ARGS);
    let (mut mc, mut rc) = (m.conn(), r.conn());
    assert_eq!(
        info_field(&mut mc, "replication", "repl_backlog_active"),
        "0"
    );
    replicaof(&mut rc, &m);
    assert!(wait_for(T, || link_up(&mut rc)));
    assert_eq!(
        info_field(&mut mc, "replication", "repl_backlog_active"),
        "1"
    );
    let id = info_field(&mut mc, "replication", "master_replid");
    let _: String = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut rc)
        .unwrap();
    assert!(wait_for(T, || info_field(
        &mut mc,
        "replication",
        "repl_backlog_active"
    ) == "0"));
    assert_ne!(info_field(&mut mc, "replication", "master_replid"), id);
}
