//! Blocking commands (Redis's blocking.c): BLPOP and friends, BZPOPMIN, BZMPOP, XREAD
//! BLOCK.
//!
//! A handler that finds nothing to serve calls [`block`]: the command's reply is not sent
//! and `conn.rs` parks the client in the [`Registry`] (kept in the keyspace `State`), one
//! FIFO queue per (db, key). After every batch that ran while someone is blocked,
//! [`Registry::wake_ready`] checks the blocked keys: a list or zset key that holds data
//! wakes the first waiter in its queue (the next one is woken after that waiter ran, so
//! waiters are served in Redis's order), a stream with a newer entry wakes all its
//! readers. A woken client re-runs its command; if the data is gone it blocks again in
//! its old place. Any write path (push, RENAME, MOVE, RESTORE, SWAPDB, ...) is covered, as
//! the check looks at the keyspace itself, and the normal path costs one `is_empty`.
//!
//! TFETCH BLOCK waits on a topic partition instead ([`BlockKind::Topic`], no keys): its
//! records arrive from Kafka Produce on other tasks, outside any keyspace batch, so
//! [`wait`] also awaits the partition's `appended` Notify (registered before the hw is
//! re-checked, so an append in between is not lost) and re-runs the command when it fires.

use crate::broker::registry::PartitionLog;
use crate::client::{ClientHandle, ClientState};
use crate::cmd::{CmdError, CmdResult, Ctx};
use crate::db::stream::StreamId;
use crate::db::{Store, Value};
use crate::shared::{Shared, State};
use bytes::{Bytes, BytesMut};
use rill_protocol::Reply;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// What a blocked command waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    List,
    Zset,
    Stream,
    /// TFETCH BLOCK: a topic partition's hw passing an offset ([`TopicWait`]).
    Topic,
}

/// What a TFETCH BLOCK waits for: a record at or after `offset` in `log`.
#[derive(Clone)]
pub struct TopicWait {
    pub log: Arc<PartitionLog>,
    /// Ready once the hw is above this offset.
    pub offset: i64,
}

impl TopicWait {
    /// A record at or after `offset` is readable, or the log is gone (deleted or closed:
    /// the re-run command answers the error).
    fn ready(&self) -> bool {
        let state = self.log.state.lock();
        state.log.as_ref().is_none_or(|l| l.hw() > self.offset)
    }
}

/// Set in `ClientState::blocked` by a handler that must wait.
#[derive(Debug)]
pub struct BlockedOn {
    pub kind: BlockKind,
    pub keys: Vec<Bytes>,
    /// Streams: a key is ready once it holds an entry above this ID (one per key).
    pub stream_ids: Vec<StreamId>,
    /// Unix ms; `None` waits forever.
    pub deadline_ms: Option<i64>,
    /// What the command answers on timeout (and CLIENT UNBLOCK ... TIMEOUT).
    pub timeout_reply: Reply,
    /// The command to re-run when woken, when it differs from the original (XREAD `$`).
    pub retry_argv: Option<Vec<Bytes>>,
    /// XREADGROUP's group: deleting the stream or the group ends the wait with an error.
    pub group: Option<Bytes>,
}

/// Why a wait ended early: CLIENT UNBLOCK's mode, or XREADGROUP losing its stream/group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unblock {
    Timeout,
    Error,
    StreamDeleted,
    GroupDeleted,
}

impl Unblock {
    /// The error reply, `None` for TIMEOUT (the command's timeout reply).
    pub fn error_text(self) -> Option<&'static str> {
        match self {
            Unblock::Timeout => None,
            Unblock::Error => Some("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
            Unblock::StreamDeleted => Some("UNBLOCKED the stream key no longer exists"),
            Unblock::GroupDeleted => {
                Some("NOGROUP the consumer group this client was blocked on no longer exists")
            }
        }
    }
}

struct Waiter {
    db: usize,
    kind: BlockKind,
    keys: Vec<Bytes>,
    stream_ids: Vec<StreamId>,
    group: Option<Bytes>,
    handle: Arc<ClientHandle>,
    woken: bool,
    unblock: Option<Unblock>,
    /// Blocked with a timeout (Redis keeps these in its timeout table).
    timed: bool,
    /// TFETCH BLOCK's partition.
    topic: Option<TopicWait>,
}

