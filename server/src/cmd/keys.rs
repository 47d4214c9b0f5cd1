//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, COPY, MOVE, TOUCH,
//! RANDOMKEY, KEYS, SCAN, the EXPIRE family, TTL family, PERSIST and OBJECT.
//!
//! Semantics and error texts follow Redis 7.0's `db.c`, `expire.c` and `object.c`.
//!
//! OBJECT ENCODING is computed from the value's current contents and the `*-max-*`
//! thresholds: Rill does not remember a past conversion, so a hash that once grew past
//! `hash-max-listpack-entries` and shrank again reports `listpack` where Redis (which
//! never converts back) reports `hashtable`; likewise a short string built by APPEND or
//! SETRANGE reports `int`/`embstr` where Redis reports `raw`.

use super::*;
use crate::db::{Db, Entry, Value};
use crate::db::glob::glob_match;
use rill_protocol::fmt::parse_i64;

/// Redis's `lookupKeyReadWithFlags(.., LOOKUP_NOTOUCH)`: expires the key if due, counts
/// a keyspace hit or miss, leaves the access clock alone.
fn lookup_read_notouch<'a>(db: &'a mut Db, key: &[u8]) -> Option<&'a Entry> {
    if db.exists(key) {
        db.stat_hits += 1;
        db.keys.get(key)
    } else {
        db.stat_misses += 1;
        None
    }
}

/// A database number argument as MOVE and COPY read it (`getIntFromObjectOrReply` then
/// `selectDb`).
fn db_index_arg(ctx: &Ctx, b: &[u8]) -> Result<usize, CmdError> {
    let v = int_arg(b)?;
    if v < i32::MIN as i64 || v > i32::MAX as i64 {
        return Err(CmdError::err(format!(
            "value is out of range, value must between {} and {}",
            i32::MIN,
            i32::MAX
        )));
    }
    if v < 0 || v as usize >= ctx.state.store.dbs.len() {
        return Err(CmdError::DbIndexOutOfRange);
    }
    Ok(v as usize)
}

/// Notifies for a key in another database (MOVE's `move_to`, COPY's `copy_to`).
fn notify_in_db(ctx: &mut Ctx, db: usize, event: &str, key: &[u8]) {
    let saved = ctx.client.db;
    ctx.client.db = db;
    ctx.notify(NOTIFY_GENERIC, event, key);
    ctx.client.db = saved;
}

fn same_object_err() -> CmdError {
    CmdError::err("source and destination objects are the same")
}

/// ```text
/// DEL key [key ...]
/// UNLINK key [key ...]
/// ```
fn del(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut n = 0;
    for k in &argv[1..] {
        if ctx.db().remove(k).is_some() {
            n += 1;
            ctx.notify(NOTIFY_GENERIC, "del", k);
        }
    }
    ctx.dirty(n);
    Ok(Reply::Int(n as i64))
}

