//! GEO commands (Redis's geo.c): points live in sorted sets, scored with their 52-bit
//! interleaved geohash; the math is in `db::geohash`. GEOADD is ZADD with computed
//! scores, and propagates as that ZADD, as Redis does.

use super::sort::pqsort;
use super::zset::{float_or, resp3, score_arg, store_result, zadd, zread};
use super::*;
use crate::db::geohash::{self, Shape, ShapeKind};
use crate::db::zset::ZSet;
use crate::db::Value;

// ---------------------------------------------------------------------------------------
// Arguments

/// extractLongLatOrReply.
fn lon_lat_arg(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CmdError> {
    let x = score_arg(lon).ok_or(CmdError::NotFloat)?;
    let y = score_arg(lat).ok_or(CmdError::NotFloat)?;
    if !(geohash::GEO_LONG_MIN..=geohash::GEO_LONG_MAX).contains(&x)
        || !(geohash::GEO_LAT_MIN..=geohash::GEO_LAT_MAX).contains(&y)
    {
        return Err(CmdError::err(format!(
            "invalid longitude,latitude pair {x:.6},{y:.6}"
        )));
    }
    Ok([x, y])
}

/// extractUnitOrReply: the unit's size in meters.
fn unit_arg(u: &[u8]) -> Result<f64, CmdError> {
    if eq_ic(u, "m") {
        Ok(1.0)
    } else if eq_ic(u, "km") {
        Ok(1000.0)
    } else if eq_ic(u, "ft") {
        Ok(0.3048)
    } else if eq_ic(u, "mi") {
        Ok(1609.34)
    } else {
        Err(CmdError::err(
            "unsupported unit provided. please use M, KM, FT, MI",
        ))
    }
}

/// extractDistanceOrReply: (radius in the unit, unit in meters).
fn distance_arg(r: &[u8], unit: &[u8]) -> Result<(f64, f64), CmdError> {
    let d = float_or(r, "need numeric radius")?;
    if d < 0.0 {
        return Err(CmdError::err("radius cannot be negative"));
    }
    Ok((d, unit_arg(unit)?))
}

/// extractBoxOrReply: (width, height, unit in meters).
fn box_arg(w: &[u8], h: &[u8], unit: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let w = float_or(w, "need numeric width")?;
    let h = float_or(h, "need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err(CmdError::err("height or width cannot be negative"));
    }
    Ok((w, h, unit_arg(unit)?))
}

/// The zset at `key`, already checked by a counted lookup (an empty one if gone).
fn peek<'a>(ctx: &'a mut Ctx, key: &[u8]) -> &'a ZSet {
    static EMPTY: std::sync::OnceLock<ZSet> = std::sync::OnceLock::new();
    match ctx.db().keys.get(key).map(|e| &e.value) {
        Some(Value::ZSet(z)) => z,
        _ => EMPTY.get_or_init(ZSet::new),
    }
}

/// longLatFromMember.
fn member_pos(z: &ZSet, member: &[u8]) -> Result<[f64; 2], CmdError> {
    z.score(member)
        .and_then(geohash::decode_score)
        .ok_or_else(|| CmdError::err("could not decode requested zset member"))
}

// ---------------------------------------------------------------------------------------
// Replies

/// addReplyDoubleDistance: `%.4f`, a bulk string in both protocols.
fn distance_reply(d: f64) -> Reply {
    Reply::bulk(format!("{d:.4}"))
}

/// addReplyHumanLongDouble: `%.17Lf` without trailing zeros; a RESP3 double.
fn human_reply(resp3: bool, v: f64) -> Reply {
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(t);
    }
    if s == "-0" {
        s = "0".into();
    }
    if resp3 {
        Reply::Raw(Bytes::from(format!(",{s}\r\n")))
    } else {
        Reply::bulk(s)
    }
}

fn coord_reply(resp3: bool, xy: [f64; 2]) -> Reply {
    Reply::Array(vec![human_reply(resp3, xy[0]), human_reply(resp3, xy[1])])
}

// ---------------------------------------------------------------------------------------
// GEOADD / GEOPOS / GEODIST / GEOHASH

