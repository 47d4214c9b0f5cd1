//! Sentinel mode (`rill-server sentinel.conf --sentinel`), after Redis's sentinel.c.
//!
//! # Layout
//! - this file: the monitored masters, replicas and sentinels ([`State`]), config parsing
//!   and rewriting, events.
//! - [`failover`]: the pure parts (replica selection, leader votes, ODOWN quorum), unit tested.
//! - [`link`]: the timer (Redis's sentinelTimer: SDOWN/ODOWN, the failover state machine)
//!   and one link task per instance (PING, INFO, hello, queued commands, pub/sub hello).
//!
//! All decisions are taken under one lock by the timer and the reply handlers; link tasks
//! only do I/O. Times are unix milliseconds.

pub mod failover;
pub mod link;

use crate::shared::Shared;
use bytes::Bytes;
use indexmap::IndexMap;
use parking_lot::Mutex;
use std::sync::{Arc, OnceLock};

pub const HELLO_CHANNEL: &str = "__sentinel__:hello";
pub const DEFAULT_DOWN_AFTER: i64 = 30_000;
pub const DEFAULT_FAILOVER_TIMEOUT: i64 = 180_000;
pub const DEFAULT_PARALLEL_SYNCS: i64 = 1;
pub const INFO_PERIOD: i64 = 10_000;
pub const PING_PERIOD: i64 = 1_000;
pub const PUBLISH_PERIOD: i64 = 2_000;
pub const ASK_PERIOD: i64 = 1_000;
pub const ELECTION_TIMEOUT: i64 = 10_000;
pub const SLAVE_RECONF_TIMEOUT: i64 = 10_000;
pub const MAX_DESYNC: i64 = 1_000;
/// A candidate waits a random 0..VOTE_DESYNC ms before voting for itself, so a request
/// from a sentinel that started at the same moment can get its vote first: without it
/// sentinels reaching ODOWN together each vote for themselves and the election fails
/// (then retried after 2 x failover-timeout). Redis relies on its 1 s ask period instead.
pub const VOTE_DESYNC: i64 = 250;

static SENTINEL: OnceLock<Arc<Sentinel>> = OnceLock::new();
static MODE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Marks this process as a sentinel before the command table is built.
pub fn set_mode() {
    MODE.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Sentinel mode: the command table holds only sentinel's command set.
pub fn mode() -> bool {
    MODE.load(std::sync::atomic::Ordering::SeqCst)
}

/// The commands redis-sentinel 7.0 serves besides its own SENTINEL, INFO, ROLE, PUBLISH.
pub const SERVED: &[&str] = &[
    "acl",
    "auth",
    "client",
    "command",
    "hello",
    "ping",
    "psubscribe",
    "punsubscribe",
    "shutdown",
    "subscribe",
    "unsubscribe",
];

/// The process's sentinel, when running in sentinel mode (a per-process mode, as in Redis).
pub fn get() -> Option<&'static Arc<Sentinel>> {
    SENTINEL.get()
}

/// True in sentinel mode: only sentinel's command set is served.
pub fn active() -> bool {
    SENTINEL.get().is_some()
}

/// Redis's failover_state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailoverState {
    None,
    WaitStart,
    SelectSlave,
    SendSlaveofNoone,
    WaitPromotion,
    ReconfSlaves,
    UpdateConfig,
}

impl FailoverState {
    /// sentinelFailoverStateStr.
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverState::None => "none",
            FailoverState::WaitStart => "wait_start",
            FailoverState::SelectSlave => "select_slave",
            FailoverState::SendSlaveofNoone => "send_slaveof_noone",
            FailoverState::WaitPromotion => "wait_promotion",
            FailoverState::ReconfSlaves => "reconf_slaves",
            FailoverState::UpdateConfig => "update_config",
        }
    }
}

/// What a link task must send next (decided under the lock, sent by the task).
#[derive(Clone, Debug)]
pub enum Request {
    /// A command whose reply only needs logging (SLAVEOF and friends, in a MULTI).
    Raw(Vec<Vec<Vec<u8>>>),
    /// SENTINEL IS-MASTER-DOWN-BY-ADDR for `master`.
    AskMasterDown { master: String, args: Vec<Vec<u8>> },
}

