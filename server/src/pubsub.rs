//! Pub/sub registry: channels, patterns and shard channels to subscribers.
//!
//! A publisher (running under the keyspace lock) never waits: each message goes onto the
//! subscriber's unbounded queue and its size is added to the subscriber's pending
//! bytes. The subscriber's connection task writes the queue out and subtracts what it
//! wrote. Pending bytes past `client-output-buffer-limit pubsub` (hard, or soft for longer
//! than its seconds) close the subscriber instead of growing memory, as Redis's
//! checkClientOutputBufferLimits.

use crate::client::ClientHandle;
use crate::config::Config;
use crate::config_params::{NOTIFY_KEYEVENT, NOTIFY_KEYSPACE};
use crate::db::glob::glob_match;
use ahash::AHashMap as HashMap;
use bytes::{Bytes, BytesMut};
use indexmap::{IndexMap, IndexSet};
use parking_lot::Mutex;
use rill_protocol::{encode, Reply, RespVersion};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A message on its way to one subscriber.
#[derive(Clone, Debug)]
pub struct Msg {
    /// The RESP2 array frame; RESP3 differs only in its first byte (`>` push).
    frame: Bytes,
}

/// Fixed per-message cost counted against the output buffer limit (Redis counts its
/// reply-list nodes and protocol bytes too).
const MSG_OVERHEAD: usize = 64;

impl Msg {
    /// Encodes a message once per PUBLISH; every subscriber shares the bytes.
    pub fn new(parts: &[&[u8]]) -> Msg {
        let mut out =
            BytesMut::with_capacity(16 + parts.iter().map(|p| p.len() + 16).sum::<usize>());
        let items = parts
            .iter()
            .map(|p| Reply::Bulk(Bytes::copy_from_slice(p)))
            .collect();
        encode(&Reply::Array(items), RespVersion::Resp2, &mut out);
        Msg {
            frame: out.freeze(),
        }
    }

    pub fn size(&self) -> usize {
        MSG_OVERHEAD + self.frame.len()
    }

    /// Appends the message as the client's protocol frames it.
    pub fn write_to(&self, resp: RespVersion, out: &mut BytesMut) {
        if resp == RespVersion::Resp3 {
            out.extend_from_slice(b">");
            out.extend_from_slice(&self.frame[1..]);
        } else {
            out.extend_from_slice(&self.frame);
        }
    }
}

/// The pubsub class of `client-output-buffer-limit`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    pub hard: u64,
    pub soft: u64,
    pub soft_secs: i64,
}

impl Limits {
    pub fn from_config(config: &Config) -> Limits {
        let v = config.get("client-output-buffer-limit");
        crate::config_params::parse_obuf_limits(v)
            .unwrap_or_default()
            .into_iter()
            .find(|e| e.0 == 2)
            .map(|(_, hard, soft, soft_secs)| Limits {
                hard,
                soft,
                soft_secs,
            })
            .unwrap_or(Limits {
                hard: 32 << 20,
                soft: 8 << 20,
                soft_secs: 60,
            })
    }
}

/// The registry's view of one subscribed client.
pub struct Subscriber {
    pub handle: Arc<ClientHandle>,
    tx: mpsc::UnboundedSender<Msg>,
    /// Bytes queued and not yet written to the socket.
    pub pending: AtomicUsize,
    /// When pending first went over the soft limit (unix ms; 0 = under it).
    soft_since_ms: AtomicI64,
    /// Closed for overrunning its limit: no more messages are queued.
    closed: AtomicBool,
}

