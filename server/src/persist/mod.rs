//! Durability: RDB snapshots (SAVE, BGSAVE, save rules, load on start), the AOF writer
//! and its rewrite, DUMP/RESTORE conversion.
//!
//! BGSAVE and BGREWRITEAOF fork, as Redis does: the child writes the dataset as it was at
//! fork time while the parent keeps serving; the parent reaps it from cron.

pub mod aof;
pub mod child;
pub mod convert;
pub mod load;
pub mod snapshot;

use crate::cmd::CmdError;
use crate::config::Config;
use crate::shared::{Shared, State};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save rules wait this long.
const BGSAVE_RETRY_DELAY_SECS: i64 = 5;

/// Persistence state read outside the keyspace lock.
#[derive(Default)]
pub struct SharedPersist {
    pub loading: AtomicBool,
    pub loading_start: AtomicI64,
    pub loading_total_bytes: AtomicU64,
    pub loading_loaded_bytes: AtomicU64,
    pub syncer: aof::Syncer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    Rdb,
    Aof,
}

pub struct Child {
    pub pid: i32,
    pub kind: ChildKind,
    pub start: std::time::Instant,
    pub tmp: PathBuf,
    pub dirty_at_start: u64,
}

/// Persistence state under the keyspace lock.
pub struct Persist {
    /// Unix seconds of the last successful save (LASTSAVE).
    pub lastsave: i64,
    pub lastbgsave_try: i64,
    pub lastbgsave_ok: bool,
    pub child: Option<Child>,
    pub bgsave_scheduled: bool,
    pub rdb_saves: u64,
    pub last_bgsave_time_sec: i64,
    pub last_cow_size: u64,
    pub last_load: snapshot::LoadStats,
    pub aof: aof::AofState,
}

impl Persist {
    pub fn new(config: &Config) -> Persist {
        Persist {
            lastsave: crate::util::now_ms() / 1000,
            lastbgsave_try: 0,
            lastbgsave_ok: true,
            child: None,
            bgsave_scheduled: false,
            rdb_saves: 0,
            last_bgsave_time_sec: -1,
            last_cow_size: 0,
            last_load: Default::default(),
            aof: aof::init_state(config),
        }
    }
}

fn rdb_path(config: &Config) -> PathBuf {
    config.dir.join(&config.dbfilename)
}

/// Writes the dataset to `path` through a temp file in the same directory, fsynced and
/// renamed into place (rdbSave).
fn save_to(path: &Path, tmp: &Path, state: &State, config: &Config, now_ms: i64) -> io::Result<()> {
    let res = snapshot::write_rdb_file(tmp, &state.store, config, now_ms, false)
        .and_then(|_| std::fs::rename(tmp, path));
    if res.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    res
}

/// SAVE: a synchronous snapshot under the lock.
pub fn save(state: &mut State, config: &Config, now_ms: i64) -> Result<(), CmdError> {
    if state
        .persist
        .child
        .as_ref()
        .is_some_and(|c| c.kind == ChildKind::Rdb)
    {
        return Err(CmdError::err("Background save already in progress"));
    }
    save_sync(state, config, now_ms).map_err(|_| CmdError::Raw("ERR".into()))
}

fn save_sync(state: &mut State, config: &Config, now_ms: i64) -> io::Result<()> {
    let path = rdb_path(config);
    let tmp = config.dir.join(format!("temp-{}.rdb", std::process::id()));
    match save_to(&path, &tmp, state, config, now_ms) {
        Ok(()) => {
            tracing::info!("DB saved on disk");
            state.store.dirty = 0;
            state.persist.lastsave = now_ms / 1000;
            state.persist.lastbgsave_ok = true;
            state.persist.rdb_saves += 1;
            Ok(())
        }
        Err(e) => {
            tracing::warn!(
                "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
                tmp.display(),
                config.dir.display()
            );
            state.persist.lastbgsave_ok = false;
            Err(e)
        }
    }
}

/// Starts a background save (rdbSaveBackground).
pub fn bgsave_start(state: &mut State, config: &Config, now_ms: i64) -> Result<(), String> {
    state.persist.lastbgsave_try = now_ms / 1000;
    let path = rdb_path(config);
    let dir = config.dir.clone();
    let state_ref: &State = state;
    let pid = child::spawn(|| {
        let tmp = dir.join(format!("temp-{}.rdb", std::process::id()));
        match save_to(&path, &tmp, state_ref, config, now_ms) {
            Ok(()) => 0,
            Err(_) => 1,
        }
    });
    match pid {
        Ok(pid) => {
            tracing::info!("Background saving started by pid {pid}");
            state.persist.child = Some(Child {
                pid,
                kind: ChildKind::Rdb,
                start: std::time::Instant::now(),
                tmp: config.dir.join(format!("temp-{pid}.rdb")),
                dirty_at_start: state.store.dirty,
            });
            state.persist.bgsave_scheduled = false;
            Ok(())
        }
        Err(e) => {
            state.persist.lastbgsave_ok = false;
            Err(format!("Can't save in background: fork: {e}"))
        }
    }
}

