//! maxmemory and eviction against the real binary.
//!
//! Keys carry 1000-byte values so each key's memory is dominated by its own allocation and
//! maxmemory 5mb holds a few thousand of them. The LRU clock has Redis's one-second
//! resolution, so the LRU test waits for the clock to tick between phases (a wait for a
//! clock, not for the server).

use crate::common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

const VALUE_LEN: usize = 1000;
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn value(i: usize) -> Vec<u8> {
    let mut v = vec![b'v'; VALUE_LEN];
    v[..8].copy_from_slice(format!("{:08}", i % 100_000_000).as_bytes());
    v
}

/// SETs `prefix:<i>` for i in range, pipelined, with an optional EXPIRE per key.
fn write_keys(
    c: &mut redis::Connection,
    prefix: &str,
    range: std::ops::Range<usize>,
    ttl: Option<u64>,
) {
    let keys: Vec<usize> = range.collect();
    for chunk in keys.chunks(200) {
        let mut p = redis::pipe();
        for &i in chunk {
            let k = format!("{prefix}:{i}");
            p.cmd("SET").arg(&k).arg(value(i)).ignore();
            if let Some(t) = ttl {
                p.cmd("EXPIRE").arg(&k).arg(t).ignore();
            }
        }
        let _: () = p.query(c).expect("pipelined SET");
    }
}

/// How many of `prefix:<i>` still exist.
fn survivors(c: &mut redis::Connection, prefix: &str, range: std::ops::Range<usize>) -> usize {
    let keys: Vec<usize> = range.collect();
    let mut n = 0;
    for chunk in keys.chunks(200) {
        let mut p = redis::pipe();
        for &i in chunk {
            p.cmd("EXISTS").arg(format!("{prefix}:{i}"));
        }
        let v: Vec<i64> = p.query(c).expect("EXISTS");
        n += v.iter().sum::<i64>() as usize;
    }
    n
}

fn dbsize(c: &mut redis::Connection) -> usize {
    redis::cmd("DBSIZE").query::<usize>(c).expect("DBSIZE")
}

/// Reads `name:<value>` from INFO <section>, if the server has INFO and the field.
fn info_field(c: &mut redis::Connection, section: &str, name: &str) -> Option<u64> {
    let info: String = redis::cmd("INFO").arg(section).query(c).ok()?;
    info.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|v| v.trim().parse().ok())
    })
}

/// Resident set size of the server process (VmRSS).
fn rss(s: &TestServer) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", s.child.id())).expect("proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// One RESP command on a raw socket; returns the first reply line without CRLF.
fn raw_line(stream: &mut TcpStream, argv: &[&[u8]]) -> String {
    let mut req = format!("*{}\r\n", argv.len()).into_bytes();
    for a in argv {
        req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        req.extend_from_slice(a);
        req.extend_from_slice(b"\r\n");
    }
    stream.write_all(&req).expect("write");
    let mut r = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    r.read_line(&mut line).expect("read");
    let line = line.trim_end().to_string();
    if line.starts_with('$') && line != "$-1" {
        let mut body = String::new();
        r.read_line(&mut body).expect("read bulk");
        return body.trim_end().to_string();
    }
    line
}

/// Writes `fill:<i>` keys until at least `evictions` keys have been evicted (written minus
/// DBSIZE), or `max` keys were written. Returns how many were written.
fn fill_until_evicted(
    c: &mut redis::Connection,
    preexisting: usize,
    evictions: usize,
    ttl: Option<u64>,
    max: usize,
) -> usize {
    let mut written = 0;
    while written < max {
        write_keys(c, "fill", written..written + 100, ttl);
        written += 100;
        if preexisting + written - dbsize(c) >= evictions {
            return written;
        }
    }
    panic!("{evictions} evictions not reached after writing {written} keys");
}

