//! MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP (Redis 7.0's object.c).
//!
//! Rill's values are not laid out like Redis's, so MEMORY USAGE reports what Redis 7.0
//! (jemalloc, 64-bit) would allocate for the same contents: the key's sds and dict entry,
//! the robj, and the value in the encoding OBJECT ENCODING reports, with collections
//! sampled as `objectComputeSize` samples them (the first `SAMPLES` elements, default 5,
//! 0 for all). STATS and DOCTOR use the same accounting as INFO memory.

use super::keys::encoding_of;
use super::*;
use crate::db::{Db, SBytes, Value};
use std::sync::atomic::Ordering;

// Sizes of Redis's structures on a 64-bit build.
const ROBJ: usize = 16;
const DICT_ENTRY: usize = 24;
const DICT: usize = 56;
const QUICKLIST: usize = 40;
/// quicklistNode: three pointers, `sz`, and 32 bits of fields, padded.
const QUICKLIST_NODE: usize = 40;
const ZSET: usize = 16;
const ZSKIPLIST: usize = 32;
/// Expected jemalloc size of a zskiplistNode (24 bytes + 16 per level; levels drawn with
/// p = 0.25: 48 bytes for 75% of the nodes, 64 for 19%, ...).
const ZSKIPLIST_NODE_AVG: usize = 53;
/// The skiplist header: ZSKIPLIST_MAXLEVEL (32) levels.
const ZSKIPLIST_HEADER: usize = 24 + 32 * 16;
/// OBJ_COMPUTE_SIZE_DEF_SAMPLES.
const DEFAULT_SAMPLES: usize = 5;
/// list-max-listpack-size -2: 8 KB listpacks per quicklist node.
const QUICKLIST_NODE_BYTES: usize = 8192;

/// jemalloc's size class for an allocation of `n` bytes (`zmalloc_size`).
pub fn jemalloc_size(n: usize) -> usize {
    if n <= 8 {
        8
    } else if n <= 128 {
        n.div_ceil(16) * 16
    } else {
        // Four classes per doubling: (2^k, 2^(k+1)] in steps of 2^(k-2).
        let k = usize::BITS - 1 - (n - 1).leading_zeros();
        let step = 1usize << (k - 2);
        n.div_ceil(step) * step
    }
}

/// `sdsZmallocSize` of an sds holding `len` bytes (header by `sdsReqType`, plus the NUL).
fn sds_size(len: usize) -> usize {
    let hdr = if len < 32 {
        1
    } else if len < 256 {
        3
    } else if len < 65536 {
        5
    } else {
        9
    };
    jemalloc_size(hdr + len + 1)
}

fn as_int(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s)
        .ok()
        .and_then(crate::config::string2ll)
}

/// Bytes one listpack entry takes (encoding, data and back-length).
fn lp_entry_size(s: &[u8]) -> usize {
    let enc = match as_int(s) {
        Some(v) if (0..=127).contains(&v) => 1,
        Some(v) if (-4096..=4095).contains(&v) => 2,
        Some(v) if i16::try_from(v).is_ok() => 3,
        Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => 4,
        Some(v) if i32::try_from(v).is_ok() => 5,
        Some(_) => 9,
        None if s.len() < 64 => 1 + s.len(),
        None if s.len() < 4096 => 2 + s.len(),
        None => 5 + s.len(),
    };
    let backlen = match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    };
    enc + backlen
}

/// A zset score as Redis stores it in a listpack (`d2string`).
fn score_entry_size(score: f64) -> usize {
    if score.fract() == 0.0 && score.abs() < (1u64 << 53) as f64 {
        lp_entry_size((score as i64).to_string().as_bytes())
    } else {
        lp_entry_size(score.to_string().as_bytes())
    }
}

/// Listpack header (total bytes + count) and end byte.
const LP_OVERHEAD: usize = 6 + 1;

/// Slots of a Redis dict holding `n` entries.
fn dict_slots(n: usize) -> usize {
    n.next_power_of_two().max(4)
}

/// Average of the sampled sizes, times the element count (`(double)elesize/samples*len`).
fn scaled(sampled: usize, samples: usize, len: usize) -> usize {
    if samples == 0 {
        0
    } else {
        (sampled as f64 / samples as f64 * len as f64) as usize
    }
}

