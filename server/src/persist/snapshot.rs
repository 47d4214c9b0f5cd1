//! The dataset to and from an RDB stream: used by SAVE/BGSAVE, the AOF base file, the
//! start-up load and (later) full resync.

use super::convert;
use crate::broker::offsets_log;
use crate::config::Config;
use crate::db::Store;
use rill_storage::aof as faof;
use rill_storage::rdb::{Item, RdbReader, RdbWriter};
use rill_storage::Error;
use std::io::{self, BufRead, Write};

/// The aux field holding TCOMMIT's offsets (`Store::topic_offsets`).
const TOPIC_OFFSETS_AUX: &[u8] = b"rill-topic-offsets";

/// Writes every database as Redis's rdbSaveRio: aux fields, then per non-empty database
/// SELECTDB, RESIZEDB and its keys (expired ones included, as Redis), EOF and checksum.
pub fn write_rdb<W: Write>(
    w: W,
    store: &Store,
    config: &Config,
    now_ms: i64,
    aof_base: bool,
) -> io::Result<W> {
    let mut wr = RdbWriter::new(w, convert::write_options(config))?;
    let mut n = itoa::Buffer::new();
    wr.aux(b"redis-ver", b"7.0.15")?;
    wr.aux(b"redis-bits", b"64")?;
    wr.aux(b"ctime", n.format(now_ms / 1000).as_bytes())?;
    wr.aux(
        b"used-mem",
        n.format(crate::alloc::used_memory()).as_bytes(),
    )?;
    wr.aux(b"aof-base", if aof_base { b"1" } else { b"0" })?;
    if !store.topic_offsets.is_empty() {
        // Redis skips aux fields it does not know, so the file still loads there.
        wr.aux(
            TOPIC_OFFSETS_AUX,
            &offsets_log::encode_topic_offsets(&store.topic_offsets),
        )?;
    }
    // rdbSaveFunctions: the libraries come before the databases.
    for code in store.functions.values() {
        wr.function(code)?;
    }
    let delay = config.get_i64("rdb-key-save-delay");
    for (i, db) in store.dbs.iter().enumerate() {
        if db.keys.is_empty() {
            continue;
        }
        wr.select_db(i as u64)?;
        wr.resize_db(db.keys.len() as u64, db.expires.len() as u64)?;
        for (k, e, exp) in db.iter_with_expire() {
            let meta = convert::key_meta(e, exp, config, &db.clock);
            wr.entry(k.as_bytes(), &convert::to_rdb(&e.value), &meta)?;
            if delay != 0 {
                debug_delay(delay);
            }
        }
    }
    wr.finish()
}

/// rdb-key-save-delay and key-load-delay (hidden configs Redis's own tests use to keep a
/// save or a load running): microseconds per key; negative means sleep 1 us with
/// probability 1/-n (Redis's debugDelay).
pub(super) fn debug_delay(usec: i64) {
    let usec = if usec < 0 {
        u64::from(rand::random::<u64>() % usec.unsigned_abs() == 0)
    } else {
        usec as u64
    };
    if usec > 0 {
        std::thread::sleep(std::time::Duration::from_micros(usec));
    }
}

/// [`write_rdb`] into a new file at `path`, fsynced; returns its size.
pub fn write_rdb_file(
    path: &std::path::Path,
    store: &Store,
    config: &Config,
    now_ms: i64,
    aof_base: bool,
) -> io::Result<u64> {
    create_synced(path, |w| {
        write_rdb(w, store, config, now_ms, aof_base).map(drop)
    })
}

/// An AOF base file: an RDB with `aof-use-rdb-preamble yes` (`preamble`), else the
/// commands that rebuild the dataset (Redis's rewriteAppendOnlyFileRio).
pub fn write_aof_base(
    path: &std::path::Path,
    store: &Store,
    config: &Config,
    now_ms: i64,
    preamble: bool,
) -> io::Result<u64> {
    if preamble {
        return write_rdb_file(path, store, config, now_ms, true);
    }
    let delay = config.get_i64("rdb-key-save-delay");
    create_synced(path, |w| {
        let mut out = Vec::with_capacity(1 << 17);
        // rewriteFunctions: one FUNCTION LOAD per library, before the keys.
        for code in store.functions.values() {
            faof::encode_command(&mut out, &[&b"FUNCTION"[..], b"LOAD", code]);
        }
        for (i, db) in store.dbs.iter().enumerate() {
            if db.keys.is_empty() {
                continue;
            }
            faof::encode_command(&mut out, &[&b"SELECT"[..], i.to_string().as_bytes()]);
            for (k, e, exp) in db.iter_with_expire() {
                faof::rewrite_key(&mut out, k.as_bytes(), &convert::to_rdb(&e.value), exp);
                if out.len() >= 1 << 16 {
                    w.write_all(&out)?;
                    out.clear();
                }
                if delay != 0 {
                    debug_delay(delay);
                }
            }
        }
        let mut n = itoa::Buffer::new();
        let mut ts = itoa::Buffer::new();
        for ((group, topic, partition), &(offset, t)) in &store.topic_offsets {
            faof::encode_command(
                &mut out,
                &[
                    &b"TCOMMIT"[..],
                    group.as_bytes(),
                    topic.as_bytes(),
                    n.format(*partition).as_bytes(),
                    itoa::Buffer::new().format(offset).as_bytes(),
                    b"TIMESTAMP",
                    ts.format(t).as_bytes(),
                ],
            );
        }
        w.write_all(&out)
    })
}

