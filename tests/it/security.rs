//! Limits and access control: maxclients, timeout, query buffer limit,
//! proto-max-bulk-len, protected mode.

use crate::common::*;
use crate::connection::Raw;
use std::io::Write;
use std::time::Duration;

fn info_field(s: &TestServer, section: &str, name: &str) -> u64 {
    let out = s.cli(&["INFO", section]);
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} not in {out}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn maxclients_rejects_extra_connections() {
    let s = TestServer::start_with(&["--maxclients", "2"]);
    let mut a = Raw::connect(s.addr);
    a.expect("PING\r\n", "+PONG\r\n");
    // The start-up probe's connection may still be closing: wait until `a` is alone.
    assert!(wait_for(Duration::from_secs(5), || {
        a.send(b"INFO clients\r\n");
        let info = a.read_until(Duration::from_secs(5), |b| {
            String::from_utf8_lossy(b).contains("clients_in_timeout_table")
        });
        String::from_utf8_lossy(&info).contains("connected_clients:1\r\n")
    }));
    let mut b = Raw::connect(s.addr);
    b.expect("PING\r\n", "+PONG\r\n");
    let mut c = Raw::connect(s.addr);
    let out = c.read_until(Duration::from_secs(5), |b| b.ends_with(b"\r\n"));
    assert_eq!(out, b"-ERR max number of clients reached\r\n");
    assert!(c.closed_within(Duration::from_secs(5)));
    a.send(b"INFO stats\r\n");
    let info = a.read_until(Duration::from_secs(5), |b| {
        String::from_utf8_lossy(b).contains("reply_buffer_expands")
    });
    assert!(String::from_utf8_lossy(&info).contains("rejected_connections:1\r\n"));
    // A slot frees up when a client leaves.
    drop(b);
    assert!(wait_for(Duration::from_secs(5), || {
        let mut d = Raw::connect(s.addr);
        d.roundtrip("PING\r\n", 7) == "+PONG\r\n"
    }));
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let s = TestServer::start_with(&["--timeout", "1"]);
    let mut idle = Raw::connect(s.addr);
    idle.expect("PING\r\n", "+PONG\r\n");
    assert!(idle.closed_within(Duration::from_secs(5)));
    // Without a timeout a client stays.
    let s2 = TestServer::start();
    let mut other = Raw::connect(s2.addr);
    other.expect("PING\r\n", "+PONG\r\n");
    assert!(!other.closed_within(Duration::from_millis(1500)));
}

#[test]
fn unbounded_request_is_disconnected_and_memory_stays_bounded() {
    let s = TestServer::start_with(&["--client-query-buffer-limit", "1mb"]);
    let before = info_field(&s, "memory", "used_memory");
    let mut r = Raw::connect(s.addr);
    r.send(b"*2\r\n$3\r\nSET\r\n$100000000\r\n");
    let chunk = vec![b'x'; 16384];
    let mut write_failed = false;
    for _ in 0..256 {
        if r.s.write_all(&chunk).is_err() {
            write_failed = true;
            break;
        }
    }
    assert!(write_failed || r.closed_within(Duration::from_secs(5)));
    assert_eq!(s.cli(&["PING"]).trim(), "PONG");
    let peak = info_field(&s, "memory", "used_memory_peak");
    assert!(
        peak < before + 16 * 1024 * 1024,
        "peak {peak} before {before}"
    );
}

#[test]
fn oversized_bulk_header_is_a_protocol_error() {
    let s = TestServer::start_with(&["--proto-max-bulk-len", "1mb"]);
    let out = raw_exchange(s.addr, b"*1\r\n$2000000\r\n", Duration::from_secs(5));
    assert_eq!(out, b"-ERR Protocol error: invalid bulk length\r\n");
    let out = raw_exchange(s.addr, b"*1\r\n$1048576\r\n", Duration::from_millis(300));
    assert!(out.is_empty(), "{out:?}");
}

/// A non-loopback IPv4 address of this host, if any (no packet is sent).
fn local_non_loopback_ip() -> Option<std::net::IpAddr> {
    let u = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    u.connect("10.255.255.255:1").ok()?;
    let ip = u.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

const DENIED_START: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.";

#[test]
fn protected_mode_denies_non_loopback_clients() {
    let s = TestServer::start_with(&["--bind", "0.0.0.0"]);
    let lo: std::net::SocketAddr = format!("127.0.0.1:{}", s.port()).parse().unwrap();
    assert_eq!(
        raw_exchange(lo, b"PING\r\nQUIT\r\n", Duration::from_secs(5)),
        b"+PONG\r\n+OK\r\n"
    );
    let Some(ip) = local_non_loopback_ip() else {
        eprintln!("no non-loopback address: only loopback checked");
        return;
    };
    let ext = std::net::SocketAddr::new(ip, s.port());
    let out = String::from_utf8(raw_exchange(ext, b"PING\r\n", Duration::from_secs(5))).unwrap();
    assert!(out.starts_with(DENIED_START), "{out}");
    assert!(out.ends_with("NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"));
    assert_eq!(info_field(&s, "stats", "rejected_connections"), 1);

    let open = TestServer::start_with(&["--bind", "0.0.0.0", "--protected-mode", "no"]);
    let ext = std::net::SocketAddr::new(ip, open.port());
    assert_eq!(
        raw_exchange(ext, b"PING\r\nQUIT\r\n", Duration::from_secs(5)),
        b"+PONG\r\n+OK\r\n"
    );

    let pw = TestServer::start_with(&["--bind", "0.0.0.0", "--requirepass", "x"]);
    let ext = std::net::SocketAddr::new(ip, pw.port());
    assert_eq!(
        raw_exchange(ext, b"PING\r\nQUIT\r\n", Duration::from_secs(5)),
        b"-NOAUTH Authentication required.\r\n+OK\r\n"
    );
}
