//! Stream commands through the `redis` crate: entries, trimming, consumer groups.

use crate::common::*;
use redis::Value;

fn ids(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|e| match e {
                Value::Array(pair) => match &pair[0] {
                    Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                    other => panic!("id: {other:?}"),
                },
                Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("entry: {other:?}"),
            })
            .collect(),
        other => panic!("array expected: {other:?}"),
    }
}

#[test]
fn add_range_trim_and_read() {
    let s = TestServer::start();
    let mut c = s.conn();
    for i in 1..=250 {
        let id: String = redis::cmd("XADD")
            .arg("s")
            .arg(format!("{i}-0"))
            .arg("f")
            .arg(i)
            .query(&mut c)
            .unwrap();
        assert_eq!(id, format!("{i}-0"));
    }
    let auto: String = redis::cmd("XADD")
        .arg("s")
        .arg("*")
        .arg("f")
        .arg("x")
        .query(&mut c)
        .unwrap();
    assert!(auto.ends_with("-0") && auto.len() > 10, "{auto}");
    let n: i64 = redis::cmd("XLEN").arg("s").query(&mut c).unwrap();
    assert_eq!(n, 251);
    let r: Value = redis::cmd("XRANGE")
        .arg("s")
        .arg("(10")
        .arg("12")
        .query(&mut c)
        .unwrap();
    assert_eq!(ids(&r), vec!["11-0", "12-0"]);
    let r: Value = redis::cmd("XREVRANGE")
        .arg("s")
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(2)
        .query(&mut c)
        .unwrap();
    assert_eq!(ids(&r)[1], "250-0");
    // Approximate trimming drops whole 100-entry blocks only.
    let gone: i64 = redis::cmd("XTRIM")
        .arg("s")
        .arg("MAXLEN")
        .arg("~")
        .arg(120)
        .query(&mut c)
        .unwrap();
    assert_eq!(gone, 100);
    let gone: i64 = redis::cmd("XTRIM")
        .arg("s")
        .arg("MAXLEN")
        .arg(120)
        .query(&mut c)
        .unwrap();
    assert_eq!(gone, 31);
    let r: Value = redis::cmd("XRANGE")
        .arg("s")
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(1)
        .query(&mut c)
        .unwrap();
    assert_eq!(ids(&r), vec!["132-0"]);
    let e = redis::cmd("XADD")
        .arg("s")
        .arg("1-1")
        .arg("a")
        .arg("b")
        .query::<String>(&mut c)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("equal or smaller than the target stream top item"),
        "{e}"
    );
    // XREAD from two streams, one missing.
    let r: Value = redis::cmd("XREAD")
        .arg("COUNT")
        .arg(2)
        .arg("STREAMS")
        .arg("s")
        .arg("nokey")
        .arg("200")
        .arg("0")
        .query(&mut c)
        .unwrap();
    let Value::Array(streams) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(streams.len(), 1);
    let Value::Array(pair) = &streams[0] else {
        panic!()
    };
    assert_eq!(pair[0], Value::BulkString(b"s".to_vec()));
    assert_eq!(ids(&pair[1]), vec!["201-0", "202-0"]);
    let r: Value = redis::cmd("XREAD")
        .arg("STREAMS")
        .arg("s")
        .arg("$")
        .query(&mut c)
        .unwrap();
    assert_eq!(r, Value::Nil);
}

