//! string integration tests: the string and bitmap commands through the `redis` crate and
//! redis-cli. Expected replies were taken from redis-server 7.0.15.

#[allow(unused_imports)]
use crate::common::*;
use redis::{RedisResult, Value};

fn q<T: redis::FromRedisValue>(c: &mut redis::Connection, args: &[&str]) -> RedisResult<T> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
}

#[test]
fn set_options_and_errors() {
    let s = TestServer::start();
    let mut c = s.conn();
    let old: Option<String> = q(&mut c, &["SET", "k", "v", "NX", "GET"]).unwrap();
    assert_eq!(old, None);
    let old: Option<String> = q(&mut c, &["SET", "k", "w", "GET", "EX", "100"]).unwrap();
    assert_eq!(old.as_deref(), Some("v"));
    let e = q::<()>(&mut c, &["SET", "k", "v", "NX", "XX"]).unwrap_err();
    assert_eq!(e.code(), Some("ERR"));
    assert!(e.to_string().contains("syntax error"), "{e}");
    let e = q::<()>(&mut c, &["SET", "k", "v", "EX", "0"]).unwrap_err();
    assert!(
        e.to_string()
            .contains("invalid expire time in 'set' command"),
        "{e}"
    );
    // SETEX through redis-cli shows the exact error line.
    assert_eq!(
        s.cli(&["SETEX", "k", "-5", "v"]).trim(),
        "ERR invalid expire time in 'setex' command"
    );
    let v: String = q(&mut c, &["GET", "k"]).unwrap();
    assert_eq!(v, "w");
}

#[test]
fn counters_and_incrbyfloat() {
    let s = TestServer::start();
    let mut c = s.conn();
    let n: i64 = q(&mut c, &["INCRBY", "n", "41"]).unwrap();
    assert_eq!(n, 41);
    let n: i64 = q(&mut c, &["INCR", "n"]).unwrap();
    assert_eq!(n, 42);
    let f: String = q(&mut c, &["INCRBYFLOAT", "f", "0.1"]).unwrap();
    assert_eq!(f, "0.1");
    let f: String = q(&mut c, &["INCRBYFLOAT", "f", "0.2"]).unwrap();
    assert_eq!(f, "0.3");
    assert_eq!(
        s.cli(&["INCRBYFLOAT", "f", "inf"]).trim(),
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(
        s.cli(&["DECRBY", "n", "-9223372036854775808"]).trim(),
        "ERR decrement would overflow"
    );
    let _: () = q(&mut c, &["SET", "x", "1e5"]).unwrap();
    let e = q::<i64>(&mut c, &["INCR", "x"]).unwrap_err();
    assert!(e.to_string().contains("not an integer"), "{e}");
}

#[test]
fn mget_mset_and_ranges() {
    let s = TestServer::start();
    let mut c = s.conn();
    let _: () = q(&mut c, &["MSET", "a", "Hello World", "b", "2"]).unwrap();
    let vals: Vec<Option<String>> = q(&mut c, &["MGET", "a", "nokey", "b"]).unwrap();
    assert_eq!(
        vals,
        vec![Some("Hello World".to_string()), None, Some("2".to_string())]
    );
    let n: i64 = q(&mut c, &["MSETNX", "b", "x", "c", "y"]).unwrap();
    assert_eq!(n, 0);
    let r: String = q(&mut c, &["GETRANGE", "a", "-5", "-1"]).unwrap();
    assert_eq!(r, "World");
    let n: i64 = q(&mut c, &["SETRANGE", "a", "6", "Redis"]).unwrap();
    assert_eq!(n, 11);
    let n: i64 = q(&mut c, &["APPEND", "a", "!"]).unwrap();
    assert_eq!(n, 12);
    let v: String = q(&mut c, &["GETDEL", "a"]).unwrap();
    assert_eq!(v, "Hello Redis!");
    let n: i64 = q(&mut c, &["EXISTS", "a"]).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn bitmaps() {
    let s = TestServer::start();
    let mut c = s.conn();
    let old: i64 = q(&mut c, &["SETBIT", "b", "7", "1"]).unwrap();
    assert_eq!(old, 0);
    let n: i64 = q(&mut c, &["SETBIT", "b", "100", "1"]).unwrap();
    assert_eq!(n, 0);
    let n: i64 = q(&mut c, &["BITCOUNT", "b"]).unwrap();
    assert_eq!(n, 2);
    let n: i64 = q(&mut c, &["BITPOS", "b", "1", "1"]).unwrap();
    assert_eq!(n, 100);
    let n: i64 = q(&mut c, &["BITOP", "NOT", "d", "b"]).unwrap();
    assert_eq!(n, 13);
    let n: i64 = q(&mut c, &["BITCOUNT", "d", "0", "7", "BIT"]).unwrap();
    assert_eq!(n, 7);
    let r: Vec<Option<i64>> = q(
        &mut c,
        &[
            "BITFIELD", "f", "SET", "i8", "0", "100", "INCRBY", "i8", "0", "100", "OVERFLOW",
            "FAIL", "INCRBY", "i8", "0", "-100",
        ],
    )
    .unwrap();
    assert_eq!(r, vec![Some(0), Some(-56), None]);
    assert_eq!(
        s.cli(&["SETBIT", "b", "4294967296", "1"]).trim(),
        "ERR bit offset is not an integer or out of range"
    );
    assert_eq!(
        s.cli(&["BITFIELD_RO", "f", "SET", "i8", "0", "1"]).trim(),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
}

#[test]
fn lcs_idx_through_redis_cli() {
    let s = TestServer::start();
    let mut c = s.conn();
    let _: () = q(&mut c, &["MSET", "k1", "ohmytext", "k2", "mynewtext"]).unwrap();
    let v: String = q(&mut c, &["LCS", "k1", "k2"]).unwrap();
    assert_eq!(v, "mytext");
    let out = s.cli(&["LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]);
    assert_eq!(out, "matches\n4\n7\n5\n8\n4\nlen\n6\n");
    let r: Value = q(&mut c, &["LCS", "k1", "k2", "LEN"]).unwrap();
    assert_eq!(r, Value::Int(6));
}