impl Subscriber {
    fn deliver(&self, msg: Msg, lim: &Limits, now_ms: i64) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        let size = msg.size();
        let used = (self.pending.fetch_add(size, Ordering::Relaxed) + size) as u64;
        let mut over = lim.hard > 0 && used >= lim.hard;
        if lim.soft > 0 && used >= lim.soft {
            let since = self.soft_since_ms.load(Ordering::Relaxed);
            if since == 0 {
                self.soft_since_ms.store(now_ms.max(1), Ordering::Relaxed);
            } else if now_ms - since > lim.soft_secs * 1000 {
                over = true;
            }
        } else {
            self.soft_since_ms.store(0, Ordering::Relaxed);
        }
        if over {
            self.closed.store(true, Ordering::Relaxed);
            self.pending.fetch_sub(size, Ordering::Relaxed);
            tracing::warn!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                self.handle.id,
                self.handle.addr
            );
            self.handle.kill();
            return;
        }
        // The receiver is gone only when the connection ended; nothing to do then.
        let _ = self.tx.send(msg);
    }

    /// The connection wrote `n` bytes' worth of messages.
    pub fn written(&self, n: usize) {
        let before = self.pending.fetch_sub(n, Ordering::Relaxed);
        if before < n {
            self.pending.store(0, Ordering::Relaxed);
        }
    }
}

/// A client's subscriptions (owned by its connection).
pub struct ClientSubs {
    pub sub: Arc<Subscriber>,
    pub rx: mpsc::UnboundedReceiver<Msg>,
    pub channels: IndexSet<Bytes>,
    pub patterns: IndexSet<Bytes>,
    pub shard: IndexSet<Bytes>,
}

impl ClientSubs {
    pub fn new(handle: Arc<ClientHandle>) -> ClientSubs {
        let (tx, rx) = mpsc::unbounded_channel();
        ClientSubs {
            sub: Arc::new(Subscriber {
                handle,
                tx,
                pending: AtomicUsize::new(0),
                soft_since_ms: AtomicI64::new(0),
                closed: AtomicBool::new(false),
            }),
            rx,
            channels: IndexSet::new(),
            patterns: IndexSet::new(),
            shard: IndexSet::new(),
        }
    }

    /// Channels + patterns: the count (UN)SUBSCRIBE replies report.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    pub fn total(&self) -> usize {
        self.count() + self.shard.len()
    }

    /// Publishes counts and the P flag to CLIENT LIST.
    pub fn sync_info(&self) {
        let mut i = self.sub.handle.info.lock();
        i.sub = self.channels.len();
        i.psub = self.patterns.len();
        i.ssub = self.shard.len();
        let subscribed = self.total() > 0;
        if subscribed && !i.flags.contains('P') {
            i.flags.push('P');
        } else if !subscribed {
            i.flags.retain(|c| c != 'P');
        }
    }
}

type Subs = IndexMap<u64, Arc<Subscriber>>;

#[derive(Default)]
struct Registry {
    channels: HashMap<Bytes, Subs>,
    patterns: IndexMap<Bytes, Subs>,
    shard: HashMap<Bytes, Subs>,
    limits: Option<(Arc<Config>, Limits)>,
}

/// Which namespace a subscription lives in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

#[derive(Default)]
pub struct PubSub {
    inner: Mutex<Registry>,
}

impl Registry {
    fn map(&mut self, kind: Kind) -> &mut dyn MapLike {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    fn limits(&mut self, config: &Arc<Config>) -> Limits {
        if let Some((c, l)) = &self.limits {
            if Arc::ptr_eq(c, config) {
                return *l;
            }
        }
        let l = Limits::from_config(config);
        self.limits = Some((config.clone(), l));
        l
    }
}

/// The operations shared by the hash map (channels) and the ordered map (patterns).
trait MapLike {
    fn add_sub(&mut self, name: &Bytes, s: &Arc<Subscriber>);
    fn remove_sub(&mut self, name: &[u8], id: u64);
}

impl MapLike for HashMap<Bytes, Subs> {
    fn add_sub(&mut self, name: &Bytes, s: &Arc<Subscriber>) {
        self.entry(name.clone())
            .or_default()
            .insert(s.handle.id, s.clone());
    }
    fn remove_sub(&mut self, name: &[u8], id: u64) {
        if let Some(m) = self.get_mut(name) {
            m.shift_remove(&id);
            if m.is_empty() {
                self.remove(name);
            }
        }
    }
}

impl MapLike for IndexMap<Bytes, Subs> {
    fn add_sub(&mut self, name: &Bytes, s: &Arc<Subscriber>) {
        self.entry(name.clone())
            .or_default()
            .insert(s.handle.id, s.clone());
    }
    fn remove_sub(&mut self, name: &[u8], id: u64) {
        if let Some(m) = self.get_mut(name) {
            m.shift_remove(&id);
            if m.is_empty() {
                self.shift_remove(name);
            }
        }
    }
}

impl PubSub {
    pub fn subscribe(&self, kind: Kind, name: &Bytes, s: &Arc<Subscriber>) {
        self.inner.lock().map(kind).add_sub(name, s);
    }

