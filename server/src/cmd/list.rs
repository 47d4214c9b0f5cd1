//! List commands: LPUSH, RPUSH, LPOP, LRANGE, LMOVE, LMPOP, ... (blocking variants live
//! elsewhere). Error texts and reply shapes follow Redis 7.0's t_list.c.

use super::*;
use crate::db::list::{self as dl, List};
use crate::db::{Db, SBytes, Value};

/// The list at `key` for a write (lookupKeyWrite + checkType).
fn list_write<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a mut List>, CmdError> {
    match db.get_mut(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// The list at `key` for a read (lookupKeyRead + checkType).
fn list_read<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a List>, CmdError> {
    match db.get(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// `LEFT`/`RIGHT` (getListPositionFromObjectOrReply): true for LEFT.
fn parse_where(arg: &[u8]) -> Result<bool, CmdError> {
    if eq_ic(arg, "left") {
        Ok(true)
    } else if eq_ic(arg, "right") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// getPositiveLongFromObjectOrReply with Redis's default message.
fn positive_count(arg: &[u8]) -> Result<i64, CmdError> {
    match rill_protocol::fmt::parse_i64(arg) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(CmdError::err("value is out of range, must be positive")),
    }
}

fn bulk(s: &SBytes) -> Reply {
    Reply::bulk_slice(s)
}

/// Deletes `key` if its list became empty, with the `del` event.
fn delete_if_empty(ctx: &mut Ctx, key: &[u8], empty: bool) {
    if empty {
        ctx.db().remove(key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
}

/// `LPOP` or `RPOP`, the command blocking and multi-key pops propagate as.
fn pop_name(left: bool) -> Bytes {
    Bytes::from_static(if left { b"LPOP" } else { b"RPOP" })
}

/// Pops up to `n` elements from one end; notifies `lpop`/`rpop` (and `del` when the list
/// empties) and counts them dirty (Redis's listElementsRemoved). The key must hold a list.
fn pop_n(ctx: &mut Ctx, key: &[u8], left: bool, n: usize) -> Vec<SBytes> {
    let (out, empty) = {
        let Ok(Some(l)) = list_write(ctx.db(), key) else {
            return Vec::new();
        };
        let n = n.min(l.len());
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let v = if left { l.pop_front() } else { l.pop_back() };
            match v {
                Some(v) => out.push(v),
                None => break,
            }
        }
        (out, l.is_empty())
    };
    ctx.notify(NOTIFY_LIST, if left { "lpop" } else { "rpop" }, key);
    delete_if_empty(ctx, key, empty);
    ctx.db().signal_modified(key);
    ctx.dirty(out.len() as u64);
    out
}

fn push_generic(ctx: &mut Ctx, argv: &[Bytes], left: bool, only_existing: bool) -> CmdResult {
    let key = &argv[1];
    let db = ctx.db();
    let len = match list_write(db, key)? {
        Some(l) => {
            for e in &argv[2..] {
                if left {
                    l.push_front(SBytes::new(e));
                } else {
                    l.push_back(SBytes::new(e));
                }
            }
            l.len()
        }
        None if only_existing => return Ok(Reply::Int(0)),
        None => {
            let mut l = List::with_capacity(argv.len() - 2);
            for e in &argv[2..] {
                if left {
                    l.push_front(SBytes::new(e));
                } else {
                    l.push_back(SBytes::new(e));
                }
            }
            let n = l.len();
            db.insert_new(key, Value::List(Box::new(l)));
            n
        }
    };
    ctx.db().signal_modified(key);
    ctx.dirty((argv.len() - 2) as u64);
    ctx.notify(NOTIFY_LIST, if left { "lpush" } else { "rpush" }, key);
    Ok(Reply::Int(len as i64))
}

/// ```text
/// LPUSH key element [element ...]
/// ```
fn lpush(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, true, false)
}

/// ```text
/// RPUSH key element [element ...]
/// ```
fn rpush(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, false, false)
}

/// ```text
/// LPUSHX key element [element ...]
/// ```
fn lpushx(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, true, true)
}

/// ```text
/// RPUSHX key element [element ...]
/// ```
fn rpushx(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    push_generic(ctx, argv, false, true)
}

fn pop_generic(ctx: &mut Ctx, argv: &[Bytes], left: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::wrong_args(&lossy(&argv[0])));
    }
    let count = match argv.get(2) {
        Some(a) => Some(positive_count(a)?),
        None => None,
    };
    let key = &argv[1];
    if list_write(ctx.db(), key)?.is_none() {
        return Ok(if count.is_some() {
            Reply::NullArray
        } else {
            Reply::Null
        });
    }
    match count {
        None => {
            let v = pop_n(ctx, key, left, 1);
            Ok(v.first().map(bulk).unwrap_or(Reply::Null))
        }
        Some(0) => Ok(Reply::Array(Vec::new())),
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            let v = pop_n(ctx, key, left, n);
            Ok(Reply::Array(v.iter().map(bulk).collect()))
        }
    }
}

