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
/// MULTI/EXEC and FLUSHALL span databases, and on two cores a sharded lock measured no
/// faster (see BENCHMARKS.md).
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
    /// LATENCY LATEST: event -> (last time, last ms, max ms).
    pub latency: BTreeMap<String, (i64, u64, u64)>,
}

impl State {
    pub fn new(databases: usize) -> State {
        State {
            store: Store::new(databases),
            cmdstats: vec![CmdStat::default(); crate::cmd::table().names.len()],
            total_commands: 0,
            stat_rejected_unknown: 0,
            stat_evicted_keys: 0,
            evict_pool: crate::evict::EvictionPool::new(),
            slowlog: VecDeque::new(),
            slowlog_next_id: 0,
            latency: BTreeMap::new(),
        }
    }

    pub fn cmdstat(&mut self, id: usize) -> &mut CmdStat {
        &mut self.cmdstats[id]
    }

    /// Prepares every database's clock for the next command or batch.
    pub fn begin(&mut self, now_ms: i64, config: &Config) {
        let mut clock = AccessClock::from_ms(now_ms);
        clock.lfu = config.maxmemory_policy.contains("lfu");
        clock.lfu_log_factor = config.lfu_log_factor;
        clock.lfu_decay_time = config.lfu_decay_time;
        self.store.begin(now_ms, clock);
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
    /// Addresses actually bound (host:port), filled in by the listener.
    pub listen_addrs: Mutex<Vec<std::net::SocketAddr>>,
    pub executable: String,
    pub config_file: String,
}

impl Shared {
    pub fn new(config: Config) -> Arc<Shared> {
        let (monitors, _) = broadcast::channel(1024);
        let run_id: String = {
            use rand::Rng;
            let mut rng = rand::thread_rng();
            (0..40)
                .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
                .collect()
        };
        let databases = config.databases;
        let config_file = config
            .file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Arc::new(Shared {
            config: RwLock::new(Arc::new(config)),
            state: Mutex::new(State::new(databases)),
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
            listen_addrs: Mutex::new(Vec::new()),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            config_file,
        })
    }

    /// Current config snapshot.
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
        let mut line = format!(
            "+{}.{:06} [{} {}]",
            micros / 1_000_000,
            micros % 1_000_000,
            client.db,
            client.handle.addr
        );
        for a in argv {
            line.push(' ');
            line.push_str(&crate::util::repr(a));
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
