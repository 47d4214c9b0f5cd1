//! Durability through the real binary: restarts (RDB and AOF), SIGKILL crash rounds,
//! damaged files, a failing disk, and file interchange with redis-server 7.0.

use crate::common::{wait_for, TestServer};
use redis::{Connection, Value};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

/// RDB-only server, with DEBUG POPULATE and CONFIG SET dir allowed.
const RDB_ARGS: &[&str] = &[
    "--save",
    "",
    "--enable-debug-command",
    "yes",
    "--enable-protected-configs",
    "yes",
];
/// The same with appendonly yes.
const AOF_ARGS: &[&str] = &[
    "--appendonly",
    "yes",
    "--save",
    "",
    "--enable-debug-command",
    "yes",
    "--enable-protected-configs",
    "yes",
];

fn cmd(c: &mut Connection, args: &[&str]) -> Value {
    let mut q = redis::cmd(args[0]);
    for a in &args[1..] {
        q.arg(*a);
    }
    q.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn info_field(c: &mut Connection, field: &str) -> String {
    let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
        .trim()
        .to_string()
}

/// Writes one key of every type and encoding, with TTLs, in two databases.
fn populate(c: &mut Connection) {
    let far = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 3_600_000)
        .to_string();
    let big = "x".repeat(300);
    let script: Vec<Vec<String>> = vec![
        vec!["SET", "str", "hello"],
        vec!["SET", "int", "12345"],
        vec!["SET", "neg", "-7"],
        vec!["SET", "long", &"abc".repeat(50)],
        vec!["SET", "ttl", "v", "PXAT", &far],
        vec!["SET", "rel", "v", "EX", "5000"],
        vec!["INCRBYFLOAT", "float", "1.5"],
        vec!["RPUSH", "list", "a", "b", "1", "2"],
        vec!["HSET", "hash", "f1", "v1", "f2", "2"],
        vec!["HSET", "bighash", "f", &big],
        vec!["SADD", "intset", "1", "2", "3"],
        vec!["SADD", "set", "a", "b", "c"],
        vec!["ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c"],
        vec!["ZADD", "bigzset", "1", &big],
        vec!["XADD", "stream", "1-1", "f", "v"],
        vec!["XADD", "stream", "2-1", "f", "v2", "g", "w"],
        vec!["XGROUP", "CREATE", "stream", "grp", "0"],
        vec![
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "stream",
            ">",
        ],
        vec!["XGROUP", "CREATECONSUMER", "stream", "grp", "bob"],
        vec!["XADD", "stream", "3-1", "f", "v3"],
        vec!["XDEL", "stream", "3-1"],
        vec!["XADD", "emptystream", "MAXLEN", "0", "5-5", "f", "v"],
        vec!["XGROUP", "CREATE", "emptystream", "grp", "$"],
        vec!["EXPIRE", "list", "7000"],
        vec!["SELECT", "3"],
        vec!["SET", "db3", "x"],
        vec!["SELECT", "0"],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect();
    for s in script {
        let args: Vec<&str> = s.iter().map(|x| x.as_str()).collect();
        cmd(c, &args);
    }
    let mut p = redis::pipe();
    for i in 0..200 {
        p.cmd("RPUSH")
            .arg("biglist")
            .arg(format!("element-{i}"))
            .ignore();
        p.cmd("SADD").arg("bigset").arg(format!("m{i}")).ignore();
        p.cmd("HSET")
            .arg("manyfields")
            .arg(format!("f{i}"))
            .arg(i)
            .ignore();
        p.cmd("ZADD")
            .arg("manyz")
            .arg(i as f64 / 3.0)
            .arg(format!("m{i}"))
            .ignore();
    }
    p.query::<()>(c).unwrap();
}

/// Every key of databases 0 and 3 with its type, contents and whether it has a TTL
/// (absolute expiry compared to within a second).
fn contents(c: &mut Connection) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for db in ["0", "3"] {
        cmd(c, &["SELECT", db]);
        let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
        keys.sort();
        // DEBUG POPULATE's bulk keys are counted by the caller, not read one by one.
        for k in keys.into_iter().filter(|k| !k.starts_with("bulk:")) {
            let t: String = redis::cmd("TYPE").arg(&k).query(c).unwrap();
            let v = match t.as_str() {
                "string" => cmd(c, &["GET", &k]),
                "list" => cmd(c, &["LRANGE", &k, "0", "-1"]),
                "set" => {
                    let mut m: Vec<String> = redis::cmd("SMEMBERS").arg(&k).query(c).unwrap();
                    m.sort();
                    Value::Array(m.into_iter().map(|s| Value::BulkString(s.into())).collect())
                }
                "hash" => {
                    let m: BTreeMap<String, String> =
                        redis::cmd("HGETALL").arg(&k).query(c).unwrap();
                    Value::SimpleString(format!("{m:?}"))
                }
                "zset" => cmd(c, &["ZRANGE", &k, "0", "-1", "WITHSCORES"]),
                "stream" => {
                    let r = cmd(c, &["XRANGE", &k, "-", "+"]);
                    let g = cmd(c, &["XINFO", "GROUPS", &k]);
                    let p = cmd(c, &["XPENDING", &k, "grp"]);
                    // entries-read and lag are left out: an AOF carries XCLAIMs, which do
                    // not restore them (redis-server 7.0 loses them the same way).
                    let g = format!("{g:?}");
                    let g = g
                        .split("entries-read")
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let mut ids = String::new();
                    if let Value::Array(info) = cmd(c, &["XINFO", "STREAM", &k]) {
                        for kv in info.chunks(2) {
                            let name = format!("{:?}", kv[0]);
                            if ["last-generated-id", "max-deleted-entry-id", "entries-added"]
                                .iter()
                                .any(|f| name.contains(f))
                            {
                                ids.push_str(&format!("{name}={:?} ", kv[1]));
                            }
                        }
                    }
                    Value::SimpleString(format!("{r:?} {g} {p:?} {ids}"))
                }
                other => panic!("type {other}"),
            };
            let exp: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(c).unwrap();
            let exp = if exp > 0 { exp / 1000 } else { exp };
            out.insert(format!("{db}/{k}"), format!("{t} {v:?} exp={exp}"));
        }
    }
    cmd(c, &["SELECT", "0"]);
    out
}

