//! The AOF (Redis 7 multi-part): the writer behind the propagation stream, fsync policies,
//! rewrite into a new base file, and loading at start-up.
//!
//! Writes happen under the keyspace lock (so file order is execution order), once for the
//! batches of all connections that were ready together, before their replies are sent;
//! fdatasync outside it: under `always` before the replies go out (one fdatasync covers
//! every batch written before it), under `everysec` once a second from a thread.

use super::child;
use super::snapshot;
use crate::config::Config;
use crate::shared::{Shared, State};
use parking_lot::Mutex;
use rill_storage::aof::{self as faof, FileKind, Manifest, ManifestEntry};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    pub fn from_config(config: &Config) -> Fsync {
        match config.get("appendfsync") {
            "always" => Fsync::Always,
            "no" => Fsync::No,
            _ => Fsync::EverySec,
        }
    }
}

/// fsync bookkeeping shared with connections and the everysec thread (outside the lock).
/// Offsets count bytes of the propagation stream written to AOF files (all files,
/// monotonic).
#[derive(Default)]
pub struct Syncer {
    file: Mutex<Option<Arc<File>>>,
    written: AtomicU64,
    synced: AtomicU64,
    serial: Mutex<()>,
    pub last_err: Mutex<Option<String>>,
}

impl Syncer {
    /// Makes everything written up to `target` durable (group commit: returns at once if
    /// another fsync already covered it).
    pub fn sync_to(&self, target: u64) -> io::Result<()> {
        if self.synced.load(Ordering::Acquire) >= target {
            return Ok(());
        }
        let _g = self.serial.lock();
        if self.synced.load(Ordering::Acquire) >= target {
            return Ok(());
        }
        self.sync_locked()
    }

    /// fdatasync of the current file, covering every write completed before the call.
    pub fn sync_now(&self) -> io::Result<()> {
        let _g = self.serial.lock();
        self.sync_locked()
    }

    fn sync_locked(&self) -> io::Result<()> {
        let w = self.written.load(Ordering::Acquire);
        let file = self.file.lock().clone();
        if let Some(f) = file {
            if let Err(e) = f.sync_data() {
                *self.last_err.lock() = Some(e.to_string());
                return Err(e);
            }
            *self.last_err.lock() = None;
        }
        self.synced.fetch_max(w, Ordering::AcqRel);
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }

    pub fn pending(&self) -> bool {
        self.written.load(Ordering::Acquire) > self.synced.load(Ordering::Acquire)
    }

    fn set_file(&self, f: Option<Arc<File>>) {
        *self.file.lock() = f;
    }
}

/// AOF state kept under the keyspace lock.
#[derive(Default)]
pub struct AofState {
    /// appendonly is on and the stream is being written.
    pub on: bool,
    /// Turned on at run time: the first rewrite's base is not there yet.
    pub wait_rewrite: bool,
    pub dir: PathBuf,
    pub filename: String,
    pub manifest: Manifest,
    pub base_seq: u64,
    pub incr_seq: u64,
    file: Option<Arc<File>>,
    incr_size: u64,
    /// aof_current_size and aof_base_size as INFO reports them.
    pub current_size: u64,
    pub base_size: u64,
    pub last_write_err: Option<String>,
    pub rewrite_scheduled: bool,
    pub last_bgrewrite_ok: bool,
    pub rewrites: u64,
    pub rewrites_consecutive_failures: u64,
    pub last_rewrite_time_sec: i64,
    /// The running rewrite writes an RDB base (aof-use-rdb-preamble when it started).
    rewrite_preamble: bool,
}

