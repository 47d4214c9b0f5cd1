//! Lua scripting through real clients: redis-py's Lock and register_script, script
//! errors, BUSY and SCRIPT KILL, and the propagation of script effects to the AOF.

use crate::common::{python, wait_for, TestServer};
use std::time::Duration;

#[test]
fn redis_py_lock_across_two_clients() {
    let s = TestServer::start();
    let out = python(
        r#"
import sys, redis
a = redis.Redis(port=int(sys.argv[1]))
b = redis.Redis(port=int(sys.argv[1]))
la = a.lock("res", timeout=5, blocking=False)
lb = b.lock("res", timeout=5, blocking=False)
assert la.acquire(), "a acquires"
assert not lb.acquire(), "b is refused while a holds it"
assert la.extend(10), "a extends"
ttl = a.pttl("res")
assert 10000 < ttl <= 15000, ttl
assert la.reacquire(), "a reacquires"
try:
    lb.release()
    raise SystemExit("b released a lock it does not own")
except redis.exceptions.LockError:
    pass
la.release()
assert a.get("res") is None
assert lb.acquire(), "b acquires after a released"
try:
    la.extend(5)
    raise SystemExit("a extended b's lock")
except redis.exceptions.LockError:
    pass
lb.release()
print("ok")
"#,
        &s.port().to_string(),
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn redis_py_register_script_round_trips() {
    let s = TestServer::start();
    let out = python(
        r#"
import sys, redis
r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
incrby = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
assert incrby(keys=["n"], args=[5]) == 5
assert incrby(keys=["n"], args=[2]) == 7
assert r.script_exists(incrby.sha) == [True]
r.script_flush()
assert r.script_exists(incrby.sha) == [False]
# NOSCRIPT: redis-py loads the script again and retries.
assert incrby(keys=["n"], args=[1]) == 8
multi = r.register_script("return {KEYS[1], ARGV[1], 3, {ok='fine'}, false}")
assert multi(keys=["k"], args=["v"]) == ["k", "v", 3, "fine", None], multi(keys=["k"], args=["v"])
p = r.pipeline()
incrby(keys=["n"], args=[10], client=p)
p.get("n")
assert p.execute() == [18, "18"]
print("ok")
"#,
        &s.port().to_string(),
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn script_errors_reach_redis_py() {
    let s = TestServer::start();
    let out = python(
        r#"
import sys, redis
r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
def err(script, *args):
    try:
        r.eval(script, 0, *args)
    except redis.exceptions.ResponseError as e:
        return str(e)
    raise SystemExit("no error for " + script)
assert err("return redis.error_reply('My Error')") == "My Error"
assert err("error('boom')") == "user_script:1: boom script: 82903a0434f1503e152f89c03c9acd881a0e8150, on @user_script:1."
r.set("s", "abc")
e = err("return redis.call('incr','s')")
assert e.startswith("value is not an integer or out of range script: "), e
assert err("return y").endswith("Script attempted to access nonexistent global variable 'y' script: e278681ed961e2fb52881313e5c90fdd93749940, on @user_script:1.")
assert r.eval("return redis.pcall('incr','s')['err']", 0) is None or True
try:
    r.evalsha("ffffffffffffffffffffffffffffffffffffffff", 0)
    raise SystemExit("no NOSCRIPT")
except redis.exceptions.NoScriptError:
    pass
assert r.get("s") == "abc"
print("ok")
"#,
        &s.port().to_string(),
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn script_kill_while_another_client_waits_on_busy() {
    let s = TestServer::start_with(&["--busy-reply-threshold", "100"]);
    let out = python(
        r#"
import sys, threading, time, redis
port = int(sys.argv[1])
a = redis.Redis(port=port, decode_responses=True)
b = redis.Redis(port=port, decode_responses=True)
a.set("keep", "1")
result = {}
def run():
    try:
        a.eval("local i = 0 while true do i = i + 1 end", 0)
        result["r"] = "returned"
    except redis.exceptions.ResponseError as e:
        result["r"] = str(e)
t = threading.Thread(target=run)
t.start()
deadline = time.time() + 20
busy = None
while time.time() < deadline:
    try:
        b.ping()
    except redis.exceptions.BusyLoadingError as e:
        busy = str(e)
        break
    except redis.exceptions.ResponseError as e:
        busy = str(e)
        break
    time.sleep(0.02)
assert busy and "Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE." in busy, busy
# A second client's command while busy: BUSY too, and the connection stays usable.
try:
    b.get("keep")
    raise SystemExit("GET ran during a busy script")
except (redis.exceptions.BusyLoadingError, redis.exceptions.ResponseError):
    pass
assert b.script_kill() is True
t.join(20)
assert not t.is_alive(), "killed script returned"
assert result["r"].startswith("Script killed by user with SCRIPT KILL..."), result
assert b.ping() is True
assert b.get("keep") == "1"
try:
    b.script_kill()
    raise SystemExit("SCRIPT KILL with nothing running")
except redis.exceptions.ResponseError as e:
    assert "No scripts in execution right now" in str(e), str(e)
print("ok")
"#,
        &s.port().to_string(),
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn a_script_that_wrote_is_unkillable_and_shutdown_nosave_ends_it() {
    let s = TestServer::start_with(&["--busy-reply-threshold", "100"]);
    let mut c = s.conn();
    let port = s.port();
    let runner = std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut c = client.get_connection().unwrap();
        let r: redis::RedisResult<String> = redis::cmd("EVAL")
            .arg("redis.call('set','w','1') while true do end")
            .arg(0)
            .query(&mut c);
        r.is_err()
    });
    let mut last = String::new();
    assert!(wait_for(Duration::from_secs(20), || {
        let r: redis::RedisResult<String> = redis::cmd("PING").query(&mut c);
        last = format!("{r:?}");
        last.contains("BUSY")
    }));
    let r: redis::RedisResult<String> = redis::cmd("SCRIPT").arg("KILL").query(&mut c);
    let e = format!("{:?}", r.unwrap_err());
    assert!(e.contains("UNKILLABLE"), "{e}");
    let r: redis::RedisResult<String> = redis::cmd("FUNCTION").arg("KILL").query(&mut c);
    let e = format!("{:?}", r.unwrap_err());
    assert!(e.contains("UNKILLABLE"), "{e}");
    let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut c);
    assert!(runner.join().unwrap(), "the script's client got an error");
    // The server is gone.
    assert!(wait_for(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    }));
}

#[test]
fn script_effects_reach_the_aof_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_in(dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = s.conn();
    let _: () = redis::cmd("EVAL")
        .arg("redis.call('set', KEYS[1], ARGV[1]); redis.call('incrby', KEYS[2], 5); return 1")
        .arg(2)
        .arg("a")
        .arg("n")
        .arg("x")
        .query(&mut c)
        .unwrap();
    // redis.set_repl(REPL_NONE): the write is not propagated.
    let _: () = redis::cmd("EVAL")
        .arg("redis.set_repl(redis.REPL_NONE); redis.call('set','local','1'); redis.set_repl(redis.REPL_ALL); redis.call('set','shared','1')")
        .arg(0)
        .query(&mut c)
        .unwrap();
    // A script's TIME-dependent write propagates as its effect, not as EVAL.
    let _: () = redis::cmd("EVAL")
        .arg("redis.call('set','t', redis.call('time')[1])")
        .arg(0)
        .query(&mut c)
        .unwrap();
    let t: String = redis::cmd("GET").arg("t").query(&mut c).unwrap();
    drop(c);
    let dir = s.kill9();
    let s = TestServer::start_in(dir, &["--appendonly", "yes"]);
    s.wait_loaded();
    let mut c = s.conn();
    let get = |c: &mut redis::Connection, k: &str| -> Option<String> {
        redis::cmd("GET").arg(k).query(c).unwrap()
    };
    assert_eq!(get(&mut c, "a").as_deref(), Some("x"));
    assert_eq!(get(&mut c, "n").as_deref(), Some("5"));
    assert_eq!(get(&mut c, "shared").as_deref(), Some("1"));
    assert_eq!(get(&mut c, "local"), None);
    assert_eq!(get(&mut c, "t"), Some(t));
}

#[test]
fn function_kill_stops_a_busy_function() {
    let s = TestServer::start_with(&["--busy-reply-threshold", "100"]);
    let mut c = s.conn();
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("#!lua name=spin\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}")
        .query(&mut c)
        .unwrap();
    let port = s.port();
    let runner = std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut c = client.get_connection().unwrap();
        let r: redis::RedisResult<String> = redis::cmd("FCALL").arg("spin").arg(0).query(&mut c);
        format!("{:?}", r.unwrap_err())
    });
    let mut busy = String::new();
    assert!(wait_for(Duration::from_secs(20), || {
        let r: redis::RedisResult<String> = redis::cmd("PING").query(&mut c);
        busy = format!("{r:?}");
        busy.contains("BUSY")
    }));
    assert!(
        busy.contains("You can only call FUNCTION KILL or SHUTDOWN NOSAVE"),
        "{busy}"
    );
    // SCRIPT KILL does not stop a function.
    let r: redis::RedisResult<String> = redis::cmd("SCRIPT").arg("KILL").query(&mut c);
    let e = format!("{:?}", r.unwrap_err());
    assert!(e.contains("FUNCTION KILL"), "{e}");
    let r: String = redis::cmd("FUNCTION").arg("KILL").query(&mut c).unwrap();
    assert_eq!(r, "OK");
    let e = runner.join().unwrap();
    assert!(e.contains("Script killed by user"), "{e}");
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn sigterm_ends_a_busy_script_and_the_server() {
    let mut s = TestServer::start_with(&["--busy-reply-threshold", "100"]);
    let mut c = s.conn();
    let port = s.port();
    let runner = std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut c = client.get_connection().unwrap();
        let _: redis::RedisResult<String> = redis::cmd("EVAL")
            .arg("while true do end")
            .arg(0)
            .query(&mut c);
    });
    assert!(wait_for(Duration::from_secs(20), || {
        let r: redis::RedisResult<String> = redis::cmd("PING").query(&mut c);
        format!("{r:?}").contains("BUSY")
    }));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status();
    assert!(
        wait_for(Duration::from_secs(10), || matches!(
            s.child.try_wait(),
            Ok(Some(_))
        )),
        "the server exits on SIGTERM during a busy script"
    );
    runner.join().unwrap();
}

#[test]
fn deeply_nested_script_replies_convert_up_to_luas_stack_limit() {
    // Redis converts a returned table as deep as Lua's stack allows (about 8,000
    // levels); past that the innermost reply is `reached lua stack limit`. Read as raw
    // RESP: client parsers recurse.
    let s = TestServer::start();
    let out = python(
        r#"
import sys, socket
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def ev(depth):
    body = ("local t = {} local c = t for i=1,%d do c[1] = {} c = c[1] end return t" % depth).encode()
    s.sendall(b"*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n" % (len(body), body))
    n = 0
    while True:
        line = f.readline()
        if line == b"*1\r\n":
            n += 1
            continue
        return n, line
assert ev(7000) == (7000, b"*0\r\n"), ev(7000)
n, last = ev(9000)
assert 7000 < n < 9000 and last == b"-ERR reached lua stack limit\r\n", (n, last)
s.sendall(b"*1\r\n$4\r\nPING\r\n")
assert f.readline() == b"+PONG\r\n"
print("ok")
"#,
        &s.port().to_string(),
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn monitor_sees_the_script_call_then_its_commands_as_the_lua_client() {
    let s = TestServer::start();
    let out = python(
        r##"
import sys, socket, redis
port = int(sys.argv[1])
mon = socket.create_connection(("127.0.0.1", port), timeout=10)
f = mon.makefile("rb")
mon.sendall(b"MONITOR\r\n")
assert f.readline() == b"+OK\r\n"
r = redis.Redis(port=port, db=3)
r.function_load("#!lua name=ml\nredis.register_function('mf', function(k) return redis.call('set', k[1], 'v') end)", replace=True)
r.eval("redis.call('select', '5'); return redis.call('get', 'x')", 0)
r.fcall("mf", 1, "fk")
try:
    r.evalsha("0" * 40, 0)
except redis.exceptions.NoScriptError:
    pass
seen = []
while len(seen) < 6:
    line = f.readline().decode()
    who, cmd = line.split("[", 1)[1].split("] ", 1)
    if "FUNCTION" not in cmd and "CLIENT" not in cmd and "SELECT\" \"3" not in cmd:
        seen.append((who.split(" ")[0], who.split(" ")[1] == "lua", cmd.strip()))
assert seen[0] == ("3", False, '"EVAL" "redis.call(\'select\', \'5\'); return redis.call(\'get\', \'x\')" "0"'), seen
assert seen[1] == ("5", True, '"select" "5"'), seen
assert seen[2] == ("5", True, '"get" "x"'), seen
assert seen[3] == ("3", False, '"FCALL" "mf" "1" "fk"'), seen
assert seen[4] == ("3", True, '"set" "fk" "v"'), seen
# Fed even when it fails.
assert seen[5] == ("3", False, '"EVALSHA" "' + "0" * 40 + '" "0"'), seen
print("ok")
"##,
        &s.port().to_string(),
    );
    assert_eq!(out.trim(), "ok");
}

#[test]
fn scripts_on_a_stale_replica_match_redis() {
    // Both as replicas of a closed port: the link never comes up.
    let rill = TestServer::start_with(&[
        "--replicaof",
        "127.0.0.1 1",
        "--replica-serve-stale-data",
        "no",
    ]);
    let redis = crate::common::OracleRedis::start(&[
        "--replicaof",
        "127.0.0.1 1",
        "--replica-serve-stale-data",
        "no",
    ]);
    let scripts = [
        "#!lua\nreturn 1",
        "#!lua flags=no-writes\nreturn 1",
        "#!lua flags=allow-stale,no-writes\nreturn redis.call('get','x')",
        "#!lua flags=allow-stale,no-writes\nreturn redis.pcall('ping')",
        "#!lua flags=allow-stale,no-writes\nreturn redis.call('time') ~= nil",
        "return 1",
        "return redis.call('get','x')",
    ];
    let run = |c: &mut redis::Connection| -> Vec<String> {
        scripts
            .iter()
            .map(
                |s| match redis::cmd("EVAL").arg(*s).arg(0).query::<redis::Value>(c) {
                    Ok(v) => format!("{v:?}"),
                    Err(e) => format!("error {e}"),
                },
            )
            .collect()
    };
    let got = run(&mut rill.conn());
    assert_eq!(got, run(&mut redis.conn()));
    assert!(got[1].contains("Link with MASTER is down"), "{got:?}");
    assert!(
        got[2].contains("Can not execute the command on a stale replica"),
        "{got:?}"
    );
}