/// BGSAVE [SCHEDULE] (bgsaveCommand).
pub fn bgsave(
    state: &mut State,
    config: &Config,
    now_ms: i64,
    schedule: bool,
    in_exec: bool,
) -> Result<&'static str, CmdError> {
    match state.persist.child.as_ref().map(|c| c.kind) {
        Some(ChildKind::Rdb) => Err(CmdError::err("Background save already in progress")),
        Some(_) | None if state.persist.child.is_some() || in_exec => {
            if schedule || in_exec {
                state.persist.bgsave_scheduled = true;
                Ok("Background saving scheduled")
            } else {
                Err(CmdError::err(
                    "Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE \
                     SCHEDULE in order to schedule a BGSAVE whenever possible.",
                ))
            }
        }
        _ => bgsave_start(state, config, now_ms)
            .map(|()| "Background saving started")
            .map_err(CmdError::Err),
    }
}

/// BGREWRITEAOF (bgrewriteaofCommand).
pub fn bgrewriteaof(
    shared: &Shared,
    state: &mut State,
    config: &Config,
    now_ms: i64,
    in_exec: bool,
) -> Result<&'static str, CmdError> {
    match state.persist.child.as_ref().map(|c| c.kind) {
        Some(ChildKind::Aof) => Err(CmdError::err(
            "Background append only file rewriting already in progress",
        )),
        Some(_) => {
            state.persist.aof.rewrite_scheduled = true;
            Ok("Background append only file rewriting scheduled")
        }
        None if in_exec => {
            state.persist.aof.rewrite_scheduled = true;
            Ok("Background append only file rewriting scheduled")
        }
        None => aof::start_rewrite(shared, state, config, now_ms)
            .map(|()| "Background append only file rewriting started")
            .map_err(|e| {
                state.persist.aof.last_bgrewrite_ok = false;
                CmdError::Err(e)
            }),
    }
}

/// CONFIG SET appendonly: start (through a rewrite) or stop the AOF.
pub fn appendonly_changed(
    shared: &Shared,
    state: &mut State,
    config: &Config,
    now_ms: i64,
) -> Result<(), String> {
    if config.appendonly == state.persist.aof.on {
        return Ok(());
    }
    if !config.appendonly {
        if let Some(c) = state.persist.child.take_if(|c| c.kind == ChildKind::Aof) {
            child::kill(c.pid);
            let _ = std::fs::remove_file(&c.tmp);
        }
        aof::stop(shared, state, config);
        return Ok(());
    }
    let mut fresh = aof::init_state(config);
    // Keep sequence numbers growing past files an earlier run left.
    if let Ok(text) = std::fs::read(aof::manifest_path(config)) {
        if let Ok(m) = rill_storage::aof::Manifest::parse(&text) {
            fresh.base_seq = m.base().map_or(0, |b| b.seq);
            fresh.incr_seq = m.incrs().map(|e| e.seq).max().unwrap_or(0);
            fresh.manifest = m;
        }
    }
    fresh.on = true;
    fresh.wait_rewrite = true;
    state.persist.aof = fresh;
    state.prop.enabled = true;
    if let Some(c) = state.persist.child.take_if(|c| c.kind == ChildKind::Rdb) {
        // Redis kills a running BGSAVE to start the AOF rewrite at once.
        child::kill(c.pid);
        let _ = std::fs::remove_file(&c.tmp);
        state.persist.bgsave_scheduled = true;
    }
    aof::start_rewrite(shared, state, config, now_ms).inspect_err(|_| {
        state.persist.aof.on = false;
        state.prop.enabled = false;
    })
}

/// Redis's writeCommandsDeniedByDiskError: the -MISCONF reply, if writes must be refused.
pub fn deny_writes(shared: &Shared, state: &State, config: &Config) -> Option<CmdError> {
    if config.get_bool("stop-writes-on-bgsave-error")
        && !config.save_params.is_empty()
        && !state.persist.lastbgsave_ok
    {
        return Some(CmdError::Raw(
            "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to \
             persist to disk. Commands that may modify the data set are disabled, because this \
             instance is configured to report errors during writes if RDB snapshotting fails \
             (stop-writes-on-bgsave-error option). Please check the Redis logs for details \
             about the RDB error."
                .into(),
        ));
    }
    if state.persist.aof.on {
        let err = state
            .persist
            .aof
            .last_write_err
            .clone()
            .or_else(|| shared.persist.syncer.last_err.lock().clone());
        if let Some(e) = err {
            return Some(CmdError::Raw(format!(
                "MISCONF Errors writing to the AOF file: {e}"
            )));
        }
    }
    None
}