    pub fn unsubscribe(&self, kind: Kind, name: &[u8], id: u64) {
        self.inner.lock().map(kind).remove_sub(name, id);
    }

    /// Drops every subscription of a closing client.
    pub fn remove_client(&self, subs: &ClientSubs) {
        let id = subs.sub.handle.id;
        let mut r = self.inner.lock();
        for c in &subs.channels {
            r.channels.remove_sub(&c[..], id);
        }
        for p in &subs.patterns {
            r.patterns.remove_sub(&p[..], id);
        }
        for c in &subs.shard {
            r.shard.remove_sub(&c[..], id);
        }
    }

    /// PUBLISH / SPUBLISH: queues the message for every receiver and returns how many.
    pub fn publish(
        &self,
        shard: bool,
        channel: &Bytes,
        payload: &Bytes,
        config: &Arc<Config>,
        now_ms: i64,
    ) -> usize {
        let mut r = self.inner.lock();
        let lim = r.limits(config);
        let mut n = 0;
        if shard {
            if let Some(subs) = r.shard.get(&channel[..]) {
                let msg = Msg::new(&[b"smessage", channel, payload]);
                for s in subs.values() {
                    s.deliver(msg.clone(), &lim, now_ms);
                    n += 1;
                }
            }
            return n;
        }
        if let Some(subs) = r.channels.get(&channel[..]) {
            let msg = Msg::new(&[b"message", channel, payload]);
            for s in subs.values() {
                s.deliver(msg.clone(), &lim, now_ms);
                n += 1;
            }
        }
        for (pat, subs) in r.patterns.iter() {
            if glob_match(pat, channel, false) {
                let msg = Msg::new(&[b"pmessage", pat, channel, payload]);
                for s in subs.values() {
                    s.deliver(msg.clone(), &lim, now_ms);
                    n += 1;
                }
            }
        }
        n
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS.
    pub fn channels(&self, shard: bool, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let r = self.inner.lock();
        let m = if shard { &r.shard } else { &r.channels };
        m.keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB for one channel.
    pub fn numsub(&self, shard: bool, channel: &[u8]) -> usize {
        let r = self.inner.lock();
        let m = if shard { &r.shard } else { &r.channels };
        m.get(channel).map_or(0, |s| s.len())
    }

    /// PUBSUB NUMPAT: patterns with at least one subscriber.
    pub fn numpat(&self) -> usize {
        self.inner.lock().patterns.len()
    }
}

/// Redis's notifyKeyspaceEvent: `__keyspace@<db>__:<key>` carries the event,
/// `__keyevent@<db>__:<event>` carries the key.
pub fn notify_keyspace(
    ps: &PubSub,
    config: &Arc<Config>,
    class: u32,
    event: &str,
    db: usize,
    key: &[u8],
    now_ms: i64,
) {
    let flags = config.notify_keyspace_events;
    if flags & class == 0 {
        return;
    }
    if flags & NOTIFY_KEYSPACE != 0 {
        let mut chan = format!("__keyspace@{db}__:").into_bytes();
        chan.extend_from_slice(key);
        ps.publish(
            false,
            &Bytes::from(chan),
            &Bytes::copy_from_slice(event.as_bytes()),
            config,
            now_ms,
        );
    }
    if flags & NOTIFY_KEYEVENT != 0 {
        let chan = Bytes::from(format!("__keyevent@{db}__:{event}"));
        ps.publish(false, &chan, &Bytes::copy_from_slice(key), config, now_ms);
    }
}
