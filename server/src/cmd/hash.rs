//! Hash commands: HSET, HGET, HINCRBY(FLOAT), HRANDFIELD, HSCAN, ... Error texts and
//! reply shapes follow Redis 7.0's t_hash.c.

use super::*;
use crate::cmd::set::{random_count, MAX_RANDOM_REPLY};
use crate::db::hash::{self as dh, Hash};
use crate::db::ld80;
use crate::db::{glob::glob_match, scan_indexmap, Db, SBytes, Value};
use rand::seq::SliceRandom;
use rand::Rng;
use rill_protocol::RespVersion;

fn hash_write<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a mut Hash>, CmdError> {
    match db.get_mut(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(CmdError::WrongType),
        },
    }
}

fn hash_read<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a Hash>, CmdError> {
    match db.get(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// hashTypeLookupWriteOrCreate.
fn hash_write_or_create<'a>(db: &'a mut Db, key: &[u8]) -> Result<&'a mut Hash, CmdError> {
    if hash_write(db, key)?.is_none() {
        db.insert_new(key, Value::Hash(Box::default()));
    }
    match hash_write(db, key)? {
        Some(h) => Ok(h),
        None => Err(CmdError::err("hash vanished")),
    }
}

fn bulk(s: &SBytes) -> Reply {
    Reply::bulk_slice(s)
}

fn set_fields(ctx: &mut Ctx, argv: &[Bytes]) -> Result<usize, CmdError> {
    if argv.len() % 2 == 1 {
        return Err(CmdError::wrong_args(&lossy(&argv[0])));
    }
    let key = &argv[1];
    let h = hash_write_or_create(ctx.db(), key)?;
    let mut created = 0;
    for pair in argv[2..].chunks_exact(2) {
        if h.insert(SBytes::new(&pair[0]), SBytes::new(&pair[1]))
            .is_none()
        {
            created += 1;
        }
    }
    ctx.db().signal_modified(key);
    ctx.notify(NOTIFY_HASH, "hset", key);
    ctx.dirty(((argv.len() - 2) / 2) as u64);
    Ok(created)
}

/// ```text
/// HSET key field value [field value ...]
/// ```
fn hset(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(set_fields(ctx, argv)? as i64))
}

/// ```text
/// HMSET key field value [field value ...]
/// ```
fn hmset(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    set_fields(ctx, argv)?;
    Ok(Reply::ok())
}

/// ```text
/// HSETNX key field value
/// ```
fn hsetnx(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let h = hash_write_or_create(ctx.db(), key)?;
    if h.contains_key(&argv[2][..]) {
        return Ok(Reply::Int(0));
    }
    h.insert(SBytes::new(&argv[2]), SBytes::new(&argv[3]));
    ctx.db().signal_modified(key);
    ctx.notify(NOTIFY_HASH, "hset", key);
    ctx.dirty(1);
    Ok(Reply::Int(1))
}

/// ```text
/// HGET key field
/// ```
fn hget(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let h = hash_read(ctx.db(), &argv[1])?;
    Ok(h.and_then(|h| h.get(&argv[2][..]))
        .map(bulk)
        .unwrap_or(Reply::Null))
}

/// ```text
/// HMGET key field [field ...]
/// ```
fn hmget(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let h = hash_read(ctx.db(), &argv[1])?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|f| {
                h.and_then(|h| h.get(&f[..]))
                    .map(bulk)
                    .unwrap_or(Reply::Null)
            })
            .collect(),
    ))
}

/// ```text
/// HGETALL key
/// ```
fn hgetall(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let h = hash_read(ctx.db(), &argv[1])?;
    Ok(Reply::Map(
        h.map(|h| h.iter().map(|(k, v)| (bulk(k), bulk(v))).collect())
            .unwrap_or_default(),
    ))
}

/// ```text
/// HKEYS key
/// ```
fn hkeys(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let h = hash_read(ctx.db(), &argv[1])?;
    Ok(Reply::Array(
        h.map(|h| h.keys().map(bulk).collect()).unwrap_or_default(),
    ))
}

