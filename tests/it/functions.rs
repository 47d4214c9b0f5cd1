//! Redis 7.0 Functions through the real binary: libraries survive restarts (RDB only, AOF
//! with and without the RDB preamble, after an AOF rewrite), reach replicas by full sync
//! and by the stream, move between Rill and redis-server by FUNCTION DUMP/RESTORE and by
//! RDB files in both directions, and redis-py's `fcall` works. Replies and error texts
//! are covered by the differential script tests/compat/functions.redis.

use crate::common::*;
use crate::replication::{caught_up, replicaof_port};
use redis::Connection;
use std::time::Duration;

const LIB: &str = "#!lua name=counter\n\
redis.register_function('bump', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)\n\
redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";

fn load(c: &mut Connection, code: &str) {
    let name: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(code)
        .query(c)
        .expect("FUNCTION LOAD");
    assert_eq!(name, code[11..].split('\n').next().unwrap());
}

fn fcall(c: &mut Connection, f: &str, key: &str, args: &[&str]) -> redis::RedisResult<i64> {
    redis::cmd("FCALL")
        .arg(f)
        .arg(1)
        .arg(key)
        .arg(args)
        .query(c)
}

fn info_field(c: &mut Connection, field: &str) -> String {
    let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Once `rc` has caught up with `mc`: FCALL bump on the master returns `counter`, a
/// library `lib` (a no-writes function returning `ret`) loaded there reaches the
/// replica, and FCALL_RO of `peek` and `lib` on the replica read `counter` and `ret`.
fn replica_follows(mc: &mut Connection, rc: &mut Connection, counter: i64, lib: &str, ret: i64) {
    assert!(wait_for(Duration::from_secs(20), || caught_up(mc, rc)));
    assert_eq!(
        fcall(mc, "bump", "n", &[&counter.to_string()]).unwrap(),
        counter
    );
    load(
        mc,
        &format!(
            "#!lua name={lib}\nredis.register_function{{function_name='{lib}', callback=function() return {ret} end, flags={{'no-writes'}}}}"
        ),
    );
    assert!(wait_for(Duration::from_secs(20), || caught_up(mc, rc)));
    let v: i64 = redis::cmd("FCALL_RO")
        .arg("peek")
        .arg(1)
        .arg("n")
        .query(rc)
        .unwrap();
    assert_eq!(v, counter);
    let v: i64 = redis::cmd("FCALL_RO").arg(lib).arg(0).query(rc).unwrap();
    assert_eq!(v, ret);
}

#[test]
fn functions_survive_a_restart_with_rdb_only() {
    let args = &["--save", "3600 1", "--appendonly", "no"];
    let s = TestServer::start_with(args);
    let mut c = s.conn();
    load(&mut c, LIB);
    assert_eq!(fcall(&mut c, "bump", "n", &["5"]).unwrap(), 5);
    let _: String = redis::cmd("SAVE").query(&mut c).unwrap();
    // redis-check-rdb accepts the file with its FUNCTION2 record.
    let out = std::process::Command::new("redis-check-rdb")
        .arg(s.dir.path().join("dump.rdb"))
        .output()
        .expect("redis-check-rdb");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("RDB looks OK"), "{text}");
    let dir = s.term();
    let s = TestServer::start_in(dir, args);
    let mut c = s.conn();
    assert_eq!(fcall(&mut c, "bump", "n", &["1"]).unwrap(), 6);
    let v: i64 = redis::cmd("FCALL_RO")
        .arg("peek")
        .arg(1)
        .arg("n")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, 6);
}

#[test]
fn functions_survive_restarts_with_appendonly() {
    for preamble in ["yes", "no"] {
        let args = &[
            "--appendonly",
            "yes",
            "--save",
            "",
            "--aof-use-rdb-preamble",
            preamble,
        ];
        let s = TestServer::start_with(args);
        let mut c = s.conn();
        load(&mut c, LIB);
        load(
            &mut c,
            "#!lua name=gone\nredis.register_function('g', function() return 1 end)",
        );
        let _: String = redis::cmd("FUNCTION")
            .arg("DELETE")
            .arg("gone")
            .query(&mut c)
            .unwrap();
        assert_eq!(fcall(&mut c, "bump", "n", &["2"]).unwrap(), 2);
        // Replayed from the incr file: FUNCTION LOAD, FUNCTION DELETE, the INCRBY.
        let dir = s.term();
        let s = TestServer::start_in(dir, args);
        let mut c = s.conn();
        assert_eq!(fcall(&mut c, "bump", "n", &["1"]).unwrap(), 3, "{preamble}");
        assert!(fcall(&mut c, "g", "n", &[]).is_err());
        // After a rewrite the library lives in the base file only.
        let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
        assert!(wait_for(Duration::from_secs(20), || {
            info_field(&mut c, "aof_rewrite_in_progress") == "0"
                && info_field(&mut c, "aof_rewrites") == "1"
        }));
        let dir = s.term();
        let s = TestServer::start_in(dir, args);
        let mut c = s.conn();
        assert_eq!(fcall(&mut c, "bump", "n", &["1"]).unwrap(), 4, "{preamble}");
        let libs: Vec<redis::Value> = redis::cmd("FUNCTION").arg("LIST").query(&mut c).unwrap();
        assert_eq!(libs.len(), 1);
    }
}

