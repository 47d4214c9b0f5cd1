//! Per-connection state: [`ClientState`] is owned by the connection task; [`ClientHandle`]
//! is the part other connections read (CLIENT LIST) or act on (CLIENT KILL).

use crate::shared::Shared;
use parking_lot::Mutex;
use rill_protocol::RespVersion;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;

/// Fields CLIENT LIST / CLIENT INFO report that change while the client runs.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub name: String,
    pub db: usize,
    /// Full name of the last command ("get", "client|list"); table names are static.
    pub last_cmd: &'static str,
    pub resp: u8,
    pub flags: String,
    pub qbuf: usize,
    pub omem: usize,
    pub multi: i64,
    pub lib_name: String,
    pub lib_ver: String,
    /// In MONITOR mode (flag `O`).
    pub monitor: bool,
    /// Subscribed channels, patterns and shard channels (CLIENT LIST sub/psub/ssub).
    pub sub: usize,
    pub psub: usize,
    pub ssub: usize,
}

pub struct ClientHandle {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub created: Instant,
    pub info: Mutex<ClientInfo>,
    pub last_interaction: Mutex<Instant>,
    pub killed: AtomicBool,
    pub kill: Notify,
    /// CLIENT NO-EVICT.
    pub no_evict: AtomicBool,
    /// CLIENT_DIRTY_CAS: a watched key was touched (flag `d`). Shared with this client's
    /// [`crate::db::Watcher`]s; written only under the keyspace lock.
    pub watch_dirty: Arc<AtomicBool>,
    /// Wakes this client while it is blocked (a key became ready, CLIENT UNBLOCK).
    pub wake: Notify,
}

impl ClientHandle {
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill.notify_one();
    }

    /// One CLIENT LIST line (without the trailing newline), in Redis 7.0's field order.
    pub fn list_line(&self) -> String {
        let i = self.info.lock().clone();
        let idle = self.last_interaction.lock().elapsed().as_secs();
        // Redis's order: O (monitor), then the families' letters (P, x, b, ...), then e.
        let mut flags = String::new();
        if i.monitor {
            flags.push('O');
        }
        if i.flags.contains('P') {
            flags.push('P');
        }
        if i.multi >= 0 {
            flags.push('x');
        }
        flags.extend(i.flags.chars().filter(|&c| c != 'P'));
        if self.watch_dirty.load(Ordering::Relaxed) {
            flags.push('d');
        }
        if self.no_evict.load(Ordering::Relaxed) {
            flags.push('e');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem=22400 events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            i.name,
            self.created.elapsed().as_secs(),
            idle,
            flags,
            i.db,
            i.sub,
            i.psub,
            i.ssub,
            i.multi,
            i.qbuf,
            i.omem,
            if i.last_cmd.is_empty() { "NULL" } else { i.last_cmd },
            i.resp.max(2),
        )
    }
}

/// State owned by one connection.
pub struct ClientState {
    /// The fake client replaying the AOF: no gates, runs while loading.
    pub aof_loader: bool,
    pub id: u64,
    pub db: usize,
    pub resp: RespVersion,
    pub authenticated: bool,
    pub handle: Arc<ClientHandle>,
    /// Close after the current reply is written (QUIT, CLIENT KILL of self).
    pub close_after_reply: bool,
    /// In MONITOR mode: the feed is written between replies.
    pub monitor: bool,
    /// The MONITOR feed, subscribed when MONITOR runs so the rest of its batch is fed.
    pub monitor_rx: Option<tokio::sync::broadcast::Receiver<bytes::Bytes>>,
    pub name: String,
    /// CLIENT REPLY OFF.
    pub reply_off: bool,
    /// CLIENT REPLY SKIP: the next command's reply is dropped.
    pub reply_skip_next: bool,
    /// The reply of the command now running is dropped.
    pub reply_skip: bool,
    /// Commands queued since MULTI; `None` outside a transaction (see `cmd::multi`).
    pub multi: Option<MultiState>,
    /// Keys this client WATCHes, as (db, key); the watchers live in `Db::watched`.
    pub watched: Vec<(usize, crate::db::Key)>,
    /// EXEC is running this client's queue (Redis's CLIENT_DENY_BLOCKING): blocking
    /// commands must answer as their non-blocking form instead of blocking.
    pub in_exec: bool,
    /// The script client (Redis's CLIENT_SCRIPT): runs commands for redis.call.
    pub in_script: bool,
    /// Pub/sub subscriptions and the queue of messages to deliver (first SUBSCRIBE on).
    pub pubsub: Option<Box<crate::pubsub::ClientSubs>>,
    /// Set by a blocking command that must wait (see `crate::blocking`).
    pub blocked: Option<Box<crate::blocking::BlockedOn>>,
    /// The replica link's client applying the master's stream: no gates.
    pub is_master: bool,
    /// REPLCONF listening-port / ip-address / capa eof, before PSYNC.
    pub repl_port: u16,
    pub repl_ip: Option<String>,
    pub repl_capa_eof: bool,
    /// REPLCONF rdb-only 1 (redis-cli --rdb): closed once the RDB is sent.
    pub repl_rdb_only: bool,
    /// Set by PSYNC/SYNC: after this batch the connection serves a replica.
    pub psync: Option<crate::replication::master::PsyncRequest>,
    /// Set by WAIT: (offset, replicas, deadline unix ms or 0); the connection waits.
    pub wait_repl: Option<(u64, usize, i64)>,
}

