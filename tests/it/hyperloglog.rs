//! HyperLogLog interop with the real redis-server 7.0: a HyperLogLog is a string value in
//! Redis's own representation, so one built by redis-server moves to Rill by DUMP/RESTORE,
//! by GET/SET and by RDB, counts the same there, and later PFADDs leave identical bytes on
//! both servers. The replies themselves are compared by tests/compat/hyperloglog.redis.

use crate::common::*;
use redis::Connection;
use std::time::Duration;

fn get(c: &mut Connection, key: &str) -> Vec<u8> {
    redis::cmd("GET").arg(key).query(c).expect("GET")
}

fn pfcount(c: &mut Connection, keys: &[&str]) -> i64 {
    redis::cmd("PFCOUNT").arg(keys).query(c).expect("PFCOUNT")
}

fn pfadd(c: &mut Connection, key: &str, elements: &[String]) -> i64 {
    redis::cmd("PFADD")
        .arg(key)
        .arg(elements)
        .query(c)
        .expect("PFADD")
}

fn encoding(c: &mut Connection, key: &str) -> String {
    redis::cmd("PFDEBUG")
        .arg("ENCODING")
        .arg(key)
        .query(c)
        .expect("PFDEBUG ENCODING")
}

fn elements(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}:{i}")).collect()
}

/// On redis-server: a sparse HLL of 200 elements and a dense one of 5000.
fn build_on_redis(r: &mut Connection) {
    pfadd(r, "sparse", &elements("s", 200));
    for chunk in elements("d", 5000).chunks(500) {
        pfadd(r, "dense", chunk);
    }
    assert_eq!(encoding(r, "sparse"), "sparse");
    assert_eq!(encoding(r, "dense"), "dense");
}

/// After a copy: the same count, then the same bytes after the same further PFADDs (which
/// promote the sparse one to dense on both).
fn check_copies(r: &mut Connection, l: &mut Connection, keys: &[(&str, &str)]) {
    for &(on_redis, on_rill) in keys {
        assert_eq!(get(l, on_rill), get(r, on_redis), "{on_rill}: copied bytes");
        assert_eq!(
            pfcount(l, &[on_rill]),
            pfcount(r, &[on_redis]),
            "{on_rill}: PFCOUNT"
        );
        assert_eq!(get(l, on_rill), get(r, on_redis), "{on_rill}: cached count");
        for (i, chunk) in elements("more", 3000).chunks(300).enumerate() {
            assert_eq!(
                pfadd(l, on_rill, chunk),
                pfadd(r, on_redis, chunk),
                "{on_rill}: PFADD #{i}"
            );
            assert_eq!(
                get(l, on_rill),
                get(r, on_redis),
                "{on_rill}: after PFADD #{i}"
            );
        }
        assert_eq!(encoding(l, on_rill), "dense");
        assert_eq!(pfcount(l, &[on_rill]), pfcount(r, &[on_redis]));
    }
}

#[test]
fn redis_hll_moves_by_dump_restore_and_get_set() {
    let redis_server = OracleRedis::start(&[]);
    let rill = TestServer::start();
    let mut r = redis_server.conn();
    let mut l = rill.conn();
    build_on_redis(&mut r);
    for key in ["sparse", "dense"] {
        let payload: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut r).expect("DUMP");
        let _: () = redis::cmd("RESTORE")
            .arg(format!("{key}:restored"))
            .arg(0)
            .arg(payload)
            .query(&mut l)
            .expect("RESTORE in rill");
        let bytes = get(&mut r, key);
        let _: () = redis::cmd("SET")
            .arg(format!("{key}:set"))
            .arg(bytes)
            .query(&mut l)
            .expect("SET in rill");
    }
    // Merging the copies agrees with merging the originals.
    assert_eq!(
        pfcount(&mut l, &["sparse:restored", "dense:set"]),
        pfcount(&mut r, &["sparse", "dense"])
    );
    let _: () = redis::cmd("PFMERGE")
        .arg("merged")
        .arg("sparse:set")
        .arg("dense:restored")
        .query(&mut l)
        .expect("PFMERGE");
    let _: () = redis::cmd("PFMERGE")
        .arg("merged")
        .arg("sparse")
        .arg("dense")
        .query(&mut r)
        .expect("PFMERGE");
    assert_eq!(get(&mut l, "merged"), get(&mut r, "merged"));
    // Each original is copied twice; the Redis side keeps one twin per copy.
    let _: () = redis::cmd("COPY")
        .arg("sparse")
        .arg("sparse2")
        .query(&mut r)
        .expect("COPY");
    let _: () = redis::cmd("COPY")
        .arg("dense")
        .arg("dense2")
        .query(&mut r)
        .expect("COPY");
    check_copies(
        &mut r,
        &mut l,
        &[
            ("sparse", "sparse:restored"),
            ("dense", "dense:restored"),
            ("sparse2", "sparse:set"),
            ("dense2", "dense:set"),
        ],
    );
}

