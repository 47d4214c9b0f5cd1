//! # Layout
//! - [`config`], [`config_params`]: redis.conf parsing and the CONFIG parameter table.
//! - [`listener`], [`conn`]: accept loop and the per-connection read/execute/write loop.
//! - [`cmd`]: the command table, dispatch and one file per command family.
//! - [`db`]: the keyspace and data structures (no argv, no replies).
//! - [`shared`], [`client`]: server-wide and per-connection state.
//! - [`evict`], [`alloc`]: maxmemory enforcement and the counting allocator.
//! - [`broker`]: the Kafka face (listener on `kafka-port`, route table, topic registry).
//!
//! Embedding: [`Server::start`] runs Rill inside a tokio runtime on port 0 and returns its
//! address, so Rust tests can use a real server without spawning a process.

pub mod alloc;
pub mod blocking;
pub mod broker;
pub mod client;
pub mod cmd;
pub mod config;
pub mod config_params;
pub mod conn;
pub mod db;
pub mod evict;
pub mod listener;
pub mod persist;
pub mod propagate;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod sentinel;
pub mod shared;
pub mod util;

use config::Config;
use shared::Shared;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// A running server.
pub struct Server {
    pub shared: Arc<Shared>,
    pub broker: Arc<broker::Broker>,
    addrs: Vec<SocketAddr>,
    kafka_addrs: Vec<SocketAddr>,
    loaded: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

impl Server {
    /// Binds and starts serving on the current tokio runtime. With `port 0` the OS picks
    /// a free port; [`Server::addr`] reports it.
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// let args = ["--port", "0", "--kafka-port", "0"].map(String::from);
    /// let config = rill_server::config::Config::from_args(&args).unwrap();
    /// let mut server = rill_server::Server::start(config).await?;
    /// server.loaded().await.map_err(std::io::Error::other)?;
    /// println!("redis://{}", server.addr());
    /// server.shutdown();
    /// # Ok(()) }
    /// ```
    pub async fn start(config: Config) -> std::io::Result<Server> {
        if config.sentinel_mode {
            sentinel::set_mode();
        }
        let shared = Shared::new(config);
        shared
            .stats
            .used_memory_startup
            .store(alloc::used_memory(), Ordering::Relaxed);
        let listeners = listener::bind_all(&shared)?;
        if listeners.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrNotAvailable,
                "no address could be bound",
            ));
        }
        let addrs = shared.listen_addrs.lock().clone();
        let broker = broker::Broker::new(shared.clone());
        let kafka_addrs = broker::start(&broker)?;
        persist::load::begin(&shared);
        for l in listeners {
            tokio::spawn(listener::accept_loop(shared.clone(), l));
        }
        tokio::spawn(cron(shared.clone(), broker.clone()));
        persist::aof::start_fsync_thread(shared.clone());
        // Clients are served (with -LOADING) while the dataset loads, as Redis does.
        let s = shared.clone();
        let loaded = tokio::task::spawn_blocking(move || persist::load::load_on_start(&s));
        let replicaof = shared.config().get("replicaof").to_string();
        if let Some((host, port)) = replicaof.split_once(' ') {
            if let Ok(port) = port.parse() {
                replication::replica::set_master(&shared, host, port);
            }
        }
        Ok(Server {
            shared,
            broker,
            addrs,
            kafka_addrs,
            loaded: Some(loaded),
        })
    }

    /// Waits until the dataset is loaded; Err when start-up must be refused (a corrupt
    /// AOF or RDB, named with its offset).
    pub async fn loaded(&mut self) -> Result<(), String> {
        match self.loaded.take() {
            Some(h) => h.await.map_err(|e| e.to_string())?,
            None => Ok(()),
        }
    }

    /// prepareForShutdown (SIGTERM/SIGINT): final save when save rules exist, AOF synced.
    pub fn prepare_shutdown(&self) -> Result<(), String> {
        let config = self.shared.config();
        let mut state = self.shared.state.lock();
        persist::prepare_shutdown(&self.shared, &mut state, &config, None)
    }

    /// The first bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The Kafka listener's bound addresses (empty with `kafka-port -1`).
    pub fn kafka_addrs(&self) -> &[SocketAddr] {
        &self.kafka_addrs
    }

    /// Stops accepting, closes every client and closes the topic logs cleanly.
    pub fn shutdown(&self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        self.shared.shutdown.notify_waiters();
        for c in self.shared.clients.lock().values() {
            c.kill();
        }
        self.broker.close();
    }

    /// Resolves when SHUTDOWN was requested (by command or [`Server::shutdown`]).
    pub async fn wait(&self) {
        while !self.shared.shutting_down.load(Ordering::SeqCst) {
            tokio::select! {
                _ = self.shared.shutdown.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    }
}

/// Background work at `hz` (Redis's serverCron): active expiry, the instantaneous
/// ops/sec and kbps samples, the used_memory peak; the topic logs' periodic flush and
/// retention.
async fn cron(shared: Arc<Shared>, broker: Arc<broker::Broker>) {
    let mut last_retention = 0i64;
    let mut last_cmds = 0u64;
    let mut last_in = 0u64;
    let mut last_out = 0u64;
    let mut last_t = std::time::Instant::now();
    loop {
        let hz = shared.config().hz.max(1);
        tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
        if shared.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        let config = shared.config();
        let now = util::now_ms();
        let active_expire = shared.active_expire.load(Ordering::Relaxed);
        let total = {
            // Redis's cron does not run while a script is busy either.
            let Some(mut guard) = shared.lock_unless_busy() else {
                continue;
            };
            let state = &mut *guard;
            state.begin(now, &config);
            // Replicas do not expire keys: the master's DELs arrive in the stream.
            if active_expire && !state.repl.is_replica() {
                // ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP scaled by effort, per database.
                let budget = 20 * 10 * config.active_expire_effort as usize;
                for (i, db) in state.store.dbs.iter_mut().enumerate() {
                    db.active_expire(budget);
                    for key in db.take_expired() {
                        state.prop.command(i, &[b"DEL".as_slice(), &key]);
                        pubsub::notify_keyspace(
                            &shared.pubsub,
                            &config,
                            cmd::NOTIFY_EXPIRED,
                            "expired",
                            i,
                            &key,
                            now,
                        );
                    }
                }
            }
            crate::persist::cron(&shared, state, &config, now);
            replication::cron(&shared, state, &config, now);
            state.total_commands
        };
        // Kafka's log.retention.check.interval.ms is 5 minutes; 30 s suits a CI broker.
        let retention = now - last_retention >= 30_000;
        if retention {
            last_retention = now;
        }
        broker.cron(now, retention);
        shared
            .stats
            .used_memory_peak
            .fetch_max(alloc::used_memory(), Ordering::Relaxed);
        let dt = last_t.elapsed().as_secs_f64();
        if dt >= 1.0 {
            let stats = &shared.stats;
            let ops = ((total - last_cmds) as f64 / dt) as u64;
            stats.ops_sec.store(ops, Ordering::Relaxed);
            let inb = stats.total_net_input_bytes.load(Ordering::Relaxed);
            let outb = stats.total_net_output_bytes.load(Ordering::Relaxed);
            let kbps = |d: u64| ((d as f64 / dt / 1024.0) * 100.0) as u64;
            stats
                .input_kbps_x100
                .store(kbps(inb - last_in), Ordering::Relaxed);
            stats
                .output_kbps_x100
                .store(kbps(outb - last_out), Ordering::Relaxed);
            last_cmds = total;
            last_in = inb;
            last_out = outb;
            last_t = std::time::Instant::now();
        }
    }
}

/// Runs a server until SIGINT/SIGTERM or SHUTDOWN (the binary's main loop).
pub async fn run(config: Config) -> std::io::Result<()> {
    let mut server = Server::start(config).await?;
    for a in server.addrs() {
        println!("listening on {}", a);
    }
    // After the RESP lines: harnesses read `listening on` first.
    for a in server.kafka_addrs() {
        println!("kafka listening on {}", a);
    }
    if let Err(e) = server.loaded().await {
        tracing::error!("{e}");
        return Err(std::io::Error::other(e));
    }
    if server.shared.config().sentinel_mode {
        let port = server.addr().port();
        tracing::info!("Running mode=sentinel, port={port}.");
        sentinel::Sentinel::start(server.shared.clone(), port).map_err(std::io::Error::other)?;
    }
    tracing::info!("Ready to accept connections");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("Received SIGINT scheduling shutdown..."),
            _ = term.recv() => tracing::info!("Received SIGTERM scheduling shutdown..."),
            _ = server.wait() => break,
        }
        // A busy script would hold the keyspace forever: stop it, as Redis's
        // whileBlockedCron does on a pending SIGTERM.
        if server.shared.script.busy.load(Ordering::Acquire) {
            server.shared.script.kill.store(true, Ordering::Relaxed);
        }
        // A failed final save keeps the server up, as Redis does.
        match server.prepare_shutdown() {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!("SIGTERM received but errors trying to shut down the server: {e}")
            }
        }
    }
    server.shutdown();
    tracing::info!("Rill is now ready to exit, bye bye...");
    Ok(())
}
