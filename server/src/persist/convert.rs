//! Server data types <-> the RDB value model (rill_storage::rdb).
//!
//! - [`to_rdb`] borrows: strings, list elements, set members, hash fields and values, zset
//!   members and stream group/consumer names are `Cow::Borrowed` from the keyspace. Stream
//!   entry fields are copied (the block buffer only lends them to a callback).
//! - [`from_rdb`] consumes an owned value (what the reader yields): heap-sized byte
//!   strings move into `SBytes` without a copy. A value that would make an inconsistent
//!   structure (duplicate set members, hash fields or zset members, a NaN score, stream
//!   entries out of order, a PEL entry without or with two owners) is an `Err` with
//!   Redis's wording where Redis has one; RESTORE reports any `Err` as "Bad data format".
//!   An empty list, set, hash or zset is `Err(`[`EMPTY_KEY`]`)`: Redis skips such keys when
//!   loading an RDB and refuses them in RESTORE.
//! - [`key_meta`] / [`apply_key_meta`]: the IDLE / FREQ opcodes, as Redis's
//!   rdbSaveKeyValuePair and objectSetLRUOrLFU.
//! - [`write_options`]: encoding thresholds from the config.

use crate::config::Config;
use crate::db::stream::{self, Stream};
use crate::db::{hash, list, set, zset, AccessClock, Entry, SBytes, Value, LRU_CLOCK_MAX};
use rill_storage::rdb;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The `from_rdb` error for an empty collection (skipped by the RDB loader).
pub const EMPTY_KEY: &str = "Empty keys skipped";

fn sid(id: stream::StreamId) -> rdb::StreamId {
    rdb::StreamId {
        ms: id.ms,
        seq: id.seq,
    }
}

fn server_sid(id: rdb::StreamId) -> stream::StreamId {
    stream::StreamId::new(id.ms, id.seq)
}

fn b(s: &SBytes) -> rdb::Blob<'_> {
    Cow::Borrowed(s.as_bytes())
}

/// An owned blob as `SBytes`: moves a heap-sized `Vec` without copying.
fn sbytes(blob: rdb::Blob<'static>) -> SBytes {
    match blob {
        Cow::Owned(v) => SBytes::from_vec(v),
        Cow::Borrowed(s) => SBytes::new(s),
    }
}

/// The RDB model of a value, borrowing its bytes.
pub fn to_rdb(v: &Value) -> rdb::Value<'_> {
    match v {
        Value::Str(s) => rdb::Value::String(b(s)),
        Value::List(l) => rdb::Value::List(l.iter().map(b).collect()),
        Value::Set(s) => rdb::Value::Set(s.iter().map(b).collect()),
        Value::Hash(h) => rdb::Value::Hash(h.iter().map(|(f, v)| (b(f), b(v))).collect()),
        Value::ZSet(z) => rdb::Value::ZSet(z.iter().map(|(m, s)| (b(m), s)).collect()),
        Value::Stream(s) => rdb::Value::Stream(Box::new(stream_to_rdb(s))),
    }
}

fn stream_to_rdb(s: &Stream) -> rdb::Stream<'_> {
    let mut entries = Vec::with_capacity(s.length.min(1 << 20) as usize);
    s.range(
        stream::StreamId::MIN,
        stream::StreamId::MAX,
        false,
        |id, f| {
            entries.push(rdb::StreamEntry {
                id: sid(id),
                fields: f
                    .chunks_exact(2)
                    .map(|p| (Cow::Owned(p[0].to_vec()), Cow::Owned(p[1].to_vec())))
                    .collect(),
            });
            true
        },
    );
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| rdb::Group {
            name: b(name),
            last_id: sid(g.last_id),
            entries_read: g.entries_read,
            pel: g
                .pel
                .iter()
                .map(|(id, p)| rdb::PendingEntry {
                    id: sid(*id),
                    delivery_time: p.delivery_time,
                    delivery_count: p.delivery_count,
                })
                .collect(),
            consumers: g
                .consumers
                .iter()
                .map(|(cname, c)| rdb::Consumer {
                    name: b(cname),
                    seen_time: c.seen_time,
                    pel: c.pel.iter().map(|id| sid(*id)).collect(),
                })
                .collect(),
        })
        .collect();
    rdb::Stream {
        entries,
        length: s.length,
        last_id: sid(s.last_id),
        first_id: sid(s.first_id),
        max_deleted_entry_id: sid(s.max_deleted_entry_id),
        entries_added: s.entries_added,
        groups,
    }
}