fn assert_same(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) {
    assert_eq!(
        a.len(),
        b.len(),
        "key sets differ: {:?} vs {:?}",
        a.keys(),
        b.keys()
    );
    for (k, v) in a {
        // Expiry seconds may straddle a boundary.
        let w = &b[k];
        if v != w {
            let strip = |s: &str| {
                s.rsplit_once(" exp=")
                    .map(|x| (x.0.to_string(), x.1.parse::<i64>().unwrap()))
            };
            let (x, e1) = strip(v).unwrap();
            let (y, e2) = strip(w).unwrap();
            assert!(x == y && (e1 - e2).abs() <= 1, "{k}: {v} != {w}");
        }
    }
}

#[test]
fn save_and_restart_keeps_every_type() {
    let s = TestServer::start_with(RDB_ARGS);
    let mut c = s.conn();
    populate(&mut c);
    let before = contents(&mut c);
    let last = cmd(&mut c, &["LASTSAVE"]);
    assert_eq!(cmd(&mut c, &["SAVE"]), Value::Okay);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert_ne!(format!("{last:?}"), "");
    let dir = s.kill9();
    let s = TestServer::start_in(dir, RDB_ARGS);
    let mut c = s.conn();
    let after = contents(&mut c);
    assert_same(&before, &after);
    let loaded = info_field(&mut c, "rdb_last_load_keys_loaded");
    assert_eq!(loaded, "21");
}

