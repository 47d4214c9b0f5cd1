//! The keyspace and its data structures. Nothing here knows argv or replies.
//!
//! - [`sbytes::SBytes`]: inline-or-heap byte string used for keys, values, members.
//! - [`Db`]: one numbered database: `keys` (key -> [`Entry`]) and `expires`
//!   (key -> unix ms), both `IndexMap`s so random sampling (eviction, active expiry,
//!   RANDOMKEY) is O(1) and SCAN can walk indexes (see [`Db::scan`]).
//! - [`Store`]: every database plus the counters that live under the keyspace lock.
//! - `list`, `set`, `hash`, `zset`, `stream`: the collection types.
//! - `hll`: HyperLogLog in Redis's dense/sparse string representation.
//! - `glob`: Redis's `stringmatchlen`.
//! - `ld80`: x87 `long double` arithmetic for INCRBYFLOAT and HINCRBYFLOAT.

pub mod geohash;
pub mod glob;
pub mod hash;
pub mod hll;
pub mod ld80;
pub mod list;
pub mod sbytes;
pub mod set;
pub mod stream;
pub mod zset;

use ahash::RandomState;
use indexmap::IndexMap;
use rand::Rng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use sbytes::SBytes;

/// Keys are binary-safe byte strings.
pub type Key = SBytes;

/// A stored value. Collections are boxed so a string entry stays small.
#[derive(Clone, Debug)]
pub enum Value {
    Str(SBytes),
    List(Box<list::List>),
    Set(Box<set::Set>),
    Hash(Box<hash::Hash>),
    ZSet(Box<zset::ZSet>),
    Stream(Box<stream::Stream>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Hash(_) => "hash",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }
}

/// Entry flag: the key also has a row in `Db::expires`.
pub const ENTRY_HAS_EXPIRE: u32 = 1;

/// A key's value plus its access metadata (`lru`: LRU clock in seconds, or LFU
/// `ldt << 8 | counter`, as Redis keeps in `robj.lru`).
#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    pub lru: u32,
    pub flags: u32,
}

/// How key access is recorded, from maxmemory-policy and the lfu-* parameters.
#[derive(Clone, Copy, Debug)]
pub struct AccessClock {
    /// Seconds clock, 24 bits, as Redis's LRU_CLOCK.
    pub lru_clock: u32,
    /// Minutes clock, 16 bits, for LFU decay.
    pub lfu_minutes: u32,
    pub lfu: bool,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// A fork child is writing a snapshot: accesses are not recorded, so reads do not
    /// dirty pages the child shares (Redis skips the update while a child is active).
    pub frozen: bool,
}

impl Default for AccessClock {
    fn default() -> Self {
        AccessClock {
            lru_clock: 0,
            lfu_minutes: 0,
            lfu: false,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            frozen: false,
        }
    }
}

pub const LFU_INIT_VAL: u32 = 5;
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

impl AccessClock {
    pub fn from_ms(now_ms: i64) -> AccessClock {
        AccessClock {
            lru_clock: ((now_ms / 1000) as u64 & LRU_CLOCK_MAX as u64) as u32,
            lfu_minutes: ((now_ms / 60000) as u64 & 0xFFFF) as u32,
            ..Default::default()
        }
    }

    /// Metadata for a freshly created key.
    pub fn initial(&self) -> u32 {
        if self.lfu {
            (self.lfu_minutes << 8) | LFU_INIT_VAL
        } else {
            self.lru_clock
        }
    }

    /// Seconds since `lru` was last touched (OBJECT IDLETIME, LRU eviction).
    pub fn idle_secs(&self, lru: u32) -> u64 {
        if self.lru_clock >= lru {
            (self.lru_clock - lru) as u64
        } else {
            (self.lru_clock as u64 + LRU_CLOCK_MAX as u64) - lru as u64
        }
    }

    /// LFU counter after decay (Redis's LFUDecrAndReturn).
    pub fn lfu_decayed(&self, lru: u32) -> u32 {
        let ldt = lru >> 8;
        let counter = lru & 255;
        let elapsed = if self.lfu_minutes >= ldt {
            self.lfu_minutes - ldt
        } else {
            65535 - ldt + self.lfu_minutes
        };
        let periods = elapsed.checked_div(self.lfu_decay_time).unwrap_or(0);
        counter.saturating_sub(periods)
    }