/// The link state of one instance (Redis's instanceLink).
#[derive(Clone, Debug, Default)]
pub struct Link {
    pub disconnected: bool,
    /// Send time of the oldest unanswered PING (0: none).
    pub act_ping_time: i64,
    pub last_ping_time: i64,
    pub last_pong_time: i64,
    pub last_avail_time: i64,
    pub pending: Vec<Request>,
    /// A link task is running for this instance.
    pub task: bool,
    /// The local address of the command connection (announced in hello messages).
    pub local_ip: Option<String>,
    /// Just connected: PING at once (sentinelReconnectInstance does), so a new link's
    /// pending-ping timer is answered before it can reach down-after-milliseconds.
    pub ping_now: bool,
}

/// Fields common to masters, replicas and sentinels (sentinelRedisInstance).
#[derive(Clone, Debug)]
pub struct Instance {
    /// Master name, `ip:port` for replicas, run id for sentinels.
    pub name: String,
    pub ip: String,
    pub port: u16,
    pub runid: Option<String>,
    pub link: Link,
    pub s_down_since: i64,
    pub o_down_since: i64,
    pub info_refresh: i64,
    pub info: String,
    pub role_master: bool,
    pub role_reported_time: i64,
    pub last_pub_time: i64,
    pub created: i64,
    /// Identifies this incarnation for its link task ([`link::Target`]).
    pub link_id: u64,
}

impl Instance {
    pub fn new(name: String, ip: &str, port: u16, now: i64) -> Instance {
        Instance {
            name,
            ip: ip.to_string(),
            port,
            runid: None,
            // As createInstanceLink: a link that never answers goes SDOWN after
            // down-after-milliseconds from its creation.
            link: Link {
                disconnected: true,
                act_ping_time: now,
                last_avail_time: now,
                last_pong_time: now,
                ..Link::default()
            },
            s_down_since: 0,
            o_down_since: 0,
            info_refresh: 0,
            info: String::new(),
            role_master: false,
            role_reported_time: now,
            last_pub_time: 0,
            created: now,
            link_id: link::next_id(),
        }
    }
    pub fn addr(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }
    pub fn sdown(&self) -> bool {
        self.s_down_since != 0
    }
}

/// A replica of a monitored master.
#[derive(Clone, Debug)]
pub struct Replica {
    pub inst: Instance,
    pub master_host: String,
    pub master_port: u16,
    pub master_link_up: bool,
    pub master_link_down_time: i64,
    pub priority: i64,
    pub repl_offset: u64,
    pub announced: bool,
    pub promoted: bool,
    pub reconf_sent: bool,
    pub reconf_inprog: bool,
    pub reconf_done: bool,
    pub reconf_sent_time: i64,
    /// The last time the replica was seen following the wrong master (+fix-slave-config).
    pub slaveof_sent_time: i64,
}

impl Replica {
    pub fn new(ip: &str, port: u16, now: i64) -> Replica {
        Replica {
            inst: Instance::new(format!("{ip}:{port}"), ip, port, now),
            master_host: String::new(),
            master_port: 0,
            master_link_up: false,
            master_link_down_time: 0,
            priority: 100,
            repl_offset: 0,
            announced: true,
            promoted: false,
            reconf_sent: false,
            reconf_inprog: false,
            reconf_done: false,
            reconf_sent_time: 0,
            slaveof_sent_time: 0,
        }
    }
}

/// Another sentinel monitoring the same master.
#[derive(Clone, Debug)]
pub struct Peer {
    pub inst: Instance,
    pub master_down: bool,
    pub last_master_down_reply_time: i64,
    pub leader: Option<String>,
    pub leader_epoch: u64,
    pub last_hello_time: i64,
}