#[test]
fn consumer_group_lifecycle() {
    let s = TestServer::start();
    let mut c = s.conn();
    let ok: String = redis::cmd("XGROUP")
        .arg(&["CREATE", "q", "workers", "$", "MKSTREAM"])
        .query(&mut c)
        .unwrap();
    assert_eq!(ok, "OK");
    let e = redis::cmd("XGROUP")
        .arg(&["CREATE", "q", "workers", "$"])
        .query::<String>(&mut c)
        .unwrap_err();
    assert_eq!(e.code(), Some("BUSYGROUP"));
    for i in 1..=5 {
        let _: String = redis::cmd("XADD")
            .arg("q")
            .arg(format!("{i}-0"))
            .arg("job")
            .arg(i)
            .query(&mut c)
            .unwrap();
    }
    let r: Value = redis::cmd("XREADGROUP")
        .arg(&["GROUP", "workers", "a", "COUNT", "3", "STREAMS", "q", ">"])
        .query(&mut c)
        .unwrap();
    let Value::Array(streams) = &r else {
        panic!("{r:?}")
    };
    let Value::Array(pair) = &streams[0] else {
        panic!()
    };
    assert_eq!(ids(&pair[1]), vec!["1-0", "2-0", "3-0"]);
    let r: Value = redis::cmd("XREADGROUP")
        .arg(&["GROUP", "workers", "b", "STREAMS", "q", ">"])
        .query(&mut c)
        .unwrap();
    let Value::Array(streams) = &r else {
        panic!("{r:?}")
    };
    let Value::Array(pair) = &streams[0] else {
        panic!()
    };
    assert_eq!(ids(&pair[1]), vec!["4-0", "5-0"]);
    // Nothing new: a null reply.
    let r: Value = redis::cmd("XREADGROUP")
        .arg(&["GROUP", "workers", "b", "STREAMS", "q", ">"])
        .query(&mut c)
        .unwrap();
    assert_eq!(r, Value::Nil);
    let acked: i64 = redis::cmd("XACK")
        .arg(&["q", "workers", "1-0", "1-0", "9-0"])
        .query(&mut c)
        .unwrap();
    assert_eq!(acked, 1);
    let summary: Value = redis::cmd("XPENDING")
        .arg(&["q", "workers"])
        .query(&mut c)
        .unwrap();
    let Value::Array(sm) = &summary else {
        panic!("{summary:?}")
    };
    assert_eq!(sm[0], Value::Int(4));
    assert_eq!(sm[1], Value::BulkString(b"2-0".to_vec()));
    // a re-reads its own history: 2-0 and 3-0.
    let r: Value = redis::cmd("XREADGROUP")
        .arg(&["GROUP", "workers", "a", "STREAMS", "q", "0"])
        .query(&mut c)
        .unwrap();
    let Value::Array(streams) = &r else {
        panic!("{r:?}")
    };
    let Value::Array(pair) = &streams[0] else {
        panic!()
    };
    assert_eq!(ids(&pair[1]), vec!["2-0", "3-0"]);
    // b claims a's entries; delivery counts go up.
    let r: Value = redis::cmd("XCLAIM")
        .arg(&["q", "workers", "b", "0", "2-0", "3-0", "JUSTID"])
        .query(&mut c)
        .unwrap();
    assert_eq!(ids(&r), vec!["2-0", "3-0"]);
    let r: Value = redis::cmd("XPENDING")
        .arg(&["q", "workers", "-", "+", "10", "a"])
        .query(&mut c)
        .unwrap();
    assert_eq!(r, Value::Array(vec![]));
    let r: Value = redis::cmd("XAUTOCLAIM")
        .arg(&["q", "workers", "a", "0", "0", "COUNT", "2"])
        .query(&mut c)
        .unwrap();
    let Value::Array(parts) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(parts[0], Value::BulkString(b"4-0".to_vec()));
    assert_eq!(ids(&parts[1]), vec!["2-0", "3-0"]);
    let e = redis::cmd("XREADGROUP")
        .arg(&["GROUP", "nogroup", "a", "STREAMS", "q", ">"])
        .query::<Value>(&mut c)
        .unwrap_err();
    assert_eq!(e.code(), Some("NOGROUP"));
    let pending: i64 = redis::cmd("XGROUP")
        .arg(&["DELCONSUMER", "q", "workers", "a"])
        .query(&mut c)
        .unwrap();
    assert_eq!(pending, 2);
    let r: Value = redis::cmd("XINFO")
        .arg(&["GROUPS", "q"])
        .query(&mut c)
        .unwrap();
    let Value::Array(groups) = &r else {
        panic!("{r:?}")
    };
    let Value::Array(fields) = &groups[0] else {
        panic!("{r:?}")
    };
    assert_eq!(fields[3], Value::Int(1)); // one consumer left
    assert_eq!(fields[5], Value::Int(2)); // its two pending entries
    assert_eq!(fields[11], Value::Int(0)); // lag
}

#[test]
fn type_and_wrongtype() {
    let s = TestServer::start();
    let mut c = s.conn();
    let _: String = redis::cmd("XADD")
        .arg(&["s", "1-1", "a", "b"])
        .query(&mut c)
        .unwrap();
    let t: String = redis::cmd("TYPE").arg("s").query(&mut c).unwrap();
    assert_eq!(t, "stream");
    let e = redis::cmd("LPUSH")
        .arg(&["s", "x"])
        .query::<i64>(&mut c)
        .unwrap_err();
    assert_eq!(e.code(), Some("WRONGTYPE"));
    let _: () = redis::cmd("SET").arg(&["k", "v"]).query(&mut c).unwrap();
    let e = redis::cmd("XLEN")
        .arg("k")
        .query::<i64>(&mut c)
        .unwrap_err();
    assert_eq!(e.code(), Some("WRONGTYPE"));
    let used: i64 = redis::cmd("MEMORY")
        .arg(&["USAGE", "s"])
        .query(&mut c)
        .unwrap();
    assert!(used > 0);
}