    /// Records an access to an entry.
    pub fn touch(&self, lru: &mut u32) {
        if self.frozen {
            return;
        }
        if self.lfu {
            let mut counter = self.lfu_decayed(*lru);
            // LFULogIncr
            if counter < 255 {
                let r: f64 = rand::thread_rng().gen();
                let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
                let p = 1.0 / (base * self.lfu_log_factor as f64 + 1.0);
                if r < p {
                    counter += 1;
                }
            }
            *lru = (self.lfu_minutes << 8) | counter;
        } else {
            *lru = self.lru_clock;
        }
    }
}

/// One client's WATCH on one key (Redis's `watchedKey`).
#[derive(Debug)]
pub struct Watcher {
    pub client: u64,
    /// The client's CLIENT_DIRTY_CAS flag, shared by all of its watches; set when a
    /// watched key is touched, read by EXEC and CLIENT LIST (flag `d`).
    pub dirty: Arc<AtomicBool>,
    /// The key was already logically expired when WATCH ran: its deletion is then no
    /// change (Redis 7.0's `wk->expired`).
    pub expired: bool,
}

/// Keys waiting in any `Db::expired_keys` of the process: the check after every command
/// skips walking all databases (16 cache lines) when nothing expired.
static EXPIRED_PENDING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether some database may hold lazily expired keys not yet announced.
pub fn expired_pending() -> bool {
    EXPIRED_PENDING.load(std::sync::atomic::Ordering::Relaxed) != 0
}

/// One numbered database.
#[derive(Default)]
pub struct Db {
    pub keys: IndexMap<Key, Entry, RandomState>,
    pub expires: IndexMap<Key, i64, RandomState>,
    /// Current time for this command (unix ms); set by [`Store::begin`].
    pub now_ms: i64,
    pub clock: AccessClock,
    /// Replicas hide expired keys but do not delete them (set by replication).
    pub no_lazy_delete: bool,
    pub stat_hits: u64,
    pub stat_misses: u64,
    pub stat_expired: u64,
    /// Keys that expired during the current command, for propagation as DEL
    /// (`take_expired`).
    expired_keys: Vec<Key>,
    /// While the AOF replays nothing expires (Redis's expireIfNeeded during loading):
    /// the stream carries the deletions.
    pub loading: bool,
    /// Clients watching each key (WATCH), as Redis's `db->watched_keys`. A key leaves the
    /// map when its last watcher unwatches, so the map only holds live watches.
    pub watched: std::collections::HashMap<Key, Vec<Watcher>, RandomState>,
    /// Running estimate of the average TTL, for INFO keyspace's avg_ttl.
    pub avg_ttl: i64,
}