/// A monitored master with its replicas and the other sentinels.
#[derive(Clone, Debug)]
pub struct Master {
    pub inst: Instance,
    pub quorum: usize,
    pub down_after: i64,
    pub failover_timeout: i64,
    pub parallel_syncs: usize,
    pub auth_pass: Option<String>,
    pub auth_user: Option<String>,
    pub notification_script: Option<String>,
    pub client_reconfig_script: Option<String>,
    pub config_epoch: u64,
    pub leader: Option<String>,
    pub leader_epoch: u64,
    pub failover_epoch: u64,
    pub failover_state: FailoverState,
    pub failover_state_change_time: i64,
    pub failover_start_time: i64,
    pub force_failover: bool,
    /// How long after +try-failover we may vote for ourselves (see [`VOTE_DESYNC`]).
    pub self_vote_delay: i64,
    /// Replica key (ip:port) being promoted.
    pub promoted: Option<String>,
    pub replicas: IndexMap<String, Replica>,
    /// Keyed by run id.
    pub sentinels: IndexMap<String, Peer>,
}

impl Master {
    pub fn new(name: &str, ip: &str, port: u16, quorum: usize, now: i64) -> Master {
        let mut inst = Instance::new(name.to_string(), ip, port, now);
        inst.role_master = true;
        Master {
            inst,
            quorum,
            down_after: DEFAULT_DOWN_AFTER,
            failover_timeout: DEFAULT_FAILOVER_TIMEOUT,
            parallel_syncs: DEFAULT_PARALLEL_SYNCS as usize,
            auth_pass: None,
            auth_user: None,
            notification_script: None,
            client_reconfig_script: None,
            config_epoch: 0,
            leader: None,
            leader_epoch: 0,
            failover_epoch: 0,
            failover_state: FailoverState::None,
            failover_state_change_time: 0,
            failover_start_time: 0,
            force_failover: false,
            self_vote_delay: 0,
            promoted: None,
            replicas: IndexMap::new(),
            sentinels: IndexMap::new(),
        }
    }
    pub fn odown(&self) -> bool {
        self.inst.o_down_since != 0
    }
    pub fn in_failover(&self) -> bool {
        self.failover_state != FailoverState::None
    }
    /// sentinelGetCurrentMasterAddress: the promoted replica once it reconfigures the
    /// others, so hello messages and GET-MASTER-ADDR-BY-NAME announce the new master early.
    pub fn current_addr(&self) -> (&str, u16) {
        let promoted = self
            .promoted
            .as_ref()
            .and_then(|k| self.replicas.get(k))
            .filter(|_| {
                matches!(
                    self.failover_state,
                    FailoverState::ReconfSlaves | FailoverState::UpdateConfig
                )
            });
        let inst = promoted.map(|r| &r.inst).unwrap_or(&self.inst);
        (&inst.ip, inst.port)
    }
}

/// Everything the sentinel knows; guarded by [`Sentinel::state`].
#[derive(Debug)]
pub struct State {
    pub myid: String,
    pub current_epoch: u64,
    pub masters: IndexMap<String, Master>,
    pub announce_ip: Option<String>,
    pub announce_port: u16,
    pub tilt: bool,
    pub tilt_start_time: i64,
    pub previous_time: i64,
    /// The config file needs rewriting.
    pub dirty_config: bool,
    /// Events to publish and log once the lock is released: (channel, message).
    pub events: Vec<(String, String)>,
    /// Parameters Redis keeps as global `sentinel` directives, re-written verbatim.
    pub extra: Vec<Vec<String>>,
}

impl State {
    /// No masters, epoch 0, not in TILT.
    pub fn new(myid: String, now_ms: i64) -> State {
        State {
            myid,
            current_epoch: 0,
            masters: IndexMap::new(),
            announce_ip: None,
            announce_port: 0,
            tilt: false,
            tilt_start_time: 0,
            previous_time: now_ms,
            dirty_config: false,
            events: vec![],
            extra: vec![],
        }
    }
}

/// The sentinel of this process.
pub struct Sentinel {
    pub shared: Arc<Shared>,
    pub state: Mutex<State>,
    /// Our listening port, announced in hello messages.
    pub port: u16,
}

/// An instance reference for events: the type name, its name/addr and its master's.
pub enum Who<'a> {
    Master(&'a Master),
    Replica(&'a Master, &'a Replica),
    Sentinel(&'a Master, &'a Peer),
}

