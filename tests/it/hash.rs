//! Hash commands through the `redis` crate and redis-cli.

use crate::common::*;
use std::collections::HashMap;

#[test]
fn fields_through_redis_crate() {
    let s = TestServer::start();
    let mut c = s.conn();
    let created: i64 = redis::cmd("HSET")
        .arg("h")
        .arg(&["a", "1", "b", "2"])
        .query(&mut c)
        .unwrap();
    assert_eq!(created, 2);
    let all: HashMap<String, String> = redis::cmd("HGETALL").arg("h").query(&mut c).unwrap();
    assert_eq!(all.get("b").map(String::as_str), Some("2"));
    assert_eq!(all.len(), 2);
    let v: i64 = redis::cmd("HINCRBY")
        .arg("h")
        .arg("a")
        .arg(41)
        .query(&mut c)
        .unwrap();
    assert_eq!(v, 42);
    let f: String = redis::cmd("HINCRBYFLOAT")
        .arg("h")
        .arg("f")
        .arg("0.1")
        .query(&mut c)
        .unwrap();
    assert_eq!(f, "0.1");
    let f: String = redis::cmd("HINCRBYFLOAT")
        .arg("h")
        .arg("f")
        .arg("0.2")
        .query(&mut c)
        .unwrap();
    assert_eq!(f, "0.3");
    let e = redis::cmd("HINCRBY")
        .arg("h")
        .arg("f")
        .arg(1)
        .query::<i64>(&mut c)
        .unwrap_err();
    assert!(
        e.to_string().contains("hash value is not an integer"),
        "{e}"
    );
    let deleted: i64 = redis::cmd("HDEL")
        .arg("h")
        .arg(&["a", "b", "f"])
        .query(&mut c)
        .unwrap();
    assert_eq!(deleted, 3);
    let exists: i64 = redis::cmd("EXISTS").arg("h").query(&mut c).unwrap();
    assert_eq!(exists, 0);
}

#[test]
fn resp3_shapes_through_redis_cli() {
    let s = TestServer::start();
    s.cli(&["HSET", "h", "a", "1"]);
    assert_eq!(
        s.cli(&["--no-raw", "-3", "HGETALL", "h"]).trim(),
        "1# \"a\" => \"1\""
    );
    let out = s.cli(&["--no-raw", "-3", "HRANDFIELD", "h", "-2", "WITHVALUES"]);
    assert_eq!(out, "1) 1) \"a\"\n   2) \"1\"\n2) 1) \"a\"\n   2) \"1\"\n");
    assert_eq!(
        s.cli(&["HRANDFIELD", "h", "1", "WITHVALUES", "x"]).trim(),
        "ERR syntax error"
    );
    assert_eq!(s.cli(&["HSCAN", "h", "0"]), "0\na\n1\n");
}