/// ```text
/// EXISTS key [key ...]
/// ```
fn exists(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let n = argv[1..]
        .iter()
        .filter(|k| lookup_read_notouch(db, k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

/// ```text
/// TOUCH key [key ...]
/// ```
fn touch(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let n = argv[1..].iter().filter(|k| db.get(k).is_some()).count();
    Ok(Reply::Int(n as i64))
}

/// ```text
/// TYPE key
/// ```
fn type_cmd(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let t = lookup_read_notouch(ctx.db(), &argv[1]).map_or("none", |e| e.value.type_name());
    Ok(Reply::simple(t))
}

/// ```text
/// RENAME key newkey
/// RENAMENX key newkey
/// ```
fn rename_generic(ctx: &mut Ctx, argv: &[Bytes], nx: bool) -> CmdResult {
    let (src, dst) = (&argv[1][..], &argv[2][..]);
    let db = ctx.db();
    let Some(lru) = db.get_mut(src).map(|e| e.lru) else {
        return Err(CmdError::NoSuchKey);
    };
    if src == dst {
        return Ok(if nx { Reply::Int(0) } else { Reply::ok() });
    }
    if db.get_mut(dst).is_some() {
        if nx {
            return Ok(Reply::Int(0));
        }
        db.remove(dst);
    }
    let Some((value, ttl)) = db.take(src) else {
        return Err(CmdError::NoSuchKey);
    };
    // The object moves: it keeps its access metadata, as Redis's dbAdd of the same robj.
    db.insert_new(dst, value).lru = lru;
    if let Some(t) = ttl {
        db.set_expire(dst, t);
    }
    ctx.notify(NOTIFY_GENERIC, "rename_from", src);
    ctx.notify(NOTIFY_GENERIC, "rename_to", dst);
    ctx.dirty(1);
    Ok(if nx { Reply::Int(1) } else { Reply::ok() })
}

fn rename(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    rename_generic(ctx, argv, false)
}

fn renamenx(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    rename_generic(ctx, argv, true)
}

/// ```text
/// COPY source destination [DB destination-db] [REPLACE]
/// ```
fn copy(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let src_db = ctx.client.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut j = 3;
    while j < argv.len() {
        if eq_ic(&argv[j], "REPLACE") {
            replace = true;
        } else if eq_ic(&argv[j], "DB") && j + 1 < argv.len() {
            dst_db = db_index_arg(ctx, &argv[j + 1])?;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let (key, newkey) = (&argv[1][..], &argv[2][..]);
    if src_db == dst_db && key == newkey {
        return Err(same_object_err());
    }
    let dbs = &mut ctx.state.store.dbs;
    let Some(value) = dbs[src_db].get(key).map(|e| e.value.clone()) else {
        return Ok(Reply::Int(0));
    };
    let expire = dbs[src_db].get_expire(key);
    let dst = &mut dbs[dst_db];
    if dst.get_mut(newkey).is_some() {
        if !replace {
            return Ok(Reply::Int(0));
        }
        dst.remove(newkey);
    }
    dst.insert_new(newkey, value);
    if let Some(t) = expire {
        dst.set_expire(newkey, t);
    }
    notify_in_db(ctx, dst_db, "copy_to", newkey);
    ctx.dirty(1);
    Ok(Reply::Int(1))
}

/// ```text
/// MOVE key db
/// ```
fn move_cmd(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1][..];
    let src_db = ctx.client.db;
    let dst_db = db_index_arg(ctx, &argv[2])?;
    if src_db == dst_db {
        return Err(same_object_err());
    }
    let dbs = &mut ctx.state.store.dbs;
    let Some(lru) = dbs[src_db].get_mut(key).map(|e| e.lru) else {
        return Ok(Reply::Int(0));
    };
    if dbs[dst_db].get_mut(key).is_some() {
        return Ok(Reply::Int(0));
    }
    let Some((value, ttl)) = dbs[src_db].take(key) else {
        return Ok(Reply::Int(0));
    };
    let dst = &mut dbs[dst_db];
    dst.insert_new(key, value).lru = lru;
    if let Some(t) = ttl {
        dst.set_expire(key, t);
    }
    ctx.notify(NOTIFY_GENERIC, "move_from", key);
    notify_in_db(ctx, dst_db, "move_to", key);
    ctx.dirty(1);
    Ok(Reply::Int(1))
}

/// ```text
/// RANDOMKEY
/// ```
fn randomkey(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(match ctx.db().random_key() {
        Some(k) => Reply::bulk_slice(&k),
        None => Reply::Null,
    })
}

/// ```text
/// KEYS pattern
/// ```
fn keys(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let pattern = &argv[1][..];
    let allkeys = pattern == b"*";
    let db = ctx.db();
    let now = db.now_ms;
    let out: Vec<Reply> = db
        .keys
        .iter()
        .filter(|(k, e)| {
            (allkeys || glob_match(pattern, k, false))
                && (e.flags & crate::db::ENTRY_HAS_EXPIRE == 0
                    || db.expires.get(k.as_bytes()).is_none_or(|&t| t > now))
        })
        .map(|(k, _)| Reply::bulk_slice(k))
        .collect();
    Ok(Reply::Array(out))
}

/// ```text
/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
/// ```
fn scan(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let args = parse_scan(argv, 1, true)?;
    let db = ctx.db();
    let mut found: Vec<Bytes> = Vec::new();
    let cursor = db.scan(args.cursor, args.count, |k, e| {
        if let Some(p) = &args.pattern {
            if !glob_match(p, k, false) {
                return;
            }
        }
        if let Some(t) = &args.type_filter {
            if e.value.type_name() != t {
                return;
            }
        }
        found.push(Bytes::copy_from_slice(k));
    });
    // Expired keys are deleted and left out, as Redis's scanGenericCommand does.
    let items = found
        .into_iter()
        .filter(|k| db.exists(k))
        .map(Reply::Bulk)
        .collect();
    Ok(scan_reply(cursor, items))
}

// EXPIRE option flags.
const EXPIRE_NX: u8 = 1;
const EXPIRE_XX: u8 = 2;
const EXPIRE_GT: u8 = 4;
const EXPIRE_LT: u8 = 8;

/// Redis's `parseExtendedExpireArgumentsOrReply`.
fn parse_expire_flags(argv: &[Bytes]) -> Result<u8, CmdError> {
    let mut flags = 0;
    for a in argv.iter().skip(3) {
        flags |= if eq_ic(a, "NX") {
            EXPIRE_NX
        } else if eq_ic(a, "XX") {
            EXPIRE_XX
        } else if eq_ic(a, "GT") {
            EXPIRE_GT
        } else if eq_ic(a, "LT") {
            EXPIRE_LT
        } else {
            return Err(CmdError::err(format!("Unsupported option {}", lossy(a))));
        };
    }
    if flags & EXPIRE_NX != 0 && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT) != 0 {
        return Err(CmdError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if flags & EXPIRE_GT != 0 && flags & EXPIRE_LT != 0 {
        return Err(CmdError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    Ok(flags)
}

/// Redis's `expireGenericCommand`: `relative` adds the current time, `seconds` scales by
/// 1000.
///
/// ```text
/// EXPIRE key seconds [NX | XX | GT | LT]
/// PEXPIRE key milliseconds [NX | XX | GT | LT]
/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
/// ```
fn expire_generic(ctx: &mut Ctx, argv: &[Bytes], relative: bool, seconds: bool) -> CmdResult {
    let flags = parse_expire_flags(argv)?;
    let mut when = int_arg(&argv[2])?;
    let invalid = || {
        CmdError::err(format!(
            "invalid expire time in '{}' command",
            lossy(&argv[0]).to_ascii_lowercase()
        ))
    };
    if seconds {
        when = when.checked_mul(1000).ok_or_else(invalid)?;
    }
    if relative {
        when = when.checked_add(ctx.now_ms).ok_or_else(invalid)?;
    }
    let key = &argv[1][..];
    let now = ctx.now_ms;
    let db = ctx.db();
    if db.get_mut(key).is_none() {
        return Ok(Reply::Int(0));
    }
    if flags != 0 {
        let current = db.get_expire(key);
        let refused = match current {
            // No TTL counts as an infinite one.
            None => flags & (EXPIRE_XX | EXPIRE_GT) != 0,
            Some(cur) => {
                flags & EXPIRE_NX != 0
                    || (flags & EXPIRE_GT != 0 && when <= cur)
                    || (flags & EXPIRE_LT != 0 && when >= cur)
            }
        };
        if refused {
            return Ok(Reply::Int(0));
        }
    }
    // A replica (no_lazy_delete) keeps the key and waits for the master's DEL.
    if when <= now && !db.no_lazy_delete {
        db.remove(key);
        ctx.dirty(1);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    } else {
        db.set_expire(key, when);
        ctx.dirty(1);
        ctx.notify(NOTIFY_GENERIC, "expire", key);
    }
    Ok(Reply::Int(1))
}

fn expire(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, true, true)
}

fn pexpire(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, true, false)
}

fn expireat(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, false, true)
}

fn pexpireat(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    expire_generic(ctx, argv, false, false)
}

/// Redis's `ttlGenericCommand`: -2 for a missing key, -1 without a TTL; seconds are
/// rounded to nearest.
///
/// ```text
/// TTL key
/// PTTL key
/// EXPIRETIME key
/// PEXPIRETIME key
/// ```
fn ttl_generic(ctx: &mut Ctx, argv: &[Bytes], ms: bool, absolute: bool) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    if lookup_read_notouch(db, &argv[1]).is_none() {
        return Ok(Reply::Int(-2));
    }
    let Some(when) = db.get_expire(&argv[1]) else {
        return Ok(Reply::Int(-1));
    };
    let t = (if absolute { when } else { when.saturating_sub(now) }).max(0);
    // Widened so a TTL near i64::MAX rounds as Redis 7.0.15's build does, without overflow.
    Ok(Reply::Int(if ms {
        t
    } else {
        ((t as i128 + 500) / 1000) as i64
    }))
}

fn ttl(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, false, false)
}

fn pttl(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, true, false)
}

fn expiretime(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, false, true)
}

