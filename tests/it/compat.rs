//! Differential test: each script in `tests/compat/` runs against Debian's redis-server 7.0
//! (the oracle) and against Rill, and every reply is compared exactly: type, bytes, error
//! text. Both servers are fresh for each script.
//!
//! # Script syntax
//!
//! One command per line in redis-cli quoting (`rill_protocol::resp::split_args`); blank
//! lines and lines starting with `#` are skipped. The first command must be `FLUSHALL`.
//! A line may start with one marker, separated by a space:
//!
//! | marker | replies are compared ... | for |
//! | --- | --- | --- |
//! | (none) | exactly | almost everything |
//! | `~`  | ignoring the order of the top-level elements (a RESP3 map as a set of pairs); RESP3 maps and sets nested inside are unordered too | SMEMBERS, KEYS, HKEYS, SUNION |
//! | `~~` | ignoring order at every depth | SCAN/SSCAN replies, nested sets |
//! | `~2` | as a set of (field, value) pairs of a flat array | RESP2 HGETALL, CONFIG GET |
//! | `?`  | on shape only: types, aggregate lengths and error texts | SPOP, RANDOMKEY, TIME, HELLO |
//! | `@N` | exactly, except integers may differ by up to N | TTL, PTTL, OBJECT IDLETIME |
//! | `!`  | not at all: the command runs on both (setup) | |
//!
//! `HELLO 3` switches the connection to RESP3 (the reader parses both protocols); after
//! `QUIT` the harness reconnects (RESP2 again). A line `READ` sends nothing and reads the
//! next reply on both connections (pushed messages, further SUBSCRIBE replies).
//!
//! # Enabling scripts
//!
//! [`ENABLED`] lists the scripts run against Rill by `cargo test`; the others wait for
//! their command family to be merged. `RILL_COMPAT=all` (or `RILL_COMPAT=strings,lists`)
//! runs other scripts against Rill and prints the mismatches; add a script to [`ENABLED`]
//! once it reports `0 failed`. Every script, enabled or not, is checked against a second
//! redis-server by `scripts_are_deterministic_on_redis`, so a marker missing on a
//! nondeterministic line shows up before Rill is involved.

use crate::common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Scripts (file stems in tests/compat/) that must pass against Rill: all of them.
const ENABLED: &[&str] = &[
    "basics",
    "blocking",
    "command",
    "config",
    "dump",
    "errors",
    "functions",
    "geo",
    "hashes",
    "hyperloglog",
    "keys",
    "later",
    "lists",
    "lua_libs",
    "multi",
    "persistence",
    "pubsub",
    "resp3",
    "resp3_basics",
    "scripting",
    "server",
    "sets",
    "sort",
    "streams",
    "strings",
    "zsets",
];

/// Arguments both servers start with (on top of port/dir).
const COMMON_ARGS: &[&str] = &["--save", "", "--appendonly", "no", "--loglevel", "warning"];

/// How long one reply may take before the harness calls it a timeout.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// Replies

/// A reply, keeping every distinction RESP makes (simple vs bulk string, null bulk vs null
/// array, RESP3 types), plus the harness's own outcomes for a closed or silent connection.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    NilBulk,
    NilArray,
    /// RESP3 `_`.
    Null,
    /// RESP3 `,`: kept as text, Redis's formatting is part of the contract.
    Double(Vec<u8>),
    Bool(bool),
    BigNumber(Vec<u8>),
    /// RESP3 `=`, including the `txt:` prefix.
    Verbatim(Vec<u8>),
    Array(Vec<V>),
    Set(Vec<V>),
    Push(Vec<V>),
    Map(Vec<(V, V)>),
    /// The connection was closed (or a protocol violation was read).
    Closed(String),
    Timeout,
}