impl Drop for Db {
    fn drop(&mut self) {
        EXPIRED_PENDING.fetch_sub(
            self.expired_keys.len(),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

impl Db {
    pub fn new() -> Db {
        Db::default()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn is_expired(&self, key: &[u8]) -> bool {
        if self.loading {
            return false;
        }
        match self.expires.get(key) {
            Some(&t) => t <= self.now_ms,
            None => false,
        }
    }

    /// Deletes `key` if its TTL has passed. True if the key is (now) logically gone.
    pub fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        if !self.is_expired(key) {
            return false;
        }
        if self.no_lazy_delete {
            return true;
        }
        self.delete_expired(key);
        true
    }

    /// The keys expired since the last call, for propagation and notification.
    pub fn take_expired(&mut self) -> Vec<Key> {
        let keys = std::mem::take(&mut self.expired_keys);
        EXPIRED_PENDING.fetch_sub(keys.len(), std::sync::atomic::Ordering::Relaxed);
        keys
    }

    fn delete_expired(&mut self, key: &[u8]) {
        if let Some((k, _)) = self.keys.swap_remove_entry(key) {
            self.expires.swap_remove(key);
            self.shrink_if_sparse();
            self.stat_expired += 1;
            self.signal_modified(key);
            self.expired_keys.push(k);
            EXPIRED_PENDING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Index of a live key, expiring it first if due.
    fn live_index(&mut self, key: &[u8]) -> Option<usize> {
        let (idx, _, e) = self.keys.get_full(key)?;
        if e.flags & ENTRY_HAS_EXPIRE != 0 && self.expire_if_needed(key) {
            return None;
        }
        Some(idx)
    }

    /// Read lookup (lookupKeyRead): counts a hit or miss and records the access.
    pub fn get(&mut self, key: &[u8]) -> Option<&mut Entry> {
        match self.live_index(key) {
            Some(idx) => {
                self.stat_hits += 1;
                let clock = self.clock;
                let e = &mut self.keys[idx];
                clock.touch(&mut e.lru);
                Some(e)
            }
            None => {
                self.stat_misses += 1;
                None
            }
        }
    }

    /// Write lookup (lookupKeyWrite): no hit/miss stats.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let idx = self.live_index(key)?;
        let clock = self.clock;
        let e = &mut self.keys[idx];
        clock.touch(&mut e.lru);
        Some(e)
    }

    /// Lookup that neither counts nor touches (TYPE-like introspection, OBJECT).
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        let idx = self.live_index(key)?;
        Some(&self.keys[idx])
    }

    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.live_index(key).is_some()
    }

    /// Stores `value` at `key`. With `keep_ttl` false any TTL is removed (as SET does).
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        if !self.expires.is_empty() {
            self.expire_if_needed(key);
        }
        let initial = self.clock.initial();
        reserve_for_insert(&mut self.keys);
        // One hash and probe for both the update and the insert case.
        match self.keys.entry(Key::new(key)) {
            indexmap::map::Entry::Occupied(mut o) => {
                let e = o.get_mut();
                e.value = value;
                self.clock.touch(&mut e.lru);
                if !keep_ttl && e.flags & ENTRY_HAS_EXPIRE != 0 {
                    e.flags &= !ENTRY_HAS_EXPIRE;
                    self.expires.swap_remove(key);
                }
            }
            indexmap::map::Entry::Vacant(v) => {
                v.insert(Entry {
                    value,
                    lru: initial,
                    flags: 0,
                });
            }
        }
        self.signal_modified(key);
    }

    /// Inserts a new key (caller checked it is absent); returns the entry.
    pub fn insert_new(&mut self, key: &[u8], value: Value) -> &mut Entry {
        let initial = self.clock.initial();
        reserve_for_insert(&mut self.keys);
        let (idx, _) = self.keys.insert_full(
            Key::new(key),
            Entry {
                value,
                lru: initial,
                flags: 0,
            },
        );
        self.signal_modified(key);
        &mut self.keys[idx]
    }

    /// Removes a key and its TTL.
    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        if self.expire_if_needed(key) {
            return None;
        }
        let e = self.keys.swap_remove(key)?;
        if e.flags & ENTRY_HAS_EXPIRE != 0 {
            self.expires.swap_remove(key);
        }
        self.shrink_if_sparse();
        self.signal_modified(key);
        Some(e.value)
    }

    /// Removes a key, returning its value together with its TTL (RENAME, MOVE).
    pub fn take(&mut self, key: &[u8]) -> Option<(Value, Option<i64>)> {
        if self.expire_if_needed(key) {
            return None;
        }
        let e = self.keys.swap_remove(key)?;
        let ttl = if e.flags & ENTRY_HAS_EXPIRE != 0 {
            self.expires.swap_remove(key)
        } else {
            None
        };
        self.shrink_if_sparse();
        self.signal_modified(key);
        Some((e.value, ttl))
    }

    /// Sets an absolute expiry (unix ms) on an existing key. False if the key is absent.
    pub fn set_expire(&mut self, key: &[u8], when_ms: i64) -> bool {
        let Some(idx) = self.live_index(key) else {
            return false;
        };
        let e = &mut self.keys[idx];
        e.flags |= ENTRY_HAS_EXPIRE;
        match self.expires.get_mut(key) {
            Some(t) => *t = when_ms,
            None => {
                reserve_for_insert(&mut self.expires);
                self.expires.insert(Key::new(key), when_ms);
            }
        }
        self.signal_modified(key);
        true
    }