/// Builds the server's value from a decoded one.
pub fn from_rdb(v: rdb::Value<'static>) -> Result<Value, String> {
    Ok(match v {
        rdb::Value::String(s) => Value::Str(sbytes(s)),
        rdb::Value::List(items) => {
            if items.is_empty() {
                return Err(EMPTY_KEY.into());
            }
            let l: list::List = items.into_iter().map(sbytes).collect();
            Value::List(Box::new(l))
        }
        rdb::Value::Set(members) => {
            if members.is_empty() {
                return Err(EMPTY_KEY.into());
            }
            let mut s = set::Set::with_capacity_and_hasher(members.len(), Default::default());
            for m in members {
                if !s.insert(sbytes(m)) {
                    return Err("Duplicate set members detected".into());
                }
            }
            Value::Set(Box::new(s))
        }
        rdb::Value::Hash(pairs) => {
            if pairs.is_empty() {
                return Err(EMPTY_KEY.into());
            }
            let mut h = hash::Hash::with_capacity_and_hasher(pairs.len(), Default::default());
            for (f, v) in pairs {
                if h.insert(sbytes(f), sbytes(v)).is_some() {
                    return Err("Duplicate hash fields detected".into());
                }
            }
            Value::Hash(Box::new(h))
        }
        rdb::Value::ZSet(pairs) => {
            if pairs.is_empty() {
                return Err(EMPTY_KEY.into());
            }
            let mut seen: hashbrown::HashSet<&[u8], ahash::RandomState> =
                hashbrown::HashSet::with_capacity_and_hasher(pairs.len(), Default::default());
            for (m, score) in &pairs {
                if score.is_nan() {
                    return Err("Zset with NAN score detected".into());
                }
                if !seen.insert(m) {
                    return Err("Duplicate zset fields detected".into());
                }
            }
            drop(seen);
            let z = zset::ZSet::from_pairs(pairs.iter().map(|(m, s)| (&m[..], *s)).collect());
            Value::ZSet(Box::new(z))
        }
        rdb::Value::Stream(s) => Value::Stream(Box::new(stream_from_rdb(*s)?)),
    })
}

fn stream_from_rdb(r: rdb::Stream<'static>) -> Result<Stream, String> {
    let mut s = Stream::new();
    if r.length != r.entries.len() as u64 {
        return Err("Stream length inconsistent with its entries".into());
    }
    let mut fields: Vec<&[u8]> = Vec::new();
    let mut prev: Option<rdb::StreamId> = None;
    for e in &r.entries {
        if prev.is_some_and(|p| e.id <= p) {
            return Err("Stream entries out of order".into());
        }
        if e.fields.is_empty() {
            return Err("Stream entry without fields".into());
        }
        prev = Some(e.id);
        fields.clear();
        for (f, v) in &e.fields {
            fields.push(f);
            fields.push(v);
        }
        s.append(server_sid(e.id), &fields);
    }
    if prev.is_some_and(|p| p > r.last_id) {
        return Err("Stream last ID below its entries".into());
    }
    s.length = r.length;
    s.last_id = server_sid(r.last_id);
    s.first_id = server_sid(r.first_id);
    s.max_deleted_entry_id = server_sid(r.max_deleted_entry_id);
    s.entries_added = r.entries_added;
    for g in r.groups {
        let name = sbytes(g.name);
        if s.groups.contains_key(&name) {
            return Err("Duplicated consumer group name".into());
        }
        // PEL entries with no owner yet; consumers claim them below.
        let mut unowned: BTreeMap<stream::StreamId, (i64, u64)> = BTreeMap::new();
        for p in &g.pel {
            let id = server_sid(p.id);
            if unowned
                .insert(id, (p.delivery_time, p.delivery_count))
                .is_some()
            {
                return Err("Duplicated global PEL entry loading stream consumer group".into());
            }
        }
        let mut group = stream::Group {
            last_id: server_sid(g.last_id),
            entries_read: g.entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        };
        for c in g.consumers {
            let cname = sbytes(c.name);
            if group.consumers.contains_key(&cname) {
                return Err("Duplicate stream consumer detected.".into());
            }
            let mut pel = BTreeSet::new();
            for id in c.pel {
                let id = server_sid(id);
                let Some((delivery_time, delivery_count)) = unowned.remove(&id) else {
                    return Err(if group.pel.contains_key(&id) {
                        "Duplicated consumer PEL entry loading a stream consumer group".into()
                    } else {
                        "Consumer entry not found in group global PEL".into()
                    });
                };
                group.pel.insert(
                    id,
                    stream::PendingEntry {
                        consumer: cname.clone(),
                        delivery_time,
                        delivery_count,
                    },
                );
                pel.insert(id);
            }
            group.consumers.insert(
                cname,
                stream::Consumer {
                    seen_time: c.seen_time,
                    active_time: -1,
                    pel,
                },
            );
        }
        if !unowned.is_empty() {
            return Err("Stream CG PEL entry without consumer".into());
        }
        s.groups.insert(name, group);
    }
    Ok(s)
}