fn quote(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

fn join(items: &[V]) -> String {
    items.iter().map(render).collect::<Vec<_>>().join(", ")
}

/// A one-line rendering that shows the RESP type of everything.
fn render(v: &V) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match v {
        V::Simple(s) => format!("+{}", text(s)),
        V::Error(s) => format!("-{}", text(s)),
        V::Int(i) => format!(":{i}"),
        V::Bulk(b) => quote(b),
        V::NilBulk => "$-1".into(),
        V::NilArray => "*-1".into(),
        V::Null => "_".into(),
        V::Double(d) => format!(",{}", text(d)),
        V::Bool(b) => format!("#{}", if *b { 't' } else { 'f' }),
        V::BigNumber(b) => format!("({}", text(b)),
        V::Verbatim(b) => format!("={}", quote(b)),
        V::Array(a) => format!("*[{}]", join(a)),
        V::Set(a) => format!("~[{}]", join(a)),
        V::Push(a) => format!(">[{}]", join(a)),
        V::Map(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{} => {}", render(k), render(v)))
                .collect();
            format!("%{{{}}}", items.join(", "))
        }
        V::Closed(why) => format!("<connection closed: {why}>"),
        V::Timeout => format!("<no reply within {REPLY_TIMEOUT:?}>"),
    }
}