#[test]
fn bgsave_serves_while_saving_and_the_file_has_the_fork_time_data() {
    let s = TestServer::start_with(RDB_ARGS);
    let mut c = s.conn();
    populate(&mut c);
    cmd(&mut c, &["DEBUG", "POPULATE", "200000", "bulk", "50"]);
    let before = contents(&mut c);
    let lastsave: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    let r = cmd(&mut c, &["BGSAVE"]);
    assert_eq!(r, Value::SimpleString("Background saving started".into()));
    // Written after the fork: not in the file.
    cmd(&mut c, &["SET", "after-fork", "1"]);
    let r = redis::cmd("BGSAVE").query::<String>(&mut c);
    assert!(
        r.is_ok() || r.unwrap_err().to_string().contains("already in progress"),
        "second BGSAVE"
    );
    assert!(wait_for(Duration::from_secs(30), || {
        info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    }));
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    let now: i64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert!(now >= lastsave);
    let dir = s.kill9();
    let s = TestServer::start_in(dir, RDB_ARGS);
    let mut c = s.conn();
    assert_eq!(cmd(&mut c, &["EXISTS", "after-fork"]), Value::Int(0));
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 200000 + 20);
    cmd(&mut c, &["DEL", "after-fork"]);
    let mut after = contents(&mut c);
    after.retain(|k, _| !k.starts_with("0/bulk:"));
    let mut before = before;
    before.retain(|k, _| !k.starts_with("0/bulk:"));
    assert_same(&before, &after);
}

#[test]
fn clients_get_loading_while_the_rdb_loads() {
    let s = TestServer::start_with(RDB_ARGS);
    let mut c = s.conn();
    cmd(&mut c, &["DEBUG", "POPULATE", "1000", "k", "8"]);
    assert_eq!(cmd(&mut c, &["SAVE"]), Value::Okay);
    let dir = s.kill9();
    // key-load-delay (Redis's hidden test config): 2 ms a key keeps the load going ~2 s.
    let mut args = RDB_ARGS.to_vec();
    args.extend(["--key-load-delay", "2000"]);
    let s = TestServer::spawn_in(dir, &args);
    let mut c = s.conn();
    for q in [
        &["PING"][..],
        &["GET", "k:1"],
        &["SET", "x", "1"],
        &["DBSIZE"],
    ] {
        let e = redis::cmd(q[0])
            .arg(&q[1..])
            .query::<Value>(&mut c)
            .expect_err("served while loading");
        assert_eq!(e.code(), Some("LOADING"), "{q:?}: {e}");
        assert!(
            e.to_string()
                .contains("Redis is loading the dataset in memory"),
            "{e}"
        );
    }
    // INFO is allowed while loading, as in Redis, and shows the progress.
    assert_eq!(info_field(&mut c, "loading"), "1");
    assert_eq!(info_field(&mut c, "async_loading"), "0");
    let total: u64 = info_field(&mut c, "loading_total_bytes").parse().unwrap();
    assert!(total > 1000 * 8, "loading_total_bytes {total}");
    for f in [
        "loading_start_time",
        "loading_loaded_perc",
        "loading_eta_seconds",
    ] {
        info_field(&mut c, f);
    }
    s.wait_loaded();
    assert_eq!(info_field(&mut c, "loading"), "0");
    assert_eq!(cmd(&mut c, &["DBSIZE"]), Value::Int(1000));
    assert_eq!(info_field(&mut c, "rdb_last_load_keys_loaded"), "1000");
    assert_eq!(
        cmd(&mut c, &["GET", "k:1"]),
        Value::BulkString(b"value:1\0".to_vec())
    );
}

#[test]
fn sigterm_saves_when_save_rules_exist_and_shutdown_nosave_does_not() {
    let s = TestServer::start_with(&["--save", "3600 1"]);
    let mut c = s.conn();
    cmd(&mut c, &["SET", "k", "v1"]);
    let dir = s.term();
    assert!(dir.path().join("dump.rdb").exists());
    let s = TestServer::start_in(dir, &["--save", "3600 1"]);
    let mut c = s.conn();
    assert_eq!(
        cmd(&mut c, &["GET", "k"]),
        Value::BulkString(b"v1".to_vec())
    );
    cmd(&mut c, &["SET", "k", "v2"]);
    let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<()>(&mut c);
    let mut s = s;
    let _ = s.child.wait();
    let dir = s.kill9();
    let s = TestServer::start_in(dir, &["--save", "3600 1"]);
    let mut c = s.conn();
    assert_eq!(
        cmd(&mut c, &["GET", "k"]),
        Value::BulkString(b"v1".to_vec())
    );
}