/// ```text
/// LPOP key [count]
/// ```
fn lpop(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    pop_generic(ctx, argv, true)
}

/// ```text
/// RPOP key [count]
/// ```
fn rpop(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    pop_generic(ctx, argv, false)
}

/// ```text
/// LLEN key
/// ```
fn llen(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let n = list_read(ctx.db(), &argv[1])?.map_or(0, |l| l.len());
    Ok(Reply::Int(n as i64))
}

/// ```text
/// LRANGE key start stop
/// ```
fn lrange(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let start = int_arg(&argv[2])?;
    let stop = int_arg(&argv[3])?;
    let Some(l) = list_read(ctx.db(), &argv[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let Some((a, b)) = dl::range_bounds(start, stop, l.len()) else {
        return Ok(Reply::Array(Vec::new()));
    };
    Ok(Reply::Array(l.range(a..=b).map(bulk).collect()))
}

/// ```text
/// LINDEX key index
/// ```
fn lindex(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let Some(l) = list_read(ctx.db(), &argv[1])? else {
        return Ok(Reply::Null);
    };
    let idx = int_arg(&argv[2])?;
    Ok(dl::index(idx, l.len())
        .and_then(|i| l.get(i))
        .map(bulk)
        .unwrap_or(Reply::Null))
}

/// ```text
/// LSET key index element
/// ```
fn lset(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(l) = list_write(ctx.db(), key)? else {
        return Err(CmdError::NoSuchKey);
    };
    let idx = int_arg(&argv[2])?;
    let i = dl::index(idx, l.len()).ok_or(CmdError::OutOfRange)?;
    l[i] = SBytes::new(&argv[3]);
    ctx.db().signal_modified(key);
    ctx.notify(NOTIFY_LIST, "lset", key);
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// ```text
/// LINSERT key <BEFORE | AFTER> pivot element
/// ```
fn linsert(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let after = if eq_ic(&argv[2], "after") {
        true
    } else if eq_ic(&argv[2], "before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let key = &argv[1];
    let Some(l) = list_write(ctx.db(), key)? else {
        return Ok(Reply::Int(0));
    };
    let Some(pos) = l.iter().position(|e| e.as_bytes() == &argv[3][..]) else {
        return Ok(Reply::Int(-1));
    };
    l.insert(if after { pos + 1 } else { pos }, SBytes::new(&argv[4]));
    let n = l.len();
    ctx.db().signal_modified(key);
    ctx.notify(NOTIFY_LIST, "linsert", key);
    ctx.dirty(1);
    Ok(Reply::Int(n as i64))
}

/// ```text
/// LREM key count element
/// ```
fn lrem(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let count = int_arg(&argv[2])?;
    let key = &argv[1];
    let Some(l) = list_write(ctx.db(), key)? else {
        return Ok(Reply::Int(0));
    };
    let removed = dl::remove_matching(l, &argv[3], count);
    let empty = l.is_empty();
    if removed > 0 {
        ctx.db().signal_modified(key);
        ctx.notify(NOTIFY_LIST, "lrem", key);
        delete_if_empty(ctx, key, empty);
        ctx.dirty(removed as u64);
    }
    Ok(Reply::Int(removed as i64))
}

/// ```text
/// LTRIM key start stop
/// ```
fn ltrim(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let start = int_arg(&argv[2])?;
    let stop = int_arg(&argv[3])?;
    let key = &argv[1];
    let Some(l) = list_write(ctx.db(), key)? else {
        return Ok(Reply::ok());
    };
    let len = l.len();
    let removed = match dl::range_bounds(start, stop, len) {
        None => {
            l.clear();
            len
        }
        Some((a, b)) => {
            l.truncate(b + 1);
            l.drain(..a);
            len - (b + 1 - a)
        }
    };
    let empty = l.is_empty();
    ctx.notify(NOTIFY_LIST, "ltrim", key);
    delete_if_empty(ctx, key, empty);
    ctx.db().signal_modified(key);
    ctx.dirty(removed as u64);
    Ok(Reply::ok())
}

const RANK_ZERO: &str = "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

/// ```text
/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
/// ```
fn lpos(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: i64 = -1;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if eq_ic(&argv[j], "rank") && more {
            rank = int_arg(&argv[j + 1])?;
            if rank == 0 {
                return Err(CmdError::err(RANK_ZERO));
            }
        } else if eq_ic(&argv[j], "count") && more {
            count = positive_arg(&argv[j + 1], "COUNT can't be negative")
                .map_err(|_| CmdError::err("COUNT can't be negative"))?;
        } else if eq_ic(&argv[j], "maxlen") && more {
            maxlen = positive_arg(&argv[j + 1], "MAXLEN can't be negative")
                .map_err(|_| CmdError::err("MAXLEN can't be negative"))?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    // A negative rank searches from the tail. Redis negates in C `long`, so
    // LONG_MIN stays negative and then matches from the first hit: mirror that.
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let Some(l) = list_read(ctx.db(), &argv[1])? else {
        return Ok(if count != -1 {
            Reply::Array(Vec::new())
        } else {
            Reply::Null
        });
    };
    let ele = &argv[2][..];
    let len = l.len();
    let mut out = Vec::new();
    let mut single = None;
    let mut matches: i64 = 0;
    for index in 0..len {
        if maxlen != 0 && index as i64 >= maxlen {
            break;
        }
        let pos = if from_tail { len - 1 - index } else { index };
        if l[pos].as_bytes() == ele {
            matches += 1;
            if matches >= rank {
                if count != -1 {
                    out.push(Reply::Int(pos as i64));
                    if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
                        break;
                    }
                } else {
                    single = Some(pos);
                    break;
                }
            }
        }
    }
    if count != -1 {
        Ok(Reply::Array(out))
    } else {
        Ok(single.map_or(Reply::Null, |p| Reply::Int(p as i64)))
    }
}

/// Pops from `src` and pushes to `dst` (Redis's lmoveGenericCommand).
fn lmove_generic(
    ctx: &mut Ctx,
    src: &[u8],
    dst: &[u8],
    from_left: bool,
    to_left: bool,
) -> CmdResult {
    if list_write(ctx.db(), src)?.is_none() {
        return Ok(Reply::Null);
    }
    // Type-check the destination before touching the source.
    let dst_exists = list_write(ctx.db(), dst)?.is_some();
    let value = {
        let Some(l) = list_write(ctx.db(), src)? else {
            return Ok(Reply::Null);
        };
        let v = if from_left {
            l.pop_front()
        } else {
            l.pop_back()
        };
        let Some(v) = v else {
            return Ok(Reply::Null);
        };
        v
    };
    // Push (for src == dst the list still exists, even if it was just emptied).
    let db = ctx.db();
    match list_write(db, dst)? {
        Some(l) => {
            if to_left {
                l.push_front(value.clone());
            } else {
                l.push_back(value.clone());
            }
        }
        None => {
            debug_assert!(!dst_exists);
            let mut l = List::new();
            l.push_back(value.clone());
            db.insert_new(dst, Value::List(Box::new(l)));
        }
    }
    ctx.db().signal_modified(dst);
    ctx.notify(NOTIFY_LIST, if to_left { "lpush" } else { "rpush" }, dst);
    ctx.notify(NOTIFY_LIST, if from_left { "lpop" } else { "rpop" }, src);
    let empty = matches!(list_write(ctx.db(), src), Ok(Some(l)) if l.is_empty());
    delete_if_empty(ctx, src, empty);
    ctx.db().signal_modified(src);
    ctx.dirty(1);
    Ok(bulk(&value))
}

/// ```text
/// LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT>
/// ```
fn lmove(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let from = parse_where(&argv[3])?;
    let to = parse_where(&argv[4])?;
    lmove_generic(ctx, &argv[1], &argv[2], from, to)
}

/// ```text
/// RPOPLPUSH source destination
/// ```
fn rpoplpush(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    lmove_generic(ctx, &argv[1], &argv[2], false, true)
}

/// ```text
/// LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]
/// ```
fn lmpop(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let numkeys = match rill_protocol::fmt::parse_i64(&argv[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    let where_idx = numkeys.saturating_add(2);
    if where_idx >= argv.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let where_idx = where_idx as usize;
    let left = parse_where(&argv[where_idx])?;
    let mut count: i64 = -1;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count == -1 && eq_ic(&argv[j], "count") && j + 1 < argv.len() {
            count = match rill_protocol::fmt::parse_i64(&argv[j + 1]) {
                Some(n) if n >= 1 => n,
                _ => return Err(CmdError::err("count should be greater than 0")),
            };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let count = if count == -1 { 1 } else { count };
    for key in &argv[2..where_idx] {
        if list_write(ctx.db(), key)?.is_none() {
            continue;
        }
        let n = usize::try_from(count).unwrap_or(usize::MAX);
        let v = pop_n(ctx, key, left, n);
        // listPopRangeAndReplyWithKey: LMPOP/BLMPOP propagate as `LPOP|RPOP key <popped>`.
        ctx.propagate_as(vec![
            pop_name(left),
            key.clone(),
            Bytes::copy_from_slice(itoa::Buffer::new().format(v.len()).as_bytes()),
        ]);
        return Ok(Reply::Array(vec![
            Reply::Bulk(key.clone()),
            Reply::Array(v.iter().map(bulk).collect()),
        ]));
    }
    Ok(Reply::NullArray)
}

// ---------------------------------------------------------------------------------------
// Blocking variants (crate::blocking): serve at once when a key holds data, else wait.

fn block_on_lists(
    ctx: &mut Ctx,
    keys: &[Bytes],
    deadline_ms: Option<i64>,
    timeout_reply: Reply,
) -> CmdResult {
    crate::blocking::block(
        ctx,
        crate::blocking::BlockedOn {
            kind: crate::blocking::BlockKind::List,
            keys: keys.to_vec(),
            stream_ids: Vec::new(),
            deadline_ms,
            timeout_reply,
            retry_argv: None,
            group: None,
        },
    )
}

/// BLPOP / BRPOP (Redis's blockingPopGenericCommand).
fn bpop_generic(ctx: &mut Ctx, argv: &[Bytes], left: bool) -> CmdResult {
    let last = argv.len() - 1;
    let deadline = crate::blocking::timeout_secs(&argv[last], ctx.now_ms)?;
    let keys = &argv[1..last];
    for key in keys {
        if list_write(ctx.db(), key)?.is_none() {
            continue;
        }
        let v = pop_n(ctx, key, left, 1);
        if let Some(v) = v.first() {
            // blockingPopGenericCommand: replicated as LPOP/RPOP, not BLPOP/BRPOP.
            ctx.propagate_as(vec![pop_name(left), key.clone()]);
            return Ok(Reply::Array(vec![Reply::Bulk(key.clone()), bulk(v)]));
        }
    }
    block_on_lists(ctx, keys, deadline, Reply::NullArray)
}

/// ```text
/// BLPOP key [key ...] timeout
/// ```
fn blpop(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, argv, true)
}

/// ```text
/// BRPOP key [key ...] timeout
/// ```
fn brpop(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    bpop_generic(ctx, argv, false)
}

/// Redis's blmoveGenericCommand.
fn blmove_generic(
    ctx: &mut Ctx,
    argv: &[Bytes],
    from_left: bool,
    to_left: bool,
    timeout: &[u8],
) -> CmdResult {
    let deadline = crate::blocking::timeout_secs(timeout, ctx.now_ms)?;
    if list_write(ctx.db(), &argv[1])?.is_some() {
        let r = lmove_generic(ctx, &argv[1], &argv[2], from_left, to_left)?;
        // blmoveGenericCommand: BLMOVE propagates as LMOVE (its own LEFT/RIGHT words),
        // BRPOPLPUSH as RPOPLPUSH.
        if argv.len() == 6 {
            let mut v = argv[..5].to_vec();
            v[0] = Bytes::from_static(b"LMOVE");
            ctx.propagate_as(v);
        } else {
            ctx.propagate_as(vec![
                Bytes::from_static(b"RPOPLPUSH"),
                argv[1].clone(),
                argv[2].clone(),
            ]);
        }
        return Ok(r);
    }
    // The non-blocking form (inside EXEC) answers a null bulk, a timeout a null array.
    if ctx.client.in_exec {
        return Ok(Reply::Null);
    }
    block_on_lists(ctx, &argv[1..2], deadline, Reply::NullArray)
}

/// ```text
/// BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout
/// ```
fn blmove(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let from = parse_where(&argv[3])?;
    let to = parse_where(&argv[4])?;
    blmove_generic(ctx, argv, from, to, &argv[5])
}

/// ```text
/// BRPOPLPUSH source destination timeout
/// ```
fn brpoplpush(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    blmove_generic(ctx, argv, false, true, &argv[3])
}

/// ```text
/// BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]
/// ```
fn blmpop(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let deadline = crate::blocking::timeout_secs(&argv[1], ctx.now_ms)?;
    // LMPOP's parsing and serving, with argv shifted by one (argv[0] is unused there).
    let r = lmpop(ctx, &argv[1..])?;
    if !matches!(r, Reply::NullArray) {
        return Ok(r);
    }
    let numkeys = rill_protocol::fmt::parse_i64(&argv[2]).unwrap_or(0).max(0) as usize;
    let end = 3usize.saturating_add(numkeys).min(argv.len());
    block_on_lists(ctx, &argv[3..end], deadline, Reply::NullArray)
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, blpop)
        .keys(1, -2, 1)
        .group("list")
        .doc(
            "2.0.0",
            "Remove and get the first element in a list, or block until one is available",
            "O(N) where N is the number of provided keys.",
        )
        .syntax("key [key ...] timeout"),
    CommandSpec::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, brpop)
        .keys(1, -2, 1)
        .group("list")
        .doc(
            "2.0.0",
            "Remove and get the last element in a list, or block until one is available",
            "O(N) where N is the number of provided keys.",
        )
        .syntax("key [key ...] timeout"),
    CommandSpec::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, blmove)
        .keys(1, 2, 1)
        .group("list")
        .doc(
            "6.2.0",
            "Pop an element from a list, push it to another list and return it; or block until one is available",
            "O(1)",
        )
        .syntax("source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout"),
    CommandSpec::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, brpoplpush)
        .keys(1, 2, 1)
        .group("list")
        .doc(
            "2.2.0",
            "Pop an element from a list, push it to another list and return it; or block until one is available",
            "O(1)",
        )
        .syntax("source destination timeout"),
    CommandSpec::new("blmpop", -5, WRITE | BLOCKING | MOVABLEKEYS, blmpop)
        .keys(0, 0, 0)
        .group("list")
        .doc(
            "7.0.0",
            "Pop elements from a list, or block until one is available",
            "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        )
        .syntax("timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]"),
    CommandSpec::new("lpush", -3, WRITE | DENYOOM | FAST, lpush)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "1.0.0",
            "Prepend one or multiple elements to a list",
            "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        )
        .syntax("key element [element ...]"),
    CommandSpec::new("rpush", -3, WRITE | DENYOOM | FAST, rpush)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "1.0.0",
            "Append one or multiple elements to a list",
            "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        )
        .syntax("key element [element ...]"),
    CommandSpec::new("lpushx", -3, WRITE | DENYOOM | FAST, lpushx)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "2.2.0",
            "Prepend an element to a list, only if the list exists",
            "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        )
        .syntax("key element [element ...]"),
    CommandSpec::new("rpushx", -3, WRITE | DENYOOM | FAST, rpushx)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "2.2.0",
            "Append an element to a list, only if the list exists",
            "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        )
        .syntax("key element [element ...]"),
    CommandSpec::new("lpop", -2, WRITE | FAST, lpop)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "1.0.0",
            "Remove and get the first elements in a list",
            "O(N) where N is the number of elements returned",
        )
        .syntax("key [count]"),
    CommandSpec::new("rpop", -2, WRITE | FAST, rpop)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "1.0.0",
            "Remove and get the last elements in a list",
            "O(N) where N is the number of elements returned",
        )
        .syntax("key [count]"),
    CommandSpec::new("llen", 2, READONLY | FAST, llen)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "1.0.0",
            "Get the length of a list",
            "O(1)",
        )
        .syntax("key"),
    CommandSpec::new("lrange", 4, READONLY, lrange)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "1.0.0",
            "Get a range of elements from a list",
            "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        )
        .syntax("key start stop"),
    CommandSpec::new("lindex", 3, READONLY, lindex)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "1.0.0",
            "Get an element from a list by its index",
            "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
        )
        .syntax("key index"),
    CommandSpec::new("lset", 4, WRITE | DENYOOM, lset)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "1.0.0",
            "Set the value of an element in a list by its index",
            "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
        )
        .syntax("key index element"),
    CommandSpec::new("linsert", 5, WRITE | DENYOOM, linsert)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "2.2.0",
            "Insert an element before or after another element in a list",
            "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
        )
        .syntax("key <BEFORE | AFTER> pivot element"),
    CommandSpec::new("lrem", 4, WRITE, lrem)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "1.0.0",
            "Remove elements from a list",
            "O(N+M) where N is the length of the list and M is the number of elements removed.",
        )
        .syntax("key count element"),
    CommandSpec::new("ltrim", 4, WRITE, ltrim)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "1.0.0",
            "Trim a list to the specified range",
            "O(N) where N is the number of elements to be removed by the operation.",
        )
        .syntax("key start stop"),
    CommandSpec::new("lpos", -3, READONLY, lpos)
        .keys(1, 1, 1)
        .group("list")
        .doc(
            "6.0.6",
            "Return the index of matching elements on a list",
            "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
        )
        .syntax("key element [RANK rank] [COUNT num-matches] [MAXLEN len]"),
    CommandSpec::new("lmove", 5, WRITE | DENYOOM, lmove)
        .keys(1, 2, 1)
        .group("list")
        .doc(
            "6.2.0",
            "Pop an element from a list, push it to another list and return it",
            "O(1)",
        )
        .syntax("source destination <LEFT | RIGHT> <LEFT | RIGHT>"),
    CommandSpec::new("rpoplpush", 3, WRITE | DENYOOM, rpoplpush)
        .keys(1, 2, 1)
        .group("list")
        .doc(
            "1.2.0",
            "Remove the last element in a list, prepend it to another list and return it",
            "O(1)",
        )
        .syntax("source destination"),
    CommandSpec::new("lmpop", -4, WRITE | MOVABLEKEYS, lmpop)
        .keys(0, 0, 0)
        .group("list")
        .doc(
            "7.0.0",
            "Pop elements from a list",
            "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        )
        .syntax("numkeys key [key ...] <LEFT | RIGHT> [COUNT count]"),
];