fn read_line(r: &mut dyn BufRead) -> Result<Vec<u8>, String> {
    let mut line = Vec::new();
    match r.read_until(b'\n', &mut line) {
        Ok(0) => Err("eof".into()),
        Ok(_) if line.ends_with(b"\r\n") => {
            line.truncate(line.len() - 2);
            Ok(line)
        }
        Ok(_) => Err("eof in the middle of a line".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_num(b: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad number {}", quote(b)))
}

/// Reads one reply (RESP2 or RESP3). `Err` carries a description of what went wrong.
fn read_reply(r: &mut dyn BufRead) -> Result<V, String> {
    let line = read_line(r)?;
    let Some((&t, rest)) = line.split_first() else {
        return Err("empty reply line".into());
    };
    let rest = rest.to_vec();
    let items = |r: &mut dyn BufRead, n: i64| -> Result<Vec<V>, String> {
        (0..n).map(|_| read_reply(r)).collect()
    };
    Ok(match t {
        b'+' => V::Simple(rest),
        b'-' => V::Error(rest),
        b':' => V::Int(parse_num(&rest)?),
        b',' => V::Double(rest),
        b'(' => V::BigNumber(rest),
        b'#' => V::Bool(rest == b"t"),
        b'_' => V::Null,
        b'$' | b'=' => {
            let n = parse_num(&rest)?;
            if n < 0 {
                return Ok(V::NilBulk);
            }
            let mut b = vec![0u8; n as usize + 2];
            r.read_exact(&mut b).map_err(|e| e.to_string())?;
            if !b.ends_with(b"\r\n") {
                return Err("bulk not followed by CRLF".into());
            }
            b.truncate(n as usize);
            if t == b'$' {
                V::Bulk(b)
            } else {
                V::Verbatim(b)
            }
        }
        b'*' | b'~' | b'>' => {
            let n = parse_num(&rest)?;
            if n < 0 {
                return Ok(V::NilArray);
            }
            let v = items(r, n)?;
            match t {
                b'*' => V::Array(v),
                b'~' => V::Set(v),
                _ => V::Push(v),
            }
        }
        b'%' => {
            let n = parse_num(&rest)?;
            let mut v = items(r, n * 2)?.into_iter();
            let mut m = Vec::new();
            while let (Some(k), Some(x)) = (v.next(), v.next()) {
                m.push((k, x));
            }
            V::Map(m)
        }
        _ => return Err(format!("unknown reply type in {}", quote(&line))),
    })
}

// ---------------------------------------------------------------------------------------
// Comparison

/// How a line's replies are compared.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Exact,
    Unordered,
    DeepUnordered,
    Pairs,
    Shape,
    Tolerance(i64),
    Ignore,
}

/// Splits a script line into its marker and the command text.
fn parse_marker(line: &str) -> Result<(Mode, &str), String> {
    let (head, rest) = match line.split_once(char::is_whitespace) {
        Some((h, r)) => (h, r.trim_start()),
        None => (line, ""),
    };
    let mode = match head {
        "~" => Mode::Unordered,
        "~~" => Mode::DeepUnordered,
        "~2" => Mode::Pairs,
        "?" => Mode::Shape,
        "!" => Mode::Ignore,
        h if h.starts_with('@') => Mode::Tolerance(
            h[1..]
                .parse()
                .map_err(|_| format!("bad tolerance marker {h:?}"))?,
        ),
        _ => return Ok((Mode::Exact, line)),
    };
    if rest.is_empty() {
        return Err(format!("marker {head:?} without a command"));
    }
    Ok((mode, rest))
}

fn sort_by_render(items: &mut [V]) {
    items.sort_by_cached_key(render);
}

/// Sorts aggregates: every one when `all`, else only RESP3 sets and maps (unordered by
/// definition).
fn sort_nested(v: V, all: bool) -> V {
    match v {
        V::Array(_) | V::Push(_) if all => sort_top(v, all),
        V::Array(a) => V::Array(a.into_iter().map(|x| sort_nested(x, all)).collect()),
        V::Push(a) => V::Push(a.into_iter().map(|x| sort_nested(x, all)).collect()),
        V::Set(_) | V::Map(_) => sort_top(v, all),
        v => v,
    }
}

fn sorted(a: Vec<V>, all: bool) -> Vec<V> {
    let mut a: Vec<V> = a.into_iter().map(|x| sort_nested(x, all)).collect();
    sort_by_render(&mut a);
    a
}

fn sort_top(v: V, all: bool) -> V {
    match v {
        V::Array(a) => V::Array(sorted(a, all)),
        V::Set(a) => V::Set(sorted(a, all)),
        V::Push(a) => V::Push(sorted(a, all)),
        V::Map(m) => {
            let mut m: Vec<(V, V)> = m
                .into_iter()
                .map(|(k, x)| (sort_nested(k, all), sort_nested(x, all)))
                .collect();
            m.sort_by_cached_key(|(k, x)| (render(k), render(x)));
            V::Map(m)
        }
        v => v,
    }
}

/// A flat array as a sorted array of [field, value] pairs (odd lengths stay as they are).
fn pairs(v: V) -> V {
    match v {
        V::Array(a) if a.len() % 2 == 0 => {
            let mut p: Vec<V> = a.chunks(2).map(|c| V::Array(c.to_vec())).collect();
            sort_by_render(&mut p);
            V::Array(p)
        }
        v => v,
    }
}

/// Types and lengths only; error texts stay, they are deterministic.
fn shape(v: &V) -> V {
    match v {
        V::Simple(_) => V::Simple(vec![]),
        V::Int(_) => V::Int(0),
        V::Bulk(_) => V::Bulk(vec![]),
        V::Double(_) => V::Double(vec![]),
        V::Bool(_) => V::Bool(false),
        V::BigNumber(_) => V::BigNumber(vec![]),
        V::Verbatim(_) => V::Verbatim(vec![]),
        V::Array(a) => V::Array(a.iter().map(shape).collect()),
        V::Set(a) => V::Set(a.iter().map(shape).collect()),
        V::Push(a) => V::Push(a.iter().map(shape).collect()),
        V::Map(m) => V::Map(m.iter().map(|(k, x)| (shape(k), shape(x))).collect()),
        v => v.clone(),
    }
}

fn eq_tolerance(a: &V, b: &V, n: i64) -> bool {
    let all = |x: &[V], y: &[V]| {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq_tolerance(p, q, n))
    };
    match (a, b) {
        (V::Int(x), V::Int(y)) => (x - y).abs() <= n,
        (V::Array(x), V::Array(y)) | (V::Set(x), V::Set(y)) | (V::Push(x), V::Push(y)) => all(x, y),
        (V::Map(x), V::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| eq_tolerance(k1, k2, n) && eq_tolerance(v1, v2, n))
        }
        _ => a == b,
    }
}

/// True when `oracle` and `target` agree under `mode`.
fn agree(mode: Mode, oracle: &V, target: &V) -> bool {
    match mode {
        Mode::Exact => oracle == target,
        Mode::Ignore => true,
        Mode::Unordered => sort_top(oracle.clone(), false) == sort_top(target.clone(), false),
        Mode::DeepUnordered => sort_top(oracle.clone(), true) == sort_top(target.clone(), true),
        Mode::Pairs => pairs(oracle.clone()) == pairs(target.clone()),
        Mode::Shape => shape(oracle) == shape(target),
        Mode::Tolerance(n) => eq_tolerance(oracle, target, n),
    }
}

// ---------------------------------------------------------------------------------------
// Connections and servers

