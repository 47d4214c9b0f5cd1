//! Master-replica replication (Redis's replication.c): the state under the keyspace lock
//! ([`Repl`]), the master side serving PSYNC ([`master`]) and the replica's link to its
//! master ([`replica`]). The stream itself is the propagation stream
//! ([`crate::propagate`]) fed into the [`backlog::Backlog`].

pub mod backlog;
pub mod master;
pub mod replica;

use crate::shared::State;
use std::collections::BTreeMap;

/// The replica's view of its master link (INFO's master_link_status and friends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Not connected; the link task retries.
    Connect,
    /// TCP connected, handshake running.
    Handshake,
    /// Receiving the RDB.
    Transfer,
    Connected,
}

/// `replicaof <host> <port>` in force.
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// Unix ms the link went down (or was configured), for master_link_down_since_seconds.
    pub down_since_ms: i64,
    /// Unix ms of the last byte from the master.
    pub last_io_ms: i64,
    /// Bytes read of the stream (slave_read_repl_offset); processed is the backlog's end.
    pub read_offset: u64,
    /// RDB transfer progress: (total or -1 for EOF framing, read).
    pub sync_bytes: (i64, u64),
    /// The link task's client id (CLIENT KILL TYPE MASTER ends it; it reconnects).
    pub client: Option<std::sync::Arc<crate::client::ClientHandle>>,
    /// A full sync happened on this link, so the data follows the master.
    pub synced: bool,
    /// The database the master's stream last selected: a partial resync continues
    /// without a SELECT (Redis keeps it in the cached master client).
    pub db: usize,
}

/// One attached replica, as INFO's slaveN line shows it.
pub struct ReplicaInfo {
    pub ip: String,
    pub port: u16,
    /// wait_bgsave, send_bulk, online.
    pub state: &'static str,
    /// Last REPLCONF ACK offset.
    pub ack_offset: u64,
    pub ack_time_ms: i64,
    /// Stream position sent so far (what the backlog must keep).
    pub sent: u64,
    pub handle: std::sync::Arc<crate::client::ClientHandle>,
}

pub struct Repl {
    pub replid: String,
    pub replid2: String,
    pub second_repl_offset: i64,
    /// master_repl_offset while there is no backlog.
    pub offset_no_backlog: u64,
    pub master: Option<MasterLink>,
    /// Bumped by every REPLICAOF: a link task whose generation is stale ends.
    pub link_gen: u64,
    pub replicas: BTreeMap<u64, ReplicaInfo>,
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    pub last_ping_ms: i64,
    /// Unix ms since when a master has had no replica (repl-backlog-ttl); 0 with some.
    pub no_replicas_since_ms: i64,
}

impl Default for Repl {
    fn default() -> Self {
        Repl {
            replid: random_replid(),
            replid2: "0".repeat(40),
            second_repl_offset: -1,
            offset_no_backlog: 0,
            master: None,
            link_gen: 0,
            replicas: BTreeMap::new(),
            sync_full: 0,
            sync_partial_ok: 0,
            sync_partial_err: 0,
            last_ping_ms: 0,
            no_replicas_since_ms: 0,
        }
    }
}

/// 40 random hex characters (a replication ID, an EOF mark).
pub fn random_replid() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| char::from_digit(rng.gen_range(0..16u32), 16).unwrap_or('0'))
        .collect()
}

impl Repl {
    pub fn is_replica(&self) -> bool {
        self.master.is_some()
    }

    /// A replica whose link to its master is down (Redis's `masterhost && repl_state !=
    /// REPL_STATE_CONNECTED`): with replica-serve-stale-data no, only STALE commands run.
    pub fn link_down(&self) -> bool {
        self.master
            .as_ref()
            .is_some_and(|m| m.state != LinkState::Connected)
    }

    /// Redis's shiftReplicationId: the old history stays reachable as replid2.
    pub fn shift_replid(&mut self, master_repl_offset: u64) {
        self.replid2 = std::mem::replace(&mut self.replid, random_replid());
        self.second_repl_offset = master_repl_offset as i64 + 1;
    }
}

/// master_repl_offset.
pub fn master_repl_offset(state: &State) -> u64 {
    state
        .prop
        .backlog
        .as_ref()
        .map_or(state.repl.offset_no_backlog, |b| b.end())
}

