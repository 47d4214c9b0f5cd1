//! Replication with Debian's redis-server 7.0 in both directions: a real redis-server
//! replicating from Rill (disk-backed and diskless full sync, then a partial resync), and
//! Rill replicating from a real redis-server (full, then partial).

use crate::common::{wait_for, OracleRedis, TestServer};
use crate::replication::{
    caught_up, digest, fill_every_type, info_field, replicaof_port as replicaof, ARGS as RILL, T,
};

/// Keys in the interop datasets (plus one of every type).
const KEYS: usize = 20_000;

/// redis-server with the arguments these tests need on top of OracleRedis's.
fn redis(extra: &[&str]) -> OracleRedis {
    let args = [
        &[
            "--enable-debug-command",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
        ],
        extra,
    ]
    .concat();
    OracleRedis::start(&args)
}

fn redis_replica_of_rill(diskless: &str) {
    let m = TestServer::start_with(&[RILL, &["--repl-diskless-sync", diskless]].concat());
    let mut mc = m.conn();
    fill_every_type(&mut mc, KEYS);
    let r = redis(&[]);
    let mut rc = r.conn();
    replicaof(&mut rc, m.port());
    assert!(caught_up(&mut mc, &mut rc));
    assert_eq!(digest(&mut mc, KEYS), digest(&mut rc, KEYS));
    redis::cmd("INCRBY")
        .arg("counter")
        .arg(5)
        .query::<()>(&mut mc)
        .unwrap();
    redis::cmd("SET")
        .arg("px")
        .arg("v")
        .arg("PX")
        .arg(100_000)
        .query::<()>(&mut mc)
        .unwrap();
    assert!(caught_up(&mut mc, &mut rc));
    let v: Option<String> = redis::cmd("GET").arg("counter").query(&mut rc).unwrap();
    assert_eq!(v.as_deref(), Some("5"));
    let ttl: i64 = redis::cmd("PTTL").arg("px").query(&mut rc).unwrap();
    assert!(ttl > 0, "{ttl}");
    let n: i64 = redis::cmd("WAIT").arg(1).arg(5000).query(&mut mc).unwrap();
    assert_eq!(n, 1);
    // Partial resync after the link drops on the redis-server side.
    let full = info_field(&mut mc, "stats", "sync_full");
    let ok: i64 = info_field(&mut mc, "stats", "sync_partial_ok")
        .parse()
        .unwrap();
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("master")
        .query::<()>(&mut rc)
        .unwrap();
    redis::cmd("SET")
        .arg("during")
        .arg("x")
        .query::<()>(&mut mc)
        .unwrap();
    assert!(wait_for(T, || {
        info_field(&mut mc, "stats", "sync_partial_ok")
            .parse::<i64>()
            .unwrap()
            == ok + 1
    }));
    assert!(caught_up(&mut mc, &mut rc));
    let v: Option<String> = redis::cmd("GET").arg("during").query(&mut rc).unwrap();
    assert_eq!(v.as_deref(), Some("x"));
    assert_eq!(info_field(&mut mc, "stats", "sync_full"), full);
}

#[test]
fn redis_server_replicates_from_rill_disk() {
    redis_replica_of_rill("no");
}

#[test]
fn redis_server_replicates_from_rill_diskless() {
    redis_replica_of_rill("yes");
}

#[test]
fn rill_replicates_from_redis_server() {
    for diskless in ["yes", "no"] {
        let m = redis(&["--repl-diskless-sync", diskless]);
        let mut mc = m.conn();
        fill_every_type(&mut mc, KEYS);
        let r = TestServer::start_with(RILL);
        let mut rc = r.conn();
        replicaof(&mut rc, m.port);
        assert!(caught_up(&mut mc, &mut rc), "diskless {diskless}");
        assert_eq!(digest(&mut mc, KEYS), digest(&mut rc, KEYS));
        redis::pipe()
            .cmd("SELECT")
            .arg(2)
            .cmd("SET")
            .arg("in2")
            .arg("v")
            .cmd("SELECT")
            .arg(0)
            .cmd("MULTI")
            .cmd("INCR")
            .arg("c")
            .cmd("INCR")
            .arg("c")
            .cmd("EXEC")
            .query::<()>(&mut mc)
            .unwrap();
        assert!(caught_up(&mut mc, &mut rc));
        let v: Option<String> = redis::cmd("GET").arg("c").query(&mut rc).unwrap();
        assert_eq!(v.as_deref(), Some("2"));
        // redis-server's WAIT sees Rill's ACKs (REPLCONF GETACK answered).
        let n: i64 = redis::cmd("WAIT").arg(1).arg(5000).query(&mut mc).unwrap();
        assert_eq!(n, 1);
        // Partial resync after the link is killed on Rill's side.
        redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("master")
            .query::<()>(&mut rc)
            .unwrap();
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
        assert!(caught_up(&mut mc, &mut rc));
        let v: Option<String> = redis::cmd("GET").arg("during").query(&mut rc).unwrap();
        assert_eq!(v.as_deref(), Some("x"));
        assert_eq!(info_field(&mut mc, "stats", "sync_full"), "1");
        assert_eq!(
            info_field(&mut rc, "replication", "master_replid"),
            info_field(&mut mc, "replication", "master_replid")
        );
    }
}

fn field_names(c: &mut redis::Connection) -> Vec<String> {
    let info: String = redis::cmd("INFO").arg("replication").query(c).unwrap();
    info.lines()
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
        .collect()
}

#[test]
fn info_replication_fields_match_redis_server_for_both_roles() {
    // redis-server master with a Rill replica; Rill master with a redis-server replica.
    let rm = redis(&[]);
    let lr = TestServer::start_with(RILL);
    let lm = TestServer::start_with(RILL);
    let rr = redis(&[]);
    let (mut rmc, mut lrc, mut lmc, mut rrc) = (rm.conn(), lr.conn(), lm.conn(), rr.conn());
    replicaof(&mut lrc, rm.port);
    replicaof(&mut rrc, lm.port());
    assert!(caught_up(&mut rmc, &mut lrc));
    assert!(caught_up(&mut lmc, &mut rrc));
    for m in [&mut rmc, &mut lmc] {
        assert!(wait_for(T, || info_field(m, "replication", "slave0")
            .contains("state=online")));
    }
    assert_eq!(field_names(&mut lmc), field_names(&mut rmc));
    assert_eq!(field_names(&mut lrc), field_names(&mut rrc));
    // ROLE: the same shapes.
    let shape = |v: redis::Value| -> Vec<String> {
        let redis::Value::Array(items) = v else {
            panic!("{v:?}")
        };
        items
            .iter()
            .map(|i| match i {
                redis::Value::Int(_) => "int".into(),
                redis::Value::BulkString(b)
                    if b == b"connected" || b == b"slave" || b == b"master" =>
                {
                    String::from_utf8_lossy(b).into_owned()
                }
                redis::Value::BulkString(_) => "bulk".into(),
                redis::Value::Array(a) => format!("array{}", a.len()),
                o => format!("{o:?}"),
            })
            .collect()
    };
    let role = |c: &mut redis::Connection| shape(redis::cmd("ROLE").query(c).unwrap());
    assert_eq!(role(&mut lmc), role(&mut rmc));
    assert_eq!(role(&mut lrc), role(&mut rrc));
}
