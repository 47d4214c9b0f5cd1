//! SORT and SORT_RO (Redis's sort.c), and Redis's partial quicksort `pqsort`, which
//! SORT ... LIMIT and the GEO searches with COUNT use, so ties come out as in redis-server.

use super::zset::strtod;
use super::*;
use crate::db::list::List;
use crate::db::{SBytes, Value};
use std::cmp::Ordering;

/// One element to sort (redisSortObject).
struct SortObj {
    obj: SBytes,
    score: f64,
    cmpobj: Option<Vec<u8>>,
}

/// C's strcoll in the C locale: byte order up to the first NUL.
fn strcoll(a: &[u8], b: &[u8]) -> Ordering {
    let cut = |s: &[u8]| -> usize { s.iter().position(|&c| c == 0).unwrap_or(s.len()) };
    a[..cut(a)].cmp(&b[..cut(b)])
}

/// lookupKeyByPattern: `#` is the element itself; otherwise the first `*` is replaced by
/// the element, and a `->field` suffix reads a hash field. Only strings (or hash fields)
/// are returned.
fn lookup_by_pattern(ctx: &mut Ctx, pattern: &[u8], subst: &[u8]) -> Option<Vec<u8>> {
    // Redis handles the pattern as a C string.
    let pattern = &pattern[..pattern
        .iter()
        .position(|&c| c == 0)
        .unwrap_or(pattern.len())];
    if pattern == b"#" {
        return Some(subst.to_vec());
    }
    let p = pattern.iter().position(|&c| c == b'*')?;
    let after = &pattern[p + 1..];
    let field = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&f| f + 2 < after.len())
        .map(|f| (f, &after[f + 2..]));
    let postfix = match field {
        Some((f, _)) => &after[..f],
        None => after,
    };
    let mut key = Vec::with_capacity(pattern.len() + subst.len());
    key.extend_from_slice(&pattern[..p]);
    key.extend_from_slice(subst);
    key.extend_from_slice(postfix);
    let e = ctx.db().get(&key)?;
    match (&e.value, field) {
        (Value::Hash(h), Some((_, f))) => h.get(f).map(|v| v.to_vec()),
        (Value::Str(s), None) => Some(s.to_vec()),
        _ => None,
    }
}

/// sortCompare.
fn sort_compare(a: &SortObj, b: &SortObj, alpha: bool, bypattern: bool, store: bool) -> Ordering {
    if !alpha {
        if a.score > b.score {
            Ordering::Greater
        } else if a.score < b.score {
            Ordering::Less
        } else {
            a.obj.as_bytes().cmp(b.obj.as_bytes())
        }
    } else if bypattern {
        match (&a.cmpobj, &b.cmpobj) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) if store => x.cmp(y),
            (Some(x), Some(y)) => strcoll(x, y),
        }
    } else if store {
        a.obj.as_bytes().cmp(b.obj.as_bytes())
    } else {
        strcoll(a.obj.as_bytes(), b.obj.as_bytes())
    }
}

/// ```text
/// SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
///   [ASC | DESC] [ALPHA] [STORE destination]
/// ```
fn sort(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    sort_generic(ctx, argv, false)
}

/// ```text
/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
///   [ASC | DESC] [ALPHA]
/// ```
fn sort_ro(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    sort_generic(ctx, argv, true)
}

