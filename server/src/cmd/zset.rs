//! Sorted-set commands: ZADD, ZRANGE and friends, the ZUNION/ZINTER/ZDIFF family,
//! ZPOP/ZMPOP, ZRANDMEMBER and ZSCAN (Redis's t_zset.c). Blocking variants are not here.

use super::*;
use crate::db::set::Set;
use crate::db::zset::{LexBound, ZSet};
use crate::db::{Db, SBytes, Value};
use rill_protocol::RespVersion;

// ---------------------------------------------------------------------------------------
// Lookups

/// Read lookup (lookupKeyRead + checkType).
pub(crate) fn zread<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a ZSet>, CmdError> {
    match db.get(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Write lookup (lookupKeyWrite + checkType).
pub(crate) fn zwrite<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a mut ZSet>, CmdError> {
    match db.get_mut(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Deletes `key` if its zset became empty, notifying "del" as Redis does.
fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let empty = matches!(
        ctx.db().keys.get(key).map(|e| &e.value),
        Some(Value::ZSet(z)) if z.is_empty()
    );
    if empty {
        ctx.db().remove(key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
    empty
}

// ---------------------------------------------------------------------------------------
// Numbers

/// C's `strtod`: returns (value, bytes consumed, ERANGE). Consumed 0 means no conversion.
/// Accepts leading whitespace, a sign, `inf`/`infinity`/`nan`, hex (`0x1p3`) and decimal.
pub(crate) fn strtod(b: &[u8]) -> (f64, usize, bool) {
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let sign = |v: f64| if neg { -v } else { v };
    let rest = &b[i..];
    let starts =
        |w: &str| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes());
    if starts("infinity") {
        return (sign(f64::INFINITY), i + 8, false);
    }
    if starts("inf") {
        return (sign(f64::INFINITY), i + 3, false);
    }
    if starts("nan") {
        return (f64::NAN, i + 3, false);
    }
    let hexdig = |c: u8| (c as char).to_digit(16);
    if starts("0x")
        && (rest.get(2).and_then(|&c| hexdig(c)).is_some()
            || (rest.get(2) == Some(&b'.') && rest.get(3).and_then(|&c| hexdig(c)).is_some()))
    {
        let mut j = i + 2;
        let mut mant = 0f64;
        let mut exp: i64 = 0;
        while let Some(d) = b.get(j).and_then(|&c| hexdig(c)) {
            mant = mant * 16.0 + d as f64;
            j += 1;
        }
        if b.get(j) == Some(&b'.') {
            j += 1;
            while let Some(d) = b.get(j).and_then(|&c| hexdig(c)) {
                mant = mant * 16.0 + d as f64;
                exp -= 4;
                j += 1;
            }
        }
        if matches!(b.get(j), Some(b'p' | b'P')) {
            let mut k = j + 1;
            let mut eneg = false;
            if matches!(b.get(k), Some(b'+' | b'-')) {
                eneg = b[k] == b'-';
                k += 1;
            }
            if b.get(k).is_some_and(u8::is_ascii_digit) {
                let mut e: i64 = 0;
                while let Some(c) = b.get(k).filter(|c| c.is_ascii_digit()) {
                    e = (e * 10 + (c - b'0') as i64).min(1 << 20);
                    k += 1;
                }
                exp += if eneg { -e } else { e };
                j = k;
            }
        }
        let v = mant * 2f64.powi(exp.clamp(-4000, 4000) as i32);
        let erange = v.is_infinite() || (v == 0.0 && mant != 0.0);
        return (sign(v), j, erange);
    }
    let mut j = i;
    let int_start = j;
    while b.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    let int_part = &b[int_start..j];
    let mut frac: &[u8] = &[];
    if b.get(j) == Some(&b'.') {
        let fs = j + 1;
        let mut k = fs;
        while b.get(k).is_some_and(u8::is_ascii_digit) {
            k += 1;
        }
        if !int_part.is_empty() || k > fs {
            frac = &b[fs..k];
            j = k;
        }
    }
    if int_part.is_empty() && frac.is_empty() {
        return (0.0, 0, false);
    }
    let mut exp: &[u8] = b"0";
    if matches!(b.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(b.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if b.get(k).is_some_and(u8::is_ascii_digit) {
            while b.get(k).is_some_and(u8::is_ascii_digit) {
                k += 1;
            }
            exp = &b[j + 1..k];
            j = k;
        }
    }
    let text = format!(
        "{}.{}e{}",
        if int_part.is_empty() {
            "0"
        } else {
            std::str::from_utf8(int_part).unwrap_or("0")
        },
        if frac.is_empty() {
            "0"
        } else {
            std::str::from_utf8(frac).unwrap_or("0")
        },
        std::str::from_utf8(exp).unwrap_or("0"),
    );
    let v: f64 = text.parse().unwrap_or(0.0);
    let nonzero = int_part.iter().chain(frac).any(|&c| c != b'0');
    let erange = v.is_infinite() || (v == 0.0 && nonzero);
    (sign(v), j, erange)
}

/// A score argument as Redis's getDoubleFromObject reads it: the whole string, no
/// leading space, no overflow or underflow to zero, not NaN.
pub(crate) fn score_arg(b: &[u8]) -> Option<f64> {
    if b.is_empty() || b[0].is_ascii_whitespace() || b[0] == 0x0b {
        return None;
    }
    let (v, n, erange) = strtod(b);
    if n != b.len() || v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

pub(crate) fn float_or(b: &[u8], err: &str) -> Result<f64, CmdError> {
    score_arg(b).ok_or_else(|| CmdError::err(err))
}

/// getPositiveLongFromObjectOrReply: non-integers and negatives get the same message.
fn positive_long(b: &[u8], msg: &str) -> Result<i64, CmdError> {
    match parse_i64_arg(b) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(CmdError::err(msg)),
    }
}

fn parse_i64_arg(b: &[u8]) -> Option<i64> {
    rill_protocol::fmt::parse_i64(b)
}

/// getRangeLongFromObjectOrReply with a custom message (used for non-integers too).
fn range_long(b: &[u8], min: i64, max: i64, msg: &str) -> Result<i64, CmdError> {
    match parse_i64_arg(b) {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(CmdError::err(msg)),
    }
}

/// One end of a score range (`zslParseRange`): `(` for exclusive, then strtod of the
/// whole rest (so "" and "(" read as 0, as in Redis).
fn score_bound(b: &[u8]) -> Option<(f64, bool)> {
    let (ex, text) = match b.first() {
        Some(b'(') => (true, &b[1..]),
        _ => (false, b),
    };
    let (v, n, _) = strtod(text);
    if n != text.len() || v.is_nan() {
        return None;
    }
    Some((v, ex))
}

#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    match (score_bound(min), score_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
            min,
            minex,
            max,
            maxex,
        }),
        _ => Err(CmdError::err("min or max is not a float")),
    }
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<(LexBound, LexBound), CmdError> {
    match (LexBound::parse(min), LexBound::parse(max)) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(CmdError::err("min or max not valid string range item")),
    }
}

/// Ascending rank interval `[lo, hi)` of a score range (empty when lo >= hi).
fn score_ranks(z: &ZSet, r: &ScoreRange) -> (usize, usize) {
    (
        z.rank_score_min(r.min, r.minex),
        z.rank_score_max(r.max, r.maxex),
    )
}

/// Redis's rank sanitizing for ZRANGE/ZREMRANGEBYRANK: ascending `[start, end]`
/// inclusive, or None when empty.
fn rank_bounds(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

// ---------------------------------------------------------------------------------------
// Replies

pub(crate) fn resp3(ctx: &Ctx) -> bool {
    ctx.client.resp == RespVersion::Resp3
}

/// Appends one element: `member` (+ score), or `[member, score]` under RESP3.
fn push_scored(out: &mut Vec<Reply>, resp3: bool, withscores: bool, m: &[u8], s: f64) {
    if withscores && resp3 {
        out.push(Reply::Array(vec![Reply::bulk_slice(m), Reply::Double(s)]));
    } else {
        out.push(Reply::bulk_slice(m));
        if withscores {
            out.push(Reply::Double(s));
        }
    }
}

fn scored_array<'a>(
    resp3: bool,
    withscores: bool,
    items: impl Iterator<Item = (&'a SBytes, f64)>,
) -> Reply {
    let mut out = Vec::with_capacity(items.size_hint().0.min(1 << 16));
    for (m, s) in items {
        push_scored(&mut out, resp3, withscores, m, s);
    }
    Reply::Array(out)
}

/// Writes a computed zset to `dst` (setKey, so any TTL goes) or deletes `dst` when the
/// result is empty. Returns the stored length.
pub(crate) fn store_result(ctx: &mut Ctx, dst: &[u8], z: ZSet, event: &str) -> i64 {
    let n = z.len() as i64;
    if n > 0 {
        ctx.db().set(dst, Value::ZSet(Box::new(z)), false);
        ctx.notify(NOTIFY_ZSET, event, dst);
        ctx.dirty(1);
    } else if ctx.db().remove(dst).is_some() {
        ctx.notify(NOTIFY_GENERIC, "del", dst);
        ctx.dirty(1);
    }
    n
}

// ---------------------------------------------------------------------------------------
// ZADD / ZINCRBY / ZREM / ZSCORE / ...

/// Outcome of one zsetAdd.
enum AddOutcome {
    Added,
    Updated(f64),
    /// Present and kept (score equal, or the flags said no); carries the score for INCR.
    Same(f64),
    Nop,
    NaN,
}

#[derive(Clone, Copy, Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
}

/// Redis's zsetAdd.
fn zset_add(z: &mut ZSet, member: &[u8], score: f64, f: AddFlags) -> AddOutcome {
    match z.score(member) {
        Some(cur) => {
            if f.nx {
                return AddOutcome::Nop;
            }
            let mut score = score;
            if f.incr {
                score += cur;
                if score.is_nan() {
                    return AddOutcome::NaN;
                }
            }
            if (f.lt && score >= cur) || (f.gt && score <= cur) {
                return AddOutcome::Nop;
            }
            if score != cur {
                z.insert(member, score);
                AddOutcome::Updated(score)
            } else {
                AddOutcome::Same(score)
            }
        }
        None if !f.xx => {
            z.insert(member, score);
            AddOutcome::Added
        }
        None => AddOutcome::Nop,
    }
}

/// ```text
/// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
/// ZINCRBY key increment member
/// ```
fn zadd_generic(ctx: &mut Ctx, argv: &[Bytes], incr_cmd: bool) -> CmdResult {
    let mut f = AddFlags {
        incr: incr_cmd,
        ..Default::default()
    };
    let mut ch = false;
    let mut idx = 2;
    if !incr_cmd {
        while idx < argv.len() {
            let o = &argv[idx];
            if eq_ic(o, "nx") {
                f.nx = true;
            } else if eq_ic(o, "xx") {
                f.xx = true;
            } else if eq_ic(o, "ch") {
                ch = true;
            } else if eq_ic(o, "incr") {
                f.incr = true;
            } else if eq_ic(o, "gt") {
                f.gt = true;
            } else if eq_ic(o, "lt") {
                f.lt = true;
            } else {
                break;
            }
            idx += 1;
        }
    }
    let rest = argv.len() - idx;
    if rest == 0 || rest % 2 != 0 {
        return Err(CmdError::Syntax);
    }
    if f.nx && f.xx {
        return Err(CmdError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(CmdError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    let n = rest / 2;
    if f.incr && n > 1 {
        return Err(CmdError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let mut scores = Vec::with_capacity(n);
    for j in 0..n {
        scores.push(score_arg(&argv[idx + 2 * j]).ok_or(CmdError::NotFloat)?);
    }
    let key = &argv[1];
    let exists = zwrite(ctx.db(), key)?.is_some();
    let nothing = if f.incr { Reply::Null } else { Reply::Int(0) };
    if !exists {
        if f.xx {
            return Ok(nothing);
        }
        ctx.db().insert_new(key, Value::ZSet(Box::default()));
    }
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let mut nan = false;
    {
        let z = zwrite(ctx.db(), key)?.ok_or(CmdError::WrongType)?;
        for (j, &score) in scores.iter().enumerate() {
            let member = &argv[idx + 2 * j + 1];
            match zset_add(z, member, score, f) {
                AddOutcome::Added => {
                    added += 1;
                    processed += 1;
                    last = score;
                }
                AddOutcome::Updated(s) => {
                    updated += 1;
                    processed += 1;
                    last = s;
                }
                AddOutcome::Same(s) => {
                    processed += 1;
                    last = s;
                }
                AddOutcome::Nop => {}
                AddOutcome::NaN => {
                    nan = true;
                    break;
                }
            }
        }
    }
    if added + updated > 0 {
        ctx.dirty((added + updated) as u64);
        ctx.notify(NOTIFY_ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if nan {
        return Err(CmdError::err("resulting score is not a number (NaN)"));
    }
    Ok(if f.incr {
        if processed > 0 {
            Reply::Double(last)
        } else {
            Reply::Null
        }
    } else {
        Reply::Int(if ch { added + updated } else { added })
    })
}

pub(crate) fn zadd(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, argv, false)
}

/// ```text
/// ZINCRBY key increment member
/// ```
fn zincrby(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zadd_generic(ctx, argv, true)
}

/// ```text
/// ZREM key member [member ...]
/// ```
fn zrem(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let Some(z) = zwrite(ctx.db(), key)? else {
        return Ok(Reply::Int(0));
    };
    let mut deleted = 0;
    for m in &argv[2..] {
        if z.remove(m).is_some() {
            deleted += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    if deleted > 0 {
        ctx.notify(NOTIFY_ZSET, "zrem", key);
        delete_if_empty(ctx, key);
        ctx.db().signal_modified(key);
        ctx.dirty(deleted);
    }
    Ok(Reply::Int(deleted as i64))
}

/// ```text
/// ZSCORE key member
/// ```
fn zscore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    Ok(
        match zread(ctx.db(), &argv[1])?.and_then(|z| z.score(&argv[2])) {
            Some(s) => Reply::Double(s),
            None => Reply::Null,
        },
    )
}

/// ```text
/// ZMSCORE key member [member ...]
/// ```
fn zmscore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let z = zread(ctx.db(), &argv[1])?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|m| match z.and_then(|z| z.score(m)) {
                Some(s) => Reply::Double(s),
                None => Reply::Null,
            })
            .collect(),
    ))
}

/// ```text
/// ZCARD key
/// ```
fn zcard(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(
        zread(ctx.db(), &argv[1])?.map_or(0, |z| z.len()) as i64,
    ))
}

/// ```text
/// ZCOUNT key min max
/// ```
fn zcount(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let r = parse_score_range(&argv[2], &argv[3])?;
    let Some(z) = zread(ctx.db(), &argv[1])? else {
        return Ok(Reply::Int(0));
    };
    let (lo, hi) = score_ranks(z, &r);
    Ok(Reply::Int(hi.saturating_sub(lo) as i64))
}

/// ```text
/// ZLEXCOUNT key min max
/// ```
fn zlexcount(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let (min, max) = parse_lex_range(&argv[2], &argv[3])?;
    let Some(z) = zread(ctx.db(), &argv[1])? else {
        return Ok(Reply::Int(0));
    };
    Ok(Reply::Int(z.lex_count(&min, &max) as i64))
}

fn zrank_generic(ctx: &mut Ctx, argv: &[Bytes], rev: bool) -> CmdResult {
    let Some(z) = zread(ctx.db(), &argv[1])? else {
        return Ok(Reply::Null);
    };
    Ok(match z.rank(&argv[2]) {
        Some(r) if rev => Reply::Int((z.len() - 1 - r) as i64),
        Some(r) => Reply::Int(r as i64),
        None => Reply::Null,
    })
}

/// ```text
/// ZRANK key member
/// ```
fn zrank(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, argv, false)
}

/// ```text
/// ZREVRANK key member
/// ```
fn zrevrank(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zrank_generic(ctx, argv, true)
}

// ---------------------------------------------------------------------------------------
// ZRANGE family

#[derive(Clone, Copy, PartialEq, Debug)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Redis's zrangeGenericCommand. `first` is the index of the source key; `store` means
/// ZRANGESTORE (destination at argv[1]). `dir`: None = not fixed by the command.
fn zrange_generic(
    ctx: &mut Ctx,
    argv: &[Bytes],
    first: usize,
    store: bool,
    mut rt: RangeType,
    dir: Option<bool>,
) -> CmdResult {
    let key = &argv[first];
    let mut withscores = false;
    let mut offset: i64 = 0;
    let mut limit: i64 = -1;
    let mut rev = dir;
    let mut j = first + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j];
        if !store && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            offset = int_arg(&argv[j + 1])?;
            limit = int_arg(&argv[j + 2])?;
            j += 2;
        } else if rev.is_none() && eq_ic(a, "rev") {
            rev = Some(true);
        } else if rt == RangeType::Auto && eq_ic(a, "bylex") {
            rt = RangeType::Lex;
        } else if rt == RangeType::Auto && eq_ic(a, "byscore") {
            rt = RangeType::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if rt == RangeType::Auto {
        rt = RangeType::Rank;
    }
    if limit != -1 && rt == RangeType::Rank {
        return Err(CmdError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && rt == RangeType::Lex {
        return Err(CmdError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut mi, mut ma) = (first + 1, first + 2);
    if rev && rt != RangeType::Rank {
        std::mem::swap(&mut mi, &mut ma);
    }
    enum Parsed {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexBound, LexBound),
    }
    let parsed = match rt {
        RangeType::Score => Parsed::Score(parse_score_range(&argv[mi], &argv[ma])?),
        RangeType::Lex => {
            let (a, b) = parse_lex_range(&argv[mi], &argv[ma])?;
            Parsed::Lex(a, b)
        }
        _ => Parsed::Rank(int_arg(&argv[mi])?, int_arg(&argv[ma])?),
    };
    let resp3 = resp3(ctx);
    let db = ctx.db();
    let z = if store {
        zwrite(db, key)?.map(|z| &*z)
    } else {
        zread(db, key)?
    };
    let Some(z) = z else {
        if store {
            let n = store_result(ctx, &argv[1], ZSet::new(), "zrangestore");
            return Ok(Reply::Int(n));
        }
        return Ok(Reply::Array(vec![]));
    };
    let skip = |start: usize| -> Option<usize> {
        // LIMIT's offset is skipped positionally, without checking the range (as Redis).
        let off = usize::try_from(offset).ok()?;
        if rev {
            start.checked_sub(off)
        } else {
            Some(start.checked_add(off)?).filter(|&s| s < z.len())
        }
    };
    let take = if limit < 0 {
        usize::MAX
    } else {
        limit as usize
    };
    let items: Vec<(&SBytes, f64)> = match &parsed {
        Parsed::Rank(s, e) => match rank_bounds(*s, *e, z.len()) {
            None => Vec::new(),
            Some((s, e)) if rev => z.range(z.len() - 1 - s, e - s + 1, true).collect(),
            Some((s, e)) => z.range(s, e - s + 1, false).collect(),
        },
        Parsed::Score(r) => {
            let (lo, hi) = score_ranks(z, r);
            let first = if lo >= hi {
                None
            } else if rev {
                Some(hi - 1)
            } else {
                Some(lo)
            };
            match first.and_then(skip) {
                Some(p) if rev && p >= lo => z.range(p, (p + 1 - lo).min(take), true).collect(),
                Some(p) if !rev && p < hi => z.range(p, (hi - p).min(take), false).collect(),
                _ => Vec::new(),
            }
        }
        Parsed::Lex(a, b) => match z.lex_start(a, b, rev).and_then(skip) {
            Some(p) => z
                .range(p, usize::MAX, rev)
                .take_while(|(m, _)| if rev { a.gte_min(m) } else { b.lte_max(m) })
                .take(take)
                .collect(),
            None => Vec::new(),
        },
    };
    if store {
        let pairs: Vec<(&[u8], f64)> = items.iter().map(|(m, s)| (m.as_bytes(), *s)).collect();
        let out = ZSet::from_pairs(pairs);
        let n = store_result(ctx, &argv[1], out, "zrangestore");
        return Ok(Reply::Int(n));
    }
    Ok(scored_array(resp3, withscores, items.into_iter()))
}

/// ```text
/// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
/// ```
fn zrange(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, false, RangeType::Auto, None)
}

/// ```text
/// ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]
/// ```
fn zrangestore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 2, true, RangeType::Auto, None)
}

