//! Connection commands through real sockets: HELLO, AUTH, CLIENT, RESET.

use crate::common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A raw RESP connection for byte-exact checks.
pub struct Raw {
    pub s: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(addr: std::net::SocketAddr) -> Raw {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        Raw { s, buf: Vec::new() }
    }

    pub fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }

    /// Reads until the buffered output satisfies `done` (then drains and returns it), the
    /// peer closes, or `timeout` passes.
    pub fn read_until(&mut self, timeout: Duration, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let start = Instant::now();
        let mut chunk = [0u8; 65536];
        while !done(&self.buf) && start.elapsed() < timeout {
            match self.s.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
        std::mem::take(&mut self.buf)
    }

    /// Sends `req` and reads until the reply is exactly `want` long (or 5 s pass).
    pub fn roundtrip(&mut self, req: &str, want_len: usize) -> String {
        self.send(req.as_bytes());
        let out = self.read_until(Duration::from_secs(5), |b| b.len() >= want_len);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Sends `req` and checks the reply is exactly `want`.
    pub fn expect(&mut self, req: &str, want: &str) {
        assert_eq!(self.roundtrip(req, want.len()), want, "reply to {req:?}");
    }

    /// True once the server has closed the connection (within `timeout`).
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        let start = Instant::now();
        let mut chunk = [0u8; 4096];
        while start.elapsed() < timeout {
            match self.s.read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return true,
            }
        }
        false
    }
}

