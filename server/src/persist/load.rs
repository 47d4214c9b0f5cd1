//! Start-up loading: the AOF when appendonly is on (base, then incr files replayed through
//! the command path), otherwise the RDB file. Clients connected meanwhile get -LOADING.

use super::{aof, snapshot};
use crate::client::ClientState;
use crate::cmd::{self, Ctx};
use crate::config::Config;
use crate::db::Store;
use crate::shared::Shared;
use bytes::Bytes;
use rill_storage::aof::{CommandReader, FileKind, Manifest, ReadError};
use rill_storage::rdb::RdbReader;
use std::path::Path;
use std::sync::atomic::Ordering;

/// startLoading, before the first client is served: none sees an empty dataset, and INFO
/// shows the size to load from the first reply on.
pub fn begin(shared: &Shared) {
    let config = shared.config();
    let p = &shared.persist;
    p.loading_start
        .store(crate::util::now_ms() / 1000, Ordering::Relaxed);
    p.loading_total_bytes
        .store(bytes_to_load(&config), Ordering::Relaxed);
    p.loading.store(true, Ordering::SeqCst);
}

/// Size of the files the start-up load will read (an estimate when the AOF manifest is
/// missing or damaged; the loader then stores the exact figure).
fn bytes_to_load(config: &Config) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    if !config.appendonly {
        return size(&config.dir.join(&config.dbfilename));
    }
    let mpath = aof::manifest_path(config);
    match std::fs::read(&mpath)
        .ok()
        .and_then(|t| Manifest::parse(&t).ok())
    {
        Some(m) => {
            let dir = mpath.parent().expect("invariant: manifest has a dir");
            m.entries
                .iter()
                .filter(|e| e.kind != FileKind::History)
                .map(|e| size(&dir.join(&e.name)))
                .sum()
        }
        None => size(&config.dir.join(config.get("appendfilename"))),
    }
}

/// Loads the dataset (after [`begin`]); Err names the file and offset when start-up must
/// be refused.
pub fn load_on_start(shared: &Shared) -> Result<(), String> {
    let config = shared.config();
    let p = &shared.persist;
    let t = std::time::Instant::now();
    let r = if config.appendonly {
        load_aof(shared, &config)
    } else {
        load_rdb_file(shared, &config)
    };
    if r.is_ok() {
        crate::cmd::topic::merge_loaded_offsets(shared);
    }
    p.loading.store(false, Ordering::SeqCst);
    if r.is_ok() {
        tracing::info!(
            "DB loaded from disk: {:.3} seconds",
            t.elapsed().as_secs_f64()
        );
    }
    r
}

fn load_rdb_file(shared: &Shared, config: &Config) -> Result<(), String> {
    let path = config.dir.join(&config.dbfilename);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    let (store, stats) = rdb_into_store(
        shared,
        std::io::BufReader::with_capacity(1 << 20, file),
        &path.display().to_string(),
        config,
        true,
    )?;
    let mut state = shared.state.lock();
    state.store = store;
    state.persist.last_load = stats;
    Ok(())
}

fn rdb_into_store<R: std::io::BufRead>(
    shared: &Shared,
    r: R,
    name: &str,
    config: &Config,
    skip_expired: bool,
) -> Result<(Store, snapshot::LoadStats), String> {
    let mut reader = RdbReader::new(r, name).map_err(|e| format!("{name}: {e}"))?;
    let mut store = Store::new(config.databases);
    let now = crate::util::now_ms();
    let loaded = &shared.persist.loading_loaded_bytes;
    let stats = snapshot::load_rdb(
        &mut reader,
        name,
        &mut store,
        config,
        now,
        skip_expired,
        |off| loaded.store(off, Ordering::Relaxed),
    )
    .map_err(|e| format!("Short read or OOM loading DB. Unrecoverable error, aborting now. {e}"))?;
    tracing::info!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        stats.keys_loaded,
        stats.keys_expired
    );
    Ok((store, stats))
}

/// DEBUG RELOAD's options: NOSAVE clears `save`, NOFLUSH clears `flush`, MERGE sets
/// `merge` (loaded keys replace existing ones).
#[derive(Clone, Copy, Debug)]
pub struct ReloadOptions {
    pub save: bool,
    pub flush: bool,
    pub merge: bool,
}

