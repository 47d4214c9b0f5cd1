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
use crate::db::glob::glob_match;
use crate::db::{Db, Entry, Value};
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
        propagate_expired_deletion(ctx, key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    } else {
        db.set_expire(key, when);
        ctx.dirty(1);
        // Redis rewrites argv[0] and argv[2] only: the NX/XX/GT/LT flags stay.
        if relative || seconds {
            let mut v = argv.to_vec();
            v[0] = Bytes::from_static(b"PEXPIREAT");
            v[2] = Bytes::from(itoa::Buffer::new().format(when).to_owned());
            ctx.propagate_as(v);
        }
        ctx.notify(NOTIFY_GENERIC, "expire", key);
    }
    Ok(Reply::Int(1))
}

/// An expiry already in the past deleted `key`: the command propagates as `DEL key`, or
/// `UNLINK key` under lazyfree-lazy-expire (expireGenericCommand, getexCommand).
pub(crate) fn propagate_expired_deletion(ctx: &mut Ctx, key: &[u8]) {
    let cmd: &'static [u8] = if ctx.config.get_bool("lazyfree-lazy-expire") {
        b"UNLINK"
    } else {
        b"DEL"
    };
    ctx.propagate_as(vec![Bytes::from_static(cmd), Bytes::copy_from_slice(key)]);
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
    let t = (if absolute {
        when
    } else {
        when.saturating_sub(now)
    })
    .max(0);
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
                && h.iter()
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
        Value::Stream(_) => "stream",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::TestDb;
    use crate::db::{hash::Hash, list::List, set::Set, SBytes};

    fn put(t: &mut TestDb, db: usize, key: &str, v: Value) {
        let mut st = t.shared.state.lock();
        st.store.dbs[db].insert_new(key.as_bytes(), v);
    }

    fn dirty(t: &TestDb) -> u64 {
        t.shared.state.lock().store.dirty
    }

    fn int(n: i64) -> String {
        format!(":{n}\r\n")
    }

    fn err(s: &str) -> String {
        format!("-{s}\r\n")
    }

    fn lfu_db() -> TestDb {
        let mut c = crate::config::Config::default();
        c.set("maxmemory-policy", "allkeys-lfu").unwrap();
        TestDb::with_config(c)
    }

    #[test]
    fn del_unlink_exists_touch_count_keys() {
        let mut t = TestDb::new();
        for k in ["a", "b", "c"] {
            t.run(&["SET", k, "v"]);
        }
        assert_eq!(t.resp(&["EXISTS", "a", "a", "nope", "b"]), int(3));
        assert_eq!(t.resp(&["TOUCH", "a", "a", "nope"]), int(2));
        let d0 = dirty(&t);
        assert_eq!(t.resp(&["DEL", "a", "a", "nope"]), int(1));
        assert_eq!(t.resp(&["UNLINK", "b", "c", "b"]), int(2));
        assert_eq!(dirty(&t) - d0, 3);
        assert_eq!(t.resp(&["EXISTS", "a", "b", "c"]), int(0));
        assert_eq!(
            t.resp(&["UNLINK"]),
            err("ERR wrong number of arguments for 'unlink' command")
        );
    }

    #[test]
    fn exists_counts_keyspace_hits_and_misses() {
        let mut t = TestDb::new();
        t.run(&["SET", "a", "v"]);
        t.run(&["EXISTS", "a", "nope", "a"]);
        let st = t.shared.state.lock();
        assert_eq!(st.store.dbs[0].stat_hits, 2);
        assert_eq!(st.store.dbs[0].stat_misses, 1);
    }

    #[test]
    fn type_of_every_kind() {
        let mut t = TestDb::new();
        t.run(&["SET", "s", "v"]);
        put(&mut t, 0, "l", Value::List(Box::default()));
        put(&mut t, 0, "st", Value::Set(Box::default()));
        put(&mut t, 0, "h", Value::Hash(Box::default()));
        put(&mut t, 0, "z", Value::ZSet(Box::default()));
        for (k, ty) in [
            ("s", "string"),
            ("l", "list"),
            ("st", "set"),
            ("h", "hash"),
            ("z", "zset"),
            ("nope", "none"),
        ] {
            assert_eq!(t.resp(&["TYPE", k]), format!("+{ty}\r\n"), "{k}");
        }
    }

    #[test]
    fn expire_option_conflicts_and_parse_order() {
        let mut t = TestDb::new();
        t.run(&["SET", "k", "v"]);
        let nx = err("ERR NX and XX, GT or LT options at the same time are not compatible");
        let gtlt = err("ERR GT and LT options at the same time are not compatible");
        assert_eq!(t.resp(&["EXPIRE", "k", "10", "nx", "xx"]), nx);
        assert_eq!(t.resp(&["EXPIRE", "k", "10", "NX", "GT"]), nx);
        assert_eq!(t.resp(&["EXPIRE", "k", "10", "lt", "gt", "nx"]), nx);
        assert_eq!(t.resp(&["EXPIRE", "k", "10", "xx", "gt", "lt"]), gtlt);
        // Options are parsed before the number.
        assert_eq!(
            t.resp(&["EXPIRE", "k", "abc", "foo"]),
            err("ERR Unsupported option foo")
        );
        assert_eq!(
            t.resp(&["EXPIRE", "k", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(t.resp(&["TTL", "k"]), int(-1));
    }

    #[test]
    fn expire_overflow_errors_name_the_command() {
        let mut t = TestDb::new();
        t.run(&["SET", "k", "v"]);
        for (cmd, v) in [
            ("expire", "9223372036854775807"),
            ("expire", "-9223372036854775808"),
            ("pexpire", "9223372036854775807"),
            ("expireat", "9223372036854776"),
        ] {
            assert_eq!(
                t.resp(&[&cmd.to_uppercase(), "k", v]),
                err(&format!("ERR invalid expire time in '{cmd}' command")),
                "{cmd} {v}"
            );
        }
        // The largest representable absolute times are accepted.
        assert_eq!(t.resp(&["EXPIREAT", "k", "9223372036854775"]), int(1));
        assert_eq!(t.resp(&["PEXPIRETIME", "k"]), int(9223372036854775000));
        assert_eq!(t.resp(&["PEXPIREAT", "k", "9223372036854775807"]), int(1));
        assert_eq!(t.resp(&["EXPIRETIME", "k"]), int(9223372036854776));
    }

    #[test]
    fn expire_nx_xx_gt_lt_semantics() {
        let mut t = TestDb::new();
        t.run(&["SET", "t", "v"]);
        // No TTL: XX and GT refuse, LT and NX accept.
        assert_eq!(t.resp(&["EXPIRE", "t", "10", "xx"]), int(0));
        assert_eq!(t.resp(&["EXPIRE", "t", "10", "gt"]), int(0));
        assert_eq!(t.resp(&["EXPIRE", "t", "10", "lt"]), int(1));
        assert_eq!(t.resp(&["PERSIST", "t"]), int(1));
        assert_eq!(t.resp(&["EXPIRE", "t", "10", "nx"]), int(1));
        // TTL 10s now.
        assert_eq!(t.resp(&["EXPIRE", "t", "20", "nx"]), int(0));
        assert_eq!(t.resp(&["EXPIRE", "t", "10", "gt"]), int(0));
        assert_eq!(t.resp(&["EXPIRE", "t", "11", "gt"]), int(1));
        assert_eq!(t.resp(&["EXPIRE", "t", "11", "lt"]), int(0));
        assert_eq!(t.resp(&["EXPIRE", "t", "5", "lt", "xx"]), int(1));
        assert_eq!(t.resp(&["TTL", "t"]), int(5));
        assert_eq!(t.resp(&["EXPIRE", "nope", "5"]), int(0));
        assert_eq!(t.resp(&["EXPIRE", "nope", "-1"]), int(0));
    }

    #[test]
    fn expire_in_the_past_deletes_and_counts_dirty() {
        let mut t = TestDb::new();
        t.run(&["SET", "a", "v"]);
        t.run(&["SET", "b", "v"]);
        t.run(&["SET", "c", "v"]);
        let d0 = dirty(&t);
        assert_eq!(t.resp(&["EXPIRE", "a", "-1"]), int(1));
        assert_eq!(t.resp(&["PEXPIREAT", "b", "1"]), int(1));
        assert_eq!(t.resp(&["EXPIRE", "c", "0"]), int(1));
        assert_eq!(dirty(&t) - d0, 3);
        assert_eq!(t.resp(&["EXISTS", "a", "b", "c"]), int(0));
        // Deleted by the command, not by expiry.
        assert_eq!(t.shared.state.lock().store.dbs[0].stat_expired, 0);
    }

    #[test]
    fn ttl_family_rounds_and_expires_lazily() {
        let mut t = TestDb::new();
        t.now_ms = 1_700_000_000_000;
        t.run(&["SET", "k", "v"]);
        assert_eq!(t.resp(&["TTL", "nope"]), int(-2));
        assert_eq!(t.resp(&["PTTL", "nope"]), int(-2));
        assert_eq!(t.resp(&["EXPIRETIME", "nope"]), int(-2));
        assert_eq!(t.resp(&["PEXPIRETIME", "k"]), int(-1));
        assert_eq!(t.resp(&["PEXPIRE", "k", "1499"]), int(1));
        assert_eq!(t.resp(&["TTL", "k"]), int(1));
        assert_eq!(t.resp(&["PTTL", "k"]), int(1499));
        assert_eq!(t.resp(&["PEXPIRETIME", "k"]), int(1_700_000_001_499));
        assert_eq!(t.resp(&["EXPIRETIME", "k"]), int(1_700_000_001));
        assert_eq!(t.resp(&["PEXPIRE", "k", "1500"]), int(1));
        assert_eq!(t.resp(&["TTL", "k"]), int(2));
        t.now_ms += 1499;
        assert_eq!(t.resp(&["PTTL", "k"]), int(1));
        t.now_ms += 1;
        assert_eq!(t.resp(&["PTTL", "k"]), int(-2));
        assert_eq!(t.resp(&["PERSIST", "k"]), int(0));
        let st = t.shared.state.lock();
        assert_eq!(st.store.dbs[0].len(), 0);
        assert_eq!(st.store.dbs[0].stat_expired, 1);
    }

    #[test]
    fn persist_only_with_ttl() {
        let mut t = TestDb::new();
        t.run(&["SET", "k", "v"]);
        assert_eq!(t.resp(&["PERSIST", "k"]), int(0));
        assert_eq!(t.resp(&["PERSIST", "nope"]), int(0));
        t.run(&["EXPIRE", "k", "100"]);
        let d0 = dirty(&t);
        assert_eq!(t.resp(&["PERSIST", "k"]), int(1));
        assert_eq!(dirty(&t) - d0, 1);
        assert_eq!(t.resp(&["TTL", "k"]), int(-1));
    }

    #[test]
    fn rename_and_renamenx() {
        let mut t = TestDb::new();
        assert_eq!(t.resp(&["RENAME", "nope", "x"]), err("ERR no such key"));
        assert_eq!(
            t.resp(&["RENAMENX", "nope", "nope"]),
            err("ERR no such key")
        );
        t.run(&["SET", "a", "1"]);
        t.run(&["SET", "b", "2"]);
        assert_eq!(t.resp(&["RENAME", "a", "a"]), "+OK\r\n");
        assert_eq!(t.resp(&["RENAMENX", "a", "a"]), int(0));
        t.run(&["PEXPIRE", "a", "100000"]);
        assert_eq!(t.resp(&["RENAMENX", "a", "b"]), int(0));
        assert_eq!(t.resp(&["RENAME", "a", "b"]), "+OK\r\n");
        assert_eq!(t.resp(&["GET", "b"]), "$1\r\n1\r\n");
        assert_eq!(t.resp(&["EXISTS", "a"]), int(0));
        assert_eq!(t.resp(&["PTTL", "b"]), int(100000));
        assert_eq!(t.resp(&["RENAMENX", "b", "c"]), int(1));
        assert_eq!(t.resp(&["PTTL", "c"]), int(100000));
        // A TTL-less source leaves no TTL on an overwritten destination.
        t.run(&["SET", "d", "4"]);
        assert_eq!(t.resp(&["RENAME", "d", "c"]), "+OK\r\n");
        assert_eq!(t.resp(&["TTL", "c"]), int(-1));
        let st = t.shared.state.lock();
        assert_eq!(st.store.dbs[0].len(), 1);
        assert_eq!(st.store.dbs[0].expires.len(), 0);
    }

    #[test]
    fn copy_options_errors_and_ttl() {
        let mut t = TestDb::new();
        t.run(&["SET", "k", "v"]);
        let same = err("ERR source and destination objects are the same");
        assert_eq!(t.resp(&["COPY", "k", "k"]), same);
        assert_eq!(t.resp(&["COPY", "k", "k", "DB", "0"]), same);
        assert_eq!(t.resp(&["COPY", "k", "k2", "db"]), err("ERR syntax error"));
        assert_eq!(t.resp(&["COPY", "k", "k2", "foo"]), err("ERR syntax error"));
        assert_eq!(
            t.resp(&["COPY", "k", "k2", "db", "16", "foo"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            t.resp(&["COPY", "k", "k2", "db", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(t.resp(&["COPY", "nope", "k", "db", "0", "db", "1"]), int(0));
        // Same key name into another database is fine.
        assert_eq!(t.resp(&["COPY", "k", "k", "db", "1"]), int(1));
        t.run(&["PEXPIRE", "k", "50000"]);
        assert_eq!(t.resp(&["COPY", "k", "k2"]), int(1));
        assert_eq!(t.resp(&["PTTL", "k2"]), int(50000));
        t.run(&["SET", "k", "new"]);
        assert_eq!(t.resp(&["COPY", "k", "k2"]), int(0));
        assert_eq!(t.resp(&["GET", "k2"]), "$1\r\nv\r\n");
        assert_eq!(t.resp(&["COPY", "k", "k2", "REPLACE"]), int(1));
        assert_eq!(t.resp(&["GET", "k2"]), "$3\r\nnew\r\n");
        assert_eq!(t.resp(&["TTL", "k2"]), int(-1));
        t.run(&["SELECT", "1"]);
        assert_eq!(t.resp(&["GET", "k"]), "$1\r\nv\r\n");
    }

    #[test]
    fn copy_is_deep() {
        let mut t = TestDb::new();
        let mut h = Hash::default();
        h.insert(SBytes::from("f"), SBytes::from("1"));
        put(&mut t, 0, "h", Value::Hash(Box::new(h)));
        assert_eq!(t.resp(&["COPY", "h", "h2"]), int(1));
        let mut st = t.shared.state.lock();
        let db = &mut st.store.dbs[0];
        if let Some(Value::Hash(h2)) = db.get_mut(b"h2").map(|e| &mut e.value) {
            h2.insert(SBytes::from("g"), SBytes::from("2"));
        } else {
            panic!("h2 is not a hash");
        }
        match db.get(b"h").map(|e| &e.value) {
            Some(Value::Hash(h)) => assert_eq!(h.len(), 1),
            _ => panic!("h is not a hash"),
        }
    }

    #[test]
    fn move_between_databases() {
        let mut t = TestDb::new();
        t.run(&["SET", "k", "v"]);
        assert_eq!(
            t.resp(&["MOVE", "k", "0"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(
            t.resp(&["MOVE", "k", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            t.resp(&["MOVE", "k", "-1"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            t.resp(&["MOVE", "k", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            t.resp(&["MOVE", "k", "99999999999"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        assert_eq!(t.resp(&["MOVE", "nope", "1"]), int(0));
        t.run(&["PEXPIRE", "k", "70000"]);
        assert_eq!(t.resp(&["MOVE", "k", "1"]), int(1));
        assert_eq!(t.resp(&["EXISTS", "k"]), int(0));
        t.run(&["SET", "k", "again"]);
        assert_eq!(t.resp(&["MOVE", "k", "1"]), int(0));
        t.run(&["SELECT", "1"]);
        assert_eq!(t.resp(&["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(t.resp(&["PTTL", "k"]), int(70000));
    }

    #[test]
    fn keys_matches_and_hides_expired_without_deleting() {
        let mut t = TestDb::new();
        t.now_ms = 1_000_000;
        for k in ["one", "two", "three", "k1", "k2"] {
            t.run(&["SET", k, "v"]);
        }
        t.run(&["PEXPIRE", "two", "10"]);
        let sorted = |r: Reply| -> Vec<String> {
            let Reply::Array(v) = r else {
                panic!("not an array")
            };
            let mut v: Vec<String> = v
                .into_iter()
                .map(|x| match x {
                    Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                    _ => panic!("not bulk"),
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(sorted(t.run(&["KEYS", "k?"])), vec!["k1", "k2"]);
        assert_eq!(sorted(t.run(&["KEYS", "*o*"])), vec!["one", "two"]);
        t.now_ms += 10;
        assert_eq!(sorted(t.run(&["KEYS", "*o*"])), vec!["one"]);
        assert_eq!(sorted(t.run(&["KEYS", "*"])).len(), 4);
        // KEYS only hides it (keyIsExpired); the key is still stored.
        assert_eq!(t.shared.state.lock().store.dbs[0].len(), 5);
    }

    fn scan_all(t: &mut TestDb, extra: &[&str]) -> Vec<String> {
        let mut cursor = "0".to_string();
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let mut args = vec!["SCAN", cursor.as_str()];
            args.extend_from_slice(extra);
            let Reply::Array(parts) = t.run(&args) else {
                panic!("scan reply")
            };
            let [Reply::Bulk(c), Reply::Array(items)] = &parts[..] else {
                panic!("scan reply shape")
            };
            for i in items {
                let Reply::Bulk(b) = i else { panic!("item") };
                out.push(String::from_utf8_lossy(b).into_owned());
            }
            cursor = String::from_utf8_lossy(c).into_owned();
            if cursor == "0" {
                out.sort();
                return out;
            }
        }
        panic!("scan did not finish");
    }

    #[test]
    fn scan_full_iteration_match_type_count() {
        let mut t = TestDb::new();
        for i in 0..300 {
            t.run(&["SET", &format!("key:{i}"), "v"]);
        }
        put(&mut t, 0, "alist", Value::List(Box::default()));
        let all = scan_all(&mut t, &[]);
        assert_eq!(all.len(), 301);
        let mut dedup = all.clone();
        dedup.dedup();
        assert_eq!(dedup.len(), 301);
        assert_eq!(
            scan_all(&mut t, &["MATCH", "key:1?", "COUNT", "7"]).len(),
            10
        );
        assert_eq!(scan_all(&mut t, &["TYPE", "LIST"]), vec!["alist"]);
        assert_eq!(scan_all(&mut t, &["TYPE", "nosuchtype"]).len(), 0);
        // One call with a large COUNT returns everything and cursor 0.
        let r = t.resp(&["SCAN", "0", "COUNT", "1000"]);
        assert!(r.starts_with("*2\r\n$1\r\n0\r\n*301\r\n"), "{r}");
    }

    #[test]
    fn scan_errors_and_cursor_parsing() {
        let mut t = TestDb::new();
        t.run(&["SET", "a", "1"]);
        assert_eq!(t.resp(&["SCAN", "x"]), err("ERR invalid cursor"));
        assert_eq!(t.resp(&["SCAN", "-"]), err("ERR invalid cursor"));
        assert_eq!(t.resp(&["SCAN", " 1"]), err("ERR invalid cursor"));
        assert_eq!(
            t.resp(&["SCAN", "18446744073709551616"]),
            err("ERR invalid cursor")
        );
        assert_eq!(
            t.resp(&["SCAN", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(t.resp(&["SCAN", "0", "MATCH"]), err("ERR syntax error"));
        assert_eq!(
            t.resp(&["SCAN", "0", "COUNT", "x"]),
            err("ERR value is not an integer or out of range")
        );
        let one = "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n";
        assert_eq!(t.resp(&["SCAN", ""]), one);
        assert_eq!(t.resp(&["SCAN", "-1"]), one);
        assert_eq!(t.resp(&["SCAN", "18446744073709551615"]), one);
        assert_eq!(crate::cmd::parse_cursor(b"-18446744073709551615"), Some(1));
        assert_eq!(crate::cmd::parse_cursor(b"+3"), Some(3));
        assert_eq!(crate::cmd::parse_cursor(b"1 "), None);
    }

    #[test]
    fn scan_skips_and_deletes_expired_keys() {
        let mut t = TestDb::new();
        t.now_ms = 5_000;
        t.run(&["SET", "live", "v"]);
        t.run(&["SET", "dying", "v"]);
        t.run(&["PEXPIRE", "dying", "5"]);
        t.now_ms += 5;
        assert_eq!(scan_all(&mut t, &[]), vec!["live"]);
        assert_eq!(t.shared.state.lock().store.dbs[0].len(), 1);
    }

    #[test]
    fn randomkey_empty_and_single() {
        let mut t = TestDb::new();
        assert_eq!(t.resp(&["RANDOMKEY"]), "$-1\r\n");
        t.run(&["SET", "only", "v"]);
        assert_eq!(t.resp(&["RANDOMKEY"]), "$4\r\nonly\r\n");
    }

    #[test]
    fn object_string_encodings_and_refcount() {
        let mut t = TestDb::new();
        for (v, enc, rc) in [
            ("123", "int", 2147483647),
            ("9999", "int", 2147483647),
            ("10000", "int", 1),
            ("-5", "int", 1),
            ("9223372036854775807", "int", 1),
            ("-9223372036854775808", "int", 1),
            ("01", "embstr", 1),
            ("12345678901234567890", "embstr", 1),
            ("abc", "embstr", 1),
            (&"x".repeat(44), "embstr", 1),
            (&"x".repeat(45), "raw", 1),
        ] {
            t.run(&["SET", "k", v]);
            assert_eq!(
                t.resp(&["OBJECT", "ENCODING", "k"]),
                format!("${}\r\n{enc}\r\n", enc.len()),
                "{v}"
            );
            assert_eq!(t.resp(&["OBJECT", "REFCOUNT", "k"]), int(rc), "{v}");
        }
        for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
            assert_eq!(t.resp(&["OBJECT", sub, "nope"]), "$-1\r\n", "{sub}");
        }
    }

    #[test]
    fn object_collection_encodings_follow_thresholds() {
        let mut t = TestDb::new();
        let enc = |t: &mut TestDb, k: &str| t.resp(&["OBJECT", "ENCODING", k]);
        put(
            &mut t,
            0,
            "l",
            Value::List(Box::new(List::from(vec![SBytes::from("a")]))),
        );
        assert_eq!(enc(&mut t, "l"), "$9\r\nquicklist\r\n");

        let ints: Set = (0..512).map(SBytes::from_i64).collect();
        put(&mut t, 0, "s", Value::Set(Box::new(ints.clone())));
        assert_eq!(enc(&mut t, "s"), "$6\r\nintset\r\n");
        let mut big = ints.clone();
        big.insert(SBytes::from_i64(512));
        put(&mut t, 0, "s2", Value::Set(Box::new(big)));
        assert_eq!(enc(&mut t, "s2"), "$9\r\nhashtable\r\n");
        let mut mixed = ints;
        mixed.insert(SBytes::from("-0"));
        put(&mut t, 0, "s3", Value::Set(Box::new(mixed)));
        assert_eq!(enc(&mut t, "s3"), "$9\r\nhashtable\r\n");

        // Redis 7.0's built-in default is 512 (its shipped redis.conf says 128).
        let mut h = Hash::default();
        for i in 0..512 {
            h.insert(SBytes::from_i64(i), SBytes::from("v"));
        }
        put(&mut t, 0, "h", Value::Hash(Box::new(h.clone())));
        assert_eq!(enc(&mut t, "h"), "$8\r\nlistpack\r\n");
        let mut h2 = h.clone();
        h2.insert(SBytes::from("one-more"), SBytes::from("v"));
        put(&mut t, 0, "h2", Value::Hash(Box::new(h2)));
        assert_eq!(enc(&mut t, "h2"), "$9\r\nhashtable\r\n");
        let mut h3 = Hash::default();
        h3.insert(SBytes::from("f"), SBytes::new(&[b'x'; 65]));
        put(&mut t, 0, "h3", Value::Hash(Box::new(h3)));
        assert_eq!(enc(&mut t, "h3"), "$9\r\nhashtable\r\n");
    }

    #[test]
    fn object_idletime_and_freq_depend_on_policy() {
        let lfu_sel = err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        let lfu_not = err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        let mut t = TestDb::new();
        t.now_ms = 10_000_000;
        t.run(&["SET", "k", "v"]);
        t.now_ms += 5_000;
        assert_eq!(t.resp(&["OBJECT", "IDLETIME", "k"]), int(5));
        // OBJECT and TYPE do not touch; GET does.
        t.run(&["TYPE", "k"]);
        assert_eq!(t.resp(&["OBJECT", "IDLETIME", "k"]), int(5));
        t.run(&["GET", "k"]);
        assert_eq!(t.resp(&["OBJECT", "IDLETIME", "k"]), int(0));
        assert_eq!(t.resp(&["OBJECT", "FREQ", "k"]), lfu_not);

        let mut t = lfu_db();
        t.run(&["SET", "k", "v"]);
        assert_eq!(t.resp(&["OBJECT", "FREQ", "k"]), int(5));
        assert_eq!(t.resp(&["OBJECT", "IDLETIME", "k"]), lfu_sel);
    }

    #[test]
    fn object_help_and_subcommand_errors() {
        let mut t = TestDb::new();
        let Reply::Array(lines) = t.run(&["OBJECT", "HELP"]) else {
            panic!("help is an array")
        };
        assert_eq!(lines.len(), 15);
        assert_eq!(
            lines[0],
            Reply::simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(lines[14], Reply::simple("    Prints this help."));
        assert_eq!(
            t.resp(&["OBJECT", "foo", "k"]),
            err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
        );
        assert_eq!(
            t.resp(&["OBJECT", "encoding"]),
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            t.resp(&["OBJECT", "help", "x"]),
            err("ERR wrong number of arguments for 'object|help' command")
        );
        assert_eq!(
            t.resp(&["OBJECT"]),
            err("ERR wrong number of arguments for 'object' command")
        );
    }

    #[test]
    fn key_specs_match_redis_command_info() {
        // (name, arity, flags, first, last, step) from redis-server 7.0.15 COMMAND INFO.
        let expect: &[(&str, i32, u32, i32, i32, i32)] = &[
            ("del", -2, WRITE, 1, -1, 1),
            ("unlink", -2, WRITE | FAST, 1, -1, 1),
            ("exists", -2, READONLY | FAST, 1, -1, 1),
            ("type", 2, READONLY | FAST, 1, 1, 1),
            ("rename", 3, WRITE, 1, 2, 1),
            ("renamenx", 3, WRITE | FAST, 1, 2, 1),
            ("copy", -3, WRITE | DENYOOM, 1, 2, 1),
            ("move", 3, WRITE | FAST, 1, 1, 1),
            ("touch", -2, READONLY | FAST, 1, -1, 1),
            ("randomkey", 1, READONLY, 0, 0, 0),
            ("keys", 2, READONLY, 0, 0, 0),
            ("scan", -2, READONLY, 0, 0, 0),
            ("expire", -3, WRITE | FAST, 1, 1, 1),
            ("pexpireat", -3, WRITE | FAST, 1, 1, 1),
            ("pttl", 2, READONLY | FAST, 1, 1, 1),
            ("expiretime", 2, READONLY | FAST, 1, 1, 1),
            ("persist", 2, WRITE | FAST, 1, 1, 1),
            ("object", -2, 0, 0, 0, 0),
        ];
        for &(name, arity, flags, first, last, step) in expect {
            let c = COMMANDS
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(
                (c.arity, c.flags, c.first_key, c.last_key, c.step),
                (arity, flags, first, last, step),
                "{name}"
            );
        }
        let enc = OBJECT_SUBCOMMANDS.iter().find(|c| c.name == "encoding");
        assert!(enc.is_some_and(|c| (c.arity, c.flags, c.first_key) == (3, READONLY, 2)));
    }
}

/// What the keyspace commands propagate, checked against redis-server 7.0.15's AOF.
#[cfg(test)]
mod propagation_tests {
    use crate::cmd::testkit::TestDb;

    fn db() -> TestDb {
        let mut t = TestDb::new().propagating();
        t.now_ms = 1_700_000_000_000;
        t
    }

    #[test]
    fn expire_family_becomes_pexpireat_keeping_its_flags() {
        let mut t = db();
        for c in [
            &["set", "d", "1"][..],
            &["expire", "d", "100", "nx"],
            &["expire", "d", "100", "nx"],
            &["expire", "d", "200", "gt"],
            &["pexpire", "d", "100000", "lt"],
            &["expireat", "d", "1800000000"],
            &["pexpireat", "d", "1800000000001", "xx"],
            &["persist", "d"],
            &["persist", "d"],
            &["expire", "d", "100", "xx"],
            &["expire", "nokey", "100"],
            &["pexpireat", "d", "1"],
            &["set", "e", "1"],
            &["expire", "e", "-1"],
        ] {
            t.run(c);
        }
        assert_eq!(
            t.take_propagated(),
            [
                "set d 1",
                "PEXPIREAT d 1700000100000 nx",
                "PEXPIREAT d 1700000200000 gt",
                "PEXPIREAT d 1700000100000 lt",
                "PEXPIREAT d 1800000000000",
                "pexpireat d 1800000000001 xx",
                "persist d",
                "DEL d",
                "set e 1",
                "DEL e",
            ]
        );
        t.run(&["config", "set", "lazyfree-lazy-expire", "yes"]);
        t.run(&["set", "f", "1"]);
        t.run(&["expireat", "f", "1"]);
        assert_eq!(t.take_propagated(), ["set f 1", "UNLINK f"]);
    }

    #[test]
    fn unchanged_keyspace_writes_propagate_nothing() {
        let mut t = db();
        for c in [
            &["set", "d", "1"][..],
            &["del", "nokey"],
            &["rename", "d", "d"],
            &["copy", "d", "e"],
            &["copy", "d", "e"],
            &["move", "nokey", "1"],
            &["move", "e", "1"],
            &["unlink", "d", "x"],
        ] {
            t.run(c);
        }
        assert_eq!(
            t.take_propagated(),
            ["set d 1", "copy d e", "move e 1", "unlink d x"]
        );
    }
}
