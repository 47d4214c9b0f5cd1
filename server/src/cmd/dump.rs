//! DUMP and RESTORE: a key's value as Redis 7.0's serialization (`<RDB object><RDB
//! version u16 LE><CRC64 LE>`), interchangeable with redis-server 7.0 in both directions.
//!
//! Semantics and error texts follow Redis 7.0's `dumpCommand` and `restoreCommand`
//! (cluster.c). The payload codec is `rill_storage::rdb`; the conversion between the
//! keyspace's types and the RDB model is [`crate::persist::convert`].

use super::*;
use crate::persist::convert;
use rill_storage::rdb;

/// ```text
/// DUMP key
/// ```
fn dump(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut opts = convert::write_options(&ctx.config);
    // createDumpPayload always writes the CRC64, whatever rdbchecksum says.
    opts.checksum = true;
    Ok(match ctx.db().get(&argv[1]) {
        None => Reply::Null,
        Some(e) => Reply::bulk(rdb::encode_dump(&convert::to_rdb(&e.value), &opts)),
    })
}

/// ```text
/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
/// ```
///
/// A relative ttl propagates as an absolute one (`ttl` replaced, `ABSTTL` appended, as
/// Redis's rewriteClientCommandArgument does); a ttl already in the past creates nothing
/// and, when REPLACE removed an old key, propagates `DEL key`.
fn restore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut replace = false;
    let mut absttl = false;
    let mut lru_idle: Option<i64> = None;
    let mut lfu_freq: Option<i64> = None;
    let mut j = 4;
    while j < argv.len() {
        let additional = argv.len() - j - 1;
        let a = &argv[j][..];
        if eq_ic(a, "replace") {
            replace = true;
        } else if eq_ic(a, "absttl") {
            absttl = true;
        } else if eq_ic(a, "idletime") && additional >= 1 && lfu_freq.is_none() {
            let v = int_arg(&argv[j + 1])?;
            if v < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            lru_idle = Some(v);
            j += 1;
        } else if eq_ic(a, "freq") && additional >= 1 && lru_idle.is_none() {
            let v = int_arg(&argv[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            lfu_freq = Some(v);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }

    let key = &argv[1][..];
    if !replace && ctx.db().get_mut(key).is_some() {
        return Err(CmdError::Raw(
            "BUSYKEY Target key name already exists.".into(),
        ));
    }
    let mut ttl = int_arg(&argv[2])?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let value = match rdb::decode_dump(&argv[3]) {
        Ok(v) => v,
        Err(rill_storage::Error::Checksum | rill_storage::Error::UnsupportedVersion(_)) => {
            return Err(CmdError::err("DUMP payload version or checksum are wrong"))
        }
        Err(_) => return Err(CmdError::err("Bad data format")),
    };
    let value = convert::from_rdb(value).map_err(|_| CmdError::err("Bad data format"))?;

    let now = ctx.now_ms;
    let db = ctx.db();
    let deleted = replace && db.remove(key).is_some();
    if ttl != 0 && !absttl {
        ttl = ttl.wrapping_add(now);
    }
    // checkAlreadyExpired: a replica keeps the key and waits for the master's DEL.
    if ttl != 0 && ttl <= now && !db.no_lazy_delete && !db.loading {
        if deleted {
            ctx.propagate_as(vec![Bytes::from_static(b"DEL"), argv[1].clone()]);
            ctx.notify(NOTIFY_GENERIC, "del", key);
            ctx.dirty(1);
        }
        return Ok(Reply::ok());
    }

    let config = ctx.config.clone();
    let db = ctx.db();
    let clock = db.clock;
    let entry = db.insert_new(key, value);
    let meta = rdb::KeyMeta {
        expire_ms: None,
        lru_idle: lru_idle.map(|v| v as u64),
        lfu_freq: lfu_freq.map(|v| v as u8),
    };
    convert::apply_key_meta(entry, &meta, &config, &clock);
    if ttl != 0 {
        db.set_expire(key, ttl);
        if !absttl {
            let mut prop = argv.to_vec();
            prop[2] = Bytes::from(ttl.to_string());
            prop.push(Bytes::from_static(b"ABSTTL"));
            ctx.propagate_as(prop);
        }
    }
    ctx.notify(NOTIFY_GENERIC, "restore", key);
    ctx.dirty(1);
    Ok(Reply::ok())
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("dump", 2, READONLY, dump)
        .keys(1, 1, 1)
        .doc(
            "2.6.0",
            "Return a serialized version of the value stored at the specified key.",
            "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
        )
        .syntax("key"),
    CommandSpec::new("restore", -4, WRITE | DENYOOM, restore)
        .keys(1, 1, 1)
        .doc(
            "2.6.0",
            "Create a key using the provided serialized value, previously obtained using DUMP.",
            "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
        )
        .syntax("key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::TestDb;

    fn dump_of(t: &mut TestDb, key: &str) -> Bytes {
        match t.run(&["DUMP", key]) {
            Reply::Bulk(b) => b,
            other => panic!("DUMP {key}: {other:?}"),
        }
    }

    fn restore(t: &mut TestDb, key: &str, ttl: &str, payload: &Bytes, opts: &[&str]) -> String {
        let mut argv = vec![
            Bytes::from_static(b"RESTORE"),
            Bytes::copy_from_slice(key.as_bytes()),
            Bytes::copy_from_slice(ttl.as_bytes()),
            payload.clone(),
        ];
        argv.extend(opts.iter().map(|o| Bytes::copy_from_slice(o.as_bytes())));
        let r = t.run_argv(&argv);
        let mut b = bytes::BytesMut::new();
        rill_protocol::encode(&r, rill_protocol::RespVersion::Resp2, &mut b);
        String::from_utf8_lossy(&b).into_owned()
    }

    fn dirty(t: &TestDb) -> u64 {
        t.shared.state.lock().store.dirty
    }

    #[test]
    fn every_type_round_trips() {
        let mut t = TestDb::new();
        t.run(&["SET", "s", "hello"]);
        t.run(&["RPUSH", "l", "a", "b", "3"]);
        t.run(&["SADD", "set", "x", "1", "y"]);
        t.run(&["HSET", "h", "f", "v", "g", "w"]);
        t.run(&["ZADD", "z", "1", "a", "-2.5", "b"]);
        t.run(&["XADD", "x", "1-1", "f", "v"]);
        t.run(&["XGROUP", "CREATE", "x", "g", "0"]);
        t.run(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"]);
        let reads: &[(&str, &[&str])] = &[
            ("s", &["GET"]),
            ("l", &["LRANGE", "0", "-1"]),
            ("set", &["SMEMBERS"]),
            ("h", &["HGETALL"]),
            ("z", &["ZRANGE", "0", "-1", "WITHSCORES"]),
            ("x", &["XRANGE", "-", "+"]),
        ];
        for (key, read) in reads {
            let p = dump_of(&mut t, key);
            let copy = format!("{key}:copy");
            assert_eq!(restore(&mut t, &copy, "0", &p, &[]), "+OK\r\n");
            let q = |k: &str| {
                let mut a = vec![read[0], k];
                a.extend_from_slice(&read[1..]);
                a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
            };
            let orig: Vec<String> = q(key);
            let dup: Vec<String> = q(&copy);
            let orig: Vec<&str> = orig.iter().map(|s| s.as_str()).collect();
            let dup: Vec<&str> = dup.iter().map(|s| s.as_str()).collect();
            assert_eq!(t.resp(&orig), t.resp(&dup), "{key}");
            assert_eq!(dump_of(&mut t, &copy), p, "{key}");
        }
        assert_eq!(
            t.resp(&["XPENDING", "x:copy", "g"]),
            t.resp(&["XPENDING", "x", "g"])
        );
        assert_eq!(t.resp(&["DUMP", "nokey"]), "$-1\r\n");
    }

    #[test]
    fn errors_and_their_order() {
        let mut t = TestDb::new();
        t.run(&["SET", "s", "v"]);
        let p = dump_of(&mut t, "s");
        let busy = "-BUSYKEY Target key name already exists.\r\n";
        assert_eq!(restore(&mut t, "s", "0", &p, &[]), busy);
        // Options are parsed first, then BUSYKEY, then the TTL, then the payload.
        assert_eq!(
            restore(&mut t, "s", "0", &p, &["NOPE"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(restore(&mut t, "s", "-1", &p, &[]), busy);
        let bad = Bytes::from_static(b"garbage");
        assert_eq!(restore(&mut t, "s", "x", &bad, &[]), busy);
        assert_eq!(
            restore(&mut t, "n", "-1", &bad, &[]),
            "-ERR Invalid TTL value, must be >= 0\r\n"
        );
        assert_eq!(
            restore(&mut t, "n", "x", &p, &[]),
            "-ERR value is not an integer or out of range\r\n"
        );
        let version = "-ERR DUMP payload version or checksum are wrong\r\n";
        assert_eq!(restore(&mut t, "n", "0", &bad, &[]), version);
        let mut flipped = p.to_vec();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(
            restore(&mut t, "n", "0", &Bytes::from(flipped), &[]),
            version
        );
        for (opts, want) in [
            (
                &["IDLETIME", "-1"][..],
                "-ERR Invalid IDLETIME value, must be >= 0\r\n",
            ),
            (
                &["FREQ", "256"],
                "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n",
            ),
            (
                &["FREQ", "-1"],
                "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n",
            ),
            (
                &["FREQ", "x"],
                "-ERR value is not an integer or out of range\r\n",
            ),
            (&["FREQ", "1", "IDLETIME", "1"], "-ERR syntax error\r\n"),
            (&["IDLETIME", "1", "FREQ", "1"], "-ERR syntax error\r\n"),
            (&["IDLETIME"], "-ERR syntax error\r\n"),
        ] {
            assert_eq!(restore(&mut t, "n", "0", &p, opts), want, "{opts:?}");
        }
        assert_eq!(t.resp(&["EXISTS", "n"]), ":0\r\n");
    }

    #[test]
    fn ttl_replace_and_propagation() {
        let mut t = TestDb::new().propagating();
        t.run(&["SET", "s", "v"]);
        let p = dump_of(&mut t, "s");
        t.take_propagated();
        let now = t.now_ms;
        let ps = String::from_utf8_lossy(&p).into_owned();

        // A relative TTL propagates as an absolute one with ABSTTL appended.
        assert_eq!(
            restore(&mut t, "a", "5000", &p, &["IDLETIME", "3"]),
            "+OK\r\n"
        );
        assert_eq!(
            t.resp(&["PEXPIRETIME", "a"]),
            format!(":{}\r\n", now + 5000)
        );
        assert_eq!(
            t.take_propagated(),
            vec![format!("RESTORE a {} {ps} IDLETIME 3 ABSTTL", now + 5000)]
        );
        // No TTL, or ABSTTL: propagated verbatim.
        assert_eq!(restore(&mut t, "b", "0", &p, &[]), "+OK\r\n");
        let abs = (now + 9000).to_string();
        assert_eq!(restore(&mut t, "c", &abs, &p, &["ABSTTL"]), "+OK\r\n");
        assert_eq!(
            t.take_propagated(),
            vec![
                format!("RESTORE b 0 {ps}"),
                format!("RESTORE c {abs} {ps} ABSTTL")
            ]
        );

        // Already expired: nothing created; with REPLACE the old key goes, as a DEL.
        let d0 = dirty(&t);
        assert_eq!(restore(&mut t, "d", "1", &p, &["ABSTTL"]), "+OK\r\n");
        assert_eq!(t.resp(&["EXISTS", "d"]), ":0\r\n");
        assert_eq!(dirty(&t), d0);
        assert!(t.take_propagated().is_empty());
        assert_eq!(
            restore(&mut t, "b", "1", &p, &["ABSTTL", "REPLACE"]),
            "+OK\r\n"
        );
        assert_eq!(t.resp(&["EXISTS", "b"]), ":0\r\n");
        assert_eq!(dirty(&t), d0 + 1);
        assert_eq!(t.take_propagated(), vec!["DEL b".to_string()]);

        // REPLACE over another type.
        t.run(&["RPUSH", "l", "x"]);
        t.take_propagated();
        assert_eq!(restore(&mut t, "l", "0", &p, &["REPLACE"]), "+OK\r\n");
        assert_eq!(t.resp(&["GET", "l"]), "$1\r\nv\r\n");
        assert_eq!(
            t.take_propagated(),
            vec![format!("RESTORE l 0 {ps} REPLACE")]
        );
    }

    #[test]
    fn idletime_and_freq_set_the_access_clock() {
        let mut t = TestDb::new();
        t.run(&["SET", "s", "v"]);
        let p = dump_of(&mut t, "s");
        assert_eq!(
            restore(&mut t, "i", "0", &p, &["IDLETIME", "1000"]),
            "+OK\r\n"
        );
        let idle: i64 = t.resp(&["OBJECT", "IDLETIME", "i"])[1..]
            .trim()
            .parse()
            .unwrap();
        assert!((1000..1003).contains(&idle), "{idle}");
        // FREQ is accepted and ignored under an LRU (non-LFU) policy.
        assert_eq!(restore(&mut t, "f", "0", &p, &["FREQ", "9"]), "+OK\r\n");

        let mut c = crate::config::Config::default();
        c.set("maxmemory-policy", "allkeys-lfu").unwrap();
        let mut t = TestDb::with_config(c);
        assert_eq!(restore(&mut t, "f", "0", &p, &["FREQ", "100"]), "+OK\r\n");
        assert_eq!(t.resp(&["OBJECT", "FREQ", "f"]), ":100\r\n");
        assert_eq!(
            restore(&mut t, "g", "0", &p, &["IDLETIME", "100"]),
            "+OK\r\n"
        );
        assert_eq!(t.resp(&["OBJECT", "FREQ", "g"]), ":5\r\n");
    }
}
