//! zset integration tests: the real binary through the `redis` crate and redis-cli.

#[allow(unused_imports)]
use crate::common::*;

fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).expect("query")
}

fn q_err(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<redis::Value>(con) {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn zadd_range_and_scores_through_redis_crate() {
    let s = TestServer::start();
    let mut con = s.conn();
    let n: i64 = q(&mut con, &["ZADD", "z", "1", "a", "2.5", "b", "-inf", "c"]);
    assert_eq!(n, 3);
    let v: Vec<(String, f64)> = q(&mut con, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]);
    assert_eq!(
        v,
        vec![
            ("c".to_string(), f64::NEG_INFINITY),
            ("a".to_string(), 1.0),
            ("b".to_string(), 2.5)
        ]
    );
    let v: Vec<String> = q(&mut con, &["ZRANGEBYSCORE", "z", "(1", "+inf"]);
    assert_eq!(v, vec!["b"]);
    let r: Option<i64> = q(&mut con, &["ZREVRANK", "z", "c"]);
    assert_eq!(r, Some(2));
    let sc: f64 = q(&mut con, &["ZINCRBY", "z", "0.5", "b"]);
    assert_eq!(sc, 3.0);
    let e = q_err(&mut con, &["ZADD", "z", "NX", "XX", "1", "a"]);
    assert!(
        e.contains("XX and NX options at the same time are not compatible"),
        "{e}"
    );
    let e = q_err(&mut con, &["ZCOUNT", "z", "x", "1"]);
    assert!(e.contains("min or max is not a float"), "{e}");
    let n: i64 = q(&mut con, &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"]);
    assert_eq!(n, 3);
    let ex: i64 = q(&mut con, &["EXISTS", "z"]);
    assert_eq!(ex, 0);
}

#[test]
fn store_commands_and_pops() {
    let s = TestServer::start();
    let mut con = s.conn();
    let _: i64 = q(&mut con, &["ZADD", "a", "1", "x", "2", "y"]);
    let _: i64 = q(&mut con, &["ZADD", "b", "10", "y", "20", "z"]);
    let n: i64 = q(
        &mut con,
        &["ZUNIONSTORE", "u", "2", "a", "b", "WEIGHTS", "1", "2"],
    );
    assert_eq!(n, 3);
    let v: Vec<(String, f64)> = q(&mut con, &["ZRANGE", "u", "0", "-1", "WITHSCORES"]);
    assert_eq!(
        v,
        vec![
            ("x".to_string(), 1.0),
            ("y".to_string(), 22.0),
            ("z".to_string(), 40.0)
        ]
    );
    let n: i64 = q(&mut con, &["ZINTERCARD", "2", "a", "b"]);
    assert_eq!(n, 1);
    let v: Vec<(String, f64)> = q(&mut con, &["ZPOPMAX", "u", "2"]);
    assert_eq!(v, vec![("z".to_string(), 40.0), ("y".to_string(), 22.0)]);
    let v: redis::Value = q(&mut con, &["ZMPOP", "2", "nokey", "u", "MIN"]);
    let redis::Value::Array(parts) = v else {
        panic!("array")
    };
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0], redis::Value::BulkString(b"u".to_vec()));
    let ex: i64 = q(&mut con, &["EXISTS", "u"]);
    assert_eq!(ex, 0);
}

#[test]
fn resp3_withscores_are_pairs_of_doubles_in_redis_cli() {
    let s = TestServer::start();
    s.cli(&["ZADD", "z", "1", "a", "2", "b"]);
    // Outputs as redis-cli prints them against redis-server 7.0.15.
    let out = s.cli(&["--no-raw", "-3", "ZRANGE", "z", "0", "-1", "WITHSCORES"]);
    assert_eq!(
        out,
        "1) 1) \"a\"\n   2) (double) 1\n2) 1) \"b\"\n   2) (double) 2\n"
    );
    let out = s.cli(&["--no-raw", "ZRANGE", "z", "0", "-1", "WITHSCORES"]);
    assert_eq!(out, "1) \"a\"\n2) \"1\"\n3) \"b\"\n4) \"2\"\n");
    let out = s.cli(&["--no-raw", "-3", "ZSCORE", "z", "b"]);
    assert_eq!(out, "(double) 2\n");
}

#[test]
fn zscan_walks_a_large_set() {
    let s = TestServer::start();
    let mut con = s.conn();
    let mut cmd = redis::cmd("ZADD");
    cmd.arg("big");
    for i in 0..2000 {
        cmd.arg(i).arg(format!("m{i}"));
    }
    let n: i64 = cmd.query(&mut con).unwrap();
    assert_eq!(n, 2000);
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0u64;
    loop {
        let (next, items): (u64, Vec<(String, f64)>) = q(
            &mut con,
            &["ZSCAN", "big", &cursor.to_string(), "COUNT", "100"],
        );
        for (m, sc) in items {
            assert_eq!(format!("m{sc}"), m);
            seen.insert(m);
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 2000);
}