/// Redis's objectComputeSize for this value.
fn value_size(value: &Value, config: &crate::config::Config, samples: usize) -> usize {
    let enc = encoding_of(value, config);
    match value {
        Value::Str(s) => match enc {
            "int" => ROBJ,
            "embstr" => jemalloc_size(ROBJ + 3 + s.len() + 1),
            _ => ROBJ + sds_size(s.len()),
        },
        Value::List(l) => {
            // Pack the first elements into 8 KB nodes as a quicklist would, sample
            // `samples` nodes, and scale by the estimated node count.
            let mut nodes = 0usize;
            let mut sampled = 0usize;
            let mut elems = 0usize;
            let mut cur = LP_OVERHEAD;
            let mut cur_elems = 0usize;
            for e in l.iter() {
                let sz = lp_entry_size(e);
                if cur_elems > 0 && cur + sz > QUICKLIST_NODE_BYTES {
                    sampled += QUICKLIST_NODE + jemalloc_size(cur);
                    nodes += 1;
                    elems += cur_elems;
                    cur = LP_OVERHEAD;
                    cur_elems = 0;
                    if nodes >= samples {
                        break;
                    }
                }
                cur += sz;
                cur_elems += 1;
            }
            if nodes < samples && cur_elems > 0 {
                sampled += QUICKLIST_NODE + jemalloc_size(cur);
                nodes += 1;
                elems += cur_elems;
            }
            let total_nodes = if elems == 0 {
                0
            } else {
                l.len().div_ceil(elems.div_ceil(nodes))
            };
            ROBJ + QUICKLIST + scaled(sampled, nodes, total_nodes)
        }
        Value::Set(set) => {
            if enc == "intset" {
                let width = set
                    .iter()
                    .filter_map(|m| as_int(m))
                    .map(|v| {
                        if i16::try_from(v).is_ok() {
                            2
                        } else if i32::try_from(v).is_ok() {
                            4
                        } else {
                            8
                        }
                    })
                    .max()
                    .unwrap_or(2);
                ROBJ + jemalloc_size(8 + set.len() * width)
            } else {
                let (n, sz) = sample(set.iter(), samples, |m: &SBytes| {
                    DICT_ENTRY + sds_size(m.len())
                });
                ROBJ + DICT + 8 * dict_slots(set.len()) + scaled(sz, n, set.len())
            }
        }
        Value::Hash(h) => {
            if enc == "listpack" {
                let bytes: usize = h
                    .iter()
                    .map(|(f, v)| lp_entry_size(f) + lp_entry_size(v))
                    .sum();
                ROBJ + jemalloc_size(LP_OVERHEAD + bytes)
            } else {
                let (n, sz) = sample(h.iter(), samples, |(f, v): (&SBytes, &SBytes)| {
                    DICT_ENTRY + sds_size(f.len()) + sds_size(v.len())
                });
                ROBJ + DICT + 8 * dict_slots(h.len()) + scaled(sz, n, h.len())
            }
        }
        Value::ZSet(z) => {
            if enc == "listpack" {
                let bytes: usize = z
                    .iter()
                    .map(|(m, s)| lp_entry_size(m) + score_entry_size(s))
                    .sum();
                ROBJ + jemalloc_size(LP_OVERHEAD + bytes)
            } else {
                let (n, sz) = sample(z.iter(), samples, |(m, _): (&SBytes, f64)| {
                    sds_size(m.len()) + DICT_ENTRY + ZSKIPLIST_NODE_AVG
                });
                ROBJ + ZSET
                    + ZSKIPLIST
                    + DICT
                    + 8 * dict_slots(z.len())
                    + jemalloc_size(ZSKIPLIST_HEADER)
                    + scaled(sz, n, z.len())
            }
        }
        Value::Stream(st) => {
            // sizeof(stream) + the rax of listpacks (block buffers here) + groups, with
            // each PEL entry costing a rax key plus a streamNACK as in Redis.
            let groups: usize = st
                .groups
                .values()
                .map(|g| 64 + g.pel.len() * (16 + 32) + g.consumers.len() * 64)
                .sum();
            ROBJ + jemalloc_size(64) + st.blocks_size() + groups
        }
    }
}