/// DEBUG RELOAD: saves the RDB, empties every database (invalidating WATCHes) and loads
/// the file back, as Redis's rdbSave + emptyData + rdbLoad, under the keyspace lock.
/// Without a flush the loaded keys are added on top; Redis aborts on a duplicate unless
/// MERGE is given, Rill lets the loaded key win either way.
pub fn debug_reload(
    shared: &Shared,
    state: &mut crate::shared::State,
    config: &Config,
    now_ms: i64,
    opts: ReloadOptions,
) -> Result<(), cmd::CmdError> {
    if opts.save {
        super::save(state, config, now_ms)?;
    }
    let path = config.dir.join(&config.dbfilename);
    let failed = |e: String| {
        tracing::warn!("DEBUG RELOAD: {e}");
        cmd::CmdError::err("Error trying to load the RDB dump, check server logs.")
    };
    let file = std::fs::File::open(&path).map_err(|e| failed(e.to_string()))?;
    let (loaded, stats) = rdb_into_store(
        shared,
        std::io::BufReader::with_capacity(1 << 20, file),
        &path.display().to_string(),
        config,
        true,
    )
    .map_err(failed)?;
    state.persist.last_load = stats;
    for (db, mut new) in state.store.dbs.iter_mut().zip(loaded.dbs) {
        if opts.flush {
            db.flush();
            db.keys = std::mem::take(&mut new.keys);
            db.expires = std::mem::take(&mut new.expires);
            db.avg_ttl = new.avg_ttl;
            continue;
        }
        for (k, e) in std::mem::take(&mut new.keys) {
            let expire = new.expires.get(&k).copied();
            db.set(&k, e.value, false);
            if let Some(at) = expire {
                db.set_expire(&k, at);
            }
        }
    }
    if opts.flush {
        state.store.topic_offsets = loaded.topic_offsets;
    } else {
        state.store.topic_offsets.extend(loaded.topic_offsets);
    }
    tracing::warn!("DB reloaded by DEBUG RELOAD");
    Ok(())
}

fn load_aof(shared: &Shared, config: &Config) -> Result<(), String> {
    let mpath = aof::manifest_path(config);
    let dir = mpath
        .parent()
        .expect("invariant: manifest has a dir")
        .to_path_buf();
    {
        let mut state = shared.state.lock();
        state.persist.aof = aof::init_state(config);
    }
    upgrade_single_file_aof(config, &dir, &mpath)?;
    let text = match std::fs::read(&mpath) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let rdb = config.dir.join(&config.dbfilename);
            if rdb.exists() {
                tracing::warn!(
                    "appendonly is yes and no AOF exists: {} is not loaded (as Redis)",
                    rdb.display()
                );
            }
            let mut state = shared.state.lock();
            return aof::create_on_start(shared, &mut state, config, crate::util::now_ms())
                .map_err(|e| format!("Can't create the AOF: {e}"));
        }
        Err(e) => {
            return Err(format!(
                "Can't open the AOF manifest {}: {e}",
                mpath.display()
            ))
        }
    };
    let manifest = Manifest::parse(&text).map_err(|e| format!("{}: {e}", mpath.display()))?;
    let files: Vec<_> = manifest
        .entries
        .iter()
        .filter(|e| e.kind != FileKind::History)
        .cloned()
        .collect();
    // Again: an upgrade may have moved the old single file in since `begin`.
    shared
        .persist
        .loading_total_bytes
        .store(bytes_to_load(config), Ordering::Relaxed);
    let mut client = ClientState::new(
        shared,
        "0.0.0.0:0".parse().expect("invariant: literal address"),
        "0.0.0.0:0".parse().expect("invariant: literal address"),
    );
    client.authenticated = true;
    client.aof_loader = true;
    let mut done_bytes = 0u64;
    let set_loading = |on: bool| {
        for db in shared.state.lock().store.dbs.iter_mut() {
            db.loading = on;
        }
    };
    for (i, e) in files.iter().enumerate() {
        let path = dir.join(&e.name);
        let last = i + 1 == files.len();
        let buf = match std::fs::read(&path) {
            Ok(b) => b,
            // Redis tolerates a missing (never written) last incr file.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && e.kind == FileKind::Incr => {
                continue
            }
            Err(err) => return Err(format!("Can't open the append-only file {}: {err}", e.name)),
        };
        let mut start = 0usize;
        if buf.starts_with(b"REDIS") {
            let mut slice: &[u8] = &buf;
            let (store, stats) = {
                let mut reader = RdbReader::new(&mut slice, &e.name)
                    .map_err(|err| format!("{}: {err}", e.name))?;
                let mut store = Store::new(config.databases);
                let stats = snapshot::load_rdb(
                    &mut reader,
                    &e.name,
                    &mut store,
                    config,
                    crate::util::now_ms(),
                    false,
                    |_| {},
                )
                .map_err(|err| format!("Bad file format reading the append only file {err}"))?;
                (store, stats)
            };
            start = buf.len() - slice.len();
            let mut state = shared.state.lock();
            state.store = store;
            state.persist.last_load = stats;
        }
        set_loading(true);
        let r = replay(shared, &mut client, &path, &buf, start, last, config);
        set_loading(false);
        r?;
        done_bytes += buf.len() as u64;
        shared
            .persist
            .loading_loaded_bytes
            .store(done_bytes, Ordering::Relaxed);
    }
    client.multi = None;
    let mut state = shared.state.lock();
    state.store.dirty = 0;
    aof::open_existing(shared, &mut state, manifest).map_err(|e| format!("Can't open the AOF: {e}"))
}