/// ```text
/// HVALS key
/// ```
fn hvals(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let h = hash_read(ctx.db(), &argv[1])?;
    Ok(Reply::Array(
        h.map(|h| h.values().map(bulk).collect())
            .unwrap_or_default(),
    ))
}

/// ```text
/// HDEL key field [field ...]
/// ```
fn hdel(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(h) = hash_write(ctx.db(), key)? else {
        return Ok(Reply::Int(0));
    };
    let mut deleted = 0;
    for f in &argv[2..] {
        if dh::remove_field(h, f).is_some() {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    let empty = h.is_empty();
    if deleted > 0 {
        ctx.db().signal_modified(key);
        ctx.notify(NOTIFY_HASH, "hdel", key);
        if empty {
            ctx.db().remove(key);
            ctx.notify(NOTIFY_GENERIC, "del", key);
        }
        ctx.dirty(deleted);
    }
    Ok(Reply::Int(deleted as i64))
}

/// ```text
/// HEXISTS key field
/// ```
fn hexists(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let hit = hash_read(ctx.db(), &argv[1])?.is_some_and(|h| h.contains_key(&argv[2][..]));
    Ok(Reply::Int(hit as i64))
}

/// ```text
/// HLEN key
/// ```
fn hlen(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let n = hash_read(ctx.db(), &argv[1])?.map_or(0, |h| h.len());
    Ok(Reply::Int(n as i64))
}

/// ```text
/// HSTRLEN key field
/// ```
fn hstrlen(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let h = hash_read(ctx.db(), &argv[1])?;
    let n = h.and_then(|h| h.get(&argv[2][..])).map_or(0, |v| v.len());
    Ok(Reply::Int(n as i64))
}

/// ```text
/// HINCRBY key field increment
/// ```
fn hincrby(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let incr = int_arg(&argv[3])?;
    let key = &argv[1];
    let h = hash_write_or_create(ctx.db(), key)?;
    let cur = match h.get(&argv[2][..]) {
        Some(v) => rill_protocol::fmt::parse_i64(v)
            .ok_or_else(|| CmdError::err("hash value is not an integer"))?,
        None => 0,
    };
    let new = cur
        .checked_add(incr)
        .ok_or_else(|| CmdError::err("increment or decrement would overflow"))?;
    h.insert(SBytes::new(&argv[2]), SBytes::from_i64(new));
    ctx.db().signal_modified(key);
    ctx.notify(NOTIFY_HASH, "hincrby", key);
    ctx.dirty(1);
    Ok(Reply::Int(new))
}

/// ```text
/// HINCRBYFLOAT key field increment
/// ```
fn hincrbyfloat(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    // As Redis: the increment is a long double (getLongDoubleFromObjectOrReply), checked
    // before the key; the sum is computed and printed in long double too.
    let incr = ld80::parse(&argv[3]).ok_or(CmdError::NotFloat)?;
    if !incr.is_finite() {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let key = &argv[1];
    let h = hash_write_or_create(ctx.db(), key)?;
    let cur = match h.get(&argv[2][..]) {
        Some(v) => ld80::parse(v).ok_or_else(|| CmdError::err("hash value is not a float"))?,
        None => ld80::Ld::Zero { neg: false },
    };
    let sum = ld80::add(cur, incr);
    if !sum.is_finite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    let new = ld80::format_human(sum);
    h.insert(SBytes::new(&argv[2]), SBytes::new(new.as_bytes()));
    ctx.db().signal_modified(key);
    ctx.notify(NOTIFY_HASH, "hincrbyfloat", key);
    ctx.dirty(1);
    // hincrbyfloatCommand: `HSET key field <new>`, so float formatting cannot differ.
    let new = Bytes::from(new);
    ctx.propagate_as(vec![
        Bytes::from_static(b"HSET"),
        key.clone(),
        argv[2].clone(),
        new.clone(),
    ]);
    Ok(Reply::Bulk(new))
}

/// ```text
/// HRANDFIELD key [count [WITHVALUES]]
/// ```
fn hrandfield(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut rng = rand::thread_rng();
    if argv.len() == 2 {
        let Some(h) = hash_read(ctx.db(), &argv[1])? else {
            return Ok(Reply::Null);
        };
        if h.is_empty() {
            return Ok(Reply::Null);
        }
        let i = rng.gen_range(0..h.len());
        return Ok(h.get_index(i).map(|(k, _)| bulk(k)).unwrap_or(Reply::Null));
    }
    let l = random_count(&argv[2])?;
    if argv.len() > 4 || (argv.len() == 4 && !eq_ic(&argv[3], "withvalues")) {
        return Err(CmdError::Syntax);
    }
    let withvalues = argv.len() == 4;
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::err("value is out of range"));
    }
    let resp3 = ctx.client.resp == RespVersion::Resp3;
    let Some(h) = hash_read(ctx.db(), &argv[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    if l == 0 || h.is_empty() {
        return Ok(Reply::Array(Vec::new()));
    }
    let emit = |out: &mut Vec<Reply>, i: usize| {
        if let Some((k, v)) = h.get_index(i) {
            if withvalues && resp3 {
                out.push(Reply::Array(vec![bulk(k), bulk(v)]));
            } else {
                out.push(bulk(k));
                if withvalues {
                    out.push(bulk(v));
                }
            }
        }
    };
    let mut out = Vec::new();
    if l < 0 {
        let n = l.unsigned_abs();
        if n > MAX_RANDOM_REPLY {
            return Err(CmdError::err("value is out of range"));
        }
        for _ in 0..n {
            emit(&mut out, rng.gen_range(0..h.len()));
        }
    } else if l as u64 >= h.len() as u64 {
        for i in 0..h.len() {
            emit(&mut out, i);
        }
    } else {
        let mut idx = rand::seq::index::sample(&mut rng, h.len(), l as usize).into_vec();
        idx.shuffle(&mut rng);
        for i in idx {
            emit(&mut out, i);
        }
    }
    Ok(Reply::Array(out))
}

/// ```text
/// HSCAN key cursor [MATCH pattern] [COUNT count]
/// ```
fn hscan(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    cursor_arg(&argv[2])?;
    let Some(h) = hash_read(ctx.db(), &argv[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let args = parse_scan(argv, 2, false)?;
    let mut items = Vec::new();
    let mut visit = |k: &SBytes, v: &SBytes| {
        if args
            .pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, k, false))
        {
            items.push(bulk(k));
            items.push(bulk(v));
        }
    };
    if dh::is_listpack(h) {
        // A listpack is returned whole, as Redis does.
        for (k, v) in h.iter() {
            visit(k, v);
        }
        return Ok(scan_reply(0, items));
    }
    let next = scan_indexmap(h, args.cursor, args.count, visit);
    Ok(scan_reply(next, items))
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hset", -4, WRITE | DENYOOM | FAST, hset)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Set the string value of a hash field",
            "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
        )
        .syntax("key field value [field value ...]"),
    CommandSpec::new("hsetnx", 4, WRITE | DENYOOM | FAST, hsetnx)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Set the value of a hash field, only if the field does not exist",
            "O(1)",
        )
        .syntax("key field value"),
    CommandSpec::new("hget", 3, READONLY | FAST, hget)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Get the value of a hash field",
            "O(1)",
        )
        .syntax("key field"),
    CommandSpec::new("hmget", -3, READONLY | FAST, hmget)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Get the values of all the given hash fields",
            "O(N) where N is the number of fields being requested.",
        )
        .syntax("key field [field ...]"),
    CommandSpec::new("hmset", -4, WRITE | DENYOOM | FAST, hmset)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Set multiple hash fields to multiple values",
            "O(N) where N is the number of fields being set.",
        )
        .syntax("key field value [field value ...]"),
    CommandSpec::new("hgetall", 2, READONLY, hgetall)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Get all the fields and values in a hash",
            "O(N) where N is the size of the hash.",
        )
        .syntax("key"),
    CommandSpec::new("hdel", -3, WRITE | FAST, hdel)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Delete one or more hash fields",
            "O(N) where N is the number of fields to be removed.",
        )
        .syntax("key field [field ...]"),
    CommandSpec::new("hexists", 3, READONLY | FAST, hexists)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Determine if a hash field exists",
            "O(1)",
        )
        .syntax("key field"),
    CommandSpec::new("hlen", 2, READONLY | FAST, hlen)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Get the number of fields in a hash",
            "O(1)",
        )
        .syntax("key"),
    CommandSpec::new("hkeys", 2, READONLY, hkeys)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Get all the fields in a hash",
            "O(N) where N is the size of the hash.",
        )
        .syntax("key"),
    CommandSpec::new("hvals", 2, READONLY, hvals)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Get all the values in a hash",
            "O(N) where N is the size of the hash.",
        )
        .syntax("key"),
    CommandSpec::new("hstrlen", 3, READONLY | FAST, hstrlen)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "3.2.0",
            "Get the length of the value of a hash field",
            "O(1)",
        )
        .syntax("key field"),
    CommandSpec::new("hincrby", 4, WRITE | DENYOOM | FAST, hincrby)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.0.0",
            "Increment the integer value of a hash field by the given number",
            "O(1)",
        )
        .syntax("key field increment"),
    CommandSpec::new("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hincrbyfloat)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.6.0",
            "Increment the float value of a hash field by the given amount",
            "O(1)",
        )
        .syntax("key field increment"),
    CommandSpec::new("hrandfield", -2, READONLY, hrandfield)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "6.2.0",
            "Get one or multiple random fields from a hash",
            "O(N) where N is the number of fields returned",
        )
        .syntax("key [count [WITHVALUES]]"),
    CommandSpec::new("hscan", -3, READONLY, hscan)
        .keys(1, 1, 1)
        .group("hash")
        .doc(
            "2.8.0",
            "Incrementally iterate hash fields and associated values",
            "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        )
        .syntax("key cursor [MATCH pattern] [COUNT count]"),
];