#[test]
fn rill_hll_moves_to_redis_and_through_rdb() {
    let redis_server = OracleRedis::start(&[]);
    let rill = TestServer::start();
    let mut r = redis_server.conn();
    let mut l = rill.conn();
    // Built on Rill this time: Redis must accept and extend it.
    pfadd(&mut l, "h", &elements("x", 1000));
    let payload: Vec<u8> = redis::cmd("DUMP").arg("h").query(&mut l).expect("DUMP");
    let _: () = redis::cmd("RESTORE")
        .arg("h")
        .arg(0)
        .arg(payload)
        .query(&mut r)
        .expect("RESTORE in redis-server");
    assert_eq!(get(&mut r, "h"), get(&mut l, "h"));
    assert_eq!(pfcount(&mut r, &["h"]), pfcount(&mut l, &["h"]));
    assert_eq!(
        pfadd(&mut r, "h", &elements("y", 100)),
        pfadd(&mut l, "h", &elements("y", 100))
    );
    assert_eq!(get(&mut r, "h"), get(&mut l, "h"));

    // Rill's RDB, loaded by Rill again.
    let _: () = redis::cmd("SAVE").query(&mut l).expect("SAVE");
    let want = get(&mut l, "h");
    let dir = rill.term();
    let again = TestServer::start_in(dir, &[]);
    let mut l2 = again.conn();
    assert!(wait_for(Duration::from_secs(10), || {
        redis::cmd("EXISTS")
            .arg("h")
            .query::<i64>(&mut l2)
            .is_ok_and(|n| n == 1)
    }));
    assert_eq!(get(&mut l2, "h"), want);
    assert_eq!(pfcount(&mut l2, &["h"]), pfcount(&mut r, &["h"]));
}

#[test]
fn pfselftest_passes() {
    let rill = TestServer::start();
    let mut l = rill.conn();
    // Ten million adds: seconds in a debug build.
    let ok: String = redis::cmd("PFSELFTEST").query(&mut l).expect("PFSELFTEST");
    assert_eq!(ok, "OK");
}

#[test]
fn pfcount_cache_reaches_replicas_but_not_from_a_replica() {
    use crate::replication::{caught_up, info_field, replicaof_port};
    let master = TestServer::start();
    let replica = TestServer::start();
    let oracle = OracleRedis::start(&[]);
    let mut m = master.conn();
    let mut rc = replica.conn();
    let mut oc = oracle.conn();
    replicaof_port(&mut rc, master.port());
    replicaof_port(&mut oc, master.port());
    pfadd(&mut m, "h", &elements("r", 100));
    assert!(caught_up(&mut m, &mut rc));
    assert!(caught_up(&mut m, &mut oc));
    assert_eq!(
        get(&mut rc, "h")[15] & 0x80,
        0x80,
        "cache stale on the replica"
    );
    // The master's PFCOUNT writes the cache and is propagated: both replicas (Rill and
    // redis-server) end up with the master's bytes.
    let n = pfcount(&mut m, &["h"]);
    assert!(caught_up(&mut m, &mut rc));
    assert!(caught_up(&mut m, &mut oc));
    let want = get(&mut m, "h");
    assert_eq!(want[15] & 0x80, 0);
    assert_eq!(get(&mut rc, "h"), want);
    assert_eq!(get(&mut oc, "h"), want);
    // A client's PFCOUNT on a replica rewrites its own cache only: the replica's stream
    // (what its own replicas get) stays its master's.
    pfadd(&mut m, "h2", &elements("s", 10));
    assert!(caught_up(&mut m, &mut rc));
    assert_eq!(pfcount(&mut rc, &["h2"]), 10);
    assert_eq!(get(&mut rc, "h2")[15] & 0x80, 0);
    pfadd(&mut m, "h2", &elements("t", 10));
    assert!(caught_up(&mut m, &mut rc));
    // Equal offsets: the replica's PFCOUNT added nothing to its stream (a master PING
    // may be in flight, hence the wait).
    assert!(wait_for(Duration::from_secs(5), || {
        info_field(&mut rc, "replication", "master_repl_offset")
            == info_field(&mut m, "replication", "master_repl_offset")
    }));
    assert_eq!(pfcount(&mut rc, &["h2"]), pfcount(&mut m, &["h2"]));
    assert_eq!(pfcount(&mut rc, &["h"]), n);
}

#[test]
fn pfadd_and_pfmerge_notify_pfadd() {
    let rill = TestServer::start_with(&["--notify-keyspace-events", "E$"]);
    let mut l = rill.conn();
    let mut sc = rill.conn();
    let mut sub = sc.as_pubsub();
    sub.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    sub.psubscribe("__keyevent@0__:*").expect("PSUBSCRIBE");
    pfadd(&mut l, "a", &elements("n", 3));
    // No change, no event; PFCOUNT rewriting the cache announces nothing either.
    pfadd(&mut l, "a", &elements("n", 3));
    pfcount(&mut l, &["a"]);
    let _: () = redis::cmd("PFMERGE")
        .arg("b")
        .arg("a")
        .query(&mut l)
        .expect("PFMERGE");
    let _: () = redis::cmd("SET")
        .arg("end")
        .arg("x")
        .query(&mut l)
        .expect("SET");
    let mut got = Vec::new();
    for _ in 0..3 {
        let m = sub.get_message().expect("event");
        got.push((
            m.get_channel_name().to_string(),
            m.get_payload::<String>().expect("key"),
        ));
    }
    let want = [
        ("__keyevent@0__:pfadd", "a"),
        ("__keyevent@0__:pfadd", "b"),
        ("__keyevent@0__:set", "end"),
    ];
    assert_eq!(
        got,
        want.map(|(c, k)| (c.to_string(), k.to_string())).to_vec()
    );
}
