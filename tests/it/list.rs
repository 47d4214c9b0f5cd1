//! List commands through the `redis` crate and redis-cli.

use crate::common::*;

#[test]
fn push_range_pop_through_redis_crate() {
    let s = TestServer::start();
    let mut c = s.conn();
    let n: i64 = redis::cmd("RPUSH")
        .arg("l")
        .arg(&["a", "b", "c", "d"])
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 4);
    let all: Vec<String> = redis::cmd("LRANGE")
        .arg("l")
        .arg(0)
        .arg(-1)
        .query(&mut c)
        .unwrap();
    assert_eq!(all, ["a", "b", "c", "d"]);
    let popped: Vec<String> = redis::cmd("LPOP").arg("l").arg(2).query(&mut c).unwrap();
    assert_eq!(popped, ["a", "b"]);
    let moved: String = redis::cmd("LMOVE")
        .arg("l")
        .arg("l2")
        .arg("RIGHT")
        .arg("LEFT")
        .query(&mut c)
        .unwrap();
    assert_eq!(moved, "d");
    // Missing key with a count: a null array, which the crate maps to None.
    let none: Option<Vec<String>> = redis::cmd("LPOP")
        .arg("nokey")
        .arg(2)
        .query(&mut c)
        .unwrap();
    assert_eq!(none, None);
    let pos: Vec<i64> = redis::cmd("LPOS")
        .arg("l")
        .arg("c")
        .arg("COUNT")
        .arg(0)
        .query(&mut c)
        .unwrap();
    assert_eq!(pos, [0]);
    let e = redis::cmd("LSET")
        .arg("nokey")
        .arg(0)
        .arg("x")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(e.to_string().contains("no such key"), "{e}");
}

#[test]
fn error_texts_through_redis_cli() {
    let s = TestServer::start();
    s.cli(&["RPUSH", "l", "a"]);
    assert_eq!(
        s.cli(&["LSET", "l", "5", "x"]).trim(),
        "ERR index out of range"
    );
    assert_eq!(
        s.cli(&["LMPOP", "0", "l", "LEFT"]).trim(),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        s.cli(&["LPOS", "l", "a", "MAXLEN", "-1"]).trim(),
        "ERR MAXLEN can't be negative"
    );
    s.cli(&["SET", "str", "x"]);
    assert_eq!(
        s.cli(&["LPUSH", "str", "a"]).trim(),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    // Emptied lists are deleted.
    assert_eq!(s.cli(&["RPOP", "l"]).trim(), "a");
    assert_eq!(s.cli(&["EXISTS", "l"]).trim(), "0");
}