/// maxmemory-policy & MAXMEMORY_FLAG_LRU.
fn lru_policy(config: &Config) -> bool {
    matches!(
        config.maxmemory_policy.as_str(),
        "allkeys-lru" | "volatile-lru"
    )
}

/// maxmemory-policy & MAXMEMORY_FLAG_LFU.
fn lfu_policy(config: &Config) -> bool {
    matches!(
        config.maxmemory_policy.as_str(),
        "allkeys-lfu" | "volatile-lfu"
    )
}

/// What precedes a key in an RDB file (rdbSaveKeyValuePair): the expire, the idle time
/// in seconds under an LRU policy, the decayed LFU counter under an LFU policy.
pub fn key_meta(
    entry: &Entry,
    expire_ms: Option<i64>,
    config: &Config,
    clock: &AccessClock,
) -> rdb::KeyMeta {
    rdb::KeyMeta {
        expire_ms,
        lru_idle: lru_policy(config).then(|| clock.idle_secs(entry.lru)),
        lfu_freq: lfu_policy(config).then(|| clock.lfu_decayed(entry.lru).min(255) as u8),
    }
}

/// Sets `entry.lru` from a loaded IDLE (seconds) or FREQ, as Redis's objectSetLRUOrLFU:
/// under an LFU policy only FREQ counts, under any other policy only IDLE. Returns false
/// (and leaves `lru` alone) when the meta carries nothing that applies.
pub fn apply_key_meta(
    entry: &mut Entry,
    meta: &rdb::KeyMeta,
    config: &Config,
    clock: &AccessClock,
) -> bool {
    if lfu_policy(config) {
        if let Some(freq) = meta.lfu_freq {
            entry.lru = (clock.lfu_minutes << 8) | freq as u32;
            return true;
        }
    } else if let Some(idle) = meta.lru_idle {
        // Redis keeps it in a long long and ignores it when negative.
        let idle = idle as i64;
        if idle >= 0 {
            let mut abs = clock.lru_clock as i64 - idle;
            if abs < 0 {
                abs += LRU_CLOCK_MAX as i64;
            }
            // robj.lru is a 24-bit field.
            entry.lru = (abs as u64 & LRU_CLOCK_MAX as u64) as u32;
            return true;
        }
    }
    false
}