fn pexpiretime(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    ttl_generic(ctx, argv, true, true)
}

/// ```text
/// PERSIST key
/// ```
fn persist(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    if db.get_mut(&argv[1]).is_none() || !db.persist(&argv[1]) {
        return Ok(Reply::Int(0));
    }
    ctx.notify(NOTIFY_GENERIC, "persist", &argv[1]);
    ctx.dirty(1);
    Ok(Reply::Int(1))
}

/// A numeric config parameter, trying each name in turn, else Redis's default.
fn config_int(config: &crate::config::Config, names: &[&str], default: i64) -> i64 {
    names
        .iter()
        .find_map(|n| config.get(n).parse::<i64>().ok())
        .unwrap_or(default)
}

/// Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
const EMBSTR_SIZE_LIMIT: usize = 44;
/// Redis's OBJ_SHARED_INTEGERS.
const SHARED_INTEGERS: i64 = 10000;

/// A string Redis's `tryObjectEncoding` would store as an integer.
fn int_encodable(s: &[u8]) -> Option<i64> {
    if s.len() <= 20 {
        parse_i64(s)
    } else {
        None
    }
}

/// The encoding Redis 7.0 would report for a value of these contents.
pub fn encoding_of(value: &Value, config: &crate::config::Config) -> &'static str {
    match value {
        Value::Str(s) => {
            if int_encodable(s).is_some() {
                "int"
            } else if s.len() <= EMBSTR_SIZE_LIMIT {
                "embstr"
            } else {
                "raw"
            }
        }
        Value::List(_) => "quicklist",
        Value::Set(set) => {
            let max = config_int(config, &["set-max-intset-entries"], 512);
            if set.len() as i64 <= max && set.iter().all(|m| parse_i64(m).is_some()) {
                "intset"
            } else {
                "hashtable"
            }
        }
        Value::Hash(h) => {
            let max = config_int(
                config,
                &["hash-max-listpack-entries", "hash-max-ziplist-entries"],
                128,
            );
            let maxv = config_int(
                config,
                &["hash-max-listpack-value", "hash-max-ziplist-value"],
                64,
            );
            if h.len() as i64 <= max
                && h
                    .iter()
                    .all(|(f, v)| f.len() as i64 <= maxv && v.len() as i64 <= maxv)
            {
                "listpack"
            } else {
                "hashtable"
            }
        }
        Value::ZSet(z) => {
            let max = config_int(
                config,
                &["zset-max-listpack-entries", "zset-max-ziplist-entries"],
                128,
            );
            let maxv = config_int(
                config,
                &["zset-max-listpack-value", "zset-max-ziplist-value"],
                64,
            );
            if z.len() as i64 <= max && z.iter().all(|(m, _)| m.len() as i64 <= maxv) {
                "listpack"
            } else {
                "skiplist"
            }
        }
    }
}

