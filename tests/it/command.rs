//! COMMAND introspection through real clients.

use crate::common::*;
use redis::Value;

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn count_matches_command_and_list_includes_subcommands() {
    let s = TestServer::start();
    let mut c = s.conn();
    let n: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut c).unwrap();
    let all: Value = redis::cmd("COMMAND").query(&mut c).unwrap();
    assert_eq!(items(&all).len() as i64, n);
    let list: Vec<String> = redis::cmd("COMMAND").arg("LIST").query(&mut c).unwrap();
    assert!(list.len() as i64 > n);
    assert!(list.contains(&"config|set".to_string()));
    assert!(list.contains(&"command|docs".to_string()));
    let conn_cmds: Vec<String> = redis::cmd("COMMAND")
        .arg("LIST")
        .arg("FILTERBY")
        .arg("ACLCAT")
        .arg("connection")
        .query(&mut c)
        .unwrap();
    assert!(conn_cmds.contains(&"ping".to_string()), "{conn_cmds:?}");
    assert!(!conn_cmds.contains(&"get".to_string()));
    let pat: Vec<String> = redis::cmd("COMMAND")
        .arg("LIST")
        .arg("FILTERBY")
        .arg("PATTERN")
        .arg("config|*")
        .query(&mut c)
        .unwrap();
    assert_eq!(pat.len(), 5, "{pat:?}");
}

#[test]
fn info_has_redis_7_shape() {
    let s = TestServer::start();
    let mut c = s.conn();
    let v: Value = redis::cmd("COMMAND")
        .arg("INFO")
        .arg("get")
        .arg("config|get")
        .arg("nosuch")
        .query(&mut c)
        .unwrap();
    let v = items(&v);
    assert_eq!(v.len(), 3);
    let get = items(&v[0]);
    assert_eq!(get.len(), 10);
    assert_eq!(text(&get[0]), "get");
    assert_eq!(text(&get[1]), "2");
    let flags: Vec<String> = items(&get[2]).iter().map(text).collect();
    assert_eq!(flags, vec!["readonly", "fast"]);
    assert_eq!(
        (text(&get[3]), text(&get[4]), text(&get[5])),
        ("1".into(), "1".into(), "1".into())
    );
    let cats: Vec<String> = items(&get[6]).iter().map(text).collect();
    assert_eq!(cats, vec!["@read", "@string", "@fast"]);
    assert_eq!(items(&get[8]).len(), 1, "one key spec");
    let cfg = items(&v[1]);
    assert_eq!(text(&cfg[0]), "config|get");
    assert_eq!(text(&cfg[1]), "-3");
    let cats: Vec<String> = items(&cfg[6]).iter().map(text).collect();
    assert_eq!(cats, vec!["@admin", "@slow", "@dangerous"]);
    assert_eq!(v[2], Value::Nil);
}

#[test]
fn docs_arguments_come_from_the_syntax() {
    let s = TestServer::start();
    // redis-cli prints the RESP3 map; the argument tree of SET carries tokens and flags.
    let out = s.cli(&["-3", "--no-raw", "COMMAND", "DOCS", "set"]);
    for want in [
        "\"summary\"",
        "\"group\" => \"string\"",
        "\"name\" => \"key\"",
        "\"type\" => \"key\"",
        "\"key_spec_index\" => (integer) 0",
        "\"token\" => \"NX\"",
        "\"token\" => \"EX\"",
        "\"type\" => \"pure-token\"",
        "\"flags\" => 1~ optional",
    ] {
        assert!(out.contains(want), "missing {want} in\n{out}");
    }
    let out = s.cli(&["COMMAND", "DOCS", "config"]);
    assert!(out.contains("config|set"), "{out}");
    assert!(out.contains("Depends on subcommand."), "{out}");
    assert_eq!(s.cli(&["COMMAND", "DOCS", "nosuch"]).trim(), "");
}

#[test]
fn getkeys_and_errors_match_redis() {
    let s = TestServer::start();
    let mut c = s.conn();
    let keys: Vec<String> = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("SET")
        .arg("k")
        .arg("v")
        .query(&mut c)
        .unwrap();
    assert_eq!(keys, vec!["k"]);
    let keys: Vec<String> = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("DEL")
        .arg("a")
        .arg("b")
        .query(&mut c)
        .unwrap();
    assert_eq!(keys, vec!["a", "b"]);
    let cases: &[(&[&str], &str)] = &[
        (&["GETKEYS", "nosuch", "a"], "Invalid command specified"),
        (
            &["GETKEYS", "PING", "x"],
            "The command has no key arguments",
        ),
        (
            &["GETKEYS", "GET", "a", "b"],
            "Invalid number of arguments specified for command",
        ),
        (
            &["GETKEYS", "GET"],
            "wrong number of arguments for 'command|getkeys' command",
        ),
        (&["NOPE"], "unknown subcommand 'NOPE'. Try COMMAND HELP."),
        (&["LIST", "FILTERBY", "X", "y"], "syntax error"),
    ];
    for (args, want) in cases {
        let mut cmd = redis::cmd("COMMAND");
        for a in *args {
            cmd.arg(*a);
        }
        let e = cmd.query::<Value>(&mut c).unwrap_err();
        assert_eq!(e.detail().unwrap_or(""), *want, "{args:?}");
    }
    let help = s.cli(&["COMMAND", "HELP"]);
    assert!(help.contains("GETKEYSANDFLAGS <full-command>"), "{help}");
    let kf = s.cli(&["COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b"]);
    // Redis resolves SET's VARIABLE_FLAGS key spec with setGetKeys.
    assert_eq!(
        kf.split_whitespace().collect::<Vec<_>>(),
        vec!["a", "OW", "update"]
    );
    let kf = s.cli(&["COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "GET"]);
    assert_eq!(
        kf.split_whitespace().collect::<Vec<_>>(),
        vec!["a", "RW", "access", "update"]
    );
}