/// A synchronous connection that sends argv and reads exactly one reply.
struct Conn {
    addr: SocketAddr,
    stream: Option<(TcpStream, BufReader<TcpStream>)>,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        let mut c = Conn { addr, stream: None };
        c.reconnect();
        c
    }

    fn reconnect(&mut self) {
        self.stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))
            .ok()
            .and_then(|s| {
                s.set_read_timeout(Some(REPLY_TIMEOUT)).ok()?;
                s.set_nodelay(true).ok()?;
                let r = BufReader::new(s.try_clone().ok()?);
                Some((s, r))
            });
    }

    fn call(&mut self, argv: &[Vec<u8>]) -> V {
        let Some((w, r)) = self.stream.as_mut() else {
            return V::Closed("could not connect".into());
        };
        // `READ` (not a Redis command) sends nothing and reads the next reply: pushed
        // messages, and the further replies of a several-channel SUBSCRIBE.
        let reply = if argv.len() == 1 && argv[0] == b"READ" {
            read_reply(r)
        } else {
            let mut req = format!("*{}\r\n", argv.len()).into_bytes();
            for a in argv {
                req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                req.extend_from_slice(a);
                req.extend_from_slice(b"\r\n");
            }
            match w.write_all(&req) {
                Err(e) => Err(e.to_string()),
                Ok(()) => read_reply(r),
            }
        };
        match reply {
            Ok(v) => v,
            Err(e) => {
                // The stream is out of step now; start over for the next line.
                let timed_out = e.contains("timed out") || e.contains("would block");
                self.reconnect();
                if timed_out {
                    V::Timeout
                } else {
                    V::Closed(e)
                }
            }
        }
    }
}

/// A redis-server 7.0 child process on a free port, killed on drop.
struct RedisServer {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    fn start(extra: &[&str]) -> RedisServer {
        let mut last_err = String::new();
        for _ in 0..5 {
            match RedisServer::try_start(extra) {
                Ok(s) => return s,
                Err(e) => last_err = e,
            }
        }
        panic!("redis-server did not start: {last_err}");
    }