/// Creates `path`, lets `body` write it through a buffer, then fsyncs; returns the size.
fn create_synced(
    path: &std::path::Path,
    body: impl FnOnce(&mut io::BufWriter<std::fs::File>) -> io::Result<()>,
) -> io::Result<u64> {
    let f = std::fs::File::create(path)?;
    let mut w = io::BufWriter::with_capacity(1 << 16, f);
    body(&mut w)?;
    w.flush()?;
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    Ok(f.metadata()?.len())
}

#[derive(Clone, Copy, Debug, Default)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
}

/// Loads an RDB stream into `store` (which the caller has sized to `databases`).
/// `skip_expired`: a master drops keys already expired (not so for an AOF preamble).
pub fn load_rdb<R: BufRead>(
    reader: &mut RdbReader<R>,
    path: &str,
    store: &mut Store,
    config: &Config,
    now_ms: i64,
    skip_expired: bool,
    mut progress: impl FnMut(u64),
) -> Result<LoadStats, Error> {
    let mut stats = LoadStats::default();
    let mut db = 0usize;
    let delay = config.get_i64("key-load-delay");
    let corrupt = |offset: u64, reason: String| Error::Corrupt {
        path: path.to_string(),
        offset,
        reason,
    };
    while let Some(item) = reader.next()? {
        match item {
            Item::SelectDb(n) => {
                if n as usize >= store.dbs.len() {
                    return Err(corrupt(
                        reader.offset(),
                        format!(
                            "Data file was created with a Redis server configured to handle \
                             more than {} databases",
                            store.dbs.len()
                        ),
                    ));
                }
                db = n as usize;
            }
            Item::ResizeDb { db_size, .. } => {
                let d = &mut store.dbs[db];
                d.keys.reserve((db_size as usize).min(1 << 24));
            }
            Item::Aux { key, value } if key.as_slice() == TOPIC_OFFSETS_AUX => {
                store.topic_offsets = offsets_log::decode_topic_offsets(&value)
                    .ok_or_else(|| corrupt(reader.offset(), "bad rill-topic-offsets".into()))?;
            }
            Item::Aux { .. } => {}
            Item::Function(code) => {
                let name = crate::scripting::functions::parse_meta(&code)
                    .map_err(|e| corrupt(reader.offset(), format!("Failed loading library: {e}")))?
                    .0;
                if store.functions.contains_key(&name) {
                    return Err(corrupt(
                        reader.offset(),
                        format!("Library '{name}' already exists"),
                    ));
                }
                store.functions.insert(name, code.into());
            }
            Item::Entry { key, value, meta } => {
                if (stats.keys_loaded + stats.keys_expired) % 1024 == 0 {
                    progress(reader.offset());
                }
                if delay != 0 {
                    debug_delay(delay);
                }
                if skip_expired && meta.expire_ms.is_some_and(|t| t < now_ms) {
                    stats.keys_expired += 1;
                    continue;
                }
                let v = match convert::from_rdb(value) {
                    Ok(v) => v,
                    // Redis skips empty collections on load.
                    Err(e) if e == convert::EMPTY_KEY => continue,
                    Err(e) => return Err(corrupt(reader.offset(), e)),
                };
                let d = &mut store.dbs[db];
                if d.keys.contains_key(&key[..]) {
                    return Err(corrupt(
                        reader.offset(),
                        format!("RDB has duplicated key '{}'", String::from_utf8_lossy(&key)),
                    ));
                }
                let clock = d.clock;
                let entry = d.insert_new(&key, v);
                convert::apply_key_meta(entry, &meta, config, &clock);
                if let Some(t) = meta.expire_ms {
                    d.set_expire(&key, t);
                }
                stats.keys_loaded += 1;
            }
        }
    }
    // Redis compiles each library as it reads it: a library that fails refuses the file.
    crate::scripting::functions::verify(&store.functions)
        .map_err(|e| corrupt(reader.offset(), format!("Failed loading library: {e}")))?;
    Ok(stats)
}
