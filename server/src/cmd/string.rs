//! String and bitmap commands: GET, SET and its variants, counters, ranges, LCS and the
//! bit commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO).
//!
//! Semantics, argument order of validation and error texts follow Redis 7.0.15's
//! `t_string.c` and `bitops.c`. INCRBYFLOAT computes in emulated 80-bit long double
//! ([`ld80`], shared with HINCRBYFLOAT) because that is what Redis replies with.

use super::*;
use crate::db::{ld80, Db, SBytes, Value};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Read lookup of a string key: `None` if absent, WRONGTYPE if not a string.
fn read_str<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a SBytes>, CmdError> {
    match db.get(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Write lookup of a string key: `None` if absent, WRONGTYPE if not a string.
fn write_str<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a mut SBytes>, CmdError> {
    match db.get_mut(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Str(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// The bytes of a string value, mutably (same length).
fn bytes_mut(s: &mut SBytes) -> &mut [u8] {
    match s {
        SBytes::Inline { len, data } => &mut data[..*len as usize],
        SBytes::Heap(b) => b,
    }
}

/// Edits a string value as a Vec, without copying heap data: the box becomes the Vec and
/// back (growth reallocates in place where the allocator can).
fn edit_vec(s: &mut SBytes, f: impl FnOnce(&mut Vec<u8>)) {
    let mut v = std::mem::replace(s, SBytes::new(b"")).into_vec();
    f(&mut v);
    *s = SBytes::from_vec(v);
}

/// Grows `v` with zero bytes to at least `len`, allocating exactly (no doubling slack,
/// so converting back to a boxed slice does not reallocate).
fn grow_zero(v: &mut Vec<u8>, len: usize) {
    if v.len() < len {
        v.reserve_exact(len - v.len());
        v.resize(len, 0);
    }
}

/// Redis's checkStringLength: the resulting string must fit proto-max-bulk-len.
fn check_string_length(ctx: &Ctx, size: u64, append: u64) -> Result<(), CmdError> {
    if size.saturating_add(append) > ctx.config.proto_max_bulk_len {
        return Err(CmdError::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    Ok(())
}

/// An integer as an argv word.
fn int_bytes(n: i64) -> Bytes {
    Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes())
}

fn invalid_expire(cmd: &str) -> CmdError {
    CmdError::err(format!("invalid expire time in '{cmd}' command"))
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Unit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// Redis's getExpireMillisecondsOrReply: an absolute unix-ms expiry, with its overflow
/// checks and "invalid expire time" error.
fn expire_at_ms(now_ms: i64, arg: &[u8], unit: Unit, cmd: &str) -> Result<i64, CmdError> {
    let mut ms = int_arg(arg)?;
    let seconds = matches!(unit, Unit::Ex | Unit::ExAt);
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(invalid_expire(cmd));
    }
    if seconds {
        ms *= 1000;
    }
    if matches!(unit, Unit::Ex | Unit::Px) {
        ms = ms.wrapping_add(now_ms);
    }
    if ms <= 0 {
        return Err(invalid_expire(cmd));
    }
    Ok(ms)
}

const F_NX: u32 = 1;
const F_XX: u32 = 2;
const F_GET: u32 = 4;
const F_KEEPTTL: u32 = 8;
const F_PERSIST: u32 = 16;
const F_EX: u32 = 32;
const F_PX: u32 = 64;
const F_EXAT: u32 = 128;
const F_PXAT: u32 = 256;
const F_ANY_EXPIRE: u32 = F_EX | F_PX | F_EXAT | F_PXAT;

/// Parsed SET / GETEX options.
#[derive(Default, Debug)]
struct ExtOpts {
    flags: u32,
    /// Expiry unit and the argv index of its value.
    expire: Option<(Unit, usize)>,
}

/// Redis's parseExtendedStringArgumentsOrReply, for SET (`is_set`) or GETEX. Repeating
/// an option is allowed (the last EX wins), conflicting ones are a syntax error.
fn parse_ext(argv: &[Bytes], is_set: bool) -> Result<ExtOpts, CmdError> {
    let mut o = ExtOpts::default();
    let start = if is_set { 3 } else { 2 };
    let mut j = start;
    while j < argv.len() {
        let opt = &argv[j];
        let has_next = j + 1 < argv.len();
        let f = o.flags;
        if is_set && eq_ic(opt, "NX") && f & F_XX == 0 {
            o.flags |= F_NX;
        } else if is_set && eq_ic(opt, "XX") && f & F_NX == 0 {
            o.flags |= F_XX;
        } else if is_set && eq_ic(opt, "GET") {
            o.flags |= F_GET;
        } else if is_set && eq_ic(opt, "KEEPTTL") && f & (F_PERSIST | F_ANY_EXPIRE) == 0 {
            o.flags |= F_KEEPTTL;
        } else if !is_set && eq_ic(opt, "PERSIST") && f & (F_KEEPTTL | F_ANY_EXPIRE) == 0 {
            o.flags |= F_PERSIST;
        } else if eq_ic(opt, "EX")
            && f & (F_KEEPTTL | F_PERSIST | F_EXAT | F_PX | F_PXAT) == 0
            && has_next
        {
            o.flags |= F_EX;
            o.expire = Some((Unit::Ex, j + 1));
            j += 1;
        } else if eq_ic(opt, "PX")
            && f & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PXAT) == 0
            && has_next
        {
            o.flags |= F_PX;
            o.expire = Some((Unit::Px, j + 1));
            j += 1;
        } else if eq_ic(opt, "EXAT")
            && f & (F_KEEPTTL | F_PERSIST | F_EX | F_PX | F_PXAT) == 0
            && has_next
        {
            o.flags |= F_EXAT;
            o.expire = Some((Unit::ExAt, j + 1));
            j += 1;
        } else if eq_ic(opt, "PXAT")
            && f & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PX) == 0
            && has_next
        {
            o.flags |= F_PXAT;
            o.expire = Some((Unit::PxAt, j + 1));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// Redis's getGenericCommand as a value: the string, or Null, or WRONGTYPE.
fn get_reply(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    Ok(match read_str(ctx.db(), key)? {
        None => Reply::Null,
        Some(s) => Reply::bulk_slice(s),
    })
}

/// Redis's setGenericCommand. `expire` is (unit, argument); `ok`/`abort` replace the
/// default replies (SETNX answers 1/0).
#[allow(clippy::too_many_arguments)]
fn set_generic(
    ctx: &mut Ctx,
    cmd: &str,
    flags: u32,
    key: &[u8],
    val: &[u8],
    expire: Option<(Unit, &[u8])>,
    ok: Option<Reply>,
    abort: Option<Reply>,
) -> CmdResult {
    let when = match expire {
        Some((unit, arg)) => Some(expire_at_ms(ctx.now_ms, arg, unit, cmd)?),
        None => None,
    };
    let old = if flags & F_GET != 0 {
        Some(get_reply(ctx, key)?)
    } else {
        None
    };
    // Plain SET skips the existence lookup: Db::set finds the slot once.
    if flags & (F_NX | F_XX) != 0 {
        let found = ctx.db().get_mut(key).is_some();
        if (flags & F_NX != 0 && found) || (flags & F_XX != 0 && !found) {
            return Ok(match old {
                Some(r) => r,
                None => abort.unwrap_or(Reply::Null),
            });
        }
    }
    let db = ctx.db();
    db.set(key, Value::Str(SBytes::new(val)), flags & F_KEEPTTL != 0);
    if let Some(when) = when {
        db.set_expire(key, when);
    }
    ctx.dirty(1);
    ctx.notify(NOTIFY_STRING, "set", key);
    if let Some(when) = when {
        // Any expiry propagates as `SET key value PXAT <abs ms>`; the other options are
        // dropped (setGenericCommand's rewriteClientCommandVector).
        ctx.propagate_as(vec![
            Bytes::from_static(b"SET"),
            Bytes::copy_from_slice(key),
            Bytes::copy_from_slice(val),
            Bytes::from_static(b"PXAT"),
            int_bytes(when),
        ]);
        ctx.notify(NOTIFY_GENERIC, "expire", key);
    }
    Ok(match old {
        Some(r) => r,
        None => ok.unwrap_or_else(Reply::ok),
    })
}

// ---------------------------------------------------------------------------------------
// GET / SET family
// ---------------------------------------------------------------------------------------

/// ```text
/// GET key
/// ```
fn get(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    get_reply(ctx, &argv[1])
}

/// ```text
/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
///   EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
/// ```
fn set(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let o = parse_ext(argv, true)?;
    let expire = o.expire.map(|(u, i)| (u, &argv[i][..]));
    set_generic(ctx, "set", o.flags, &argv[1], &argv[2], expire, None, None)
}

/// ```text
/// SETNX key value
/// ```
fn setnx(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    set_generic(
        ctx,
        "setnx",
        F_NX,
        &argv[1],
        &argv[2],
        None,
        Some(Reply::Int(1)),
        Some(Reply::Int(0)),
    )
}

/// ```text
/// SETEX key seconds value
/// ```
fn setex(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    set_generic(
        ctx,
        "setex",
        F_EX,
        &argv[1],
        &argv[3],
        Some((Unit::Ex, &argv[2])),
        None,
        None,
    )
}

/// ```text
/// PSETEX key milliseconds value
/// ```
fn psetex(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    set_generic(
        ctx,
        "psetex",
        F_PX,
        &argv[1],
        &argv[3],
        Some((Unit::Px, &argv[2])),
        None,
        None,
    )
}

/// ```text
/// GETSET key value
/// ```
fn getset(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let old = get_reply(ctx, &argv[1])?;
    ctx.db()
        .set(&argv[1], Value::Str(SBytes::new(&argv[2])), false);
    ctx.notify(NOTIFY_STRING, "set", &argv[1]);
    ctx.dirty(1);
    // getsetCommand: propagated as SET.
    let mut v = argv.to_vec();
    v[0] = Bytes::from_static(b"SET");
    ctx.propagate_as(v);
    Ok(old)
}

/// ```text
/// GETDEL key
/// ```
fn getdel(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let old = get_reply(ctx, &argv[1])?;
    if ctx.db().remove(&argv[1]).is_some() {
        ctx.notify(NOTIFY_GENERIC, "del", &argv[1]);
        ctx.dirty(1);
        // getdelCommand: propagated as DEL.
        ctx.propagate_as(vec![Bytes::from_static(b"DEL"), argv[1].clone()]);
    }
    Ok(old)
}

/// ```text
/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
///   PXAT unix-time-milliseconds | PERSIST]
/// ```
fn getex(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let o = parse_ext(argv, false)?;
    let key = &argv[1];
    let reply = match read_str(ctx.db(), key)? {
        None => return Ok(Reply::Null),
        Some(s) => Reply::bulk_slice(s),
    };
    let when = match o.expire {
        Some((unit, i)) => Some(expire_at_ms(ctx.now_ms, &argv[i], unit, "getex")?),
        None => None,
    };
    let absolute = o.flags & (F_EXAT | F_PXAT) != 0;
    // getexCommand's rewrites: a past EXAT/PXAT deletes (DEL/UNLINK), an expiry
    // becomes PEXPIREAT, PERSIST stays PERSIST.
    match when {
        Some(when) if absolute && when <= ctx.now_ms && !ctx.db().no_lazy_delete => {
            ctx.db().remove(key);
            ctx.dirty(1);
            super::keys::propagate_expired_deletion(ctx, key);
            ctx.notify(NOTIFY_GENERIC, "del", key);
        }
        Some(when) => {
            ctx.db().set_expire(key, when);
            ctx.dirty(1);
            ctx.propagate_as(vec![
                Bytes::from_static(b"PEXPIREAT"),
                key.clone(),
                int_bytes(when),
            ]);
            ctx.notify(NOTIFY_GENERIC, "expire", key);
        }
        None => {
            if o.flags & F_PERSIST != 0 && ctx.db().persist(key) {
                ctx.dirty(1);
                ctx.propagate_as(vec![Bytes::from_static(b"PERSIST"), key.clone()]);
                ctx.notify(NOTIFY_GENERIC, "persist", key);
            }
        }
    }
    Ok(reply)
}

/// ```text
/// MGET key [key ...]
/// ```
fn mget(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let out = argv[1..]
        .iter()
        .map(|k| match db.get(k) {
            Some(e) => match &e.value {
                Value::Str(s) => Reply::bulk_slice(s),
                _ => Reply::Null,
            },
            None => Reply::Null,
        })
        .collect();
    Ok(Reply::Array(out))
}

fn mset_generic(ctx: &mut Ctx, argv: &[Bytes], nx: bool) -> CmdResult {
    if argv.len() % 2 == 0 {
        return Err(CmdError::wrong_args(if nx { "msetnx" } else { "mset" }));
    }
    if nx {
        let db = ctx.db();
        if argv[1..].iter().step_by(2).any(|k| db.get_mut(k).is_some()) {
            return Ok(Reply::Int(0));
        }
    }
    for pair in argv[1..].chunks_exact(2) {
        ctx.db()
            .set(&pair[0], Value::Str(SBytes::new(&pair[1])), false);
        ctx.notify(NOTIFY_STRING, "set", &pair[0]);
    }
    ctx.dirty((argv.len() as u64 - 1) / 2);
    Ok(if nx { Reply::Int(1) } else { Reply::ok() })
}

/// ```text
/// MSET key value [key value ...]
/// ```
fn mset(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    mset_generic(ctx, argv, false)
}

/// ```text
/// MSETNX key value [key value ...]
/// ```
fn msetnx(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    mset_generic(ctx, argv, true)
}

// ---------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------

fn incr_decr(ctx: &mut Ctx, key: &[u8], incr: i64) -> CmdResult {
    let db = ctx.db();
    let new = match write_str(db, key)? {
        Some(s) => {
            let old = rill_protocol::fmt::parse_i64(s).ok_or(CmdError::NotInteger)?;
            let new = old
                .checked_add(incr)
                .ok_or_else(|| CmdError::err("increment or decrement would overflow"))?;
            *s = SBytes::from_i64(new);
            db.signal_modified(key);
            new
        }
        None => {
            db.insert_new(key, Value::Str(SBytes::from_i64(incr)));
            incr
        }
    };
    ctx.notify(NOTIFY_STRING, "incrby", key);
    ctx.dirty(1);
    Ok(Reply::Int(new))
}

/// ```text
/// INCR key
/// ```
fn incr(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    incr_decr(ctx, &argv[1], 1)
}

/// ```text
/// DECR key
/// ```
fn decr(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    incr_decr(ctx, &argv[1], -1)
}

/// ```text
/// INCRBY key increment
/// ```
fn incrby(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let by = int_arg(&argv[2])?;
    incr_decr(ctx, &argv[1], by)
}

/// ```text
/// DECRBY key decrement
/// ```
fn decrby(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let by = int_arg(&argv[2])?;
    if by == i64::MIN {
        return Err(CmdError::err("decrement would overflow"));
    }
    incr_decr(ctx, &argv[1], -by)
}

/// INCRBYFLOAT's arithmetic on raw strings: parses `old` (absent = 0) and `incr` as long
/// doubles, adds, and formats as Redis does.
pub fn incrbyfloat_str(old: Option<&[u8]>, incr: &[u8]) -> Result<String, CmdError> {
    let value = match old {
        Some(b) => ld80::parse(b).ok_or(CmdError::NotFloat)?,
        None => ld80::Ld::Zero { neg: false },
    };
    let by = ld80::parse(incr).ok_or(CmdError::NotFloat)?;
    let sum = ld80::add(value, by);
    if !sum.is_finite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    Ok(ld80::format_human(sum))
}

/// ```text
/// INCRBYFLOAT key increment
/// ```
fn incrbyfloat(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let db = ctx.db();
    let new = match write_str(db, key)? {
        Some(s) => {
            let new = incrbyfloat_str(Some(&s[..]), &argv[2])?;
            *s = SBytes::new(new.as_bytes());
            db.signal_modified(key);
            new
        }
        None => {
            let new = incrbyfloat_str(None, &argv[2])?;
            db.insert_new(key, Value::Str(SBytes::new(new.as_bytes())));
            new
        }
    };
    ctx.notify(NOTIFY_STRING, "incrbyfloat", key);
    ctx.dirty(1);
    // incrbyfloatCommand: `SET key <new> KEEPTTL`, so float formatting cannot differ.
    let new = Bytes::from(new);
    ctx.propagate_as(vec![
        Bytes::from_static(b"SET"),
        key.clone(),
        new.clone(),
        Bytes::from_static(b"KEEPTTL"),
    ]);
    Ok(Reply::bulk(new))
}

// ---------------------------------------------------------------------------------------
// APPEND, STRLEN, ranges
// ---------------------------------------------------------------------------------------

/// ```text
/// APPEND key value
/// ```
fn append(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let add = &argv[2];
    let max = ctx.config.proto_max_bulk_len;
    let db = ctx.db();
    let len = match write_str(db, key)? {
        Some(s) => {
            if (s.len() as u64).saturating_add(add.len() as u64) > max {
                return Err(CmdError::err(
                    "string exceeds maximum allowed size (proto-max-bulk-len)",
                ));
            }
            edit_vec(s, |v| {
                v.reserve_exact(add.len());
                v.extend_from_slice(add);
            });
            let len = s.len();
            db.signal_modified(key);
            len
        }
        None => {
            db.insert_new(key, Value::Str(SBytes::new(add)));
            add.len()
        }
    };
    ctx.notify(NOTIFY_STRING, "append", key);
    ctx.dirty(1);
    Ok(Reply::Int(len as i64))
}

/// ```text
/// STRLEN key
/// ```
fn strlen(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(
        read_str(ctx.db(), &argv[1])?.map_or(0, |s| s.len() as i64),
    ))
}

/// ```text
/// GETRANGE key start end
/// SUBSTR key start end
/// ```
fn getrange(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut start = int_arg(&argv[2])?;
    let mut end = int_arg(&argv[3])?;
    let Some(s) = read_str(ctx.db(), &argv[1])? else {
        return Ok(Reply::bulk(Bytes::new()));
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Ok(Reply::bulk(Bytes::new()));
    }
    if start < 0 {
        start = start.saturating_add(len);
    }
    if end < 0 {
        end = end.saturating_add(len);
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return Ok(Reply::bulk(Bytes::new()));
    }
    Ok(Reply::bulk_slice(&s[start as usize..=end as usize]))
}

/// ```text
/// SETRANGE key offset value
/// ```
fn setrange(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let value = &argv[3];
    let offset = int_arg(&argv[2])?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let offset = offset as u64;
    match write_str(ctx.db(), key)? {
        None => {
            if value.is_empty() {
                return Ok(Reply::Int(0));
            }
            check_string_length(ctx, offset, value.len() as u64)?;
            let off = offset as usize;
            let mut v = Vec::new();
            grow_zero(&mut v, off + value.len());
            v[off..].copy_from_slice(value);
            ctx.db().insert_new(key, Value::Str(SBytes::from_vec(v)));
        }
        Some(s) => {
            let olen = s.len();
            if value.is_empty() {
                return Ok(Reply::Int(olen as i64));
            }
            check_string_length(ctx, offset, value.len() as u64)?;
            let off = offset as usize;
            let db = ctx.db();
            let Ok(Some(s)) = write_str(db, key) else {
                return Err(CmdError::WrongType);
            };
            if off + value.len() <= s.len() {
                bytes_mut(s)[off..off + value.len()].copy_from_slice(value);
            } else {
                edit_vec(s, |v| {
                    grow_zero(v, off + value.len());
                    v[off..off + value.len()].copy_from_slice(value);
                });
            }
            db.signal_modified(key);
        }
    }
    ctx.notify(NOTIFY_STRING, "setrange", key);
    ctx.dirty(1);
    let len = read_len(ctx.db(), key);
    Ok(Reply::Int(len as i64))
}

/// Length of a string key without counting a keyspace hit.
fn read_len(db: &mut Db, key: &[u8]) -> usize {
    match db.peek(key).map(|e| &e.value) {
        Some(Value::Str(s)) => s.len(),
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------

/// ```text
/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
/// ```
fn lcs(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let db = ctx.db();
    let type_err = || CmdError::err("The specified keys must contain string values");
    let a = match db.get(&argv[1]).map(|e| &e.value) {
        None => Vec::new(),
        Some(Value::Str(s)) => s.to_vec(),
        Some(_) => {
            // Redis looks both keys up before complaining.
            db.get(&argv[2]);
            return Err(type_err());
        }
    };
    let b = match db.get(&argv[2]).map(|e| &e.value) {
        None => Vec::new(),
        Some(Value::Str(s)) => s.to_vec(),
        Some(_) => return Err(type_err()),
    };
    let (mut getlen, mut getidx, mut withmatchlen) = (false, false, false);
    let mut minmatchlen: i64 = 0;
    let mut j = 3;
    while j < argv.len() {
        let opt = &argv[j];
        let more = j + 1 < argv.len();
        if eq_ic(opt, "IDX") {
            getidx = true;
        } else if eq_ic(opt, "LEN") {
            getlen = true;
        } else if eq_ic(opt, "WITHMATCHLEN") {
            withmatchlen = true;
        } else if eq_ic(opt, "MINMATCHLEN") && more {
            minmatchlen = int_arg(&argv[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if getidx && getlen {
        return Err(CmdError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(CmdError::err("String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > ctx.config.proto_max_bulk_len {
        return Err(CmdError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let mut table: Vec<u32> = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        return Err(CmdError::err(
            "Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    table.resize(cells as usize, 0);
    let w = blen + 1;
    for i in 1..=alen {
        for jj in 1..=blen {
            table[i * w + jj] = if a[i - 1] == b[jj - 1] {
                table[(i - 1) * w + jj - 1] + 1
            } else {
                table[(i - 1) * w + jj].max(table[i * w + jj - 1])
            };
        }
    }
    let total = table[alen * w + blen];
    let compute = getidx || !getlen;
    let mut result = vec![0u8; if compute { total as usize } else { 0 }];
    let mut idx = total as usize;
    let mut matches = Vec::new();
    // alen as arange_start means "no range open", as in Redis.
    let (mut as_, mut ae, mut bs, mut be) = (alen, 0usize, 0usize, 0usize);
    let (mut i, mut jj) = (alen, blen);
    while compute && i > 0 && jj > 0 {
        let mut emit = false;
        if a[i - 1] == b[jj - 1] {
            result[idx - 1] = a[i - 1];
            if as_ == alen {
                as_ = i - 1;
                ae = i - 1;
                bs = jj - 1;
                be = jj - 1;
            } else if as_ == i && bs == jj {
                as_ -= 1;
                bs -= 1;
            } else {
                emit = true;
            }
            if as_ == 0 || bs == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            jj -= 1;
        } else {
            let l1 = table[(i - 1) * w + jj];
            let l2 = table[i * w + jj - 1];
            if l1 > l2 {
                i -= 1;
            } else {
                jj -= 1;
            }
            if as_ != alen {
                emit = true;
            }
        }
        let match_len = ae.wrapping_sub(as_).wrapping_add(1);
        if emit {
            if getidx && (minmatchlen == 0 || match_len as i64 >= minmatchlen) {
                let mut m = vec![
                    Reply::Array(vec![Reply::Int(as_ as i64), Reply::Int(ae as i64)]),
                    Reply::Array(vec![Reply::Int(bs as i64), Reply::Int(be as i64)]),
                ];
                if withmatchlen {
                    m.push(Reply::Int(match_len as i64));
                }
                matches.push(Reply::Array(m));
            }
            as_ = alen;
        }
    }
    Ok(if getidx {
        Reply::Map(vec![
            (Reply::bulk_slice(b"matches"), Reply::Array(matches)),
            (Reply::bulk_slice(b"len"), Reply::Int(total as i64)),
        ])
    } else if getlen {
        Reply::Int(total as i64)
    } else {
        Reply::bulk(Bytes::from(result))
    })
}

// ---------------------------------------------------------------------------------------
// Bitmaps
// ---------------------------------------------------------------------------------------

const BIT_OFFSET_ERR: &str = "bit offset is not an integer or out of range";

/// Redis's getBitOffsetFromArgument; `bits` > 0 enables BITFIELD's `#N` form.
fn bit_offset(ctx: &Ctx, arg: &[u8], bits: u32) -> Result<u64, CmdError> {
    let usehash = bits > 0 && arg.first() == Some(&b'#');
    let num = if usehash { &arg[1..] } else { arg };
    let mut off =
        rill_protocol::fmt::parse_i64(num).ok_or_else(|| CmdError::err(BIT_OFFSET_ERR))?;
    if usehash {
        off = off.wrapping_mul(bits as i64);
    }
    if off < 0 || (off as u64 >> 3) >= ctx.config.proto_max_bulk_len {
        return Err(CmdError::err(BIT_OFFSET_ERR));
    }
    Ok(off as u64)
}

/// Redis's lookupStringForBitCommand: the string at `key`, created or zero-grown to hold
/// bit `maxbit`. Returns whether the key was created or grown.
fn string_for_bits<'a>(
    db: &'a mut Db,
    key: &[u8],
    maxbit: u64,
) -> Result<(&'a mut SBytes, bool), CmdError> {
    let need = (maxbit >> 3) as usize + 1;
    if write_str(db, key)?.is_none() {
        let mut v = Vec::new();
        grow_zero(&mut v, need);
        let e = db.insert_new(key, Value::Str(SBytes::from_vec(v)));
        let Value::Str(s) = &mut e.value else {
            unreachable!("invariant: just inserted a string")
        };
        return Ok((s, true));
    }
    let s = write_str(db, key)?.ok_or(CmdError::WrongType)?;
    let grown = s.len() < need;
    if grown {
        edit_vec(s, |v| grow_zero(v, need));
    }
    Ok((s, grown))
}

/// ```text
/// SETBIT key offset value
/// ```
fn setbit(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let off = bit_offset(ctx, &argv[2], 0)?;
    const BIT_ERR: &str = "bit is not an integer or out of range";
    let on = rill_protocol::fmt::parse_i64(&argv[3]).ok_or_else(|| CmdError::err(BIT_ERR))?;
    if on & !1 != 0 {
        return Err(CmdError::err(BIT_ERR));
    }
    let db = ctx.db();
    let (s, grown) = string_for_bits(db, key, off)?;
    let bytes = bytes_mut(s);
    let byte = (off >> 3) as usize;
    let bit = 7 - (off & 7) as u32;
    let old = (bytes[byte] >> bit) & 1;
    let changed = grown || old as i64 != on;
    if changed {
        bytes[byte] = (bytes[byte] & !(1 << bit)) | ((on as u8) << bit);
        db.signal_modified(key);
        ctx.notify(NOTIFY_STRING, "setbit", key);
        ctx.dirty(1);
    }
    Ok(Reply::Int(old as i64))
}

/// ```text
/// GETBIT key offset
/// ```
fn getbit(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let off = bit_offset(ctx, &argv[2], 0)?;
    let Some(s) = read_str(ctx.db(), &argv[1])? else {
        return Ok(Reply::Int(0));
    };
    let byte = (off >> 3) as usize;
    let bit = match s.get(byte) {
        Some(b) => (b >> (7 - (off & 7))) & 1,
        None => 0,
    };
    Ok(Reply::Int(bit as i64))
}

/// Parses BYTE | BIT.
fn bit_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if eq_ic(arg, "BIT") {
        Ok(true)
    } else if eq_ic(arg, "BYTE") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// Clamps a start/end pair (negative = from the end) to `[0, total-1]` as Redis does.
fn clamp_range(mut start: i64, mut end: i64, total: i64) -> (i64, i64) {
    if start < 0 {
        start = start.saturating_add(total);
    }
    if end < 0 {
        end = end.saturating_add(total);
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    (start, end)
}

/// Set bits of `s` between bit positions `from..=to` (both within the string).
fn count_bits(s: &[u8], from: u64, to: u64) -> u64 {
    let (fb, tb) = ((from >> 3) as usize, (to >> 3) as usize);
    let n: u64 = s[fb..=tb].iter().map(|b| b.count_ones() as u64).sum();
    // Remove the bits of the edge bytes that lie outside the range.
    let head = s[fb] & !(0xFFu8 >> (from & 7));
    let tail = s[tb] & !(0xFFu8 << (7 - (to & 7)));
    n - head.count_ones() as u64 - tail.count_ones() as u64
}

/// ```text
/// BITCOUNT key [start end [BYTE | BIT]]
/// ```
fn bitcount(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let Some(s) = read_str(ctx.db(), &argv[1])? else {
        return Ok(Reply::Int(0));
    };
    let len = s.len() as i64;
    let (from, to) = match argv.len() {
        2 => (0, len * 8 - 1),
        4 | 5 => {
            let start = int_arg(&argv[2])?;
            let end = int_arg(&argv[3])?;
            if start < 0 && end < 0 && start > end {
                return Ok(Reply::Int(0));
            }
            let isbit = argv.len() == 5 && bit_unit(&argv[4])?;
            if isbit {
                clamp_range(start, end, len * 8)
            } else {
                let (a, b) = clamp_range(start, end, len);
                (a * 8, b * 8 + 7)
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    if from > to || len == 0 {
        return Ok(Reply::Int(0));
    }
    Ok(Reply::Int(count_bits(s, from as u64, to as u64) as i64))
}

/// First bit equal to `bit` between bit positions `from..=to`.
fn find_bit(s: &[u8], bit: bool, from: u64, to: u64) -> Option<u64> {
    let (fb, tb) = ((from >> 3) as usize, (to >> 3) as usize);
    for (i, &raw) in s[fb..=tb].iter().enumerate() {
        let i = fb + i;
        // Ones where the bit equals the one searched for, limited to the range.
        let mut b = if bit { raw } else { !raw };
        if i == fb {
            b &= 0xFF >> (from & 7);
        }
        if i == tb {
            b &= 0xFF << (7 - (to & 7));
        }
        if b != 0 {
            return Some(i as u64 * 8 + b.leading_zeros() as u64);
        }
    }
    None
}

/// ```text
/// BITPOS key bit [start [end [BYTE | BIT]]]
/// ```
fn bitpos(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let bit = int_arg(&argv[2])?;
    if bit != 0 && bit != 1 {
        return Err(CmdError::err("The bit argument must be 1 or 0."));
    }
    let Some(s) = read_str(ctx.db(), &argv[1])? else {
        return Ok(Reply::Int(if bit == 1 { -1 } else { 0 }));
    };
    let len = s.len() as i64;
    let mut end_given = false;
    let (from, to) = if argv.len() == 3 {
        (0, len * 8 - 1)
    } else {
        let start = int_arg(&argv[3])?;
        let isbit = match argv.len() {
            6 => bit_unit(&argv[5])?,
            n if n > 6 => return Err(CmdError::Syntax),
            _ => false,
        };
        let end = if argv.len() >= 5 {
            end_given = true;
            int_arg(&argv[4])?
        } else if isbit {
            len * 8 + 7
        } else {
            len - 1
        };
        if isbit {
            clamp_range(start, end, len * 8)
        } else {
            let (a, b) = clamp_range(start, end, len);
            (a * 8, b * 8 + 7)
        }
    };
    if from > to || len == 0 {
        return Ok(Reply::Int(-1));
    }
    Ok(Reply::Int(
        match find_bit(s, bit == 1, from as u64, to as u64) {
            Some(p) => p as i64,
            None if bit == 1 || end_given => -1,
            None => ((to as u64 >> 3) + 1) as i64 * 8,
        },
    ))
}

/// ```text
/// BITOP <AND | OR | XOR | NOT> destkey key [key ...]
/// ```
fn bitop(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    #[derive(PartialEq, Clone, Copy)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = if eq_ic(&argv[1], "AND") {
        Op::And
    } else if eq_ic(&argv[1], "OR") {
        Op::Or
    } else if eq_ic(&argv[1], "XOR") {
        Op::Xor
    } else if eq_ic(&argv[1], "NOT") {
        Op::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if op == Op::Not && argv.len() != 4 {
        return Err(CmdError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let dest = &argv[2];
    let db = ctx.db();
    let mut srcs: Vec<Option<Vec<u8>>> = Vec::with_capacity(argv.len() - 3);
    for k in &argv[3..] {
        srcs.push(read_str(db, k)?.map(|s| s.to_vec()));
    }
    let maxlen = srcs
        .iter()
        .map(|s| s.as_ref().map_or(0, |v| v.len()))
        .max()
        .unwrap_or(0);
    if maxlen == 0 {
        if db.remove(dest).is_some() {
            ctx.notify(NOTIFY_GENERIC, "del", dest);
            ctx.dirty(1);
        }
        return Ok(Reply::Int(0));
    }
    let byte_at =
        |s: &Option<Vec<u8>>, i: usize| s.as_ref().and_then(|v| v.get(i)).copied().unwrap_or(0);
    let mut res = vec![0u8; maxlen];
    for (i, out) in res.iter_mut().enumerate() {
        let mut acc = byte_at(&srcs[0], i);
        if op == Op::Not {
            acc = !acc;
        }
        for s in &srcs[1..] {
            let b = byte_at(s, i);
            match op {
                Op::And => acc &= b,
                Op::Or => acc |= b,
                Op::Xor => acc ^= b,
                Op::Not => {}
            }
        }
        *out = acc;
    }
    db.set(dest, Value::Str(SBytes::from_vec(res)), false);
    ctx.notify(NOTIFY_STRING, "set", dest);
    ctx.dirty(1);
    Ok(Reply::Int(maxlen as i64))
}

// BITFIELD

#[derive(Clone, Copy, PartialEq, Debug)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum BfOpcode {
    Get,
    Set,
    Incrby,
}

#[derive(Clone, Copy, Debug)]
struct BfOp {
    opcode: BfOpcode,
    offset: u64,
    value: i64,
    signed: bool,
    bits: u32,
    overflow: Overflow,
}

const BF_TYPE_ERR: &str =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// `i1`..`i64` or `u1`..`u63`.
fn bitfield_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || CmdError::err(BF_TYPE_ERR);
    let signed = match arg.first() {
        Some(b'i' | b'I') => true,
        Some(b'u' | b'U') => false,
        _ => return Err(err()),
    };
    let bits = rill_protocol::fmt::parse_i64(&arg[1..]).ok_or_else(err)?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

fn get_unsigned(p: &[u8], mut offset: u64, bits: u32) -> u64 {
    let mut v: u64 = 0;
    for _ in 0..bits {
        let byte = p.get((offset >> 3) as usize).copied().unwrap_or(0);
        let bit = (byte >> (7 - (offset & 7))) & 1;
        v = (v << 1) | bit as u64;
        offset += 1;
    }
    v
}

fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let mut v = get_unsigned(p, offset, bits) as i64;
    if bits < 64 && v & (1i64 << (bits - 1)) != 0 {
        v |= -1i64 << bits;
    }
    v
}

fn set_unsigned(p: &mut [u8], mut offset: u64, bits: u32, value: u64) {
    for j in 0..bits {
        let bitval = ((value >> (bits - 1 - j)) & 1) as u8;
        let byte = (offset >> 3) as usize;
        let bit = 7 - (offset & 7);
        if let Some(b) = p.get_mut(byte) {
            *b = (*b & !(1 << bit)) | (bitval << bit);
        }
        offset += 1;
    }
}

/// Redis's checkUnsignedBitfieldOverflow: (overflowed, value to store when it did).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (bool, u64) {
    let max: u64 = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || {
        let mask = if bits >= 64 { 0 } else { u64::MAX << bits };
        value.wrapping_add(incr as u64) & !mask
    };
    if value > max || (incr > 0 && incr > maxincr) {
        (true, if ow == Overflow::Sat { max } else { wrap() })
    } else if incr < 0 && incr < minincr {
        (true, if ow == Overflow::Sat { 0 } else { wrap() })
    } else {
        (false, 0)
    }
}

/// Redis's checkSignedBitfieldOverflow: (overflowed, value to store when it did).
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (bool, i64) {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let msb = 1u64 << (bits - 1);
            let mask = u64::MAX << bits;
            if c & msb != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        (true, if ow == Overflow::Sat { max } else { wrap() })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        (true, if ow == Overflow::Sat { min } else { wrap() })
    } else {
        (false, 0)
    }
}

fn bitfield_generic(ctx: &mut Ctx, argv: &[Bytes], ro: bool) -> CmdResult {
    let mut ops: Vec<BfOp> = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut readonly = true;
    let mut highest: u64 = 0;
    let mut j = 2;
    while j < argv.len() {
        let rem = argv.len() - j - 1;
        let sub = &argv[j];
        let opcode = if eq_ic(sub, "GET") && rem >= 2 {
            BfOpcode::Get
        } else if eq_ic(sub, "SET") && rem >= 3 {
            BfOpcode::Set
        } else if eq_ic(sub, "INCRBY") && rem >= 3 {
            BfOpcode::Incrby
        } else if eq_ic(sub, "OVERFLOW") && rem >= 1 {
            let t = &argv[j + 1];
            overflow = if eq_ic(t, "WRAP") {
                Overflow::Wrap
            } else if eq_ic(t, "SAT") {
                Overflow::Sat
            } else if eq_ic(t, "FAIL") {
                Overflow::Fail
            } else {
                return Err(CmdError::err("Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let (signed, bits) = bitfield_type(&argv[j + 1])?;
        let offset = bit_offset(ctx, &argv[j + 2], bits)?;
        let mut value = 0;
        if opcode != BfOpcode::Get {
            readonly = false;
            highest = highest.max(offset + bits as u64 - 1);
            value = int_arg(&argv[j + 3])?;
        }
        ops.push(BfOp {
            opcode,
            offset,
            value,
            signed,
            bits,
            overflow,
        });
        j += if opcode == BfOpcode::Get { 3 } else { 4 };
    }
    let key = &argv[1];
    let db = ctx.db();
    if readonly {
        let data: Vec<u8> = match read_str(db, key)? {
            None => Vec::new(),
            Some(s) => {
                // Copy only what the GETs can reach.
                let reach = ops
                    .iter()
                    .map(|o| ((o.offset + o.bits as u64) >> 3) as usize + 1)
                    .max()
                    .unwrap_or(0);
                s[..s.len().min(reach)].to_vec()
            }
        };
        let out = ops
            .iter()
            .map(|o| {
                Reply::Int(if o.signed {
                    get_signed(&data, o.offset, o.bits)
                } else {
                    get_unsigned(&data, o.offset, o.bits) as i64
                })
            })
            .collect();
        return Ok(Reply::Array(out));
    }
    if ro {
        return Err(CmdError::err(
            "BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let (s, _) = string_for_bits(db, key, highest)?;
    let p = bytes_mut(s);
    let mut out = Vec::with_capacity(ops.len());
    let mut changes = 0u64;
    for o in &ops {
        if o.opcode == BfOpcode::Get {
            out.push(Reply::Int(if o.signed {
                get_signed(p, o.offset, o.bits)
            } else {
                get_unsigned(p, o.offset, o.bits) as i64
            }));
            continue;
        }
        let (failed, ret, newval) = if o.signed {
            let old = get_signed(p, o.offset, o.bits);
            let (ov, newv, ret) = if o.opcode == BfOpcode::Incrby {
                let (ov, w) = signed_overflow(old, o.value, o.bits, o.overflow);
                let n = if ov { w } else { old.wrapping_add(o.value) };
                (ov, n, n)
            } else {
                let (ov, w) = signed_overflow(o.value, 0, o.bits, o.overflow);
                (ov, if ov { w } else { o.value }, old)
            };
            (ov && o.overflow == Overflow::Fail, ret, newv as u64)
        } else {
            let old = get_unsigned(p, o.offset, o.bits);
            let (ov, newv, ret) = if o.opcode == BfOpcode::Incrby {
                let (ov, w) = unsigned_overflow(old, o.value, o.bits, o.overflow);
                let n = if ov {
                    w
                } else {
                    old.wrapping_add(o.value as u64)
                };
                (ov, n, n as i64)
            } else {
                let (ov, w) = unsigned_overflow(o.value as u64, 0, o.bits, o.overflow);
                (ov, if ov { w } else { o.value as u64 }, old as i64)
            };
            (ov && o.overflow == Overflow::Fail, ret, newv)
        };
        if failed {
            out.push(Reply::Null);
        } else {
            out.push(Reply::Int(ret));
            set_unsigned(p, o.offset, o.bits, newval);
        }
        changes += 1;
    }
    if changes > 0 {
        db.signal_modified(key);
        ctx.notify(NOTIFY_STRING, "setbit", key);
        ctx.dirty(changes);
    }
    Ok(Reply::Array(out))
}

/// ```text
/// BITFIELD key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>]
///   <SET encoding offset value | INCRBY encoding offset increment> ...]
/// ```
fn bitfield(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, argv, false)
}

/// ```text
/// BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]
/// ```
fn bitfield_ro(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    bitfield_generic(ctx, argv, true)
}

// ---------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------

const fn s(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: Handler,
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
    syntax: &'static str,
) -> CommandSpec {
    CommandSpec::new(name, arity, flags, handler)
        .keys(1, 1, 1)
        .group("string")
        .doc(since, summary, complexity)
        .syntax(syntax)
}

const SUBSTR_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";

pub static COMMANDS: &[CommandSpec] = &[
    s("get", 2, READONLY | FAST, get, "1.0.0", "Get the value of a key", "O(1)", "key"),
    s(
        "set",
        -3,
        WRITE | DENYOOM,
        set,
        "1.0.0",
        "Set the string value of a key",
        "O(1)",
        "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
    ),
    s(
        "setnx",
        3,
        WRITE | DENYOOM | FAST,
        setnx,
        "1.0.0",
        "Set the value of a key, only if the key does not exist",
        "O(1)",
        "key value",
    ),
    s(
        "setex",
        4,
        WRITE | DENYOOM,
        setex,
        "2.0.0",
        "Set the value and expiration of a key",
        "O(1)",
        "key seconds value",
    ),
    s(
        "psetex",
        4,
        WRITE | DENYOOM,
        psetex,
        "2.6.0",
        "Set the value and expiration in milliseconds of a key",
        "O(1)",
        "key milliseconds value",
    ),
    s(
        "mget",
        -2,
        READONLY | FAST,
        mget,
        "1.0.0",
        "Get the values of all the given keys",
        "O(N) where N is the number of keys to retrieve.",
        "key [key ...]",
    )
    .keys(1, -1, 1),
    s(
        "mset",
        -3,
        WRITE | DENYOOM,
        mset,
        "1.0.1",
        "Set multiple keys to multiple values",
        "O(N) where N is the number of keys to set.",
        "key value [key value ...]",
    )
    .keys(1, -1, 2),
    s(
        "msetnx",
        -3,
        WRITE | DENYOOM,
        msetnx,
        "1.0.1",
        "Set multiple keys to multiple values, only if none of the keys exist",
        "O(N) where N is the number of keys to set.",
        "key value [key value ...]",
    )
    .keys(1, -1, 2),
    s(
        "getset",
        3,
        WRITE | DENYOOM | FAST,
        getset,
        "1.0.0",
        "Set the string value of a key and return its old value",
        "O(1)",
        "key value",
    ),
    s(
        "getdel",
        2,
        WRITE | FAST,
        getdel,
        "6.2.0",
        "Get the value of a key and delete the key",
        "O(1)",
        "key",
    ),
    s(
        "getex",
        -2,
        WRITE | FAST,
        getex,
        "6.2.0",
        "Get the value of a key and optionally set its expiration",
        "O(1)",
        "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]",
    ),
    s(
        "incr",
        2,
        WRITE | DENYOOM | FAST,
        incr,
        "1.0.0",
        "Increment the integer value of a key by one",
        "O(1)",
        "key",
    ),
    s(
        "decr",
        2,
        WRITE | DENYOOM | FAST,
        decr,
        "1.0.0",
        "Decrement the integer value of a key by one",
        "O(1)",
        "key",
    ),
    s(
        "incrby",
        3,
        WRITE | DENYOOM | FAST,
        incrby,
        "1.0.0",
        "Increment the integer value of a key by the given amount",
        "O(1)",
        "key increment",
    ),
    s(
        "decrby",
        3,
        WRITE | DENYOOM | FAST,
        decrby,
        "1.0.0",
        "Decrement the integer value of a key by the given number",
        "O(1)",
        "key decrement",
    ),
    s(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        incrbyfloat,
        "2.6.0",
        "Increment the float value of a key by the given amount",
        "O(1)",
        "key increment",
    ),
    s(
        "append",
        3,
        WRITE | DENYOOM | FAST,
        append,
        "2.0.0",
        "Append a value to a key",
        "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
        "key value",
    ),
    s(
        "strlen",
        2,
        READONLY | FAST,
        strlen,
        "2.2.0",
        "Get the length of the value stored in a key",
        "O(1)",
        "key",
    ),
    s(
        "getrange",
        4,
        READONLY,
        getrange,
        "2.4.0",
        "Get a substring of the string stored at a key",
        SUBSTR_COMPLEXITY,
        "key start end",
    ),
    s(
        "setrange",
        4,
        WRITE | DENYOOM,
        setrange,
        "2.2.0",
        "Overwrite part of a string at key starting at the specified offset",
        "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
        "key offset value",
    ),
    s(
        "substr",
        4,
        READONLY,
        getrange,
        "1.0.0",
        "Get a substring of the string stored at a key",
        SUBSTR_COMPLEXITY,
        "key start end",
    ),
    s(
        "lcs",
        -3,
        READONLY,
        lcs,
        "7.0.0",
        "Find longest common substring",
        "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
    )
    .keys(1, 2, 1),
    s(
        "setbit",
        4,
        WRITE | DENYOOM,
        setbit,
        "2.2.0",
        "Sets or clears the bit at offset in the string value stored at key",
        "O(1)",
        "key offset value",
    )
    .group("bitmap"),
    s(
        "getbit",
        3,
        READONLY | FAST,
        getbit,
        "2.2.0",
        "Returns the bit value at offset in the string value stored at key",
        "O(1)",
        "key offset",
    )
    .group("bitmap"),
    s(
        "bitcount",
        -2,
        READONLY,
        bitcount,
        "2.6.0",
        "Count set bits in a string",
        "O(N)",
        "key [start end [BYTE | BIT]]",
    )
    .group("bitmap"),
    s(
        "bitpos",
        -3,
        READONLY,
        bitpos,
        "2.8.7",
        "Find first bit set or clear in a string",
        "O(N)",
        "key bit [start [end [BYTE | BIT]]]",
    )
    .group("bitmap"),
    s(
        "bitop",
        -4,
        WRITE | DENYOOM,
        bitop,
        "2.6.0",
        "Perform bitwise operations between strings",
        "O(N)",
        "<AND | OR | XOR | NOT> destkey key [key ...]",
    )
    .keys(2, -1, 1)
    .group("bitmap"),
    s(
        "bitfield",
        -2,
        WRITE | DENYOOM,
        bitfield,
        "3.2.0",
        "Perform arbitrary bitfield integer operations on strings",
        "O(1) for each subcommand specified",
        "key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> ...]]",
    )
    .group("bitmap"),
    s(
        "bitfield_ro",
        -2,
        READONLY | FAST,
        bitfield_ro,
        "6.0.0",
        "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        "O(1) for each subcommand specified",
        "key [GET encoding offset [GET encoding offset ...]]",
    )
    .group("bitmap"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::{arr, bulk, err, int, TestDb};
    use crate::config::Config;

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    fn nil() -> Reply {
        Reply::Null
    }

    /// A TestDb with a list at "L", for WRONGTYPE checks.
    fn with_list() -> TestDb {
        let t = TestDb::new();
        let list: crate::db::list::List = [SBytes::from("a")].into_iter().collect();
        t.shared.state.lock().store.dbs[0].set(b"L", Value::List(Box::new(list)), false);
        t
    }

    fn expire_of(t: &TestDb, key: &str) -> Option<i64> {
        let mut st = t.shared.state.lock();
        let db = &mut st.store.dbs[0];
        db.now_ms = t.now_ms;
        db.get_expire(key.as_bytes())
    }

    fn dirty(t: &TestDb) -> u64 {
        t.shared.state.lock().store.dirty
    }

    #[test]
    fn set_options() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["SET", "k", "v", "NX", "GET"]), nil());
        assert_eq!(t.run(&["SET", "k", "v2", "NX", "GET"]), bulk("v"));
        assert_eq!(t.run(&["GET", "k"]), bulk("v"));
        assert_eq!(t.run(&["SET", "k", "v3", "XX", "GET"]), bulk("v"));
        assert_eq!(t.run(&["SET", "nk", "v", "XX"]), nil());
        assert_eq!(t.run(&["SET", "nk", "v", "XX", "GET"]), nil());
        assert_eq!(t.run(&["EXISTS", "nk"]), int(0));
        assert_eq!(
            t.resp(&["SET", "k", "v", "GET", "GET", "NX", "NX"]),
            "$2\r\nv3\r\n"
        );
        // The last EX wins; repeated options are allowed as in Redis.
        assert_eq!(
            t.resp(&["SET", "k", "v", "EX", "10", "EX", "20"]),
            "+OK\r\n"
        );
        assert_eq!(expire_of(&t, "k"), Some(t.now_ms + 20_000));
        assert_eq!(t.resp(&["SET", "k", "v", "KEEPTTL"]), "+OK\r\n");
        assert_eq!(expire_of(&t, "k"), Some(t.now_ms + 20_000));
        assert_eq!(t.resp(&["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(expire_of(&t, "k"), None);
        t.run(&["SET", "k", "v", "PXAT", "99999999999999"]);
        assert_eq!(expire_of(&t, "k"), Some(99999999999999));
        t.run(&["SET", "k", "v", "EXAT", "99999999999"]);
        assert_eq!(expire_of(&t, "k"), Some(99999999999000));
        t.run(&["SET", "k", "v", "PX", "1500"]);
        assert_eq!(expire_of(&t, "k"), Some(t.now_ms + 1500));
    }

    #[test]
    fn set_errors() {
        let mut t = TestDb::new();
        for bad in [
            &["SET", "k", "v", "NX", "XX"][..],
            &["SET", "k", "v", "XX", "NX"],
            &["SET", "k", "v", "KEEPTTL", "EX", "5"],
            &["SET", "k", "v", "EX", "5", "KEEPTTL"],
            &["SET", "k", "v", "PX", "100", "EX", "100"],
            &["SET", "k", "v", "EXAT", "100", "PXAT", "100"],
            &["SET", "k", "v", "EX"],
            &["SET", "k", "v", "PERSIST"],
            &["SET", "k", "v", "foo"],
        ] {
            assert_eq!(t.run(bad), err("ERR syntax error"), "{bad:?}");
        }
        let inval = err("ERR invalid expire time in 'set' command");
        assert_eq!(t.run(&["SET", "k", "v", "EX", "0"]), inval);
        assert_eq!(t.run(&["SET", "k", "v", "PX", "-5"]), inval);
        assert_eq!(t.run(&["SET", "k", "v", "EX", "9223372036854775"]), inval);
        assert_eq!(t.run(&["SET", "k", "v", "EXAT", "9223372036854776"]), inval);
        assert_eq!(
            t.run(&["SET", "k", "v", "PX", "9223372036854775807"]),
            inval
        );
        assert_eq!(
            t.run(&["SET", "k", "v", "EX", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(t.run(&["EXISTS", "k"]), int(0));
        assert_eq!(
            t.run(&["SET", "k"]),
            err("ERR wrong number of arguments for 'set' command")
        );
    }

    #[test]
    fn set_with_past_absolute_expiry_leaves_no_key() {
        let mut t = TestDb::new();
        assert_eq!(t.resp(&["SET", "k", "v", "EXAT", "1"]), "+OK\r\n");
        assert_eq!(t.run(&["EXISTS", "k"]), int(0));
        assert_eq!(t.run(&["GET", "k"]), nil());
    }

    #[test]
    fn setnx_setex_psetex() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["SETNX", "k", "a"]), int(1));
        assert_eq!(t.run(&["SETNX", "k", "b"]), int(0));
        assert_eq!(t.run(&["GET", "k"]), bulk("a"));
        assert_eq!(t.resp(&["SETEX", "k", "10", "v"]), "+OK\r\n");
        assert_eq!(expire_of(&t, "k"), Some(t.now_ms + 10_000));
        assert_eq!(t.resp(&["PSETEX", "k", "100", "w"]), "+OK\r\n");
        assert_eq!(expire_of(&t, "k"), Some(t.now_ms + 100));
        assert_eq!(t.run(&["GET", "k"]), bulk("w"));
        assert_eq!(
            t.run(&["SETEX", "k", "0", "v"]),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            t.run(&["PSETEX", "k", "-1", "v"]),
            err("ERR invalid expire time in 'psetex' command")
        );
        // Expiry passes: the key is gone.
        t.now_ms += 101;
        assert_eq!(t.run(&["GET", "k"]), nil());
    }

    #[test]
    fn getex_getdel_getset() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["GETEX", "nokey", "EX", "-1"]), nil());
        t.run(&["SET", "k", "v"]);
        assert_eq!(
            t.run(&["GETEX", "k", "EX", "-1"]),
            err("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(t.run(&["GETEX", "k", "EX", "100"]), bulk("v"));
        assert_eq!(expire_of(&t, "k"), Some(t.now_ms + 100_000));
        assert_eq!(t.run(&["GETEX", "k"]), bulk("v"));
        assert_eq!(expire_of(&t, "k"), Some(t.now_ms + 100_000));
        assert_eq!(t.run(&["GETEX", "k", "PERSIST"]), bulk("v"));
        assert_eq!(expire_of(&t, "k"), None);
        for bad in [
            &["GETEX", "k", "PERSIST", "EX", "5"][..],
            &["GETEX", "k", "KEEPTTL"],
            &["GETEX", "k", "NX"],
            &["GETEX", "k", "GET"],
            &["GETEX", "k", "PXAT", "100", "EX", "5"],
        ] {
            assert_eq!(t.run(bad), err("ERR syntax error"), "{bad:?}");
        }
        // An absolute time in the past deletes the key after replying with it.
        assert_eq!(t.run(&["GETEX", "k", "EXAT", "1"]), bulk("v"));
        assert_eq!(t.run(&["EXISTS", "k"]), int(0));

        assert_eq!(t.run(&["GETSET", "k", "a"]), nil());
        t.run(&["EXPIRE", "k", "100"]);
        t.shared.state.lock().store.dbs[0].set_expire(b"k", t.now_ms + 5000);
        assert_eq!(t.run(&["GETSET", "k", "b"]), bulk("a"));
        assert_eq!(expire_of(&t, "k"), None, "GETSET clears the TTL");
        assert_eq!(t.run(&["GETDEL", "k"]), bulk("b"));
        assert_eq!(t.run(&["GETDEL", "k"]), nil());
        assert_eq!(t.run(&["EXISTS", "k"]), int(0));
    }

    #[test]
    fn wrongtype_everywhere() {
        let mut t = with_list();
        for cmd in [
            &["GET", "L"][..],
            &["SET", "L", "x", "GET"],
            &["SET", "L", "x", "NX", "GET"],
            &["GETSET", "L", "x"],
            &["GETDEL", "L"],
            &["GETEX", "L", "EX", "5"],
            &["INCR", "L"],
            &["DECRBY", "L", "3"],
            &["INCRBYFLOAT", "L", "1"],
            &["APPEND", "L", "x"],
            &["STRLEN", "L"],
            &["GETRANGE", "L", "0", "1"],
            &["SETRANGE", "L", "0", "x"],
            &["SETRANGE", "L", "0", ""],
            &["SETBIT", "L", "0", "1"],
            &["GETBIT", "L", "0"],
            &["BITCOUNT", "L"],
            &["BITPOS", "L", "1"],
            &["BITOP", "AND", "d", "L"],
            &["BITFIELD", "L", "GET", "u8", "0"],
            &["BITFIELD", "L", "SET", "u8", "0", "1"],
            &["BITFIELD_RO", "L", "GET", "u8", "0"],
        ] {
            assert_eq!(t.run(cmd), err(WRONGTYPE), "{cmd:?}");
        }
        let lcs_err = err("ERR The specified keys must contain string values");
        assert_eq!(t.run(&["LCS", "L", "x"]), lcs_err);
        assert_eq!(t.run(&["LCS", "x", "L"]), lcs_err);
        // MGET answers nil for other types; SET and MSET overwrite them.
        assert_eq!(
            t.run(&["MGET", "L", "nokey"]),
            Reply::Array(vec![nil(), nil()])
        );
        assert_eq!(t.resp(&["SET", "L", "x"]), "+OK\r\n");
        assert_eq!(t.run(&["GET", "L"]), bulk("x"));
    }

    #[test]
    fn mset_msetnx_mget() {
        let mut t = TestDb::new();
        assert_eq!(t.resp(&["MSET", "a", "1", "b", "2"]), "+OK\r\n");
        assert_eq!(
            t.run(&["MSET", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(t.run(&["MSETNX", "a", "1", "c", "2"]), int(0));
        assert_eq!(t.run(&["EXISTS", "c"]), int(0));
        assert_eq!(t.run(&["MSETNX", "c", "1", "c", "2"]), int(1));
        assert_eq!(t.run(&["MGET", "a", "b", "c", "d"]), {
            let mut v = match arr(&["1", "2", "2"]) {
                Reply::Array(v) => v,
                _ => unreachable!(),
            };
            v.push(nil());
            Reply::Array(v)
        });
    }

    #[test]
    fn counters() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["INCR", "n"]), int(1));
        assert_eq!(t.run(&["INCRBY", "n", "10"]), int(11));
        assert_eq!(t.run(&["DECRBY", "n", "20"]), int(-9));
        assert_eq!(t.run(&["DECR", "n"]), int(-10));
        let notint = err("ERR value is not an integer or out of range");
        assert_eq!(t.run(&["INCRBY", "n", "1.5"]), notint);
        for v in [
            " 1",
            "01",
            "+1",
            "-0",
            "1e5",
            "",
            "9223372036854775808",
            "abc",
        ] {
            t.run(&["SET", "x", v]);
            assert_eq!(t.run(&["INCR", "x"]), notint, "{v:?}");
        }
        t.run(&["SET", "x", "9223372036854775807"]);
        assert_eq!(
            t.run(&["INCR", "x"]),
            err("ERR increment or decrement would overflow")
        );
        t.run(&["SET", "x", "-9223372036854775807"]);
        assert_eq!(t.run(&["DECR", "x"]), int(i64::MIN));
        assert_eq!(
            t.run(&["DECR", "x"]),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(
            t.run(&["DECRBY", "x", "-9223372036854775808"]),
            err("ERR decrement would overflow")
        );
        // INCR keeps the TTL.
        t.run(&["SET", "x", "5", "EX", "100"]);
        assert_eq!(t.run(&["INCR", "x"]), int(6));
        assert_eq!(expire_of(&t, "x"), Some(t.now_ms + 100_000));
    }

    #[test]
    fn incrbyfloat_like_redis() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["INCRBYFLOAT", "f", "0.1"]), bulk("0.1"));
        assert_eq!(t.run(&["INCRBYFLOAT", "f", "0.2"]), bulk("0.3"));
        assert_eq!(t.run(&["INCRBYFLOAT", "f", "-0.3"]), bulk("0"));
        assert_eq!(
            t.run(&["INCRBYFLOAT", "f", "1.5e-10"]),
            bulk("0.00000000015")
        );
        t.run(&["SET", "f", "3000"]);
        assert_eq!(
            t.run(&["INCRBYFLOAT", "f", "1.5e-10"]),
            bulk("3000.00000000015000001")
        );
        t.run(&["SET", "f", "1e5"]);
        assert_eq!(t.run(&["INCRBYFLOAT", "f", "1"]), bulk("100001"));
        assert_eq!(
            t.run(&["INCRBYFLOAT", "f", "inf"]),
            err("ERR increment would produce NaN or Infinity")
        );
        let notfloat = err("ERR value is not a valid float");
        assert_eq!(t.run(&["INCRBYFLOAT", "f", " 1"]), notfloat);
        assert_eq!(t.run(&["INCRBYFLOAT", "f", "nan"]), notfloat);
        t.run(&["SET", "f", "abc"]);
        assert_eq!(t.run(&["INCRBYFLOAT", "f", "1"]), notfloat);
        t.run(&["SET", "f", "1", "PX", "5000"]);
        t.run(&["INCRBYFLOAT", "f", "1"]);
        assert_eq!(expire_of(&t, "f"), Some(t.now_ms + 5000));
    }

    #[test]
    fn append_strlen_getrange() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["APPEND", "s", "hello"]), int(5));
        t.shared.state.lock().store.dbs[0].set_expire(b"s", t.now_ms + 5000);
        assert_eq!(t.run(&["APPEND", "s", " world, and more than 22"]), int(29));
        assert_eq!(t.run(&["GET", "s"]), bulk("hello world, and more than 22"));
        assert_eq!(
            expire_of(&t, "s"),
            Some(t.now_ms + 5000),
            "APPEND keeps TTL"
        );
        assert_eq!(t.run(&["STRLEN", "s"]), int(29));
        assert_eq!(t.run(&["STRLEN", "nokey"]), int(0));
        t.run(&["SET", "s", "Hello World"]);
        assert_eq!(t.run(&["GETRANGE", "s", "0", "4"]), bulk("Hello"));
        assert_eq!(t.run(&["GETRANGE", "s", "-5", "-1"]), bulk("World"));
        assert_eq!(t.run(&["GETRANGE", "s", "-1", "-5"]), bulk(""));
        assert_eq!(t.run(&["GETRANGE", "s", "5", "1"]), bulk(""));
        assert_eq!(t.run(&["GETRANGE", "s", "0", "-100"]), bulk("H"));
        assert_eq!(t.run(&["GETRANGE", "s", "100", "200"]), bulk(""));
        assert_eq!(
            t.run(&[
                "GETRANGE",
                "s",
                "-9223372036854775808",
                "9223372036854775807"
            ]),
            bulk("Hello World")
        );
        assert_eq!(t.run(&["SUBSTR", "s", "6", "-1"]), bulk("World"));
        assert_eq!(t.run(&["GETRANGE", "nokey", "0", "-1"]), bulk(""));
        assert_eq!(
            t.run(&["GETRANGE", "nokey", "a", "1"]),
            err("ERR value is not an integer or out of range")
        );
    }

    #[test]
    fn setrange_limits() {
        let mut cfg = Config::default();
        cfg.proto_max_bulk_len = 1000;
        let mut t = TestDb::with_config(cfg);
        assert_eq!(t.run(&["SETRANGE", "s", "3", "ab"]), int(5));
        assert_eq!(t.run(&["GET", "s"]), bulk("\0\0\0ab"));
        assert_eq!(t.run(&["SETRANGE", "s", "0", "xy"]), int(5));
        assert_eq!(t.run(&["GET", "s"]), bulk("xy\0ab"));
        assert_eq!(t.run(&["SETRANGE", "s", "100", ""]), int(5));
        assert_eq!(t.run(&["SETRANGE", "e", "5", ""]), int(0));
        assert_eq!(t.run(&["EXISTS", "e"]), int(0));
        assert_eq!(
            t.run(&["SETRANGE", "s", "-1", "x"]),
            err("ERR offset is out of range")
        );
        let too_big = err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        assert_eq!(t.run(&["SETRANGE", "s", "999", "ab"]), too_big);
        assert_eq!(t.run(&["SETRANGE", "n", "999", "ab"]), too_big);
        assert_eq!(
            t.run(&["SETRANGE", "n", "9223372036854775807", "ab"]),
            too_big
        );
        assert_eq!(t.run(&["SETRANGE", "n", "998", "ab"]), int(1000));
        let long = "x".repeat(996);
        assert_eq!(t.run(&["APPEND", "s", &long]), too_big);
        assert_eq!(t.run(&["APPEND", "s", &long[1..]]), int(1000));
        // Bit offsets are bounded by the same limit (in bytes).
        assert_eq!(
            t.run(&["SETBIT", "b", "8000", "1"]),
            err("ERR bit offset is not an integer or out of range")
        );
        assert_eq!(t.run(&["SETBIT", "b", "7999", "1"]), int(0));
        assert_eq!(t.run(&["STRLEN", "b"]), int(1000));
    }

    #[test]
    fn setbit_large_offset_rejected_without_allocating() {
        let mut t = TestDb::new();
        let e = err("ERR bit offset is not an integer or out of range");
        assert_eq!(t.run(&["SETBIT", "k", "4294967296", "1"]), e);
        assert_eq!(t.run(&["SETBIT", "k", "-1", "1"]), e);
        assert_eq!(t.run(&["SETBIT", "k", "abc", "1"]), e);
        assert_eq!(t.run(&["GETBIT", "k", "-1"]), e);
        assert_eq!(t.run(&["BITFIELD", "k", "SET", "u8", "4294967296", "1"]), e);
        assert_eq!(t.run(&["BITFIELD", "k", "GET", "i8", "#-1"]), e);
        assert_eq!(
            t.run(&["SETRANGE", "k", "536870912", "a"]),
            err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(t.run(&["EXISTS", "k"]), int(0));
    }

    #[test]
    fn setbit_getbit() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["SETBIT", "b", "7", "1"]), int(0));
        assert_eq!(t.run(&["GET", "b"]), bulk("\x01"));
        assert_eq!(t.run(&["SETBIT", "b", "7", "1"]), int(1));
        let d = dirty(&t);
        assert_eq!(t.run(&["SETBIT", "b", "7", "1"]), int(1));
        assert_eq!(dirty(&t), d, "an unchanged bit is not a change");
        assert_eq!(t.run(&["SETBIT", "b", "100", "1"]), int(0));
        assert_eq!(t.run(&["STRLEN", "b"]), int(13));
        assert_eq!(t.run(&["GETBIT", "b", "100"]), int(1));
        assert_eq!(t.run(&["GETBIT", "b", "101"]), int(0));
        assert_eq!(t.run(&["GETBIT", "b", "100000"]), int(0));
        assert_eq!(t.run(&["GETBIT", "nokey", "3"]), int(0));
        let e = err("ERR bit is not an integer or out of range");
        assert_eq!(t.run(&["SETBIT", "b", "0", "2"]), e);
        assert_eq!(t.run(&["SETBIT", "b", "0", "-1"]), e);
        assert_eq!(t.run(&["SETBIT", "b", "0", "x"]), e);
    }

    #[test]
    fn bitcount_and_bitpos() {
        let mut t = TestDb::new();
        t.run_argv(&[
            Bytes::from("SET"),
            Bytes::from("b"),
            Bytes::from_static(b"\xff\xf0\x00"),
        ]);
        assert_eq!(t.run(&["BITCOUNT", "b"]), int(12));
        assert_eq!(t.run(&["BITCOUNT", "b", "1", "1"]), int(4));
        assert_eq!(t.run(&["BITCOUNT", "b", "5", "10", "BIT"]), int(6));
        assert_eq!(t.run(&["BITCOUNT", "b", "-5", "-1", "bit"]), int(0));
        assert_eq!(t.run(&["BITCOUNT", "b", "-1", "-2", "foo"]), int(0));
        assert_eq!(
            t.run(&["BITCOUNT", "b", "1", "2", "foo"]),
            err("ERR syntax error")
        );
        assert_eq!(t.run(&["BITCOUNT", "b", "1"]), err("ERR syntax error"));
        assert_eq!(t.run(&["BITCOUNT", "nokey", "1"]), int(0));
        assert_eq!(t.run(&["BITPOS", "b", "0"]), int(12));
        assert_eq!(t.run(&["BITPOS", "b", "1", "2"]), int(-1));
        assert_eq!(t.run(&["BITPOS", "b", "0", "0", "0"]), int(-1));
        assert_eq!(t.run(&["BITPOS", "b", "0", "3", "11", "BIT"]), int(-1));
        assert_eq!(t.run(&["BITPOS", "b", "0", "3", "12", "BIT"]), int(12));
        assert_eq!(t.run(&["BITPOS", "b", "1", "9", "-1", "BIT"]), int(9));
        assert_eq!(
            t.run(&["BITPOS", "b", "1", "9", "BIT"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(t.run(&["BITPOS", "nokey", "0"]), int(0));
        assert_eq!(t.run(&["BITPOS", "nokey", "1"]), int(-1));
        t.run_argv(&[
            Bytes::from("SET"),
            Bytes::from("ff"),
            Bytes::from_static(b"\xff\xff"),
        ]);
        assert_eq!(t.run(&["BITPOS", "ff", "0"]), int(16));
        assert_eq!(t.run(&["BITPOS", "ff", "0", "0", "-1"]), int(-1));
        assert_eq!(
            t.run(&["BITPOS", "b", "2"]),
            err("ERR The bit argument must be 1 or 0.")
        );
        assert_eq!(
            t.run(&["BITPOS", "b", "0", "a", "b", "c"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            t.run(&["BITPOS", "b", "0", "1", "a", "bit", "x"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["BITPOS", "b", "0", "1", "a", "foo"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn bitop_ops() {
        let mut t = TestDb::new();
        t.run_argv(&[
            Bytes::from("MSET"),
            Bytes::from("x1"),
            Bytes::from_static(b"\x00\xff"),
            Bytes::from("x2"),
            Bytes::from_static(b"\x0f"),
        ]);
        assert_eq!(t.run(&["BITOP", "AND", "d", "x1", "x2"]), int(2));
        assert_eq!(t.run(&["GET", "d"]), bulk("\0\0"));
        assert_eq!(t.run(&["BITOP", "or", "d", "x1", "x2", "nokey"]), int(2));
        assert_eq!(t.run(&["GET", "d"]), Reply::bulk_slice(b"\x0f\xff"));
        assert_eq!(t.run(&["BITOP", "XOR", "d", "x1", "x2"]), int(2));
        assert_eq!(t.run(&["GET", "d"]), Reply::bulk_slice(b"\x0f\xff"));
        assert_eq!(t.run(&["BITOP", "NOT", "d", "x2"]), int(1));
        assert_eq!(t.run(&["GET", "d"]), Reply::bulk_slice(b"\xf0"));
        assert_eq!(
            t.run(&["BITOP", "NOT", "d", "x1", "x2"]),
            err("ERR BITOP NOT must be called with a single source key.")
        );
        assert_eq!(t.run(&["BITOP", "foo", "d", "x1"]), err("ERR syntax error"));
        // Empty result deletes the destination.
        assert_eq!(t.run(&["BITOP", "AND", "d", "nokey"]), int(0));
        assert_eq!(t.run(&["EXISTS", "d"]), int(0));
    }

    #[test]
    fn bitfield_ops() {
        let mut t = TestDb::new();
        assert_eq!(
            t.run(&["BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0"]),
            Reply::Array(vec![int(0), int(100)])
        );
        assert_eq!(
            t.run(&["BITFIELD", "bf", "INCRBY", "i8", "0", "100"]),
            Reply::Array(vec![int(-56)])
        );
        assert_eq!(
            t.run(&["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-100"]),
            Reply::Array(vec![int(-128)])
        );
        assert_eq!(
            t.run(&["BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1"]),
            Reply::Array(vec![nil()])
        );
        assert_eq!(
            t.run(&["BITFIELD", "bf", "SET", "u8", "#1", "255", "GET", "u16", "0"]),
            Reply::Array(vec![int(0), int(33023)])
        );
        assert_eq!(
            t.run(&["BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0"]),
            Reply::Array(vec![int(128), int(255)])
        );
        assert_eq!(
            t.run(&[
                "BITFIELD",
                "bf",
                "OVERFLOW",
                "WRAP",
                "INCRBY",
                "i64",
                "0",
                "9223372036854775807"
            ]),
            t.run(&["BITFIELD", "bf", "GET", "i64", "0"])
        );
        assert_eq!(
            t.run(&["BITFIELD_RO", "nokey", "GET", "i8", "0", "GET", "u16", "#3"]),
            Reply::Array(vec![int(0), int(0)])
        );
        assert_eq!(t.run(&["EXISTS", "nokey"]), int(0));
        // A write creates the key even when every write failed.
        assert_eq!(
            t.run(&["BITFIELD", "nk", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5"]),
            Reply::Array(vec![nil()])
        );
        assert_eq!(t.run(&["GET", "nk"]), bulk("\0"));
        let type_err = err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
        for ty in ["u64", "i0", "i65", "x8", "i", "u-1"] {
            assert_eq!(t.run(&["BITFIELD", "bf", "GET", ty, "0"]), type_err, "{ty}");
        }
        assert_eq!(
            t.run(&["BITFIELD", "bf", "OVERFLOW", "foo"]),
            err("ERR Invalid OVERFLOW type specified")
        );
        assert_eq!(
            t.run(&["BITFIELD", "bf", "INCRBY", "i8", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["BITFIELD", "bf", "INCRBY", "i8", "0", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            t.run(&["BITFIELD_RO", "bf", "SET", "i8", "0", "1"]),
            err("ERR BITFIELD_RO only supports the GET subcommand")
        );
        assert_eq!(t.run(&["BITFIELD", "bf"]), Reply::Array(vec![]));
    }

    #[test]
    fn lcs_variants() {
        let mut t = TestDb::new();
        t.run(&["MSET", "a", "ohmytext", "b", "mynewtext"]);
        assert_eq!(t.run(&["LCS", "a", "b"]), bulk("mytext"));
        assert_eq!(t.run(&["LCS", "a", "b", "LEN"]), int(6));
        assert_eq!(
            t.resp(&["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            t.resp(&["LCS", "a", "b", "MINMATCHLEN", "-5", "IDX"]),
            "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            t.run(&["LCS", "a", "b", "IDX", "LEN"]),
            err("ERR If you want both the length and indexes, please just use IDX.")
        );
        assert_eq!(
            t.run(&["LCS", "a", "b", "MINMATCHLEN"]),
            err("ERR syntax error")
        );
        assert_eq!(t.run(&["LCS", "nokey", "b"]), bulk(""));
    }

    #[test]
    fn writes_count_dirty() {
        let mut t = TestDb::new();
        let d0 = dirty(&t);
        t.run(&["MSET", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(dirty(&t), d0 + 3);
        t.run(&["SET", "a", "1", "NX"]);
        assert_eq!(dirty(&t), d0 + 3, "an aborted SET NX is not a change");
        t.run(&[
            "BITFIELD", "a", "SET", "u8", "0", "1", "INCRBY", "u8", "0", "1",
        ]);
        assert_eq!(dirty(&t), d0 + 5);
    }

    #[test]
    fn table_matches_command_info() {
        let find = |n: &str| COMMANDS.iter().find(|c| c.name == n).unwrap();
        let set = find("set");
        assert_eq!((set.arity, set.flags), (-3, WRITE | DENYOOM));
        let bitop = find("bitop");
        assert_eq!((bitop.first_key, bitop.last_key, bitop.step), (2, -1, 1));
        assert_eq!(bitop.group, "bitmap");
        let mset = find("mset");
        assert_eq!((mset.first_key, mset.last_key, mset.step), (1, -1, 2));
        let lcs = find("lcs");
        assert_eq!((lcs.first_key, lcs.last_key, lcs.step), (1, 2, 1));
        assert_eq!(find("getdel").flags, WRITE | FAST);
        assert_eq!(find("bitfield_ro").flags, READONLY | FAST);
        assert_eq!(COMMANDS.len(), 29);
    }
}

/// What the string commands propagate, checked against redis-server 7.0.15's AOF.
#[cfg(test)]
mod propagation_tests {
    use crate::cmd::testkit::TestDb;

    const NOW: i64 = 1_700_000_000_000;

    fn db() -> TestDb {
        let mut t = TestDb::new().propagating();
        t.now_ms = NOW;
        t
    }

    fn run(t: &mut TestDb, cmds: &[&[&str]]) -> Vec<String> {
        for c in cmds {
            t.run(c);
        }
        t.take_propagated()
    }

    #[test]
    fn set_with_an_expiry_becomes_set_pxat() {
        let mut t = db();
        let got = run(
            &mut t,
            &[
                &["set", "a", "1", "ex", "100"],
                &["set", "a", "1", "nx", "px", "100"],
                &["set", "a", "2", "xx", "get", "ex", "100"],
                &["set", "a", "3", "pxat", "99999999999999", "get"],
                &["set", "a", "4", "exat", "1800000000"],
                &["setex", "c", "100", "v"],
                &["psetex", "c", "100", "v"],
                &["setex", "c", "-5", "v"],
                &["set", "e", "1", "keepttl"],
                &["set", "e", "1", "nx", "get"],
                &["set", "f", "1", "get"],
            ],
        );
        assert_eq!(
            got,
            [
                "SET a 1 PXAT 1700000100000",
                "SET a 2 PXAT 1700000100000",
                "SET a 3 PXAT 99999999999999",
                "SET a 4 PXAT 1800000000000",
                "SET c v PXAT 1700000100000",
                "SET c v PXAT 1700000000100",
                "set e 1 keepttl",
                "set f 1 get",
            ]
        );
    }

    #[test]
    fn getex_getset_getdel_rewrites() {
        let mut t = db();
        let got = run(
            &mut t,
            &[
                &["set", "c", "v"],
                &["getex", "c", "ex", "100"],
                &["getex", "c", "pxat", "1800000000000"],
                &["getex", "c"],
                &["getex", "c", "persist"],
                &["getex", "c", "persist"],
                &["getex", "c", "exat", "1"],
                &["getex", "nokey", "ex", "1"],
                &["getset", "a", "2"],
                &["getdel", "a"],
                &["getdel", "a"],
            ],
        );
        assert_eq!(
            got,
            [
                "set c v",
                "PEXPIREAT c 1700000100000",
                "PEXPIREAT c 1800000000000",
                "PERSIST c",
                "DEL c",
                "SET a 2",
                "DEL a",
            ]
        );
    }

    #[test]
    fn getex_past_expiry_is_unlink_under_lazyfree_lazy_expire() {
        let mut t = db();
        t.run(&["config", "set", "lazyfree-lazy-expire", "yes"]);
        t.run(&["set", "c", "v"]);
        t.take_propagated();
        t.run(&["getex", "c", "pxat", "1"]);
        assert_eq!(t.take_propagated(), ["UNLINK c"]);
    }

    #[test]
    fn incrbyfloat_becomes_set_keepttl() {
        let mut t = db();
        let got = run(
            &mut t,
            &[
                &["incrbyfloat", "q", "1.10"],
                &["incrbyfloat", "q", "5.0e3"],
                &["incrbyfloat", "q", "abc"],
                &["set", "s", "x"],
                &["incrbyfloat", "s", "1"],
            ],
        );
        assert_eq!(
            got,
            [
                "SET q 1.1 KEEPTTL",
                "SET q 5001.10000000000000009 KEEPTTL",
                "set s x"
            ]
        );
    }

    #[test]
    fn unchanged_writes_propagate_nothing() {
        let mut t = db();
        let got = run(
            &mut t,
            &[
                &["setnx", "b", "3"],
                &["setnx", "b", "4"],
                &["msetnx", "b", "1", "c", "2"],
                &["setrange", "e", "0", ""],
                &["append", "e", "x"],
                &["setbit", "e", "1", "0"],
                &["setbit", "e", "1", "0"],
                &["bitfield", "e", "get", "u8", "0"],
                &["bitfield", "e", "set", "u8", "0", "1"],
                &["bitop", "and", "f", "nokey"],
                &["bitop", "and", "e", "nokey"],
                &["incr", "n"],
            ],
        );
        assert_eq!(
            got,
            [
                "setnx b 3",
                "append e x",
                "setbit e 1 0",
                "bitfield e set u8 0 1",
                "bitop and e nokey",
                "incr n",
            ]
        );
    }
}