impl AofState {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write_manifest(&self, m: &Manifest) -> io::Result<()> {
        faof::write_atomic(
            &self.dir,
            &faof::manifest_name(&self.filename),
            &m.to_bytes(),
        )
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Writes the pending stream to the incr file (after batches and from cron, lock held).
pub fn flush(shared: &Shared, state: &mut State, config: &Config) {
    let aof = &mut state.persist.aof;
    if !aof.on || state.prop.buf.is_empty() {
        return;
    }
    let Some(file) = aof.file.as_ref() else {
        return;
    };
    let policy = Fsync::from_config(config);
    match (&**file).write_all(&state.prop.buf) {
        Ok(()) => {
            let n = state.prop.buf.len() as u64;
            aof.incr_size += n;
            aof.current_size += n;
            state.prop.buf.clear();
            if state.prop.buf.capacity() > 1 << 20 {
                state.prop.buf.shrink_to(64 * 1024);
            }
            shared.persist.syncer.written.fetch_add(n, Ordering::AcqRel);
            aof.last_write_err = None;
        }
        Err(e) => {
            // Drop a partial write so the file ends on a command boundary; the buffer
            // stays and is retried from cron.
            let _ = file.set_len(aof.incr_size);
            if aof.last_write_err.is_none() {
                tracing::warn!("Error writing to the AOF file: {e}");
            }
            aof.last_write_err = Some(e.to_string());
            if policy == Fsync::Always {
                tracing::error!(
                    "Can't recover from AOF write error when the AOF fsync policy is 'always'. \
                     Exiting..."
                );
                std::process::exit(1);
            }
        }
    }
}

/// The everysec thread: one fdatasync a second when something was written.
pub fn start_fsync_thread(shared: Arc<Shared>) {
    std::thread::Builder::new()
        .name("aof-fsync".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            if shared.shutting_down.load(Ordering::Relaxed) {
                return;
            }
            let policy = Fsync::from_config(&shared.config());
            if policy == Fsync::EverySec && shared.persist.syncer.pending() {
                let _ = shared.persist.syncer.sync_now();
            }
        })
        .expect("spawn aof-fsync thread");
}

/// After a batch (lock released): its effects, and those of batches before it, are written
/// to the AOF before the replies go out, and under `appendfsync always` are on disk.
/// `target` is the stream offset at the end of the batch (`batch_target`). Yielding first
/// lets the other ready connections run their batches, so one write and one fdatasync
/// cover them all, as Redis's flush per event-loop iteration does. The fdatasync blocks
/// the event loop as in Redis: measured against an fsync thread that let the loop go on,
/// this batches better (requests arriving meanwhile wait in their sockets and are all
/// taken by the next round) and gave more SET/s (BENCHMARKS.md).
pub async fn after_batch(shared: &Shared, target: u64, always: bool) {
    let syncer = &shared.persist.syncer;
    if syncer.written() < target {
        tokio::task::yield_now().await;
        if syncer.written() < target {
            let config = shared.config();
            flush(shared, &mut shared.state.lock(), &config);
        }
    }
    if always {
        if let Err(e) = syncer.sync_to(target) {
            tracing::error!(
                "Can't persist the AOF (fsync: {e}) with appendfsync always. Exiting..."
            );
            std::process::exit(1);
        }
    }
}

/// The stream offset a batch's replies wait for (lock held): None when the AOF is off or
/// nothing is pending.
pub fn batch_target(shared: &Shared, state: &State, config: &Config) -> Option<(u64, bool)> {
    let aof = &state.persist.aof;
    if !aof.on {
        return None;
    }
    let syncer = &shared.persist.syncer;
    let target = syncer.written() + state.prop.buf.len() as u64;
    let always = Fsync::from_config(config) == Fsync::Always;
    let pending = target > syncer.synced.load(Ordering::Acquire);
    (!state.prop.buf.is_empty() || (always && pending)).then_some((target, always))
}

/// Opens incr file `seq` as the current one; the previous file is synced first so the
/// Syncer's offsets stay true.
fn switch_incr(shared: &Shared, aof: &mut AofState, seq: u64) -> io::Result<()> {
    let name = faof::incr_name(&aof.filename, seq);
    let f = Arc::new(open_append(&aof.path(&name))?);
    if let Some(old) = aof.file.take() {
        let _ = old.sync_data();
    }
    let w = shared.persist.syncer.written();
    shared.persist.syncer.synced.fetch_max(w, Ordering::AcqRel);
    aof.incr_size = f.metadata().map(|m| m.len()).unwrap_or(0);
    shared.persist.syncer.set_file(Some(f.clone()));
    aof.file = Some(f);
    aof.incr_seq = seq;
    Ok(())
}

/// Start-up with appendonly yes and no AOF yet (or CONFIG SET appendonly yes on an
/// empty dataset): base and incr 1 written synchronously, as Redis 7.0 does on start.
pub fn create_on_start(
    shared: &Shared,
    state: &mut State,
    config: &Config,
    now_ms: i64,
) -> io::Result<()> {
    let aof = &mut state.persist.aof;
    std::fs::create_dir_all(&aof.dir)?;
    let base_seq = aof.base_seq + 1;
    let preamble = config.get_bool("aof-use-rdb-preamble");
    let base = faof::base_name(&aof.filename, base_seq, preamble);
    tracing::info!("Creating AOF base file {base} on server start");
    let path = aof.dir.join(&base);
    let size = snapshot::write_aof_base(&path, &state.store, config, now_ms, preamble)?;
    let aof = &mut state.persist.aof;
    aof.base_seq = base_seq;
    aof.base_size = size;
    aof.current_size = size;
    let incr_seq = aof.incr_seq + 1;
    switch_incr(shared, aof, incr_seq)?;
    tracing::info!(
        "Creating AOF incr file {} on server start",
        faof::incr_name(&aof.filename, incr_seq)
    );
    aof.manifest = Manifest {
        entries: vec![
            ManifestEntry {
                name: base,
                seq: base_seq,
                kind: FileKind::Base,
            },
            ManifestEntry {
                name: faof::incr_name(&aof.filename, incr_seq),
                seq: incr_seq,
                kind: FileKind::Incr,
            },
        ],
    };
    aof.write_manifest(&aof.manifest)?;
    aof.on = true;
    state.prop.enabled = true;
    state.prop.reset_db();
    Ok(())
}

/// After loading an existing manifest: append to its last incr file (a new one if none).
pub fn open_existing(shared: &Shared, state: &mut State, manifest: Manifest) -> io::Result<()> {
    let aof = &mut state.persist.aof;
    aof.base_seq = manifest.base().map_or(0, |b| b.seq);
    let last_incr = manifest.incrs().last().map(|e| e.seq);
    aof.manifest = manifest;
    aof.current_size = aof
        .manifest
        .entries
        .iter()
        .filter(|e| e.kind != FileKind::History)
        .filter_map(|e| std::fs::metadata(aof.dir.join(&e.name)).ok())
        .map(|m| m.len())
        .sum();
    aof.base_size = aof.current_size;
    match last_incr {
        Some(seq) => switch_incr(shared, aof, seq)?,
        None => {
            let seq = aof.incr_seq + 1;
            switch_incr(shared, aof, seq)?;
            aof.manifest.entries.push(ManifestEntry {
                name: faof::incr_name(&aof.filename, seq),
                seq,
                kind: FileKind::Incr,
            });
            aof.write_manifest(&aof.manifest)?;
        }
    }
    aof.on = true;
    state.prop.enabled = true;
    state.prop.reset_db();
    Ok(())
}

/// BGREWRITEAOF: a new incr file takes the writes from now on (and joins the manifest, so
/// a crash mid-rewrite loses nothing), while a forked child writes the new base.
pub fn start_rewrite(
    shared: &Shared,
    state: &mut State,
    config: &Config,
    now_ms: i64,
) -> Result<(), String> {
    flush(shared, state, config);
    let aof = &mut state.persist.aof;
    std::fs::create_dir_all(&aof.dir).map_err(|e| e.to_string())?;
    let seq = aof.incr_seq + 1;
    switch_incr(shared, aof, seq).map_err(|e| e.to_string())?;
    if !aof.wait_rewrite {
        let mut m = aof.manifest.clone();
        m.entries.push(ManifestEntry {
            name: faof::incr_name(&aof.filename, seq),
            seq,
            kind: FileKind::Incr,
        });
        aof.write_manifest(&m).map_err(|e| e.to_string())?;
        aof.manifest = m;
    }
    state.prop.reset_db();
    let preamble = config.get_bool("aof-use-rdb-preamble");
    state.persist.aof.rewrite_preamble = preamble;
    let tmp_dir = state.persist.aof.dir.clone();
    let state_ref: &State = state;
    let pid = child::spawn(|| {
        let tmp = tmp_dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
        match snapshot::write_aof_base(&tmp, &state_ref.store, config, now_ms, preamble) {
            Ok(_) => 0,
            Err(_) => {
                let _ = std::fs::remove_file(&tmp);
                1
            }
        }
    })
    .map_err(|e| format!("Can't rewrite append only file in background: fork: {e}"))?;
    tracing::info!("Background append only file rewriting started by pid {pid}");
    state.persist.child = Some(super::Child {
        pid,
        kind: super::ChildKind::Aof,
        start: std::time::Instant::now(),
        tmp: tmp_dir.join(format!("temp-rewriteaof-bg-{pid}.aof")),
        dirty_at_start: state.store.dirty,
    });
    Ok(())
}

/// The rewrite child finished: its base replaces every older file in the manifest.
pub fn finish_rewrite(state: &mut State, tmp: &Path, ok: bool, secs: i64) {
    let aof = &mut state.persist.aof;
    aof.last_rewrite_time_sec = secs;
    if !ok {
        let _ = std::fs::remove_file(tmp);
        aof.last_bgrewrite_ok = false;
        aof.rewrites_consecutive_failures += 1;
        tracing::warn!("Background AOF rewrite terminated with error");
        return;
    }
    let base_seq = aof.base_seq + 1;
    let base = faof::base_name(&aof.filename, base_seq, aof.rewrite_preamble);
    let done = (|| -> io::Result<()> {
        std::fs::rename(tmp, aof.dir.join(&base))?;
        let m = Manifest {
            entries: vec![
                ManifestEntry {
                    name: base.clone(),
                    seq: base_seq,
                    kind: FileKind::Base,
                },
                ManifestEntry {
                    name: faof::incr_name(&aof.filename, aof.incr_seq),
                    seq: aof.incr_seq,
                    kind: FileKind::Incr,
                },
            ],
        };
        aof.write_manifest(&m)?;
        let old = std::mem::replace(&mut aof.manifest, m);
        for e in old.entries {
            let current_incr = e.kind == FileKind::Incr && e.seq == aof.incr_seq;
            if !current_incr && e.name != base {
                let _ = std::fs::remove_file(aof.dir.join(&e.name));
            }
        }
        Ok(())
    })();
    match done {
        Ok(()) => {
            aof.base_seq = base_seq;
            aof.base_size = std::fs::metadata(aof.dir.join(&base)).map_or(0, |m| m.len());
            aof.current_size = aof.base_size + aof.incr_size;
            aof.last_bgrewrite_ok = true;
            aof.rewrites += 1;
            aof.rewrites_consecutive_failures = 0;
            aof.wait_rewrite = false;
            tracing::info!("Background AOF rewrite finished successfully");
        }
        Err(e) => {
            aof.last_bgrewrite_ok = false;
            aof.rewrites_consecutive_failures += 1;
            tracing::warn!("Background AOF rewrite failed: {e}");
        }
    }
}

/// appendonly no: flush, sync and stop writing (the files stay, as in Redis).
pub fn stop(shared: &Shared, state: &mut State, config: &Config) {
    flush(shared, state, config);
    let _ = shared.persist.syncer.sync_now();
    let aof = &mut state.persist.aof;
    aof.on = false;
    aof.file = None;
    shared.persist.syncer.set_file(None);
    state.prop.enabled = false;
    state.prop.buf.clear();
}

/// The manifest path for `config`, and whether it exists.
pub fn manifest_path(config: &Config) -> PathBuf {
    config
        .dir
        .join(config.get("appenddirname"))
        .join(faof::manifest_name(config.get("appendfilename")))
}

/// AOF state for a config (directory and names), nothing opened.
pub fn init_state(config: &Config) -> AofState {
    AofState {
        dir: config.dir.join(config.get("appenddirname")),
        filename: config.get("appendfilename").to_string(),
        last_bgrewrite_ok: true,
        last_rewrite_time_sec: -1,
        ..Default::default()
    }
}
