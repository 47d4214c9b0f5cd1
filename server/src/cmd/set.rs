//! Set commands: SADD, SREM, SPOP, SRANDMEMBER, SINTER/SUNION/SDIFF(STORE), SINTERCARD,
//! SSCAN, ... Error texts and reply shapes follow Redis 7.0's t_set.c.

use super::*;
use crate::db::set::{self as ds, Set};
use crate::db::{glob::glob_match, Db, SBytes, Value};
use rand::seq::SliceRandom;
use rand::Rng;

/// Most elements SRANDMEMBER/HRANDFIELD with a negative count reply. Redis streams any
/// count (and exhausts memory on absurd ones); Rill builds replies in memory, so it
/// refuses counts beyond this with "ERR value is out of range".
pub const MAX_RANDOM_REPLY: u64 = 1 << 24;

fn set_write<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a mut Set>, CmdError> {
    match db.get_mut(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

fn set_read<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a Set>, CmdError> {
    match db.get(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

fn bulk(s: &SBytes) -> Reply {
    Reply::bulk_slice(s)
}

/// A set-typed reply (`~` in RESP3) in Redis's member order.
fn set_reply<'a>(members: impl Iterator<Item = &'a SBytes>) -> Reply {
    let mut v: Vec<&SBytes> = members.collect();
    ds::sort_if_intset(&mut v);
    Reply::Set(v.into_iter().map(bulk).collect())
}

/// ```text
/// SADD key member [member ...]
/// ```
fn sadd(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let db = ctx.db();
    let added = match set_write(db, key)? {
        Some(s) => argv[2..]
            .iter()
            .filter(|m| s.insert(SBytes::new(m)))
            .count(),
        None => {
            let s: Set = argv[2..].iter().map(SBytes::from).collect();
            let n = s.len();
            db.insert_new(key, Value::Set(Box::new(s)));
            n
        }
    };
    if added > 0 {
        ctx.db().signal_modified(key);
        ctx.notify(NOTIFY_SET, "sadd", key);
    }
    ctx.dirty(added as u64);
    Ok(Reply::Int(added as i64))
}

/// ```text
/// SREM key member [member ...]
/// ```
fn srem(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(s) = set_write(ctx.db(), key)? else {
        return Ok(Reply::Int(0));
    };
    let mut removed = 0;
    for m in &argv[2..] {
        if s.swap_remove(&m[..]) {
            removed += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    let empty = s.is_empty();
    if removed > 0 {
        ctx.notify(NOTIFY_SET, "srem", key);
        if empty {
            ctx.db().remove(key);
            ctx.notify(NOTIFY_GENERIC, "del", key);
        }
        ctx.db().signal_modified(key);
        ctx.dirty(removed);
    }
    Ok(Reply::Int(removed as i64))
}

/// ```text
/// SMEMBERS key
/// ```
fn smembers(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    Ok(match set_read(ctx.db(), &argv[1])? {
        Some(s) => set_reply(s.iter()),
        None => Reply::Set(Vec::new()),
    })
}

/// ```text
/// SISMEMBER key member
/// ```
fn sismember(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let hit = set_read(ctx.db(), &argv[1])?.is_some_and(|s| s.contains(&argv[2][..]));
    Ok(Reply::Int(hit as i64))
}

/// ```text
/// SMISMEMBER key member [member ...]
/// ```
fn smismember(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let s = set_read(ctx.db(), &argv[1])?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|m| Reply::Int(s.is_some_and(|s| s.contains(&m[..])) as i64))
            .collect(),
    ))
}

/// ```text
/// SCARD key
/// ```
fn scard(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let n = set_read(ctx.db(), &argv[1])?.map_or(0, |s| s.len());
    Ok(Reply::Int(n as i64))
}

/// Removes and returns a uniformly random member.
fn pop_random(s: &mut Set, rng: &mut impl Rng) -> Option<SBytes> {
    if s.is_empty() {
        return None;
    }
    let i = rng.gen_range(0..s.len());
    s.swap_remove_index(i)
}

/// ```text
/// SPOP key [count]
/// ```
fn spop(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let key = &argv[1];
    let mut rng = rand::thread_rng();
    if argv.len() == 2 {
        let Some(s) = set_write(ctx.db(), key)? else {
            return Ok(Reply::Null);
        };
        let v = pop_random(s, &mut rng);
        let empty = s.is_empty();
        ctx.notify(NOTIFY_SET, "spop", key);
        if empty {
            ctx.db().remove(key);
            ctx.notify(NOTIFY_GENERIC, "del", key);
        }
        ctx.db().signal_modified(key);
        ctx.dirty(1);
        // spopCommand: replicated as `SREM key <member>`.
        if let Some(m) = &v {
            ctx.propagate_as(vec![
                Bytes::from_static(b"SREM"),
                key.clone(),
                Bytes::copy_from_slice(m),
            ]);
        }
        return Ok(v.as_ref().map(bulk).unwrap_or(Reply::Null));
    }
    let count = positive_arg(&argv[2], "value is out of range, must be positive")
        .map_err(|_| CmdError::err("value is out of range, must be positive"))?;
    let Some(s) = set_write(ctx.db(), key)? else {
        return Ok(Reply::Set(Vec::new()));
    };
    if count == 0 {
        return Ok(Reply::Set(Vec::new()));
    }
    let count = count as u64;
    if count >= s.len() as u64 {
        let reply = set_reply(s.iter());
        ctx.notify(NOTIFY_SET, "spop", key);
        ctx.db().remove(key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
        ctx.dirty(1);
        // spopWithCountCommand, whole set: replicated as DEL.
        ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key.clone()]);
        return Ok(reply);
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut popped = Vec::with_capacity(count as usize);
    for _ in 0..count {
        if let Some(m) = pop_random(s, &mut rng) {
            out.push(bulk(&m));
            popped.push(m);
        }
    }
    // spopWithCountCommand: one `SREM key <member>` per popped member (alsoPropagate),
    // the SPOP itself is not propagated.
    for m in &popped {
        ctx.propagate_as(vec![
            Bytes::from_static(b"SREM"),
            key.clone(),
            Bytes::copy_from_slice(m),
        ]);
    }
    ctx.notify(NOTIFY_SET, "spop", key);
    ctx.db().signal_modified(key);
    ctx.dirty(count);
    Ok(Reply::Set(out))
}

/// Parses SRANDMEMBER/HRANDFIELD's count: any i64 but LONG_MIN, as Redis's
/// getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX).
pub fn random_count(arg: &[u8]) -> Result<i64, CmdError> {
    let v = int_arg(arg)?;
    if v == i64::MIN {
        return Err(CmdError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    Ok(v)
}

/// ```text
/// SRANDMEMBER key [count]
/// ```
fn srandmember(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let mut rng = rand::thread_rng();
    if argv.len() == 2 {
        let Some(s) = set_read(ctx.db(), &argv[1])? else {
            return Ok(Reply::Null);
        };
        if s.is_empty() {
            return Ok(Reply::Null);
        }
        let i = rng.gen_range(0..s.len());
        return Ok(s.get_index(i).map(bulk).unwrap_or(Reply::Null));
    }
    let l = random_count(&argv[2])?;
    let Some(s) = set_read(ctx.db(), &argv[1])? else {
        return Ok(Reply::Array(Vec::new()));
    };
    if l == 0 || s.is_empty() {
        return Ok(Reply::Array(Vec::new()));
    }
    if l < 0 {
        let n = l.unsigned_abs();
        if n > MAX_RANDOM_REPLY {
            return Err(CmdError::err("value is out of range"));
        }
        let members: Vec<Reply> = s.iter().map(bulk).collect();
        let out = (0..n)
            .map(|_| members[rng.gen_range(0..members.len())].clone())
            .collect();
        return Ok(Reply::Array(out));
    }
    let n = l as u64;
    if n >= s.len() as u64 {
        return Ok(Reply::Array(
            ds::reply_order(s).into_iter().map(bulk).collect(),
        ));
    }
    let mut idx: Vec<usize> = rand::seq::index::sample(&mut rng, s.len(), n as usize).into_vec();
    idx.shuffle(&mut rng);
    Ok(Reply::Array(
        idx.into_iter()
            .filter_map(|i| s.get_index(i))
            .map(bulk)
            .collect(),
    ))
}

/// ```text
/// SMOVE source destination member
/// ```
fn smove(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let (src, dst, member) = (&argv[1], &argv[2], &argv[3][..]);
    let src_exists = set_write(ctx.db(), src).map(|s| s.is_some());
    let dst_check = set_write(ctx.db(), dst).map(|s| s.is_some());
    if matches!(src_exists, Ok(false)) {
        return Ok(Reply::Int(0));
    }
    src_exists?;
    let dst_exists = dst_check?;
    if src == dst {
        let hit = set_read(ctx.db(), src)?.is_some_and(|s| s.contains(member));
        return Ok(Reply::Int(hit as i64));
    }
    let Some(s) = set_write(ctx.db(), src)? else {
        return Ok(Reply::Int(0));
    };
    if !s.swap_remove(member) {
        return Ok(Reply::Int(0));
    }
    let empty = s.is_empty();
    ctx.notify(NOTIFY_SET, "srem", src);
    if empty {
        ctx.db().remove(src);
        ctx.notify(NOTIFY_GENERIC, "del", src);
    }
    let db = ctx.db();
    if !dst_exists {
        db.insert_new(dst, Value::Set(Box::default()));
    }
    db.signal_modified(src);
    ctx.dirty(1);
    let added = match set_write(ctx.db(), dst)? {
        Some(d) => d.insert(SBytes::new(member)),
        None => false,
    };
    if added {
        ctx.dirty(1);
        ctx.db().signal_modified(dst);
        ctx.notify(NOTIFY_SET, "sadd", dst);
    }
    Ok(Reply::Int(1))
}

/// Looks up every key as a set (missing = `None`), failing on the first wrong type
/// after expiring and counting each lookup. Returns the keys' positions for borrowing.
fn load_sets(db: &mut Db, keys: &[Bytes], write: bool) -> Result<Vec<bool>, CmdError> {
    let mut present = Vec::with_capacity(keys.len());
    for k in keys {
        let p = if write {
            set_write(db, k)?.is_some()
        } else {
            set_read(db, k)?.is_some()
        };
        present.push(p);
    }
    Ok(present)
}

/// Borrowed views of sets already checked by [`load_sets`].
fn views<'a>(db: &'a Db, keys: &[Bytes]) -> Vec<Option<&'a Set>> {
    keys.iter()
        .map(|k| match db.keys.get(&k[..]).map(|e| &e.value) {
            Some(Value::Set(s)) => Some(&**s),
            _ => None,
        })
        .collect()
}

/// The intersection, visiting the smallest set; stops at `limit` members (0 = no limit).
fn intersect(sets: &[Option<&Set>], limit: usize) -> Vec<SBytes> {
    let mut sets: Vec<&Set> = match sets.iter().copied().collect::<Option<Vec<&Set>>>() {
        Some(v) => v,
        None => return Vec::new(),
    };
    sets.sort_by_key(|s| s.len());
    let Some((first, rest)) = sets.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in first.iter() {
        if rest.iter().all(|s| s.contains(m)) {
            out.push(m.clone());
            if limit != 0 && out.len() >= limit {
                break;
            }
        }
    }
    out
}

fn union(sets: &[Option<&Set>]) -> Set {
    let mut out = Set::default();
    for s in sets.iter().flatten() {
        out.extend(s.iter().cloned());
    }
    out
}

fn diff(sets: &[Option<&Set>]) -> Set {
    let Some(Some(first)) = sets.first() else {
        return Set::default();
    };
    first
        .iter()
        .filter(|m| !sets[1..].iter().flatten().any(|s| s.contains(*m)))
        .cloned()
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Inter,
    Union,
    Diff,
}

fn compute(ctx: &mut Ctx, keys: &[Bytes], op: SetOp, write: bool) -> Result<Set, CmdError> {
    let db = ctx.db();
    load_sets(db, keys, write)?;
    let v = views(db, keys);
    Ok(match op {
        SetOp::Inter => intersect(&v, 0).into_iter().collect(),
        SetOp::Union => union(&v),
        SetOp::Diff => diff(&v),
    })
}

fn read_op(ctx: &mut Ctx, argv: &[Bytes], op: SetOp) -> CmdResult {
    let result = compute(ctx, &argv[1..], op, false)?;
    Ok(set_reply(result.iter()))
}

fn store_op(ctx: &mut Ctx, argv: &[Bytes], op: SetOp, event: &str) -> CmdResult {
    let dst = &argv[1];
    let result = compute(ctx, &argv[2..], op, true)?;
    let n = result.len();
    if n > 0 {
        ctx.db().set(dst, Value::Set(Box::new(result)), false);
        ctx.notify(NOTIFY_SET, event, dst);
        ctx.dirty(1);
    } else if ctx.db().remove(dst).is_some() {
        ctx.notify(NOTIFY_GENERIC, "del", dst);
        ctx.dirty(1);
    }
    Ok(Reply::Int(n as i64))
}

/// ```text
/// SINTER key [key ...]
/// ```
fn sinter(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    read_op(ctx, argv, SetOp::Inter)
}

/// ```text
/// SUNION key [key ...]
/// ```
fn sunion(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    read_op(ctx, argv, SetOp::Union)
}

/// ```text
/// SDIFF key [key ...]
/// ```
fn sdiff(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    read_op(ctx, argv, SetOp::Diff)
}

/// ```text
/// SINTERSTORE destination key [key ...]
/// ```
fn sinterstore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    store_op(ctx, argv, SetOp::Inter, "sinterstore")
}

/// ```text
/// SUNIONSTORE destination key [key ...]
/// ```
fn sunionstore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    store_op(ctx, argv, SetOp::Union, "sunionstore")
}

