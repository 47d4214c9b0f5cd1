//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//!
//! A HyperLogLog is a plain string value in Redis's own representation ([`hll`]), so GET,
//! SET, DUMP/RESTORE, RDB and replication carry it unchanged. Semantics, lookup order,
//! notifications, dirty counts and error texts follow Redis 7.0.15's `hyperloglog.c`,
//! including PFCOUNT's write-back of the cached cardinality: it counts as dirty, so the
//! PFCOUNT itself is propagated, as Redis does.

use super::*;
use crate::db::{hll, SBytes, Value};

fn not_hll() -> CmdError {
    CmdError::Raw("WRONGTYPE Key is not a valid HyperLogLog string value.".into())
}

fn invalid_hll() -> CmdError {
    CmdError::Raw("INVALIDOBJ Corrupted HLL object detected".into())
}

/// isHLLObjectOrReply: the value must be a string holding a valid HyperLogLog header.
fn check_hll(v: &Value) -> Result<&SBytes, CmdError> {
    match v {
        Value::Str(s) if hll::is_valid(s) => Ok(s),
        Value::Str(_) => Err(not_hll()),
        _ => Err(CmdError::WrongType),
    }
}

/// Edits a string value as a Vec: moving a heap value in and out copies nothing.
fn edit<R>(s: &mut SBytes, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut v = std::mem::replace(s, SBytes::new(b"")).into_vec();
    let r = f(&mut v);
    *s = SBytes::from_vec(v);
    r
}

/// Adds every element; (registers changed, corrupt). Stops at the first corrupt opcode,
/// keeping what was added before it, as Redis does.
fn add_all(v: &mut Vec<u8>, elements: &[Bytes], sparse_max: usize) -> (u64, bool) {
    let mut updated = 0;
    for e in elements {
        match hll::add(v, e, sparse_max) {
            Ok(true) => updated += 1,
            Ok(false) => {}
            Err(hll::Corrupt) => return (updated, true),
        }
    }
    (updated, false)
}

/// Counts a value rewrite that no write command asked for (PFCOUNT's cache, PFDEBUG's
/// conversion) as dirty, so it propagates, except for a replica's own clients: a
/// replica's backlog carries its master's stream only (Redis's shouldPropagate).
fn dirty_rewrite(ctx: &mut Ctx) {
    if !ctx.state.repl.is_replica() || ctx.client.is_master {
        ctx.dirty(1);
    }
}

/// ```text
/// PFADD key [element [element ...]]
/// ```
fn pfadd(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let key = &argv[1];
    let sparse_max = ctx.config.hll_sparse_max_bytes;
    let db = ctx.db();
    let (updated, corrupt) = match db.get_mut(key) {
        None => {
            let mut v = hll::new_sparse();
            let (n, corrupt) = add_all(&mut v, &argv[2..], sparse_max);
            // Creating the key counts as an update.
            hll::invalidate_cache(&mut v);
            db.insert_new(key, Value::Str(SBytes::from_vec(v)));
            (n + 1, corrupt)
        }
        Some(e) => {
            check_hll(&e.value)?;
            let Value::Str(s) = &mut e.value else {
                unreachable!("invariant: checked to be a string")
            };
            edit(s, |v| {
                let (n, corrupt) = add_all(v, &argv[2..], sparse_max);
                if n > 0 && !corrupt {
                    hll::invalidate_cache(v);
                }
                (n, corrupt)
            })
        }
    };
    if corrupt {
        return Err(invalid_hll());
    }
    if updated > 0 {
        ctx.db().signal_modified(key);
        ctx.notify(NOTIFY_STRING, "pfadd", key);
        ctx.dirty(updated);
    }
    Ok(Reply::Int((updated > 0) as i64))
}

/// Merges the registers of every existing key in `keys` into `max`; true if any of them
/// is dense. Read lookups, as Redis's lookupKeyRead.
fn merge_keys(
    ctx: &mut Ctx,
    keys: &[Bytes],
    max: &mut [u8; hll::REGISTERS],
) -> Result<bool, CmdError> {
    let db = ctx.db();
    let mut any_dense = false;
    for key in keys {
        let Some(e) = db.get(key) else {
            continue;
        };
        let s = check_hll(&e.value)?;
        any_dense |= hll::encoding(s) == hll::DENSE;
        hll::merge(max, s).map_err(|_| invalid_hll())?;
    }
    Ok(any_dense)
}

/// ```text
/// PFCOUNT key [key ...]
/// ```
fn pfcount(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 2 {
        let mut max = Box::new([0u8; hll::REGISTERS]);
        merge_keys(ctx, &argv[1..], &mut max)?;
        return Ok(Reply::Int(hll::count_raw(&max) as i64));
    }
    let key = &argv[1];
    let db = ctx.db();
    let Some(e) = db.get(key) else {
        return Ok(Reply::Int(0));
    };
    let s = check_hll(&e.value)?;
    if let Some(card) = hll::cached_card(s) {
        return Ok(Reply::Int(card as i64));
    }
    let card = hll::count(s).map_err(|_| invalid_hll())?;
    let Value::Str(s) = &mut e.value else {
        unreachable!("invariant: checked to be a string")
    };
    edit(s, |v| hll::set_cached_card(v, card));
    // The cache lives in the value: a change like any other (and so propagated).
    db.signal_modified(key);
    dirty_rewrite(ctx);
    Ok(Reply::Int(card as i64))
}