/// serverCron's persistence part: reap children, scheduled and rule-driven saves,
/// automatic AOF rewrites, retries of a failed AOF write.
pub fn cron(shared: &Shared, state: &mut State, config: &Config, now_ms: i64) {
    aof::flush(shared, state, config);
    if let Some(c) = &state.persist.child {
        if let Some(exit) = child::try_wait(c.pid) {
            let c = state
                .persist
                .child
                .take()
                .expect("invariant: checked above");
            let secs = c.start.elapsed().as_secs() as i64;
            let ok = exit == child::Exit::Ok;
            match c.kind {
                ChildKind::Rdb => {
                    if ok {
                        tracing::info!("Background saving terminated with success");
                        state.store.dirty = state.store.dirty.saturating_sub(c.dirty_at_start);
                        state.persist.lastsave = now_ms / 1000;
                        state.persist.rdb_saves += 1;
                    } else {
                        tracing::warn!("Background saving error: {exit:?}");
                        let _ = std::fs::remove_file(&c.tmp);
                    }
                    state.persist.lastbgsave_ok = ok;
                    state.persist.last_bgsave_time_sec = secs;
                }
                ChildKind::Aof => aof::finish_rewrite(state, &c.tmp, ok, secs),
            }
        }
    }
    if state.persist.child.is_some() {
        return;
    }
    if state.persist.aof.rewrite_scheduled && state.persist.aof.on {
        state.persist.aof.rewrite_scheduled = false;
        if let Err(e) = aof::start_rewrite(shared, state, config, now_ms) {
            tracing::warn!("{e}");
        }
        return;
    }
    let now = now_ms / 1000;
    let retry_ok =
        state.persist.lastbgsave_ok || now - state.persist.lastbgsave_try > BGSAVE_RETRY_DELAY_SECS;
    let rule = config.save_params.iter().find(|&&(secs, changes)| {
        state.store.dirty >= changes && now - state.persist.lastsave > secs as i64
    });
    if state.persist.bgsave_scheduled || (rule.is_some() && retry_ok) {
        if let Some((secs, changes)) = rule {
            tracing::info!("{changes} changes in {secs} seconds. Saving...");
        }
        if let Err(e) = bgsave_start(state, config, now_ms) {
            tracing::warn!("{e}");
        }
        return;
    }
    let aof = &state.persist.aof;
    let pct = config.get_i64("auto-aof-rewrite-percentage");
    let min = config.get_i64("auto-aof-rewrite-min-size").max(0) as u64;
    if aof.on && !aof.wait_rewrite && pct > 0 && aof.current_size > min {
        let base = aof.base_size.max(1);
        let growth = (aof.current_size * 100 / base).saturating_sub(100);
        if growth >= pct as u64 {
            tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
            if let Err(e) = aof::start_rewrite(shared, state, config, now_ms) {
                tracing::warn!("{e}");
            }
        }
    }
}

/// prepareForShutdown: stop children, flush the AOF, save when asked or when save rules
/// exist (unless NOSAVE). Err means the shutdown must not proceed.
pub fn prepare_shutdown(
    shared: &Shared,
    state: &mut State,
    config: &Config,
    save: Option<bool>,
) -> Result<(), String> {
    if let Some(c) = state.persist.child.take() {
        tracing::warn!("There is a child saving an .rdb or rewriting the AOF. Killing it!");
        child::kill(c.pid);
        let _ = std::fs::remove_file(&c.tmp);
    }
    if state.persist.aof.on {
        aof::flush(shared, state, config);
        let _ = shared.persist.syncer.sync_now();
    }
    let do_save = match save {
        Some(s) => s,
        None => !config.save_params.is_empty(),
    };
    if do_save {
        tracing::info!("Saving the final RDB snapshot before exiting.");
        if let Err(e) = save_sync(state, config, crate::util::now_ms()) {
            tracing::warn!("Error trying to save the DB, can't exit: {e}");
            return Err("Errors trying to SHUTDOWN. Check logs.".into());
        }
    }
    Ok(())
}