#[test]
fn aof_restart_replays_effects_and_rewrite_compacts() {
    let args = AOF_ARGS;
    let s = TestServer::start_with(args);
    let mut c = s.conn();
    populate(&mut c);
    cmd(&mut c, &["MULTI"]);
    cmd(&mut c, &["INCR", "counter"]);
    cmd(&mut c, &["INCR", "counter"]);
    cmd(&mut c, &["EXEC"]);
    let before = contents(&mut c);
    let dir = s.kill9();
    let manifest =
        std::fs::read_to_string(dir.path().join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert!(
        manifest.contains("appendonly.aof.1.base.rdb seq 1 type b"),
        "{manifest}"
    );
    assert!(
        manifest.contains("appendonly.aof.1.incr.aof seq 1 type i"),
        "{manifest}"
    );
    let s = TestServer::start_in(dir, args);
    let mut c = s.conn();
    assert_same(&before, &contents(&mut c));
    // Rewrite: a new base and incr, old files gone, same data after another restart.
    let r = cmd(&mut c, &["BGREWRITEAOF"]);
    assert_eq!(
        r,
        Value::SimpleString("Background append only file rewriting started".into())
    );
    cmd(&mut c, &["SET", "during", "rewrite"]);
    assert!(wait_for(Duration::from_secs(30), || {
        info_field(&mut c, "aof_rewrite_in_progress") == "0"
            && info_field(&mut c, "aof_rewrites") == "1"
    }));
    let before = contents(&mut c);
    let dir = s.kill9();
    let aofdir = dir.path().join("appendonlydir");
    let manifest = std::fs::read_to_string(aofdir.join("appendonly.aof.manifest")).unwrap();
    assert!(
        manifest.contains("appendonly.aof.2.base.rdb seq 2 type b"),
        "{manifest}"
    );
    assert!(
        manifest.contains("appendonly.aof.2.incr.aof seq 2 type i"),
        "{manifest}"
    );
    assert!(!aofdir.join("appendonly.aof.1.incr.aof").exists());
    let s = TestServer::start_in(dir, args);
    let mut c = s.conn();
    assert_same(&before, &contents(&mut c));
}

/// Counts acknowledged INCRs while the server is SIGKILLed; after each restart the counter
/// is at least the number acknowledged.
#[test]
fn appendfsync_always_loses_no_acknowledged_write_across_sigkill() {
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
    ];
    let mut dir = tempfile::tempdir().unwrap();
    let mut acked: i64 = 0;
    for round in 0..4 {
        let s = TestServer::start_in(dir, &args);
        let addr = s.addr;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let st = stop.clone();
        let worker = std::thread::spawn(move || {
            let mut c = redis::Client::open(format!("redis://{addr}/"))
                .unwrap()
                .get_connection()
                .unwrap();
            let mut last = 0i64;
            while !st.load(std::sync::atomic::Ordering::Relaxed) {
                match redis::cmd("INCR").arg("n").query::<i64>(&mut c) {
                    Ok(v) => last = v,
                    Err(e) => {
                        eprintln!("worker stopped: {e}");
                        break;
                    }
                }
            }
            last
        });
        std::thread::sleep(Duration::from_millis(300 + 100 * round));
        dir = s.kill9();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let got = worker.join().unwrap();
        assert!(
            got >= acked,
            "round {round}: the counter went back from {acked} to {got}"
        );
        acked = got;
        let s = TestServer::start_in(dir, &args);
        let mut c = s.conn();
        let v: i64 = redis::cmd("GET").arg("n").query(&mut c).unwrap();
        assert!(
            v >= acked,
            "round {round}: acknowledged {acked}, found {v} after restart"
        );
        dir = s.kill9();
    }
    assert!(acked > 100, "too few writes to mean anything: {acked}");
}

#[test]
fn everysec_loses_at_most_about_two_seconds() {
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
    ];
    let s = TestServer::start_with(&args);
    let mut c = s.conn();
    let start = Instant::now();
    let mut acked = 0i64;
    while start.elapsed() < Duration::from_millis(2500) {
        acked = redis::cmd("INCR").arg("n").query(&mut c).unwrap();
    }
    let rate = acked as f64 / start.elapsed().as_secs_f64();
    let dir = s.kill9();
    let s = TestServer::start_in(dir, &args);
    let mut c = s.conn();
    let v: i64 = redis::cmd("GET")
        .arg("n")
        .query::<Option<i64>>(&mut c)
        .unwrap()
        .unwrap_or(0);
    let lost = acked - v;
    assert!(
        lost as f64 <= rate * 2.5,
        "lost {lost} writes at {rate:.0}/s"
    );
}