/// ```text
/// PFMERGE destkey sourcekey [sourcekey ...]
/// ```
fn pfmerge(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut max = Box::new([0u8; hll::REGISTERS]);
    // The destination's own registers are part of the union.
    let use_dense = merge_keys(ctx, &argv[1..], &mut max)?;
    let key = &argv[1];
    let sparse_max = ctx.config.hll_sparse_max_bytes;
    let db = ctx.db();
    let mut v = match db.get_mut(key) {
        // Checked by merge_keys: a valid HyperLogLog string.
        Some(e) => match &mut e.value {
            Value::Str(s) => std::mem::replace(s, SBytes::new(b"")).into_vec(),
            _ => return Err(CmdError::WrongType),
        },
        None => hll::new_sparse(),
    };
    let converted = !use_dense || hll::sparse_to_dense(&mut v).is_ok();
    if converted {
        for (i, &m) in max.iter().enumerate() {
            if m != 0 {
                // Registers come from valid HyperLogLogs: this cannot find corruption.
                let _ = hll::set_register(&mut v, i, m, sparse_max);
            }
        }
        hll::invalidate_cache(&mut v);
    }
    match db.get_mut(key) {
        Some(e) => e.value = Value::Str(SBytes::from_vec(v)),
        None => {
            db.insert_new(key, Value::Str(SBytes::from_vec(v)));
        }
    }
    if !converted {
        return Err(invalid_hll());
    }
    ctx.db().signal_modified(key);
    // PFMERGE announces itself as "pfadd", as Redis does.
    ctx.notify(NOTIFY_STRING, "pfadd", key);
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// ```text
/// PFDEBUG <GETREG | DECODE | ENCODING | TODENSE> key
/// ```
fn pfdebug(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let cmd = &argv[1];
    let key = &argv[2];
    let db = ctx.db();
    let Some(e) = db.get_mut(key) else {
        return Err(CmdError::err("The specified key does not exist"));
    };
    check_hll(&e.value)?;
    let Value::Str(s) = &mut e.value else {
        unreachable!("invariant: checked to be a string")
    };
    let sparse = hll::encoding(s) == hll::SPARSE;
    if cmd.eq_ignore_ascii_case(b"getreg") || cmd.eq_ignore_ascii_case(b"todense") {
        let converted = sparse && edit(s, hll::sparse_to_dense).map_err(|_| invalid_hll())?;
        let reply = if cmd.eq_ignore_ascii_case(b"getreg") {
            Reply::Array(
                hll::registers(s)
                    .into_iter()
                    .map(|r| Reply::Int(r as i64))
                    .collect(),
            )
        } else {
            Reply::Int(converted as i64)
        };
        if converted {
            // The encoding change reaches AOF and replicas.
            dirty_rewrite(ctx);
        }
        return Ok(reply);
    }
    if cmd.eq_ignore_ascii_case(b"decode") {
        if !sparse {
            return Err(CmdError::err("HLL encoding is not sparse"));
        }
        return Ok(Reply::bulk(Bytes::from(hll::decode(s))));
    }
    if cmd.eq_ignore_ascii_case(b"encoding") {
        return Ok(Reply::Simple(
            if sparse { "sparse" } else { "dense" }.into(),
        ));
    }
    Err(CmdError::err(format!(
        "Unknown PFDEBUG subcommand '{}'",
        String::from_utf8_lossy(cmd)
    )))
}

/// ```text
/// PFSELFTEST
/// ```
fn pfselftest(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    hll::selftest(&mut rand::thread_rng(), ctx.config.hll_sparse_max_bytes)
        .map_err(CmdError::Err)?;
    Ok(Reply::ok())
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("pfadd", -2, WRITE | DENYOOM | FAST, pfadd)
        .keys(1, 1, 1)
        .group("hyperloglog")
        .doc(
            "2.8.9",
            "Adds the specified elements to the specified HyperLogLog.",
            "O(1) to add every element.",
        )
        .syntax("key [element [element ...]]"),
    CommandSpec::new("pfcount", -2, READONLY, pfcount)
        .keys(1, -1, 1)
        .group("hyperloglog")
        .doc(
            "2.8.9",
            "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
            "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        )
        .syntax("key [key ...]"),
    CommandSpec::new("pfmerge", -2, WRITE | DENYOOM, pfmerge)
        .keys(1, -1, 1)
        .group("hyperloglog")
        .doc(
            "2.8.9",
            "Merge N different HyperLogLogs into a single one.",
            "O(N) to merge N HyperLogLogs, but with high constant times.",
        )
        .syntax("destkey sourcekey [sourcekey ...]"),
    CommandSpec::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, pfdebug)
        .keys(2, 2, 1)
        .group("hyperloglog")
        .doc("2.8.9", "Internal commands for debugging HyperLogLog values", "N/A")
        .syntax("subcommand key"),
    CommandSpec::new("pfselftest", 1, ADMIN, pfselftest)
        .group("hyperloglog")
        .doc("2.8.9", "An internal command for testing HyperLogLog values", "N/A"),
];

#[cfg(test)]
mod tests {
    use crate::cmd::testkit::*;
    use rill_protocol::Reply;

    fn get(t: &mut TestDb, key: &str) -> Vec<u8> {
        match t.run(&["GET", key]) {
            Reply::Bulk(b) => b.to_vec(),
            other => panic!("not a bulk: {other:?}"),
        }
    }

    #[test]
    fn pfadd_pfcount_cache() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["PFADD", "h", "a", "b", "c"]), int(1));
        assert_eq!(t.run(&["PFADD", "h", "a", "b"]), int(0));
        assert_eq!(get(&mut t, "h")[15], 0x80, "cache invalid after PFADD");
        assert_eq!(t.run(&["PFCOUNT", "h"]), int(3));
        let v = get(&mut t, "h");
        assert_eq!(&v[8..16], &[3, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(t.run(&["PFCOUNT", "nokey"]), int(0));
        assert_eq!(t.run(&["PFADD", "empty"]), int(1));
        assert_eq!(t.run(&["PFADD", "empty"]), int(0));
        assert_eq!(t.run(&["PFCOUNT", "empty"]), int(0));
    }

    #[test]
    fn pfcount_propagates_only_when_it_rewrites_the_cache() {
        let mut t = TestDb::new().propagating();
        t.run(&["PFADD", "h", "a"]);
        t.run(&["PFCOUNT", "h"]);
        t.run(&["PFCOUNT", "h"]);
        let p = t.take_propagated();
        assert_eq!(
            p.iter().filter(|c| c.contains("PFCOUNT")).count(),
            1,
            "{p:?}"
        );
    }

    #[test]
    fn errors() {
        let mut t = TestDb::new();
        t.run(&["SET", "s", "HYLLgarbage-and-more"]);
        t.run(&["LPUSH", "l", "a"]);
        let not_hll = err("WRONGTYPE Key is not a valid HyperLogLog string value.");
        assert_eq!(t.run(&["PFADD", "s", "a"]), not_hll);
        assert_eq!(t.run(&["PFCOUNT", "s"]), not_hll);
        assert_eq!(t.run(&["PFCOUNT", "nokey", "s"]), not_hll);
        assert_eq!(t.run(&["PFMERGE", "d", "s"]), not_hll);
        assert_eq!(
            t.run(&["PFADD", "l", "a"]),
            err("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        // Sparse header followed by a single ZERO opcode: registers do not add up.
        t.run(&["SET", "c", "HYLL\u{1}\0\0\0\0\0\0\0\0\0\0\0\0"]);
        let corrupt = err("INVALIDOBJ Corrupted HLL object detected");
        assert_eq!(t.run(&["PFADD", "c", "x"]), corrupt);
        assert_eq!(t.run(&["PFMERGE", "d", "c"]), corrupt);
        assert_eq!(t.run(&["PFDEBUG", "todense", "c"]), corrupt);
        assert_eq!(
            t.run(&["PFDEBUG", "getreg", "nokey"]),
            err("ERR The specified key does not exist")
        );
    }

    #[test]
    fn pfmerge_and_debug() {
        let mut t = TestDb::new();
        t.run(&["PFADD", "a", "1", "2", "3"]);
        t.run(&["PFADD", "b", "3", "4", "5"]);
        assert_eq!(t.run(&["PFMERGE", "d", "a", "b"]), Reply::ok());
        assert_eq!(t.run(&["PFCOUNT", "d"]), int(5));
        assert_eq!(t.run(&["PFCOUNT", "a", "b", "missing"]), int(5));
        assert_eq!(
            t.run(&["PFDEBUG", "encoding", "d"]),
            Reply::Simple("sparse".into())
        );
        assert_eq!(t.run(&["PFDEBUG", "TODENSE", "d"]), int(1));
        assert_eq!(t.run(&["PFDEBUG", "todense", "d"]), int(0));
        assert_eq!(
            t.run(&["PFDEBUG", "encoding", "d"]),
            Reply::Simple("dense".into())
        );
        assert_eq!(
            t.run(&["PFDEBUG", "decode", "d"]),
            err("ERR HLL encoding is not sparse")
        );
        // A dense source makes the destination dense.
        assert_eq!(t.run(&["PFMERGE", "e", "a", "d"]), Reply::ok());
        assert_eq!(
            t.run(&["PFDEBUG", "encoding", "e"]),
            Reply::Simple("dense".into())
        );
        assert_eq!(t.run(&["PFCOUNT", "e"]), int(5));
        match t.run(&["PFDEBUG", "getreg", "a"]) {
            Reply::Array(v) => {
                assert_eq!(v.len(), 16384);
                assert_eq!(v.iter().filter(|r| **r != int(0)).count(), 3);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            t.run(&["PFDEBUG", "foo", "a"]),
            err("ERR Unknown PFDEBUG subcommand 'foo'")
        );
    }
}