/// Recomputes what the backlog must keep for the replicas still sending.
pub fn update_hold(state: &mut State) {
    let hold = state
        .repl
        .replicas
        .values()
        .map(|r| r.sent)
        .min()
        .unwrap_or(u64::MAX);
    if let Some(bl) = state.prop.backlog.as_mut() {
        bl.hold = hold;
        bl.trim();
    }
}

/// Creates the backlog if missing (Redis's createReplicationBacklog).
pub fn ensure_backlog(state: &mut State, config: &crate::config::Config) {
    if state.prop.backlog.is_none() {
        let size = config.get_i64("repl-backlog-size").max(1) as usize;
        state.prop.backlog = Some(backlog::Backlog::new(size, state.repl.offset_no_backlog));
        state.prop.repl_db = None;
    }
}

/// Replicas with an ACK no older than min-replicas-max-lag (Redis's repl_good_slaves_count).
pub fn good_replicas(state: &State, config: &crate::config::Config, now_ms: i64) -> usize {
    let max_lag = config.get_i64("min-replicas-max-lag") * 1000;
    state
        .repl
        .replicas
        .values()
        .filter(|r| r.state == "online" && now_ms - r.ack_time_ms <= max_lag)
        .count()
}

/// Replicas whose ACK reached `offset` (WAIT).
pub fn acked(state: &State, offset: u64) -> usize {
    state
        .repl
        .replicas
        .values()
        .filter(|r| r.state == "online" && r.ack_offset >= offset)
        .count()
}

/// Feeds a command into the replication stream outside of a client's call (PING,
/// REPLCONF GETACK), as Redis's replicationFeedSlaves with no database.
pub fn feed_raw(state: &mut State, argv: &[&[u8]]) {
    if let Some(bl) = state.prop.backlog.as_mut() {
        rill_storage::aof::encode_command(bl.buf_mut(), argv);
    }
}

/// The INFO replication section, Redis 7.0's fields in its order.
pub fn info(state: &State, config: &crate::config::Config, now_ms: i64, o: &mut String) {
    use std::fmt::Write;
    let repl = &state.repl;
    let offset = master_repl_offset(state);
    let mut f = |s: String| {
        o.push_str(&s);
        o.push_str("\r\n");
    };
    if let Some(m) = &repl.master {
        f("role:slave".into());
        f(format!("master_host:{}", m.host));
        f(format!("master_port:{}", m.port));
        let up = m.state == LinkState::Connected;
        f(format!(
            "master_link_status:{}",
            if up { "up" } else { "down" }
        ));
        let last_io = if up {
            (now_ms - m.last_io_ms) / 1000
        } else {
            -1
        };
        f(format!("master_last_io_seconds_ago:{last_io}"));
        let in_sync = m.state == LinkState::Transfer;
        f(format!("master_sync_in_progress:{}", in_sync as u8));
        f(format!(
            "slave_read_repl_offset:{}",
            m.read_offset.max(offset)
        ));
        f(format!("slave_repl_offset:{offset}"));
        if in_sync {
            let (total, read) = m.sync_bytes;
            f(format!("master_sync_total_bytes:{total}"));
            f(format!("master_sync_read_bytes:{read}"));
            f(format!(
                "master_sync_left_bytes:{}",
                if total < 0 { -1 } else { total - read as i64 }
            ));
            let perc = if total > 0 {
                read as f64 * 100.0 / total as f64
            } else {
                0.0
            };
            f(format!("master_sync_perc:{perc:.2}"));
            f(format!(
                "master_sync_last_io_seconds_ago:{}",
                (now_ms - m.last_io_ms) / 1000
            ));
        }
        if !up {
            let since = if m.down_since_ms == 0 {
                -1
            } else {
                (now_ms - m.down_since_ms) / 1000
            };
            f(format!("master_link_down_since_seconds:{since}"));
        }
        f(format!(
            "slave_priority:{}",
            config.get_i64("replica-priority")
        ));
        f(format!(
            "slave_read_only:{}",
            config.get_bool("replica-read-only") as u8
        ));
        f(format!(
            "replica_announced:{}",
            config.get_bool("replica-announced") as u8
        ));
    } else {
        f("role:master".into());
    }
    f(format!("connected_slaves:{}", repl.replicas.len()));
    if config.min_replicas_to_write > 0 && config.get_i64("min-replicas-max-lag") > 0 {
        f(format!(
            "min_slaves_good_slaves:{}",
            good_replicas(state, config, now_ms)
        ));
    }
    for (i, r) in repl.replicas.values().enumerate() {
        let lag = if r.ack_time_ms > 0 {
            (now_ms - r.ack_time_ms) / 1000
        } else {
            0
        };
        let mut s = String::new();
        let _ = write!(
            s,
            "slave{i}:ip={},port={},state={},offset={},lag={}",
            r.ip, r.port, r.state, r.ack_offset, lag
        );
        f(s);
    }
    f("master_failover_state:no-failover".into());
    f(format!("master_replid:{}", repl.replid));
    f(format!("master_replid2:{}", repl.replid2));
    f(format!("master_repl_offset:{offset}"));
    f(format!("second_repl_offset:{}", repl.second_repl_offset));
    let bl = state.prop.backlog.as_ref();
    f(format!("repl_backlog_active:{}", bl.is_some() as u8));
    f(format!(
        "repl_backlog_size:{}",
        config.get_i64("repl-backlog-size")
    ));
    f(format!(
        "repl_backlog_first_byte_offset:{}",
        bl.map_or(0, |b| b.first_byte_offset())
    ));
    f(format!(
        "repl_backlog_histlen:{}",
        bl.map_or(0, |b| b.histlen())
    ));
}