/// Redis's `%@` event prefix.
pub fn describe(who: &Who) -> String {
    let (kind, inst, master) = match who {
        Who::Master(m) => ("master", &m.inst, None),
        Who::Replica(m, r) => ("slave", &r.inst, Some(*m)),
        Who::Sentinel(m, p) => ("sentinel", &p.inst, Some(*m)),
    };
    let mut s = format!("{} {} {} {}", kind, inst.name, inst.ip, inst.port);
    if let Some(m) = master {
        s.push_str(&format!(" @ {} {} {}", m.inst.name, m.inst.ip, m.inst.port));
    }
    s
}

impl State {
    /// sentinelEvent: queued, published and logged by [`Sentinel::flush_events`].
    pub fn event(&mut self, kind: &str, msg: String) {
        self.events.push((kind.to_string(), msg));
    }
    pub fn event_at(&mut self, kind: &str, who: &Who, rest: &str) {
        let mut m = describe(who);
        if !rest.is_empty() {
            m.push(' ');
            m.push_str(rest);
        }
        self.event(kind, m);
    }
}

fn parse_u16(s: &str) -> Result<u16, String> {
    s.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| "Invalid port number".to_string())
}

fn parse_pos(s: &str, what: &str) -> Result<i64, String> {
    s.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("Invalid {what}"))
}

/// Applies one `sentinel ...` line (sentinelHandleConfiguration); `args` excludes `sentinel`.
pub fn apply_config_line(st: &mut State, args: &[String], now: i64) -> Result<(), String> {
    let Some(first) = args.first() else {
        return Err("Unrecognized sentinel configuration statement.".into());
    };
    let n = args.len();
    let get = |st: &mut State, name: &str| -> Result<(), String> {
        if st.masters.contains_key(name) {
            Ok(())
        } else {
            Err("No such master with specified name.".into())
        }
    };
    match (first.to_ascii_lowercase().as_str(), n) {
        ("monitor", 5) => {
            let quorum = args[4]
                .parse::<usize>()
                .ok()
                .filter(|q| *q > 0)
                .ok_or("Quorum must be 1 or greater.")?;
            let port = parse_u16(&args[3])?;
            if st.masters.contains_key(&args[1]) {
                return Err("Duplicated master name.".into());
            }
            st.masters.insert(
                args[1].clone(),
                Master::new(&args[1], &args[2], port, quorum, now),
            );
        }
        ("down-after-milliseconds", 3) => {
            get(st, &args[1])?;
            let v = parse_pos(&args[2], "down-after-milliseconds")?;
            st.masters[&args[1]].down_after = v;
        }
        ("failover-timeout", 3) => {
            get(st, &args[1])?;
            let v = parse_pos(&args[2], "failover-timeout")?;
            st.masters[&args[1]].failover_timeout = v;
        }
        ("parallel-syncs", 3) => {
            get(st, &args[1])?;
            let v = parse_pos(&args[2], "parallel-syncs")?;
            st.masters[&args[1]].parallel_syncs = v as usize;
        }
        ("notification-script", 3) => {
            get(st, &args[1])?;
            st.masters[&args[1]].notification_script = Some(args[2].clone());
        }
        ("client-reconfig-script", 3) => {
            get(st, &args[1])?;
            st.masters[&args[1]].client_reconfig_script = Some(args[2].clone());
        }
        ("auth-pass", 3) => {
            get(st, &args[1])?;
            st.masters[&args[1]].auth_pass = Some(args[2].clone());
        }
        ("auth-user", 3) => {
            get(st, &args[1])?;
            st.masters[&args[1]].auth_user = Some(args[2].clone());
        }
        ("current-epoch", 2) => {
            let e = args[1].parse::<u64>().map_err(|_| "Invalid epoch")?;
            st.current_epoch = st.current_epoch.max(e);
        }
        ("myid", 2) => {
            if args[1].len() != 40 {
                return Err("Malformed Sentinel id in myid option.".into());
            }
            st.myid = args[1].clone();
        }
        ("config-epoch", 3) => {
            get(st, &args[1])?;
            let e = args[2].parse::<u64>().map_err(|_| "Invalid epoch")?;
            st.masters[&args[1]].config_epoch = e;
            st.current_epoch = st.current_epoch.max(e);
        }
        ("leader-epoch", 3) => {
            get(st, &args[1])?;
            let e = args[2].parse::<u64>().map_err(|_| "Invalid epoch")?;
            st.masters[&args[1]].leader_epoch = e;
        }
        ("known-slave" | "known-replica", 4) => {
            get(st, &args[1])?;
            let port = parse_u16(&args[3])?;
            let r = Replica::new(&args[2], port, now);
            st.masters[&args[1]].replicas.insert(r.inst.name.clone(), r);
        }
        ("known-sentinel", 4 | 5) => {
            get(st, &args[1])?;
            let port = parse_u16(&args[3])?;
            if n == 5 {
                let runid = args[4].clone();
                let mut inst = Instance::new(runid.clone(), &args[2], port, now);
                inst.runid = Some(runid.clone());
                st.masters[&args[1]].sentinels.insert(runid, new_peer(inst));
            }
        }
        ("announce-ip", 2) => {
            if !args[1].is_empty() {
                st.announce_ip = Some(args[1].clone());
            }
        }
        ("announce-port", 2) => {
            st.announce_port = args[1].parse().map_err(|_| "Invalid port number")?;
        }
        (
            "deny-scripts-reconfig"
            | "resolve-hostnames"
            | "announce-hostnames"
            | "sentinel-user"
            | "sentinel-pass"
            | "rename-command"
            | "master-reboot-down-after-period",
            _,
        ) => st.extra.push(args.to_vec()),
        _ => return Err("Unrecognized sentinel configuration statement.".into()),
    }
    Ok(())
}