    fn try_start(extra: &[&str]) -> Result<RedisServer, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        // Free port: bind :0, read it, release it; a lost race shows up as an exit below.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--daemonize", "no", "--dir"])
            .arg(dir.path())
            .args(COMMON_ARGS)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot run redis-server ({e}): apt-get install redis-server (see scripts/test.sh)")
            })?;
        let mut s = RedisServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = s.child.try_wait() {
                return Err(format!("redis-server exited: {status}"));
            }
            if TcpStream::connect(s.addr).is_ok() {
                // Make sure it is our child answering, not whoever took the port first.
                let mut c = Conn::new(s.addr);
                let want = format!("process_id:{}\r\n", s.child.id());
                match c.call(&[b"INFO".to_vec(), b"server".to_vec()]) {
                    V::Bulk(b) if String::from_utf8_lossy(&b).contains(&want) => return Ok(s),
                    V::Bulk(_) => return Err(format!("port {port} answered by another server")),
                    _ => {}
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("no PONG within 10s".into())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// Running scripts

/// What running scripts produced.
#[derive(Default)]
struct Outcome {
    /// How the report names the server under test.
    target: &'static str,
    passed: usize,
    failed: usize,
    report: String,
}

impl Outcome {
    fn new(target: &'static str) -> Outcome {
        Outcome {
            target,
            ..Outcome::default()
        }
    }

    fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }
}

/// A command line of a script.
#[derive(Debug)]
struct Line {
    no: usize,
    mode: Mode,
    text: String,
    argv: Vec<Vec<u8>>,
}

/// Parses a script; errors name the line.
fn parse_script(name: &str, src: &str) -> Result<Vec<Line>, String> {
    let mut out = Vec::new();
    for (i, raw) in src.lines().enumerate() {
        let no = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (mode, cmd) = parse_marker(t).map_err(|e| format!("{name}:{no}: {e}"))?;
        let argv = rill_protocol::resp::split_args(cmd.as_bytes())
            .ok_or_else(|| format!("{name}:{no}: unbalanced quotes"))?;
        if argv.is_empty() {
            return Err(format!("{name}:{no}: no command"));
        }
        out.push(Line {
            no,
            mode,
            text: cmd.to_string(),
            argv,
        });
    }
    match out.first() {
        Some(l) if l.argv[0].eq_ignore_ascii_case(b"FLUSHALL") => Ok(out),
        _ => Err(format!("{name}: the first command must be FLUSHALL")),
    }
}

/// Shortens a rendering for the report (COMMAND INFO replies run to kilobytes).
fn clip(mut s: String) -> String {
    const MAX: usize = 1500;
    if s.len() > MAX {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        let total = s.len();
        s.truncate(cut);
        s.push_str(&format!("... ({total} chars)"));
    }
    s
}

/// Runs one script against both servers, adding to `out`.
fn run_script(name: &str, src: &str, oracle: SocketAddr, target: SocketAddr, out: &mut Outcome) {
    let lines = match parse_script(name, src) {
        Ok(l) => l,
        Err(e) => {
            out.failed += 1;
            out.report.push_str(&format!("SCRIPT ERROR {e}\n"));
            return;
        }
    };
    let mut a = Conn::new(oracle);
    let mut b = Conn::new(target);
    for line in &lines {
        let ra = a.call(&line.argv);
        let rb = b.call(&line.argv);
        if line.argv[0].eq_ignore_ascii_case(b"QUIT") {
            a.reconnect();
            b.reconnect();
        }
        if line.mode == Mode::Ignore {
            continue;
        }
        if agree(line.mode, &ra, &rb) {
            out.passed += 1;
        } else {
            out.failed += 1;
            let marker = match line.mode {
                Mode::Exact => String::new(),
                m => format!(" ({m:?})"),
            };
            out.report.push_str(&format!(
                "MISMATCH {name}:{}{marker}: {}\n  redis: {}\n  {:6} {}\n",
                line.no,
                line.text,
                clip(render(&ra)),
                format!("{}:", out.target),
                clip(render(&rb))
            ));
        }
    }
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

/// Every script stem in tests/compat/, sorted.
fn all_scripts() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(scripts_dir())
        .expect("tests/compat/")
        .filter_map(|e| {
            let p = e.ok()?.path();
            if p.extension()? != "redis" {
                return None;
            }
            Some(p.file_stem()?.to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    v
}

fn read_script(stem: &str) -> String {
    let p = scripts_dir().join(format!("{stem}.redis"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Runs `scripts`, each against a fresh oracle and a fresh target from `target`.
fn run_all<T>(
    scripts: &[String],
    name: &'static str,
    mut target: impl FnMut() -> (T, SocketAddr),
) -> Outcome {
    let mut out = Outcome::new(name);
    for stem in scripts {
        let oracle = RedisServer::start(&[]);
        let (_guard, addr) = target();
        run_script(
            &format!("{stem}.redis"),
            &read_script(stem),
            oracle.addr,
            addr,
            &mut out,
        );
    }
    out
}

fn start_rill() -> (TestServer, SocketAddr) {
    let s = TestServer::start_with(&["--save", "", "--appendonly", "no"]);
    let addr = s.addr;
    (s, addr)
}

/// Which scripts run against Rill: [`ENABLED`], or what `RILL_COMPAT` names.
fn selected_scripts() -> (Vec<String>, bool) {
    match std::env::var("RILL_COMPAT") {
        Ok(s) if s == "all" => (all_scripts(), false),
        Ok(s) if !s.trim().is_empty() => {
            (s.split(',').map(|x| x.trim().to_string()).collect(), false)
        }
        _ => (ENABLED.iter().map(|s| s.to_string()).collect(), true),
    }
}

#[test]
fn rill_matches_redis() {
    let (scripts, enforced) = selected_scripts();
    let out = run_all(&scripts, "rill", start_rill);
    print!("{}", out.report);
    println!("compat ({}): {}", scripts.join(", "), out.summary());
    if enforced {
        assert!(out.passed > 0, "no command compared");
        assert_eq!(
            out.failed,
            0,
            "Rill differs from redis-server 7.0: {}",
            out.summary()
        );
    }
}

#[test]
fn scripts_are_deterministic_on_redis() {
    let scripts = all_scripts();
    for s in ENABLED {
        assert!(
            scripts.iter().any(|x| x == s),
            "ENABLED names a missing script {s}"
        );
    }
    let out = run_all(&scripts, "redis2", || {
        let s = RedisServer::start(&[]);
        let addr = s.addr;
        (s, addr)
    });
    print!("{}", out.report);
    println!("redis vs redis: {}", out.summary());
    assert!(
        out.passed > 500,
        "suspiciously few commands: {}",
        out.summary()
    );
    assert_eq!(
        out.failed,
        0,
        "a script line needs a marker: {}",
        out.summary()
    );
}

/// The harness notices and reports a difference between two real servers.
#[test]
fn harness_reports_mismatches() {
    let a = RedisServer::start(&[]);
    let b = RedisServer::start(&["--databases", "4"]);
    let script = "\
# comment
FLUSHALL
PING
SELECT 10
SET k \"a b\"
~ SMEMBERS nokey
GET k
! SELECT 11
QUIT
PING
";
    let mut out = Outcome::new("rill");
    run_script("t.redis", script, a.addr, b.addr, &mut out);
    assert_eq!(out.summary(), "7 passed, 1 failed", "{}", out.report);
    assert!(
        out.report.contains(
            "MISMATCH t.redis:4: SELECT 10\n  redis: +OK\n  rill:  -ERR DB index is out of range\n"
        ),
        "{}",
        out.report
    );
    // A script that does not start with FLUSHALL is an error, not a silent pass.
    let mut out = Outcome::new("rill");
    run_script("u.redis", "PING\n", a.addr, b.addr, &mut out);
    assert_eq!(out.failed, 1);
    assert!(out.report.contains("first command must be FLUSHALL"));
}

#[test]
fn reply_reader_keeps_types() {
    let input = b"+OK\r\n-ERR x\r\n:-5\r\n$3\r\na\r\n\r\n$-1\r\n*-1\r\n_\r\n,1.5\r\n#t\r\n(123\r\n=7\r\ntxt:abc\r\n*2\r\n$0\r\n\r\n:1\r\n~1\r\n+a\r\n%1\r\n+k\r\n*0\r\n>1\r\n+m\r\n";
    let mut r = BufReader::new(&input[..]);
    let got: Vec<String> = (0..15)
        .map(|_| render(&read_reply(&mut r).unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            "+OK",
            "-ERR x",
            ":-5",
            "\"a\\r\\n\"",
            "$-1",
            "*-1",
            "_",
            ",1.5",
            "#t",
            "(123",
            "=\"txt:abc\"",
            "*[\"\", :1]",
            "~[+a]",
            "%{+k => *[]}",
            ">[+m]",
        ]
    );
    assert!(read_reply(&mut r).is_err(), "eof is an error");
    assert!(read_reply(&mut BufReader::new(&b"?x\r\n"[..])).is_err());
    assert!(read_reply(&mut BufReader::new(&b"$5\r\nab\r\n"[..])).is_err());
}

#[test]
fn markers_and_comparison_modes() {
    assert_eq!(parse_marker("GET k").unwrap(), (Mode::Exact, "GET k"));
    assert_eq!(
        parse_marker("~ SMEMBERS s").unwrap(),
        (Mode::Unordered, "SMEMBERS s")
    );
    assert_eq!(
        parse_marker("~~ SCAN 0").unwrap(),
        (Mode::DeepUnordered, "SCAN 0")
    );
    assert_eq!(
        parse_marker("~2 HGETALL h").unwrap(),
        (Mode::Pairs, "HGETALL h")
    );
    assert_eq!(parse_marker("? SPOP s").unwrap(), (Mode::Shape, "SPOP s"));
    assert_eq!(
        parse_marker("@2 TTL k").unwrap(),
        (Mode::Tolerance(2), "TTL k")
    );
    assert_eq!(parse_marker("! DEL k").unwrap(), (Mode::Ignore, "DEL k"));
    assert!(parse_marker("@x TTL k").is_err());
    assert!(parse_marker("~").is_err());

    let b = |s: &str| V::Bulk(s.as_bytes().to_vec());
    let arr = |v: &[&str]| V::Array(v.iter().map(|s| b(s)).collect());
    // Exact: bulk vs simple, nil bulk vs nil array, order all matter.
    assert!(!agree(Mode::Exact, &b("OK"), &V::Simple(b"OK".to_vec())));
    assert!(!agree(Mode::Exact, &V::NilBulk, &V::NilArray));
    assert!(!agree(Mode::Exact, &arr(&["a", "b"]), &arr(&["b", "a"])));
    // Unordered: order ignored, multiplicity and content not.
    assert!(agree(Mode::Unordered, &arr(&["a", "b"]), &arr(&["b", "a"])));
    assert!(!agree(
        Mode::Unordered,
        &arr(&["a", "a"]),
        &arr(&["a", "b"])
    ));
    assert!(!agree(Mode::Unordered, &arr(&["a"]), &arr(&["a", "a"])));
    // ... RESP3 set and map, and a set nested in an array.
    let set = |v: &[&str]| V::Set(v.iter().map(|s| b(s)).collect());
    assert!(agree(Mode::Unordered, &set(&["x", "y"]), &set(&["y", "x"])));
    assert!(!agree(Mode::Unordered, &set(&["x"]), &arr(&["x"])));
    let m1 = V::Map(vec![(b("f"), b("1")), (b("g"), b("2"))]);
    let m2 = V::Map(vec![(b("g"), b("2")), (b("f"), b("1"))]);
    let m3 = V::Map(vec![(b("g"), b("1")), (b("f"), b("2"))]);
    assert!(agree(Mode::Unordered, &m1, &m2));
    assert!(!agree(Mode::Unordered, &m1, &m3));
    let nested = |s: V| V::Array(vec![b("0"), s]);
    assert!(agree(
        Mode::Unordered,
        &nested(set(&["p", "q"])),
        &nested(set(&["q", "p"]))
    ));
    assert!(!agree(
        Mode::Unordered,
        &nested(arr(&["p", "q"])),
        &nested(arr(&["q", "p"]))
    ));
    assert!(agree(
        Mode::DeepUnordered,
        &nested(arr(&["p", "q"])),
        &nested(arr(&["q", "p"]))
    ));
    assert!(!agree(
        Mode::DeepUnordered,
        &nested(arr(&["p", "q"])),
        &nested(arr(&["q", "r"]))
    ));
    // Pairs keep each field bound to its value.
    assert!(agree(
        Mode::Pairs,
        &arr(&["f", "1", "g", "2"]),
        &arr(&["g", "2", "f", "1"])
    ));
    assert!(!agree(
        Mode::Pairs,
        &arr(&["f", "1", "g", "2"]),
        &arr(&["f", "2", "g", "1"])
    ));
    // Shape: contents ignored, types, lengths and errors not.
    assert!(agree(Mode::Shape, &arr(&["a", "b"]), &arr(&["c", "d"])));
    assert!(!agree(Mode::Shape, &arr(&["a", "b"]), &arr(&["c"])));
    assert!(!agree(Mode::Shape, &b("a"), &V::Int(1)));
    assert!(!agree(Mode::Shape, &b("a"), &V::NilBulk));
    assert!(!agree(
        Mode::Shape,
        &V::Error(b"ERR a".to_vec()),
        &V::Error(b"ERR b".to_vec())
    ));
    // Tolerance applies to integers only, at any depth.
    assert!(agree(Mode::Tolerance(1), &V::Int(100), &V::Int(99)));
    assert!(!agree(Mode::Tolerance(1), &V::Int(100), &V::Int(98)));
    assert!(agree(
        Mode::Tolerance(1),
        &V::Array(vec![V::Int(5), b("x")]),
        &V::Array(vec![V::Int(6), b("x")])
    ));
    assert!(!agree(Mode::Tolerance(1), &b("5"), &b("6")));
    assert!(agree(Mode::Ignore, &b("a"), &V::Timeout));
}

#[test]
fn script_parsing() {
    let lines = parse_script("s", "FLUSHALL\n# c\n\n  ~ SADD s \"a b\" 'c'\n").unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1].no, 4);
    assert_eq!(lines[1].mode, Mode::Unordered);
    assert_eq!(lines[1].argv, [&b"SADD"[..], b"s", b"a b", b"c"]);
    assert!(parse_script("s", "FLUSHALL\nSET k \"v\n")
        .unwrap_err()
        .contains("s:2: unbalanced"));
    assert!(parse_script("s", "# only\n").is_err());
}
