//! Server-wide state: the keyspace lock ([`State`]) and what lives outside it
//! (config, client registry, counters, monitors, pause).

use crate::client::{ClientHandle, ClientState};
use crate::cmd::CmdStat;
use crate::config::Config;
use crate::db::{AccessClock, Store};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{broadcast, Notify};

/// One SLOWLOG entry.
#[derive(Clone, Debug)]
pub struct SlowlogEntry {
    pub id: u64,
    pub time: i64,
    pub duration_us: u64,
    pub argv: Vec<Bytes>,
    pub peer: String,
    pub name: String,
}

/// Everything guarded by the keyspace lock. One lock for all databases: MOVE, SWAPDB,
/// MULTI/EXEC and FLUSHALL span databases. With the default io-threads 1 the lock is
/// never contended; it matters only for io-threads > 1.
pub struct State {
    pub store: Store,
    pub cmdstats: Vec<CmdStat>,
    pub total_commands: u64,
    pub stat_rejected_unknown: u64,
    pub stat_evicted_keys: u64,
    /// Eviction candidates kept between commands (Redis's EvictionPoolLRU).
    pub evict_pool: crate::evict::EvictionPool,
    pub slowlog: VecDeque<SlowlogEntry>,
    pub slowlog_next_id: u64,
    /// LATENCY LATEST / HISTORY: samples per event.
    pub latency: BTreeMap<String, LatencyEvent>,
    /// (config snapshot pointer, latency-monitor-threshold) so the per-command hook does
    /// not parse the parameter each time.
    pub latency_threshold: Option<(Arc<Config>, u64)>,
    /// INFO errorstats: error code (first word of an error reply) -> count.
    pub errorstats: BTreeMap<String, u64>,
    pub total_error_replies: u64,
    /// INFO latencystats: one histogram per command-table id, allocated on first use.
    pub latency_hist: Vec<Option<Box<LatencyHistogram>>>,
    /// Clients waiting in a blocking command.
    pub blocking: crate::blocking::Registry,
    /// Effects of write commands for the AOF (crate::propagate).
    pub prop: crate::propagate::Propagation,
    pub persist: crate::persist::Persist,
    /// Replication role, IDs, attached replicas (crate::replication).
    pub repl: crate::replication::Repl,
    /// The Lua VM and script cache, created on first use (crate::scripting).
    pub scripting: Option<crate::scripting::Scripting>,
}

/// Samples of one LATENCY event (Redis keeps the last 160, one per second).
#[derive(Clone, Debug, Default)]
pub struct LatencyEvent {
    /// (unix seconds, latency ms), oldest first.
    pub samples: VecDeque<(i64, u64)>,
    pub max: u64,
}

/// LATENCY_TS_LEN in Redis.
pub const LATENCY_TS_LEN: usize = 160;

/// Log-linear histogram of command durations in microseconds: exact below 32µs, then 32
/// sub-buckets per power of two (~3%); Redis uses an HdrHistogram with 2 significant digits.
pub struct LatencyHistogram {
    pub counts: [u64; LATENCY_BUCKETS],
    pub total: u64,
}

pub const LATENCY_BUCKETS: usize = 60 * 32;

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: [0; LATENCY_BUCKETS],
            total: 0,
        }
    }
}

impl LatencyHistogram {
    fn bucket(us: u64) -> usize {
        if us < 32 {
            return us as usize;
        }
        let exp = 63 - us.leading_zeros() as usize; // >= 5
        let sub = ((us >> (exp - 5)) & 31) as usize;
        (exp - 4) * 32 + sub
    }

    /// Largest value (µs) a bucket holds: what a percentile falling in it reports.
    fn bucket_value(b: usize) -> u64 {
        if b < 32 {
            return b as u64;
        }
        let exp = b / 32 + 4;
        let sub = (b % 32) as u64;
        ((32 + sub) << (exp - 5)) + (1u64 << (exp - 5)) - 1
    }

    pub fn record(&mut self, us: u64) {
        self.counts[Self::bucket(us)] += 1;
        self.total += 1;
    }

