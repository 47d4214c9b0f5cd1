//! CONFIG GET/SET/RESETSTAT/REWRITE and config-file start-up through the real binary.

use crate::common::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs the binary with `args` and waits for it to exit (a bad config must stop it).
fn run_to_exit(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rill-server"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rill-server");
    let ok = wait_for(Duration::from_secs(20), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !ok {
        let _ = child.kill();
        let _ = child.wait();
        panic!("server kept running with a bad config");
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server started from a config file (the file must come first on the command line).
struct FileServer {
    child: std::process::Child,
    port: u16,
}

impl FileServer {
    fn start(conf: &std::path::Path, dir: &std::path::Path) -> FileServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rill-server"))
            .arg(conf)
            .args([
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
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rill-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("listening on ") {
                    let _ = tx.send(a.trim().to_string());
                }
            }
        });
        let addr: std::net::SocketAddr = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("server did not report its address")
            .parse()
            .expect("addr");
        FileServer {
            child,
            port: addr.port(),
        }
    }

    fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .expect("client")
            .get_connection()
            .expect("connect")
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_get(c: &mut redis::Connection, pats: &[&str]) -> HashMap<String, String> {
    let mut cmd = redis::cmd("CONFIG");
    cmd.arg("GET");
    for p in pats {
        cmd.arg(*p);
    }
    cmd.query(c).expect("CONFIG GET")
}

fn err_text(e: redis::RedisError) -> String {
    let code = e.code().unwrap_or("").to_string();
    format!("{code} {}", e.detail().unwrap_or(""))
}

#[test]
fn get_several_patterns_and_aliases() {
    let s = TestServer::start();
    let mut c = s.conn();
    let m = config_get(&mut c, &["maxmemory", "*ziplist*", "port"]);
    assert_eq!(m["maxmemory"], "0");
    assert_eq!(m["hash-max-ziplist-entries"], "512");
    assert_eq!(m["port"], s.port().to_string());
    assert_eq!(m.len(), 7, "{m:?}");
    let all = config_get(&mut c, &["*"]);
    // Redis 7.0.15 reports 192 names (aliases included); Rill adds kafka-*, num.partitions,
    // auto.create.topics.enable, kafka-flush, the log.* settings, message.max.bytes,
    // group.initial.rebalance.delay.ms and offsets.topic.segment.bytes.
    assert_eq!(all.len(), 204);
    assert_eq!(all["kafka-flush"], "everysec");
    assert_eq!(all["log.segment.bytes"], "67108864");
    assert_eq!(all["log.retention.ms"], "604800000");
    assert_eq!(all["log.retention.bytes"], "-1");
    assert_eq!(all["slaveof"], "");
    assert_eq!(
        all["client-output-buffer-limit"],
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
}

#[test]
fn get_replies_with_a_map_in_resp3() {
    let s = TestServer::start();
    let out = s.cli(&["-3", "--no-raw", "CONFIG", "GET", "maxmemory-policy"]);
    assert_eq!(out.trim(), "1# \"maxmemory-policy\" => \"noeviction\"");
}

#[test]
fn set_takes_effect_and_errors_match_redis() {
    let s = TestServer::start();
    let mut c = s.conn();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg("2mb")
        .arg("slowlog-max-len")
        .arg("5")
        .query(&mut c)
        .unwrap();
    let m = config_get(&mut c, &["maxmemory", "slowlog-max-len"]);
    assert_eq!(m["maxmemory"], "2097152");
    assert_eq!(m["slowlog-max-len"], "5");
    let cases: &[(&[&str], &str)] = &[
        (
            &["nosuch", "1"],
            "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'",
        ),
        (
            &["databases", "4"],
            "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config",
        ),
        (
            &["maxmemory", "1", "maxmemory", "2"],
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter",
        ),
        (
            &["hz", "abc"],
            "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer",
        ),
        (
            &["appendonly", "maybe"],
            "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'",
        ),
        (
            &["maxmemory", "1.5mb"],
            "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
        ),
        (
            &["dir", "/tmp"],
            "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config",
        ),
        (
            &["save", "100"],
            "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters",
        ),
        (&["maxmemory", "1", "x"], "ERR syntax error"),
    ];
    for (args, want) in cases {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("SET");
        for a in *args {
            cmd.arg(*a);
        }
        let e = cmd.query::<()>(&mut c).unwrap_err();
        assert_eq!(err_text(e), *want, "{args:?}");
    }
    // All or nothing: the good pair before a bad one is not applied.
    let e = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg("3mb")
        .arg("hz")
        .arg("x")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(err_text(e).contains("'hz'"));
    assert_eq!(config_get(&mut c, &["maxmemory"])["maxmemory"], "2097152");
}

#[test]
fn set_is_seen_by_the_rest_of_a_pipeline() {
    let s = TestServer::start();
    let mut c = s.conn();
    let (policy, effort): (HashMap<String, String>, HashMap<String, String>) = redis::pipe()
        .cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .ignore()
        .cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory-policy")
        .cmd("CONFIG")
        .arg("GET")
        .arg("active-expire-effort")
        .query(&mut c)
        .unwrap();
    assert_eq!(policy["maxmemory-policy"], "allkeys-lru");
    assert_eq!(effort["active-expire-effort"], "1");
}

#[test]
fn resetstat_clears_info_counters() {
    let s = TestServer::start();
    let mut c = s.conn();
    for _ in 0..3 {
        let _: String = redis::cmd("PING").query(&mut c).unwrap();
    }
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    let st = s.cli(&["CONFIG", "RESETSTAT"]);
    assert_eq!(st.trim(), "OK");
    let help = s.cli(&["CONFIG", "HELP"]);
    assert!(help.contains("RESETSTAT"), "{help}");
}

#[test]
fn rewrite_without_file_is_an_error() {
    let s = TestServer::start();
    let mut c = s.conn();
    let e = redis::cmd("CONFIG")
        .arg("REWRITE")
        .query::<()>(&mut c)
        .unwrap_err();
    assert_eq!(
        err_text(e),
        "ERR The server is running without a config file"
    );
}

#[test]
fn rewrite_updates_the_file_keeping_comments() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("rill.conf");
    std::fs::write(
        &conf,
        "# keep me\nmaxmemory 1mb\n\n# and me\nslowlog-max-len 64\n",
    )
    .unwrap();
    let s = FileServer::start(&conf, dir.path());
    let mut c = s.conn();
    assert_eq!(config_get(&mut c, &["maxmemory"])["maxmemory"], "1048576");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg("4mb")
        .arg("maxmemory-policy")
        .arg("allkeys-lfu")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("CONFIG").arg("REWRITE").query(&mut c).unwrap();
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(
        text.starts_with("# keep me\nmaxmemory 4mb\n\n# and me\nslowlog-max-len 64\n"),
        "{text}"
    );
    assert!(text.contains("# Generated by CONFIG REWRITE\n"), "{text}");
    assert!(text.contains("\nmaxmemory-policy allkeys-lfu\n"), "{text}");
    // Command-line overrides are part of the running config too, as in Redis.
    assert!(text.contains("\nport 0\n"), "{text}");
}

#[test]
fn bad_config_file_stops_startup_naming_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "# ok\nport 0\nnot-a-directive 5\n").unwrap();
    let (code, stderr) = run_to_exit(&[conf.to_str().unwrap()]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("FATAL CONFIG FILE ERROR"), "{stderr}");
    assert!(stderr.contains("bad.conf, at line 3"), "{stderr}");
    assert!(stderr.contains(">>> 'not-a-directive 5'"), "{stderr}");
    assert!(
        stderr.contains("Bad directive or wrong number of arguments"),
        "{stderr}"
    );

    std::fs::write(&conf, "maxmemory-policy sometimes\n").unwrap();
    let (code, stderr) = run_to_exit(&[conf.to_str().unwrap()]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("at line 1"), "{stderr}");
    assert!(
        stderr.contains("argument(s) must be one of the following: volatile-lru"),
        "{stderr}"
    );

    // A bad command-line override stops it too.
    let (code, stderr) = run_to_exit(&["--port", "0", "--hz", "fast"]);
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("argument couldn't be parsed into an integer"),
        "{stderr}"
    );
}

#[test]
fn shipped_redis_conf_starts_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let conf = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("redis.conf");
    let s = FileServer::start(&conf, dir.path());
    let mut c = s.conn();
    let m = config_get(&mut c, &["maxmemory-policy", "save", "dir", "databases"]);
    assert_eq!(m["maxmemory-policy"], "noeviction");
    assert_eq!(m["save"], "3600 1 300 100 60 10000");
    assert_eq!(m["databases"], "16");
    assert_eq!(
        std::path::Path::new(&m["dir"]),
        dir.path().canonicalize().unwrap()
    );
}