#[test]
fn dump_from_redis_restores_on_rill_and_back() {
    let oracle = OracleRedis::start(&[]);
    let mut o = oracle.conn();
    load(&mut o, LIB);
    let payload: Vec<u8> = redis::cmd("FUNCTION").arg("DUMP").query(&mut o).unwrap();
    let s = TestServer::start();
    let mut c = s.conn();
    let _: String = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(&payload)
        .query(&mut c)
        .unwrap();
    assert_eq!(fcall(&mut c, "bump", "k", &["7"]).unwrap(), 7);
    // Rill's payload is byte for byte Redis's, and restores there.
    let ours: Vec<u8> = redis::cmd("FUNCTION").arg("DUMP").query(&mut c).unwrap();
    assert_eq!(ours, payload);
    let _: String = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(&ours)
        .arg("REPLACE")
        .query(&mut o)
        .unwrap();
    assert_eq!(fcall(&mut o, "bump", "k", &["2"]).unwrap(), 2);
}

#[test]
fn rdb_with_functions_moves_between_redis_and_rill() {
    // redis-server's file loads on Rill.
    let oracle = OracleRedis::start(&["--enable-debug-command", "yes"]);
    let mut o = oracle.conn();
    load(&mut o, LIB);
    let _: () = redis::cmd("SET").arg("n").arg(40).query(&mut o).unwrap();
    let _: String = redis::cmd("SAVE").query(&mut o).unwrap();
    let dir_of: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("dir")
        .query(&mut o)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        std::path::Path::new(&dir_of[1]).join("dump.rdb"),
        dir.path().join("dump.rdb"),
    )
    .unwrap();
    let s = TestServer::start_in(dir, &["--save", ""]);
    let mut c = s.conn();
    assert_eq!(fcall(&mut c, "bump", "n", &["2"]).unwrap(), 42);
    // Rill's file loads on redis-server (DEBUG RELOAD there reads it back in).
    let _: String = redis::cmd("SAVE").query(&mut c).unwrap();
    std::fs::copy(
        s.dir.path().join("dump.rdb"),
        std::path::Path::new(&dir_of[1]).join("dump.rdb"),
    )
    .unwrap();
    let _: String = redis::cmd("FUNCTION").arg("FLUSH").query(&mut o).unwrap();
    let _: String = redis::cmd("DEBUG")
        .arg("RELOAD")
        .arg("NOSAVE")
        .query(&mut o)
        .unwrap();
    assert_eq!(fcall(&mut o, "bump", "n", &["1"]).unwrap(), 43);
}

#[test]
fn replicas_get_functions_by_full_sync_and_stream() {
    let m = TestServer::start_with(&["--save", ""]);
    let mut mc = m.conn();
    load(&mut mc, LIB);
    let r = TestServer::start_with(&["--save", ""]);
    let mut rc = r.conn();
    replicaof_port(&mut rc, m.port());
    // Full sync carried the library; the stream carries the next ones.
    replica_follows(&mut mc, &mut rc, 3, "later", 9);
    // A replica refuses FUNCTION LOAD from its clients.
    let e = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(LIB)
        .query::<String>(&mut rc)
        .unwrap_err();
    assert!(e.to_string().contains("read only replica"), "{e}");
}

#[test]
fn redis_py_fcall() {
    let s = TestServer::start();
    let out = python(
        &format!(
            r#"
import sys, redis
r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
print(r.function_load({LIB:?}))
print(r.fcall('bump', 1, 'k', 4))
print(r.fcall_ro('peek', 1, 'k'))
print(r.function_list()[0][1])
try:
    r.fcall_ro('bump', 1, 'k', 1)
except redis.ResponseError as e:
    print('error:', e)
"#
        ),
        &s.port().to_string(),
    );
    assert_eq!(
        out,
        "counter\n4\n4\ncounter\nerror: Can not execute a script with write flag using *_ro command.\n"
    );
}

#[test]
fn functions_replicate_between_redis_server_and_rill() {
    // redis-server master, Rill replica: the full sync's RDB and then the stream.
    let m = OracleRedis::start(&["--repl-diskless-sync-delay", "0"]);
    let mut mc = m.conn();
    load(&mut mc, LIB);
    let r = TestServer::start_with(&["--save", ""]);
    let mut rc = r.conn();
    replicaof_port(&mut rc, m.port);
    replica_follows(&mut mc, &mut rc, 4, "more", 5);

    // Rill master, redis-server replica.
    let m = TestServer::start_with(&["--save", ""]);
    let mut mc = m.conn();
    load(&mut mc, LIB);
    let r = OracleRedis::start(&[]);
    let mut rc = r.conn();
    replicaof_port(&mut rc, m.port());
    assert!(wait_for(Duration::from_secs(20), || caught_up(
        &mut mc, &mut rc
    )));
    assert_eq!(fcall(&mut mc, "bump", "n", &["6"]).unwrap(), 6);
    assert!(wait_for(Duration::from_secs(20), || caught_up(
        &mut mc, &mut rc
    )));
    let v: i64 = redis::cmd("FCALL_RO")
        .arg("peek")
        .arg(1)
        .arg("n")
        .query(&mut rc)
        .unwrap();
    assert_eq!(v, 6);
}