fn aof_incr(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("appendonlydir/appendonly.aof.1.incr.aof")
}

/// Runs the binary expecting it to refuse to start; returns its stderr.
fn refuses_to_start(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rill-server"))
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--kafka-port",
            "0",
            "--dir",
        ])
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "started despite a damaged file");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn torn_aof_tail_is_cut_and_corruption_refuses_start() {
    let args = AOF_ARGS;
    let s = TestServer::start_with(args);
    let mut c = s.conn();
    for i in 0..50 {
        cmd(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    let dir = s.kill9();
    let incr = aof_incr(dir.path());
    let good_len = std::fs::metadata(&incr).unwrap().len();
    // A torn last command: cut with a warning, everything before kept.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .unwrap();
    std::io::Write::write_all(&mut f, b"*3\r\n$3\r\nSET\r\n$2\r\nzz").unwrap();
    drop(f);
    let s = TestServer::start_in(dir, args);
    let mut c = s.conn();
    assert_eq!(cmd(&mut c, &["DBSIZE"]), Value::Int(50));
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), good_len);
    let dir = s.kill9();
    // With aof-load-truncated no the same damage refuses start-up.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .unwrap();
    std::io::Write::write_all(&mut f, b"*3\r\n$3\r\nSET").unwrap();
    drop(f);
    let err = refuses_to_start(
        dir.path(),
        &["--appendonly", "yes", "--aof-load-truncated", "no"],
    );
    assert!(err.contains("appendonly.aof.1.incr.aof"), "{err}");
    // A flipped byte in the middle: refused, naming the file and offset.
    let mut bytes = std::fs::read(&incr).unwrap();
    bytes.truncate(good_len as usize);
    let mid = bytes.len() / 2;
    let at = (mid..bytes.len()).find(|&i| bytes[i] == b'$').unwrap();
    bytes[at] = b'#';
    std::fs::write(&incr, &bytes).unwrap();
    let err = refuses_to_start(dir.path(), &["--appendonly", "yes"]);
    assert!(
        err.contains("appendonly.aof.1.incr.aof") && err.contains(&format!("offset {at}")),
        "{err}"
    );
}

#[test]
fn a_flipped_byte_in_the_rdb_refuses_start() {
    let s = TestServer::start_with(RDB_ARGS);
    let mut c = s.conn();
    cmd(&mut c, &["DEBUG", "POPULATE", "1000"]);
    cmd(&mut c, &["SAVE"]);
    let dir = s.kill9();
    let path = dir.path().join("dump.rdb");
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    std::fs::write(&path, &bytes).unwrap();
    let err = refuses_to_start(dir.path(), &[]);
    assert!(!err.is_empty());
}