/// ```text
/// ZREVRANGE key start stop [WITHSCORES]
/// ```
fn zrevrange(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, false, RangeType::Rank, Some(true))
}

/// ```text
/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
/// ```
fn zrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, false, RangeType::Score, Some(false))
}

/// ```text
/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
/// ```
fn zrevrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, false, RangeType::Score, Some(true))
}

/// ```text
/// ZRANGEBYLEX key min max [LIMIT offset count]
/// ```
fn zrangebylex(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, false, RangeType::Lex, Some(false))
}

/// ```text
/// ZREVRANGEBYLEX key max min [LIMIT offset count]
/// ```
fn zrevrangebylex(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zrange_generic(ctx, argv, 1, false, RangeType::Lex, Some(true))
}

// ---------------------------------------------------------------------------------------
// ZREMRANGEBY*

fn zremrange_generic(ctx: &mut Ctx, argv: &[Bytes], rt: RangeType) -> CmdResult {
    let key = &argv[1];
    enum Parsed {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexBound, LexBound),
    }
    let parsed = match rt {
        RangeType::Score => Parsed::Score(parse_score_range(&argv[2], &argv[3])?),
        RangeType::Lex => {
            let (a, b) = parse_lex_range(&argv[2], &argv[3])?;
            Parsed::Lex(a, b)
        }
        _ => Parsed::Rank(int_arg(&argv[2])?, int_arg(&argv[3])?),
    };
    let Some(z) = zwrite(ctx.db(), key)? else {
        return Ok(Reply::Int(0));
    };
    let (lo, hi) = match &parsed {
        Parsed::Rank(s, e) => match rank_bounds(*s, *e, z.len()) {
            Some((s, e)) => (s, e + 1),
            None => (0, 0),
        },
        Parsed::Score(r) => score_ranks(z, r),
        Parsed::Lex(a, b) => match z.lex_start(a, b, false) {
            Some(s) => (
                s,
                s + z
                    .range(s, usize::MAX, false)
                    .take_while(|(m, _)| b.lte_max(m))
                    .count(),
            ),
            None => (0, 0),
        },
    };
    let deleted = if lo < hi {
        z.remove_range(lo, hi).len()
    } else {
        0
    };
    if deleted > 0 {
        let event = match rt {
            RangeType::Score => "zremrangebyscore",
            RangeType::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        ctx.db().signal_modified(key);
        ctx.notify(NOTIFY_ZSET, event, key);
        delete_if_empty(ctx, key);
        ctx.dirty(deleted as u64);
    }
    Ok(Reply::Int(deleted as i64))
}