/// Sums `size` over the first `samples` items: (items sampled, bytes).
fn sample<T>(
    it: impl Iterator<Item = T>,
    samples: usize,
    size: impl Fn(T) -> usize,
) -> (usize, usize) {
    it.take(samples)
        .fold((0, 0), |(n, sz), x| (n + 1, sz + size(x)))
}

/// What MEMORY USAGE reports for `key`, or None when it does not exist. Like Redis it
/// looks in the dict directly: no expiry, no hit/miss counting.
pub fn key_usage(
    db: &Db,
    key: &[u8],
    config: &crate::config::Config,
    samples: usize,
) -> Option<usize> {
    let e = db.keys.get(key)?;
    Some(value_size(&e.value, config, samples) + sds_size(key.len()) + DICT_ENTRY)
}

/// ```text
/// MEMORY USAGE key [SAMPLES count]
/// ```
fn memory_usage(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut samples = DEFAULT_SAMPLES;
    let mut j = 3;
    while j < argv.len() {
        if eq_ic(&argv[j], "samples") && j + 1 < argv.len() {
            let n = int_arg(&argv[j + 1])?;
            if n < 0 {
                return Err(CmdError::Syntax);
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let config = ctx.config.clone();
    Ok(match key_usage(ctx.db(), &argv[2], &config, samples) {
        Some(n) => Reply::Int(n as i64),
        None => Reply::Null,
    })
}

/// Redis's struct redisMemOverhead, from Rill's accounting (as INFO memory reports it).
struct Overhead {
    peak: u64,
    used: u64,
    startup: u64,
    rss: u64,
    /// (db index, main dict overhead, expires dict overhead) of non-empty databases.
    dbs: Vec<(usize, u64, u64)>,
    total: u64,
    keys: u64,
}

fn overhead(ctx: &mut Ctx) -> Overhead {
    let stats = &ctx.shared.stats;
    let used = crate::alloc::used_memory() as u64;
    let peak = (stats
        .used_memory_peak
        .fetch_max(used as usize, Ordering::Relaxed) as u64)
        .max(used);
    let startup = (stats.used_memory_startup.load(Ordering::Relaxed) as u64).min(used);
    let rss = crate::alloc::rss_bytes() as u64;
    let mut dbs = Vec::new();
    let mut total = startup;
    let mut keys = 0u64;
    for (i, db) in ctx.state.store.dbs.iter().enumerate() {
        let n = db.keys.len();
        if n == 0 {
            continue;
        }
        let main = (n * (DICT_ENTRY + ROBJ) + dict_slots(n) * 8) as u64;
        let ne = db.expires.len();
        let exp = if ne == 0 {
            0
        } else {
            (ne * DICT_ENTRY + dict_slots(ne) * 8) as u64
        };
        total += main + exp;
        keys += n as u64;
        dbs.push((i, main, exp));
    }
    Overhead {
        peak,
        used,
        startup,
        rss,
        dbs,
        total: total.min(used),
        keys,
    }
}

/// A ratio as Redis computes it (in a float).
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        (a as f32 / b as f32) as f64
    }
}

/// ```text
/// MEMORY STATS
/// ```
fn memory_stats(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let o = overhead(ctx);
    let int = |n: u64| Reply::Int(n as i64);
    let key = |s: &str| Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()));
    let mut m: Vec<(Reply, Reply)> = vec![
        (key("peak.allocated"), int(o.peak)),
        (key("total.allocated"), int(o.used)),
        (key("startup.allocated"), int(o.startup)),
        (key("replication.backlog"), int(0)),
        (key("clients.slaves"), int(0)),
        (key("clients.normal"), int(0)),
        (key("cluster.links"), int(0)),
        (key("aof.buffer"), int(0)),
        (key("lua.caches"), int(0)),
        (key("functions.caches"), int(0)),
    ];
    for (i, main, exp) in &o.dbs {
        m.push((
            key(&format!("db.{i}")),
            Reply::Map(vec![
                (key("overhead.hashtable.main"), int(*main)),
                (key("overhead.hashtable.expires"), int(*exp)),
                (key("overhead.hashtable.slot-to-keys"), int(0)),
            ]),
        ));
    }
    let net = o.used.saturating_sub(o.startup);
    let dataset = o.used - o.total;
    let frag_bytes = o.rss as i64 - o.used as i64;
    m.extend([
        (key("overhead.total"), int(o.total)),
        (key("keys.count"), int(o.keys)),
        (
            key("keys.bytes-per-key"),
            int(net.checked_div(o.keys).unwrap_or(0)),
        ),
        (key("dataset.bytes"), int(dataset)),
        (
            key("dataset.percentage"),
            Reply::Double(ratio(dataset * 100, net)),
        ),
        (
            key("peak.percentage"),
            Reply::Double(ratio(o.used * 100, o.peak)),
        ),
        (key("allocator.allocated"), int(o.used)),
        (key("allocator.active"), int(o.used)),
        (key("allocator.resident"), int(o.rss)),
        (key("allocator-fragmentation.ratio"), Reply::Double(1.0)),
        (key("allocator-fragmentation.bytes"), int(0)),
        (
            key("allocator-rss.ratio"),
            Reply::Double(ratio(o.rss, o.used)),
        ),
        (key("allocator-rss.bytes"), Reply::Int(frag_bytes)),
        (key("rss-overhead.ratio"), Reply::Double(1.0)),
        (key("rss-overhead.bytes"), int(0)),
        (key("fragmentation"), Reply::Double(ratio(o.rss, o.used))),
        (key("fragmentation.bytes"), Reply::Int(frag_bytes)),
    ]);
    Ok(Reply::Map(m))
}