/// The writer's encoding thresholds and switches from the config.
pub fn write_options(config: &Config) -> rdb::WriteOptions {
    let size = |name: &str, default: usize| -> usize {
        config
            .get(name)
            .parse::<u64>()
            .map_or(default, |v| usize::try_from(v).unwrap_or(usize::MAX))
    };
    let d = rdb::WriteOptions::default();
    rdb::WriteOptions {
        compression: config.get_bool("rdbcompression"),
        checksum: config.get_bool("rdbchecksum"),
        hash_max_listpack_entries: size("hash-max-listpack-entries", d.hash_max_listpack_entries),
        hash_max_listpack_value: size("hash-max-listpack-value", d.hash_max_listpack_value),
        zset_max_listpack_entries: size("zset-max-listpack-entries", d.zset_max_listpack_entries),
        zset_max_listpack_value: size("zset-max-listpack-value", d.zset_max_listpack_value),
        set_max_intset_entries: size("set-max-intset-entries", d.set_max_intset_entries),
        list_max_listpack_size: config
            .get("list-max-listpack-size")
            .parse()
            .unwrap_or(d.list_max_listpack_size),
        stream_node_max_entries: size("stream-node-max-entries", d.stream_node_max_entries),
        stream_node_max_bytes: size("stream-node-max-bytes", d.stream_node_max_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::stream::StreamId;

    fn owned(b: &rdb::Blob<'_>) -> rdb::Blob<'static> {
        Cow::Owned(b.to_vec())
    }

    /// A deep copy with owned bytes, as the reader would yield.
    fn to_static(v: &rdb::Value<'_>) -> rdb::Value<'static> {
        match v {
            rdb::Value::String(s) => rdb::Value::String(owned(s)),
            rdb::Value::List(l) => rdb::Value::List(l.iter().map(owned).collect()),
            rdb::Value::Set(l) => rdb::Value::Set(l.iter().map(owned).collect()),
            rdb::Value::Hash(h) => {
                rdb::Value::Hash(h.iter().map(|(f, v)| (owned(f), owned(v))).collect())
            }
            rdb::Value::ZSet(z) => {
                rdb::Value::ZSet(z.iter().map(|(m, s)| (owned(m), *s)).collect())
            }
            rdb::Value::Stream(s) => rdb::Value::Stream(Box::new(rdb::Stream {
                entries: s
                    .entries
                    .iter()
                    .map(|e| rdb::StreamEntry {
                        id: e.id,
                        fields: e.fields.iter().map(|(f, v)| (owned(f), owned(v))).collect(),
                    })
                    .collect(),
                groups: s
                    .groups
                    .iter()
                    .map(|g| rdb::Group {
                        name: owned(&g.name),
                        last_id: g.last_id,
                        entries_read: g.entries_read,
                        pel: g.pel.clone(),
                        consumers: g
                            .consumers
                            .iter()
                            .map(|c| rdb::Consumer {
                                name: owned(&c.name),
                                seen_time: c.seen_time,
                                pel: c.pel.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
                ..(**s).clone()
            })),
        }
    }

    fn bytes(items: &[&str]) -> Vec<SBytes> {
        items.iter().map(|s| SBytes::from(*s)).collect()
    }

    fn sample_stream() -> Stream {
        let mut s = Stream::new();
        for i in 1..=250u64 {
            let v = i.to_string();
            if i % 3 == 0 {
                s.append(
                    StreamId::new(1000 + i, i),
                    &[b"other", v.as_bytes(), b"x", b"y"],
                );
            } else {
                s.append(StreamId::new(1000 + i, i), &[b"field", v.as_bytes()]);
            }
        }
        for i in [5u64, 6, 100, 249] {
            assert!(s.delete(StreamId::new(1000 + i, i)));
        }
        s.max_deleted_entry_id = StreamId::new(1249, 249);
        assert!(s.create_group(b"g1", StreamId::new(1010, 10), 10));
        assert!(s.create_group(b"g2", StreamId::MIN, INVALID_ENTRIES_READ));
        let g = s.groups.get_mut(&b"g1"[..]).unwrap();
        g.create_consumer(b"alice", 1_700_000_000_000);
        g.create_consumer(b"bob", 1_700_000_000_500);
        g.create_consumer(b"idle", 1_700_000_000_900);
        g.assign(StreamId::new(1001, 1), b"alice", 1_700_000_001_000, Some(3));
        g.assign(StreamId::new(1002, 2), b"bob", 1_700_000_002_000, None);
        g.assign(StreamId::new(1003, 3), b"alice", 1_700_000_003_000, None);
        s
    }
    use crate::db::stream::INVALID_ENTRIES_READ;

    fn samples() -> Vec<Value> {
        let mut out = vec![
            Value::Str(SBytes::from("short")),
            Value::Str(SBytes::from_vec(vec![b'v'; 1000])),
            Value::Str(SBytes::from("12345")),
            Value::Str(SBytes::from("")),
        ];
        out.push(Value::List(Box::new(
            bytes(&["a", "1", "", "b"]).into_iter().collect(),
        )));
        let long: list::List = (0..1000).map(SBytes::from_i64).collect();
        out.push(Value::List(Box::new(long)));
        out.push(Value::Set(Box::new(
            bytes(&["3", "1", "-2"]).into_iter().collect(),
        )));
        out.push(Value::Set(Box::new(
            bytes(&["x", "1", "yy"]).into_iter().collect(),
        )));
        let big: set::Set = (0..1000).map(SBytes::from_i64).collect();
        out.push(Value::Set(Box::new(big)));
        let mut h = hash::Hash::default();
        h.insert("f1".into(), "v1".into());
        h.insert("f2".into(), SBytes::from_vec(vec![b'z'; 100]));
        h.insert("n".into(), "42".into());
        out.push(Value::Hash(Box::new(h)));
        let mut z = zset::ZSet::new();
        for (m, s) in [
            ("a", 1.0),
            ("b", -0.5),
            ("c", f64::INFINITY),
            ("d", f64::NEG_INFINITY),
        ] {
            z.insert(m.as_bytes(), s);
        }
        z.insert(b"e", 1.0);
        out.push(Value::ZSet(Box::new(z)));
        let mut big = zset::ZSet::new();
        for i in 0..300 {
            big.insert(format!("member:{i}").as_bytes(), i as f64 / 7.0);
        }
        out.push(Value::ZSet(Box::new(big)));
        out.push(Value::Stream(Box::new(sample_stream())));
        out.push(Value::Stream(Box::new(Stream::new())));
        out
    }

    /// Streams compared through their observable state: entries, metadata, groups.
    fn check_stream(a: &Stream, b: &Stream) {
        let all = |s: &Stream| s.collect(StreamId::MIN, StreamId::MAX, false, 0);
        assert_eq!(all(a), all(b));
        assert_eq!(
            (
                a.length,
                a.last_id,
                a.first_id,
                a.max_deleted_entry_id,
                a.entries_added
            ),
            (
                b.length,
                b.last_id,
                b.first_id,
                b.max_deleted_entry_id,
                b.entries_added
            )
        );
        assert_eq!(a.groups.len(), b.groups.len());
        for ((na, ga), (nb, gb)) in a.groups.iter().zip(&b.groups) {
            assert_eq!(na, nb);
            assert_eq!((ga.last_id, ga.entries_read), (gb.last_id, gb.entries_read));
            let pel = |g: &stream::Group| {
                g.pel
                    .iter()
                    .map(|(id, p)| (*id, p.consumer.clone(), p.delivery_time, p.delivery_count))
                    .collect::<Vec<_>>()
            };
            assert_eq!(pel(ga), pel(gb));
            let cons = |g: &stream::Group| {
                g.consumers
                    .iter()
                    .map(|(n, c)| (n.clone(), c.seen_time, c.pel.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(cons(ga), cons(gb));
        }
        // The rebuilt stream keeps working: the next XADD ID follows last_id.
        assert_eq!(
            a.next_id(None, false, 0).unwrap(),
            b.next_id(None, false, 0).unwrap()
        );
    }

    #[test]
    fn every_type_round_trips_through_the_model() {
        for v in samples() {
            let model = to_rdb(&v);
            let back = from_rdb(to_static(&model)).unwrap();
            assert_eq!(back.type_name(), v.type_name());
            assert_eq!(to_rdb(&back), model);
            if let (Value::Stream(a), Value::Stream(b)) = (&v, &back) {
                check_stream(a, b);
            }
        }
        // Strings and collection elements are borrowed, not copied.
        let v = Value::Str(SBytes::from_vec(vec![1; 100]));
        match (&v, to_rdb(&v)) {
            (Value::Str(s), rdb::Value::String(Cow::Borrowed(b))) => {
                assert_eq!(s.as_ptr(), b.as_ptr())
            }
            _ => panic!("not borrowed"),
        }
    }

    /// Sets compare as sorted member lists (an intset or hashtable reorders them).
    fn normalized(v: rdb::Value<'_>) -> rdb::Value<'_> {
        match v {
            rdb::Value::Set(mut m) => {
                m.sort();
                rdb::Value::Set(m)
            }
            rdb::Value::Hash(mut h) => {
                h.sort();
                rdb::Value::Hash(h)
            }
            other => other,
        }
    }

    #[test]
    fn every_type_round_trips_through_dump_payloads() {
        let opts = rdb::WriteOptions::default();
        for v in samples() {
            let model = to_rdb(&v);
            let payload = rdb::encode_dump(&model, &opts);
            let back = from_rdb(rdb::decode_dump(&payload).unwrap()).unwrap();
            assert_eq!(normalized(to_rdb(&back)), normalized(model.clone()));
            if let (Value::Stream(a), Value::Stream(b)) = (&v, &back) {
                check_stream(a, b);
            }
        }
    }

    #[test]
    fn inconsistent_values_are_refused() {
        let blob = |s: &str| -> rdb::Blob<'static> { Cow::Owned(s.as_bytes().to_vec()) };
        let err = |v: rdb::Value<'static>| from_rdb(v).err().unwrap();
        assert_eq!(
            err(rdb::Value::Set(vec![blob("a"), blob("b"), blob("a")])),
            "Duplicate set members detected"
        );
        assert_eq!(
            err(rdb::Value::Hash(vec![
                (blob("f"), blob("1")),
                (blob("f"), blob("2"))
            ])),
            "Duplicate hash fields detected"
        );
        assert_eq!(
            err(rdb::Value::ZSet(vec![(blob("m"), 1.0), (blob("m"), 2.0)])),
            "Duplicate zset fields detected"
        );
        assert_eq!(
            err(rdb::Value::ZSet(vec![(blob("m"), f64::NAN)])),
            "Zset with NAN score detected"
        );
        for empty in [
            rdb::Value::List(vec![]),
            rdb::Value::Set(vec![]),
            rdb::Value::Hash(vec![]),
            rdb::Value::ZSet(vec![]),
        ] {
            assert_eq!(err(empty), EMPTY_KEY);
        }

        let good = || match to_static(&to_rdb(&Value::Stream(Box::new(sample_stream())))) {
            rdb::Value::Stream(s) => s,
            _ => unreachable!(),
        };
        let stream_err = |s: Box<rdb::Stream<'static>>| err(rdb::Value::Stream(s));
        let mut s = good();
        s.entries.swap(0, 1);
        assert!(stream_err(s).contains("out of order"));
        let mut s = good();
        s.length += 1;
        assert!(stream_err(s).contains("length"));
        let mut s = good();
        s.last_id = rdb::StreamId { ms: 1, seq: 0 };
        assert!(stream_err(s).contains("last ID"));
        let mut s = good();
        s.groups.push(s.groups[0].clone());
        assert_eq!(stream_err(s), "Duplicated consumer group name");
        let mut s = good();
        let c = s.groups[0].consumers[0].clone();
        s.groups[0].consumers.push(c);
        assert_eq!(stream_err(s), "Duplicate stream consumer detected.");
        let mut s = good();
        let id = s.groups[0].consumers[0].pel[0];
        s.groups[0].consumers[1].pel.push(id);
        assert!(stream_err(s).contains("Duplicated consumer PEL entry"));
        let mut s = good();
        s.groups[0].consumers[0]
            .pel
            .push(rdb::StreamId { ms: 9, seq: 9 });
        assert!(stream_err(s).contains("not found in group global PEL"));
        let mut s = good();
        s.groups[0].consumers[0].pel.clear();
        assert_eq!(stream_err(s), "Stream CG PEL entry without consumer");
        let mut s = good();
        let p = s.groups[0].pel[0];
        s.groups[0].pel.push(p);
        assert!(stream_err(s).contains("Duplicated global PEL entry"));
    }

    #[test]
    fn idle_and_freq_follow_the_policy() {
        let mut config = Config::default();
        let clock = AccessClock {
            lru_clock: 1000,
            lfu_minutes: 77,
            ..Default::default()
        };
        let mut e = Entry {
            value: Value::Str(SBytes::from("v")),
            lru: 990,
            flags: 0,
        };
        config.maxmemory_policy = "noeviction".into();
        let m = key_meta(&e, Some(5), &config, &clock);
        assert_eq!(
            m,
            rdb::KeyMeta {
                expire_ms: Some(5),
                lru_idle: None,
                lfu_freq: None
            }
        );
        config.maxmemory_policy = "allkeys-lru".into();
        assert_eq!(key_meta(&e, None, &config, &clock).lru_idle, Some(10));
        config.maxmemory_policy = "volatile-lru".into();
        assert_eq!(key_meta(&e, None, &config, &clock).lru_idle, Some(10));
        config.maxmemory_policy = "allkeys-random".into();
        assert_eq!(key_meta(&e, None, &config, &clock), rdb::KeyMeta::default());

        // Loading IDLE: any non-LFU policy, wrapping below zero as Redis does.
        let idle = |secs| rdb::KeyMeta {
            lru_idle: Some(secs),
            ..Default::default()
        };
        config.maxmemory_policy = "noeviction".into();
        assert!(apply_key_meta(&mut e, &idle(300), &config, &clock));
        assert_eq!(e.lru, 700);
        assert_eq!(clock.idle_secs(e.lru), 300);
        assert!(apply_key_meta(&mut e, &idle(1500), &config, &clock));
        assert_eq!(e.lru, 1000 + LRU_CLOCK_MAX - 1500);
        assert!(!apply_key_meta(
            &mut e,
            &rdb::KeyMeta {
                lfu_freq: Some(3),
                ..Default::default()
            },
            &config,
            &clock
        ));

        // LFU: FREQ sets the counter with the current minutes; IDLE is ignored.
        config.maxmemory_policy = "allkeys-lfu".into();
        let lfu_clock = AccessClock { lfu: true, ..clock };
        let freq = rdb::KeyMeta {
            lfu_freq: Some(200),
            ..Default::default()
        };
        assert!(apply_key_meta(&mut e, &freq, &config, &lfu_clock));
        assert_eq!(e.lru, (77 << 8) | 200);
        assert_eq!(key_meta(&e, None, &config, &lfu_clock).lfu_freq, Some(200));
        assert_eq!(key_meta(&e, None, &config, &lfu_clock).lru_idle, None);
        assert!(!apply_key_meta(&mut e, &idle(5), &config, &lfu_clock));
        config.maxmemory_policy = "volatile-lfu".into();
        assert_eq!(key_meta(&e, None, &config, &lfu_clock).lfu_freq, Some(200));
    }

    #[test]
    fn write_options_come_from_the_config() {
        let mut config = Config::default();
        let o = write_options(&config);
        assert!(o.compression && o.checksum);
        assert_eq!(o.hash_max_listpack_value, 64);
        assert_eq!(o.list_max_listpack_size, -2);
        assert_eq!(o.stream_node_max_bytes, 4096);
        assert_eq!(o.stream_node_max_entries, 100);
        for (k, v) in [
            ("rdbcompression", "no"),
            ("hash-max-listpack-entries", "7"),
            ("hash-max-listpack-value", "1kb"),
            ("zset-max-listpack-entries", "9"),
            ("zset-max-listpack-value", "11"),
            ("set-max-intset-entries", "13"),
            ("list-max-listpack-size", "5"),
            ("stream-node-max-entries", "15"),
            ("stream-node-max-bytes", "17"),
        ] {
            config.set(k, v).unwrap();
        }
        let o = write_options(&config);
        assert!(!o.compression && o.checksum);
        assert_eq!(
            (
                o.hash_max_listpack_entries,
                o.hash_max_listpack_value,
                o.zset_max_listpack_entries,
                o.zset_max_listpack_value,
                o.set_max_intset_entries,
                o.list_max_listpack_size,
                o.stream_node_max_entries,
                o.stream_node_max_bytes
            ),
            (7, 1024, 9, 11, 13, 5, 15, 17)
        );
    }
}
