//! Generic key commands and expiry through real clients.

use crate::common::*;
use std::collections::HashSet;
use std::time::Duration;

fn dbsize(c: &mut redis::Connection) -> i64 {
    redis::cmd("DBSIZE").query(c).unwrap()
}

#[test]
fn active_expiry_removes_keys_never_read_again() {
    let s = TestServer::start();
    let mut c = s.conn();
    let mut p = redis::pipe();
    for i in 0..200 {
        p.cmd("SET").arg(format!("volatile:{i}")).arg("v").ignore();
        p.cmd("PEXPIRE")
            .arg(format!("volatile:{i}"))
            .arg(100)
            .ignore();
    }
    for i in 0..5 {
        p.cmd("SET").arg(format!("keep:{i}")).arg("v").ignore();
    }
    let () = p.query(&mut c).unwrap();
    assert_eq!(dbsize(&mut c), 205);
    // DBSIZE does not look keys up, so only the active expiry cycle can shrink it.
    assert!(
        wait_for(Duration::from_secs(10), || dbsize(&mut c) == 5),
        "volatile keys still present: dbsize {}",
        dbsize(&mut c)
    );
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
    assert!(keys.iter().all(|k| k.starts_with("keep:")), "{keys:?}");
}

#[test]
fn lazy_expiry_on_access() {
    let s = TestServer::start();
    let mut c = s.conn();
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let n: i64 = redis::cmd("PEXPIRE")
        .arg("k")
        .arg(50)
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 1);
    let pttl: i64 = redis::cmd("PTTL").arg("k").query(&mut c).unwrap();
    assert!((1..=50).contains(&pttl), "{pttl}");
    assert!(wait_for(Duration::from_secs(5), || {
        let v: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
        v.is_none()
    }));
    let ttl: i64 = redis::cmd("TTL").arg("k").query(&mut c).unwrap();
    assert_eq!(ttl, -2);
}

#[test]
fn scan_returns_every_key_present_throughout_despite_writes() {
    let s = TestServer::start();
    let mut c = s.conn();
    let mut p = redis::pipe();
    for i in 0..1000 {
        p.cmd("SET").arg(format!("stable:{i}")).arg(i).ignore();
        p.cmd("SET").arg(format!("churn:{i}")).arg(i).ignore();
    }
    let () = p.query(&mut c).unwrap();
    let mut other = s.conn();
    let mut seen = HashSet::new();
    let mut cursor: u64 = 0;
    let mut step = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(25)
            .query(&mut c)
            .unwrap();
        seen.extend(keys);
        // Between steps another client deletes churn keys and adds new ones.
        let _: i64 = redis::cmd("DEL")
            .arg(format!("churn:{}", step * 7 % 1000))
            .arg(format!("churn:{}", (step * 13 + 1) % 1000))
            .query(&mut other)
            .unwrap();
        let () = redis::cmd("SET")
            .arg(format!("new:{step}"))
            .arg(1)
            .query(&mut other)
            .unwrap();
        step += 1;
        cursor = next;
        if cursor == 0 {
            break;
        }
        assert!(step < 10_000, "scan does not terminate");
    }
    for i in 0..1000 {
        assert!(seen.contains(&format!("stable:{i}")), "stable:{i} missed");
    }
    // MATCH and TYPE through the client.
    let (_, hit): (u64, Vec<String>) = redis::cmd("SCAN")
        .arg(0)
        .arg("MATCH")
        .arg("stable:99?")
        .arg("COUNT")
        .arg(100_000)
        .arg("TYPE")
        .arg("string")
        .query(&mut c)
        .unwrap();
    assert_eq!(hit.len(), 10, "{hit:?}");
}

#[test]
fn error_texts_through_redis_cli() {
    let s = TestServer::start();
    assert_eq!(s.cli(&["SET", "k", "v"]).trim(), "OK");
    let cases: &[(&[&str], &str)] = &[
        (
            &["EXPIRE", "k", "10", "NX", "XX"],
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ),
        (
            &["PEXPIRE", "k", "10", "GT", "LT"],
            "ERR GT and LT options at the same time are not compatible",
        ),
        (
            &["EXPIRE", "k", "10", "bogus"],
            "ERR Unsupported option bogus",
        ),
        (
            &["EXPIRE", "k", "9223372036854775807"],
            "ERR invalid expire time in 'expire' command",
        ),
        (&["RENAME", "nope", "x"], "ERR no such key"),
        (
            &["MOVE", "k", "0"],
            "ERR source and destination objects are the same",
        ),
        (
            &["COPY", "k", "k2", "DB", "99"],
            "ERR DB index is out of range",
        ),
        (&["SCAN", "abc"], "ERR invalid cursor"),
        (
            &["OBJECT", "nope", "k"],
            "ERR unknown subcommand 'nope'. Try OBJECT HELP.",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(s.cli(args).trim(), *want, "{args:?}");
    }
}

#[test]
fn move_and_copy_across_databases() {
    let s = TestServer::start();
    let mut c = s.conn();
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let _: i64 = redis::cmd("EXPIRE")
        .arg("k")
        .arg(1000)
        .query(&mut c)
        .unwrap();
    let n: i64 = redis::cmd("COPY")
        .arg("k")
        .arg("k")
        .arg("DB")
        .arg(2)
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 1);
    let n: i64 = redis::cmd("MOVE").arg("k").arg(3).query(&mut c).unwrap();
    assert_eq!(n, 1);
    assert_eq!(dbsize(&mut c), 0);
    for db in ["2", "3"] {
        assert_eq!(s.cli(&["-n", db, "GET", "k"]).trim(), "v", "db {db}");
        let ttl: i64 = s.cli(&["-n", db, "TTL", "k"]).trim().parse().unwrap();
        assert!((990..=1000).contains(&ttl), "db {db} ttl {ttl}");
    }
}

#[test]
fn rename_keeps_ttl_and_type_reports() {
    let s = TestServer::start();
    let mut c = s.conn();
    let () = redis::cmd("SET").arg("a").arg("1").query(&mut c).unwrap();
    let _: i64 = redis::cmd("PEXPIRE")
        .arg("a")
        .arg(100_000)
        .query(&mut c)
        .unwrap();
    let () = redis::cmd("RENAME")
        .arg("a")
        .arg("b")
        .query(&mut c)
        .unwrap();
    let pttl: i64 = redis::cmd("PTTL").arg("b").query(&mut c).unwrap();
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    let t: String = redis::cmd("TYPE").arg("b").query(&mut c).unwrap();
    assert_eq!(t, "string");
    let t: String = redis::cmd("TYPE").arg("a").query(&mut c).unwrap();
    assert_eq!(t, "none");
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("b")
        .query(&mut c)
        .unwrap();
    assert_eq!(enc, "int");
    let k: Option<String> = redis::cmd("RANDOMKEY").query(&mut c).unwrap();
    assert_eq!(k.as_deref(), Some("b"));
}
