//! Keyspace micro benches on `Db` directly (no sockets, no argv): SET, GET, INCR, DEL and
//! lookups of keys with a TTL, over a keyspace of 100k keys with random access.
//!
//! `cargo bench --bench keyspace`.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rill_protocol::fmt::parse_i64;
use rill_server::db::{Db, SBytes, Value};

const KEYS: usize = 100_000;

fn key(i: usize) -> Vec<u8> {
    format!("key:{i:012}").into_bytes()
}

fn filled(n: usize) -> Db {
    let mut db = Db::new();
    db.now_ms = 1_700_000_000_000;
    for i in 0..n {
        db.set(&key(i), Value::Str(SBytes::new(b"xxxxxxxxxxxxxxxx")), false);
    }
    db
}

/// INCR as the string family does it: read, parse, write back in place.
fn incr(db: &mut Db, k: &[u8]) -> Option<i64> {
    if let Some(e) = db.get_mut(k) {
        let Value::Str(s) = &mut e.value else {
            return None;
        };
        let n = parse_i64(s.as_bytes())?.checked_add(1)?;
        *s = SBytes::from_i64(n);
        db.signal_modified(k);
        Some(n)
    } else {
        db.set(k, Value::Str(SBytes::from_i64(1)), false);
        Some(1)
    }
}

fn bench_keyspace(c: &mut Criterion) {
    let keys: Vec<Vec<u8>> = (0..KEYS).map(key).collect();
    let mut g = c.benchmark_group("keyspace");

    g.bench_function("set_new_keys_10k", |b| {
        b.iter_batched_ref(
            Db::new,
            |db| {
                for k in &keys[..10_000] {
                    db.set(k, Value::Str(SBytes::new(b"value")), false);
                }
            },
            BatchSize::LargeInput,
        )
    });

    let mut db = filled(KEYS);
    let mut rng = SmallRng::seed_from_u64(7);
    g.bench_function("set_overwrite", |b| {
        b.iter(|| {
            let k = &keys[rng.gen_range(0..KEYS)];
            db.set(k, Value::Str(SBytes::new(b"yyyyyyyyyyyyyyyy")), false);
        })
    });
    g.bench_function("get_hit", |b| {
        b.iter(|| {
            let k = &keys[rng.gen_range(0..KEYS)];
            black_box(db.get(k).is_some())
        })
    });
    let missing = b"missing:key".to_vec();
    g.bench_function("get_miss", |b| {
        b.iter(|| black_box(db.get(&missing).is_none()))
    });

    let mut counters = Db::new();
    for k in &keys[..1000] {
        counters.set(k, Value::Str(SBytes::from_i64(0)), false);
    }
    g.bench_function("incr", |b| {
        b.iter(|| {
            let k = &keys[rng.gen_range(0..1000)];
            black_box(incr(&mut counters, k))
        })
    });

    let mut ttl = filled(KEYS);
    for k in &keys {
        ttl.set_expire(k, ttl.now_ms + 3_600_000);
    }
    g.bench_function("get_hit_with_ttl", |b| {
        b.iter(|| {
            let k = &keys[rng.gen_range(0..KEYS)];
            black_box(ttl.get(k).is_some())
        })
    });

    g.bench_function("del_and_reinsert", |b| {
        b.iter(|| {
            let k = &keys[rng.gen_range(0..KEYS)];
            black_box(db.remove(k));
            db.set(k, Value::Str(SBytes::new(b"zzzz")), false);
        })
    });
    g.finish();
}

criterion_group!(benches, bench_keyspace);
criterion_main!(benches);