/// Redis's sortCommandGeneric.
fn sort_generic(ctx: &mut Ctx, argv: &[Bytes], readonly: bool) -> CmdResult {
    let (mut desc, mut alpha, mut dontsort) = (false, false, false);
    let (mut limit_start, mut limit_count): (i64, i64) = (0, -1);
    let mut sortby: Option<&Bytes> = None;
    let mut storekey: Option<&Bytes> = None;
    let mut gets: Vec<&Bytes> = Vec::new();
    let mut j = 2;
    while j < argv.len() {
        let leftargs = argv.len() - j - 1;
        let a = &argv[j];
        if eq_ic(a, "asc") {
            desc = false;
        } else if eq_ic(a, "desc") {
            desc = true;
        } else if eq_ic(a, "alpha") {
            alpha = true;
        } else if eq_ic(a, "limit") && leftargs >= 2 {
            limit_start = int_arg(&argv[j + 1])?;
            limit_count = int_arg(&argv[j + 2])?;
            j += 2;
        } else if !readonly && eq_ic(a, "store") && leftargs >= 1 {
            storekey = Some(&argv[j + 1]);
            j += 1;
        } else if eq_ic(a, "by") && leftargs >= 1 {
            sortby = Some(&argv[j + 1]);
            // A constant BY pattern means: do not sort, no weights to look up.
            if !argv[j + 1].contains(&b'*') {
                dontsort = true;
            }
            j += 1;
        } else if eq_ic(a, "get") && leftargs >= 1 {
            gets.push(&argv[j + 1]);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }

    // Load the elements (in the order Redis's iterators give them).
    enum Kind {
        List,
        Set,
        ZSet,
    }
    let key = &argv[1];
    let (kind, len) = match ctx.db().get(key).map(|e| &e.value) {
        None => (Kind::List, 0),
        Some(Value::List(l)) => (Kind::List, l.len()),
        Some(Value::Set(s)) => (Kind::Set, s.len()),
        Some(Value::ZSet(z)) => (Kind::ZSet, z.len()),
        Some(_) => return Err(CmdError::WrongType),
    };
    // A set's order is not deterministic: scripts and STORE get it sorted, so replicas
    // and the AOF see the same effect.
    if dontsort && matches!(kind, Kind::Set) && (storekey.is_some() || ctx.client.in_script) {
        dontsort = false;
        alpha = true;
        sortby = None;
    }
    let mut vectorlen = len as i64;
    let mut start = limit_start.max(0);
    let mut end = if limit_count < 0 {
        vectorlen - 1
    } else {
        start.saturating_add(limit_count) - 1
    };
    if start >= vectorlen {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if end >= vectorlen {
        end = vectorlen - 1;
    }
    let direct = !matches!(kind, Kind::Set) && dontsort;
    if direct && (start != 0 || end != vectorlen - 1) {
        vectorlen = end - start + 1;
    }

    let mk = |obj: &SBytes| SortObj {
        obj: obj.clone(),
        score: 0.0,
        cmpobj: None,
    };
    let mut vector: Vec<SortObj> = Vec::with_capacity(vectorlen.max(0) as usize);
    match ctx.db().keys.get(&key[..]).map(|e| &e.value) {
        // An empty LIMIT window on a list: nothing to load, start/end stay as they are.
        Some(Value::List(_)) if direct && end < start => {}
        Some(Value::List(l)) if direct => {
            let l: &List = l;
            let n = vectorlen.max(0) as usize;
            if desc {
                let first = l.len() - start as usize;
                vector.extend(l.iter().take(first).rev().take(n).map(mk));
            } else {
                vector.extend(l.iter().skip(start as usize).take(n).map(mk));
            }
            end -= start;
            start = 0;
        }
        Some(Value::List(l)) => vector.extend(l.iter().map(mk)),
        Some(Value::Set(s)) => vector.extend(crate::db::set::reply_order(s).into_iter().map(mk)),
        Some(Value::ZSet(z)) if direct => {
            let n = vectorlen.max(0) as usize;
            if n > 0 {
                if desc {
                    let first = z.len() - start as usize;
                    vector.extend(z.range(first - n, n, false).map(|(m, _)| mk(m)));
                    vector.reverse();
                } else {
                    vector.extend(z.range(start as usize, n, false).map(|(m, _)| mk(m)));
                }
            }
            end -= start;
            start = 0;
        }
        // Redis walks the zset's dict here; member order is the closest stable stand-in.
        Some(Value::ZSet(z)) => vector.extend(z.iter().map(|(m, _)| mk(m))),
        _ => {}
    }

    let mut int_conversion_error = false;
    if !dontsort {
        for o in vector.iter_mut() {
            let byval = match sortby {
                Some(p) => match lookup_by_pattern(ctx, p, &o.obj) {
                    Some(v) => v,
                    None => continue,
                },
                None => o.obj.to_vec(),
            };
            if alpha {
                if sortby.is_some() {
                    o.cmpobj = Some(byval);
                }
            } else {
                // strtod over the C string, which must be consumed entirely.
                let c = &byval[..byval.iter().position(|&c| c == 0).unwrap_or(byval.len())];
                let (v, n, erange) = strtod(c);
                o.score = v;
                if n != byval.len() || erange || v.is_nan() {
                    int_conversion_error = true;
                }
            }
        }
        let bypattern = sortby.is_some();
        let store = storekey.is_some();
        let cmp = |a: &SortObj, b: &SortObj| {
            let c = sort_compare(a, b, alpha, bypattern, store);
            if desc {
                c.reverse()
            } else {
                c
            }
        };
        if bypattern && (start != 0 || end != vector.len() as i64 - 1) && end >= start {
            pqsort(&mut vector, start as usize, end as usize, &cmp);
        } else {
            // glibc's qsort is a merge sort: stable.
            vector.sort_by(cmp);
        }
    }

    let rows = (end - start + 1).max(0) as usize;
    let outputlen = if gets.is_empty() {
        rows
    } else {
        gets.len() * rows
    };
    if int_conversion_error {
        return Err(CmdError::err(
            "One or more scores can't be converted into double",
        ));
    }
    let range = if rows == 0 {
        &vector[..0]
    } else {
        &vector[start as usize..=end as usize]
    };
    match storekey {
        None => {
            let mut out = Vec::with_capacity(outputlen);
            for o in range {
                if gets.is_empty() {
                    out.push(Reply::bulk_slice(&o.obj));
                }
                for g in &gets {
                    out.push(match lookup_by_pattern(ctx, g, &o.obj) {
                        Some(v) => Reply::Bulk(Bytes::from(v)),
                        None => Reply::Null,
                    });
                }
            }
            Ok(Reply::Array(out))
        }
        Some(dst) => {
            let mut list = List::with_capacity(outputlen);
            for o in range {
                if gets.is_empty() {
                    list.push_back(o.obj.clone());
                }
                for g in &gets {
                    let v = lookup_by_pattern(ctx, g, &o.obj).unwrap_or_default();
                    list.push_back(SBytes::from_vec(v));
                }
            }
            if outputlen > 0 {
                ctx.db().set(dst, Value::List(Box::new(list)), false);
                ctx.notify(NOTIFY_LIST, "sortstore", dst);
                ctx.dirty(outputlen as u64);
            } else if ctx.db().remove(dst).is_some() {
                ctx.notify(NOTIFY_GENERIC, "del", dst);
                ctx.dirty(1);
            }
            Ok(Reply::Int(outputlen as i64))
        }
    }
}

/// Redis's pqsort: NetBSD's quicksort, recursing only into the parts that overlap the
/// ranks `[lrange, rrange]`, which end up sorted. Unstable, like the original, so ties
/// come out in redis-server's order.
pub(crate) fn pqsort<T>(
    a: &mut [T],
    lrange: usize,
    rrange: usize,
    cmp: &dyn Fn(&T, &T) -> Ordering,
) {
    pq_rec(a, 0, lrange, rrange, cmp);
}

fn med3<T>(a: &[T], i: usize, j: usize, k: usize, cmp: &dyn Fn(&T, &T) -> Ordering) -> usize {
    let lt = |x: usize, y: usize| cmp(&a[x], &a[y]) == Ordering::Less;
    let gt = |x: usize, y: usize| cmp(&a[x], &a[y]) == Ordering::Greater;
    if lt(i, j) {
        if lt(j, k) {
            j
        } else if lt(i, k) {
            k
        } else {
            i
        }
    } else if gt(j, k) {
        j
    } else if lt(i, k) {
        i
    } else {
        k
    }
}

/// `base` is the absolute rank of `a[0]`.
fn pq_rec<T>(
    a: &mut [T],
    base: usize,
    lrange: usize,
    rrange: usize,
    cmp: &dyn Fn(&T, &T) -> Ordering,
) {
    let mut a = a;
    let mut base = base;
    loop {
        let n = a.len();
        if n < 7 {
            for m in 1..n {
                let mut l = m;
                while l > 0 && cmp(&a[l - 1], &a[l]) == Ordering::Greater {
                    a.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut pm = n / 2;
        if n > 7 {
            let mut pl = 0;
            let mut pn = n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(a, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(a, pm - d, pm, pm + d, cmp);
                pn = med3(a, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(a, pl, pm, pn, cmp);
        }
        a.swap(0, pm);
        let (mut pa, mut pb) = (1usize, 1usize);
        // Signed: pc may step below pb (to 0) before the loop ends.
        let (mut pc, mut pd) = (n as isize - 1, n as isize - 1);
        loop {
            while pb as isize <= pc {
                let r = cmp(&a[pb], &a[0]);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    a.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb as isize <= pc {
                let r = cmp(&a[pc as usize], &a[0]);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    a.swap(pc as usize, pd as usize);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb as isize > pc {
                break;
            }
            a.swap(pb, pc as usize);
            pb += 1;
            pc -= 1;
        }
        let (pc, pd) = (pc as usize, pd as usize);
        let r = pa.min(pb - pa);
        vecswap(a, 0, pb - r, r);
        let r = (pd - pc).min(n - pd - 1);
        vecswap(a, pb, n - r, r);
        let left = pb - pa;
        let right = pd - pc;
        if left > 1 && rrange >= base && lrange < base + left {
            pq_rec(&mut a[..left], base, lrange, rrange, cmp);
        }
        let start = n - right;
        if right > 1 && rrange >= base + start && lrange < base + n {
            let whole = std::mem::take(&mut a);
            a = &mut whole[start..];
            base += start;
            continue;
        }
        return;
    }
}

fn vecswap<T>(a: &mut [T], i: usize, j: usize, n: usize) {
    for k in 0..n {
        a.swap(i + k, j + k);
    }
}

/// Redis's sortGetKeys for COMMAND GETKEYS: the sorted key, then the last STORE target.
pub fn sort_get_keys(argv: &[Bytes]) -> Vec<(usize, bool)> {
    let mut keys = vec![(1, false)];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i];
        if eq_ic(a, "limit") {
            i += 2;
        } else if eq_ic(a, "get") || eq_ic(a, "by") {
            i += 1;
        } else if eq_ic(a, "store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(s) = store {
        keys.push((s, true));
    }
    keys
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sort", -2, WRITE | DENYOOM | MOVABLEKEYS, sort)
        .keys(1, 1, 1)
        .doc("1.0.0", "Sort the elements in a list, set or sorted set", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).")
        .syntax("key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA] [STORE destination]"),
    CommandSpec::new("sort_ro", -2, READONLY | MOVABLEKEYS, sort_ro)
        .keys(1, 1, 1)
        .doc("7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).")
        .syntax("key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]"),
];

#[cfg(test)]
mod tests {
    use super::super::testkit::TestDb;
    use super::*;

    fn arr(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|s| Reply::bulk(s.to_string())).collect())
    }

    #[test]
    fn numeric_alpha_and_limit() {
        let mut db = TestDb::new();
        db.run(&["RPUSH", "l", "3", "1", "2", "10"]);
        assert_eq!(db.run(&["SORT", "l"]), arr(&["1", "2", "3", "10"]));
        assert_eq!(db.run(&["SORT", "l", "ALPHA"]), arr(&["1", "10", "2", "3"]));
        assert_eq!(
            db.run(&["SORT", "l", "DESC", "LIMIT", "1", "2"]),
            arr(&["3", "2"])
        );
        db.run(&["RPUSH", "bad", "1", "x"]);
        assert_eq!(
            db.run(&["SORT", "bad"]),
            Reply::Error(Bytes::from(
                "ERR One or more scores can't be converted into double"
            ))
        );
    }

    #[test]
    fn by_and_get_patterns() {
        let mut db = TestDb::new();
        db.run(&["RPUSH", "l", "a", "b", "c"]);
        db.run(&["MSET", "w_a", "3", "w_b", "1", "w_c", "2"]);
        db.run(&["HSET", "h_a", "f", "A"]);
        assert_eq!(db.run(&["SORT", "l", "BY", "w_*"]), arr(&["b", "c", "a"]));
        assert_eq!(
            db.run(&["SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f"]),
            Reply::Array(vec![
                Reply::bulk("b"),
                Reply::Null,
                Reply::bulk("c"),
                Reply::Null,
                Reply::bulk("a"),
                Reply::bulk("A"),
            ])
        );
        assert_eq!(
            db.run(&["SORT", "l", "BY", "nosort", "DESC"]),
            arr(&["c", "b", "a"])
        );
    }

    #[test]
    fn store_and_sort_ro() {
        let mut db = TestDb::new().propagating();
        db.run(&["SADD", "s", "b", "a"]);
        db.take_propagated();
        assert_eq!(db.run(&["SORT", "s", "ALPHA", "STORE", "d"]), Reply::Int(2));
        assert_eq!(db.run(&["LRANGE", "d", "0", "-1"]), arr(&["a", "b"]));
        assert_eq!(
            db.take_propagated(),
            vec!["SORT s ALPHA STORE d".to_string()]
        );
        assert_eq!(db.run(&["SORT", "nokey", "STORE", "d"]), Reply::Int(0));
        assert_eq!(db.run(&["EXISTS", "d"]), Reply::Int(0));
        assert_eq!(
            db.run(&["SORT_RO", "s", "STORE", "d"]),
            Reply::Error(Bytes::from("ERR syntax error"))
        );
    }

    #[test]
    fn pqsort_sorts_the_wanted_ranks() {
        for (lo, hi) in [(0, 9), (20, 30), (90, 99), (0, 99)] {
            let mut v: Vec<i32> = (0..100).map(|i| (i * 37) % 101).collect();
            let mut sorted = v.clone();
            sorted.sort();
            pqsort(&mut v, lo, hi, &|a: &i32, b: &i32| a.cmp(b));
            assert_eq!(&v[lo..=hi], &sorted[lo..=hi]);
        }
    }

    #[test]
    fn getkeys_finds_the_last_store() {
        let argv = argv_of(&["sort", "k", "BY", "store", "STORE", "a", "STORE", "b"]);
        assert_eq!(sort_get_keys(&argv), vec![(1, false), (7, true)]);
    }
}