/// maxmemory policies whose keys carry an LFU counter instead of an LRU clock.
fn lfu_policy(ctx: &Ctx) -> bool {
    ctx.config.maxmemory_policy.contains("lfu")
}

/// ```text
/// OBJECT ENCODING key
/// ```
fn object_encoding(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let config = ctx.config.clone();
    Ok(match lookup_read_notouch(ctx.db(), &argv[2]) {
        None => Reply::Null,
        Some(e) => Reply::bulk(Bytes::from_static(
            encoding_of(&e.value, &config).as_bytes(),
        )),
    })
}

/// ```text
/// OBJECT REFCOUNT key
/// ```
///
/// Small integers (0..9999) are shared objects in Redis unless an LRU/LFU maxmemory
/// policy is active; Rill reports what Redis would for the current config.
fn object_refcount(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let shared_ints = ctx.config.maxmemory == 0
        || !(ctx.config.maxmemory_policy.contains("lru") || lfu_policy(ctx));
    Ok(match lookup_read_notouch(ctx.db(), &argv[2]) {
        None => Reply::Null,
        Some(e) => match &e.value {
            Value::Str(s)
                if shared_ints
                    && int_encodable(s).is_some_and(|v| (0..SHARED_INTEGERS).contains(&v)) =>
            {
                Reply::Int(i32::MAX as i64)
            }
            _ => Reply::Int(1),
        },
    })
}

