//! Sentinel mode: Rill sentinels (and real `redis-server --sentinel` processes) monitoring
//! real redis-server 7.0 data nodes; discovery, replies against the real sentinel, and a
//! failover driven through redis-py's Sentinel client.

use crate::common::{python, raw_exchange, wait_for};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A child process killed on drop.
struct Proc {
    child: Child,
    port: u16,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .expect("client")
            .get_connection()
            .expect("connect")
    }
    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn wait_listening(port: u16) {
    assert!(
        wait_for(Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        }),
        "port {port} never listened"
    );
}

/// A data node: `redis-server` or `rill-server` (as master, or replica of `master`).
fn data_node(bin: &str, port: u16, master: Option<u16>, dir: &std::path::Path) -> Proc {
    data_node_with(bin, port, master, dir, &[])
}

/// [`data_node`] with extra command-line arguments (`--requirepass`, `--masterauth`...).
fn data_node_with(
    bin: &str,
    port: u16,
    master: Option<u16>,
    dir: &std::path::Path,
    extra: &[&str],
) -> Proc {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
    ])
    .arg("--dir")
    .arg(dir);
    if bin.contains("rill") {
        cmd.args(["--kafka-port", "-1"]);
    } else {
        cmd.args(["--repl-diskless-sync-delay", "0"]);
    }
    if let Some(m) = master {
        cmd.args(["--replicaof", "127.0.0.1", &m.to_string()]);
    }
    cmd.args(extra);
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn data node");
    wait_listening(port);
    Proc { child, port }
}

fn rill_bin() -> &'static str {
    env!("CARGO_BIN_EXE_rill-server")
}

/// A sentinel (Rill's, or the real one with `real`) monitoring `mymaster` at `master`.
fn sentinel(dir: &std::path::Path, i: usize, master: u16, real: bool, extra: &str) -> Proc {
    let port = free_port();
    let conf = dir.join(format!("sentinel{i}.conf"));
    std::fs::write(
        &conf,
        format!(
            "port {port}\nsentinel monitor mymaster 127.0.0.1 {master} 2\nsentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\n{extra}"
        ),
    )
    .expect("write conf");
    let log = std::fs::File::create(dir.join(format!("sentinel{i}.log"))).expect("log");
    let mut cmd = if real {
        let mut c = Command::new("redis-server");
        c.arg(&conf).args(["--sentinel", "--bind", "127.0.0.1"]);
        c
    } else {
        let mut c = Command::new(rill_bin());
        c.arg(&conf).args(["--sentinel", "--bind", "127.0.0.1"]);
        c
    };
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn sentinel");
    wait_listening(port);
    Proc { child, port }
}

fn fields(c: &mut redis::Connection, args: &[&str]) -> Vec<(String, String)> {
    let v: Vec<String> = redis::cmd("SENTINEL").arg(args).query(c).expect("SENTINEL");
    v.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
}