#[cfg(test)]
mod tests {
    use crate::cmd::testkit::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};
    use rill_protocol::{Reply, RespVersion};
    use std::collections::HashMap;

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn basics_and_delete_when_empty() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["HSET", "h", "a", "1", "b", "2"]), int(2));
        assert_eq!(t.run(&["HSET", "h", "a", "3"]), int(0));
        assert_eq!(t.run(&["HMSET", "h", "c", "4"]), Reply::ok());
        assert_eq!(t.run(&["HSETNX", "h", "c", "5"]), int(0));
        assert_eq!(t.run(&["HGET", "h", "a"]), bulk("3"));
        assert_eq!(
            t.run(&["HMGET", "h", "a", "zz"]),
            Reply::Array(vec![bulk("3"), Reply::Null])
        );
        assert_eq!(t.run(&["HSTRLEN", "h", "a"]), int(1));
        assert_eq!(t.run(&["HLEN", "h"]), int(3));
        assert_eq!(t.run(&["HKEYS", "h"]), arr(&["a", "b", "c"]));
        assert_eq!(t.run(&["HDEL", "h", "a"]), int(1));
        // Listpack-sized hashes keep insertion order across deletes.
        assert_eq!(t.run(&["HVALS", "h"]), arr(&["2", "4"]));
        assert_eq!(
            t.run(&["HGETALL", "h"]),
            Reply::Map(vec![(bulk("b"), bulk("2")), (bulk("c"), bulk("4"))])
        );
        assert_eq!(t.run(&["HDEL", "h", "b", "c", "d"]), int(2));
        assert_eq!(t.run(&["EXISTS", "h"]), int(0));
        assert_eq!(t.run(&["HGETALL", "h"]), Reply::Map(vec![]));
        assert_eq!(
            t.run(&["HSET", "h", "a"]),
            err("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(
            t.run(&["HMSET", "h", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'hmset' command")
        );
        t.run(&["SET", "s", "x"]);
        for cmd in [
            &["HSET", "s", "a", "1"][..],
            &["HGET", "s", "a"],
            &["HGETALL", "s"],
            &["HINCRBY", "s", "a", "1"],
            &["HRANDFIELD", "s"],
            &["HSCAN", "s", "0"],
        ] {
            assert_eq!(t.run(cmd), err(WRONGTYPE), "{cmd:?}");
        }
    }

    #[test]
    fn incr_errors() {
        let mut t = TestDb::new();
        t.run(&[
            "HSET",
            "h",
            "s",
            "abc",
            "big",
            "9223372036854775807",
            "f",
            "0.1",
        ]);
        assert_eq!(t.run(&["HINCRBY", "h", "n", "5"]), int(5));
        assert_eq!(
            t.run(&["HINCRBY", "h", "s", "1"]),
            err("ERR hash value is not an integer")
        );
        assert_eq!(
            t.run(&["HINCRBY", "h", "big", "1"]),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(
            t.run(&["HINCRBY", "h", "n", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(t.run(&["HINCRBYFLOAT", "h", "f", "0.2"]), bulk("0.3"));
        assert_eq!(t.run(&["HGET", "h", "f"]), bulk("0.3"));
        assert_eq!(
            t.run(&["HINCRBYFLOAT", "h", "s", "1"]),
            err("ERR hash value is not a float")
        );
        assert_eq!(
            t.run(&["HINCRBYFLOAT", "h", "f", "x"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(
            t.run(&["HINCRBYFLOAT", "h", "f", "inf"]),
            err("ERR value is NaN or Infinity")
        );
        // Finite in long double (as in Redis), past it only near 1.19e4932.
        t.run(&["HSET", "h", "m", "1e308"]);
        assert!(matches!(
            t.run(&["HINCRBYFLOAT", "h", "m", "1.7e308"]),
            Reply::Bulk(b) if b.starts_with(b"27000000000000000000")
        ));
        t.run(&["HSET", "h", "m", "1e4932"]);
        assert_eq!(
            t.run(&["HINCRBYFLOAT", "h", "m", "1e4932"]),
            err("ERR increment would produce NaN or Infinity")
        );
    }

    #[test]
    fn hrandfield_shapes() {
        let mut t = TestDb::new();
        t.run(&["HSET", "h", "a", "1", "b", "2"]);
        assert_eq!(
            t.run(&["HRANDFIELD", "h", "5", "WITHVALUES"]),
            arr(&["a", "1", "b", "2"])
        );
        assert_eq!(t.run(&["HRANDFIELD", "h", "0"]), arr(&[]));
        assert_eq!(t.run(&["HRANDFIELD", "nokey"]), Reply::Null);
        assert_eq!(t.run(&["HRANDFIELD", "nokey", "3"]), arr(&[]));
        match t.run(&["HRANDFIELD", "h", "-5", "WITHVALUES"]) {
            Reply::Array(v) => assert_eq!(v.len(), 10),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            t.run(&["HRANDFIELD", "h", "1", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"]),
            err("ERR value is out of range")
        );
        assert_eq!(
            t.run(&["HRANDFIELD", "h", "-999999999999"]),
            err("ERR value is out of range")
        );
        t.client.resp = RespVersion::Resp3;
        match t.run(&["HRANDFIELD", "h", "-3", "WITHVALUES"]) {
            Reply::Array(v) => {
                assert_eq!(v.len(), 3);
                for pair in v {
                    let Reply::Array(p) = pair else { panic!() };
                    assert_eq!(p.len(), 2);
                }
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hscan_small_and_large() {
        let mut t = TestDb::new();
        t.run(&["HSET", "h", "a", "1", "b", "2"]);
        assert_eq!(
            t.run(&["HSCAN", "h", "0", "COUNT", "1"]),
            Reply::Array(vec![bulk("0"), arr(&["a", "1", "b", "2"])])
        );
        for i in 0..200 {
            t.run(&["HSET", "big", &format!("f{i}"), "v"]);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        loop {
            let Reply::Array(parts) = t.run(&["HSCAN", "big", &cursor]) else {
                panic!()
            };
            let Reply::Bulk(c) = &parts[0] else { panic!() };
            cursor = String::from_utf8(c.to_vec()).unwrap();
            let Reply::Array(items) = &parts[1] else {
                panic!()
            };
            assert_eq!(items.len() % 2, 0);
            for kv in items.chunks(2) {
                let Reply::Bulk(k) = &kv[0] else { panic!() };
                seen.insert(k.clone());
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 200);
        // strtoul rules, as Redis: "-1" wraps to a valid (huge) cursor, "abc" does not.
        assert!(matches!(t.run(&["HSCAN", "big", "-1"]), Reply::Array(_)));
        assert_eq!(t.run(&["HSCAN", "big", "abc"]), err("ERR invalid cursor"));
    }

    /// Random operations checked against a HashMap mirror.
    #[test]
    fn model_random_ops() {
        let mut rng = SmallRng::seed_from_u64(5);
        let mut t = TestDb::new();
        let mut m: HashMap<String, String> = HashMap::new();
        for step in 0..4000 {
            let f = format!("f{}", rng.gen_range(0..30));
            match rng.gen_range(0..7) {
                0 | 1 => {
                    let v = format!("{}", rng.gen_range(-50..50));
                    let created = m.insert(f.clone(), v.clone()).is_none() as i64;
                    assert_eq!(t.run(&["HSET", "h", &f, &v]), int(created));
                }
                2 => {
                    let removed = m.remove(&f).is_some() as i64;
                    assert_eq!(t.run(&["HDEL", "h", &f]), int(removed));
                }
                3 => {
                    let want = m.get(&f).map_or(Reply::Null, |v| bulk(v));
                    assert_eq!(t.run(&["HGET", "h", &f]), want);
                }
                4 => {
                    let by = rng.gen_range(-5..5i64);
                    let got = t.run(&["HINCRBY", "h", &f, &by.to_string()]);
                    match m.get(&f).map_or(Ok(0), |v| v.parse::<i64>()) {
                        Ok(cur) => {
                            m.insert(f.clone(), (cur + by).to_string());
                            assert_eq!(got, int(cur + by));
                        }
                        Err(_) => assert_eq!(got, err("ERR hash value is not an integer")),
                    }
                }
                5 => {
                    let n = rng.gen_range(1..5i64);
                    let got = t.run(&["HRANDFIELD", "h", &n.to_string()]);
                    let Reply::Array(v) = got else { panic!() };
                    assert_eq!(v.len(), (n as usize).min(m.len()));
                    for x in v {
                        let Reply::Bulk(b) = x else { panic!() };
                        assert!(m.contains_key(std::str::from_utf8(&b).unwrap()));
                    }
                }
                _ => {
                    let got = t.run(&["HSETNX", "h", &f, "nx"]);
                    let set = !m.contains_key(&f);
                    if set {
                        m.insert(f.clone(), "nx".into());
                    }
                    assert_eq!(got, int(set as i64));
                }
            }
            let Reply::Map(pairs) = t.run(&["HGETALL", "h"]) else {
                panic!()
            };
            let got: HashMap<String, String> = pairs
                .into_iter()
                .map(|(k, v)| match (k, v) {
                    (Reply::Bulk(k), Reply::Bulk(v)) => (
                        String::from_utf8(k.to_vec()).unwrap(),
                        String::from_utf8(v.to_vec()).unwrap(),
                    ),
                    other => panic!("{other:?}"),
                })
                .collect();
            assert_eq!(got, m, "step {step}");
            assert_eq!(t.run(&["EXISTS", "h"]), int(!m.is_empty() as i64));
        }
    }
}

/// What the hash commands propagate, checked against redis-server 7.0.15's AOF.
#[cfg(test)]
mod propagation_tests {
    use crate::cmd::testkit::TestDb;

    #[test]
    fn hincrbyfloat_becomes_hset_and_noops_propagate_nothing() {
        let mut t = TestDb::new().propagating();
        for c in [
            &["hincrbyfloat", "h", "f", "2.50"][..],
            &["hincrbyfloat", "h", "f", "1e3"],
            &["hset", "h", "g", "v"],
            &["hset", "h", "g", "v"],
            &["hsetnx", "h", "g", "v"],
            &["hdel", "h", "nof"],
            &["hincrby", "h", "n", "0"],
        ] {
            t.run(c);
        }
        assert_eq!(
            t.take_propagated(),
            [
                "HSET h f 2.5",
                "HSET h f 1002.5",
                "hset h g v",
                "hset h g v",
                "hincrby h n 0"
            ]
        );
    }
}