/// INFO persistence, with Redis's field names.
pub fn info(shared: &Shared, state: &State, config: &Config, o: &mut String) {
    let p = &state.persist;
    let sp = &shared.persist;
    let loading = sp.loading.load(Ordering::Relaxed);
    let mut f = |s: String| {
        o.push_str(&s);
        o.push_str("\r\n");
    };
    f("# Persistence".into());
    f(format!("loading:{}", loading as u8));
    f("async_loading:0".into());
    f("current_cow_peak:0".into());
    f("current_cow_size:0".into());
    f("current_cow_size_age:0".into());
    f("current_fork_perc:0.00".into());
    f("current_save_keys_processed:0".into());
    f("current_save_keys_total:0".into());
    if loading {
        let start = sp.loading_start.load(Ordering::Relaxed);
        let total = sp.loading_total_bytes.load(Ordering::Relaxed);
        let done = sp.loading_loaded_bytes.load(Ordering::Relaxed);
        let perc = if total > 0 {
            done as f64 * 100.0 / total as f64
        } else {
            0.0
        };
        let elapsed = crate::util::now_ms() / 1000 - start;
        let eta = if done > 0 {
            (total.saturating_sub(done) as f64 * elapsed as f64 / done as f64) as i64
        } else {
            1
        };
        f(format!("loading_start_time:{start}"));
        f(format!("loading_total_bytes:{total}"));
        f("loading_rdb_used_mem:0".into());
        f(format!("loading_loaded_bytes:{done}"));
        f(format!("loading_loaded_perc:{perc:.2}"));
        f(format!("loading_eta_seconds:{eta}"));
    }
    let rdb_child = p.child.as_ref().filter(|c| c.kind == ChildKind::Rdb);
    let aof_child = p.child.as_ref().filter(|c| c.kind == ChildKind::Aof);
    f(format!("rdb_changes_since_last_save:{}", state.store.dirty));
    f(format!(
        "rdb_bgsave_in_progress:{}",
        rdb_child.is_some() as u8
    ));
    f(format!("rdb_last_save_time:{}", p.lastsave));
    f(format!(
        "rdb_last_bgsave_status:{}",
        if p.lastbgsave_ok { "ok" } else { "err" }
    ));
    f(format!(
        "rdb_last_bgsave_time_sec:{}",
        p.last_bgsave_time_sec
    ));
    f(format!(
        "rdb_current_bgsave_time_sec:{}",
        rdb_child.map_or(-1, |c| c.start.elapsed().as_secs() as i64)
    ));
    f(format!("rdb_saves:{}", p.rdb_saves));
    f(format!("rdb_last_cow_size:{}", p.last_cow_size));
    f(format!(
        "rdb_last_load_keys_expired:{}",
        p.last_load.keys_expired
    ));
    f(format!(
        "rdb_last_load_keys_loaded:{}",
        p.last_load.keys_loaded
    ));
    let a = &p.aof;
    f(format!("aof_enabled:{}", config.appendonly as u8));
    f(format!(
        "aof_rewrite_in_progress:{}",
        aof_child.is_some() as u8
    ));
    f(format!(
        "aof_rewrite_scheduled:{}",
        a.rewrite_scheduled as u8
    ));
    f(format!(
        "aof_last_rewrite_time_sec:{}",
        a.last_rewrite_time_sec
    ));
    f(format!(
        "aof_current_rewrite_time_sec:{}",
        aof_child.map_or(-1, |c| c.start.elapsed().as_secs() as i64)
    ));
    f(format!(
        "aof_last_bgrewrite_status:{}",
        if a.last_bgrewrite_ok { "ok" } else { "err" }
    ));
    f(format!("aof_rewrites:{}", a.rewrites));
    f(format!(
        "aof_rewrites_consecutive_failures:{}",
        a.rewrites_consecutive_failures
    ));
    let write_ok = a.last_write_err.is_none() && shared.persist.syncer.last_err.lock().is_none();
    f(format!(
        "aof_last_write_status:{}",
        if write_ok { "ok" } else { "err" }
    ));
    f("aof_last_cow_size:0".into());
    f("module_fork_in_progress:0".into());
    f("module_fork_last_cow_size:0".into());
    if a.on {
        f(format!(
            "aof_current_size:{}",
            a.current_size + state.prop.buf.len() as u64
        ));
        f(format!("aof_base_size:{}", a.base_size));
        f(format!("aof_pending_rewrite:{}", a.rewrite_scheduled as u8));
        f(format!("aof_buffer_length:{}", state.prop.buf.len()));
        f("aof_pending_bio_fsync:0".into());
        f("aof_delayed_fsync:0".into());
    }
}