    /// The value (µs) at percentile `p` (0..=100).
    pub fn percentile(&self, p: f64) -> u64 {
        let want = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Self::bucket_value(i);
            }
        }
        0
    }

    /// How many recorded values are <= `us`.
    pub fn count_le(&self, us: u64) -> u64 {
        let last = Self::bucket(us);
        let mut n: u64 = self.counts[..last].iter().sum();
        if Self::bucket_value(last) <= us {
            n += self.counts[last];
        }
        n
    }
}

impl State {
    /// Counts an error reply for INFO errorstats (Redis's afterErrorReply): the code is the
    /// text before the first space within 32 bytes, else "ERR".
    pub fn record_error(&mut self, text: &[u8]) {
        self.total_error_replies += 1;
        let head = &text[..text.len().min(32)];
        let code = match head.iter().position(|&c| c == b' ') {
            Some(i) => String::from_utf8_lossy(&text[..i]).into_owned(),
            None => "ERR".to_string(),
        };
        if let Some(n) = self.errorstats.get_mut(&code) {
            *n += 1;
        } else if self.errorstats.len() < 128 {
            self.errorstats.insert(code, 1);
        }
    }

    /// Adds a LATENCY sample (Redis's latencyAddSample): one slot per second.
    pub fn latency_add(&mut self, event: &str, now_s: i64, ms: u64) {
        let ev = self.latency.entry(event.to_string()).or_default();
        ev.max = ev.max.max(ms);
        if let Some(last) = ev.samples.back_mut() {
            if last.0 == now_s {
                last.1 = last.1.max(ms);
                return;
            }
        }
        ev.samples.push_back((now_s, ms));
        if ev.samples.len() > LATENCY_TS_LEN {
            ev.samples.pop_front();
        }
    }
}

impl State {
    pub fn new(config: &Config) -> State {
        let databases = config.databases;
        State {
            prop: Default::default(),
            repl: Default::default(),
            scripting: None,
            persist: crate::persist::Persist::new(config),
            store: Store::new(databases),
            cmdstats: vec![CmdStat::default(); crate::cmd::table().names.len()],
            total_commands: 0,
            stat_rejected_unknown: 0,
            stat_evicted_keys: 0,
            evict_pool: crate::evict::EvictionPool::new(),
            slowlog: VecDeque::new(),
            slowlog_next_id: 0,
            latency: BTreeMap::new(),
            latency_threshold: None,
            errorstats: BTreeMap::new(),
            total_error_replies: 0,
            latency_hist: Vec::new(),
            blocking: Default::default(),
        }
    }

    pub fn cmdstat(&mut self, id: usize) -> &mut CmdStat {
        &mut self.cmdstats[id]
    }

    /// CONFIG RESETSTAT: zeroes the counters INFO reports (commandstats, hits/misses,
    /// expired and evicted keys). The slowlog and latency samples stay, as in Redis.
    pub fn reset_stats(&mut self) {
        for c in &mut self.cmdstats {
            *c = CmdStat::default();
        }
        self.total_commands = 0;
        self.stat_rejected_unknown = 0;
        self.stat_evicted_keys = 0;
        for db in &mut self.store.dbs {
            db.stat_hits = 0;
            db.stat_misses = 0;
            db.stat_expired = 0;
        }
    }

    /// Prepares every database's clock for the next command or batch.
    pub fn begin(&mut self, now_ms: i64, config: &Config) {
        let mut clock = AccessClock::from_ms(now_ms);
        clock.lfu = config.maxmemory_policy.contains("lfu");
        clock.lfu_log_factor = config.lfu_log_factor;
        clock.lfu_decay_time = config.lfu_decay_time;
        clock.frozen = self.persist.child.is_some();
        self.store.begin(now_ms, clock);
        // Replicas hide expired keys; the master's DEL removes them.
        let replica = self.repl.master.is_some();
        if self
            .store
            .dbs
            .first()
            .is_some_and(|d| d.no_lazy_delete != replica)
        {
            for db in &mut self.store.dbs {
                db.no_lazy_delete = replica;
            }
        }
    }
}