/// ```text
/// OBJECT IDLETIME key
/// ```
fn object_idletime(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let lfu = lfu_policy(ctx);
    let db = ctx.db();
    let clock = db.clock;
    let Some(e) = lookup_read_notouch(db, &argv[2]) else {
        return Ok(Reply::Null);
    };
    if lfu {
        return Err(CmdError::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    Ok(Reply::Int(clock.idle_secs(e.lru) as i64))
}

/// ```text
/// OBJECT FREQ key
/// ```
fn object_freq(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let lfu = lfu_policy(ctx);
    let db = ctx.db();
    let clock = db.clock;
    let Some(e) = lookup_read_notouch(db, &argv[2]) else {
        return Ok(Reply::Null);
    };
    if !lfu {
        return Err(CmdError::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    Ok(Reply::Int(clock.lfu_decayed(e.lru) as i64))
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// ```text
/// OBJECT HELP
/// ```
fn object_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Array(
        OBJECT_HELP.iter().copied().map(Reply::simple).collect(),
    ))
}

static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("encoding", 3, READONLY, object_encoding)
        .keys(2, 2, 1)
        .doc(
            "2.2.3",
            "Inspect the internal encoding of a Redis object",
            "O(1)",
        )
        .syntax("key"),
    CommandSpec::new("freq", 3, READONLY, object_freq)
        .keys(2, 2, 1)
        .doc(
            "4.0.0",
            "Get the logarithmic access frequency counter of a Redis object",
            "O(1)",
        )
        .syntax("key"),
    CommandSpec::new("idletime", 3, READONLY, object_idletime)
        .keys(2, 2, 1)
        .doc(
            "2.2.3",
            "Get the time since a Redis object was last accessed",
            "O(1)",
        )
        .syntax("key"),
    CommandSpec::new("refcount", 3, READONLY, object_refcount)
        .keys(2, 2, 1)
        .doc(
            "2.2.3",
            "Get the number of references to the value of the key",
            "O(1)",
        )
        .syntax("key"),
    CommandSpec::new("help", 2, LOADING | STALE, object_help).doc(
        "6.2.0",
        "Show helpful text about the different subcommands",
        "O(1)",
    ),
];

const EXPIRE_COMPLEXITY: &str = "O(1)";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, WRITE, del)
        .keys(1, -1, 1)
        .doc(
            "1.0.0",
            "Delete a key",
            "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
        )
        .syntax("key [key ...]"),
    CommandSpec::new("unlink", -2, WRITE | FAST, del)
        .keys(1, -1, 1)
        .doc(
            "4.0.0",
            "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
            "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        )
        .syntax("key [key ...]"),
    CommandSpec::new("exists", -2, READONLY | FAST, exists)
        .keys(1, -1, 1)
        .doc(
            "1.0.0",
            "Determine if a key exists",
            "O(N) where N is the number of keys to check.",
        )
        .syntax("key [key ...]"),
    CommandSpec::new("type", 2, READONLY | FAST, type_cmd)
        .keys(1, 1, 1)
        .doc("1.0.0", "Determine the type stored at key", "O(1)")
        .syntax("key"),
    CommandSpec::new("rename", 3, WRITE, rename)
        .keys(1, 2, 1)
        .doc("1.0.0", "Rename a key", "O(1)")
        .syntax("key newkey"),
    CommandSpec::new("renamenx", 3, WRITE | FAST, renamenx)
        .keys(1, 2, 1)
        .doc(
            "1.0.0",
            "Rename a key, only if the new key does not exist",
            "O(1)",
        )
        .syntax("key newkey"),
    CommandSpec::new("copy", -3, WRITE | DENYOOM, copy)
        .keys(1, 2, 1)
        .doc(
            "6.2.0",
            "Copy a key",
            "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
        )
        .syntax("source destination [DB destination-db] [REPLACE]"),
    CommandSpec::new("move", 3, WRITE | FAST, move_cmd)
        .keys(1, 1, 1)
        .doc("1.0.0", "Move a key to another database", "O(1)")
        .syntax("key db"),
    CommandSpec::new("touch", -2, READONLY | FAST, touch)
        .keys(1, -1, 1)
        .doc(
            "3.2.1",
            "Alters the last access time of a key(s). Returns the number of existing keys specified.",
            "O(N) where N is the number of keys that will be touched.",
        )
        .syntax("key [key ...]"),
    CommandSpec::new("randomkey", 1, READONLY, randomkey).doc(
        "1.0.0",
        "Return a random key from the keyspace",
        "O(1)",
    ),
    CommandSpec::new("keys", 2, READONLY, keys)
        .doc(
            "1.0.0",
            "Find all keys matching the given pattern",
            "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        )
        .syntax("pattern"),
    CommandSpec::new("scan", -2, READONLY, scan)
        .doc(
            "2.8.0",
            "Incrementally iterate the keys space",
            "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        )
        .syntax("cursor [MATCH pattern] [COUNT count] [TYPE type]"),
    CommandSpec::new("expire", -3, WRITE | FAST, expire)
        .keys(1, 1, 1)
        .doc(
            "1.0.0",
            "Set a key's time to live in seconds",
            EXPIRE_COMPLEXITY,
        )
        .syntax("key seconds [NX | XX | GT | LT]"),
    CommandSpec::new("pexpire", -3, WRITE | FAST, pexpire)
        .keys(1, 1, 1)
        .doc(
            "2.6.0",
            "Set a key's time to live in milliseconds",
            EXPIRE_COMPLEXITY,
        )
        .syntax("key milliseconds [NX | XX | GT | LT]"),
    CommandSpec::new("expireat", -3, WRITE | FAST, expireat)
        .keys(1, 1, 1)
        .doc(
            "1.2.0",
            "Set the expiration for a key as a UNIX timestamp",
            EXPIRE_COMPLEXITY,
        )
        .syntax("key unix-time-seconds [NX | XX | GT | LT]"),
    CommandSpec::new("pexpireat", -3, WRITE | FAST, pexpireat)
        .keys(1, 1, 1)
        .doc(
            "2.6.0",
            "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
            EXPIRE_COMPLEXITY,
        )
        .syntax("key unix-time-milliseconds [NX | XX | GT | LT]"),
    CommandSpec::new("ttl", 2, READONLY | FAST, ttl)
        .keys(1, 1, 1)
        .doc("1.0.0", "Get the time to live for a key in seconds", "O(1)")
        .syntax("key"),
    CommandSpec::new("pttl", 2, READONLY | FAST, pttl)
        .keys(1, 1, 1)
        .doc(
            "2.6.0",
            "Get the time to live for a key in milliseconds",
            "O(1)",
        )
        .syntax("key"),
    CommandSpec::new("expiretime", 2, READONLY | FAST, expiretime)
        .keys(1, 1, 1)
        .doc(
            "7.0.0",
            "Get the expiration Unix timestamp for a key",
            "O(1)",
        )
        .syntax("key"),
    CommandSpec::new("pexpiretime", 2, READONLY | FAST, pexpiretime)
        .keys(1, 1, 1)
        .doc(
            "7.0.0",
            "Get the expiration Unix timestamp for a key in milliseconds",
            "O(1)",
        )
        .syntax("key"),
    CommandSpec::new("persist", 2, WRITE | FAST, persist)
        .keys(1, 1, 1)
        .doc("2.2.0", "Remove the expiration from a key", "O(1)")
        .syntax("key"),
    CommandSpec::container("object", OBJECT_SUBCOMMANDS).doc(
        "2.2.3",
        "A container for object introspection commands",
        "Depends on subcommand.",
    ),
];