/// ```text
/// ZREMRANGEBYRANK key start stop
/// ```
fn zremrangebyrank(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, argv, RangeType::Rank)
}

/// ```text
/// ZREMRANGEBYSCORE key min max
/// ```
fn zremrangebyscore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, argv, RangeType::Score)
}

/// ```text
/// ZREMRANGEBYLEX key min max
/// ```
fn zremrangebylex(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zremrange_generic(ctx, argv, RangeType::Lex)
}

// ---------------------------------------------------------------------------------------
// ZPOPMIN / ZPOPMAX / ZMPOP

/// `ZPOPMIN` or `ZPOPMAX`, what the blocking and multi-key pops propagate as.
fn zpop_name(max: bool) -> Bytes {
    Bytes::from_static(if max { b"ZPOPMAX" } else { b"ZPOPMIN" })
}

/// Redis's genericZpopCommand. `count` -1 means a plain single pop.
fn zpop_generic(
    ctx: &mut Ctx,
    keys: &[Bytes],
    max: bool,
    emitkey: bool,
    count: i64,
    nested: bool,
    nil_when_empty: bool,
) -> CmdResult {
    let mut found = None;
    for k in keys {
        if zwrite(ctx.db(), k)?.is_some() {
            found = Some(k);
            break;
        }
    }
    let Some(key) = found else {
        return Ok(if nil_when_empty {
            Reply::NullArray
        } else {
            Reply::Array(vec![])
        });
    };
    if count == 0 {
        return Ok(Reply::Array(vec![]));
    }
    let count = if count == -1 { 1 } else { count as u64 };
    let resp3 = nested && resp3(ctx);
    let z = zwrite(ctx.db(), key)?.ok_or(CmdError::WrongType)?;
    let n = (z.len() as u64).min(count) as usize;
    let mut items = Vec::with_capacity(if resp3 { n } else { n * 2 });
    for _ in 0..n {
        let Some((m, s)) = z.pop(max) else { break };
        if nested {
            items.push(Reply::Array(vec![Reply::bulk_slice(&m), Reply::Double(s)]));
        } else {
            items.push(Reply::bulk_slice(&m));
            items.push(Reply::Double(s));
        }
    }
    ctx.notify(NOTIFY_ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    ctx.db().signal_modified(key);
    delete_if_empty(ctx, key);
    ctx.dirty(n as u64);
    if emitkey {
        // genericZpopCommand: ZMPOP/BZMPOP propagate as `ZPOPMIN|ZPOPMAX key <popped>`.
        ctx.propagate_as(vec![
            zpop_name(max),
            key.clone(),
            Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        ]);
    }
    Ok(if emitkey {
        Reply::Array(vec![Reply::bulk_slice(key), Reply::Array(items)])
    } else {
        Reply::Array(items)
    })
}

fn zpop_minmax(ctx: &mut Ctx, argv: &[Bytes], max: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let mut count = -1;
    if argv.len() == 3 {
        count = positive_long(&argv[2], "value is out of range, must be positive")?;
    }
    let nested = resp3(ctx) && count != -1;
    zpop_generic(ctx, &argv[1..2], max, false, count, nested, false)
}

/// ```text
/// ZPOPMIN key [count]
/// ```
fn zpopmin(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zpop_minmax(ctx, argv, false)
}

/// ```text
/// ZPOPMAX key [count]
/// ```
fn zpopmax(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zpop_minmax(ctx, argv, true)
}

/// ```text
/// ZMPOP numkeys key [key ...] <MIN | MAX> [COUNT count]
/// ```
fn zmpop(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let numkeys = range_long(&argv[1], 1, i64::MAX, "numkeys should be greater than 0")?;
    let where_idx = match (numkeys as u64).checked_add(2) {
        Some(w) if w < argv.len() as u64 => w as usize,
        _ => return Err(CmdError::Syntax),
    };
    let max = if eq_ic(&argv[where_idx], "min") {
        false
    } else if eq_ic(&argv[where_idx], "max") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = -1;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if count == -1 && eq_ic(&argv[j], "count") && more > 0 {
            j += 1;
            count = range_long(&argv[j], 1, i64::MAX, "count should be greater than 0")?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if count == -1 {
        count = 1;
    }
    zpop_generic(ctx, &argv[2..where_idx], max, true, count, true, true)
}

// ---------------------------------------------------------------------------------------
// BZPOPMIN / BZPOPMAX / BZMPOP (crate::blocking): serve at once when a key holds data,
// else wait.

fn block_on_zsets(ctx: &mut Ctx, keys: &[Bytes], deadline_ms: Option<i64>) -> CmdResult {
    crate::blocking::block(
        ctx,
        crate::blocking::BlockedOn {
            kind: crate::blocking::BlockKind::Zset,
            keys: keys.to_vec(),
            stream_ids: Vec::new(),
            deadline_ms,
            timeout_reply: Reply::NullArray,
            retry_argv: None,
            group: None,
        },
    )
}

/// Redis's blockingGenericZpopCommand: the reply is `key member score`, flat.
fn bzpop_minmax(ctx: &mut Ctx, argv: &[Bytes], max: bool) -> CmdResult {
    let last = argv.len() - 1;
    let deadline = crate::blocking::timeout_secs(&argv[last], ctx.now_ms)?;
    let keys = &argv[1..last];
    for key in keys {
        if zwrite(ctx.db(), key)?.is_none() {
            continue;
        }
        let r = zpop_generic(ctx, std::slice::from_ref(key), max, false, -1, false, false)?;
        if let Reply::Array(items) = r {
            if !items.is_empty() {
                // blockingGenericZpopCommand: replicated as ZPOPMIN/ZPOPMAX key.
                ctx.propagate_as(vec![zpop_name(max), key.clone()]);
                let mut out = Vec::with_capacity(items.len() + 1);
                out.push(Reply::Bulk(key.clone()));
                out.extend(items);
                return Ok(Reply::Array(out));
            }
        }
    }
    block_on_zsets(ctx, keys, deadline)
}

/// ```text
/// BZPOPMIN key [key ...] timeout
/// ```
fn bzpopmin(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    bzpop_minmax(ctx, argv, false)
}

/// ```text
/// BZPOPMAX key [key ...] timeout
/// ```
fn bzpopmax(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    bzpop_minmax(ctx, argv, true)
}

/// ```text
/// BZMPOP timeout numkeys key [key ...] <MIN | MAX> [COUNT count]
/// ```
fn bzmpop(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let deadline = crate::blocking::timeout_secs(&argv[1], ctx.now_ms)?;
    // ZMPOP's parsing and serving, with argv shifted by one (argv[0] is unused there).
    let r = zmpop(ctx, &argv[1..])?;
    if !matches!(r, Reply::NullArray) {
        return Ok(r);
    }
    let numkeys = rill_protocol::fmt::parse_i64(&argv[2]).unwrap_or(0).max(0) as usize;
    let end = 3usize.saturating_add(numkeys).min(argv.len());
    block_on_zsets(ctx, &argv[3..end], deadline)
}

// ---------------------------------------------------------------------------------------
// ZRANDMEMBER

/// Most elements a negative ZRANDMEMBER count may ask for: the reply is built in memory,
/// so an absurd count is refused instead of exhausting it.
const RANDMEMBER_MAX_DUPS: u64 = 10_000_000;

/// ```text
/// ZRANDMEMBER key [count [WITHSCORES]]
/// ```
fn zrandmember(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    use rand::Rng;
    if argv.len() >= 3 {
        let l = int_arg(&argv[2])?;
        if l == i64::MIN {
            return Err(CmdError::err(
                "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ));
        }
        let withscores = if argv.len() > 4 || (argv.len() == 4 && !eq_ic(&argv[3], "withscores")) {
            return Err(CmdError::Syntax);
        } else if argv.len() == 4 {
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
                return Err(CmdError::err("value is out of range"));
            }
            true
        } else {
            false
        };
        let resp3 = resp3(ctx);
        let Some(z) = zread(ctx.db(), &argv[1])? else {
            return Ok(Reply::Array(vec![]));
        };
        let size = z.len();
        let (count, uniq) = (l.unsigned_abs(), l >= 0);
        if count == 0 {
            return Ok(Reply::Array(vec![]));
        }
        let mut rng = rand::thread_rng();
        let mut out = Vec::new();
        if !uniq || count == 1 {
            if count > RANDMEMBER_MAX_DUPS {
                return Err(CmdError::err("value is out of range"));
            }
            for _ in 0..count {
                if let Some((m, s)) = z.get_by_rank(rng.gen_range(0..size)) {
                    push_scored(&mut out, resp3, withscores, m, s);
                }
            }
            return Ok(Reply::Array(out));
        }
        if count >= size as u64 {
            // The whole set; Redis 7.0 replies highest first.
            return Ok(scored_array(
                resp3,
                withscores,
                z.range(size - 1, size, true),
            ));
        }
        // Distinct ranks: in random order when most of the set is returned, else in
        // rank order (as Redis's dict and listpack samplers respectively do).
        let count = count as usize;
        let ranks: Vec<usize> = if count * 3 > size {
            let mut all: Vec<usize> = (0..size).collect();
            for i in 0..count {
                let j = rng.gen_range(i..size);
                all.swap(i, j);
            }
            all.truncate(count);
            all
        } else {
            let mut picked = std::collections::HashSet::with_capacity(count);
            while picked.len() < count {
                picked.insert(rng.gen_range(0..size));
            }
            let mut v: Vec<usize> = picked.into_iter().collect();
            v.sort_unstable();
            v
        };
        for r in ranks {
            if let Some((m, s)) = z.get_by_rank(r) {
                push_scored(&mut out, resp3, withscores, m, s);
            }
        }
        return Ok(Reply::Array(out));
    }
    let Some(z) = zread(ctx.db(), &argv[1])? else {
        return Ok(Reply::Null);
    };
    let r = rand::thread_rng().gen_range(0..z.len().max(1));
    Ok(match z.get_by_rank(r) {
        Some((m, _)) => Reply::bulk_slice(m),
        None => Reply::Null,
    })
}

// ---------------------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF (+STORE), ZINTERCARD

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// One input: a zset, a plain set (every score 1) or a missing key.
#[derive(Clone, Copy)]
enum Src<'a> {
    None,
    Z(&'a ZSet),
    S(&'a Set),
}

impl<'a> Src<'a> {
    fn len(&self) -> usize {
        match self {
            Src::None => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::None => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&'a [u8], f64) -> bool) {
        match *self {
            Src::None => {}
            Src::Z(z) => {
                for (m, s) in z.iter() {
                    if !f(m.as_bytes(), s) {
                        return;
                    }
                }
            }
            Src::S(s) => {
                for m in s.iter() {
                    if !f(m.as_bytes(), 1.0) {
                        return;
                    }
                }
            }
        }
    }
}

fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// Redis's zunionInterDiffGenericCommand. `dst` is the destination for the STORE forms.
fn zsetop_generic(
    ctx: &mut Ctx,
    argv: &[Bytes],
    dst: Option<&Bytes>,
    numkeys_idx: usize,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let setnum = int_arg(&argv[numkeys_idx])?;
    if setnum < 1 {
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    if setnum as u64 > (argv.len() - numkeys_idx - 1) as u64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let keys = &argv[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    // Pass 1: expire, count stats and check types.
    for k in keys {
        let db = ctx.db();
        let e = if dst.is_some() {
            db.get_mut(k)
        } else {
            db.get(k)
        };
        if let Some(e) = e {
            if !matches!(e.value, Value::ZSet(_) | Value::Set(_)) {
                return Err(CmdError::WrongType);
            }
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: i64 = 0;
    let mut j = numkeys_idx + 1 + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = &argv[j];
        if op != SetOp::Diff && !card_only && remaining > setnum && eq_ic(a, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                *w = float_or(&argv[j], "weight value is not a float")?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && eq_ic(a, "aggregate") {
            let v = &argv[j + 1];
            agg = if eq_ic(v, "sum") {
                Aggregate::Sum
            } else if eq_ic(v, "min") {
                Aggregate::Min
            } else if eq_ic(v, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if dst.is_none() && !card_only && eq_ic(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq_ic(a, "limit") {
            limit = positive_long(&argv[j + 1], "LIMIT can't be negative")?;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let resp3 = resp3(ctx);
    // Pass 2: borrow every input at once.
    let db: &Db = ctx.db();
    let mut srcs: Vec<(Src, f64)> = keys
        .iter()
        .zip(&weights)
        .map(|(k, &w)| {
            let src = match db.keys.get(k.as_ref()).map(|e| &e.value) {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s),
                _ => Src::None,
            };
            (src, w)
        })
        .collect();
    if op != SetOp::Diff {
        srcs.sort_by_key(|(s, _)| s.len());
    }
    let mut result: Vec<(&[u8], f64)> = Vec::new();
    let mut cardinality: i64 = 0;
    match op {
        SetOp::Inter => {
            if srcs[0].0.len() > 0 {
                let (first, w0) = srcs[0];
                first.for_each(|m, s| {
                    let mut score = w0 * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for &(other, w) in &srcs[1..] {
                        match other.score(m) {
                            Some(v) => aggregate(&mut score, v * w, agg),
                            None => return true,
                        }
                    }
                    if card_only {
                        cardinality += 1;
                        return !(limit > 0 && cardinality >= limit);
                    }
                    result.push((m, score));
                    true
                });
            }
        }
        SetOp::Union => {
            let mut acc: std::collections::HashMap<&[u8], f64, ahash::RandomState> =
                Default::default();
            for &(src, w) in &srcs {
                src.for_each(|m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    acc.entry(m)
                        .and_modify(|t| aggregate(t, score, agg))
                        .or_insert(score);
                    true
                });
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            let (first, _) = srcs[0];
            first.for_each(|m, s| {
                if srcs[1..].iter().all(|(o, _)| o.score(m).is_none()) {
                    result.push((m, s));
                }
                true
            });
        }
    }
    if card_only {
        return Ok(Reply::Int(cardinality));
    }
    if let Some(dst) = dst {
        let z = ZSet::from_pairs(result);
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        let n = store_result(ctx, dst, z, event);
        return Ok(Reply::Int(n));
    }
    // Unlike a stored result, the reply keeps -0 (Redis replies from its skiplist).
    result.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(b.0))
    });
    let mut out = Vec::with_capacity(result.len() * if withscores && !resp3 { 2 } else { 1 });
    for (m, s) in result {
        push_scored(&mut out, resp3, withscores, m, s);
    }
    Ok(Reply::Array(out))
}

/// ```text
/// ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]
/// ```
fn zunion(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, None, 1, SetOp::Union, false)
}

/// ```text
/// ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]
/// ```
fn zinter(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, None, 1, SetOp::Inter, false)
}

/// ```text
/// ZDIFF numkeys key [key ...] [WITHSCORES]
/// ```
fn zdiff(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, None, 1, SetOp::Diff, false)
}

/// ```text
/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]
/// ```
fn zunionstore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, Some(&argv[1]), 2, SetOp::Union, false)
}

/// ```text
/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]
/// ```
fn zinterstore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, Some(&argv[1]), 2, SetOp::Inter, false)
}

/// ```text
/// ZDIFFSTORE destination numkeys key [key ...]
/// ```
fn zdiffstore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, Some(&argv[1]), 2, SetOp::Diff, false)
}