#[test]
fn failing_disk_refuses_writes_with_misconf() {
    // BGSAVE into a directory that vanished: the save fails and, with a save rule,
    // writes are refused until a save succeeds again.
    let s = TestServer::start_with(&["--save", "3600 1", "--enable-protected-configs", "yes"]);
    let mut c = s.conn();
    cmd(&mut c, &["SET", "kept", "1"]);
    let gone = tempfile::tempdir().unwrap();
    let gone_path = gone.path().to_path_buf();
    cmd(
        &mut c,
        &["CONFIG", "SET", "dir", gone_path.to_str().unwrap()],
    );
    drop(gone);
    cmd(&mut c, &["BGSAVE"]);
    assert!(wait_for(Duration::from_secs(10), || {
        info_field(&mut c, "rdb_last_bgsave_status") == "err"
    }));
    let e = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(e.to_string().contains("MISCONF"), "{e}");
    assert_eq!(
        cmd(&mut c, &["GET", "kept"]),
        Value::BulkString(b"1".to_vec())
    );
    std::fs::create_dir_all(&gone_path).unwrap();
    cmd(&mut c, &["BGSAVE"]);
    assert!(wait_for(Duration::from_secs(10), || {
        info_field(&mut c, "rdb_last_bgsave_status") == "ok"
    }));
    assert_eq!(cmd(&mut c, &["SET", "k", "v"]), Value::Okay);
    std::fs::remove_dir_all(&gone_path).unwrap();

    // An AOF that cannot be written (its next incr file is /dev/full): -MISCONF.
    let s = TestServer::start_with(AOF_ARGS);
    let mut c = s.conn();
    cmd(&mut c, &["SET", "kept", "1"]);
    let next = s.dir.path().join("appendonlydir/appendonly.aof.2.incr.aof");
    std::os::unix::fs::symlink("/dev/full", &next).unwrap();
    cmd(&mut c, &["BGREWRITEAOF"]);
    let _ = redis::cmd("SET").arg("a").arg("b").query::<()>(&mut c);
    assert!(wait_for(Duration::from_secs(10), || {
        info_field(&mut c, "aof_last_write_status") == "err"
    }));
    let e = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(
        e.to_string().contains("MISCONF")
            && e.to_string().contains("Errors writing to the AOF file"),
        "{e}"
    );
    assert_eq!(
        cmd(&mut c, &["GET", "kept"]),
        Value::BulkString(b"1".to_vec())
    );
}

/// A real redis-server 7.0 on `dir`, killed on drop.
struct RealRedis {
    child: std::process::Child,
    port: u16,
}

impl RealRedis {
    fn start(dir: &std::path::Path, extra: &[&str]) -> RealRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "no",
            ])
            .args([
                "--save",
                "",
                "--enable-debug-command",
                "yes",
                "--enable-protected-configs",
                "yes",
                "--dir",
            ])
            .arg(dir)
            .args(extra)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        let r = RealRedis { child, port };
        assert!(
            wait_for(Duration::from_secs(20), || {
                let Ok(cl) = redis::Client::open(format!("redis://127.0.0.1:{port}/")) else {
                    return false;
                };
                let Ok(mut c) = cl.get_connection() else {
                    return false;
                };
                redis::cmd("PING").query::<String>(&mut c).is_ok()
            }),
            "redis-server did not start on {}",
            dir.display()
        );
        r
    }

    fn conn(&self) -> Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check_tool(tool: &str, arg: &std::path::Path) {
    let out = Command::new(tool)
        .arg(arg)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{tool} rejected {}: {text}",
        arg.display()
    );
}

#[test]
fn rdb_files_interchange_with_redis_both_ways() {
    // Rill -> redis-check-rdb -> redis-server.
    let s = TestServer::start_with(RDB_ARGS);
    let mut c = s.conn();
    populate(&mut c);
    let ours = contents(&mut c);
    cmd(&mut c, &["SAVE"]);
    check_tool("redis-check-rdb", &s.dir.path().join("dump.rdb"));
    let r = RealRedis::start(s.dir.path(), &[]);
    assert_same(&ours, &contents(&mut r.conn()));
    drop(r);

    // redis-server -> Rill.
    let rdir = tempfile::tempdir().unwrap();
    let r = RealRedis::start(rdir.path(), &[]);
    let mut rc = r.conn();
    populate(&mut rc);
    let theirs = contents(&mut rc);
    cmd(&mut rc, &["SAVE"]);
    drop(r);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(rdir.path().join("dump.rdb"), dir.path().join("dump.rdb")).unwrap();
    let s = TestServer::start_in(dir, RDB_ARGS);
    assert_same(&theirs, &contents(&mut s.conn()));
}

#[test]
fn aof_directories_interchange_with_redis_both_ways() {
    aof_interchange("yes");
}

#[test]
fn aof_directories_with_resp_base_files_interchange_with_redis_both_ways() {
    aof_interchange("no");
}

fn wait_rewrites(c: &mut Connection, n: &str) {
    assert!(wait_for(Duration::from_secs(30), || {
        info_field(c, "aof_rewrite_in_progress") == "0" && info_field(c, "aof_rewrites") == n
    }));
}