#[cfg(test)]
mod tests {
    use crate::cmd::testkit::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};
    use rill_protocol::{Reply, RespVersion};
    use std::collections::VecDeque;

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn push_pop_and_delete_when_empty() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["RPUSH", "l", "a", "b", "c"]), int(3));
        assert_eq!(t.run(&["LPUSH", "l", "z"]), int(4));
        assert_eq!(
            t.run(&["LRANGE", "l", "0", "-1"]),
            arr(&["z", "a", "b", "c"])
        );
        assert_eq!(t.run(&["LPOP", "l"]), bulk("z"));
        assert_eq!(t.run(&["RPOP", "l", "2"]), arr(&["c", "b"]));
        assert_eq!(t.run(&["LPOP", "l", "0"]), arr(&[]));
        assert_eq!(t.run(&["LPOP", "l", "5"]), arr(&["a"]));
        assert_eq!(t.run(&["EXISTS", "l"]), int(0));
        assert_eq!(t.run(&["LPOP", "l"]), Reply::Null);
        assert_eq!(t.run(&["LPOP", "l", "2"]), Reply::NullArray);
        assert_eq!(t.run(&["LPOP", "l", "0"]), Reply::NullArray);
        assert_eq!(t.run(&["LPUSHX", "l", "a"]), int(0));
        assert_eq!(t.run(&["EXISTS", "l"]), int(0));
        assert_eq!(
            t.run(&["LPOP", "l", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            t.run(&["LPOP", "l", "1", "2"]),
            err("ERR wrong number of arguments for 'lpop' command")
        );
    }

    #[test]
    fn errors_match_redis() {
        let mut t = TestDb::new();
        t.run(&["SET", "s", "x"]);
        t.run(&["RPUSH", "l", "a", "b", "a"]);
        for cmd in [
            &["LPUSH", "s", "a"][..],
            &["LRANGE", "s", "0", "1"],
            &["LLEN", "s"],
            &["LPOP", "s", "0"],
            &["LSET", "s", "x", "x"],
            &["LMOVE", "l", "s", "LEFT", "LEFT"],
        ] {
            assert_eq!(t.run(cmd), err(WRONGTYPE), "{cmd:?}");
        }
        assert_eq!(t.run(&["LSET", "nokey", "x", "v"]), err("ERR no such key"));
        assert_eq!(
            t.run(&["LSET", "l", "3", "v"]),
            err("ERR index out of range")
        );
        assert_eq!(
            t.run(&["LSET", "l", "x", "v"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(t.run(&["LINDEX", "nokey", "x"]), Reply::Null);
        assert_eq!(
            t.run(&["LINSERT", "l", "middle", "a", "x"]),
            err("ERR syntax error")
        );
        assert!(t
            .resp(&["LPOS", "l", "a", "RANK", "0"])
            .starts_with("-ERR RANK can't be zero"));
        assert_eq!(
            t.run(&["LPOS", "l", "a", "COUNT", "-1"]),
            err("ERR COUNT can't be negative")
        );
        assert_eq!(
            t.run(&["LPOS", "l", "a", "MAXLEN", "x"]),
            err("ERR MAXLEN can't be negative")
        );
        assert_eq!(t.run(&["LPOS", "l", "a", "RANK"]), err("ERR syntax error"));
        assert_eq!(
            t.run(&["LMPOP", "0", "l", "LEFT"]),
            err("ERR numkeys should be greater than 0")
        );
        assert_eq!(t.run(&["LMPOP", "2", "l", "LEFT"]), err("ERR syntax error"));
        assert_eq!(
            t.run(&["LMPOP", "9223372036854775807", "l", "LEFT"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["LMPOP", "1", "l", "LEFT", "COUNT", "0"]),
            err("ERR count should be greater than 0")
        );
        assert_eq!(
            t.run(&["LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn lpos_options() {
        let mut t = TestDb::new();
        t.run(&["RPUSH", "l", "a", "b", "c", "a", "b", "a"]);
        assert_eq!(t.run(&["LPOS", "l", "a"]), int(0));
        assert_eq!(t.run(&["LPOS", "l", "a", "RANK", "-1"]), int(5));
        assert_eq!(t.run(&["LPOS", "l", "a", "RANK", "2"]), int(3));
        assert_eq!(
            t.run(&["LPOS", "l", "a", "COUNT", "0"]),
            Reply::Array(vec![int(0), int(3), int(5)])
        );
        assert_eq!(
            t.run(&["LPOS", "l", "a", "RANK", "-1", "COUNT", "2"]),
            Reply::Array(vec![int(5), int(3)])
        );
        assert_eq!(
            t.run(&["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "4"]),
            Reply::Array(vec![int(0), int(3)])
        );
        assert_eq!(t.run(&["LPOS", "l", "z"]), Reply::Null);
        assert_eq!(t.run(&["LPOS", "l", "z", "COUNT", "1"]), arr(&[]));
        // Redis negates LONG_MIN in C: it stays negative and matches from the tail.
        assert_eq!(
            t.run(&["LPOS", "l", "a", "RANK", "-9223372036854775808"]),
            int(5)
        );
    }

    #[test]
    fn lmove_and_lmpop() {
        let mut t = TestDb::new();
        t.run(&["RPUSH", "a", "1", "2", "3"]);
        assert_eq!(t.run(&["LMOVE", "a", "b", "LEFT", "RIGHT"]), bulk("1"));
        assert_eq!(t.run(&["RPOPLPUSH", "a", "b"]), bulk("3"));
        assert_eq!(t.run(&["LRANGE", "b", "0", "-1"]), arr(&["3", "1"]));
        assert_eq!(t.run(&["LMOVE", "a", "a", "LEFT", "RIGHT"]), bulk("2"));
        assert_eq!(t.run(&["LRANGE", "a", "0", "-1"]), arr(&["2"]));
        assert_eq!(
            t.run(&["LMOVE", "nokey", "b", "LEFT", "RIGHT"]),
            Reply::Null
        );
        assert_eq!(
            t.run(&["LMOVE", "a", "b", "UP", "RIGHT"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["LMPOP", "2", "nokey", "b", "RIGHT", "COUNT", "5"]),
            Reply::Array(vec![bulk("b"), arr(&["1", "3"])])
        );
        assert_eq!(t.run(&["EXISTS", "b"]), int(0));
        assert_eq!(t.run(&["LMPOP", "1", "b", "LEFT"]), Reply::NullArray);
    }

    #[test]
    fn null_shapes_in_resp3() {
        let mut t = TestDb::new();
        t.client.resp = RespVersion::Resp3;
        assert_eq!(t.run(&["LPOP", "nokey", "1"]), Reply::NullArray);
        assert_eq!(t.run(&["LPOP", "nokey"]), Reply::Null);
    }

    #[test]
    fn dirty_counts_elements() {
        let mut t = TestDb::new();
        let before = t.shared.state.lock().store.dirty;
        t.run(&["RPUSH", "l", "a", "b", "c"]);
        t.run(&["LPOP", "l", "2"]);
        t.run(&["LPOP", "nokey", "2"]);
        assert_eq!(t.shared.state.lock().store.dirty - before, 5);
    }

    fn strs(v: &VecDeque<String>, a: usize, b: usize) -> Reply {
        Reply::Array(v.range(a..=b).map(|s| bulk(s)).collect())
    }

    /// Random operations checked against a VecDeque mirror.
    #[test]
    fn model_random_ops() {
        let mut rng = SmallRng::seed_from_u64(7);
        let mut t = TestDb::new();
        let mut m: VecDeque<String> = VecDeque::new();
        for step in 0..4000 {
            let v = format!("v{}", rng.gen_range(0..8));
            let len = m.len() as i64;
            let i = rng.gen_range(-len - 2..=len + 2);
            let j = rng.gen_range(-len - 2..=len + 2);
            let (is, js) = (i.to_string(), j.to_string());
            match rng.gen_range(0..11) {
                0 => {
                    assert_eq!(t.run(&["LPUSH", "k", &v]), int(len + 1));
                    m.push_front(v);
                }
                1 | 2 => {
                    assert_eq!(t.run(&["RPUSH", "k", &v, "x"]), int(len + 2));
                    m.push_back(v);
                    m.push_back("x".into());
                }
                3 => {
                    let n = rng.gen_range(1..4usize);
                    let got = t.run(&["LPOP", "k", &n.to_string()]);
                    if m.is_empty() {
                        assert_eq!(got, Reply::NullArray);
                    } else {
                        let want: Vec<Reply> = (0..n)
                            .filter_map(|_| m.pop_front())
                            .map(|s| bulk(&s))
                            .collect();
                        assert_eq!(got, Reply::Array(want), "step {step}");
                    }
                }
                4 => {
                    let want = m.pop_back().map_or(Reply::Null, |s| bulk(&s));
                    assert_eq!(t.run(&["RPOP", "k"]), want);
                }
                5 => {
                    let want = match crate::db::list::range_bounds(i, j, m.len()) {
                        Some((a, b)) => strs(&m, a, b),
                        None => arr(&[]),
                    };
                    assert_eq!(t.run(&["LRANGE", "k", &is, &js]), want);
                }
                6 => {
                    let want =
                        crate::db::list::index(i, m.len()).map_or(Reply::Null, |p| bulk(&m[p]));
                    assert_eq!(t.run(&["LINDEX", "k", &is]), want);
                }
                7 => {
                    let got = t.run(&["LSET", "k", &is, &v]);
                    if m.is_empty() {
                        assert_eq!(got, err("ERR no such key"));
                    } else if let Some(p) = crate::db::list::index(i, m.len()) {
                        assert_eq!(got, Reply::ok());
                        m[p] = v;
                    } else {
                        assert_eq!(got, err("ERR index out of range"));
                    }
                }
                8 => {
                    let c = rng.gen_range(-2..=2i64);
                    let mut removed = 0;
                    let limit = if c == 0 {
                        usize::MAX
                    } else {
                        c.unsigned_abs() as usize
                    };
                    let idx: Vec<usize> = if c < 0 {
                        (0..m.len()).rev().collect()
                    } else {
                        (0..m.len()).collect()
                    };
                    let mut kill = vec![];
                    for p in idx {
                        if removed < limit && m[p] == v {
                            kill.push(p);
                            removed += 1;
                        }
                    }
                    kill.sort_unstable();
                    for p in kill.into_iter().rev() {
                        m.remove(p);
                    }
                    assert_eq!(
                        t.run(&["LREM", "k", &c.to_string(), &v]),
                        int(removed as i64)
                    );
                }
                9 => {
                    assert_eq!(t.run(&["LTRIM", "k", &is, &js]), Reply::ok());
                    m = match crate::db::list::range_bounds(i, j, m.len()) {
                        Some((a, b)) => m.range(a..=b).cloned().collect(),
                        None => VecDeque::new(),
                    };
                }
                _ => {
                    let got = t.run(&["LINSERT", "k", "BEFORE", &v, "ins"]);
                    if m.is_empty() {
                        assert_eq!(got, int(0));
                    } else if let Some(p) = m.iter().position(|e| *e == v) {
                        m.insert(p, "ins".into());
                        assert_eq!(got, int(m.len() as i64));
                    } else {
                        assert_eq!(got, int(-1));
                    }
                }
            }
            let exists = t.run(&["EXISTS", "k"]);
            assert_eq!(exists, int(!m.is_empty() as i64), "step {step}");
            assert_eq!(t.run(&["LLEN", "k"]), int(m.len() as i64));
        }
    }
}

/// What the list commands propagate, checked against redis-server 7.0.15's AOF.
#[cfg(test)]
mod propagation_tests {
    use crate::cmd::testkit::TestDb;

    #[test]
    fn blocking_and_multi_key_pops_propagate_as_plain_pops() {
        let mut t = TestDb::new().propagating();
        for c in [
            &["rpush", "l", "a", "b", "c", "d", "e"][..],
            &["blpop", "nokey", "l", "0"],
            &["brpop", "l", "0"],
            &["blmove", "l", "l2", "left", "right", "0"],
            &["brpoplpush", "l", "l2", "0"],
            &["blmpop", "0", "2", "x", "l", "left", "count", "5"],
            &["lmpop", "1", "l2", "right", "count", "1"],
            &["lmpop", "1", "l2", "left"],
            &["lmpop", "1", "nokey", "left"],
            &["lpush", "l3", "x"],
            &["lpop", "l3", "5"],
            &["lpop", "l3"],
            &["lpushx", "l3", "y"],
            &["rpush", "l", "a"],
            &["ltrim", "l", "0", "-1"],
            &["lrem", "l", "0", "zz"],
            &["linsert", "l", "before", "zz", "y"],
            &["lset", "l", "0", "b"],
        ] {
            t.run(c);
        }
        assert_eq!(
            t.take_propagated(),
            [
                "rpush l a b c d e",
                "LPOP l",
                "RPOP l",
                "LMOVE l l2 left right",
                "RPOPLPUSH l l2",
                "LPOP l 1",
                "RPOP l2 1",
                "LPOP l2 1",
                "lpush l3 x",
                "lpop l3 5",
                "rpush l a",
                "lset l 0 b",
            ]
        );
    }

    #[test]
    fn a_blocking_pop_that_blocks_propagates_nothing() {
        let mut t = TestDb::new().propagating();
        t.run(&["blpop", "nokey", "0"]);
        t.client.blocked = None;
        t.run(&["blmove", "nokey", "l2", "left", "right", "0"]);
        t.client.blocked = None;
        assert!(t.take_propagated().is_empty());
    }
}
