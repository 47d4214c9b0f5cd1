//! Stream commands: XADD, XRANGE, XREAD, XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM, XINFO, ... Error texts and reply shapes follow Redis 7.0's t_stream.c.
//! BLOCK is parsed but never blocks yet (see the blocking-commands part of issue 3).

use super::*;
use crate::cmd::command::help_reply;
use crate::db::stream::{
    AppendError, Stream, StreamId, Trim, INVALID_ENTRIES_READ, NODE_MAX_ENTRIES,
};
use crate::db::{Db, Value};
use rill_protocol::fmt::parse_i64;
use rill_protocol::RespVersion;

const INVALID_ID: &str = "Invalid stream ID specified as stream command argument";

fn stream_read<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a mut Stream>, CmdError> {
    match db.get(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

fn stream_write<'a>(db: &'a mut Db, key: &[u8]) -> Result<Option<&'a mut Stream>, CmdError> {
    match db.get_mut(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Redis's string2ull: string2ll when it fits (negative rejected), else strtoull.
fn parse_u64(b: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(b) {
        return if v < 0 { None } else { Some(v as u64) };
    }
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    if i >= b.len() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &b[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

fn invalid_id() -> CmdError {
    CmdError::err(INVALID_ID)
}

/// streamGenericParseIDOrReply. Returns the ID and whether the sequence was given
/// (false only for `ms-*` when `seq_star` allows it).
fn parse_id_full(
    b: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_star: bool,
) -> Result<(StreamId, bool), CmdError> {
    if b.len() > 127 {
        return Err(invalid_id());
    }
    if b == b"-" || b == b"+" {
        if strict {
            return Err(invalid_id());
        }
        return Ok((
            if b == b"-" {
                StreamId::MIN
            } else {
                StreamId::MAX
            },
            true,
        ));
    }
    match b.iter().position(|&c| c == b'-') {
        Some(dot) => {
            let ms = parse_u64(&b[..dot]).ok_or_else(invalid_id)?;
            let rest = &b[dot + 1..];
            if seq_star && rest == b"*" {
                return Ok((StreamId::new(ms, 0), false));
            }
            let seq = parse_u64(rest).ok_or_else(invalid_id)?;
            Ok((StreamId::new(ms, seq), true))
        }
        None => {
            let ms = parse_u64(b).ok_or_else(invalid_id)?;
            Ok((StreamId::new(ms, missing_seq), true))
        }
    }
}

fn parse_strict(b: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_id_full(b, missing_seq, true, false).map(|r| r.0)
}

fn parse_loose(b: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_id_full(b, missing_seq, false, false).map(|r| r.0)
}

/// streamParseIntervalIDOrReply: `(id` is exclusive (and strict).
fn parse_interval(b: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if b.len() > 1 && b[0] == b'(' {
        Ok((parse_strict(&b[1..], missing_seq)?, true))
    } else {
        Ok((parse_loose(b, missing_seq)?, false))
    }
}

fn interval_start(b: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = parse_interval(b, 0)?;
    if ex {
        id.incr()
            .ok_or_else(|| CmdError::err("invalid start ID for the interval"))
    } else {
        Ok(id)
    }
}

fn interval_end(b: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = parse_interval(b, u64::MAX)?;
    if ex {
        id.decr()
            .ok_or_else(|| CmdError::err("invalid end ID for the interval"))
    } else {
        Ok(id)
    }
}

fn id_reply(id: StreamId) -> Reply {
    Reply::Bulk(Bytes::from(id.to_string()))
}

fn entry_reply(id: StreamId, fields: &[&[u8]]) -> Reply {
    Reply::Array(vec![
        id_reply(id),
        Reply::Array(fields.iter().map(|f| Reply::bulk_slice(f)).collect()),
    ])
}

/// Entries in a range as replies (streamReplyWithRange without a group); count 0 = all.
fn range_replies(
    s: &Stream,
    start: StreamId,
    end: StreamId,
    rev: bool,
    count: usize,
) -> Vec<Reply> {
    let mut out = Vec::new();
    s.range(start, end, rev, |id, f| {
        out.push(entry_reply(id, f));
        count == 0 || out.len() < count
    });
    out
}

fn one_entry(s: &Stream, id: StreamId) -> Option<Reply> {
    range_replies(s, id, id, false, 1).pop()
}

fn nogroup(key: &[u8], group: &[u8], suffix: &str) -> CmdError {
    CmdError::Raw(format!(
        "NOGROUP No such key '{}' or consumer group '{}'{}",
        lossy(key),
        lossy(group),
        suffix
    ))
}

fn ll_arg(b: &[u8], msg: &str) -> Result<i64, CmdError> {
    parse_i64(b).ok_or_else(|| CmdError::err(msg))
}

// ---------------------------------------------------------------------------------------
// XADD / XTRIM

struct AddTrimArgs {
    trim: Trim,
    approx: bool,
    limit: u64,
    nomkstream: bool,
    id: Option<StreamId>,
    seq_given: bool,
    /// Index of the ID (XADD) or argc (XTRIM).
    idpos: usize,
    /// Index of the MAXLEN/MINID threshold (Redis's trim_strategy_arg_idx).
    trim_arg: usize,
}

/// streamRewriteApproxSpecifier + streamRewriteTrimArgument: an approximate trim (`~`)
/// propagates as an exact one (`=`) to what it left: the stream's length for MAXLEN, its
/// first entry ID for MINID (all-ones when empty, as streamGetEdgeID). LIMIT stays, as in
/// Redis 7.0.15.
fn rewrite_approx_trim(v: &mut [Bytes], a: &AddTrimArgs, s: &Stream) {
    v[a.trim_arg - 1] = Bytes::from_static(b"=");
    v[a.trim_arg] = match a.trim {
        Trim::MinId(_) => {
            let first = s.edge_id(false).unwrap_or(StreamId::MAX);
            Bytes::from(first.to_string())
        }
        _ => Bytes::from(s.length.to_string()),
    };
}

/// streamPropagateXCLAIM: `XCLAIM key group consumer 0 id TIME <ms> RETRYCOUNT <n> FORCE
/// JUSTID LASTID <group last id>`, how deliveries and claims reach the AOF.
#[allow(clippy::too_many_arguments)]
fn xclaim_argv(
    key: &Bytes,
    group: &Bytes,
    consumer: &[u8],
    id: Bytes,
    time: i64,
    count: u64,
    last_id: StreamId,
) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XCLAIM"),
        key.clone(),
        group.clone(),
        Bytes::copy_from_slice(consumer),
        Bytes::from_static(b"0"),
        id,
        Bytes::from_static(b"TIME"),
        Bytes::from(time.to_string()),
        Bytes::from_static(b"RETRYCOUNT"),
        Bytes::from(count.to_string()),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        Bytes::from(last_id.to_string()),
    ]
}

/// streamPropagateGroupID: `XGROUP SETID key group <last id> ENTRIESREAD <n>`.
fn setid_argv(key: &Bytes, group: &Bytes, last_id: StreamId, entries_read: i64) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        key.clone(),
        group.clone(),
        Bytes::from(last_id.to_string()),
        Bytes::from_static(b"ENTRIESREAD"),
        Bytes::from(entries_read.to_string()),
    ]
}

/// streamPropagateConsumerCreation: `XGROUP CREATECONSUMER key group consumer`.
fn createconsumer_argv(key: &Bytes, group: &Bytes, consumer: &Bytes) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"CREATECONSUMER"),
        key.clone(),
        group.clone(),
        consumer.clone(),
    ]
}