    /// Every key with its entry and expiry as stored, expired keys included (snapshots,
    /// AOF rewrites: they write what the dataset holds, as Redis does).
    pub fn iter_with_expire(&self) -> impl Iterator<Item = (&Key, &Entry, Option<i64>)> {
        self.keys.iter().map(|(k, e)| {
            let exp = if e.flags & ENTRY_HAS_EXPIRE != 0 {
                self.expires.get(k.as_bytes()).copied()
            } else {
                None
            };
            (k, e, exp)
        })
    }

    /// The key's expiry in unix ms, if it has one.
    pub fn get_expire(&mut self, key: &[u8]) -> Option<i64> {
        let idx = self.live_index(key)?;
        if self.keys[idx].flags & ENTRY_HAS_EXPIRE == 0 {
            return None;
        }
        self.expires.get(key).copied()
    }

    /// Removes a TTL. True if there was one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        let Some(idx) = self.live_index(key) else {
            return false;
        };
        let e = &mut self.keys[idx];
        if e.flags & ENTRY_HAS_EXPIRE == 0 {
            return false;
        }
        e.flags &= !ENTRY_HAS_EXPIRE;
        self.expires.swap_remove(key);
        self.shrink_if_sparse();
        self.signal_modified(key);
        true
    }

    /// Empties the database, returning how many keys it held.
    pub fn flush(&mut self) -> usize {
        let n = self.keys.len();
        self.touch_all_watched(None);
        self.keys = IndexMap::default();
        self.expires = IndexMap::default();
        n
    }

    /// Gives memory back after mass deletion, as Redis's tryResizeHashTables: a map filled
    /// under 1/[`SHRINK_FILL_RATIO`] (HASHTABLE_MIN_FILL) of its capacity is shrunk to fit.
    /// An `IndexMap` never shrinks by itself, and its entry slots (64 bytes for `keys`)
    /// stay resident once written. O(len) when it fires, after at least 9·len deletions.
    #[inline]
    pub fn shrink_if_sparse(&mut self) {
        if needs_shrink(self.keys.len(), self.keys.capacity()) {
            self.keys.shrink_to_fit();
        }
        if needs_shrink(self.expires.len(), self.expires.capacity()) {
            self.expires.shrink_to_fit();
        }
    }

    /// Marks a key modified for WATCH (Redis's touchWatchedKey): every client watching it
    /// is flagged dirty, except one that watched it already expired and now sees it gone.
    #[inline]
    pub fn signal_modified(&mut self, key: &[u8]) {
        if !self.watched.is_empty() {
            self.touch_watched_key(key);
        }
    }

    #[cold]
    fn touch_watched_key(&mut self, key: &[u8]) {
        let Some(ws) = self.watched.get_mut(key) else {
            return;
        };
        let exists = self.keys.contains_key(key);
        for w in ws.iter_mut() {
            if w.expired {
                if !exists {
                    // The expired key was deleted: logically no change.
                    w.expired = false;
                    continue;
                }
                w.expired = false;
            }
            w.dirty.store(true, Ordering::Relaxed);
        }
    }

    /// Invalidates the watched keys a FLUSHDB/FLUSHALL (`replaced_with` None) or a SWAPDB
    /// (`replaced_with` = the content about to replace this one) changes, before the
    /// change: a key counts as changed if it exists here or in `replaced_with` (Redis's
    /// touchAllWatchedKeysInDb).
    pub fn touch_all_watched(&mut self, replaced_with: Option<&Db>) {
        if self.watched.is_empty() {
            return;
        }
        for (key, ws) in self.watched.iter_mut() {
            let exists_here = self.keys.contains_key(key.as_ref());
            let in_new = replaced_with.is_some_and(|r| r.keys.contains_key(key.as_ref()));
            if !exists_here && !in_new {
                continue;
            }
            let new_expired = replaced_with.is_some_and(|r| r.is_expired(key.as_ref()));
            for w in ws.iter_mut() {
                if w.expired {
                    if !in_new {
                        w.expired = false;
                        continue;
                    } else if new_expired {
                        continue;
                    }
                } else if !exists_here && new_expired {
                    w.expired = true;
                    continue;
                }
                w.dirty.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Adds a client's watch on `key` (Redis's watchForKey); false if it already watches it.
    pub fn watch(&mut self, key: &[u8], client: u64, dirty: &Arc<AtomicBool>) -> bool {
        let expired = self.keys.contains_key(key) && self.is_expired(key);
        let ws = self.watched.entry(Key::new(key)).or_default();
        if ws.iter().any(|w| w.client == client) {
            return false;
        }
        ws.push(Watcher {
            client,
            dirty: dirty.clone(),
            expired,
        });
        true
    }

    /// Removes a client's watch on `key`, dropping the key from the map with its last
    /// watcher.
    pub fn unwatch(&mut self, key: &[u8], client: u64) {
        if let Some(ws) = self.watched.get_mut(key) {
            ws.retain(|w| w.client != client);
            if ws.is_empty() {
                self.watched.remove(key);
                if self.watched.is_empty() {
                    self.watched = Default::default();
                }
            }
        }
    }

    /// True if `client` watches `key`, did not find it expired at WATCH, and it has
    /// logically expired since (Redis's isWatchedKeyExpired, for one key).
    pub fn watched_key_expired(&self, key: &[u8], client: u64) -> bool {
        let Some(ws) = self.watched.get(key) else {
            return false;
        };
        ws.iter().any(|w| w.client == client && !w.expired) && self.is_expired(key)
    }

    /// A random live key (RANDOMKEY), skipping expired ones as Redis does.
    pub fn random_key(&mut self) -> Option<Key> {
        let mut rng = rand::thread_rng();
        for _ in 0..100 {
            if self.keys.is_empty() {
                return None;
            }
            let i = rng.gen_range(0..self.keys.len());
            let k = self
                .keys
                .get_index(i)
                .expect("invariant: index in range")
                .0
                .clone();
            if self.keys[i].flags & ENTRY_HAS_EXPIRE != 0 && self.expire_if_needed(&k) {
                continue;
            }
            return Some(k);
        }
        // Mostly expired keyspace: fall back to the first live one.
        let now = self.now_ms;
        self.keys
            .iter()
            .find(|(k, e)| {
                e.flags & ENTRY_HAS_EXPIRE == 0
                    || self.expires.get(k.as_bytes()).is_none_or(|&t| t > now)
            })
            .map(|(k, _)| k.clone())
    }

    /// One SCAN step. The cursor counts down through entry indexes: 0 starts at the top
    /// (`len`), the returned cursor is the next index bound, 0 when done. Deletion moves
    /// the last entry into the hole; walking downward means a moved entry either was
    /// already returned or lands below the cursor, so every key present for the whole
    /// iteration is returned at least once.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&Key, &Entry)) -> u64 {
        scan_indexmap(&self.keys, cursor, count, |k, e| visit(k, e))
    }

    /// Active expiry: samples keys with a TTL and deletes expired ones, repeating while
    /// more than a quarter of a sample was expired (Redis's ACTIVE_EXPIRE_CYCLE logic),
    /// within `max_checks` samples. Returns how many keys expired.
    pub fn active_expire(&mut self, max_checks: usize) -> usize {
        let mut rng = rand::thread_rng();
        let mut expired = 0;
        let mut checked = 0;
        let mut ttl_sum: i64 = 0;
        let mut ttl_samples: i64 = 0;
        while checked < max_checks && !self.expires.is_empty() {
            let mut round_expired = 0;
            let sample = 20.min(self.expires.len());
            for _ in 0..sample {
                if self.expires.is_empty() {
                    break;
                }
                let i = rng.gen_range(0..self.expires.len());
                let (k, &t) = self
                    .expires
                    .get_index(i)
                    .expect("invariant: index in range");
                checked += 1;
                if t <= self.now_ms {
                    let k = k.clone();
                    self.delete_expired(&k);
                    round_expired += 1;
                } else {
                    ttl_sum += t - self.now_ms;
                    ttl_samples += 1;
                }
            }
            expired += round_expired;
            if round_expired * 4 < sample {
                break;
            }
        }
        if ttl_samples > 0 {
            let avg = ttl_sum / ttl_samples;
            self.avg_ttl = if self.avg_ttl == 0 {
                avg
            } else {
                (self.avg_ttl / 50) * 49 + avg / 50
            };
        }
        if self.expires.is_empty() {
            self.avg_ttl = 0;
        }
        expired
    }
}