/// Both directions, each after a rewrite, so the base file (RDB preamble or, with
/// `aof-use-rdb-preamble no`, commands) holds the data and an incr file follows it.
fn aof_interchange(preamble: &str) {
    let base_ext = if preamble == "yes" { "rdb" } else { "aof" };
    let mut args = AOF_ARGS.to_vec();
    args.extend(["--aof-use-rdb-preamble", preamble]);
    let redis_args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble];

    // Rill's appendonlydir passes redis-check-aof and loads into redis-server.
    let s = TestServer::start_with(&args);
    let mut c = s.conn();
    populate(&mut c);
    cmd(&mut c, &["BGREWRITEAOF"]);
    wait_rewrites(&mut c, "1");
    cmd(&mut c, &["INCRBYFLOAT", "float", "0.25"]);
    let ours = contents(&mut c);
    let dir = s.kill9();
    let appenddir = dir.path().join("appendonlydir");
    let base = std::fs::read(appenddir.join(format!("appendonly.aof.2.base.{base_ext}")))
        .expect("base file named by aof-use-rdb-preamble");
    assert_eq!(base.starts_with(b"REDIS"), preamble == "yes");
    check_tool(
        "redis-check-aof",
        &appenddir.join("appendonly.aof.manifest"),
    );
    let r = RealRedis::start(dir.path(), &redis_args);
    assert_same(&ours, &contents(&mut r.conn()));
    drop(r);

    // redis-server's appendonlydir (base + incr, after a rewrite) loads into Rill.
    let rdir = tempfile::tempdir().unwrap();
    let r = RealRedis::start(rdir.path(), &redis_args);
    let mut rc = r.conn();
    populate(&mut rc);
    cmd(&mut rc, &["BGREWRITEAOF"]);
    wait_rewrites(&mut rc, "1");
    cmd(&mut rc, &["SET", "after", "rewrite"]);
    cmd(&mut rc, &["EXPIRE", "after", "9999"]);
    let theirs = contents(&mut rc);
    // A clean stop: with everysec, redis-server may postpone the write of an acknowledged
    // command while a background fsync runs (right after a rewrite), so SIGKILL could
    // lose the EXPIRE. SHUTDOWN flushes the AOF; the reply is the closed connection.
    let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<Value>(&mut rc);
    drop(r);
    let dir = tempfile::tempdir().unwrap();
    let src = rdir.path().join("appendonlydir");
    let dst = dir.path().join("appendonlydir");
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    assert!(dst
        .join(format!("appendonly.aof.2.base.{base_ext}"))
        .exists());
    let s = TestServer::start_in(dir, &args);
    assert_same(&theirs, &contents(&mut s.conn()));
}

#[test]
fn a_pre_7_single_file_aof_is_upgraded_as_redis_does() {
    // An old-style appendonly.aof: an RDB preamble would do too; commands are enough.
    let mut old = Vec::new();
    for argv in [
        &["SELECT", "0"][..],
        &["SET", "a", "1"],
        &["RPUSH", "l", "x", "y"],
        &["SELECT", "3"],
        &["SET", "b", "2"],
    ] {
        old.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
        for a in argv {
            old.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    let with_old = || {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("appendonly.aof"), &old).unwrap();
        dir
    };
    let check = |dir: &std::path::Path| {
        assert!(!dir.join("appendonly.aof").exists(), "old file moved");
        let appenddir = dir.join("appendonlydir");
        assert_eq!(
            std::fs::read(appenddir.join("appendonly.aof")).unwrap(),
            old
        );
        check_tool(
            "redis-check-aof",
            &appenddir.join("appendonly.aof.manifest"),
        );
        std::fs::read_to_string(appenddir.join("appendonly.aof.manifest")).unwrap()
    };
    let rdir = with_old();
    let r = RealRedis::start(rdir.path(), &["--appendonly", "yes"]);
    let theirs = contents(&mut r.conn());
    drop(r);
    let their_manifest = check(rdir.path());

    let s = TestServer::start_in(with_old(), AOF_ARGS);
    let ours = contents(&mut s.conn());
    let dir = s.kill9();
    assert_eq!(check(dir.path()), their_manifest);
    assert_same(&theirs, &ours);
    assert_eq!(ours.len(), 3);
}