/// streamParseAddOrTrimArgsOrReply.
fn parse_add_trim(argv: &[Bytes], xadd: bool) -> Result<AddTrimArgs, CmdError> {
    let mut a = AddTrimArgs {
        trim: Trim::None,
        approx: false,
        limit: 0,
        nomkstream: false,
        id: None,
        seq_given: true,
        idpos: argv.len(),
        trim_arg: 0,
    };
    let mut limit_given = false;
    let mut i = 2;
    let both = "syntax error, MAXLEN and MINID options at the same time are not compatible";
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (eq_ic(opt, "maxlen") || eq_ic(opt, "minid")) && more > 0 {
            if a.trim != Trim::None {
                return Err(CmdError::err(both));
            }
            a.approx = false;
            let next = &argv[i + 1][..];
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            a.trim_arg = i + 1;
            if eq_ic(opt, "maxlen") {
                let n = int_arg(&argv[i + 1])?;
                if n < 0 {
                    return Err(CmdError::err("The MAXLEN argument must be >= 0."));
                }
                a.trim = Trim::MaxLen(n as u64);
            } else {
                a.trim = Trim::MinId(parse_strict(&argv[i + 1], 0)?);
            }
            i += 1;
        } else if eq_ic(opt, "limit") && more > 0 {
            let n = int_arg(&argv[i + 1])?;
            if n < 0 {
                return Err(CmdError::err("The LIMIT argument must be >= 0."));
            }
            a.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && eq_ic(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            let (id, seq_given) = parse_id_full(opt, 0, true, true)?;
            a.id = Some(id);
            a.seq_given = seq_given;
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    a.idpos = i;
    if a.limit > 0 && a.trim == Trim::None {
        return Err(CmdError::err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && a.trim == Trim::None {
        return Err(CmdError::err(
            "syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !a.approx {
            return Err(CmdError::err(
                "syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if a.approx {
        a.limit = (100 * NODE_MAX_ENTRIES as u64).min(10_000);
    } else {
        a.limit = 0;
    }
    Ok(a)
}

/// ```text
/// XADD key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...]
/// ```
fn xadd(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let a = parse_add_trim(argv, true)?;
    let field_pos = a.idpos + 1;
    if argv.len() < field_pos + 2 || (argv.len() - field_pos) % 2 == 1 {
        return Err(CmdError::wrong_args("xadd"));
    }
    if a.seq_given && a.id == Some(StreamId::MIN) {
        return Err(CmdError::err(
            "The ID specified in XADD must be greater than 0-0",
        ));
    }
    let key = &argv[1];
    let now = ctx.now_ms.max(0) as u64;
    let db = ctx.db();
    if stream_write(db, key)?.is_none() {
        if a.nomkstream {
            return Ok(Reply::Null);
        }
        db.insert_new(key, Value::Stream(Box::default()));
    }
    let Some(s) = stream_write(db, key)? else {
        return Err(CmdError::err("stream vanished"));
    };
    if s.last_id == StreamId::MAX {
        return Err(CmdError::err(
            "The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let id = s.next_id(a.id, a.seq_given, now).map_err(|e| match e {
        AppendError::IdTooSmall => CmdError::err(
            "The ID specified in XADD is equal or smaller than the target stream top item",
        ),
        AppendError::SeqExhausted => CmdError::err("Elements are too large to be stored"),
    })?;
    let fields: Vec<&[u8]> = argv[field_pos..].iter().map(|b| &b[..]).collect();
    s.append(id, &fields);
    let trimmed = s.trim(a.trim, a.approx, a.limit);
    // xaddCommand: a generated ID (`*`, `ms-*`) propagates as the actual ID, an
    // approximate trim as the exact one it amounted to.
    let rewritten = (a.id.is_none() || !a.seq_given || a.approx).then(|| {
        let mut v = argv.to_vec();
        if a.id.is_none() || !a.seq_given {
            v[a.idpos] = Bytes::from(id.to_string());
        }
        if a.approx {
            rewrite_approx_trim(&mut v, &a, s);
        }
        v
    });
    db.signal_modified(key);
    if let Some(v) = rewritten {
        ctx.propagate_as(v);
    }
    ctx.notify(NOTIFY_STREAM, "xadd", key);
    ctx.dirty(1);
    if trimmed > 0 {
        ctx.notify(NOTIFY_STREAM, "xtrim", key);
    }
    Ok(id_reply(id))
}

/// ```text
/// XTRIM key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]
/// ```
fn xtrim(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    if stream_write(ctx.db(), key)?.is_none() {
        return Ok(Reply::Int(0));
    }
    let a = parse_add_trim(argv, false)?;
    let db = ctx.db();
    let Some(s) = stream_write(db, key)? else {
        return Ok(Reply::Int(0));
    };
    let deleted = s.trim(a.trim, a.approx, a.limit);
    if deleted > 0 {
        let rewritten = a.approx.then(|| {
            let mut v = argv.to_vec();
            rewrite_approx_trim(&mut v, &a, s);
            v
        });
        db.signal_modified(key);
        if let Some(v) = rewritten {
            ctx.propagate_as(v);
        }
        ctx.notify(NOTIFY_STREAM, "xtrim", key);
        ctx.dirty(deleted);
    }
    Ok(Reply::Int(deleted as i64))
}

/// ```text
/// XLEN key
/// ```
fn xlen(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(
        stream_read(ctx.db(), &argv[1])?.map_or(0, |s| s.len() as i64),
    ))
}

fn xrange_generic(ctx: &mut Ctx, argv: &[Bytes], rev: bool) -> CmdResult {
    let (sa, ea) = if rev {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    let start = interval_start(sa)?;
    let end = interval_end(ea)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if eq_ic(&argv[j], "COUNT") && j + 1 < argv.len() {
            count = int_arg(&argv[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let Some(s) = stream_read(ctx.db(), &argv[1])? else {
        return Ok(Reply::Array(vec![]));
    };
    if count == 0 {
        return Ok(Reply::NullArray);
    }
    let count = if count < 0 { 0 } else { count as usize };
    Ok(Reply::Array(range_replies(s, start, end, rev, count)))
}

/// ```text
/// XRANGE key start end [COUNT count]
/// ```
fn xrange(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    xrange_generic(ctx, argv, false)
}

/// ```text
/// XREVRANGE key end start [COUNT count]
/// ```
fn xrevrange(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    xrange_generic(ctx, argv, true)
}

/// ```text
/// XDEL key id [id ...]
/// ```
fn xdel(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    if stream_write(ctx.db(), key)?.is_none() {
        return Ok(Reply::Int(0));
    }
    let ids = argv[2..]
        .iter()
        .map(|a| parse_strict(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let db = ctx.db();
    let Some(s) = stream_write(db, key)? else {
        return Ok(Reply::Int(0));
    };
    let deleted = s.xdel(&ids);
    if deleted > 0 {
        db.signal_modified(key);
        ctx.notify(NOTIFY_STREAM, "xdel", key);
        ctx.dirty(deleted);
    }
    Ok(Reply::Int(deleted as i64))
}

/// ```text
/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
/// ```
fn xsetid(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let id = parse_strict(&argv[2], 0)?;
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if eq_ic(&argv[i], "ENTRIESADDED") && more > 0 {
            entries_added = int_arg(&argv[i + 1])?;
            if entries_added < 0 {
                return Err(CmdError::err("entries_added must be positive"));
            }
        } else if eq_ic(&argv[i], "MAXDELETEDID") && more > 0 {
            max_xdel = parse_strict(&argv[i + 1], 0)?;
            if id < max_xdel {
                return Err(CmdError::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let key = &argv[1];
    let db = ctx.db();
    let Some(s) = stream_write(db, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    if s.length > 0 {
        let maxid = s.edge_id(true).unwrap_or_default();
        if id < maxid {
            return Err(CmdError::err(
                "The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added != -1 && s.length > entries_added as u64 {
            return Err(CmdError::err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_entry_id = max_xdel;
    }
    db.signal_modified(key);
    ctx.notify(NOTIFY_STREAM, "xsetid", key);
    ctx.dirty(1);
    Ok(Reply::ok())
}

// ---------------------------------------------------------------------------------------
// XREAD / XREADGROUP

fn xread_generic(ctx: &mut Ctx, argv: &[Bytes], xreadgroup: bool) -> CmdResult {
    let mut timeout: i64 = -1;
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut streams_count = 0;
    let mut noack = false;
    let mut group: Option<(Bytes, Bytes)> = None;
    let name = if xreadgroup { "xreadgroup" } else { "xread" };
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = &argv[i];
        if eq_ic(o, "BLOCK") && more > 0 {
            i += 1;
            timeout = crate::blocking::timeout_ms(&argv[i])?;
        } else if eq_ic(o, "COUNT") && more > 0 {
            i += 1;
            count = int_arg(&argv[i])?.max(0);
        } else if eq_ic(o, "STREAMS") && more > 0 {
            streams_arg = i + 1;
            streams_count = argv.len() - streams_arg;
            if streams_count % 2 != 0 {
                let symbol = if xreadgroup { '>' } else { '$' };
                return Err(CmdError::err(format!(
                    "Unbalanced {} list of streams: for each stream key an ID or '{symbol}' must be specified.",
                    name.to_ascii_uppercase()
                )));
            }
            streams_count /= 2;
            break;
        } else if eq_ic(o, "GROUP") && more >= 2 {
            if !xreadgroup {
                return Err(CmdError::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some((argv[i + 1].clone(), argv[i + 2].clone()));
            i += 2;
        } else if eq_ic(o, "NOACK") {
            if !xreadgroup {
                return Err(CmdError::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(CmdError::Syntax);
    }
    if xreadgroup && group.is_none() {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    }
    // Parse the IDs and resolve the groups. `>` is MAX.
    let mut ids = Vec::with_capacity(streams_count);
    for k in 0..streams_count {
        let key = &argv[streams_arg + k];
        let arg = &argv[streams_arg + streams_count + k];
        let s = stream_read(ctx.db(), key)?;
        if let Some((g, _)) = &group {
            let has = s.as_ref().is_some_and(|s| s.groups.contains_key(&g[..]));
            if !has {
                return Err(nogroup(key, g, " in XREADGROUP with GROUP option"));
            }
        }
        if &arg[..] == b"$" {
            if xreadgroup {
                return Err(CmdError::err(
                    "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ));
            }
            ids.push(s.map_or(StreamId::MIN, |s| s.last_id));
            continue;
        } else if &arg[..] == b">" {
            if !xreadgroup {
                return Err(CmdError::err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ));
            }
            ids.push(StreamId::MAX);
            continue;
        }
        ids.push(parse_strict(arg, 0)?);
    }
    let now = ctx.now_ms;
    let count = count as usize;
    // xreadCommand ends with preventCommandPropagation: XREADGROUP propagates only the
    // XCLAIM / XGROUP commands its deliveries produce (streamReplyWithRange).
    if xreadgroup {
        ctx.propagate_none();
    }
    let mut out: Vec<(Reply, Reply)> = Vec::new();
    for k in 0..streams_count {
        let key = argv[streams_arg + k].clone();
        let Some(s) = stream_read(ctx.db(), &key)? else {
            continue;
        };
        let mut gt = ids[k];
        let mut serve = false;
        let mut history = false;
        if let Some((g, _)) = &group {
            if gt != StreamId::MAX {
                serve = true;
                history = true;
            } else if s.length > 0 {
                let last = s.groups.get(&g[..]).map_or(StreamId::MIN, |g| g.last_id);
                if s.edge_id(true).unwrap_or_default() > last {
                    serve = true;
                    gt = last;
                }
            }
        } else if s.length > 0 && s.edge_id(true).unwrap_or_default() > gt {
            serve = true;
        }
        if !serve {
            continue;
        }
        let start = gt.incr().unwrap_or(gt);
        let items = match &group {
            None => range_replies(s, start, StreamId::MAX, false, count),
            Some((g, c)) => {
                let sg = ServeGroup {
                    key: &key,
                    gname: g,
                    cname: c,
                    noack,
                    history,
                    now,
                };
                let (items, created, props) = serve_group(s, &sg, start, count);
                for v in props {
                    ctx.propagate_as(v);
                }
                if created {
                    ctx.notify(NOTIFY_STREAM, "xgroup-createconsumer", &key);
                    ctx.dirty(1);
                }
                ctx.dirty(1);
                items
            }
        };
        out.push((Reply::Bulk(key), Reply::Array(items)));
    }
    if !out.is_empty() {
        if group.is_some() {
            let key = argv[streams_arg].clone();
            ctx.db().signal_modified(&key);
        }
        return Ok(match ctx.client.resp {
            RespVersion::Resp2 => Reply::Array(
                out.into_iter()
                    .map(|(k, v)| Reply::Array(vec![k, v]))
                    .collect(),
            ),
            RespVersion::Resp3 => Reply::Map(out),
        });
    }
    if timeout < 0 {
        return Ok(Reply::NullArray);
    }
    // BLOCK: wait for an entry above each key's ID (crate::blocking). A group waits for
    // entries past its last delivered ID; `$` is re-sent as the ID it stood for.
    let deadline_ms = crate::blocking::deadline(timeout, ctx.now_ms)?;
    let keys: Vec<Bytes> = argv[streams_arg..streams_arg + streams_count].to_vec();
    let mut stream_ids = ids.clone();
    if let Some((g, _)) = &group {
        for (k, key) in keys.iter().enumerate() {
            if let Ok(Some(s)) = stream_read(ctx.db(), key) {
                stream_ids[k] = s.groups.get(&g[..]).map_or(StreamId::MIN, |g| g.last_id);
            }
        }
    }
    let mut retry_argv = None;
    if !xreadgroup {
        let mut a = argv.to_vec();
        for (k, id) in ids.iter().enumerate() {
            let slot = streams_arg + streams_count + k;
            if &a[slot][..] == b"$" {
                a[slot] = Bytes::from(id.to_string());
            }
        }
        retry_argv = Some(a);
    }
    crate::blocking::block(
        ctx,
        crate::blocking::BlockedOn {
            kind: crate::blocking::BlockKind::Stream,
            keys,
            stream_ids,
            deadline_ms,
            timeout_reply: Reply::NullArray,
            retry_argv,
            group: group.map(|(g, _)| g),
        },
    )
}

/// What XREADGROUP serves one stream for.
struct ServeGroup<'a> {
    key: &'a Bytes,
    gname: &'a Bytes,
    cname: &'a Bytes,
    noack: bool,
    history: bool,
    now: i64,
}

/// The group part of streamReplyWithRange / streamReplyWithRangeFromConsumerPEL.
/// Returns the entry replies, whether the consumer was created, and the commands the
/// delivery propagates as: an XCLAIM per delivered entry (streamPropagateXCLAIM), or
/// with NOACK the consumer's creation (streamPropagateConsumerCreation) and the group's
/// new last ID (streamPropagateGroupID).
fn serve_group(
    s: &mut Stream,
    sg: &ServeGroup,
    start: StreamId,
    count: usize,
) -> (Vec<Reply>, bool, Vec<Vec<Bytes>>) {
    let (gname, cname, noack, history, now) =
        (&sg.gname[..], &sg.cname[..], sg.noack, sg.history, sg.now);
    let mut props = Vec::new();
    let Some(g) = s.groups.get_mut(gname) else {
        return (vec![], false, props);
    };
    let created = g.create_consumer(cname, now);
    if created && noack {
        props.push(createconsumer_argv(sg.key, sg.gname, sg.cname));
    }
    if let Some(c) = g.consumers.get_mut(cname) {
        c.seen_time = now;
    }
    let mut items = Vec::new();
    if history {
        let pel: Vec<StreamId> = g
            .consumers
            .get(cname)
            .map(|c| {
                c.pel
                    .range(start..)
                    .take(if count == 0 { usize::MAX } else { count })
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        let mut delivered = Vec::new();
        for id in pel {
            match one_entry(s, id) {
                Some(r) => {
                    items.push(r);
                    delivered.push(id);
                }
                None => items.push(Reply::Array(vec![id_reply(id), Reply::NullArray])),
            }
        }
        if let Some(g) = s.groups.get_mut(gname) {
            for id in delivered {
                if let Some(p) = g.pel.get_mut(&id) {
                    p.delivery_time = now;
                    p.delivery_count += 1;
                }
            }
        }
        return (items, created, props);
    }
    let mut ids = Vec::new();
    s.range(start, StreamId::MAX, false, |id, f| {
        items.push(entry_reply(id, f));
        ids.push(id);
        count == 0 || items.len() < count
    });
    let mut advanced = false;
    for &id in &ids {
        let moved = s.advance_group(gname, id);
        advanced |= moved;
        if noack {
            continue;
        }
        if let Some(g) = s.groups.get_mut(gname) {
            g.assign(id, cname, now, Some(1));
            props.push(xclaim_argv(
                sg.key,
                sg.gname,
                cname,
                Bytes::from(id.to_string()),
                now,
                1,
                g.last_id,
            ));
        }
    }
    if noack && advanced {
        if let Some(g) = s.groups.get(gname) {
            props.push(setid_argv(sg.key, sg.gname, g.last_id, g.entries_read));
        }
    }
    if let Some(c) = s
        .groups
        .get_mut(gname)
        .and_then(|g| g.consumers.get_mut(cname))
    {
        if !ids.is_empty() {
            c.active_time = now;
        }
    }
    (items, created, props)
}

/// ```text
/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
/// ```
fn xread(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    xread_generic(ctx, argv, false)
}

/// ```text
/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
/// ```
fn xreadgroup(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    xread_generic(ctx, argv, true)
}

// ---------------------------------------------------------------------------------------
// XGROUP

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

fn subcommand_syntax_error(argv: &[Bytes]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        lossy(&argv[1]).chars().take(128).collect::<String>(),
        lossy(&argv[0]).to_ascii_uppercase()
    ))
}

/// ```text
/// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP ...
/// ```
fn xgroup(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let opt = &argv[1];
    if argv.len() == 2 && eq_ic(opt, "HELP") {
        return Ok(help_reply("XGROUP", XGROUP_HELP));
    }
    if argv.len() < 4 {
        return Err(subcommand_syntax_error(argv));
    }
    let create = eq_ic(opt, "CREATE");
    let setid = eq_ic(opt, "SETID");
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < argv.len() {
        if create && eq_ic(&argv[i], "MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && eq_ic(&argv[i], "ENTRIESREAD") && i + 1 < argv.len() {
            entries_read = int_arg(&argv[i + 1])?;
            if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                return Err(CmdError::err(
                    "value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(subcommand_syntax_error(argv));
        }
    }
    let key = argv[2].clone();
    let gname = argv[3].clone();
    let now = ctx.now_ms;
    let exists = stream_write(ctx.db(), &key)?.is_some();
    if !mkstream && !exists {
        return Err(CmdError::err(
            "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
        ));
    }
    let has_group =
        exists && stream_write(ctx.db(), &key)?.is_some_and(|s| s.groups.contains_key(&gname[..]));
    if !has_group && (setid || eq_ic(opt, "CREATECONSUMER") || eq_ic(opt, "DELCONSUMER")) {
        return Err(CmdError::Raw(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            lossy(&gname),
            lossy(&key)
        )));
    }
    let n = argv.len();
    if create && (5..=8).contains(&n) {
        let id = if &argv[4][..] == b"$" {
            stream_write(ctx.db(), &key)?.map_or(StreamId::MIN, |s| s.last_id)
        } else {
            parse_strict(&argv[4], 0)?
        };
        if !exists {
            ctx.db().insert_new(&key, Value::Stream(Box::default()));
        }
        let Some(s) = stream_write(ctx.db(), &key)? else {
            return Err(CmdError::NoSuchKey);
        };
        if !s.create_group(&gname, id, entries_read) {
            return Err(CmdError::Raw(
                "BUSYGROUP Consumer Group name already exists".into(),
            ));
        }
        ctx.dirty(1);
        ctx.notify(NOTIFY_STREAM, "xgroup-create", &key);
        ctx.db().signal_modified(&key);
        return Ok(Reply::ok());
    }
    let Some(s) = stream_write(ctx.db(), &key)? else {
        return Err(subcommand_syntax_error(argv));
    };
    if setid && (n == 5 || n == 7) {
        let id = if &argv[4][..] == b"$" {
            s.last_id
        } else {
            parse_loose(&argv[4], 0)?
        };
        if let Some(g) = s.groups.get_mut(&gname[..]) {
            g.last_id = id;
            g.entries_read = entries_read;
        }
        ctx.dirty(1);
        ctx.notify(NOTIFY_STREAM, "xgroup-setid", &key);
        ctx.db().signal_modified(&key);
        Ok(Reply::ok())
    } else if eq_ic(opt, "DESTROY") && n == 4 {
        if s.groups.remove(&gname[..]).is_some() {
            ctx.dirty(1);
            ctx.notify(NOTIFY_STREAM, "xgroup-destroy", &key);
            ctx.db().signal_modified(&key);
            Ok(Reply::Int(1))
        } else {
            Ok(Reply::Int(0))
        }
    } else if eq_ic(opt, "CREATECONSUMER") && n == 5 {
        let created = s
            .groups
            .get_mut(&gname[..])
            .is_some_and(|g| g.create_consumer(&argv[4], now));
        if created {
            ctx.dirty(1);
            ctx.notify(NOTIFY_STREAM, "xgroup-createconsumer", &key);
            ctx.db().signal_modified(&key);
        }
        Ok(Reply::Int(created as i64))
    } else if eq_ic(opt, "DELCONSUMER") && n == 5 {
        let Some(g) = s.groups.get_mut(&gname[..]) else {
            return Ok(Reply::Int(0));
        };
        // Redis 7.0 counts (and so propagates) only the deletion of an existing consumer.
        if !g.consumers.contains_key(&argv[4][..]) {
            return Ok(Reply::Int(0));
        }
        let pending = g.delete_consumer(&argv[4]);
        ctx.dirty(1);
        ctx.notify(NOTIFY_STREAM, "xgroup-delconsumer", &key);
        ctx.db().signal_modified(&key);
        Ok(Reply::Int(pending as i64))
    } else {
        Err(subcommand_syntax_error(argv))
    }
}

// ---------------------------------------------------------------------------------------
// XACK / XPENDING / XCLAIM / XAUTOCLAIM

/// ```text
/// XACK key group id [id ...]
/// ```
fn xack(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let has = stream_read(ctx.db(), key)?.is_some_and(|s| s.groups.contains_key(&argv[2][..]));
    if !has {
        return Ok(Reply::Int(0));
    }
    let ids = argv[3..]
        .iter()
        .map(|a| parse_strict(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let db = ctx.db();
    let Some(g) = stream_read(db, key)?.and_then(|s| s.groups.get_mut(&argv[2][..])) else {
        return Ok(Reply::Int(0));
    };
    let acked = ids.into_iter().filter(|&id| g.ack(id)).count();
    if acked > 0 {
        db.signal_modified(key);
        ctx.dirty(acked as u64);
    }
    Ok(Reply::Int(acked as i64))
}

/// ```text
/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
/// ```
fn xpending(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let n = argv.len();
    let justinfo = n == 3;
    if n != 3 && !(6..=9).contains(&n) {
        return Err(CmdError::Syntax);
    }
    let mut minidle = 0i64;
    let mut start = StreamId::MIN;
    let mut end = StreamId::MAX;
    let mut count = 0i64;
    let mut consumer: Option<Bytes> = None;
    if n >= 6 {
        let mut si = 3;
        if eq_ic(&argv[3], "IDLE") {
            minidle = int_arg(&argv[4])?;
            if n < 8 {
                return Err(CmdError::Syntax);
            }
            si += 2;
        }
        count = int_arg(&argv[si + 2])?.max(0);
        start = interval_start(&argv[si])?;
        end = interval_end(&argv[si + 1])?;
        if si + 3 < n {
            consumer = Some(argv[si + 3].clone());
        }
    }
    let now = ctx.now_ms;
    let s = stream_read(ctx.db(), &argv[1])?;
    let Some(g) = s.and_then(|s| s.groups.get(&argv[2][..])) else {
        return Err(nogroup(&argv[1], &argv[2], ""));
    };
    if justinfo {
        if g.pel.is_empty() {
            return Ok(Reply::Array(vec![
                Reply::Int(0),
                Reply::Null,
                Reply::Null,
                Reply::NullArray,
            ]));
        }
        let first = g.pel.keys().next().copied().unwrap_or_default();
        let last = g.pel.keys().next_back().copied().unwrap_or_default();
        let consumers = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .map(|(name, c)| {
                Reply::Array(vec![
                    Reply::bulk_slice(name),
                    Reply::Bulk(Bytes::from(c.pel.len().to_string())),
                ])
            })
            .collect();
        return Ok(Reply::Array(vec![
            Reply::Int(g.pel.len() as i64),
            id_reply(first),
            id_reply(last),
            Reply::Array(consumers),
        ]));
    }
    let mut out = Vec::new();
    if start > end || count == 0 {
        return Ok(Reply::Array(out));
    }
    let ids: Box<dyn Iterator<Item = StreamId>> = match &consumer {
        Some(c) => match g.consumers.get(&c[..]) {
            None => return Ok(Reply::Array(vec![])),
            Some(c) => Box::new(c.pel.range(start..=end).copied()),
        },
        None => Box::new(g.pel.range(start..=end).map(|(k, _)| *k)),
    };
    for id in ids {
        if count == 0 {
            break;
        }
        let Some(p) = g.pel.get(&id) else { continue };
        if minidle != 0 && now - p.delivery_time < minidle {
            continue;
        }
        count -= 1;
        out.push(Reply::Array(vec![
            id_reply(id),
            Reply::bulk_slice(&p.consumer),
            Reply::Int((now - p.delivery_time).max(0)),
            Reply::Int(p.delivery_count as i64),
        ]));
    }
    Ok(Reply::Array(out))
}

/// ```text
/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
/// ```
fn xclaim(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = argv[1].clone();
    let has = stream_read(ctx.db(), &key)?.is_some_and(|s| s.groups.contains_key(&argv[2][..]));
    if !has {
        return Err(nogroup(&key, &argv[2], ""));
    }
    let minidle = ll_arg(&argv[4], "Invalid min-idle-time argument for XCLAIM")?.max(0);
    let mut j = 5;
    let mut ids = Vec::new();
    while j < argv.len() {
        match parse_strict(&argv[j], 0) {
            Ok(id) => ids.push((id, argv[j].clone())),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now_ms;
    let mut force = false;
    let mut justid = false;
    let mut deliverytime: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j];
        if eq_ic(opt, "FORCE") {
            force = true;
        } else if eq_ic(opt, "JUSTID") {
            justid = true;
        } else if eq_ic(opt, "IDLE") && more > 0 {
            j += 1;
            deliverytime = now - ll_arg(&argv[j], "Invalid IDLE option argument for XCLAIM")?;
        } else if eq_ic(opt, "TIME") && more > 0 {
            j += 1;
            deliverytime = ll_arg(&argv[j], "Invalid TIME option argument for XCLAIM")?;
        } else if eq_ic(opt, "RETRYCOUNT") && more > 0 {
            j += 1;
            retrycount = ll_arg(&argv[j], "Invalid RETRYCOUNT option argument for XCLAIM")?;
        } else if eq_ic(opt, "LASTID") && more > 0 {
            j += 1;
            last_id = parse_strict(&argv[j], 0)?;
        } else {
            return Err(CmdError::err(format!(
                "Unrecognized XCLAIM option '{}'",
                lossy(opt)
            )));
        }
        j += 1;
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    let cname = argv[3].clone();
    let gname = argv[2].clone();
    let Some(s) = stream_read(ctx.db(), &key)? else {
        return Err(nogroup(&key, &gname, ""));
    };
    let mut dirty = 0u64;
    let mut created = false;
    let mut out = Vec::new();
    // xclaimCommand propagates one XCLAIM per claimed (or vanished) entry, or, if none,
    // the LASTID move as XGROUP SETID; never itself.
    let mut props = Vec::new();
    let mut propagate_last_id = false;
    if let Some(g) = s.groups.get_mut(&gname[..]) {
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    for (id, id_arg) in ids {
        let exists = s.contains(id);
        let reply = if exists && !justid {
            one_entry(s, id)
        } else {
            None
        };
        let Some(g) = s.groups.get_mut(&gname[..]) else {
            break;
        };
        if !exists {
            // The entry is gone: drop it from the PEL, propagated as an XCLAIM of its
            // old owner and metadata (which the replica applies the same way).
            if let Some(p) = g.pel.get(&id) {
                props.push(xclaim_argv(
                    &key,
                    &gname,
                    p.consumer.as_bytes(),
                    id_arg,
                    p.delivery_time,
                    p.delivery_count,
                    g.last_id,
                ));
                propagate_last_id = false;
                g.ack(id);
                dirty += 1;
            }
            continue;
        }
        let pending = g.pel.get(&id).map(|p| p.delivery_time);
        let forced = pending.is_none();
        if forced && !force {
            continue;
        }
        if let Some(t) = pending {
            if minidle != 0 && now - t < minidle {
                continue;
            }
        }
        if g.create_consumer(&cname, now) {
            created = true;
        }
        if let Some(c) = g.consumers.get_mut(&cname[..]) {
            c.seen_time = now;
            c.active_time = now;
        }
        let prev = g.pel.get(&id).map_or(1, |p| p.delivery_count);
        let newcount = if retrycount >= 0 {
            retrycount as u64
        } else if !justid {
            prev + 1
        } else {
            prev
        };
        g.assign(id, &cname, deliverytime, Some(newcount));
        props.push(xclaim_argv(
            &key,
            &gname,
            &cname,
            id_arg,
            deliverytime,
            newcount,
            g.last_id,
        ));
        propagate_last_id = false;
        out.push(if justid {
            id_reply(id)
        } else {
            reply.unwrap_or(Reply::NullArray)
        });
        dirty += 1;
    }
    if propagate_last_id {
        if let Some(g) = s.groups.get(&gname[..]) {
            props.push(setid_argv(&key, &gname, g.last_id, g.entries_read));
        }
        dirty += 1;
    }
    ctx.propagate_none();
    for v in props {
        ctx.propagate_as(v);
    }
    if created {
        ctx.notify(NOTIFY_STREAM, "xgroup-createconsumer", &key);
        dirty += 1;
    }
    if dirty > 0 {
        ctx.db().signal_modified(&key);
        ctx.dirty(dirty);
    }
    Ok(Reply::Array(out))
}

/// ```text
/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
/// ```
fn xautoclaim(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let minidle = ll_arg(&argv[4], "Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = interval_start(&argv[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    let max_count = i64::MAX / 16;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if eq_ic(&argv[j], "COUNT") && more > 0 {
            count = match parse_i64(&argv[j + 1]) {
                Some(c) if (1..=max_count).contains(&c) => c,
                _ => return Err(CmdError::err("COUNT must be > 0")),
            };
            j += 1;
        } else if eq_ic(&argv[j], "JUSTID") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let key = argv[1].clone();
    let gname = argv[2].clone();
    let cname = argv[3].clone();
    let now = ctx.now_ms;
    let Some(s) = stream_read(ctx.db(), &key)? else {
        return Err(nogroup(&key, &gname, ""));
    };
    if !s.groups.contains_key(&gname[..]) {
        return Err(nogroup(&key, &gname, ""));
    }
    let mut attempts = count.saturating_mul(10);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut created = false;
    let mut dirty = 0u64;
    // xautoclaimCommand propagates an XCLAIM per claimed or vanished entry, never itself.
    let mut props = Vec::new();
    let mut lower = std::ops::Bound::Included(start);
    loop {
        if attempts == 0 {
            break;
        }
        attempts -= 1;
        if count == 0 {
            break;
        }
        let next = s
            .groups
            .get(&gname[..])
            .and_then(|g| g.pel.range((lower, std::ops::Bound::Unbounded)).next())
            .map(|(k, p)| (*k, p.delivery_time));
        let Some((id, dtime)) = next else { break };
        lower = std::ops::Bound::Excluded(id);
        if !s.contains(id) {
            if let Some(g) = s.groups.get_mut(&gname[..]) {
                if let Some(p) = g.pel.get(&id) {
                    props.push(xclaim_argv(
                        &key,
                        &gname,
                        p.consumer.as_bytes(),
                        Bytes::from(id.to_string()),
                        p.delivery_time,
                        p.delivery_count,
                        g.last_id,
                    ));
                }
                g.ack(id);
            }
            deleted.push(id_reply(id));
            dirty += 1;
            count -= 1;
            continue;
        }
        if minidle != 0 && now - dtime < minidle {
            continue;
        }
        let reply = if justid {
            id_reply(id)
        } else {
            one_entry(s, id).unwrap_or(Reply::NullArray)
        };
        let Some(g) = s.groups.get_mut(&gname[..]) else {
            break;
        };
        if g.create_consumer(&cname, now) {
            created = true;
        }
        if let Some(c) = g.consumers.get_mut(&cname[..]) {
            c.seen_time = now;
            c.active_time = now;
        }
        let prev = g.pel.get(&id).map_or(1, |p| p.delivery_count);
        let newcount = if justid { prev } else { prev + 1 };
        g.assign(id, &cname, now, Some(newcount));
        props.push(xclaim_argv(
            &key,
            &gname,
            &cname,
            Bytes::from(id.to_string()),
            now,
            newcount,
            g.last_id,
        ));
        claimed.push(reply);
        count -= 1;
        dirty += 1;
    }
    let cursor = s
        .groups
        .get(&gname[..])
        .and_then(|g| g.pel.range((lower, std::ops::Bound::Unbounded)).next())
        .map_or(StreamId::MIN, |(k, _)| *k);
    ctx.propagate_none();
    for v in props {
        ctx.propagate_as(v);
    }
    if created {
        ctx.notify(NOTIFY_STREAM, "xgroup-createconsumer", &key);
        dirty += 1;
    }
    if dirty > 0 {
        ctx.db().signal_modified(&key);
        ctx.dirty(dirty);
    }
    Ok(Reply::Array(vec![
        id_reply(cursor),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ]))
}

// ---------------------------------------------------------------------------------------
// XINFO

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

fn kv(k: &'static str, v: Reply) -> (Reply, Reply) {
    (Reply::Bulk(Bytes::from_static(k.as_bytes())), v)
}

fn opt_int(v: Option<i64>) -> Reply {
    v.map_or(Reply::Null, Reply::Int)
}

fn entries_read_reply(v: i64) -> Reply {
    if v == INVALID_ENTRIES_READ {
        Reply::Null
    } else {
        Reply::Int(v)
    }
}

/// ```text
/// XINFO HELP
/// ```
fn xinfo_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(help_reply("XINFO", XINFO_HELP))
}

fn xinfo_stream_of<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<&'a mut Stream, CmdError> {
    stream_read(ctx.db(), key)?.ok_or(CmdError::NoSuchKey)
}

/// ```text
/// XINFO CONSUMERS key group
/// ```
fn xinfo_consumers(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let now = ctx.now_ms;
    let s = xinfo_stream_of(ctx, &argv[2])?;
    let Some(g) = s.groups.get(&argv[3][..]) else {
        return Err(CmdError::Raw(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            lossy(&argv[3]),
            lossy(&argv[2])
        )));
    };
    Ok(Reply::Array(
        g.consumers
            .iter()
            .map(|(name, c)| {
                Reply::Map(vec![
                    kv("name", Reply::bulk_slice(name)),
                    kv("pending", Reply::Int(c.pel.len() as i64)),
                    kv("idle", Reply::Int((now - c.seen_time).max(0))),
                ])
            })
            .collect(),
    ))
}

/// ```text
/// XINFO GROUPS key
/// ```
fn xinfo_groups(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let s = xinfo_stream_of(ctx, &argv[2])?;
    Ok(Reply::Array(
        s.groups
            .iter()
            .map(|(name, g)| {
                Reply::Map(vec![
                    kv("name", Reply::bulk_slice(name)),
                    kv("consumers", Reply::Int(g.consumers.len() as i64)),
                    kv("pending", Reply::Int(g.pel.len() as i64)),
                    kv("last-delivered-id", id_reply(g.last_id)),
                    kv("entries-read", entries_read_reply(g.entries_read)),
                    kv("lag", opt_int(s.group_lag(g))),
                ])
            })
            .collect(),
    ))
}

/// ```text
/// XINFO STREAM key [FULL [COUNT count]]
/// ```
fn xinfo_stream(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut full = false;
    let mut count: i64 = 10;
    if argv.len() > 3 {
        if !eq_ic(&argv[3], "FULL") {
            return Err(subcommand_syntax_error(argv));
        }
        full = true;
        if argv.len() > 4 {
            if argv.len() != 6 || !eq_ic(&argv[4], "COUNT") {
                return Err(subcommand_syntax_error(argv));
            }
            count = int_arg(&argv[5])?.max(0);
        }
    }
    let s = xinfo_stream_of(ctx, &argv[2])?;
    let mut m = vec![
        kv("length", Reply::Int(s.len() as i64)),
        kv("radix-tree-keys", Reply::Int(s.block_count() as i64)),
        kv("radix-tree-nodes", Reply::Int(s.block_count() as i64 + 1)),
        kv("last-generated-id", id_reply(s.last_id)),
        kv("max-deleted-entry-id", id_reply(s.max_deleted_entry_id)),
        kv("entries-added", Reply::Int(s.entries_added as i64)),
        kv("recorded-first-entry-id", id_reply(s.first_id)),
    ];
    if !full {
        m.push(kv("groups", Reply::Int(s.groups.len() as i64)));
        let first = range_replies(s, StreamId::MIN, StreamId::MAX, false, 1).pop();
        let last = range_replies(s, StreamId::MIN, StreamId::MAX, true, 1).pop();
        m.push(kv("first-entry", first.unwrap_or(Reply::Null)));
        m.push(kv("last-entry", last.unwrap_or(Reply::Null)));
        return Ok(Reply::Map(m));
    }
    let count = count as usize;
    let take = if count == 0 { usize::MAX } else { count };
    m.push(kv(
        "entries",
        Reply::Array(range_replies(s, StreamId::MIN, StreamId::MAX, false, count)),
    ));
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| {
            let pending = g
                .pel
                .iter()
                .take(take)
                .map(|(id, p)| {
                    Reply::Array(vec![
                        id_reply(*id),
                        Reply::bulk_slice(&p.consumer),
                        Reply::Int(p.delivery_time),
                        Reply::Int(p.delivery_count as i64),
                    ])
                })
                .collect();
            let consumers = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let pend = c
                        .pel
                        .iter()
                        .take(take)
                        .filter_map(|id| {
                            g.pel.get(id).map(|p| {
                                Reply::Array(vec![
                                    id_reply(*id),
                                    Reply::Int(p.delivery_time),
                                    Reply::Int(p.delivery_count as i64),
                                ])
                            })
                        })
                        .collect();
                    Reply::Map(vec![
                        kv("name", Reply::bulk_slice(cname)),
                        kv("seen-time", Reply::Int(c.seen_time)),
                        kv("pel-count", Reply::Int(c.pel.len() as i64)),
                        kv("pending", Reply::Array(pend)),
                    ])
                })
                .collect();
            Reply::Map(vec![
                kv("name", Reply::bulk_slice(name)),
                kv("last-delivered-id", id_reply(g.last_id)),
                kv("entries-read", entries_read_reply(g.entries_read)),
                kv("lag", opt_int(s.group_lag(g))),
                kv("pel-count", Reply::Int(g.pel.len() as i64)),
                kv("pending", Reply::Array(pending)),
                kv("consumers", Reply::Array(consumers)),
            ])
        })
        .collect();
    m.push(kv("groups", Reply::Array(groups)));
    Ok(Reply::Map(m))
}

static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("create", -5, WRITE | DENYOOM, xgroup)
        .keys(2, 2, 1)
        .group("stream")
        .doc("5.0.0", "Create a consumer group.", "O(1)")
        .syntax("key group <id | $> [MKSTREAM] [ENTRIESREAD entries-read]"),
    CommandSpec::new("createconsumer", 5, WRITE | DENYOOM, xgroup)
        .keys(2, 2, 1)
        .group("stream")
        .doc("6.2.0", "Create a consumer in a consumer group.", "O(1)")
        .syntax("key group consumer"),
    CommandSpec::new("delconsumer", 5, WRITE, xgroup)
        .keys(2, 2, 1)
        .group("stream")
        .doc("5.0.0", "Delete a consumer from a consumer group.", "O(1)")
        .syntax("key group consumer"),
    CommandSpec::new("destroy", 4, WRITE, xgroup)
        .keys(2, 2, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "Destroy a consumer group.",
            "O(N) where N is the number of entries in the group's pending entries list (PEL).",
        )
        .syntax("key group"),
    CommandSpec::new("help", 2, LOADING | STALE, xgroup)
        .group("stream")
        .doc(
            "5.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
    CommandSpec::new("setid", -5, WRITE, xgroup)
        .keys(2, 2, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "Set a consumer group to an arbitrary last delivered ID value.",
            "O(1)",
        )
        .syntax("key group <id | $> [ENTRIESREAD entries-read]"),
];

static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("consumers", 4, READONLY, xinfo_consumers)
        .keys(2, 2, 1)
        .group("stream")
        .doc("5.0.0", "List the consumers in a consumer group", "O(1)")
        .syntax("key group"),
    CommandSpec::new("groups", 3, READONLY, xinfo_groups)
        .keys(2, 2, 1)
        .group("stream")
        .doc("5.0.0", "List the consumer groups of a stream", "O(1)")
        .syntax("key"),
    CommandSpec::new("help", 2, LOADING | STALE, xinfo_help)
        .group("stream")
        .doc(
            "5.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
    CommandSpec::new("stream", -3, READONLY, xinfo_stream)
        .keys(2, 2, 1)
        .group("stream")
        .doc("5.0.0", "Get information about a stream", "O(1)")
        .syntax("key [FULL [COUNT count]]"),
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("xadd", -5, WRITE | DENYOOM | FAST, xadd)
        .keys(1, 1, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "Appends a new entry to a stream",
            "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
        )
        .syntax("key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...]"),
    CommandSpec::new("xack", -4, WRITE | FAST, xack)
        .keys(1, 1, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
            "O(1) for each message ID processed.",
        )
        .syntax("key group id [id ...]"),
    CommandSpec::new("xautoclaim", -6, WRITE | FAST, xautoclaim)
        .keys(1, 1, 1)
        .group("stream")
        .doc(
            "6.2.0",
            "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
            "O(1) if COUNT is small.",
        )
        .syntax("key group consumer min-idle-time start [COUNT count] [JUSTID]"),
    CommandSpec::new("xclaim", -6, WRITE | FAST, xclaim)
        .keys(1, 1, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
            "O(log N) with N being the number of messages in the PEL of the consumer group.",
        )
        .syntax("key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]"),
    CommandSpec::new("xdel", -3, WRITE | FAST, xdel)
        .keys(1, 1, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
            "O(1) for each single item to delete in the stream, regardless of the stream size.",
        )
        .syntax("key id [id ...]"),
    CommandSpec::container("xgroup", XGROUP_SUBCOMMANDS)
        .group("stream")
        .doc("5.0.0", "A container for consumer groups commands", "Depends on subcommand."),
    CommandSpec::container("xinfo", XINFO_SUBCOMMANDS)
        .group("stream")
        .doc("5.0.0", "A container for stream introspection commands", "Depends on subcommand."),
    CommandSpec::new("xlen", 2, READONLY | FAST, xlen)
        .keys(1, 1, 1)
        .group("stream")
        .doc("5.0.0", "Return the number of entries in a stream", "O(1)")
        .syntax("key"),
    CommandSpec::new("xpending", -3, READONLY, xpending)
        .keys(1, 1, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
            "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
        )
        .syntax("key group [[IDLE min-idle-time] start end count [consumer]]"),
    CommandSpec::new("xrange", -4, READONLY, xrange)
        .keys(1, 1, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "Return a range of elements in a stream, with IDs matching the specified IDs interval",
            "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        )
        .syntax("key start end [COUNT count]"),
    CommandSpec::new("xread", -4, READONLY | BLOCKING | MOVABLEKEYS, xread)
        .group("stream")
        .doc(
            "5.0.0",
            "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
            "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
        )
        .syntax("[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]"),
    CommandSpec::new("xreadgroup", -7, WRITE | BLOCKING | MOVABLEKEYS, xreadgroup)
        .group("stream")
        .doc(
            "5.0.0",
            "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
            "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
        )
        .syntax("GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]"),
    CommandSpec::new("xrevrange", -4, READONLY, xrevrange)
        .keys(1, 1, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
            "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        )
        .syntax("key end start [COUNT count]"),
    CommandSpec::new("xsetid", -3, WRITE | DENYOOM | FAST, xsetid)
        .keys(1, 1, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "An internal command for replicating stream values",
            "O(1)",
        )
        .syntax("key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]"),
    CommandSpec::new("xtrim", -4, WRITE, xtrim)
        .keys(1, 1, 1)
        .group("stream")
        .doc(
            "5.0.0",
            "Trims the stream to (approximately if '~' is passed) a certain size",
            "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
        )
        .syntax("key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::*;

    #[test]
    fn id_parsing_follows_string2ull() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_strict(b"5", 7).unwrap(), StreamId::new(5, 7));
        assert!(parse_strict(b"-", 0).is_err());
        assert_eq!(parse_loose(b"+", 0).unwrap(), StreamId::MAX);
        assert_eq!(
            parse_id_full(b"3-*", 0, true, true).unwrap(),
            (StreamId::new(3, 0), false)
        );
        assert!(parse_strict(b"3-*", 0).is_err());
        assert!(parse_strict(&[b'1'; 128], 0).is_err());
    }

    #[test]
    fn xadd_trim_and_range() {
        let mut db = TestDb::new();
        assert_eq!(db.run(&["XADD", "s", "1-1", "a", "1"]), bulk("1-1"));
        assert_eq!(db.run(&["XADD", "s", "1-*", "a", "2"]), bulk("1-2"));
        assert_eq!(
            db.run(&["XADD", "s", "MAXLEN", "1", "2-0", "a", "3"]),
            bulk("2-0")
        );
        assert_eq!(db.run(&["XLEN", "s"]), int(1));
        assert_eq!(
            db.resp(&["XRANGE", "s", "-", "+"]),
            "*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            db.run(&["XRANGE", "s", "-", "+", "COUNT", "0"]),
            Reply::NullArray
        );
        assert_eq!(
            db.run(&["XADD", "s", "2-0", "a", "1"]),
            err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
        );
        assert_eq!(
            db.run(&["XADD", "s", "LIMIT", "5", "3-0", "a", "1"]),
            err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
        );
        assert_eq!(
            db.run(&["XADD", "n", "NOMKSTREAM", "*", "a", "1"]),
            Reply::Null
        );
        assert_eq!(db.run(&["EXISTS", "n"]), int(0));
        assert_eq!(db.run(&["XDEL", "s", "2-0", "2-0"]), int(1));
        assert_eq!(db.run(&["XLEN", "s"]), int(0));
        assert_eq!(
            db.run(&["TYPE", "s"]),
            Reply::Simple(Bytes::from_static(b"stream"))
        );
    }

    #[test]
    fn groups_pel_and_claims() {
        let mut db = TestDb::new();
        db.run(&["XADD", "s", "1-0", "f", "v"]);
        db.run(&["XADD", "s", "2-0", "f", "v"]);
        assert_eq!(db.run(&["XGROUP", "CREATE", "s", "g", "0"]), Reply::ok());
        let r = db.run(&["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]);
        assert!(matches!(&r, Reply::Array(a) if a.len() == 1), "{r:?}");
        assert_eq!(
            db.resp(&["XPENDING", "s", "g"]),
            "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$2\r\nc1\r\n$1\r\n2\r\n"
        );
        db.now_ms += 5000;
        assert_eq!(
            db.run(&["XCLAIM", "s", "g", "c2", "4000", "1-0", "JUSTID"]),
            arr(&["1-0"])
        );
        // 2-0 is not idle long enough after a fresh claim.
        assert_eq!(
            db.run(&["XCLAIM", "s", "g", "c2", "4000", "1-0"]),
            Reply::Array(vec![])
        );
        assert_eq!(db.run(&["XACK", "s", "g", "1-0", "2-0"]), int(2));
        assert_eq!(
            db.resp(&["XPENDING", "s", "g"]),
            "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
        );
        assert_eq!(
            db.run(&["XREADGROUP", "GROUP", "x", "c", "STREAMS", "s", ">"]),
            err("NOGROUP No such key 's' or consumer group 'x' in XREADGROUP with GROUP option")
        );
    }
}

/// What the stream commands propagate, checked against redis-server 7.0.15's AOF.
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
    fn xadd_propagates_the_actual_id_and_exact_trims() {
        let mut t = db();
        let got = run(
            &mut t,
            &[
                &["xadd", "s", "*", "a", "1"],
                &["xadd", "s", "5-*", "a", "1"],
                &["xadd", "s", "1700000000000-*", "a", "1"],
                &["xadd", "s", "99999999999999-1", "a", "1"],
                &["xadd", "s", "maxlen", "~", "10", "*", "b", "2"],
                &["xadd", "s", "minid", "~", "0", "*", "b", "2"],
                &["xadd", "s", "maxlen", "=", "3", "*", "c", "3"],
                &[
                    "xadd",
                    "s",
                    "nomkstream",
                    "maxlen",
                    "~",
                    "2",
                    "limit",
                    "50",
                    "*",
                    "d",
                    "4",
                ],
                &["xtrim", "s", "maxlen", "~", "1"],
                &["xtrim", "s", "maxlen", "1"],
                &["xtrim", "s", "maxlen", "10"],
            ],
        );
        assert_eq!(
            got,
            [
                "xadd s 1700000000000-0 a 1",
                "xadd s 1700000000000-1 a 1",
                "xadd s 99999999999999-1 a 1",
                "xadd s maxlen = 4 99999999999999-2 b 2",
                "xadd s minid = 1700000000000-0 99999999999999-3 b 2",
                "xadd s maxlen = 3 99999999999999-4 c 3",
                "xadd s nomkstream maxlen = 4 limit 50 99999999999999-5 d 4",
                "xtrim s maxlen 1",
            ]
        );
    }

    #[test]
    fn approximate_trims_that_remove_nodes() {
        let mut t = db();
        for i in 1..=250 {
            t.run(&["xadd", "t", &format!("1-{i}"), "a", "1"]);
        }
        t.take_propagated();
        let got = run(
            &mut t,
            &[
                &["xtrim", "t", "maxlen", "~", "10"],
                &["xtrim", "t", "minid", "~", "1-240"],
                &[
                    "xadd", "t", "maxlen", "~", "0", "limit", "10", "1-251", "a", "1",
                ],
                &["xadd", "t", "minid", "~", "1-251", "1-252", "a", "1"],
            ],
        );
        assert_eq!(
            got,
            [
                "xtrim t maxlen = 50",
                "xadd t maxlen = 51 limit 10 1-251 a 1",
                "xadd t minid = 1-201 1-252 a 1",
            ]
        );
    }

    #[test]
    fn xreadgroup_propagates_xclaims_or_noack_group_moves() {
        let mut t = db();
        let got = run(
            &mut t,
            &[
                &["xadd", "s2", "1-1", "a", "1"],
                &["xadd", "s2", "1-2", "a", "2"],
                &["xgroup", "create", "s2", "g", "0"],
                &[
                    "xreadgroup",
                    "group",
                    "g",
                    "alice",
                    "count",
                    "1",
                    "streams",
                    "s2",
                    ">",
                ],
                &["xreadgroup", "group", "g", "bob", "streams", "s2", ">"],
                &[
                    "xreadgroup",
                    "group",
                    "g",
                    "bob",
                    "noack",
                    "streams",
                    "s2",
                    ">",
                ],
                &["xreadgroup", "group", "g", "frank", "streams", "s2", ">"],
                &["xadd", "s2", "1-3", "a", "3"],
                &[
                    "xreadgroup",
                    "group",
                    "g",
                    "carl",
                    "noack",
                    "streams",
                    "s2",
                    ">",
                ],
                &["xreadgroup", "group", "g", "alice", "streams", "s2", "0"],
                &["xreadgroup", "group", "g", "newc", "streams", "s2", "0"],
                &[
                    "xreadgroup",
                    "group",
                    "g",
                    "eve2",
                    "noack",
                    "streams",
                    "s2",
                    "0",
                ],
                &["xgroup", "createconsumer", "s2", "g", "dave"],
                &["xgroup", "createconsumer", "s2", "g", "dave"],
                &["xgroup", "delconsumer", "s2", "g", "nobody"],
                &["xgroup", "delconsumer", "s2", "g", "dave"],
            ],
        );
        assert_eq!(
            got,
            [
                "xadd s2 1-1 a 1",
                "xadd s2 1-2 a 2",
                "xgroup create s2 g 0",
                "XCLAIM s2 g alice 0 1-1 TIME 1700000000000 RETRYCOUNT 1 FORCE JUSTID LASTID 1-1",
                "XCLAIM s2 g bob 0 1-2 TIME 1700000000000 RETRYCOUNT 1 FORCE JUSTID LASTID 1-2",
                "xadd s2 1-3 a 3",
                "MULTI",
                "XGROUP CREATECONSUMER s2 g carl",
                "XGROUP SETID s2 g 1-3 ENTRIESREAD 3",
                "EXEC",
                "XGROUP CREATECONSUMER s2 g eve2",
                "xgroup createconsumer s2 g dave",
                "xgroup delconsumer s2 g dave",
            ]
        );
    }

    #[test]
    fn xclaim_and_xautoclaim_propagate_xclaim_forms() {
        let mut t = db();
        let got = run(
            &mut t,
            &[
                &["xadd", "s", "1-1", "a", "1"],
                &["xadd", "s", "1-2", "a", "2"],
                &["xadd", "s", "1-3", "a", "3"],
                &["xgroup", "create", "s", "g", "0"],
                &["xreadgroup", "group", "g", "eve", "streams", "s", ">"],
            ],
        );
        // Three XCLAIMs from one XREADGROUP, wrapped in MULTI/EXEC.
        assert_eq!(got.len(), 9);
        t.now_ms += 1000;
        let got = run(
            &mut t,
            &[
                &["xdel", "s", "1-2"],
                &["xclaim", "s", "g", "zed", "0", "1-1", "1-2", "1-3"],
                &["xclaim", "s", "g", "zed", "0", "1-1", "justid"],
                &[
                    "xclaim",
                    "s",
                    "g",
                    "yan",
                    "0",
                    "1-1",
                    "idle",
                    "500",
                    "retrycount",
                    "7",
                    "lastid",
                    "5-0",
                ],
                &["xclaim", "s", "g", "zed", "0", "7-7", "lastid", "6-0"],
                &["xclaim", "s", "g", "zed", "0", "7-7", "lastid", "2-0"],
                &["xautoclaim", "s", "g", "walt", "0", "0-0"],
            ],
        );
        assert_eq!(
            got,
            [
                "xdel s 1-2",
                "MULTI",
                "XCLAIM s g zed 0 1-1 TIME 1700000001000 RETRYCOUNT 2 FORCE JUSTID LASTID 1-3",
                "XCLAIM s g eve 0 1-2 TIME 1700000000000 RETRYCOUNT 1 FORCE JUSTID LASTID 1-3",
                "XCLAIM s g zed 0 1-3 TIME 1700000001000 RETRYCOUNT 2 FORCE JUSTID LASTID 1-3",
                "EXEC",
                "XCLAIM s g zed 0 1-1 TIME 1700000001000 RETRYCOUNT 2 FORCE JUSTID LASTID 1-3",
                "XCLAIM s g yan 0 1-1 TIME 1700000000500 RETRYCOUNT 7 FORCE JUSTID LASTID 5-0",
                "XGROUP SETID s g 6-0 ENTRIESREAD 3",
                "MULTI",
                "XCLAIM s g walt 0 1-1 TIME 1700000001000 RETRYCOUNT 8 FORCE JUSTID LASTID 6-0",
                "XCLAIM s g walt 0 1-3 TIME 1700000001000 RETRYCOUNT 3 FORCE JUSTID LASTID 6-0",
                "EXEC",
            ]
        );
        t.run(&["xadd", "s", "7-1", "a", "4"]);
        t.run(&["xclaim", "s", "g", "walt", "0", "7-1", "force"]);
        t.run(&["xdel", "s", "7-1"]);
        t.take_propagated();
        t.run(&["xautoclaim", "s", "g", "walt", "0", "7-0", "count", "1"]);
        assert_eq!(
            t.take_propagated(),
            ["XCLAIM s g walt 0 7-1 TIME 1700000001000 RETRYCOUNT 2 FORCE JUSTID LASTID 6-0"]
        );
    }
}