/// ```text
/// SDIFFSTORE destination key [key ...]
/// ```
fn sdiffstore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    store_op(ctx, argv, SetOp::Diff, "sdiffstore")
}

/// ```text
/// SINTERCARD numkeys key [key ...] [LIMIT limit]
/// ```
fn sintercard(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let numkeys = match rill_protocol::fmt::parse_i64(&argv[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    if numkeys > (argv.len() - 2) as u64 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let end = 2 + numkeys as usize;
    let mut limit: u64 = 0;
    let mut j = end;
    while j < argv.len() {
        if eq_ic(&argv[j], "limit") && j + 1 < argv.len() {
            limit = match rill_protocol::fmt::parse_i64(&argv[j + 1]) {
                Some(n) if n >= 0 => n as u64,
                _ => return Err(CmdError::err("LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let keys = &argv[2..end];
    let db = ctx.db();
    load_sets(db, keys, false)?;
    let v = views(db, keys);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok(Reply::Int(intersect(&v, limit).len() as i64))
}

/// ```text
/// SSCAN key cursor [MATCH pattern] [COUNT count]
/// ```
fn sscan(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    cursor_arg(&argv[2])?;
    let Some(s) = set_read(ctx.db(), &argv[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let args = parse_scan(argv, 2, false)?;
    let keep = |m: &SBytes| match &args.pattern {
        Some(p) => glob_match(p, m, false),
        None => true,
    };
    if ds::is_intset(s.len(), s.iter()) {
        // An intset is returned whole, in order, as Redis does.
        let items = ds::reply_order(s)
            .into_iter()
            .filter(|m| keep(m))
            .map(bulk)
            .collect();
        return Ok(scan_reply(0, items));
    }
    let mut items = Vec::new();
    let next = ds::scan(s, args.cursor, args.count, |m| {
        if keep(m) {
            items.push(bulk(m));
        }
    });
    Ok(scan_reply(next, items))
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, WRITE | DENYOOM | FAST, sadd)
        .keys(1, 1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Add one or more members to a set",
            "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        )
        .syntax("key member [member ...]"),
    CommandSpec::new("srem", -3, WRITE | FAST, srem)
        .keys(1, 1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Remove one or more members from a set",
            "O(N) where N is the number of members to be removed.",
        )
        .syntax("key member [member ...]"),
    CommandSpec::new("smembers", 2, READONLY, smembers)
        .keys(1, 1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Get all the members in a set",
            "O(N) where N is the set cardinality.",
        )
        .syntax("key"),
    CommandSpec::new("sismember", 3, READONLY | FAST, sismember)
        .keys(1, 1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Determine if a given value is a member of a set",
            "O(1)",
        )
        .syntax("key member"),
    CommandSpec::new("smismember", -3, READONLY | FAST, smismember)
        .keys(1, 1, 1)
        .group("set")
        .doc(
            "6.2.0",
            "Returns the membership associated with the given elements for a set",
            "O(N) where N is the number of elements being checked for membership",
        )
        .syntax("key member [member ...]"),
    CommandSpec::new("scard", 2, READONLY | FAST, scard)
        .keys(1, 1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Get the number of members in a set",
            "O(1)",
        )
        .syntax("key"),
    CommandSpec::new("spop", -2, WRITE | FAST, spop)
        .keys(1, 1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Remove and return one or multiple random members from a set",
            "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        )
        .syntax("key [count]"),
    CommandSpec::new("srandmember", -2, READONLY, srandmember)
        .keys(1, 1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Get one or multiple random members from a set",
            "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        )
        .syntax("key [count]"),
    CommandSpec::new("smove", 4, WRITE | FAST, smove)
        .keys(1, 2, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Move a member from one set to another",
            "O(1)",
        )
        .syntax("source destination member"),
    CommandSpec::new("sinter", -2, READONLY, sinter)
        .keys(1, -1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Intersect multiple sets",
            "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        )
        .syntax("key [key ...]"),
    CommandSpec::new("sunion", -2, READONLY, sunion)
        .keys(1, -1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Add multiple sets",
            "O(N) where N is the total number of elements in all given sets.",
        )
        .syntax("key [key ...]"),
    CommandSpec::new("sdiff", -2, READONLY, sdiff)
        .keys(1, -1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Subtract multiple sets",
            "O(N) where N is the total number of elements in all given sets.",
        )
        .syntax("key [key ...]"),
    CommandSpec::new("sinterstore", -3, WRITE | DENYOOM, sinterstore)
        .keys(1, -1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Intersect multiple sets and store the resulting set in a key",
            "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        )
        .syntax("destination key [key ...]"),
    CommandSpec::new("sunionstore", -3, WRITE | DENYOOM, sunionstore)
        .keys(1, -1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Add multiple sets and store the resulting set in a key",
            "O(N) where N is the total number of elements in all given sets.",
        )
        .syntax("destination key [key ...]"),
    CommandSpec::new("sdiffstore", -3, WRITE | DENYOOM, sdiffstore)
        .keys(1, -1, 1)
        .group("set")
        .doc(
            "1.0.0",
            "Subtract multiple sets and store the resulting set in a key",
            "O(N) where N is the total number of elements in all given sets.",
        )
        .syntax("destination key [key ...]"),
    CommandSpec::new("sintercard", -3, READONLY | MOVABLEKEYS, sintercard)
        .keys(0, 0, 0)
        .group("set")
        .doc(
            "7.0.0",
            "Intersect multiple sets and return the cardinality of the result",
            "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        )
        .syntax("numkeys key [key ...] [LIMIT limit]"),
    CommandSpec::new("sscan", -3, READONLY, sscan)
        .keys(1, 1, 1)
        .group("set")
        .doc(
            "2.8.0",
            "Incrementally iterate Set elements",
            "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        )
        .syntax("key cursor [MATCH pattern] [COUNT count]"),
];

#[cfg(test)]
mod tests {
    use crate::cmd::testkit::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};
    use rill_protocol::Reply;
    use std::collections::HashSet;

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    fn members(r: Reply) -> HashSet<String> {
        let items = match r {
            Reply::Set(v) | Reply::Array(v) => v,
            other => panic!("not a collection: {other:?}"),
        };
        items
            .into_iter()
            .map(|i| match i {
                Reply::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
                other => panic!("not bulk: {other:?}"),
            })
            .collect()
    }

    fn hs(items: &[&str]) -> HashSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn basics_and_delete_when_empty() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["SADD", "s", "a", "b", "a"]), int(2));
        assert_eq!(t.run(&["SCARD", "s"]), int(2));
        assert_eq!(t.run(&["SISMEMBER", "s", "a"]), int(1));
        assert_eq!(
            t.run(&["SMISMEMBER", "s", "a", "z"]),
            Reply::Array(vec![int(1), int(0)])
        );
        assert_eq!(t.run(&["SREM", "s", "a", "b", "c"]), int(2));
        assert_eq!(t.run(&["EXISTS", "s"]), int(0));
        assert_eq!(t.run(&["SMEMBERS", "s"]), Reply::Set(vec![]));
        t.run(&["SET", "str", "x"]);
        for cmd in [
            &["SADD", "str", "a"][..],
            &["SMEMBERS", "str"],
            &["SCARD", "str"],
            &["SPOP", "str", "0"],
            &["SRANDMEMBER", "str", "0"],
            &["SINTER", "nokey", "str"],
            &["SINTERCARD", "2", "nokey", "str"],
            &["SSCAN", "str", "0"],
        ] {
            assert_eq!(t.run(cmd), err(WRONGTYPE), "{cmd:?}");
        }
    }

    #[test]
    fn intsets_reply_in_numeric_order() {
        let mut t = TestDb::new();
        t.run(&["SADD", "s", "10", "-3", "2"]);
        assert_eq!(
            t.run(&["SMEMBERS", "s"]),
            Reply::Set(vec![bulk("-3"), bulk("2"), bulk("10")])
        );
        assert_eq!(
            t.run(&["SSCAN", "s", "0"]),
            Reply::Array(vec![bulk("0"), arr(&["-3", "2", "10"])])
        );
    }

    #[test]
    fn spop_and_srandmember_counts() {
        let mut t = TestDb::new();
        t.run(&["SADD", "s", "a", "b", "c", "d"]);
        assert_eq!(t.run(&["SPOP", "s", "0"]), Reply::Set(vec![]));
        assert_eq!(t.run(&["SPOP", "nokey", "2"]), Reply::Set(vec![]));
        assert_eq!(t.run(&["SPOP", "nokey"]), Reply::Null);
        assert_eq!(
            t.run(&["SPOP", "s", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(t.run(&["SPOP", "s", "1", "2"]), err("ERR syntax error"));
        let popped = members(t.run(&["SPOP", "s", "3"]));
        assert_eq!(popped.len(), 3);
        assert_eq!(t.run(&["SCARD", "s"]), int(1));
        let rest = members(t.run(&["SMEMBERS", "s"]));
        assert!(popped.is_disjoint(&rest));
        t.run(&["SADD", "s", "a", "b", "c", "d"]);
        assert_eq!(
            members(t.run(&["SRANDMEMBER", "s", "10"])),
            hs(&["a", "b", "c", "d"])
        );
        let two = members(t.run(&["SRANDMEMBER", "s", "2"]));
        assert_eq!(two.len(), 2);
        match t.run(&["SRANDMEMBER", "s", "-50"]) {
            Reply::Array(v) => assert_eq!(v.len(), 50),
            other => panic!("{other:?}"),
        }
        assert_eq!(t.run(&["SRANDMEMBER", "nokey", "-5"]), arr(&[]));
        assert_eq!(t.run(&["SRANDMEMBER", "nokey"]), Reply::Null);
        assert_eq!(
            t.run(&["SRANDMEMBER", "s", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        // Absurd counts are refused instead of exhausting memory.
        assert_eq!(
            t.run(&["SRANDMEMBER", "s", "-999999999999"]),
            err("ERR value is out of range")
        );
        assert_eq!(members(t.run(&["SPOP", "s", "100"])).len(), 4);
        assert_eq!(t.run(&["EXISTS", "s"]), int(0));
    }

    #[test]
    fn algebra_and_store() {
        let mut t = TestDb::new();
        t.run(&["SADD", "a", "1", "2", "3", "x"]);
        t.run(&["SADD", "b", "2", "3", "4", "x"]);
        assert_eq!(members(t.run(&["SINTER", "a", "b"])), hs(&["2", "3", "x"]));
        assert_eq!(members(t.run(&["SINTER", "a", "nokey"])), hs(&[]));
        assert_eq!(
            members(t.run(&["SUNION", "a", "b", "nokey"])),
            hs(&["1", "2", "3", "4", "x"])
        );
        assert_eq!(members(t.run(&["SDIFF", "a", "b"])), hs(&["1"]));
        assert_eq!(members(t.run(&["SDIFF", "nokey", "a"])), hs(&[]));
        assert_eq!(t.run(&["SINTERSTORE", "d", "a", "b"]), int(3));
        assert_eq!(members(t.run(&["SMEMBERS", "d"])), hs(&["2", "3", "x"]));
        assert_eq!(t.run(&["SDIFFSTORE", "d", "a", "a"]), int(0));
        assert_eq!(t.run(&["EXISTS", "d"]), int(0));
        t.run(&["SET", "d", "string"]);
        assert_eq!(t.run(&["SUNIONSTORE", "d", "a"]), int(4));
        assert_eq!(t.run(&["SCARD", "d"]), int(4));
        assert_eq!(t.run(&["SINTERCARD", "2", "a", "b"]), int(3));
        assert_eq!(t.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "2"]), int(2));
        assert_eq!(t.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "0"]), int(3));
        assert_eq!(
            t.run(&["SINTERCARD", "0", "a"]),
            err("ERR numkeys should be greater than 0")
        );
        assert_eq!(
            t.run(&["SINTERCARD", "3", "a", "b"]),
            err("ERR Number of keys can't be greater than number of args")
        );
        assert_eq!(
            t.run(&["SINTERCARD", "1", "a", "LIMIT", "-1"]),
            err("ERR LIMIT can't be negative")
        );
        assert_eq!(
            t.run(&["SINTERCARD", "1", "a", "FOO"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn smove_rules() {
        let mut t = TestDb::new();
        t.run(&["SADD", "a", "m"]);
        t.run(&["SET", "str", "x"]);
        assert_eq!(t.run(&["SMOVE", "nokey", "str", "m"]), int(0));
        assert_eq!(t.run(&["SMOVE", "a", "str", "m"]), err(WRONGTYPE));
        assert_eq!(t.run(&["SMOVE", "a", "a", "m"]), int(1));
        assert_eq!(t.run(&["SMOVE", "a", "a", "z"]), int(0));
        assert_eq!(t.run(&["SMOVE", "a", "b", "m"]), int(1));
        assert_eq!(t.run(&["EXISTS", "a"]), int(0));
        assert_eq!(t.run(&["SMEMBERS", "b"]), Reply::Set(vec![bulk("m")]));
    }

    #[test]
    fn sscan_walks_large_sets() {
        let mut t = TestDb::new();
        for i in 0..300 {
            t.run(&["SADD", "s", &format!("m{i}")]);
        }
        let mut seen = HashSet::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            calls += 1;
            let Reply::Array(parts) = t.run(&["SSCAN", "s", &cursor, "COUNT", "20"]) else {
                panic!()
            };
            let Reply::Bulk(c) = &parts[0] else { panic!() };
            cursor = String::from_utf8(c.to_vec()).unwrap();
            seen.extend(members(parts[1].clone()));
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 300);
        assert!(calls > 1);
        assert_eq!(t.run(&["SSCAN", "s", "x"]), err("ERR invalid cursor"));
        assert_eq!(
            t.run(&["SSCAN", "s", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        let Reply::Array(parts) = t.run(&["SSCAN", "s", "0", "MATCH", "m1?", "COUNT", "1000"])
        else {
            panic!()
        };
        assert_eq!(members(parts[1].clone()).len(), 10);
    }

    /// Random operations checked against a HashSet mirror.
    #[test]
    fn model_random_ops() {
        let mut rng = SmallRng::seed_from_u64(11);
        let mut t = TestDb::new();
        let mut a: HashSet<String> = HashSet::new();
        let mut b: HashSet<String> = HashSet::new();
        for step in 0..4000 {
            let m = format!("{}", rng.gen_range(0..40));
            let (k, mine) = if rng.gen_bool(0.5) {
                ("a", &mut a)
            } else {
                ("b", &mut b)
            };
            match rng.gen_range(0..8) {
                0 | 1 => {
                    let added = mine.insert(m.clone()) as i64;
                    assert_eq!(t.run(&["SADD", k, &m]), int(added));
                }
                2 => {
                    let removed = mine.remove(&m) as i64;
                    assert_eq!(t.run(&["SREM", k, &m]), int(removed));
                }
                3 => {
                    assert_eq!(t.run(&["SISMEMBER", k, &m]), int(mine.contains(&m) as i64));
                }
                4 => {
                    let n = rng.gen_range(0..4usize);
                    let got = members(t.run(&["SPOP", k, &n.to_string()]));
                    assert_eq!(got.len(), n.min(mine.len()), "step {step}");
                    for g in &got {
                        assert!(mine.remove(g));
                    }
                }
                5 => {
                    let want: HashSet<String> = a.intersection(&b).cloned().collect();
                    assert_eq!(members(t.run(&["SINTER", "a", "b"])), want);
                    assert_eq!(
                        t.run(&["SINTERCARD", "2", "a", "b"]),
                        int(want.len() as i64)
                    );
                }
                6 => {
                    let want: HashSet<String> = a.difference(&b).cloned().collect();
                    assert_eq!(members(t.run(&["SDIFF", "a", "b"])), want);
                }
                _ => {
                    let (src, dst) = if k == "a" { ("a", "b") } else { ("b", "a") };
                    let moved = if src == "a" {
                        a.remove(&m)
                    } else {
                        b.remove(&m)
                    };
                    if moved {
                        if dst == "a" {
                            a.insert(m.clone());
                        } else {
                            b.insert(m.clone());
                        }
                    }
                    assert_eq!(t.run(&["SMOVE", src, dst, &m]), int(moved as i64));
                }
            }
            assert_eq!(members(t.run(&["SMEMBERS", "a"])), a, "step {step}");
            assert_eq!(t.run(&["SCARD", "b"]), int(b.len() as i64));
            assert_eq!(
                t.run(&["EXISTS", "a", "b"]),
                int(!a.is_empty() as i64 + !b.is_empty() as i64)
            );
        }
    }
}

/// What the set commands propagate, checked against redis-server 7.0.15's AOF.
#[cfg(test)]
mod propagation_tests {
    use crate::cmd::testkit::TestDb;
    use rill_protocol::Reply;

    fn members(r: Reply) -> Vec<String> {
        match r {
            Reply::Bulk(b) => vec![String::from_utf8_lossy(&b).into_owned()],
            Reply::Set(v) | Reply::Array(v) => v.into_iter().flat_map(members).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn spop_propagates_srem_per_member_or_del() {
        let mut t = TestDb::new().propagating();
        t.run(&["sadd", "s", "a", "b", "c", "d", "e", "f", "g", "h"]);
        let one = members(t.run(&["spop", "s"]));
        let two = members(t.run(&["spop", "s", "2"]));
        t.run(&["spop", "s", "0"]);
        t.run(&["spop", "nokey", "3"]);
        let mut want = vec!["sadd s a b c d e f g h".to_string()];
        // A command emitting several commands is wrapped in MULTI/EXEC (Redis 7.0).
        want.extend(one.iter().map(|m| format!("SREM s {m}")));
        want.push("MULTI".into());
        want.extend(two.iter().map(|m| format!("SREM s {m}")));
        want.push("EXEC".into());
        assert_eq!(t.take_propagated(), want);
        t.run(&["spop", "s", "100"]);
        t.run(&["sadd", "s2", "a"]);
        t.run(&["spop", "s2"]);
        assert_eq!(t.take_propagated(), ["DEL s", "sadd s2 a", "SREM s2 a"]);
    }

    #[test]
    fn unchanged_set_writes_propagate_nothing() {
        let mut t = TestDb::new().propagating();
        for c in [
            &["sadd", "st", "a"][..],
            &["sadd", "st", "a"],
            &["srem", "st", "zz"],
            &["smove", "st", "st", "a"],
            &["smove", "st", "st2", "nob"],
            &["sinterstore", "dst", "nokey"],
            &["sunionstore", "dst", "st"],
            &["sinterstore", "dst", "nokey"],
        ] {
            t.run(c);
        }
        assert_eq!(
            t.take_propagated(),
            ["sadd st a", "sunionstore dst st", "sinterstore dst nokey"]
        );
    }
}