/// A transaction being queued (Redis's `multiState` + CLIENT_DIRTY_EXEC).
#[derive(Default)]
pub struct MultiState {
    pub commands: Vec<(&'static crate::cmd::Registered, Vec<bytes::Bytes>)>,
    /// A command was rejected while queueing: EXEC replies EXECABORT.
    pub dirty_exec: bool,
}

impl ClientState {
    pub fn new(shared: &Shared, addr: SocketAddr, laddr: SocketAddr) -> ClientState {
        let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let handle = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            created: Instant::now(),
            info: Mutex::new(ClientInfo {
                resp: 2,
                multi: -1,
                ..Default::default()
            }),
            last_interaction: Mutex::new(Instant::now()),
            killed: AtomicBool::new(false),
            kill: Notify::new(),
            no_evict: AtomicBool::new(false),
            watch_dirty: Arc::new(AtomicBool::new(false)),
            wake: Notify::new(),
        });
        let authenticated = shared.config().requirepass.is_none();
        ClientState {
            id,
            db: 0,
            resp: RespVersion::Resp2,
            authenticated,
            handle,
            close_after_reply: false,
            monitor: false,
            monitor_rx: None,
            name: String::new(),
            reply_off: false,
            reply_skip_next: false,
            reply_skip: false,
            multi: None,
            watched: Vec::new(),
            in_exec: false,
            in_script: false,
            pubsub: None,
            blocked: None,
            aof_loader: false,
            is_master: false,
            repl_port: 0,
            repl_ip: None,
            repl_capa_eof: false,
            repl_rdb_only: false,
            psync: None,
            wait_repl: None,
        }
    }

    /// In subscribed mode (Redis's CLIENT_PUBSUB).
    pub fn subscribed(&self) -> bool {
        self.pubsub.as_ref().is_some_and(|p| p.total() > 0)
    }

    /// True if this command's reply must not be sent (CLIENT REPLY OFF / SKIP).
    pub fn replies_suppressed(&self) -> bool {
        self.reply_off || self.reply_skip
    }

    /// After each command: a SKIP armed by CLIENT REPLY SKIP applies to the next one only.
    pub fn after_command(&mut self) {
        self.reply_skip = false;
        if self.reply_skip_next {
            self.reply_skip = true;
            self.reply_skip_next = false;
        }
    }

    /// Publishes the MULTI queue length (CLIENT LIST `multi=`, -1 outside MULTI).
    pub fn sync_multi(&self) {
        self.handle.info.lock().multi = self.multi.as_ref().map_or(-1, |m| m.commands.len() as i64);
    }

    /// Pushes connection-owned fields to the shared handle (after SELECT, HELLO, SETNAME).
    pub fn sync_info(&self) {
        let mut i = self.handle.info.lock();
        i.db = self.db;
        i.name = self.name.clone();
        i.resp = if self.resp == RespVersion::Resp3 {
            3
        } else {
            2
        };
    }
}