pub fn new_peer(inst: Instance) -> Peer {
    Peer {
        inst,
        master_down: false,
        last_master_down_reply_time: 0,
        leader: None,
        leader_epoch: 0,
        last_hello_time: 0,
    }
}

/// The `sentinel ...` block CONFIG REWRITE writes (rewriteConfigSentinelOption).
pub fn config_lines(st: &State) -> Vec<String> {
    let mut out = vec![format!("sentinel myid {}", st.myid)];
    for (name, m) in &st.masters {
        out.push(format!(
            "sentinel monitor {} {} {} {}",
            name, m.inst.ip, m.inst.port, m.quorum
        ));
        if m.down_after != DEFAULT_DOWN_AFTER {
            out.push(format!(
                "sentinel down-after-milliseconds {} {}",
                name, m.down_after
            ));
        }
        if m.failover_timeout != DEFAULT_FAILOVER_TIMEOUT {
            out.push(format!(
                "sentinel failover-timeout {} {}",
                name, m.failover_timeout
            ));
        }
        if m.parallel_syncs as i64 != DEFAULT_PARALLEL_SYNCS {
            out.push(format!(
                "sentinel parallel-syncs {} {}",
                name, m.parallel_syncs
            ));
        }
        if let Some(s) = &m.notification_script {
            out.push(format!("sentinel notification-script {name} {s}"));
        }
        if let Some(s) = &m.client_reconfig_script {
            out.push(format!("sentinel client-reconfig-script {name} {s}"));
        }
        if let Some(p) = &m.auth_pass {
            out.push(format!("sentinel auth-pass {name} {p}"));
        }
        if let Some(u) = &m.auth_user {
            out.push(format!("sentinel auth-user {name} {u}"));
        }
        out.push(format!("sentinel config-epoch {} {}", name, m.config_epoch));
        out.push(format!("sentinel leader-epoch {} {}", name, m.leader_epoch));
        for r in m.replicas.values() {
            // The promoted replica of a failover in progress is not written as a replica.
            if r.inst.ip == m.inst.ip && r.inst.port == m.inst.port {
                continue;
            }
            out.push(format!(
                "sentinel known-replica {} {} {}",
                name, r.inst.ip, r.inst.port
            ));
        }
        for p in m.sentinels.values() {
            if let Some(id) = &p.inst.runid {
                out.push(format!(
                    "sentinel known-sentinel {} {} {} {}",
                    name, p.inst.ip, p.inst.port, id
                ));
            }
        }
    }
    out.push(format!("sentinel current-epoch {}", st.current_epoch));
    if let Some(ip) = &st.announce_ip {
        out.push(format!("sentinel announce-ip {ip}"));
    }
    if st.announce_port != 0 {
        out.push(format!("sentinel announce-port {}", st.announce_port));
    }
    for e in &st.extra {
        out.push(format!("sentinel {}", e.join(" ")));
    }
    out
}

