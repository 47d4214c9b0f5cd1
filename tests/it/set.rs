//! Set commands through the `redis` crate and redis-cli.

use crate::common::*;
use std::collections::HashSet;

#[test]
fn algebra_through_redis_crate() {
    let s = TestServer::start();
    let mut c = s.conn();
    let n: i64 = redis::cmd("SADD")
        .arg("a")
        .arg(&["1", "2", "3", "x"])
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 4);
    let _: i64 = redis::cmd("SADD")
        .arg("b")
        .arg(&["2", "3", "y"])
        .query(&mut c)
        .unwrap();
    let inter: HashSet<String> = redis::cmd("SINTER")
        .arg("a")
        .arg("b")
        .query(&mut c)
        .unwrap();
    assert_eq!(inter, ["2", "3"].iter().map(|s| s.to_string()).collect());
    let stored: i64 = redis::cmd("SUNIONSTORE")
        .arg("u")
        .arg("a")
        .arg("b")
        .query(&mut c)
        .unwrap();
    assert_eq!(stored, 5);
    let card: i64 = redis::cmd("SINTERCARD")
        .arg(2)
        .arg("a")
        .arg("u")
        .arg("LIMIT")
        .arg(3)
        .query(&mut c)
        .unwrap();
    assert_eq!(card, 3);
    let popped: Vec<String> = redis::cmd("SPOP").arg("b").arg(10).query(&mut c).unwrap();
    assert_eq!(popped.len(), 3);
    let exists: i64 = redis::cmd("EXISTS").arg("b").query(&mut c).unwrap();
    assert_eq!(exists, 0);
}

#[test]
fn intset_order_and_errors_through_redis_cli() {
    let s = TestServer::start();
    s.cli(&["SADD", "s", "30", "-1", "7"]);
    assert_eq!(s.cli(&["SMEMBERS", "s"]), "-1\n7\n30\n");
    assert_eq!(
        s.cli(&["SINTERCARD", "5", "s"]).trim(),
        "ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(
        s.cli(&["SPOP", "s", "-2"]).trim(),
        "ERR value is out of range, must be positive"
    );
    // RESP3: SMEMBERS is a set reply.
    assert!(s
        .cli(&["--no-raw", "-3", "SMEMBERS", "s"])
        .starts_with("1~ \"-1\"\n2~ \"7\""));
}