#[test]
fn allkeys_lru_bounds_memory_and_keeps_recently_used_keys() {
    let s = TestServer::start_with(&["--maxmemory", "5mb", "--maxmemory-policy", "allkeys-lru"]);
    let mut c = s.conn();
    let rss_base = rss(&s);
    write_keys(&mut c, "old", 0..2000, None);
    assert_eq!(
        dbsize(&mut c),
        2000,
        "2 MB fits in 5 MB: nothing evicted yet"
    );
    // Make the touch land in a later LRU second, then the new keys in a later one still.
    std::thread::sleep(Duration::from_millis(1100));
    let mut p = redis::pipe();
    for i in 0..1000 {
        p.cmd("GET").arg(format!("old:{i}")).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    std::thread::sleep(Duration::from_millis(1100));

    let filled = fill_until_evicted(&mut c, 2000, 1000, None, 20_000);
    let touched = survivors(&mut c, "old", 0..1000);
    let untouched = survivors(&mut c, "old", 1000..2000);
    assert!(
        touched > 2 * untouched && touched >= 600,
        "touched survivors {touched}, untouched survivors {untouched}"
    );

    // Far more than maxmemory: 40 MB more.
    write_keys(&mut c, "bulk", 0..40_000, None);
    let n = dbsize(&mut c);
    assert!(n < 6000, "{n} keys of 1 KB kept under maxmemory 5mb");
    assert!(n > 1000, "eviction went too far: {n} keys left");
    // The newest keys survive (ties within the LRU clock's second are broken at random).
    let newest = survivors(&mut c, "bulk", 39_900..40_000);
    assert!(newest >= 90, "{newest} of the 100 newest keys survived");
    let grown = rss(&s).saturating_sub(rss_base);
    eprintln!(
        "allkeys-lru: touched {touched} untouched {untouched} dbsize {n} newest {newest} rss +{grown}"
    );
    assert!(
        grown < 25 << 20,
        "RSS grew by {grown} bytes while writing ~44 MB"
    );
    if let Some(used) = info_field(&mut c, "memory", "used_memory") {
        assert!(used < 8 << 20, "used_memory {used} with maxmemory 5mb");
    }
    if let Some(evicted) = info_field(&mut c, "stats", "evicted_keys") {
        // Eviction runs before every command while over the limit, so the commands
        // since DBSIZE may have evicted a few more: bracket with a DBSIZE taken after.
        let written = 2000 + filled + 40_000;
        let n_after = dbsize(&mut c);
        let evicted = evicted as usize;
        assert!(
            written - n <= evicted && evicted <= written - n_after,
            "every key that went was evicted: {} <= {evicted} <= {}",
            written - n,
            written - n_after
        );
    }
}

#[test]
fn noeviction_refuses_set_with_oom_but_serves_reads() {
    let s = TestServer::start_with(&["--maxmemory", "3mb", "--maxmemory-policy", "noeviction"]);
    let mut raw = TcpStream::connect(s.addr).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(raw_line(&mut raw, &[b"SET", b"first", b"hello"]), "+OK");
    let big = value(0);
    let mut refused_at = None;
    for i in 0..10_000 {
        let k = format!("big:{i}");
        let r = raw_line(&mut raw, &[b"SET", k.as_bytes(), &big]);
        if r != "+OK" {
            assert_eq!(r, format!("-{OOM}"));
            refused_at = Some(i);
            break;
        }
    }
    let refused_at = refused_at.expect("SET never refused after writing 10 MB into 3mb");
    assert!(refused_at > 100, "refused after only {refused_at} keys");
    // Still refused; nothing was evicted.
    assert_eq!(
        raw_line(&mut raw, &[b"SET", b"again", b"x"]),
        format!("-{OOM}")
    );
    assert_eq!(raw_line(&mut raw, &[b"GET", b"first"]), "hello");
    assert_eq!(raw_line(&mut raw, &[b"EXISTS", b"big:0"]), ":1");
    assert_eq!(
        raw_line(&mut raw, &[b"DBSIZE"]),
        format!(":{}", refused_at + 1)
    );
    // Deleting (not DENYOOM) frees memory, and writes are accepted again.
    let mut c = s.conn();
    let mut p = redis::pipe();
    for i in 0..refused_at {
        p.cmd("DEL").arg(format!("big:{i}")).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    assert_eq!(raw_line(&mut raw, &[b"SET", b"again", b"x"]), "+OK");
}

#[test]
fn volatile_policy_without_volatile_keys_is_oom() {
    let s = TestServer::start_with(&["--maxmemory", "3mb", "--maxmemory-policy", "volatile-lru"]);
    let mut raw = TcpStream::connect(s.addr).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let big = value(0);
    let mut refused = false;
    for i in 0..10_000 {
        let k = format!("big:{i}");
        let r = raw_line(&mut raw, &[b"SET", k.as_bytes(), &big]);
        if r != "+OK" {
            assert_eq!(r, format!("-{OOM}"));
            refused = true;
            break;
        }
    }
    assert!(
        refused,
        "volatile-lru with no TTL keys must refuse writes when full"
    );
    assert_eq!(raw_line(&mut raw, &[b"EXISTS", b"big:0"]), ":1");
}

#[test]
fn volatile_ttl_evicts_shortest_ttl_first() {
    let s = TestServer::start_with(&["--maxmemory", "5mb", "--maxmemory-policy", "volatile-ttl"]);
    let mut c = s.conn();
    if redis::cmd("EXPIRE")
        .arg("probe")
        .arg(10)
        .query::<i64>(&mut c)
        .is_err()
    {
        eprintln!("volatile_ttl: EXPIRE not implemented in this build; TTL ordering not checked");
        return;
    }
    write_keys(&mut c, "short", 0..1000, Some(1000));
    write_keys(&mut c, "long", 0..1000, Some(1_000_000));
    write_keys(&mut c, "plain", 0..500, None);
    fill_until_evicted(&mut c, 2500, 2500, Some(100_000), 20_000);
    let short = survivors(&mut c, "short", 0..1000);
    let long = survivors(&mut c, "long", 0..1000);
    let plain = survivors(&mut c, "plain", 0..500);
    eprintln!("volatile-ttl: short {short} long {long} plain {plain}");
    assert_eq!(
        plain, 500,
        "keys without a TTL are never evicted by volatile-ttl"
    );
    assert!(short < 200, "{short} of the shortest-TTL keys survived");
    assert!(long >= 950, "only {long} of the longest-TTL keys survived");
}

#[test]
fn allkeys_lfu_keeps_frequently_read_keys() {
    let s = TestServer::start_with(&["--maxmemory", "5mb", "--maxmemory-policy", "allkeys-lfu"]);
    let mut c = s.conn();
    write_keys(&mut c, "hot", 0..500, None);
    write_keys(&mut c, "cold", 0..500, None);
    for _ in 0..50 {
        let mut p = redis::pipe();
        for i in 0..500 {
            p.cmd("GET").arg(format!("hot:{i}")).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
    }
    fill_until_evicted(&mut c, 1000, 3000, None, 30_000);
    let hot = survivors(&mut c, "hot", 0..500);
    let cold = survivors(&mut c, "cold", 0..500);
    eprintln!("allkeys-lfu: hot {hot} cold {cold}");
    assert!(
        hot >= 475,
        "only {hot} of 500 frequently read keys survived"
    );
    assert!(hot > cold + 150, "hot {hot} vs cold {cold}");
}