fn field(c: &mut redis::Connection, args: &[&str], name: &str) -> String {
    fields(c, args)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn keys(v: &[(String, String)]) -> Vec<String> {
    v.iter().map(|(k, _)| k.clone()).collect()
}

fn err(c: &mut redis::Connection, args: &[&str]) -> String {
    match redis::cmd(args[0]).arg(&args[1..]).query::<redis::Value>(c) {
        Ok(v) => format!("ok: {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// A master and two replicas of `bin` (with `extra` arguments, `pass` for their
/// requirepass), once both replicas are online: (master port, master, replica 1, replica 2).
fn trio(
    bin: &str,
    dir: &std::path::Path,
    extra: &[&str],
    pass: Option<&str>,
) -> (u16, Proc, Proc, Proc) {
    let mp = free_port();
    let m = data_node_with(bin, mp, None, dir, extra);
    let r1 = data_node_with(bin, free_port(), Some(mp), dir, extra);
    let r2 = data_node_with(bin, free_port(), Some(mp), dir, extra);
    assert!(
        wait_for(Duration::from_secs(10), || replication_auth(mp, pass)
            .matches("state=online")
            .count()
            == 2),
        "replicas not online: {}",
        replication_auth(mp, pass)
    );
    (mp, m, r1, r2)
}

fn replication(port: u16) -> String {
    replication_auth(port, None)
}

/// INFO replication of a node that may require a password.
fn replication_auth(port: u16, pass: Option<&str>) -> String {
    let mut cmd = Command::new("redis-cli");
    cmd.args(["-p", &port.to_string()]);
    if let Some(p) = pass {
        cmd.args(["-a", p, "--no-auth-warning"]);
    }
    let out = cmd
        .args(["INFO", "replication"])
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Master + 2 replicas (redis-server), 2 Rill sentinels and 1 real sentinel: discovery
/// through INFO and hello, reply shapes against the real sentinel, the command set.
#[test]
fn sentinel_discovery_and_replies_match_redis_sentinel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mp, _m, _r1, _r2) = trio("redis-server", dir.path(), &[], None);
    let s1 = sentinel(dir.path(), 1, mp, false, "");
    let s2 = sentinel(dir.path(), 2, mp, false, "");
    let real = sentinel(dir.path(), 3, mp, true, "");
    for s in [&s1, &s2, &real] {
        let mut c = s.conn();
        let ok = wait_for(Duration::from_secs(20), || {
            field(&mut c, &["MASTER", "mymaster"], "num-slaves") == "2"
                && field(&mut c, &["MASTER", "mymaster"], "num-other-sentinels") == "2"
        });
        assert!(
            ok,
            "sentinel {} did not discover replicas and sentinels: {:?}",
            s.port,
            fields(&mut c, &["MASTER", "mymaster"])
        );
    }
    let (mut c, mut rc) = (s1.conn(), real.conn());
    // Same fields in the same order as redis-sentinel 7.0.
    let args = &["MASTER", "mymaster"][..];
    assert_eq!(keys(&fields(&mut c, args)), keys(&fields(&mut rc, args)));
    let reps = |c: &mut redis::Connection, what: &str| -> Vec<Vec<String>> {
        let v: Vec<Vec<String>> = redis::cmd("SENTINEL")
            .arg(what)
            .arg("mymaster")
            .query(c)
            .expect("list");
        v.into_iter()
            .map(|e| e.chunks(2).map(|p| p[0].clone()).collect())
            .collect()
    };
    assert_eq!(reps(&mut c, "REPLICAS")[0], reps(&mut rc, "REPLICAS")[0]);
    assert_eq!(reps(&mut c, "SENTINELS")[0], reps(&mut rc, "SENTINELS")[0]);
    assert_eq!(field(&mut c, &["MASTER", "mymaster"], "flags"), "master");
    let addr: Vec<String> = redis::cmd("SENTINEL")
        .arg(&["GET-MASTER-ADDR-BY-NAME", "mymaster"])
        .query(&mut c)
        .expect("addr");
    assert_eq!(addr, vec!["127.0.0.1".to_string(), mp.to_string()]);
    let ckquorum = |c: &mut redis::Connection| -> String {
        redis::cmd("SENTINEL")
            .arg(&["CKQUORUM", "mymaster"])
            .query(c)
            .unwrap_or_else(|e| e.to_string())
    };
    assert!(wait_for(Duration::from_secs(5), || {
        ckquorum(&mut c)
            == "OK 3 usable Sentinels. Quorum and failover authorization can be reached"
    }));
    // The same errors as the real sentinel.
    for args in [
        &["GET", "foo"][..],
        &["CONFIG", "GET", "port"],
        &["PUBLISH", "foo", "bar"],
        &["SENTINEL", "MASTER", "nope"],
        &["SENTINEL", "foo"],
        &["SENTINEL", "SET", "mymaster", "quorum", "x"],
        &["SENTINEL", "SET", "mymaster", "foo", "1"],
        &["SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "1", "1"],
        &["SENTINEL", "MONITOR", "m2", "127.0.0.1", "1", "0"],
    ] {
        assert_eq!(err(&mut c, args), err(&mut rc, args), "{args:?}");
    }
    let role: redis::Value = redis::cmd("ROLE").query(&mut c).expect("role");
    let rrole: redis::Value = redis::cmd("ROLE").query(&mut rc).expect("role");
    assert_eq!(role, rrole);
    let info: String = redis::cmd("INFO").query(&mut c).expect("info");
    assert!(info.contains("redis_mode:sentinel"), "{info}");
    assert!(
        info.contains(&format!(
            "master0:name=mymaster,status=ok,address=127.0.0.1:{mp},slaves=2,sentinels=3"
        )),
        "{info}"
    );
    assert!(!info.contains("# Keyspace"));
    let down: redis::Value = redis::cmd("SENTINEL")
        .arg(&[
            "IS-MASTER-DOWN-BY-ADDR",
            "127.0.0.1",
            &mp.to_string(),
            "0",
            "*",
        ])
        .query(&mut c)
        .expect("is-master-down");
    let rdown: redis::Value = redis::cmd("SENTINEL")
        .arg(&[
            "IS-MASTER-DOWN-BY-ADDR",
            "127.0.0.1",
            &mp.to_string(),
            "0",
            "*",
        ])
        .query(&mut rc)
        .expect("is-master-down");
    assert_eq!(down, rdown);
    let cache: Vec<redis::Value> = redis::cmd("SENTINEL")
        .arg(&["INFO-CACHE", "mymaster"])
        .query(&mut c)
        .expect("info-cache");
    assert_eq!(cache.len(), 2);
    // SET, MONITOR and REMOVE are saved to the config file.
    let _: () = redis::cmd("SENTINEL")
        .arg(&["SET", "mymaster", "parallel-syncs", "2"])
        .query(&mut c)
        .expect("set");
    assert_eq!(
        field(&mut c, &["MASTER", "mymaster"], "parallel-syncs"),
        "2"
    );
    let _: () = redis::cmd("SENTINEL")
        .arg(&["MONITOR", "other", "127.0.0.1", "1", "1"])
        .query(&mut c)
        .expect("monitor");
    let conf = std::fs::read_to_string(dir.path().join("sentinel1.conf")).expect("conf");
    assert!(
        conf.contains("sentinel parallel-syncs mymaster 2"),
        "{conf}"
    );
    assert!(
        conf.contains("sentinel monitor other 127.0.0.1 1 1"),
        "{conf}"
    );
    assert!(
        conf.contains("sentinel known-replica mymaster 127.0.0.1"),
        "{conf}"
    );
    assert!(
        conf.contains("sentinel known-sentinel mymaster 127.0.0.1"),
        "{conf}"
    );
    assert!(conf.contains("sentinel myid "), "{conf}");
    let _: () = redis::cmd("SENTINEL")
        .arg(&["REMOVE", "other"])
        .query(&mut c)
        .expect("remove");
    let masters: Vec<redis::Value> = redis::cmd("SENTINEL")
        .arg("MASTERS")
        .query(&mut c)
        .expect("masters");
    assert_eq!(masters.len(), 1);
}

const FAILOVER_PY: &str = r#"
import sys, os, signal, time, redis
from redis.sentinel import Sentinel
pid, *ports = sys.argv[1].split(',')
ports = [int(p) for p in ports]
s = Sentinel([('127.0.0.1', p) for p in ports], socket_timeout=0.5)
m = s.master_for('mymaster', socket_timeout=0.5, socket_connect_timeout=0.5)
old = s.discover_master('mymaster')
ps = redis.Redis(port=ports[0]).pubsub()
ps.subscribe('+switch-master')
for i in range(200):
    m.set(f'k{i}', i)
assert any(m.execute_command('WAIT', 2, 400) == 2 for _ in range(10))
os.kill(int(pid), signal.SIGKILL)
t0 = time.monotonic()
while True:
    try:
        m.set('after', '1')
        break
    except Exception:
        assert time.monotonic() - t0 < 30, 'no failover'
        time.sleep(0.02)
took = time.monotonic() - t0
new = s.discover_master('mymaster')
assert new != old, (new, old)
missing = [i for i in range(200) if m.get(f'k{i}') != str(i).encode()]
assert not missing, missing
msg = None
while msg is None or msg['type'] != 'message':
    msg = ps.get_message(timeout=10)
    assert time.monotonic() - t0 < 40, 'no +switch-master'
print(new[1], took, msg['data'].decode())
"#;

/// 1 master + 2 replicas of `data_bin`, 3 Rill sentinels: SIGKILL the master; redis-py
/// writes to the new master, acknowledged writes survive, the other replica follows, and
/// the restarted old master is turned into a replica.
fn failover_with(data_bin: &str, real_sentinels: [bool; 3]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mp, master, r1, r2) = trio(data_bin, dir.path(), &[], None);
    let ss: Vec<Proc> = (0..3)
        .map(|i| sentinel(dir.path(), i, mp, real_sentinels[i], ""))
        .collect();
    for s in &ss {
        let mut c = s.conn();
        assert!(wait_for(Duration::from_secs(20), || {
            field(&mut c, &["MASTER", "mymaster"], "num-slaves") == "2"
                && field(&mut c, &["MASTER", "mymaster"], "num-other-sentinels") == "2"
        }));
    }
    let arg = format!(
        "{},{}",
        master.child.id(),
        ss.iter()
            .map(|s| s.port.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let out = python(FAILOVER_PY, &arg);
    master.kill9();
    let mut parts = out.split_whitespace();
    let new: u16 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .expect("new master port");
    assert!(new == r1.port || new == r2.port, "{out}");
    assert!(
        out.contains(&format!("mymaster 127.0.0.1 {mp} 127.0.0.1 {new}")),
        "{out}"
    );
    let other = if new == r1.port { r2.port } else { r1.port };
    assert!(
        wait_for(Duration::from_secs(20), || {
            let r = replication(other);
            r.contains(&format!("master_port:{new}")) && r.contains("master_link_status:up")
        }),
        "the surviving replica does not follow the new master: {}",
        replication(other)
    );
    // Every sentinel rewrote its config with the new master.
    for i in 0..3 {
        let path = dir.path().join(format!("sentinel{i}.conf"));
        assert!(wait_for(Duration::from_secs(10), || {
            std::fs::read_to_string(&path)
                .unwrap_or_default()
                .contains(&format!("sentinel monitor mymaster 127.0.0.1 {new} 2"))
        }));
    }
    // The old master comes back as a master; the sentinels turn it into a replica. Redis's
    // sentinel waits 8 s (4 publish periods) after the role it reports changed, and reads
    // a replica's INFO every 10 s, so this takes 8-20 s before any load on the machine.
    let _old = data_node(data_bin, mp, None, dir.path());
    assert!(
        wait_for(Duration::from_secs(45), || {
            let r = replication(mp);
            r.contains("role:slave") && r.contains(&format!("master_port:{new}"))
        }),
        "old master not converted: {}\n{}",
        replication(mp),
        std::fs::read_to_string(dir.path().join("sentinel0.log")).unwrap_or_default()
    );
}

#[test]
fn sentinel_failover_redis_py_with_redis_server_nodes() {
    failover_with("redis-server", [false; 3]);
}

/// A Rill sentinel in one quorum with two real ones: hello, votes and epochs must agree
/// whoever leads the failover.
#[test]
fn sentinel_failover_mixed_with_redis_sentinels() {
    failover_with("redis-server", [false, true, true]);
}

/// The issue's failover test: Rill sentinels managing Rill data nodes.
#[test]
fn sentinel_failover_redis_py_with_rill_nodes() {
    failover_with(rill_bin(), [false; 3]);
}

/// Real redis-sentinel processes managing Rill data nodes.
#[test]
fn redis_sentinel_failover_with_rill_nodes() {
    failover_with(rill_bin(), [true; 3]);
}

/// SENTINEL REPLICAS (or SENTINELS) as one field list per entry; empty on error.
fn entries(c: &mut redis::Connection, what: &str) -> Vec<Vec<(String, String)>> {
    let v: Vec<Vec<String>> = redis::cmd("SENTINEL")
        .arg(what)
        .arg("mymaster")
        .query(c)
        .unwrap_or_default();
    v.into_iter()
        .map(|e| e.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect())
        .collect()
}

/// Both replicas known, connected, and their INFO read (so they can be promoted).
fn replicas_ready(c: &mut redis::Connection) -> bool {
    let reps = entries(c, "REPLICAS");
    reps.len() == 2
        && reps.iter().all(|r| {
            let get = |k: &str| r.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
            get("flags") == Some("slave") && get("master-link-status") == Some("ok")
        })
}

fn master_addr(c: &mut redis::Connection) -> u16 {
    let addr: Vec<String> = redis::cmd("SENTINEL")
        .arg(&["GET-MASTER-ADDR-BY-NAME", "mymaster"])
        .query(c)
        .expect("addr");
    addr[1].parse().expect("port")
}

/// Master + 2 replicas of Rill with `requirepass` (replicas with `masterauth`), 3 Rill
/// sentinels with `sentinel auth-pass`: they discover the replicas and each other, and a
/// SIGKILL of the master ends in +switch-master with the other replica following.
#[test]
fn sentinel_auth_pass_discovery_and_failover() {
    const PW: &str = "s3cret";
    let auth = ["--requirepass", PW, "--masterauth", PW];
    let dir = tempfile::tempdir().expect("tempdir");
    // The replicas come online only by authenticating with masterauth.
    let (mp, master, r1, r2) = trio(rill_bin(), dir.path(), &auth, Some(PW));
    let extra = format!("sentinel auth-pass mymaster {PW}\n");
    let ss: Vec<Proc> = (0..3)
        .map(|i| sentinel(dir.path(), i, mp, false, &extra))
        .collect();
    for s in &ss {
        let mut c = s.conn();
        assert!(
            wait_for(Duration::from_secs(15), || {
                // The replicas' INFO was read with the password: flags and link status.
                replicas_ready(&mut c)
                    && field(&mut c, &["MASTER", "mymaster"], "num-other-sentinels") == "2"
            }),
            "sentinel {} did not discover through auth: {:?}\n{:?}",
            s.port,
            fields(&mut c, &["MASTER", "mymaster"]),
            entries(&mut c, "REPLICAS")
        );
    }
    let mut ps_conn = ss[0].conn();
    let mut ps = ps_conn.as_pubsub();
    ps.subscribe("+switch-master").expect("subscribe");
    ps.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    master.kill9();
    let msg: String = ps
        .get_message()
        .expect("no +switch-master")
        .get_payload()
        .expect("payload");
    let new: u16 = msg
        .rsplit(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("new port");
    assert!(
        msg.starts_with(&format!("mymaster 127.0.0.1 {mp} 127.0.0.1 ")),
        "{msg}"
    );
    assert!(new == r1.port || new == r2.port, "{msg}");
    let other = if new == r1.port { r2.port } else { r1.port };
    assert!(
        wait_for(Duration::from_secs(15), || {
            let r = replication_auth(other, Some(PW));
            r.contains(&format!("master_port:{new}")) && r.contains("master_link_status:up")
        }),
        "the surviving replica does not follow the new master: {}",
        replication_auth(other, Some(PW))
    );
    assert!(replication_auth(new, Some(PW)).contains("role:master"));
    for s in &ss {
        let mut c = s.conn();
        assert!(wait_for(Duration::from_secs(5), || master_addr(&mut c) == new));
    }
}

/// SENTINEL FAILOVER with a healthy master: a replica is promoted, the address changes,
/// the old master becomes a replica of the new one; -INPROG during it, -NOGOODSLAVE (the
/// real sentinel's text) with no replicas.
#[test]
fn sentinel_manual_failover() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mp, _m, r1, r2) = trio(rill_bin(), dir.path(), &[], None);
    // The old master is converted failover-timeout after its role was last seen changing,
    // on a replica INFO (every 10 s): 3 s keeps that well inside the test's time.
    let s = sentinel(
        dir.path(),
        0,
        mp,
        false,
        "sentinel failover-timeout mymaster 3000\n",
    );
    let mut c = s.conn();
    assert!(wait_for(Duration::from_secs(10), || replicas_ready(&mut c)));
    let args = &["SENTINEL", "FAILOVER", "mymaster"][..];
    assert_eq!(err(&mut c, args), "ok: ok");
    // Right after: the promotion is under way (redis-sentinel's sentinel.c text).
    let wire = raw_exchange(
        ([127, 0, 0, 1], s.port).into(),
        b"SENTINEL FAILOVER mymaster\r\n",
        Duration::from_millis(200),
    );
    assert_eq!(
        String::from_utf8_lossy(&wire),
        "-INPROG Failover already in progress\r\n",
        "{:?}",
        fields(&mut c, &["MASTER", "mymaster"])
    );
    assert!(
        wait_for(Duration::from_secs(15), || {
            let a = master_addr(&mut c);
            a == r1.port || a == r2.port
        }),
        "no promotion: {:?}",
        fields(&mut c, &["MASTER", "mymaster"])
    );
    let new = master_addr(&mut c);
    assert!(replication(new).contains("role:master"));
    let other = if new == r1.port { r2.port } else { r1.port };
    for (port, secs) in [(other, 10), (mp, 20)] {
        assert!(
            wait_for(Duration::from_secs(secs), || {
                let r = replication(port);
                r.contains("role:slave")
                    && r.contains(&format!("master_port:{new}"))
                    && r.contains("master_link_status:up")
            }),
            "{port} (old master {mp}) does not follow {new}: {}",
            replication(port)
        );
    }
    assert!(wait_for(Duration::from_secs(10), || {
        field(&mut c, &["MASTER", "mymaster"], "failover-state").is_empty()
            && field(&mut c, &["MASTER", "mymaster"], "flags") == "master"
    }));

    // A lone master: the same -NOGOODSLAVE as the real sentinel.
    let lp = free_port();
    let _lone = data_node(rill_bin(), lp, None, dir.path());
    let ls = sentinel(dir.path(), 1, lp, false, "");
    let real = sentinel(dir.path(), 2, lp, true, "");
    let args = &["SENTINEL", "FAILOVER", "mymaster"][..];
    let (mut lc, mut rc) = (ls.conn(), real.conn());
    let e = err(&mut lc, args);
    assert!(e.contains("NOGOODSLAVE"), "{e}");
    assert_eq!(e, err(&mut rc, args));
    assert_eq!(
        err(&mut lc, &["SENTINEL", "FAILOVER", "nope"]),
        err(&mut rc, &["SENTINEL", "FAILOVER", "nope"])
    );
}

/// SENTINEL RESET: the number of masters matched, the replica and sentinel lists emptied
/// and then rediscovered.
#[test]
fn sentinel_reset_rediscovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mp, _m, _r1, _r2) = trio(rill_bin(), dir.path(), &[], None);
    let ss: Vec<Proc> = (0..2)
        .map(|i| sentinel(dir.path(), i, mp, false, ""))
        .collect();
    let mut c = ss[0].conn();
    let discovered = |c: &mut redis::Connection| {
        entries(c, "REPLICAS").len() == 2 && entries(c, "SENTINELS").len() == 1
    };
    assert!(wait_for(Duration::from_secs(15), || discovered(&mut c)));
    let none: i64 = redis::cmd("SENTINEL")
        .arg(&["RESET", "nomatch*"])
        .query(&mut c)
        .expect("reset");
    assert_eq!(none, 0);
    assert!(discovered(&mut c));
    // RESET and the lists in one pipeline: nothing rediscovered in between.
    let (n, reps, sens): (i64, Vec<redis::Value>, Vec<redis::Value>) = redis::pipe()
        .cmd("SENTINEL")
        .arg(&["RESET", "my*"])
        .cmd("SENTINEL")
        .arg(&["REPLICAS", "mymaster"])
        .cmd("SENTINEL")
        .arg(&["SENTINELS", "mymaster"])
        .query(&mut c)
        .expect("reset pipeline");
    assert_eq!(n, 1);
    assert!(reps.is_empty(), "{reps:?}");
    assert!(sens.is_empty(), "{sens:?}");
    assert!(
        wait_for(Duration::from_secs(15), || discovered(&mut c)),
        "not rediscovered: {:?}",
        fields(&mut c, &["MASTER", "mymaster"])
    );
    assert_eq!(master_addr(&mut c), mp);
    assert_eq!(field(&mut c, &["MASTER", "mymaster"], "flags"), "master");
}
