//! TCOMMIT as keyspace data: inside MULTI/EXEC its offset is persisted (and rolled back)
//! together with the transaction's writes, through the AOF and the RDB, and after a
//! restart the later of a TCOMMIT and a Kafka commit wins.

use crate::common::{kafka_clients, TestServer};
use std::path::{Path, PathBuf};

fn committed(s: &TestServer, group: &str, topic: &str) -> String {
    s.cli(&["TCOMMITTED", group, topic, "0"]).trim().to_string()
}

/// Runs MULTI, SET `key` `value`, TCOMMIT `group` t 0 `offset`, EXEC on one connection.
fn commit_tx(s: &TestServer, key: &str, value: &str, group: &str, offset: i64) {
    let mut c = s.conn();
    let (set, commit): (String, String) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(key)
        .arg(value)
        .cmd("TCOMMIT")
        .arg(group)
        .arg("t")
        .arg(0)
        .arg(offset)
        .query(&mut c)
        .expect("MULTI/EXEC");
    assert_eq!((set.as_str(), commit.as_str()), ("OK", "OK"));
}

/// The incr file of `dir/appendonlydir`.
fn incr_file(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join("appendonlydir"))
        .expect("appendonlydir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .expect("an incr file")
}

const AOF_ALWAYS: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

#[test]
fn tcommit_in_exec_survives_kill9_and_a_torn_exec_drops_both() {
    let s = TestServer::start_with(AOF_ALWAYS);
    assert_eq!(s.cli(&["TCREATE", "t"]), "OK\n");
    commit_tx(&s, "result:1", "a", "g", 5);
    let dir = s.kill9();
    let s = TestServer::start_in(dir, AOF_ALWAYS);
    assert_eq!(s.cli(&["GET", "result:1"]), "a\n");
    assert_eq!(committed(&s, "g", "t"), "5");
    // Kafka's OffsetFetch sees the offset the keyspace brought back.
    assert_eq!(
        kafka_clients("committed", &s.kafka(), &["g", "t"]).trim(),
        "5"
    );

    // A crash that tears the second transaction's EXEC off the AOF loses its write and
    // its offset alike (aof-load-truncated reverts the incomplete MULTI).
    commit_tx(&s, "result:2", "b", "g", 9);
    let dir = s.kill9();
    let incr = incr_file(dir.path());
    let aof = std::fs::read(&incr).expect("read incr");
    assert!(
        aof.ends_with(b"EXEC\r\n"),
        "{}",
        String::from_utf8_lossy(&aof)
    );
    let tcommit = aof
        .windows(7)
        .rposition(|w| w == b"TCOMMIT")
        .expect("TCOMMIT");
    std::fs::write(&incr, &aof[..aof.len() - 8]).expect("tear");
    assert!(tcommit < aof.len() - 8);
    let s = TestServer::start_in(dir, AOF_ALWAYS);
    assert_eq!(s.cli(&["GET", "result:2"]), "\n");
    assert_eq!(s.cli(&["GET", "result:1"]), "a\n");
    assert_eq!(committed(&s, "g", "t"), "5");
}

#[test]
fn rdb_restores_offsets_as_of_the_snapshot() {
    let args = ["--appendonly", "no", "--save", ""];
    let s = TestServer::start_with(&args);
    assert_eq!(s.cli(&["TCREATE", "t"]), "OK\n");
    commit_tx(&s, "a", "1", "g", 5);
    assert_eq!(s.cli(&["SAVE"]), "OK\n");
    commit_tx(&s, "b", "2", "g", 9);
    assert_eq!(committed(&s, "g", "t"), "9");
    let dir = s.kill9();
    // The RDB holds the offsets in an aux field that redis-check-rdb accepts.
    let check = std::process::Command::new("redis-check-rdb")
        .arg(dir.path().join("dump.rdb"))
        .output()
        .expect("redis-check-rdb (apt-get install redis-tools)");
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(out.contains("RDB looks OK"), "{out}");
    assert!(out.contains("rill-topic-offsets"), "{out}");
    let s = TestServer::start_in(dir, &args);
    assert_eq!(s.cli(&["GET", "a"]), "1\n");
    assert_eq!(s.cli(&["GET", "b"]), "\n");
    assert_eq!(committed(&s, "g", "t"), "5");
}

#[test]
fn rewritten_aof_keeps_offsets() {
    for preamble in ["yes", "no"] {
        let args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble];
        let s = TestServer::start_with(&args);
        assert_eq!(s.cli(&["TCREATE", "t"]), "OK\n");
        commit_tx(&s, "k", "v", "g", 11);
        assert_eq!(s.cli(&["TCOMMIT", "h", "t", "0", "12"]), "OK\n");
        assert!(s.cli(&["BGREWRITEAOF"]).contains("rewriting started"));
        let done = crate::common::wait_for(std::time::Duration::from_secs(20), || {
            s.cli(&["INFO", "persistence"])
                .contains("aof_rewrite_in_progress:0")
                && !s
                    .cli(&["INFO", "persistence"])
                    .contains("aof_rewrite_scheduled:1")
        });
        assert!(done);
        let dir = s.kill9();
        let s = TestServer::start_in(dir, &args);
        assert_eq!(s.cli(&["GET", "k"]), "v\n");
        assert_eq!(committed(&s, "g", "t"), "11", "preamble {preamble}");
        assert_eq!(committed(&s, "h", "t"), "12", "preamble {preamble}");
    }
}

#[test]
fn the_later_of_tcommit_and_a_kafka_commit_wins_after_restart() {
    let s = TestServer::start_with(AOF_ALWAYS);
    assert_eq!(s.cli(&["TCREATE", "t"]), "OK\n");
    assert_eq!(s.cli(&["TCOMMIT", "g", "t", "0", "5"]), "OK\n");
    let out = kafka_clients("commit", &s.kafka(), &["g", "t", "8"]);
    assert_eq!(out.trim(), "8");
    let dir = s.kill9();
    let s = TestServer::start_in(dir, AOF_ALWAYS);
    assert_eq!(committed(&s, "g", "t"), "8");

    assert_eq!(s.cli(&["TCOMMIT", "g", "t", "0", "3"]), "OK\n");
    // Enough commands after it that the next start-up load takes ~3 s (key-load-delay
    // is per replayed command), so the Kafka client below asks while it loads.
    let mut c = s.conn();
    let mut pipe = redis::pipe();
    for i in 0..3000 {
        pipe.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
    }
    let _: () = pipe.query(&mut c).expect("SETs");
    let dir = s.kill9();
    let mut args = AOF_ALWAYS.to_vec();
    args.extend(["--key-load-delay", "1000"]);
    let s = TestServer::spawn_in(dir, &args);
    // COORDINATOR_LOAD_IN_PROGRESS until the keyspace (and its TCOMMIT) is loaded: the
    // client retries instead of reading the older Kafka commit.
    assert_eq!(
        kafka_clients("committed", &s.kafka(), &["g", "t"]).trim(),
        "3"
    );
    assert_eq!(s.cli(&["DBSIZE"]), "3000\n");
    s.wait_loaded();
    assert_eq!(committed(&s, "g", "t"), "3");
}