/// The blocked clients, by client id and by (db, key) in arrival order.
#[derive(Default)]
pub struct Registry {
    keys: HashMap<(usize, Bytes), VecDeque<u64>>,
    waiters: HashMap<u64, Waiter>,
    /// Set by [`block_topic`] during the handler, taken by [`Registry::register`] right
    /// after it in the same batch (BlockedOn stays a plain description of keys).
    pending_topic: HashMap<u64, TopicWait>,
}

impl Registry {
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Blocked clients (INFO `blocked_clients`).
    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// Blocked clients with a timeout (INFO `clients_in_timeout_table`).
    pub fn timed_len(&self) -> usize {
        self.waiters.values().filter(|w| w.timed).count()
    }

    pub fn contains(&self, id: u64) -> bool {
        self.waiters.contains_key(&id)
    }

    /// Parks a client; a client already parked (blocking again after a wake) keeps its
    /// place in the queues.
    pub fn register(&mut self, handle: &Arc<ClientHandle>, db: usize, b: &BlockedOn) {
        let id = handle.id;
        let topic = self.pending_topic.remove(&id);
        if let Some(w) = self.waiters.get_mut(&id) {
            if w.db == db && w.keys == b.keys {
                w.woken = false;
                w.timed = b.deadline_ms.is_some();
                w.kind = b.kind;
                w.stream_ids = b.stream_ids.clone();
                w.topic = topic;
                return;
            }
            self.remove(id);
        }
        let mut keys: Vec<Bytes> = Vec::with_capacity(b.keys.len());
        for k in &b.keys {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        for k in &keys {
            self.keys.entry((db, k.clone())).or_default().push_back(id);
        }
        self.waiters.insert(
            id,
            Waiter {
                db,
                kind: b.kind,
                keys: b.keys.clone(),
                stream_ids: b.stream_ids.clone(),
                group: b.group.clone(),
                handle: handle.clone(),
                woken: false,
                unblock: None,
                timed: b.deadline_ms.is_some(),
                topic,
            },
        );
    }

    /// The partition a parked TFETCH BLOCK waits on.
    pub fn topic_wait(&self, id: u64) -> Option<TopicWait> {
        self.waiters.get(&id).and_then(|w| w.topic.clone())
    }

    /// Unparks a client; returns its CLIENT UNBLOCK mode if one was requested.
    pub fn remove(&mut self, id: u64) -> Option<Unblock> {
        self.pending_topic.remove(&id);
        let w = self.waiters.remove(&id)?;
        for k in &w.keys {
            let slot = (w.db, k.clone());
            if let Some(q) = self.keys.get_mut(&slot) {
                q.retain(|&c| c != id);
                if q.is_empty() {
                    self.keys.remove(&slot);
                }
            }
        }
        w.unblock
    }

    /// The CLIENT UNBLOCK mode requested for a parked client.
    pub fn unblock_mode(&self, id: u64) -> Option<Unblock> {
        self.waiters.get(&id).and_then(|w| w.unblock)
    }

    /// CLIENT UNBLOCK: false if the client is not blocked.
    pub fn unblock(&mut self, id: u64, mode: Unblock) -> bool {
        match self.waiters.get_mut(&id) {
            Some(w) if w.unblock.is_none() => {
                w.unblock = Some(mode);
                w.handle.wake.notify_one();
                true
            }
            _ => false,
        }
    }

    /// Wakes the waiters whose keys are ready (Redis's handleClientsBlockedOnKeys).
    pub fn wake_ready(&mut self, store: &mut Store) {
        let Registry { keys, waiters, .. } = self;
        for ((db, key), queue) in keys.iter() {
            let Some(d) = store.dbs.get_mut(*db) else {
                continue;
            };
            let entry = d.peek(key);
            for id in queue {
                let Some(w) = waiters.get_mut(id) else {
                    continue;
                };
                // XREADGROUP: the stream or the group went away (signalDeletedKeyAsReady).
                if let Some(g) = &w.group {
                    let gone = match entry.map(|e| &e.value) {
                        Some(Value::Stream(s)) => {
                            (!s.groups.contains_key(&g[..])).then_some(Unblock::GroupDeleted)
                        }
                        _ => Some(Unblock::StreamDeleted),
                    };
                    if let Some(why) = gone {
                        if w.unblock.is_none() {
                            w.unblock = Some(why);
                            w.handle.wake.notify_one();
                        }
                        continue;
                    }
                }
                let Some(entry) = entry else {
                    continue;
                };
                let ready = match (&entry.value, w.kind) {
                    (Value::List(l), BlockKind::List) => !l.is_empty(),
                    (Value::ZSet(z), BlockKind::Zset) => !z.is_empty(),
                    (Value::Stream(s), BlockKind::Stream) => {
                        let after = w
                            .keys
                            .iter()
                            .position(|k| k == key)
                            .and_then(|i| w.stream_ids.get(i).copied())
                            .unwrap_or(StreamId::MIN);
                        s.length > 0 && s.edge_id(true).is_some_and(|id| id > after)
                    }
                    _ => false,
                };
                if !ready {
                    continue;
                }
                if !w.woken {
                    w.woken = true;
                    w.handle.wake.notify_one();
                }
                // Lists and zsets: the first waiter runs before the next is considered.
                if w.kind != BlockKind::Stream {
                    break;
                }
            }
        }
    }
}

/// Called by a blocking handler that found nothing to serve. Inside EXEC (Redis's
/// CLIENT_DENY_BLOCKING) answers the timeout reply at once; otherwise records the block,
/// and the placeholder reply returned is not sent.
pub fn block(ctx: &mut Ctx, b: BlockedOn) -> CmdResult {
    if ctx.client.in_exec {
        return Ok(b.timeout_reply);
    }
    ctx.client.blocked = Some(Box::new(b));
    Ok(Reply::Null)
}

/// [`block`] for TFETCH BLOCK: `b.kind` is [`BlockKind::Topic`] with no keys, and the
/// client is woken by `topic`'s appends (see [`wait`]) rather than by the keyspace.
pub fn block_topic(ctx: &mut Ctx, b: BlockedOn, topic: TopicWait) -> CmdResult {
    if ctx.client.in_exec {
        return Ok(b.timeout_reply);
    }
    ctx.state
        .blocking
        .pending_topic
        .insert(ctx.client.id, topic);
    block(ctx, b)
}

/// getTimeoutFromObjectOrReply in milliseconds (XREAD BLOCK, TFETCH BLOCK): the
/// timeout, checked but not yet a deadline.
pub fn timeout_ms(arg: &[u8]) -> Result<i64, CmdError> {
    let t = rill_protocol::fmt::parse_i64(arg)
        .ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if t < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    Ok(t)
}

/// getTimeoutFromObjectOrReply in seconds (decimals allowed): the deadline in unix ms,
/// `None` for 0 (forever).
pub fn timeout_secs(arg: &[u8], now_ms: i64) -> Result<Option<i64>, CmdError> {
    let bad = || CmdError::err("timeout is not a float or out of range");
    let s = std::str::from_utf8(arg).map_err(|_| bad())?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return Err(bad());
    }
    let t: f64 = s.parse().map_err(|_| bad())?;
    if t.is_nan() {
        return Err(bad());
    }
    let ms = (t * 1000.0).ceil();
    // Redis 7.0 casts to long long: an overflow (inf, 1e20) wraps negative.
    if !(ms >= i64::MIN as f64 && ms < i64::MAX as f64) {
        return Err(CmdError::err("timeout is negative"));
    }
    deadline(ms as i64, now_ms)
}