/// Counters updated outside the keyspace lock.
#[derive(Default)]
pub struct Stats {
    pub total_connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub total_net_input_bytes: AtomicU64,
    pub total_net_output_bytes: AtomicU64,
    pub connected_clients: AtomicUsize,
    /// ops/sec samples for instantaneous_ops_per_sec.
    pub ops_sec: AtomicU64,
    pub client_query_buffer_limit_disconnections: AtomicU64,
    pub total_reads_processed: AtomicU64,
    pub total_writes_processed: AtomicU64,
    /// Largest query buffer seen (client_recent_max_input_buffer).
    pub client_recent_max_input_buffer: AtomicUsize,
    /// instantaneous_input_kbps / output_kbps, x100 (two decimals).
    pub input_kbps_x100: AtomicU64,
    pub output_kbps_x100: AtomicU64,
    pub used_memory_peak: AtomicUsize,
    pub used_memory_startup: AtomicUsize,
}

impl Stats {
    /// CONFIG RESETSTAT: zeroes the cumulative counters (not connected_clients).
    pub fn reset(&self) {
        for c in [
            &self.total_connections_received,
            &self.rejected_connections,
            &self.total_net_input_bytes,
            &self.total_net_output_bytes,
            &self.ops_sec,
            &self.client_query_buffer_limit_disconnections,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// CLIENT PAUSE state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pause {
    /// Unix ms until which clients are paused (0 = not paused).
    pub until_ms: i64,
    /// WRITE mode pauses only writes; ALL pauses everything.
    pub write_only: bool,
}

pub struct Shared {
    /// This Shared, for tasks a command starts (the replica link).
    pub me: std::sync::Weak<Shared>,
    config: RwLock<Arc<Config>>,
    pub state: Mutex<State>,
    pub stats: Stats,
    pub clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    pub next_client_id: AtomicU64,
    pub started: Instant,
    pub started_unix_ms: i64,
    pub run_id: String,
    pub monitors: broadcast::Sender<Bytes>,
    pub monitor_count: AtomicUsize,
    pub pause: Mutex<Pause>,
    pub unpause: Notify,
    pub shutdown: Notify,
    pub shutting_down: AtomicBool,
    pub persist: crate::persist::SharedPersist,
    /// Addresses actually bound (host:port), filled in by the listener.
    pub listen_addrs: Mutex<Vec<std::net::SocketAddr>>,
    pub executable: String,
    pub config_file: String,
    /// The backlog's end after the last feed: wakes the tasks sending to replicas.
    pub repl_feed: tokio::sync::watch::Sender<u64>,
    /// A replica sent REPLCONF ACK (wakes WAIT).
    pub repl_ack: Notify,
    /// DEBUG SET-ACTIVE-EXPIRE: the cron expires keys only while this is true.
    pub active_expire: AtomicBool,
    /// Clients blocked in a blocking command (blocked_clients).
    pub blocked_clients: AtomicUsize,
    /// The script running now, if any (BUSY, SCRIPT KILL without the keyspace lock).
    pub script: Arc<crate::scripting::Running>,
    /// Pub/sub channels and patterns.
    pub pubsub: crate::pubsub::PubSub,
    /// The topic broker, set once by `Broker::new`, so RESP topic commands (cmd/topic.rs)
    /// reach the same logs as the Kafka listener. Weak: the Broker holds this Shared.
    pub broker: std::sync::OnceLock<std::sync::Weak<crate::broker::Broker>>,
}

fn random_hex40() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
        .collect()
}

/// Positions of arguments MONITOR and SLOWLOG show as `(redacted)` (Redis's
/// redactClientCommandArgument): every AUTH argument, HELLO's AUTH user and password.
pub fn redacted_args(argv: &[Bytes]) -> Vec<usize> {
    use crate::cmd::args::eq_ic;
    if argv.is_empty() {
        return vec![];
    }
    if eq_ic(&argv[0], "auth") {
        return (1..argv.len()).collect();
    }
    let mut out = vec![];
    if eq_ic(&argv[0], "hello") {
        let mut j = 2;
        while j < argv.len() {
            let more = argv.len() - 1 - j;
            if eq_ic(&argv[j], "auth") && more >= 2 {
                out.extend([j + 1, j + 2]);
                j += 3;
            } else if eq_ic(&argv[j], "setname") && more >= 1 {
                j += 2;
            } else {
                break;
            }
        }
    }
    out
}

impl Shared {
    pub fn new(config: Config) -> Arc<Shared> {
        let (monitors, _) = broadcast::channel(1024);
        let run_id = random_hex40();
        let state = State::new(&config);
        let config_file = config
            .file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Arc::new_cyclic(|me| Shared {
            me: me.clone(),
            config: RwLock::new(Arc::new(config)),
            state: Mutex::new(state),
            stats: Stats::default(),
            clients: Mutex::new(BTreeMap::new()),
            next_client_id: AtomicU64::new(1),
            started: Instant::now(),
            started_unix_ms: crate::util::now_ms(),
            run_id,
            monitors,
            monitor_count: AtomicUsize::new(0),
            pause: Mutex::new(Pause::default()),
            unpause: Notify::new(),
            shutdown: Notify::new(),
            shutting_down: AtomicBool::new(false),
            persist: Default::default(),
            listen_addrs: Mutex::new(Vec::new()),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            config_file,
            repl_feed: tokio::sync::watch::channel(0).0,
            repl_ack: Notify::new(),
            active_expire: AtomicBool::new(true),
            blocked_clients: AtomicUsize::new(0),
            script: Default::default(),
            pubsub: Default::default(),
            broker: std::sync::OnceLock::new(),
        })
    }