/// Once per cron tick: PING replicas every repl-ping-replica-period (into the stream, as
/// Redis), wake the senders for what the cron itself fed (expired keys' DELs).
pub fn cron(
    shared: &crate::shared::Shared,
    state: &mut State,
    config: &crate::config::Config,
    now_ms: i64,
) {
    // A master without replicas frees its backlog after repl-backlog-ttl, and starts a
    // new history (Redis's replicationCron).
    if !state.repl.is_replica() && state.repl.replicas.is_empty() && state.prop.backlog.is_some() {
        let ttl = config.get_i64("repl-backlog-ttl") * 1000;
        if state.repl.no_replicas_since_ms == 0 {
            state.repl.no_replicas_since_ms = now_ms;
        } else if ttl > 0 && now_ms - state.repl.no_replicas_since_ms > ttl {
            let end = master_repl_offset(state);
            state.repl.offset_no_backlog = end;
            state.prop.backlog = None;
            state.repl.replid = random_replid();
            state.repl.replid2 = "0".repeat(40);
            state.repl.second_repl_offset = -1;
            tracing::info!(
                "Replication backlog freed after {} seconds without connected replicas.",
                ttl / 1000
            );
            return;
        }
    } else {
        state.repl.no_replicas_since_ms = 0;
    }
    let Some(bl) = state.prop.backlog.as_mut() else {
        return;
    };
    // CONFIG SET repl-backlog-size applies to the live backlog.
    bl.size = config.get_i64("repl-backlog-size").max(1) as usize;
    let end = bl.end();
    let period = config.get_i64("repl-ping-replica-period").max(1) * 1000;
    if !state.repl.is_replica()
        && !state.repl.replicas.is_empty()
        && now_ms - state.repl.last_ping_ms >= period
    {
        state.repl.last_ping_ms = now_ms;
        feed_raw(state, &[b"PING"]);
    }
    let end2 = state.prop.backlog.as_ref().map_or(end, |b| b.end());
    if *shared.repl_feed.borrow() != end2 {
        shared.repl_feed.send_replace(end2);
    }
}

/// The replica-class client-output-buffer-limit: (hard, soft, soft seconds).
pub fn replica_output_limit(config: &crate::config::Config) -> (u64, u64, u64) {
    let v = config.get("client-output-buffer-limit");
    let t: Vec<&str> = v.split_whitespace().collect();
    for w in t.chunks(4) {
        if w.len() == 4 && (w[0] == "slave" || w[0] == "replica") {
            let n = |s: &str| crate::config::memtoull(s).unwrap_or(0);
            return (n(w[1]), n(w[2]), n(w[3]));
        }
    }
    (0, 0, 0)
}