/// A timeout in ms (already parsed) to a deadline, with Redis's checks.
pub fn deadline(ms: i64, now_ms: i64) -> Result<Option<i64>, CmdError> {
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    if ms == 0 {
        return Ok(None);
    }
    Ok(Some(ms.saturating_add(now_ms)))
}

/// How a blocked client's wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// A key may be ready: re-run the command.
    Woken,
    Timeout,
    Unblocked(Unblock),
    /// Disconnected or killed.
    Gone,
}

/// Waits, without the keyspace lock, until the parked client is woken, times out, is
/// unblocked or goes away. Bytes the client sends meanwhile stay in `rbuf` (Redis keeps
/// reading a blocked client's query buffer too), so a disconnect is noticed. A
/// [`BlockKind::Topic`] waiter is also woken by an append to its partition, from either
/// face.
pub async fn wait(
    shared: &Shared,
    stream: &mut TcpStream,
    rbuf: &mut BytesMut,
    client: &ClientState,
    kind: BlockKind,
    deadline_ms: Option<i64>,
) -> Wait {
    let handle = client.handle.clone();
    let topic = if kind == BlockKind::Topic {
        shared.state.lock().blocking.topic_wait(client.id)
    } else {
        None
    };
    // Enabled before the hw is re-checked: notify_waiters only wakes registered futures,
    // and an append between the handler's read and this point must not be missed.
    let mut appended = topic.as_ref().map(|t| Box::pin(t.log.appended.notified()));
    if let (Some(t), Some(n)) = (&topic, appended.as_mut()) {
        n.as_mut().enable();
        if t.ready() {
            return Wait::Woken;
        }
    }
    loop {
        if handle.killed.load(Ordering::Relaxed) {
            return Wait::Gone;
        }
        let limit = shared.config().client_query_buffer_limit;
        if rbuf.len() as u64 > limit {
            return Wait::Gone;
        }
        let sleep = async {
            match deadline_ms {
                None => std::future::pending::<()>().await,
                Some(d) => {
                    let ms = d.saturating_sub(crate::util::now_ms()).max(0) as u64;
                    tokio::time::sleep(Duration::from_millis(ms)).await
                }
            }
        };
        if rbuf.capacity() - rbuf.len() < 1024 {
            rbuf.reserve(16 * 1024);
        }
        tokio::select! {
            _ = handle.wake.notified() => {
                let st = shared.state.lock();
                return match st.blocking.unblock_mode(client.id) {
                    Some(m) => Wait::Unblocked(m),
                    None => Wait::Woken,
                };
            }
            _ = sleep => return Wait::Timeout,
            _ = async {
                match appended.as_mut() {
                    Some(n) => n.as_mut().await,
                    None => std::future::pending().await,
                }
            } => return Wait::Woken,
            _ = handle.kill.notified() => return Wait::Gone,
            r = stream.read_buf(rbuf) => match r {
                Ok(0) | Err(_) => return Wait::Gone,
                Ok(n) => {
                    shared
                        .stats
                        .total_net_input_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
            },
        }
    }
}

/// Unparks a client whose wait ended without serving it (timeout, CLIENT UNBLOCK);
/// returns its CLIENT UNBLOCK mode. The command counts as called, and as failed when
/// unblocked (Redis's updateStatsOnUnblock).
pub fn finish(shared: &Shared, id: u64, argv: &[Bytes]) -> Option<Unblock> {
    let mut guard = shared.state.lock();
    let mode = guard.blocking.unblock_mode(id);
    if let Some(reg) = argv.first().and_then(|name| crate::cmd::lookup(name)) {
        let st = guard.cmdstat(reg.id);
        st.calls += 1;
        if mode.is_some() {
            st.failed_calls += 1;
        }
        guard.total_commands += 1;
    }
    finish_locked(shared, &mut guard, id);
    mode
}

/// A closing connection leaves the registry (and passes its turn on).
pub fn forget(shared: &Shared, id: u64) {
    let mut guard = shared.state.lock();
    let st = &mut *guard;
    if st.blocking.contains(id) {
        finish_locked(shared, st, id);
    }
}

fn finish_locked(shared: &Shared, st: &mut State, id: u64) {
    st.blocking.remove(id);
    st.blocking.wake_ready(&mut st.store);
    shared
        .blocked_clients
        .store(st.blocking.len(), Ordering::Relaxed);
}

/// End of a batch while someone is blocked: a client whose retried command completed
/// leaves the registry, and ready keys wake their waiters.
pub fn after_batch(shared: &Shared, st: &mut State, client: &ClientState) {
    if client.blocked.is_none() {
        st.blocking.remove(client.id);
    }
    st.blocking.wake_ready(&mut st.store);
    shared
        .blocked_clients
        .store(st.blocking.len(), Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_parsing_matches_redis() {
        assert_eq!(timeout_secs(b"0", 1000), Ok(None));
        assert_eq!(timeout_secs(b"1.5", 1000), Ok(Some(2500)));
        assert_eq!(timeout_secs(b".0001", 1000), Ok(Some(1001)));
        // ceil(-0.1 ms) is 0: forever, as in Redis.
        assert_eq!(timeout_secs(b"-0.0001", 1000), Ok(None));
        let neg = Err(CmdError::err("timeout is negative"));
        assert_eq!(timeout_secs(b"-1", 0), neg);
        assert_eq!(timeout_secs(b"inf", 0), neg);
        assert_eq!(timeout_secs(b"1e20", 0), neg);
        let bad = Err(CmdError::err("timeout is not a float or out of range"));
        for arg in [&b"abc"[..], b"", b" 1", b"1 ", b"nan", b"\xff"] {
            assert_eq!(timeout_secs(arg, 0), bad, "{arg:?}");
        }
        assert_eq!(deadline(i64::MAX, 5), Ok(Some(i64::MAX)));
    }

    fn on(keys: &[&str]) -> BlockedOn {
        BlockedOn {
            kind: BlockKind::List,
            keys: keys.iter().map(|k| Bytes::from(k.to_string())).collect(),
            stream_ids: Vec::new(),
            deadline_ms: None,
            timeout_reply: Reply::NullArray,
            retry_argv: None,
            group: None,
        }
    }

    #[test]
    fn registry_keeps_fifo_queues_and_unblocks_once() {
        let shared = Shared::new(crate::config::Config::default());
        let handles: Vec<Arc<ClientHandle>> = (0..3)
            .map(|_| {
                let addr = "127.0.0.1:1".parse().unwrap();
                ClientState::new(&shared, addr, addr).handle
            })
            .collect();
        let mut r = Registry::default();
        r.register(&handles[0], 0, &on(&["a", "b"]));
        r.register(&handles[1], 0, &on(&["a"]));
        r.register(&handles[2], 0, &on(&["a", "a"]));
        assert_eq!(r.len(), 3);
        let q: Vec<u64> = r.keys[&(0, Bytes::from("a"))].iter().copied().collect();
        let ids: Vec<u64> = handles.iter().map(|h| h.id).collect();
        assert_eq!(q, ids, "arrival order, a repeated key queued once");
        // Re-blocking after a wake keeps the place.
        r.register(&handles[0], 0, &on(&["a", "b"]));
        assert_eq!(r.keys[&(0, Bytes::from("a"))].front(), Some(&ids[0]));
        assert!(r.unblock(ids[1], Unblock::Error));
        assert!(!r.unblock(ids[1], Unblock::Timeout), "already unblocked");
        assert_eq!(r.remove(ids[1]), Some(Unblock::Error));
        assert_eq!(r.remove(ids[0]), None);
        assert!(!r.keys.contains_key(&(0, Bytes::from("b"))));
        assert!(!r.unblock(ids[0], Unblock::Timeout), "not blocked");
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn topic_waiters_have_no_keys_and_follow_their_partition() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut topics = crate::broker::registry::Registry::default();
        topics
            .load(&dir.path().join("topics"), Default::default())
            .expect("load");
        let log = topics.create("t", 1).expect("create").logs[0].clone();
        let shared = Shared::new(crate::config::Config::default());
        let addr = "127.0.0.1:1".parse().unwrap();
        let handle = ClientState::new(&shared, addr, addr).handle;
        let mut r = Registry::default();
        // Parked on a list first (a BLPOP earlier in the batch), then on the topic.
        r.register(&handle, 0, &on(&["q"]));
        let wait = TopicWait {
            log: log.clone(),
            offset: 0,
        };
        r.pending_topic.insert(handle.id, wait.clone());
        let mut b = on(&[]);
        b.kind = BlockKind::Topic;
        r.register(&handle, 0, &b);
        assert!(r.pending_topic.is_empty());
        assert!(r.keys.is_empty(), "no keyspace queue for a topic waiter");
        assert_eq!(r.topic_wait(handle.id).map(|t| t.offset), Some(0));
        assert_eq!(r.len(), 1);
        // Ready once a record is appended, and once the log is gone.
        assert!(!wait.ready());
        {
            let mut st = log.state.lock();
            let p = st.log.as_mut().expect("open");
            let v = Bytes::from_static(b"v");
            let mut batch =
                rill_storage::log::batch::encode_batch(&[rill_storage::log::batch::NewRecord {
                    timestamp: 0,
                    key: None,
                    value: Some(&v),
                }]);
            crate::broker::produce::append_locked(p, &mut batch, 0).expect("append");
        }
        assert!(wait.ready());
        let later = TopicWait { log, offset: 1 };
        assert!(!later.ready());
        topics.delete("t");
        assert!(later.ready(), "a deleted partition ends the wait");
        // Leaving (served, timed out, disconnected) drops everything about the client.
        r.pending_topic.insert(handle.id, later);
        assert_eq!(r.remove(handle.id), None);
        assert!(r.pending_topic.is_empty() && r.is_empty());
    }
}