/// Grows a large map's entry vector by 1/[`GROWTH_DIVISOR`] of its length when it is full.
/// Left alone, an `IndexMap` reserves entry slots up to its hash table's capacity, up to
/// twice its length: untouched (not resident) but counted by used_memory and maxmemory.
#[inline]
pub fn reserve_for_insert<K, V, S>(map: &mut IndexMap<K, V, S>)
where
    K: std::hash::Hash + Eq,
    S: std::hash::BuildHasher,
{
    let len = map.len();
    if len >= SHRINK_MIN_CAPACITY && len == map.capacity() {
        map.reserve_exact(len / GROWTH_DIVISOR);
    }
}

/// See [`reserve_for_insert`].
pub const GROWTH_DIVISOR: usize = 8;

/// Maps at most this large are never shrunk.
pub const SHRINK_MIN_CAPACITY: usize = 1024;
/// A map is shrunk when its capacity exceeds this many times its length.
pub const SHRINK_FILL_RATIO: usize = 10;

#[inline]
fn needs_shrink(len: usize, capacity: usize) -> bool {
    capacity > SHRINK_MIN_CAPACITY && len * SHRINK_FILL_RATIO < capacity
}

/// SCAN over any IndexMap (keyspace, hash fields): see [`Db::scan`] for why it counts down.
pub fn scan_indexmap<K, V, S>(
    map: &IndexMap<K, V, S>,
    cursor: u64,
    count: usize,
    mut visit: impl FnMut(&K, &V),
) -> u64 {
    scan_positions(map.len(), cursor, count, |i| {
        let (k, v) = map.get_index(i).expect("invariant: i < len");
        visit(k, v);
    })
}