/// A pre-7.0 single `appendonly.aof` in `dir` becomes the base of a multi-part AOF, as
/// Redis 7.0's aofUpgradePrepare does: when the AOF directory or its manifest is missing,
/// or the manifest names only that file as its base and the file is not in the directory
/// yet (an upgrade interrupted between writing the manifest and moving the file).
fn upgrade_single_file_aof(config: &Config, dir: &Path, mpath: &Path) -> Result<(), String> {
    let filename = config.get("appendfilename");
    let old = config.dir.join(filename);
    if !old.is_file() {
        return Ok(());
    }
    let manifest = match std::fs::read(mpath) {
        Ok(t) => Some(Manifest::parse(&t).map_err(|e| format!("{}: {e}", mpath.display()))?),
        Err(_) => None,
    };
    let upgrade = match &manifest {
        None => true,
        Some(m) => {
            m.incrs().next().is_none()
                && m.base()
                    .is_none_or(|b| b.name == filename && !dir.join(filename).exists())
        }
    };
    if !upgrade {
        return Ok(());
    }
    let fail = |what: &str, e: std::io::Error| format!("Error {what} during the AOF upgrade: {e}");
    std::fs::create_dir_all(dir).map_err(|e| fail("creating the AOF directory", e))?;
    let m = Manifest {
        entries: vec![rill_storage::aof::ManifestEntry {
            name: filename.to_string(),
            seq: 1,
            kind: FileKind::Base,
        }],
    };
    rill_storage::aof::write_atomic(
        dir,
        &rill_storage::aof::manifest_name(filename),
        &m.to_bytes(),
    )
    .map_err(|e| fail("persisting the manifest", e))?;
    std::fs::rename(&old, dir.join(filename)).map_err(|e| fail("moving the old AOF file", e))?;
    tracing::info!(
        "Successfully migrated an old-style AOF file ({filename}) into the AOF directory ({}).",
        config.get("appenddirname")
    );
    Ok(())
}

/// Replays the RESP commands of one AOF file from `start`, a chunk of commands per lock.
fn replay(
    shared: &Shared,
    client: &mut ClientState,
    path: &Path,
    buf: &[u8],
    start: usize,
    last: bool,
    config: &Config,
) -> Result<(), String> {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut reader = CommandReader::new(&buf[start..], start as u64);
    let mut multi_at: Option<u64> = None;
    let truncate_at = |offset: u64, why: &str| -> Result<(), String> {
        if !last || !config.get_bool("aof-load-truncated") {
            return Err(format!(
                "Unexpected end of file reading the append only file {name} at offset {offset} \
                 ({why}). You can: 1) Make a backup of your AOF file, then use \
                 ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the \
                 'aof-load-truncated' configuration option to yes and restart the server."
            ));
        }
        tracing::warn!(
            "!!! Warning: short read while loading the AOF file {name}!!! \
             AOF loaded anyway because aof-load-truncated is enabled; truncated at offset \
             {offset} ({why})"
        );
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(offset))
            .map_err(|e| format!("Error truncating the AOF file {name}: {e}"))
    };
    let delay = config.get_i64("key-load-delay");
    loop {
        let mut state = shared.state.lock();
        let now = crate::util::now_ms();
        state.begin(now, config);
        let mut ctx = Ctx {
            shared,
            state: &mut state,
            client,
            config: shared.config(),
            now_ms: now,
            tick: std::time::Instant::now(),
        };
        // The keyspace lock is let go every 4096 commands or 5 ms, whichever comes first,
        // so clients get -LOADING and the cron and Kafka tasks (which share the runtime's
        // few threads with anything waiting on this lock) keep running.
        let held = std::time::Instant::now();
        for i in 0..4096 {
            if i % 64 == 63 && held.elapsed() > std::time::Duration::from_millis(5) {
                break;
            }
            let before = reader.offset();
            let argv = match reader.next() {
                Ok(Some(argv)) => argv,
                Ok(None) => {
                    drop(state);
                    if let Some(at) = multi_at {
                        client.multi = None;
                        truncate_at(at, "Revert incomplete MULTI/EXEC transaction")?;
                    }
                    return Ok(());
                }
                Err(ReadError::Truncated { offset }) => {
                    drop(state);
                    client.multi = None;
                    return truncate_at(multi_at.unwrap_or(offset), "torn last command");
                }
                Err(ReadError::Corrupt { offset, reason }) => {
                    return Err(format!(
                        "Bad file format reading the append only file {name} at offset {offset}: \
                         {reason}. Make a backup of your AOF file, then use ./redis-check-aof \
                         --fix <filename.manifest>"
                    ));
                }
            };
            let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
            if cmd::lookup(&argv[0]).is_none() {
                return Err(format!(
                    "Unknown command '{}' reading the append only file {name}",
                    String::from_utf8_lossy(&argv[0])
                ));
            }
            if argv[0].eq_ignore_ascii_case(b"multi") {
                multi_at = Some(before);
            } else if argv[0].eq_ignore_ascii_case(b"exec") {
                multi_at = None;
            }
            cmd::dispatch(&mut ctx, &argv);
            ctx.client.blocked = None;
            if delay != 0 {
                snapshot::debug_delay(delay);
            }
        }
    }
}