#[test]
fn hello3_switches_protocol_and_info_is_verbatim() {
    let s = TestServer::start();
    let mut r = Raw::connect(s.addr);
    r.send(b"HELLO 3\r\nINFO server\r\nHELLO 2\r\nCLIENT GETNAME\r\n");
    let out = r.read_until(Duration::from_secs(5), |b| b.ends_with(b"$-1\r\n"));
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:"),
        "{out}"
    );
    assert!(out.contains(
        "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    ));
    assert!(
        out.contains("txt:# Server\r\nredis_version:7.0.15\r\n"),
        "{out}"
    );
    // HELLO 2 answers in RESP2: a flat array.
    assert!(out.contains("*14\r\n$6\r\nserver\r\n"), "{out}");
    // redis-cli in RESP3 mode prints INFO as text.
    let cli = s.cli(&["-3", "INFO", "clients"]);
    assert!(cli.contains("# Clients"), "{cli}");
}

#[test]
fn requirepass_auth_flow() {
    let s = TestServer::start_with(&["--requirepass", "s3cret"]);
    let mut r = Raw::connect(s.addr);
    r.expect("PING\r\n", "-NOAUTH Authentication required.\r\n");
    r.expect(
        "AUTH wrong\r\n",
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    r.expect("AUTH s3cret\r\n", "+OK\r\n");
    r.expect("PING\r\n", "+PONG\r\n");
    r.expect("RESET\r\n", "+RESET\r\n");
    r.expect("PING\r\n", "-NOAUTH Authentication required.\r\n");
    // Clients authenticate through the URL / -a.
    let client = redis::Client::open(format!("redis://:s3cret@{}/", s.addr)).unwrap();
    let mut c = client.get_connection().unwrap();
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
    let out = std::process::Command::new("redis-cli")
        .args([
            "-p",
            &s.port().to_string(),
            "-a",
            "s3cret",
            "--no-auth-warning",
            "PING",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "PONG");
    let mut bad = redis::Client::open(s.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let e = redis::cmd("GET").arg("k").query::<Option<String>>(&mut bad);
    assert!(e
        .unwrap_err()
        .to_string()
        .contains("Authentication required"));
}

#[test]
fn client_list_setname_and_kill_another() {
    let s = TestServer::start();
    let mut victim = s.conn();
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("victim")
        .query(&mut victim)
        .unwrap();
    let vid: i64 = redis::cmd("CLIENT").arg("ID").query(&mut victim).unwrap();
    let mut admin = s.conn();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
    let line = list
        .lines()
        .find(|l| l.contains(" name=victim "))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        line.starts_with(&format!("id={vid} addr=127.0.0.1:")),
        "{line}"
    );
    assert!(line.contains(" cmd=client|id "), "{line}");
    let only: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("ID")
        .arg(vid)
        .query(&mut admin)
        .unwrap();
    assert_eq!(only.lines().count(), 1);
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(vid)
        .query(&mut admin)
        .unwrap();
    assert_eq!(killed, 1);
    assert!(redis::cmd("PING").query::<String>(&mut victim).is_err());
    assert!(wait_for(Duration::from_secs(5), || {
        let l: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
        !l.contains("name=victim")
    }));
    let e = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("1.2.3.4:5")
        .query::<()>(&mut admin)
        .unwrap_err();
    assert!(e.to_string().contains("No such client"), "{e}");
}

#[test]
fn client_kill_old_form_kills_self_after_reply() {
    let s = TestServer::start();
    let mut r = Raw::connect(s.addr);
    let me = r.s.local_addr().unwrap().to_string();
    r.expect(&format!("CLIENT KILL ADDR {me}\r\n"), ":0\r\n");
    r.expect(&format!("CLIENT KILL {me}\r\n"), "+OK\r\n");
    assert!(r.closed_within(Duration::from_secs(5)));
}

#[test]
fn client_pause_write_holds_writes_only() {
    let s = TestServer::start();
    let mut admin = s.conn();
    let mut r = Raw::connect(s.addr);
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(60000)
        .arg("WRITE")
        .query(&mut admin)
        .unwrap();
    r.expect("GET k\r\n", "$-1\r\n");
    r.send(b"SET k v\r\n");
    let held = r.read_until(Duration::from_millis(300), |b| !b.is_empty());
    assert!(held.is_empty(), "write answered during pause: {held:?}");
    let _: () = redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query(&mut admin)
        .unwrap();
    let out = r.read_until(Duration::from_secs(5), |b| b.len() >= 5);
    assert_eq!(out, b"+OK\r\n");
}

#[test]
fn client_reply_off_on_skip() {
    let s = TestServer::start();
    let mut r = Raw::connect(s.addr);
    r.send(
        b"CLIENT REPLY SKIP\r\nPING 1\r\nPING 2\r\nCLIENT REPLY OFF\r\nPING 3\r\nCLIENT REPLY ON\r\nPING 4\r\n",
    );
    let out = r.read_until(Duration::from_secs(5), |b| b.ends_with(b"$1\r\n4\r\n"));
    assert_eq!(
        String::from_utf8_lossy(&out),
        "$1\r\n2\r\n+OK\r\n$1\r\n4\r\n"
    );
}

#[test]
fn setinfo_fails_harmlessly_and_reset_leaves_monitor() {
    let s = TestServer::start();
    let mut r = Raw::connect(s.addr);
    r.expect(
        "CLIENT SETINFO LIB-NAME redis-py\r\nPING\r\n",
        "-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n+PONG\r\n",
    );
    r.send(b"MONITOR\r\nPING\r\n");
    // A monitor still runs commands, and sees its own after their reply.
    let out = r.read_until(Duration::from_secs(5), |b| b.ends_with(b"\"PING\"\r\n"));
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("+OK\r\n+PONG\r\n+"), "{out}");
    assert!(out.ends_with("] \"PING\"\r\n"), "{out}");
    let mut c = s.conn();
    let _: () = redis::cmd("SET").arg("mk").arg("1").query(&mut c).unwrap();
    let feed = r.read_until(Duration::from_secs(5), |b| b.ends_with(b"\"1\"\r\n"));
    assert!(String::from_utf8_lossy(&feed).contains("\"SET\" \"mk\" \"1\""));
    r.expect("RESET\r\n", "+RESET\r\n");
    r.expect("PING\r\n", "+PONG\r\n");
    let _: () = redis::cmd("SET").arg("mk").arg("2").query(&mut c).unwrap();
    let more = r.read_until(Duration::from_millis(200), |b| !b.is_empty());
    assert!(more.is_empty(), "still monitoring: {more:?}");
}