/// The cursor walk behind every index-based SCAN: visits up to `count` positions below
/// `cursor` (0 = start at `len`) going down, and returns the next cursor (0 = done).
pub fn scan_positions(len: usize, cursor: u64, count: usize, mut visit: impl FnMut(usize)) -> u64 {
    let len = len as u64;
    let mut pos = if cursor == 0 || cursor > len {
        len
    } else {
        cursor
    };
    let mut n = 0;
    while pos > 0 && n < count.max(1) {
        pos -= 1;
        visit(pos as usize);
        n += 1;
    }
    pos
}

/// Every database, plus counters that are cheapest to keep under the keyspace lock.
pub struct Store {
    pub dbs: Vec<Db>,
    /// Changes since the last save (Redis's server.dirty).
    pub dirty: u64,
    /// Consumer offsets committed with TCOMMIT. They are keyspace data, saved with the keys
    /// (an RDB aux field, TCOMMIT in the AOF), so a transaction's results and the offsets
    /// it commits are persisted (and rolled back) together.
    pub topic_offsets: TopicOffsets,
    /// Function libraries' source code by library name (FUNCTION LOAD): saved with the
    /// keyspace (RDB_OPCODE_FUNCTION2, FUNCTION LOAD in an AOF base) and, like Redis's
    /// functions, untouched by FLUSHALL. The compiled copy is `scripting::functions`.
    pub functions: std::collections::BTreeMap<String, bytes::Bytes>,
    /// Differs for every Store ever created, so the compiled libraries notice a Store
    /// replaced by a load (start-up, full sync) and rebuild from `functions`.
    pub functions_gen: u64,
}

/// A fresh value for `Store::functions_gen`.
pub fn next_functions_gen() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// `(group, topic, partition) -> (offset, commit timestamp in unix ms)`.
pub type TopicOffsets = std::collections::BTreeMap<(String, String, i32), (i64, i64)>;

impl Store {
    pub fn new(databases: usize) -> Store {
        Store {
            dbs: (0..databases).map(|_| Db::new()).collect(),
            dirty: 0,
            topic_offsets: TopicOffsets::new(),
            functions: Default::default(),
            functions_gen: next_functions_gen(),
        }
    }

    /// Sets the time and access clock every database uses for the next command.
    pub fn begin(&mut self, now_ms: i64, clock: AccessClock) {
        for db in &mut self.dbs {
            db.now_ms = now_ms;
            db.clock = clock;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(SBytes::from(v))
    }

    #[test]
    fn frozen_clock_records_no_access() {
        let mut clock = AccessClock::from_ms(100_000);
        let mut lru = 7;
        clock.frozen = true;
        clock.touch(&mut lru);
        assert_eq!(lru, 7);
        clock.frozen = false;
        clock.touch(&mut lru);
        assert_eq!(lru, 100);
    }

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }

    #[test]
    fn mass_deletion_shrinks_the_maps() {
        let mut db = Db::new();
        for i in 0..20_000 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), s("v"), false);
            db.set_expire(k.as_bytes(), 1_000_000);
        }
        let full = db.keys.capacity();
        assert!(full >= 20_000);
        for i in 0..19_900 {
            assert!(db.remove(format!("k{i}").as_bytes()).is_some());
        }
        assert_eq!(db.len(), 100);
        assert!(
            db.keys.capacity() < 2 * SHRINK_MIN_CAPACITY,
            "{}",
            db.keys.capacity()
        );
        assert!(db.expires.capacity() < 2 * SHRINK_MIN_CAPACITY);
        // Survivors are intact and the map still works.
        for i in 19_900..20_000 {
            assert_eq!(db.get_expire(format!("k{i}").as_bytes()), Some(1_000_000));
        }
        db.set(b"new", s("v"), false);
        assert!(db.exists(b"new"));
    }

    #[test]
    fn entry_reservation_stays_close_to_len() {
        let mut db = Db::new();
        for i in 0..150_000 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), s("v"), false);
            if i % 2 == 0 {
                db.set_expire(k.as_bytes(), 1_000_000);
            }
        }
        // The default would reserve up to the hash table's 229,376 slots.
        let slack = db.keys.capacity() - db.len();
        assert!(slack <= 150_000 / GROWTH_DIVISOR + 1, "{slack}");
        let slack = db.expires.capacity() - db.expires.len();
        assert!(slack <= 75_000 / GROWTH_DIVISOR + 1, "{slack}");
        assert_eq!(db.len(), 150_000);
        assert_eq!(db.get_expire(b"k149998"), Some(1_000_000));
    }

    #[test]
    fn lazy_expiry() {
        let mut db = Db::new();
        db.now_ms = 1000;
        db.set(b"k", s("v"), false);
        assert!(db.set_expire(b"k", 1500));
        assert!(db.get(b"k").is_some());
        db.now_ms = 1500;
        assert!(db.get(b"k").is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.expires.len(), 0);
        assert_eq!(db.stat_expired, 1);
    }

    #[test]
    fn expired_keys_are_pending_until_taken() {
        let mut db = Db::new();
        db.now_ms = 1000;
        db.set(b"k", s("v"), false);
        db.set_expire(b"k", 1500);
        db.now_ms = 2000;
        assert!(db.get(b"k").is_none());
        // Other tests' databases share the counter: only "some pending" is certain.
        assert!(expired_pending());
        assert_eq!(db.take_expired(), vec![Key::from(&b"k"[..])]);
        assert!(db.take_expired().is_empty());
    }

    #[test]
    fn set_clears_ttl_unless_keepttl() {
        let mut db = Db::new();
        db.set(b"k", s("v"), false);
        db.set_expire(b"k", 10_000);
        db.set(b"k", s("w"), true);
        assert_eq!(db.get_expire(b"k"), Some(10_000));
        db.set(b"k", s("x"), false);
        assert_eq!(db.get_expire(b"k"), None);
        assert!(db.expires.is_empty());
    }

    #[test]
    fn active_expire_frees_unread_keys() {
        let mut db = Db::new();
        for i in 0..1000 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), s("v"), false);
            db.set_expire(k.as_bytes(), 100);
        }
        db.now_ms = 200;
        let mut total = 0;
        for _ in 0..100 {
            total += db.active_expire(1000);
        }
        assert_eq!(total, 1000);
        assert!(db.is_empty());
    }

    #[test]
    fn scan_returns_keys_present_throughout_despite_deletes() {
        let mut db = Db::new();
        for i in 0..500 {
            db.set(format!("k{i}").as_bytes(), s("v"), false);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = db.scan(cursor, 10, |k, _| {
                seen.insert(k.clone());
            });
            // Delete some keys (never k0..k99) between steps, moving tail entries around.
            step += 1;
            let victim = format!("k{}", 100 + step * 3);
            db.remove(victim.as_bytes());
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "k{i} missed");
        }
    }
}