/// ```text
/// GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]
/// ```
fn geoadd(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut longidx = 2;
    let (mut xx, mut nx) = (false, false);
    while longidx < argv.len() {
        let o = &argv[longidx];
        if eq_ic(o, "nx") {
            nx = true;
        } else if eq_ic(o, "xx") {
            xx = true;
        } else if !eq_ic(o, "ch") {
            break;
        }
        longidx += 1;
    }
    if (argv.len() - longidx) % 3 != 0 || (xx && nx) {
        return Err(CmdError::Syntax);
    }
    let mut zargv: Vec<Bytes> = Vec::with_capacity(longidx + (argv.len() - longidx) / 3 * 2);
    zargv.push(Bytes::from_static(b"zadd"));
    zargv.extend_from_slice(&argv[1..longidx]);
    for p in argv[longidx..].chunks(3) {
        let xy = lon_lat_arg(&p[0], &p[1])?;
        let bits = geohash::score_of(xy[0], xy[1]).unwrap_or(0);
        zargv.push(Bytes::from(bits.to_string()));
        zargv.push(p[2].clone());
    }
    let before = ctx.state.store.dirty;
    let r = zadd(ctx, &zargv)?;
    if ctx.state.store.dirty > before {
        ctx.propagate_as(zargv);
    }
    Ok(r)
}

/// ```text
/// GEOPOS key [member [member ...]]
/// ```
fn geopos(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let resp3 = resp3(ctx);
    let z = zread(ctx.db(), &argv[1])?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(
                |m| match z.and_then(|z| z.score(m)).and_then(geohash::decode_score) {
                    Some(xy) => coord_reply(resp3, xy),
                    None => Reply::NullArray,
                },
            )
            .collect(),
    ))
}

/// ```text
/// GEODIST key member1 member2 [M | KM | FT | MI]
/// ```
fn geodist(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let to_meter = match argv.len() {
        5 => unit_arg(&argv[4])?,
        n if n > 5 => return Err(CmdError::Syntax),
        _ => 1.0,
    };
    let Some(z) = zread(ctx.db(), &argv[1])? else {
        return Ok(Reply::Null);
    };
    let pos = |m: &[u8]| z.score(m).and_then(geohash::decode_score);
    match (pos(&argv[2]), pos(&argv[3])) {
        (Some(a), Some(b)) => Ok(distance_reply(
            geohash::distance(a[0], a[1], b[0], b[1]) / to_meter,
        )),
        _ => Ok(Reply::Null),
    }
}

