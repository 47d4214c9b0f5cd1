//! TestServer: starts the real binary with `--port 0 --kafka-port 0 --dir <tempdir>` and
//! reads the `listening on <addr>` line it prints, then `kafka listening on <addr>`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestServer {
    pub child: Child,
    pub addr: SocketAddr,
    /// The Kafka listener (None with `--kafka-port -1`).
    pub kafka_addr: Option<SocketAddr>,
    pub dir: tempfile::TempDir,
    args: Vec<String>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(&[])
    }

    /// Starts with extra `--directive value` arguments.
    pub fn start_with(args: &[&str]) -> TestServer {
        TestServer::start_in(tempfile::tempdir().expect("tempdir"), args)
    }

    /// Starts on an existing directory (a restart), and waits until the dataset is loaded.
    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> TestServer {
        let s = TestServer::spawn_in(dir, args);
        s.wait_loaded();
        s
    }

    /// Starts on `dir` and returns as soon as the server listens, possibly still loading
    /// its dataset (replying -LOADING).
    pub fn spawn_in(dir: tempfile::TempDir, args: &[&str]) -> TestServer {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rill-server"));
        cmd.args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--kafka-port",
            "0",
            "--loglevel",
            "warning",
            "--dir",
        ])
        .arg(dir.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn rill-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let (ktx, krx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let (mut sent, mut ksent) = (false, false);
            while let Some(Ok(line)) = lines.next() {
                if !sent {
                    if let Some(a) = line.strip_prefix("listening on ") {
                        let _ = tx.send(a.trim().to_string());
                        sent = true;
                    }
                } else if !ksent {
                    if let Some(a) = line.strip_prefix("kafka listening on ") {
                        let _ = ktx.send(a.trim().to_string());
                        ksent = true;
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("server did not report its address");
        // The last `--kafka-port` wins, as in the server's own parsing.
        let kafka_off = args
            .windows(2)
            .rfind(|w| w[0] == "--kafka-port")
            .is_some_and(|w| w[1] == "-1");
        let kafka_addr = (!kafka_off).then(|| {
            krx.recv_timeout(Duration::from_secs(20))
                .expect("server did not report its Kafka address")
                .parse()
                .expect("kafka addr")
        });
        TestServer {
            child,
            addr: addr.parse().expect("addr"),
            kafka_addr,
            dir,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// Polls PING until the reply is not -LOADING (authenticating first with the
    /// `--requirepass` of the arguments: -NOAUTH comes before -LOADING, as in Redis).
    pub fn wait_loaded(&self) {
        use std::io::{BufRead, Write};
        let auth = self
            .args
            .windows(2)
            .find(|w| w[0] == "--requirepass")
            .map(|w| format!("AUTH {}\r\n", w[1]))
            .unwrap_or_default();
        let ok = wait_for(Duration::from_secs(60), || {
            let Ok(mut s) = std::net::TcpStream::connect(self.addr) else {
                return false;
            };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            if s.write_all(format!("{auth}PING\r\n").as_bytes()).is_err() {
                return false;
            }
            let mut r = std::io::BufReader::new(s);
            let mut line = String::new();
            if !auth.is_empty() && r.read_line(&mut line).is_err() {
                return false;
            }
            line.clear();
            r.read_line(&mut line).is_ok() && !line.is_empty() && !line.starts_with("-LOADING")
        });
        assert!(ok, "server did not finish loading");
    }

    /// SIGKILL, keeping the directory for a restart.
    pub fn kill9(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.take_dir()
    }

    /// SIGTERM and wait for the exit (final save when save rules exist).
    pub fn term(mut self) -> tempfile::TempDir {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        self.take_dir()
    }

    fn take_dir(&mut self) -> tempfile::TempDir {
        std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"))
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The Kafka bootstrap address, `host:port`.
    pub fn kafka(&self) -> String {
        self.kafka_addr.expect("Kafka listener enabled").to_string()
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// A synchronous `redis` crate connection.
    pub fn conn(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).expect("client");
        client.get_connection().expect("connect")
    }

    /// Runs redis-cli with args against this server, returning stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port().to_string()])
            .args(args)
            .output()
            .expect("redis-cli (apt-get install redis-tools)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` until it returns true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Sends raw bytes and reads what comes back until the server closes or `timeout`.
pub fn raw_exchange(addr: SocketAddr, input: &[u8], timeout: Duration) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(timeout)).unwrap();
    s.write_all(input).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    out
}

/// Runs `tests/it/kafka_clients.py CMD BOOTSTRAP ARGS...` (kafka-python / confluent-kafka
/// helpers) with a time limit; asserts success and returns stdout.
pub fn kafka_clients(cmd: &str, bootstrap: &str, args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/kafka_clients.py");
    let out = Command::new("timeout")
        .args(["120", "python3", script, cmd, bootstrap])
        .args(args)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// INFO clients `blocked_clients`.
pub fn blocked_clients(c: &mut redis::Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("clients").query(c).expect("INFO");
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients in INFO")
}

/// Polls (up to 20 s) until exactly `n` clients are blocked.
pub fn wait_blocked(c: &mut redis::Connection, n: i64) {
    assert!(
        wait_for(Duration::from_secs(20), || blocked_clients(c) == n),
        "expected {n} blocked clients, INFO says {}",
        blocked_clients(c)
    );
}

/// CLIENT UNBLOCK `id` `mode` (TIMEOUT or ERROR) of the client blocked in `waiter`, then
/// checks what the waiter got (nil, or the UNBLOCKED error) and that nothing is left
/// blocked.
pub fn client_unblock_and_check(
    c: &mut redis::Connection,
    id: i64,
    mode: &str,
    waiter: std::thread::JoinHandle<redis::RedisResult<redis::Value>>,
) {
    wait_blocked(c, 1);
    let n: i64 = redis::cmd("CLIENT")
        .arg(&["UNBLOCK", &id.to_string(), mode])
        .query(c)
        .expect("CLIENT UNBLOCK");
    assert_eq!(n, 1, "{mode}");
    let r = waiter.join().expect("waiter thread");
    if mode.eq_ignore_ascii_case("error") {
        let e = r.expect_err("an UNBLOCKED error");
        assert!(
            e.to_string()
                .contains("client unblocked via CLIENT UNBLOCK"),
            "{e}"
        );
    } else {
        assert_eq!(r.expect("nil"), redis::Value::Nil);
    }
    wait_blocked(c, 0);
    let n: i64 = redis::cmd("CLIENT")
        .arg(&["UNBLOCK", &id.to_string()])
        .query(c)
        .expect("CLIENT UNBLOCK");
    assert_eq!(n, 0, "no longer blocked");
}

/// Runs a python3 snippet with `sys.argv[1]` = `bootstrap`, within 60 s; asserts success
/// and returns stdout.
pub fn python(code: &str, bootstrap: &str) -> String {
    let out = Command::new("timeout")
        .args(["60", "python3", "-c", code, bootstrap])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs `kcat -b bootstrap args...` with `input` on stdin, within 30 s; asserts success
/// and returns stdout.
pub fn kcat_with_input(bootstrap: &str, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("timeout")
        .args(["30", "kcat", "-b", bootstrap])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kcat (apt-get install kcat)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("kcat");
    assert!(
        out.status.success(),
        "kcat {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Debian's redis-server 7.0 (the oracle) on a free port with `--save '' --appendonly no`
/// in a temp dir, killed on drop.
pub struct OracleRedis {
    pub child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl OracleRedis {
    pub fn start(extra: &[&str]) -> OracleRedis {
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--dir"])
                .arg(dir.path())
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server (apt-get install redis-server)");
            let mut r = OracleRedis {
                child,
                port,
                _dir: dir,
            };
            let want = format!("process_id:{}", r.child.id());
            if wait_for(Duration::from_secs(10), || {
                r.try_conn().is_some_and(|mut c| {
                    redis::cmd("INFO")
                        .arg("server")
                        .query::<String>(&mut c)
                        .is_ok_and(|s| s.contains(&want))
                })
            }) {
                return r;
            }
            let _ = r.child.kill();
        }
        panic!("redis-server did not start");
    }

    pub fn try_conn(&self) -> Option<redis::Connection> {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .ok()?
            .get_connection()
            .ok()
    }

    pub fn conn(&self) -> redis::Connection {
        self.try_conn().expect("connect to redis-server")
    }
}

impl Drop for OracleRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