/// ```text
/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
/// ```
fn zintercard(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    zsetop_generic(ctx, argv, None, 1, SetOp::Inter, true)
}

// ---------------------------------------------------------------------------------------
// ZSCAN

/// Redis keeps zsets of at most this many members (each at most 64 bytes) as a listpack,
/// which ZSCAN returns whole in one call with cursor 0.
const LISTPACK_ENTRIES: usize = 128;
const LISTPACK_VALUE: usize = 64;

/// ```text
/// ZSCAN key cursor [MATCH pattern] [COUNT count]
/// ```
fn zscan(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    // Redis checks the cursor before the key, the options after it.
    cursor_arg(&argv[2])?;
    let Some(z) = zread(ctx.db(), &argv[1])? else {
        return Ok(scan_reply(0, vec![]));
    };
    let args = parse_scan(argv, 2, false)?;
    let mut items = Vec::new();
    let mut push = |m: &SBytes, s: f64| {
        if let Some(p) = &args.pattern {
            if !crate::db::glob::glob_match(p, m, false) {
                return;
            }
        }
        items.push(Reply::bulk_slice(m));
        items.push(Reply::bulk(rill_protocol::fmt::double_g17(s)));
    };
    let small = z.len() <= LISTPACK_ENTRIES && z.iter().all(|(m, _)| m.len() <= LISTPACK_VALUE);
    let cursor = if small {
        for (m, s) in z.iter() {
            push(m, s);
        }
        0
    } else {
        z.scan(args.cursor, args.count, &mut push)
    };
    Ok(scan_reply(cursor, items))
}