/// ```text
/// GEOHASH key [member [member ...]]
/// ```
fn geohash_cmd(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let z = zread(ctx.db(), &argv[1])?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|m| {
                match z
                    .and_then(|z| z.score(m))
                    .and_then(geohash::standard_geohash)
                {
                    Some(h) => Reply::bulk(h),
                    None => Reply::Null,
                }
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------
// Searches

/// Which command georadiusGeneric serves.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// GEORADIUS[_RO] key lon lat radius unit
    Coords {
        store: bool,
    },
    /// GEORADIUSBYMEMBER[_RO] key member radius unit
    Member {
        store: bool,
    },
    Search,
    SearchStore,
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// One match (Redis's geoPoint).
struct Point {
    lon: f64,
    lat: f64,
    dist: f64,
    score: f64,
    member: Bytes,
}

/// geoGetPointsInRange over the 9 cells (membersOfAllNeighbors), stopping at `limit`
/// matches when it is not 0 (COUNT ... ANY).
fn points_in_shape(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let area = geohash::areas_by_shape(shape);
    let cells = area.cells();
    let mut out = Vec::new();
    let mut last_processed = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge radii can make adjacent cells identical: skip repeats.
        if last_processed != 0 && *cell == cells[last_processed] {
            continue;
        }
        if !out.is_empty() && limit != 0 && out.len() >= limit {
            break;
        }
        let (min, max) = geohash::cell_scores(*cell);
        let lo = z.rank_score_min(min, false);
        let hi = z.rank_score_max(max, true);
        if lo < hi {
            for (m, score) in z.range(lo, hi - lo, false) {
                if !out.is_empty() && limit != 0 && out.len() >= limit {
                    break;
                }
                let Some([lon, lat]) = geohash::decode_score(score) else {
                    continue;
                };
                if let Some(dist) = geohash::within_shape(shape, lon, lat) {
                    out.push(Point {
                        lon,
                        lat,
                        dist,
                        score,
                        member: Bytes::copy_from_slice(m),
                    });
                }
            }
        }
        last_processed = i;
    }
    out
}

/// Redis's georadiusGeneric.
fn georadius_generic(ctx: &mut Ctx, argv: &[Bytes], src_idx: usize, v: Variant) -> CmdResult {
    let resp3 = resp3(ctx);
    let src = &argv[src_idx];
    // The lookup counts once (lookupKeyRead); later reads peek without touching stats.
    let exists = zread(ctx.db(), src)?.is_some();
    let mut storekey: Option<Bytes> = None;
    let mut storedist = false;
    let mut xy = [0.0; 2];
    let mut kind = ShapeKind::Radius(0.0);
    let mut conversion = 1.0;
    let base_args;
    let (nostore, search) = match v {
        Variant::Coords { store } | Variant::Member { store } => (!store, false),
        Variant::Search | Variant::SearchStore => (true, true),
    };
    match v {
        Variant::Coords { .. } => {
            base_args = 6;
            xy = lon_lat_arg(&argv[2], &argv[3])?;
            let (r, c) = distance_arg(&argv[4], &argv[5])?;
            kind = ShapeKind::Radius(r);
            conversion = c;
        }
        Variant::Member { .. } => {
            base_args = 5;
            // Without a source key, parse the options only to pick the reply.
            if exists {
                xy = member_pos(peek(ctx, src), &argv[2])?;
                let (r, c) = distance_arg(&argv[3], &argv[4])?;
                kind = ShapeKind::Radius(r);
                conversion = c;
            }
        }
        Variant::Search => base_args = 2,
        Variant::SearchStore => {
            base_args = 3;
            storekey = Some(argv[1].clone());
        }
    }

    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let remaining = argv.len().saturating_sub(base_args);
    let mut i = 0;
    while i < remaining {
        let at = |k: usize| &argv[base_args + k];
        let arg = at(i);
        if eq_ic(arg, "withdist") {
            withdist = true;
        } else if eq_ic(arg, "withhash") {
            withhash = true;
        } else if eq_ic(arg, "withcoord") {
            withcoords = true;
        } else if eq_ic(arg, "any") {
            any = true;
        } else if eq_ic(arg, "asc") {
            sort = Sort::Asc;
        } else if eq_ic(arg, "desc") {
            sort = Sort::Desc;
        } else if eq_ic(arg, "count") && i + 1 < remaining {
            count = int_arg(at(i + 1))?;
            if count <= 0 {
                return Err(CmdError::err("COUNT must be > 0"));
            }
            i += 1;
        } else if (eq_ic(arg, "store") || eq_ic(arg, "storedist"))
            && i + 1 < remaining
            && !nostore
            && !search
        {
            storekey = Some(at(i + 1).clone());
            storedist = eq_ic(arg, "storedist");
            i += 1;
        } else if eq_ic(arg, "storedist") && v == Variant::SearchStore {
            storedist = true;
        } else if eq_ic(arg, "frommember") && i + 1 < remaining && search && !fromloc {
            if exists {
                xy = member_pos(peek(ctx, src), at(i + 1))?;
            }
            frommember = true;
            i += 1;
        } else if eq_ic(arg, "fromlonlat") && i + 2 < remaining && search && !frommember {
            xy = lon_lat_arg(at(i + 1), at(i + 2))?;
            fromloc = true;
            i += 2;
        } else if eq_ic(arg, "byradius") && i + 2 < remaining && search && !bybox {
            let (r, c) = distance_arg(at(i + 1), at(i + 2))?;
            kind = ShapeKind::Radius(r);
            conversion = c;
            byradius = true;
            i += 2;
        } else if eq_ic(arg, "bybox") && i + 3 < remaining && search && !byradius {
            let (w, h, c) = box_arg(at(i + 1), at(i + 2), at(i + 3))?;
            kind = ShapeKind::Box(w, h);
            conversion = c;
            bybox = true;
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }

    if storekey.is_some() && (withdist || withhash || withcoords) {
        return Err(CmdError::err(format!(
            "{} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if v == Variant::SearchStore {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    let name = lossy(&argv[0]);
    if search && !(frommember || fromloc) {
        return Err(CmdError::err(format!(
            "exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if search && !(byradius || bybox) {
        return Err(CmdError::err(format!(
            "exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if any && count == 0 {
        return Err(CmdError::err("the ANY argument requires COUNT argument"));
    }

    if !exists {
        return Ok(match storekey {
            Some(dst) => Reply::Int(store_result(ctx, &dst, ZSet::new(), "")),
            None => Reply::Array(vec![]),
        });
    };
    // COUNT needs an order to pick the closest ones (ANY does not).
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let shape = Shape {
        xy,
        conversion,
        kind,
    };
    let limit = if any { count as usize } else { 0 };
    let mut points = points_in_shape(peek(ctx, src), &shape, limit);
    if points.is_empty() && storekey.is_none() {
        return Ok(Reply::Array(vec![]));
    }
    let returned = if count == 0 || (points.len() as i64) < count {
        points.len()
    } else {
        count as usize
    };
    if sort != Sort::None {
        let asc = |a: &Point, b: &Point| {
            a.dist
                .partial_cmp(&b.dist)
                .unwrap_or(std::cmp::Ordering::Equal)
        };
        if returned == points.len() {
            // glibc's qsort is a merge sort: stable.
            if sort == Sort::Asc {
                points.sort_by(asc);
            } else {
                points.sort_by(|a, b| asc(b, a));
            }
        } else if sort == Sort::Asc {
            pqsort(&mut points, 0, returned - 1, &asc);
        } else {
            pqsort(&mut points, 0, returned - 1, &|a, b| asc(b, a));
        }
    }
    points.truncate(returned);

    match storekey {
        None => {
            let options = withdist as usize + withcoords as usize + withhash as usize;
            let mut out = Vec::with_capacity(points.len());
            for p in points {
                let member = Reply::Bulk(p.member);
                if options == 0 {
                    out.push(member);
                    continue;
                }
                let mut item = Vec::with_capacity(options + 1);
                item.push(member);
                if withdist {
                    item.push(distance_reply(p.dist / conversion));
                }
                if withhash {
                    item.push(Reply::Int(geohash::c_double_to_i64(p.score)));
                }
                if withcoords {
                    item.push(coord_reply(resp3, [p.lon, p.lat]));
                }
                out.push(Reply::Array(item));
            }
            Ok(Reply::Array(out))
        }
        Some(dst) => {
            let pairs: Vec<(&[u8], f64)> = points
                .iter()
                .map(|p| {
                    let s = if storedist {
                        p.dist / conversion
                    } else {
                        p.score
                    };
                    (&p.member[..], s)
                })
                .collect();
            let event = if search {
                "geosearchstore"
            } else {
                "georadiusstore"
            };
            let n = store_result(ctx, &dst, ZSet::from_pairs(pairs), event);
            if n > 1 {
                // Redis counts one change per stored item.
                ctx.dirty(n as u64 - 1);
            }
            Ok(Reply::Int(n))
        }
    }
}

/// ```text
/// GEORADIUS key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST]
///   [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]
/// ```
fn georadius(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 1, Variant::Coords { store: true })
}

/// ```text
/// GEORADIUS_RO key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST]
///   [WITHHASH] [COUNT count [ANY]] [ASC | DESC]
/// ```
fn georadius_ro(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 1, Variant::Coords { store: false })
}

/// ```text
/// GEORADIUSBYMEMBER key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH]
///   [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]
/// ```
fn georadiusbymember(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 1, Variant::Member { store: true })
}

/// ```text
/// GEORADIUSBYMEMBER_RO key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST]
///   [WITHHASH] [COUNT count [ANY]] [ASC | DESC]
/// ```
fn georadiusbymember_ro(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 1, Variant::Member { store: false })
}

/// ```text
/// GEOSEARCH key FROMMEMBER member | FROMLONLAT longitude latitude
///   BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI
///   [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]
/// ```
fn geosearch(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 1, Variant::Search)
}

/// ```text
/// GEOSEARCHSTORE destination source FROMMEMBER member | FROMLONLAT longitude latitude
///   BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI
///   [ASC | DESC] [COUNT count [ANY]] [STOREDIST]
/// ```
fn geosearchstore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    georadius_generic(ctx, argv, 2, Variant::SearchStore)
}

const G: &str = "geo";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("geoadd", -5, WRITE | DENYOOM, geoadd)
        .keys(1, 1, 1)
        .group(G)
        .doc("3.2.0", "Add one or more geospatial items in the geospatial index represented using a sorted set", "O(log(N)) for each item added, where N is the number of elements in the sorted set.")
        .syntax("key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]"),
    CommandSpec::new("geodist", -4, READONLY, geodist)
        .keys(1, 1, 1)
        .group(G)
        .doc("3.2.0", "Returns the distance between two members of a geospatial index", "O(log(N))")
        .syntax("key member1 member2 [M | KM | FT | MI]"),
    CommandSpec::new("geohash", -2, READONLY, geohash_cmd)
        .keys(1, 1, 1)
        .group(G)
        .doc("3.2.0", "Returns members of a geospatial index as standard geohash strings", "O(log(N)) for each member requested, where N is the number of elements in the sorted set.")
        .syntax("key [member [member ...]]"),
    CommandSpec::new("geopos", -2, READONLY, geopos)
        .keys(1, 1, 1)
        .group(G)
        .doc("3.2.0", "Returns longitude and latitude of members of a geospatial index", "O(N) where N is the number of members requested.")
        .syntax("key [member [member ...]]"),
    CommandSpec::new("georadius", -6, WRITE | DENYOOM | MOVABLEKEYS, georadius)
        .keys(1, 1, 1)
        .group(G)
        .doc("3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.")
        .syntax("key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]"),
    CommandSpec::new("georadius_ro", -6, READONLY, georadius_ro)
        .keys(1, 1, 1)
        .group(G)
        .doc("3.2.10", "A read-only variant for GEORADIUS", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.")
        .syntax("key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]"),
    CommandSpec::new("georadiusbymember", -5, WRITE | DENYOOM | MOVABLEKEYS, georadiusbymember)
        .keys(1, 1, 1)
        .group(G)
        .doc("3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.")
        .syntax("key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]"),
    CommandSpec::new("georadiusbymember_ro", -5, READONLY, georadiusbymember_ro)
        .keys(1, 1, 1)
        .group(G)
        .doc("3.2.10", "A read-only variant for GEORADIUSBYMEMBER", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.")
        .syntax("key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]"),
    CommandSpec::new("geosearch", -7, READONLY, geosearch)
        .keys(1, 1, 1)
        .group(G)
        .doc("6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape")
        .syntax("key FROMMEMBER member | FROMLONLAT longitude latitude BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]"),
    CommandSpec::new("geosearchstore", -8, WRITE | DENYOOM, geosearchstore)
        .keys(1, 2, 1)
        .group(G)
        .doc("6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape")
        .syntax("destination source FROMMEMBER member | FROMLONLAT longitude latitude BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC] [COUNT count [ANY]] [STOREDIST]"),
];

#[cfg(test)]
mod tests {
    use super::super::testkit::TestDb;
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::bulk(s.to_string())
    }

    #[test]
    fn geoadd_then_dist_pos_hash() {
        let mut db = TestDb::new();
        let r = db.run(&[
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ]);
        assert_eq!(r, Reply::Int(2));
        assert_eq!(
            db.run(&["GEODIST", "Sicily", "Palermo", "Catania", "km"]),
            bulk("166.2742")
        );
        assert_eq!(
            db.run(&["GEOPOS", "Sicily", "Palermo", "nosuch"]),
            Reply::Array(vec![
                Reply::Array(vec![
                    bulk("13.36138933897018433"),
                    bulk("38.11555639549629859")
                ]),
                Reply::NullArray
            ])
        );
        assert_eq!(
            db.run(&["GEOHASH", "Sicily", "Catania"]),
            Reply::Array(vec![bulk("sqdtr74hyu0")])
        );
        assert_eq!(
            db.run(&[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "ASC"
            ]),
            Reply::Array(vec![bulk("Catania"), bulk("Palermo")])
        );
    }

    #[test]
    fn errors_match_redis() {
        let mut db = TestDb::new();
        assert_eq!(
            db.run(&["GEOADD", "k", "200", "100", "x"]),
            Reply::Error(Bytes::from(
                "ERR invalid longitude,latitude pair 200.000000,100.000000"
            ))
        );
        assert_eq!(
            db.run(&["GEOADD", "k", "NX", "XX", "1", "2", "x"]),
            Reply::Error(Bytes::from("ERR syntax error"))
        );
        assert_eq!(
            db.run(&["GEOSEARCH", "k", "BYRADIUS", "1", "m", "ASC", "WITHDIST"]),
            Reply::Error(Bytes::from(
                "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH"
            ))
        );
    }

    #[test]
    fn geoadd_propagates_as_zadd() {
        let mut db = TestDb::new().propagating();
        db.run(&[
            "GEOADD",
            "Sicily",
            "CH",
            "13.361389",
            "38.115556",
            "Palermo",
        ]);
        assert_eq!(
            db.take_propagated(),
            vec!["zadd Sicily CH 3479099956230698 Palermo".to_string()]
        );
        db.run(&["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"]);
        assert!(db.take_propagated().is_empty());
        db.run(&["MULTI"]);
        db.run(&["GEOADD", "Sicily", "15.087269", "37.502669", "Catania"]);
        db.run(&[
            "GEOSEARCHSTORE",
            "d",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "1",
            "km",
        ]);
        db.run(&["EXEC"]);
        assert_eq!(
            db.take_propagated(),
            vec![
                "MULTI".to_string(),
                "zadd Sicily 3479447370796909 Catania".to_string(),
                "GEOSEARCHSTORE d Sicily FROMMEMBER Palermo BYRADIUS 1 km".to_string(),
                "EXEC".to_string(),
            ]
        );
    }
}