const DOCTOR_EMPTY: &str = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
const DOCTOR_OK: &str = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
const DOCTOR_PEAK: &str = " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n";
const DOCTOR_HIGH_RSS: &str = " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"libc\".\n\n";

/// Redis's getMemoryDoctorReport, for the checks Rill's accounting supports (peak and
/// total RSS; there are no replicas, allocator arenas or scripts to report on).
fn doctor_report(o: &Overhead) -> String {
    if o.used < 5 * 1024 * 1024 {
        return DOCTOR_EMPTY.to_string();
    }
    let big_peak = (o.peak as f32 / o.used as f32) > 1.5;
    let frag = o.rss as f32 / o.used as f32;
    let high_frag = frag > 1.4 && o.rss.saturating_sub(o.used) > 10 << 20;
    if !big_peak && !high_frag {
        return DOCTOR_OK.to_string();
    }
    let mut s =
        String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    if big_peak {
        s.push_str(DOCTOR_PEAK);
    }
    if high_frag {
        s.push_str(DOCTOR_HIGH_RSS);
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

/// ```text
/// MEMORY DOCTOR
/// ```
fn memory_doctor(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let o = overhead(ctx);
    Ok(Reply::Verbatim("txt", Bytes::from(doctor_report(&o))))
}

/// ```text
/// MEMORY MALLOC-STATS
/// ```
/// Rill runs on the system allocator (INFO's mem_allocator:libc), which has no report.
fn memory_malloc_stats(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Verbatim(
        "txt",
        Bytes::from_static(b"Stats not supported for the current allocator"),
    ))
}

/// ```text
/// MEMORY PURGE
/// ```
/// Nothing to purge with the system allocator: `+OK` as Redis replies.
fn memory_purge(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::ok())
}

const MEMORY_HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

/// ```text
/// MEMORY HELP
/// ```
fn memory_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(super::command::help_reply("MEMORY", MEMORY_HELP))
}

static MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("doctor", 2, 0, memory_doctor)
        .group("server")
        .doc("4.0.0", "Outputs memory problems report", "O(1)"),
    CommandSpec::new("help", 2, LOADING | STALE, memory_help)
        .group("server")
        .doc(
            "4.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
    CommandSpec::new("malloc-stats", 2, 0, memory_malloc_stats)
        .group("server")
        .doc(
            "4.0.0",
            "Show allocator internal stats",
            "Depends on how much memory is allocated, could be slow",
        ),
    CommandSpec::new("purge", 2, 0, memory_purge)
        .group("server")
        .doc(
            "4.0.0",
            "Ask the allocator to release memory",
            "Depends on how much memory is allocated, could be slow",
        ),
    CommandSpec::new("stats", 2, 0, memory_stats)
        .group("server")
        .doc("4.0.0", "Show memory usage details", "O(1)"),
    CommandSpec::new("usage", -3, READONLY, memory_usage)
        .keys(2, 2, 1)
        .group("server")
        .doc(
            "4.0.0",
            "Estimate the memory usage of a key",
            "O(N) where N is the number of samples.",
        )
        .syntax("key [SAMPLES count]"),
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::container("memory", MEMORY_SUBCOMMANDS)
    .group("server")
    .doc(
        "4.0.0",
        "A container for memory diagnostics commands",
        "Depends on subcommand.",
    )];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::*;

    #[test]
    fn jemalloc_classes() {
        let got: Vec<usize> = [1, 8, 9, 17, 25, 128, 129, 160, 161, 257, 4097]
            .iter()
            .map(|&n| jemalloc_size(n))
            .collect();
        assert_eq!(got, [8, 8, 16, 32, 32, 128, 160, 160, 192, 320, 5120]);
    }

    #[test]
    fn usage_matches_redis_for_strings() {
        let mut t = TestDb::new();
        t.run(&["SET", "a", "1"]);
        // Redis 7.0.15: SET a 1 -> MEMORY USAGE a = 48.
        assert_eq!(t.run(&["MEMORY", "USAGE", "a"]), Reply::Int(48));
        assert_eq!(t.run(&["MEMORY", "USAGE", "nokey"]), Reply::Null);
        assert_eq!(
            t.run(&["MEMORY", "USAGE", "a", "SAMPLES"]),
            Reply::error("ERR syntax error")
        );
        assert_eq!(
            t.run(&["MEMORY", "USAGE", "a", "SAMPLES", "-1"]),
            Reply::error("ERR syntax error")
        );
        assert_eq!(
            t.run(&["MEMORY", "USAGE", "a", "SAMPLES", "x"]),
            Reply::error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            t.run(&["MEMORY", "USAGE", "a", "SAMPLES", "0"]),
            Reply::Int(48)
        );
    }

    #[test]
    fn usage_grows_with_collections() {
        let mut t = TestDb::new();
        let usage = |t: &mut TestDb, k: &str| match t.run(&["MEMORY", "USAGE", k, "SAMPLES", "0"]) {
            Reply::Int(n) => n,
            r => panic!("{r:?}"),
        };
        for i in 0..10 {
            t.run(&["RPUSH", "l", &format!("e{i}")]);
            t.run(&["SADD", "s", &format!("m{i}")]);
            t.run(&["HSET", "h", &format!("f{i}"), "v"]);
            t.run(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
        }
        let small: Vec<i64> = ["l", "s", "h", "z"]
            .iter()
            .map(|k| usage(&mut t, k))
            .collect();
        for i in 10..1000 {
            t.run(&["RPUSH", "l", &format!("e{i}")]);
            t.run(&["SADD", "s", &format!("m{i}")]);
            t.run(&["HSET", "h", &format!("f{i}"), "v"]);
            t.run(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
        }
        for (k, s) in ["l", "s", "h", "z"].iter().zip(small) {
            let big = usage(&mut t, k);
            assert!(big > s * 10, "{k}: {s} -> {big}");
        }
    }

    #[test]
    fn subcommands_and_errors() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["MEMORY", "PURGE"]), Reply::ok());
        assert!(matches!(t.run(&["MEMORY", "STATS"]), Reply::Map(_)));
        assert!(matches!(
            t.run(&["MEMORY", "DOCTOR"]),
            Reply::Verbatim("txt", _)
        ));
        assert_eq!(
            t.run(&["MEMORY", "FOO"]),
            Reply::error("ERR unknown subcommand 'FOO'. Try MEMORY HELP.")
        );
        assert_eq!(
            t.run(&["MEMORY", "DOCTOR", "x"]),
            Reply::error("ERR wrong number of arguments for 'memory|doctor' command")
        );
        match t.run(&["MEMORY", "HELP"]) {
            Reply::Array(v) => assert_eq!(v.len(), 14),
            r => panic!("{r:?}"),
        }
    }
}