// ---------------------------------------------------------------------------------------

const G: &str = "sorted-set";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, WRITE | DENYOOM | FAST, zadd)
        .keys(1, 1, 1)
        .group(G)
        .doc("1.2.0", "Add one or more members to a sorted set, or update its score if it already exists", "O(log(N)) for each item added, where N is the number of elements in the sorted set.")
        .syntax("key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]"),
    CommandSpec::new("zrem", -3, WRITE | FAST, zrem)
        .keys(1, 1, 1)
        .group(G)
        .doc("1.2.0", "Remove one or more members from a sorted set", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.")
        .syntax("key member [member ...]"),
    CommandSpec::new("zscore", 3, READONLY | FAST, zscore)
        .keys(1, 1, 1)
        .group(G)
        .doc("1.2.0", "Get the score associated with the given member in a sorted set", "O(1)")
        .syntax("key member"),
    CommandSpec::new("zmscore", -3, READONLY | FAST, zmscore)
        .keys(1, 1, 1)
        .group(G)
        .doc("6.2.0", "Get the score associated with the given members in a sorted set", "O(N) where N is the number of members being requested.")
        .syntax("key member [member ...]"),
    CommandSpec::new("zincrby", 4, WRITE | DENYOOM | FAST, zincrby)
        .keys(1, 1, 1)
        .group(G)
        .doc("1.2.0", "Increment the score of a member in a sorted set", "O(log(N)) where N is the number of elements in the sorted set.")
        .syntax("key increment member"),
    CommandSpec::new("zcard", 2, READONLY | FAST, zcard)
        .keys(1, 1, 1)
        .group(G)
        .doc("1.2.0", "Get the number of members in a sorted set", "O(1)")
        .syntax("key"),
    CommandSpec::new("zcount", 4, READONLY | FAST, zcount)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.0.0", "Count the members in a sorted set with scores within the given values", "O(log(N)) with N being the number of elements in the sorted set.")
        .syntax("key min max"),
    CommandSpec::new("zlexcount", 4, READONLY | FAST, zlexcount)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.8.9", "Count the number of members in a sorted set between a given lexicographical range", "O(log(N)) with N being the number of elements in the sorted set.")
        .syntax("key min max"),
    CommandSpec::new("zrank", 3, READONLY | FAST, zrank)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.0.0", "Determine the index of a member in a sorted set", "O(log(N))")
        .syntax("key member"),
    CommandSpec::new("zrevrank", 3, READONLY | FAST, zrevrank)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low", "O(log(N))")
        .syntax("key member"),
    CommandSpec::new("zrange", -4, READONLY, zrange)
        .keys(1, 1, 1)
        .group(G)
        .doc("1.2.0", "Return a range of members in a sorted set", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.")
        .syntax("key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"),
    CommandSpec::new("zrangestore", -5, WRITE | DENYOOM, zrangestore)
        .keys(1, 2, 1)
        .group(G)
        .doc("6.2.0", "Store a range of members from sorted set into another key", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.")
        .syntax("dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]"),
    CommandSpec::new("zrangebyscore", -4, READONLY, zrangebyscore)
        .keys(1, 1, 1)
        .group(G)
        .doc("1.0.5", "Return a range of members in a sorted set, by score", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")
        .syntax("key min max [WITHSCORES] [LIMIT offset count]"),
    CommandSpec::new("zrevrangebyscore", -4, READONLY, zrevrangebyscore)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")
        .syntax("key max min [WITHSCORES] [LIMIT offset count]"),
    CommandSpec::new("zrangebylex", -4, READONLY, zrangebylex)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.8.9", "Return a range of members in a sorted set, by lexicographical range", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")
        .syntax("key min max [LIMIT offset count]"),
    CommandSpec::new("zrevrangebylex", -4, READONLY, zrevrangebylex)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")
        .syntax("key max min [LIMIT offset count]"),
    CommandSpec::new("zrevrange", -4, READONLY, zrevrange)
        .keys(1, 1, 1)
        .group(G)
        .doc("1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.")
        .syntax("key start stop [WITHSCORES]"),
    CommandSpec::new("zremrangebyrank", 4, WRITE, zremrangebyrank)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.0.0", "Remove all members in a sorted set within the given indexes", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.")
        .syntax("key start stop"),
    CommandSpec::new("zremrangebyscore", 4, WRITE, zremrangebyscore)
        .keys(1, 1, 1)
        .group(G)
        .doc("1.2.0", "Remove all members in a sorted set within the given scores", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.")
        .syntax("key min max"),
    CommandSpec::new("zremrangebylex", 4, WRITE, zremrangebylex)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.8.9", "Remove all members in a sorted set between the given lexicographical range", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.")
        .syntax("key min max"),
    CommandSpec::new("zpopmin", -2, WRITE | FAST, zpopmin)
        .keys(1, 1, 1)
        .group(G)
        .doc("5.0.0", "Remove and return members with the lowest scores in a sorted set", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.")
        .syntax("key [count]"),
    CommandSpec::new("zpopmax", -2, WRITE | FAST, zpopmax)
        .keys(1, 1, 1)
        .group(G)
        .doc("5.0.0", "Remove and return members with the highest scores in a sorted set", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.")
        .syntax("key [count]"),
    CommandSpec::new("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, bzpopmin)
        .keys(1, -2, 1)
        .group(G)
        .doc("5.0.0", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set.")
        .syntax("key [key ...] timeout"),
    CommandSpec::new("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, bzpopmax)
        .keys(1, -2, 1)
        .group(G)
        .doc("5.0.0", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set.")
        .syntax("key [key ...] timeout"),
    CommandSpec::new("bzmpop", -5, WRITE | BLOCKING | MOVABLEKEYS, bzmpop)
        .group(G)
        .doc("7.0.0", "Remove and return members with scores in a sorted set or block until one is available", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.")
        .syntax("timeout numkeys key [key ...] <MIN | MAX> [COUNT count]"),
    CommandSpec::new("zrandmember", -2, READONLY, zrandmember)
        .keys(1, 1, 1)
        .group(G)
        .doc("6.2.0", "Get one or multiple random elements from a sorted set", "O(N) where N is the number of elements returned")
        .syntax("key [count [WITHSCORES]]"),
    CommandSpec::new("zunion", -3, READONLY | MOVABLEKEYS, zunion)
        .group(G)
        .doc("6.2.0", "Add multiple sorted sets", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.")
        .syntax("numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]"),
    CommandSpec::new("zinter", -3, READONLY | MOVABLEKEYS, zinter)
        .group(G)
        .doc("6.2.0", "Intersect multiple sorted sets", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.")
        .syntax("numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]"),
    CommandSpec::new("zdiff", -3, READONLY | MOVABLEKEYS, zdiff)
        .group(G)
        .doc("6.2.0", "Subtract multiple sorted sets", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.")
        .syntax("numkeys key [key ...] [WITHSCORES]"),
    CommandSpec::new("zunionstore", -4, WRITE | DENYOOM | MOVABLEKEYS, zunionstore)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.")
        .syntax("destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]"),
    CommandSpec::new("zinterstore", -4, WRITE | DENYOOM | MOVABLEKEYS, zinterstore)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.")
        .syntax("destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]"),
    CommandSpec::new("zdiffstore", -4, WRITE | DENYOOM | MOVABLEKEYS, zdiffstore)
        .keys(1, 1, 1)
        .group(G)
        .doc("6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.")
        .syntax("destination numkeys key [key ...]"),
    CommandSpec::new("zintercard", -3, READONLY | MOVABLEKEYS, zintercard)
        .group(G)
        .doc("7.0.0", "Intersect multiple sorted sets and return the cardinality of the result", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.")
        .syntax("numkeys key [key ...] [LIMIT limit]"),
    CommandSpec::new("zmpop", -4, WRITE | MOVABLEKEYS, zmpop)
        .group(G)
        .doc("7.0.0", "Remove and return members with scores in a sorted set", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.")
        .syntax("numkeys key [key ...] <MIN | MAX> [COUNT count]"),
    CommandSpec::new("zscan", -3, READONLY, zscan)
        .keys(1, 1, 1)
        .group(G)
        .doc("2.8.0", "Incrementally iterate sorted sets elements and associated scores", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..")
        .syntax("key cursor [MATCH pattern] [COUNT count]"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::*;

    fn t() -> TestDb {
        TestDb::new()
    }

    /// Puts a plain set at `key` (SADD lives in another family).
    fn put_set(t: &mut TestDb, key: &str, members: &[&str]) {
        let mut s = Set::default();
        for m in members {
            s.insert(SBytes::from(m.as_bytes()));
        }
        let mut st = t.shared.state.lock();
        st.store.dbs[0].set(key.as_bytes(), Value::Set(Box::new(s)), false);
    }

    fn exists(t: &mut TestDb, key: &str) -> bool {
        let mut st = t.shared.state.lock();
        st.store.dbs[0].exists(key.as_bytes())
    }

    #[test]
    fn strtod_follows_c() {
        assert_eq!(strtod(b"1.5"), (1.5, 3, false));
        assert_eq!(strtod(b"  -2e3x"), (-2000.0, 6, false));
        assert_eq!(strtod(b"0x10"), (16.0, 4, false));
        assert_eq!(strtod(b"0x1p3"), (8.0, 5, false));
        assert_eq!(strtod(b"0x"), (0.0, 1, false));
        assert_eq!(strtod(b"1e"), (1.0, 1, false));
        assert_eq!(strtod(b"."), (0.0, 0, false));
        assert_eq!(strtod(b"-Infinity"), (f64::NEG_INFINITY, 9, false));
        assert!(strtod(b"1e400").2);
        assert!(strtod(b"1e-400").2);
        assert!(!strtod(b"0e-400").2);
        assert!(strtod(b"nan").0.is_nan());
        assert_eq!(score_arg(b"1e400"), None);
        assert_eq!(score_arg(b" 1"), None);
        assert_eq!(score_arg(b""), None);
        assert_eq!(score_arg(b"5."), Some(5.0));
        assert_eq!(score_arg(b".5"), Some(0.5));
        assert_eq!(score_arg(b"+inf"), Some(f64::INFINITY));
        assert_eq!(score_bound(b""), Some((0.0, false)));
        assert_eq!(score_bound(b"("), Some((0.0, true)));
        assert_eq!(score_bound(b" 1"), Some((1.0, false)));
        assert_eq!(score_bound(b"1 "), None);
        assert_eq!(score_bound(b"(nan"), None);
    }

    #[test]
    fn zadd_options_and_errors() {
        let mut t = t();
        assert_eq!(t.run(&["ZADD", "z", "1", "a", "2", "b"]), int(2));
        assert_eq!(
            t.run(&["ZADD", "z", "NX", "XX", "1", "a"]),
            err("ERR XX and NX options at the same time are not compatible")
        );
        assert_eq!(
            t.run(&["ZADD", "z", "GT", "LT", "1", "a"]),
            err("ERR GT, LT, and/or NX options at the same time are not compatible")
        );
        assert_eq!(
            t.run(&["ZADD", "z", "INCR", "1", "a", "2", "b"]),
            err("ERR INCR option supports a single increment-element pair")
        );
        assert_eq!(t.run(&["ZADD", "z", "NX", "CH"]), err("ERR syntax error"));
        assert_eq!(
            t.run(&["ZADD", "z", "1", "a", "2"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["ZADD", "z", "x", "a"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(
            t.run(&["ZADD", "z", "CH", "5", "a", "2", "b", "3", "c"]),
            int(2)
        );
        assert_eq!(
            t.run(&["ZADD", "z", "GT", "CH", "4", "a", "9", "b"]),
            int(1)
        );
        assert_eq!(
            t.run(&["ZADD", "z", "LT", "CH", "4", "a", "10", "b"]),
            int(1)
        );
        assert_eq!(t.run(&["ZADD", "z", "XX", "1", "new"]), int(0));
        assert_eq!(t.run(&["ZADD", "nokey", "XX", "1", "new"]), int(0));
        assert!(!exists(&mut t, "nokey"));
        assert_eq!(
            t.run(&["ZADD", "nokey", "XX", "INCR", "1", "new"]),
            Reply::Null
        );
        assert_eq!(t.run(&["ZADD", "z", "INCR", "NX", "1", "a"]), Reply::Null);
        assert_eq!(t.run(&["ZADD", "z", "INCR", "GT", "-1", "a"]), Reply::Null);
        assert_eq!(
            t.run(&["ZADD", "z", "INCR", "2.5", "a"]),
            Reply::Double(6.5)
        );
        assert_eq!(t.run(&["ZINCRBY", "z", "0x10", "a"]), Reply::Double(22.5));
        assert_eq!(
            t.run(&["ZINCRBY", "z", "inf", "a"]),
            Reply::Double(f64::INFINITY)
        );
        assert_eq!(
            t.run(&["ZINCRBY", "z", "-inf", "a"]),
            err("ERR resulting score is not a number (NaN)")
        );
        assert_eq!(t.resp(&["ZSCORE", "z", "a"]), "$3\r\ninf\r\n");
        assert_eq!(t.run(&["ZADD", "z", "-0", "zero"]), int(1));
        assert_eq!(t.resp(&["ZSCORE", "z", "zero"]), "$1\r\n0\r\n");
        t.run(&["SET", "s", "v"]);
        assert_eq!(
            t.run(&["ZADD", "s", "1", "a"]),
            err("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        // Score errors win over the type check, as in Redis.
        assert_eq!(
            t.run(&["ZADD", "s", "x", "a"]),
            err("ERR value is not a valid float")
        );
    }

    #[test]
    fn scores_ranks_counts() {
        let mut t = t();
        t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "3", "d"]);
        assert_eq!(t.run(&["ZCARD", "z"]), int(4));
        assert_eq!(t.run(&["ZCARD", "none"]), int(0));
        assert_eq!(t.run(&["ZRANK", "z", "c"]), int(2));
        assert_eq!(t.run(&["ZREVRANK", "z", "c"]), int(1));
        assert_eq!(t.run(&["ZRANK", "z", "x"]), Reply::Null);
        assert_eq!(
            t.run(&["ZMSCORE", "z", "a", "x", "d"]),
            Reply::Array(vec![Reply::Double(1.0), Reply::Null, Reply::Double(3.0)])
        );
        assert_eq!(t.run(&["ZCOUNT", "z", "(1", "3"]), int(3));
        assert_eq!(t.run(&["ZCOUNT", "z", "-inf", "(3"]), int(2));
        assert_eq!(t.run(&["ZCOUNT", "z", "3", "1"]), int(0));
        assert_eq!(
            t.run(&["ZCOUNT", "z", "x", "1"]),
            err("ERR min or max is not a float")
        );
        assert_eq!(t.run(&["ZREM", "z", "a", "x", "a"]), int(1));
        assert_eq!(t.run(&["ZREM", "z", "b", "c", "d", "e"]), int(3));
        assert!(!exists(&mut t, "z"));
    }

    #[test]
    fn ranges_by_rank_score_lex() {
        let mut t = t();
        t.run(&[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ]);
        assert_eq!(t.run(&["ZRANGE", "z", "1", "-2"]), arr(&["b", "c", "d"]));
        assert_eq!(t.run(&["ZRANGE", "z", "-100", "1"]), arr(&["a", "b"]));
        assert_eq!(t.run(&["ZRANGE", "z", "3", "1"]), arr(&[]));
        assert_eq!(t.run(&["ZRANGE", "z", "0", "1", "REV"]), arr(&["e", "d"]));
        assert_eq!(t.run(&["ZREVRANGE", "z", "0", "1"]), arr(&["e", "d"]));
        assert_eq!(
            t.resp(&["ZRANGE", "z", "0", "0", "WITHSCORES"]),
            "*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
        assert_eq!(
            t.run(&["ZRANGE", "z", "(1", "4", "BYSCORE", "LIMIT", "1", "5"]),
            arr(&["c", "d"])
        );
        assert_eq!(
            t.run(&["ZRANGE", "z", "+inf", "(2", "BYSCORE", "REV", "LIMIT", "0", "2"]),
            arr(&["e", "d"])
        );
        assert_eq!(
            t.run(&["ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", "-1", "2"]),
            arr(&[])
        );
        assert_eq!(
            t.run(&["ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", "3", "-1"]),
            arr(&["d", "e"])
        );
        assert_eq!(
            t.run(&["ZREVRANGEBYSCORE", "z", "4", "2"]),
            arr(&["d", "c", "b"])
        );
        assert_eq!(t.run(&["ZREVRANGEBYSCORE", "z", "2", "4"]), arr(&[]));
        assert_eq!(
            t.run(&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
            err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        );
        // Redis only notices LIMIT when the count is not -1.
        assert_eq!(
            t.run(&["ZRANGE", "z", "0", "0", "LIMIT", "0", "-1"]),
            arr(&["a"])
        );
        assert_eq!(
            t.run(&["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
            err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        );
        assert_eq!(
            t.run(&["ZRANGE", "z", "0", "1", "REV", "REV"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["ZRANGEBYSCORE", "z", "0", "1", "REV"]),
            err("ERR syntax error")
        );
        assert_eq!(t.run(&["ZRANGE", "none", "0", "-1"]), arr(&[]));

        t.run(&[
            "ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
        ]);
        assert_eq!(t.run(&["ZRANGEBYLEX", "l", "[b", "(d"]), arr(&["b", "c"]));
        assert_eq!(
            t.run(&["ZRANGEBYLEX", "l", "-", "+", "LIMIT", "1", "2"]),
            arr(&["b", "c"])
        );
        assert_eq!(t.run(&["ZREVRANGEBYLEX", "l", "+", "(c"]), arr(&["e", "d"]));
        assert_eq!(t.run(&["ZLEXCOUNT", "l", "(a", "[c"]), int(2));
        assert_eq!(
            t.run(&["ZLEXCOUNT", "l", "a", "+"]),
            err("ERR min or max not valid string range item")
        );
        assert_eq!(t.run(&["ZRANGEBYLEX", "l", "[c", "(c"]), arr(&[]));
    }

    #[test]
    fn resp3_withscores_pairs() {
        let mut t = t();
        t.client.resp = RespVersion::Resp3;
        t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        let pair = |m: &str, s: f64| Reply::Array(vec![bulk(m), Reply::Double(s)]);
        assert_eq!(
            t.run(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
            Reply::Array(vec![pair("a", 1.0), pair("b", 2.0)])
        );
        assert_eq!(
            t.run(&["ZUNION", "1", "z", "WITHSCORES"]),
            Reply::Array(vec![pair("a", 1.0), pair("b", 2.0), pair("c", 3.0)])
        );
        // Plain pop is flat, pop with a count is nested.
        assert_eq!(
            t.run(&["ZPOPMIN", "z"]),
            Reply::Array(vec![bulk("a"), Reply::Double(1.0)])
        );
        assert_eq!(
            t.run(&["ZPOPMAX", "z", "1"]),
            Reply::Array(vec![pair("c", 3.0)])
        );
        assert_eq!(
            t.run(&["ZRANDMEMBER", "z", "1", "WITHSCORES"]),
            Reply::Array(vec![pair("b", 2.0)])
        );
        assert_eq!(t.run(&["ZMPOP", "1", "none", "MIN"]), Reply::NullArray);
    }

    #[test]
    fn pops_and_mpop() {
        let mut t = t();
        t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(t.resp(&["ZPOPMIN", "z"]), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
        assert_eq!(t.run(&["ZPOPMIN", "z", "0"]), arr(&[]));
        assert_eq!(
            t.run(&["ZPOPMIN", "z", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(t.run(&["ZPOPMIN", "z", "1", "2"]), err("ERR syntax error"));
        assert_eq!(
            t.resp(&["ZPOPMAX", "z", "10"]),
            "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert!(!exists(&mut t, "z"));
        assert_eq!(t.run(&["ZPOPMIN", "z"]), arr(&[]));
        t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(
            t.resp(&["ZMPOP", "2", "none", "z", "MAX", "COUNT", "2"]),
            "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(t.resp(&["ZMPOP", "1", "none", "MIN"]), "*-1\r\n");
        assert_eq!(
            t.run(&["ZMPOP", "0", "z", "MIN"]),
            err("ERR numkeys should be greater than 0")
        );
        assert_eq!(
            t.run(&["ZMPOP", "1", "z", "MIN", "COUNT", "0"]),
            err("ERR count should be greater than 0")
        );
        assert_eq!(t.run(&["ZMPOP", "5", "z", "MIN"]), err("ERR syntax error"));
        assert_eq!(
            t.run(&["ZMPOP", "9223372036854775807", "z", "MIN"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn remrange_deletes_empty_keys() {
        let mut t = t();
        t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
        assert_eq!(t.run(&["ZREMRANGEBYRANK", "z", "-1", "-1"]), int(1));
        assert_eq!(t.run(&["ZREMRANGEBYSCORE", "z", "(1", "2"]), int(1));
        assert_eq!(
            t.run(&["ZREMRANGEBYSCORE", "z", "x", "2"]),
            err("ERR min or max is not a float")
        );
        assert_eq!(t.run(&["ZRANGE", "z", "0", "-1"]), arr(&["a", "c"]));
        assert_eq!(t.run(&["ZREMRANGEBYLEX", "z", "-", "+"]), int(2));
        assert!(!exists(&mut t, "z"));
        assert_eq!(t.run(&["ZREMRANGEBYRANK", "z", "0", "-1"]), int(0));
    }

    #[test]
    fn set_operations_with_plain_sets() {
        let mut t = t();
        t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        t.run(&["ZADD", "z2", "10", "b", "20", "c", "30", "d"]);
        put_set(&mut t, "s", &["a", "x", "c"]);
        assert_eq!(
            t.resp(&["ZUNION", "2", "z", "s", "WITHSCORES"]),
            "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n4\r\n"
        );
        assert_eq!(t.run(&["ZINTER", "3", "z", "z2", "s"]), arr(&["c"]));
        assert_eq!(t.run(&["ZINTERCARD", "3", "z", "z2", "s"]), int(1));
        assert_eq!(t.run(&["ZINTERCARD", "2", "z", "z2", "LIMIT", "1"]), int(1));
        assert_eq!(t.run(&["ZINTERCARD", "2", "z", "z2"]), int(2));
        assert_eq!(
            t.run(&["ZINTERCARD", "1", "z", "LIMIT", "-1"]),
            err("ERR LIMIT can't be negative")
        );
        assert_eq!(t.run(&["ZDIFF", "2", "z", "s"]), arr(&["b"]));
        assert_eq!(t.run(&["ZDIFF", "2", "s", "z"]), arr(&["x"]));
        assert_eq!(
            t.resp(&[
                "ZINTER",
                "2",
                "z",
                "z2",
                "WEIGHTS",
                "2",
                "0.5",
                "AGGREGATE",
                "MAX",
                "WITHSCORES"
            ]),
            "*4\r\n$1\r\nb\r\n$1\r\n5\r\n$1\r\nc\r\n$2\r\n10\r\n"
        );
        assert_eq!(
            t.resp(&["ZUNION", "2", "z", "z2", "WEIGHTS", "inf", "-inf", "WITHSCORES"]),
            "*8\r\n$1\r\nd\r\n$4\r\n-inf\r\n$1\r\nb\r\n$1\r\n0\r\n$1\r\nc\r\n$1\r\n0\r\n$1\r\na\r\n$3\r\ninf\r\n"
        );
        assert_eq!(
            t.run(&["ZUNION", "1", "z", "WEIGHTS", "x"]),
            err("ERR weight value is not a float")
        );
        assert_eq!(
            t.run(&["ZUNIONSTORE", "d", "0", "z"]),
            err("ERR at least 1 input key is needed for 'zunionstore' command")
        );
        assert_eq!(t.run(&["ZUNION", "3", "z"]), err("ERR syntax error"));
        assert_eq!(
            t.run(&["ZDIFF", "1", "z", "WEIGHTS", "1"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["ZUNIONSTORE", "d", "1", "z", "WITHSCORES"]),
            err("ERR syntax error")
        );
        t.run(&["SET", "str", "v"]);
        assert_eq!(
            t.run(&["ZUNION", "2", "z", "str"]),
            err("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(t.run(&["ZUNIONSTORE", "d", "2", "z", "z2"]), int(4));
        assert_eq!(
            t.resp(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
            "*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$2\r\n12\r\n$1\r\nc\r\n$2\r\n23\r\n$1\r\nd\r\n$2\r\n30\r\n"
        );
        // An empty result deletes the destination; a string destination is replaced.
        assert_eq!(t.run(&["ZINTERSTORE", "d", "2", "z", "none"]), int(0));
        assert!(!exists(&mut t, "d"));
        assert_eq!(t.run(&["ZDIFFSTORE", "str", "2", "z", "z2"]), int(1));
        assert_eq!(t.run(&["ZRANGE", "str", "0", "-1"]), arr(&["a"]));
        assert_eq!(t.run(&["ZUNIONSTORE", "z", "2", "z", "s"]), int(4));
        assert_eq!(t.run(&["ZSCORE", "z", "c"]), Reply::Double(4.0));
    }

    #[test]
    fn rangestore() {
        let mut t = t();
        t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(t.run(&["ZRANGESTORE", "d", "z", "1", "-1"]), int(2));
        assert_eq!(t.run(&["ZRANGE", "d", "0", "-1"]), arr(&["b", "c"]));
        assert_eq!(
            t.run(&["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["ZRANGESTORE", "d", "z", "[a", "[b", "BYLEX"]),
            int(2)
        );
        assert_eq!(t.run(&["ZRANGE", "d", "0", "-1"]), arr(&["a", "b"]));
        assert_eq!(t.run(&["ZRANGESTORE", "d", "none", "0", "-1"]), int(0));
        assert!(!exists(&mut t, "d"));
    }

    #[test]
    fn randmember_counts() {
        let mut t = t();
        for i in 0..50 {
            t.run(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
        }
        for n in [1usize, 5, 20, 49] {
            let Reply::Array(v) = t.run(&["ZRANDMEMBER", "z", &n.to_string()]) else {
                panic!("array")
            };
            let uniq: std::collections::HashSet<_> = v.iter().map(|r| format!("{r:?}")).collect();
            assert_eq!(uniq.len(), n, "distinct for count {n}");
        }
        let Reply::Array(v) = t.run(&["ZRANDMEMBER", "z", "-200", "WITHSCORES"]) else {
            panic!("array")
        };
        assert_eq!(v.len(), 400);
        let Reply::Array(v) = t.run(&["ZRANDMEMBER", "z", "100"]) else {
            panic!("array")
        };
        assert_eq!(v.len(), 50);
        assert_eq!(v[0], bulk("m49"));
        assert_eq!(t.run(&["ZRANDMEMBER", "none"]), Reply::Null);
        assert_eq!(t.run(&["ZRANDMEMBER", "none", "3"]), arr(&[]));
        assert_eq!(
            t.run(&["ZRANDMEMBER", "z", "1", "x"]),
            err("ERR syntax error")
        );
        assert_eq!(
            t.run(&["ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"]),
            err("ERR value is out of range")
        );
        assert!(t
            .run(&["ZRANDMEMBER", "z", "-9223372036854775807"])
            .is_error());
    }

    #[test]
    fn zscan_small_whole_large_by_cursor() {
        let mut t = t();
        t.run(&["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(
            t.resp(&["ZSCAN", "z", "0", "COUNT", "1"]),
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            t.run(&["ZSCAN", "z", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(t.run(&["ZSCAN", "z", "x"]), err("ERR invalid cursor"));
        for i in 0..1000 {
            t.run(&["ZADD", "big", &i.to_string(), &format!("m{i}")]);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            let Reply::Array(v) = t.run(&["ZSCAN", "big", &cursor, "MATCH", "m1*"]) else {
                panic!("array")
            };
            calls += 1;
            let Reply::Bulk(c) = &v[0] else {
                panic!("cursor")
            };
            cursor = String::from_utf8(c.to_vec()).unwrap();
            let Reply::Array(items) = &v[1] else {
                panic!("items")
            };
            for pair in items.chunks(2) {
                seen.insert(format!("{:?}", pair[0]));
            }
            if cursor == "0" {
                break;
            }
        }
        assert!(calls > 10);
        assert_eq!(seen.len(), 111);
    }

    #[test]
    fn randomized_ranges_against_model() {
        use rand::rngs::SmallRng;
        use rand::{Rng, SeedableRng};
        let mut rng = SmallRng::seed_from_u64(11);
        let mut t = t();
        let mut model: std::collections::BTreeMap<String, i64> = Default::default();
        for _ in 0..3000 {
            let m = format!("m{:03}", rng.gen_range(0..300));
            let s = rng.gen_range(-20..20);
            match rng.gen_range(0..4) {
                0 | 1 => {
                    t.run(&["ZADD", "z", &s.to_string(), &m]);
                    model.insert(m, s);
                }
                2 => {
                    let r = t.run(&["ZREM", "z", &m]);
                    assert_eq!(r, int(model.remove(&m).is_some() as i64));
                }
                _ => {
                    let (a, b) = (s, s + rng.gen_range(0..10));
                    let mut want: Vec<(i64, String)> = model
                        .iter()
                        .filter(|(_, &v)| v > a && v <= b)
                        .map(|(k, &v)| (v, k.clone()))
                        .collect();
                    want.sort();
                    let off = rng.gen_range(0..5);
                    let full: Vec<&str> = want.iter().map(|(_, k)| k.as_str()).collect();
                    let want: Vec<&str> = full.iter().skip(off).copied().collect();
                    let got = t.run(&[
                        "ZRANGEBYSCORE",
                        "z",
                        &format!("({a}"),
                        &b.to_string(),
                        "LIMIT",
                        &off.to_string(),
                        "-1",
                    ]);
                    assert_eq!(got, arr(&want));
                    let rev: Vec<&str> = full.iter().rev().copied().collect();
                    let got = t.run(&["ZREVRANGEBYSCORE", "z", &b.to_string(), &format!("({a}")]);
                    assert_eq!(got, arr(&rev));
                    let n = t.run(&["ZCOUNT", "z", &format!("({a}"), &b.to_string()]);
                    assert_eq!(n, int(full.len() as i64));
                }
            }
        }
        assert_eq!(t.run(&["ZCARD", "z"]), int(model.len() as i64));
    }
}

/// What the sorted-set commands propagate, checked against redis-server 7.0.15's AOF.
#[cfg(test)]
mod propagation_tests {
    use crate::cmd::testkit::TestDb;

    #[test]
    fn blocking_and_multi_key_pops_propagate_as_zpop() {
        let mut t = TestDb::new().propagating();
        for c in [
            &["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"][..],
            &["bzpopmin", "nokey", "z", "0"],
            &["bzpopmax", "z", "0"],
            &["bzmpop", "0", "1", "z", "min", "count", "3"],
            &["zadd", "z", "1", "a", "2", "b"],
            &["zmpop", "1", "z", "max"],
            &["zmpop", "1", "nokey", "max"],
            &["zpopmin", "z", "0"],
            &["zpopmin", "z", "5"],
            &["zadd", "z", "1", "a"],
            &["zadd", "z", "1", "a"],
            &["zadd", "z", "xx", "2", "b"],
            &["zincrby", "z", "0", "a"],
            &["zunionstore", "zd", "1", "nokey"],
            &["zrangestore", "zd2", "z", "5", "10"],
            &["zremrangebyscore", "z", "5", "6"],
        ] {
            t.run(c);
        }
        assert_eq!(
            t.take_propagated(),
            [
                "zadd z 1 a 2 b 3 c 4 d",
                "ZPOPMIN z",
                "ZPOPMAX z",
                "ZPOPMIN z 2",
                "zadd z 1 a 2 b",
                "ZPOPMAX z 1",
                "zpopmin z 5",
                "zadd z 1 a",
            ]
        );
    }
}