/// Rewrites the config file: its non-sentinel lines as they are, then the sentinel block
/// (sentinelFlushConfig). Written to a temp file and renamed, so a crash never truncates it.
pub fn rewrite_file(path: &std::path::Path, st: &State) -> std::io::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut text = String::new();
    for line in old.lines() {
        let t = line.trim_start();
        let is_sentinel = t
            .split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("sentinel"));
        if is_sentinel || t == "# Generated by CONFIG REWRITE" {
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    while text.ends_with("\n\n") {
        text.pop();
    }
    text.push_str("# Generated by CONFIG REWRITE\n");
    for l in config_lines(st) {
        text.push_str(&l);
        text.push('\n');
    }
    let tmp = path.with_extension("tmp-sentinel");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

pub fn random_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
        .collect()
}

impl Sentinel {
    /// Parses the `sentinel` lines, checks the config file is writable, saves the config
    /// (a new myid) and starts the timer. Errors are fatal at start-up, as in Redis.
    pub fn start(shared: Arc<Shared>, port: u16) -> Result<Arc<Sentinel>, String> {
        let config = shared.config();
        let Some(file) = config.file.clone() else {
            return Err("Sentinel needs config file on disk to save state.  Exiting...".into());
        };
        if std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .is_err()
        {
            return Err(format!(
                "Sentinel config file {} is not writable: Permission denied. Exiting...",
                file.display()
            ));
        }
        let now = crate::util::now_ms();
        let mut st = State::new(String::new(), now);
        st.dirty_config = true;
        for (i, line) in config.sentinel_lines.iter().enumerate() {
            apply_config_line(&mut st, line, now).map_err(|reason| {
                format!(
                    "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15 compatible Rill) ***\n>>> 'sentinel {}'\n{} (sentinel line {})",
                    line.join(" "),
                    reason,
                    i + 1
                )
            })?;
        }
        if st.myid.is_empty() {
            st.myid = random_id();
        }
        let names: Vec<String> = st.masters.keys().cloned().collect();
        for n in names {
            let m = &st.masters[&n];
            let msg = format!("{} quorum {}", describe(&Who::Master(m)), m.quorum);
            st.event("+monitor", msg);
        }
        let s = Arc::new(Sentinel {
            shared,
            state: Mutex::new(st),
            port,
        });
        SENTINEL
            .set(s.clone())
            .map_err(|_| "sentinel already running in this process".to_string())?;
        tracing::info!("Sentinel ID is {}", s.state.lock().myid);
        s.flush_config();
        s.flush_events();
        tokio::spawn(link::timer(s.clone()));
        Ok(s)
    }

    /// Writes the config file when the state changed (sentinelFlushConfig).
    pub fn flush_config(&self) {
        let Some(file) = self.shared.config().file.clone() else {
            return;
        };
        let mut st = self.state.lock();
        if !st.dirty_config {
            return;
        }
        st.dirty_config = false;
        match rewrite_file(&file, &st) {
            Ok(()) => tracing::info!("Sentinel new configuration saved on disk"),
            Err(e) => tracing::warn!(
                "WARNING: Sentinel was not able to save the new configuration on disk!!!: {e}"
            ),
        }
    }

    /// Publishes queued events on our own pub/sub and logs them.
    pub fn flush_events(&self) {
        let events = std::mem::take(&mut self.state.lock().events);
        if events.is_empty() {
            return;
        }
        let config = self.shared.config();
        let now = crate::util::now_ms();
        for (kind, msg) in events {
            tracing::warn!("{kind} {msg}");
            self.shared.pubsub.publish(
                false,
                &Bytes::from(kind.into_bytes()),
                &Bytes::from(msg.into_bytes()),
                &config,
                now,
            );
        }
    }
}