    /// The topic broker, None before it exists or after it was dropped.
    pub fn broker(&self) -> Option<Arc<crate::broker::Broker>> {
        self.broker.get()?.upgrade()
    }

    /// Current config snapshot.
    /// The keyspace lock, or `None` once a script holding it has become busy (past
    /// busy-reply-threshold): the caller then answers -BUSY instead of waiting.
    pub fn lock_unless_busy(&self) -> Option<parking_lot::MutexGuard<'_, State>> {
        loop {
            if let Some(g) = self.state.try_lock_for(std::time::Duration::from_millis(5)) {
                return Some(g);
            }
            if self.script.busy.load(Ordering::Acquire) {
                return None;
            }
        }
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.read().clone()
    }

    /// Applies a change to the config and returns the new snapshot.
    pub fn update_config<R>(&self, f: impl FnOnce(&mut Config) -> R) -> (R, Arc<Config>) {
        let mut guard = self.config.write();
        let mut c = (**guard).clone();
        let r = f(&mut c);
        let new = Arc::new(c);
        *guard = new.clone();
        (r, new)
    }

    /// MONITOR feed: `+<unix secs.micros> [<db> <addr>] "arg" ...`.
    pub fn feed_monitors(&self, client: &ClientState, argv: &[Bytes], now_ms: i64) {
        if self.monitor_count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let micros = crate::util::now_us();
        let _ = now_ms;
        // A script's commands show as Redis's lua client's: `[<db> lua]`.
        let mut line = if client.in_script {
            format!(
                "+{}.{:06} [{} lua]",
                micros / 1_000_000,
                micros % 1_000_000,
                client.db
            )
        } else {
            format!(
                "+{}.{:06} [{} {}]",
                micros / 1_000_000,
                micros % 1_000_000,
                client.db,
                client.handle.addr
            )
        };
        let redacted = redacted_args(argv);
        for (i, a) in argv.iter().enumerate() {
            line.push(' ');
            if redacted.contains(&i) {
                line.push_str("\"(redacted)\"");
            } else {
                line.push_str(&crate::util::repr(a));
            }
        }
        line.push_str("\r\n");
        let _ = self.monitors.send(Bytes::from(line));
    }

    pub fn register_client(&self, h: Arc<ClientHandle>) {
        self.clients.lock().insert(h.id, h);
        self.stats.connected_clients.fetch_add(1, Ordering::Relaxed);
    }

    pub fn unregister_client(&self, id: u64) {
        if self.clients.lock().remove(&id).is_some() {
            self.stats.connected_clients.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
