//! Sorted sets: member -> score in O(1), order by (score, member) with O(log n) rank.
//!
//! # Layout
//!
//! - `slots`: an arena of `(member, score)`; an element's slot id never changes while it
//!   is in the set (a freed slot is marked by a NaN score and reused). Slot ids are `u32`.
//! - `dict`: a `hashbrown::HashTable<u32>` of slot ids hashed by member, so the member
//!   bytes are stored once (Redis's dict shares the skiplist node's sds the same way).
//! - `tree`: an order-statistic B+tree over slot ids. Leaves hold up to [`MAX`] ids in
//!   (score, member) order; inner nodes hold their children, each child's element count
//!   and each child's first id (the separator). Rank, select, insert, delete and the
//!   start of a range by score or lex are O(log n); walking a range is O(1) per element.
//!
//! Per element this costs the 32-byte slot, ~5-9 bytes of hash table and ~5-8 bytes of
//! leaf, against Redis's ~100 (skiplist node with levels, sds, dictEntry and bucket).
//!
//! Scores are never NaN (commands reject NaN results). Ordering uses `<` on scores as
//! Redis does, so -0 and 0 compare equal and the member breaks the tie.

use super::SBytes;
use hashbrown::HashTable;
use std::cmp::Ordering;
use std::sync::OnceLock;

/// Sets up to this size walk lex ranges linearly, exactly as Redis's listpack encoding
/// (used up to zset-max-listpack-entries = 128) does, which matters only when members
/// of different scores make the lex order non-monotonic.
const SMALL: usize = 128;

/// Maximum ids per leaf and children per inner node.
const MAX: usize = 64;
/// A non-root node with fewer entries than this is merged with or refilled from a sibling.
const MIN: usize = MAX / 4;

fn hash_of(b: &[u8]) -> u64 {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new).hash_one(b)
}

#[derive(Clone, Debug)]
struct Slot {
    member: SBytes,
    /// NaN marks a free slot.
    score: f64,
}

#[inline]
fn cmp_key(slots: &[Slot], id: u32, score: f64, member: &[u8]) -> Ordering {
    let s = &slots[id as usize];
    if s.score < score {
        Ordering::Less
    } else if s.score > score {
        Ordering::Greater
    } else {
        s.member.as_bytes().cmp(member)
    }
}

#[derive(Clone, Debug)]
enum Node {
    Leaf(Vec<u32>),
    Inner(Inner),
}

#[derive(Clone, Debug, Default)]
struct Inner {
    kids: Vec<Node>,
    /// Elements under each child.
    counts: Vec<usize>,
    /// First id under each child.
    firsts: Vec<u32>,
}

impl Default for Node {
    fn default() -> Self {
        Node::Leaf(Vec::new())
    }
}

impl Node {
    /// Entries in this node (ids for a leaf, children for an inner node).
    fn width(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(n) => n.kids.len(),
        }
    }

    /// Elements in the subtree.
    fn count(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(n) => n.counts.iter().sum(),
        }
    }

    /// First id of a non-empty subtree.
    fn first(&self) -> u32 {
        match self {
            Node::Leaf(v) => v[0],
            Node::Inner(n) => n.firsts[0],
        }
    }

    /// Splits off the upper half when over [`MAX`].
    fn split_if_full(&mut self) -> Option<Node> {
        if self.width() <= MAX {
            return None;
        }
        Some(match self {
            Node::Leaf(v) => {
                let at = v.len() / 2;
                Node::Leaf(v.split_off(at))
            }
            Node::Inner(n) => {
                let at = n.kids.len() / 2;
                Node::Inner(Inner {
                    kids: n.kids.split_off(at),
                    counts: n.counts.split_off(at),
                    firsts: n.firsts.split_off(at),
                })
            }
        })
    }

    /// Returns the split-off right sibling if this node overflowed.
    fn insert(&mut self, id: u32, score: f64, member: &[u8], slots: &[Slot]) -> Option<Node> {
        match self {
            Node::Leaf(v) => {
                let pos = v.partition_point(|&x| cmp_key(slots, x, score, member).is_lt());
                v.insert(pos, id);
            }
            Node::Inner(n) => {
                let i = n
                    .firsts
                    .partition_point(|&x| cmp_key(slots, x, score, member).is_lt())
                    .saturating_sub(1);
                let split = n.kids[i].insert(id, score, member, slots);
                n.counts[i] += 1;
                n.firsts[i] = n.kids[i].first();
                if let Some(right) = split {
                    let rc = right.count();
                    n.counts[i] -= rc;
                    n.firsts.insert(i + 1, right.first());
                    n.counts.insert(i + 1, rc);
                    n.kids.insert(i + 1, right);
                }
            }
        }
        self.split_if_full()
    }

    /// Removes the element with this key; false if absent.
    fn remove(&mut self, score: f64, member: &[u8], slots: &[Slot]) -> bool {
        match self {
            Node::Leaf(v) => {
                let pos = v.partition_point(|&x| cmp_key(slots, x, score, member).is_lt());
                if pos < v.len() && cmp_key(slots, v[pos], score, member).is_eq() {
                    v.remove(pos);
                    true
                } else {
                    false
                }
            }
            Node::Inner(n) => {
                let j = n
                    .firsts
                    .partition_point(|&x| cmp_key(slots, x, score, member).is_le());
                if j == 0 {
                    return false;
                }
                let i = j - 1;
                if !n.kids[i].remove(score, member, slots) {
                    return false;
                }
                n.counts[i] -= 1;
                if n.kids[i].width() < MIN && n.kids.len() > 1 {
                    n.rebalance(i);
                } else {
                    n.firsts[i] = n.kids[i].first();
                }
                true
            }
        }
    }
}

impl Inner {
    /// Merges child `i` with a sibling, splitting again evenly if the result is too wide.
    fn rebalance(&mut self, i: usize) {
        let a = if i > 0 { i - 1 } else { i };
        let b = a + 1;
        let right = self.kids.remove(b);
        self.counts.remove(b);
        self.firsts.remove(b);
        let left = &mut self.kids[a];
        match (left, right) {
            (Node::Leaf(l), Node::Leaf(mut r)) => l.append(&mut r),
            (Node::Inner(l), Node::Inner(mut r)) => {
                l.kids.append(&mut r.kids);
                l.counts.append(&mut r.counts);
                l.firsts.append(&mut r.firsts);
            }
            _ => unreachable!("invariant: siblings have the same height"),
        }
        let left = &mut self.kids[a];
        let split = if left.width() > MAX * 3 / 4 {
            // Split evenly rather than at MAX so the next few operations stay local.
            let at = left.width() / 2;
            Some(match left {
                Node::Leaf(v) => Node::Leaf(v.split_off(at)),
                Node::Inner(n) => Node::Inner(Inner {
                    kids: n.kids.split_off(at),
                    counts: n.counts.split_off(at),
                    firsts: n.firsts.split_off(at),
                }),
            })
        } else {
            None
        };
        self.counts[a] = self.kids[a].count();
        self.firsts[a] = self.kids[a].first();
        if let Some(r) = split {
            self.counts.insert(b, r.count());
            self.firsts.insert(b, r.first());
            self.kids.insert(b, r);
        }
    }
}

/// Order-statistic B+tree of slot ids.
#[derive(Clone, Debug, Default)]
struct Tree {
    root: Node,
    len: usize,
}

impl Tree {
    fn insert(&mut self, id: u32, slots: &[Slot]) {
        let s = &slots[id as usize];
        if let Some(right) = self.root.insert(id, s.score, &s.member, slots) {
            let left = std::mem::take(&mut self.root);
            self.root = Node::Inner(Inner {
                counts: vec![left.count(), right.count()],
                firsts: vec![left.first(), right.first()],
                kids: vec![left, right],
            });
        }
        self.len += 1;
    }

    fn remove(&mut self, id: u32, slots: &[Slot]) -> bool {
        let s = &slots[id as usize];
        if !self.root.remove(s.score, &s.member, slots) {
            return false;
        }
        self.len -= 1;
        loop {
            match &mut self.root {
                Node::Inner(n) if n.kids.len() == 1 => {
                    let kid = n.kids.pop().expect("invariant: one child");
                    self.root = kid;
                }
                _ => break,
            }
        }
        true
    }

    /// Number of leading elements for which `pred` holds (`pred` must be true on a
    /// prefix of the order and false after it).
    fn partition_point(&self, mut pred: impl FnMut(u32) -> bool) -> usize {
        let mut node = &self.root;
        let mut acc = 0;
        loop {
            match node {
                Node::Leaf(v) => return acc + v.partition_point(|&x| pred(x)),
                Node::Inner(n) => {
                    let j = n.firsts.partition_point(|&x| pred(x));
                    if j == 0 {
                        return acc;
                    }
                    acc += n.counts[..j - 1].iter().sum::<usize>();
                    node = &n.kids[j - 1];
                }
            }
        }
    }

    /// The id at `rank` (0-based, ascending).
    fn select(&self, mut rank: usize) -> Option<u32> {
        if rank >= self.len {
            return None;
        }
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(v) => return v.get(rank).copied(),
                Node::Inner(n) => {
                    let mut k = 0;
                    while k + 1 < n.kids.len() && rank >= n.counts[k] {
                        rank -= n.counts[k];
                        k += 1;
                    }
                    node = &n.kids[k];
                }
            }
        }
    }

    /// Ids from `rank` on, ascending (or descending when `rev`), at most `limit` of them.
    fn walk(&self, rank: usize, limit: usize, rev: bool) -> Walk<'_> {
        let mut w = Walk {
            stack: Vec::new(),
            leaf: &[],
            pos: 0,
            rev,
            remaining: 0,
        };
        if rank >= self.len {
            return w;
        }
        w.remaining = limit.min(if rev { rank + 1 } else { self.len - rank });
        let mut node = &self.root;
        let mut r = rank;
        loop {
            match node {
                Node::Leaf(v) => {
                    w.leaf = v;
                    w.pos = if rev { r + 1 } else { r };
                    return w;
                }
                Node::Inner(n) => {
                    let mut k = 0;
                    while k + 1 < n.kids.len() && r >= n.counts[k] {
                        r -= n.counts[k];
                        k += 1;
                    }
                    w.stack.push((n, k));
                    node = &n.kids[k];
                }
            }
        }
    }
}

/// A cursor over the tree's leaves.
struct Walk<'a> {
    stack: Vec<(&'a Inner, usize)>,
    leaf: &'a [u32],
    /// Forward: index of the next id. Reverse: one past it.
    pos: usize,
    rev: bool,
    remaining: usize,
}

impl Iterator for Walk<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            if !self.rev && self.pos < self.leaf.len() {
                self.pos += 1;
                self.remaining -= 1;
                return Some(self.leaf[self.pos - 1]);
            }
            if self.rev && self.pos > 0 {
                self.pos -= 1;
                self.remaining -= 1;
                return Some(self.leaf[self.pos]);
            }
            // Climb to the nearest ancestor with a next child, then descend to its edge.
            loop {
                let (n, k) = self.stack.last_mut()?;
                if !self.rev && *k + 1 < n.kids.len() {
                    *k += 1;
                    break;
                }
                if self.rev && *k > 0 {
                    *k -= 1;
                    break;
                }
                self.stack.pop();
            }
            let (n, k) = *self.stack.last().expect("invariant: just found");
            let mut node = &n.kids[k];
            loop {
                match node {
                    Node::Leaf(v) => {
                        self.leaf = v;
                        self.pos = if self.rev { v.len() } else { 0 };
                        break;
                    }
                    Node::Inner(n) => {
                        let k = if self.rev { n.kids.len() - 1 } else { 0 };
                        self.stack.push((n, k));
                        node = &n.kids[k];
                    }
                }
            }
        }
    }
}

/// A sorted set.
#[derive(Clone, Debug, Default)]
pub struct ZSet {
    slots: Vec<Slot>,
    free: Vec<u32>,
    dict: HashTable<u32>,
    tree: Tree,
}

/// Iterator over `(member, score)` pairs in rank order (see [`ZSet::range`]).
pub struct Iter<'a> {
    slots: &'a [Slot],
    walk: Walk<'a>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a SBytes, f64);

    fn next(&mut self) -> Option<Self::Item> {
        let id = self.walk.next()?;
        let s = &self.slots[id as usize];
        Some((&s.member, s.score))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.walk.remaining, Some(self.walk.remaining))
    }
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

    pub fn len(&self) -> usize {
        self.tree.len
    }

    pub fn is_empty(&self) -> bool {
        self.tree.len == 0
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let slots = &self.slots;
        self.dict
            .find(hash_of(member), |&id| {
                slots[id as usize].member.as_bytes() == member
            })
            .copied()
    }

    /// The member's score.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|id| self.slots[id as usize].score)
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.find(member).is_some()
    }

    /// Sets `member`'s score, adding it if absent. Returns the previous score.
    /// `score` must not be NaN.
    /// A -0 score is stored as 0, as Redis's listpack encoding (every small zset) does.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        debug_assert!(!score.is_nan());
        let score = score + 0.0;
        if let Some(id) = self.find(member) {
            let old = self.slots[id as usize].score;
            if old != score {
                self.tree.remove(id, &self.slots);
                self.slots[id as usize].score = score;
                self.tree.insert(id, &self.slots);
            }
            return Some(old);
        }
        let slot = Slot {
            member: SBytes::new(member),
            score,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.dict
            .insert_unique(hash_of(member), id, |&x| hash_of(&slots[x as usize].member));
        self.tree.insert(id, &self.slots);
        None
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let id = self.find(member)?;
        Some(self.remove_id(id).1)
    }

    fn remove_id(&mut self, id: u32) -> (SBytes, f64) {
        let r = self.detach(id);
        self.maybe_compact();
        r
    }

    /// Removes slot `id` without compacting (ids stay valid).
    fn detach(&mut self, id: u32) -> (SBytes, f64) {
        let removed = self.tree.remove(id, &self.slots);
        debug_assert!(removed, "invariant: id is in the tree");
        let slots = &self.slots;
        let member = slots[id as usize].member.as_bytes();
        if let Ok(e) = self.dict.find_entry(hash_of(member), |&x| x == id) {
            e.remove();
        }
        let slot = std::mem::replace(
            &mut self.slots[id as usize],
            Slot {
                member: SBytes::new(b""),
                score: f64::NAN,
            },
        );
        if id as usize == self.slots.len() - 1 {
            self.slots.pop();
        } else {
            self.free.push(id);
        }
        (slot.member, slot.score)
    }

    /// Renumbers slots densely when more than half are free, so a set that shrank gives
    /// its memory back.
    fn maybe_compact(&mut self) {
        if self.tree.len == 0 {
            *self = ZSet::default();
            return;
        }
        if self.free.len() < 16 || self.free.len() * 2 < self.slots.len() {
            return;
        }
        let order: Vec<u32> = self.tree.walk(0, self.tree.len, false).collect();
        let mut slots = Vec::with_capacity(order.len());
        for id in order {
            let s = &mut self.slots[id as usize];
            slots.push(Slot {
                member: std::mem::replace(&mut s.member, SBytes::new(b"")),
                score: s.score,
            });
        }
        *self = ZSet::from_sorted_slots(slots);
    }

    /// Builds a set from pairs with distinct members, in any order (O(n log n), no
    /// per-element tree insertion). -0 scores are stored as 0 as in [`ZSet::insert`].
    pub fn from_pairs(mut v: Vec<(&[u8], f64)>) -> ZSet {
        for p in &mut v {
            p.1 += 0.0;
        }
        v.sort_by(|a, b| {
            a.1.partial_cmp(&b.1)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.0.cmp(b.0))
        });
        debug_assert!(v.windows(2).all(|w| w[0].0 != w[1].0 || w[0].1 != w[1].1));
        ZSet::from_sorted_slots(
            v.into_iter()
                .map(|(m, score)| Slot {
                    member: SBytes::new(m),
                    score,
                })
                .collect(),
        )
    }

    /// Builds from slots already in (score, member) order with distinct members.
    fn from_sorted_slots(slots: Vec<Slot>) -> ZSet {
        let n = slots.len();
        let mut dict = HashTable::with_capacity(n);
        for (i, s) in slots.iter().enumerate() {
            dict.insert_unique(hash_of(&s.member), i as u32, |&x| {
                hash_of(&slots[x as usize].member)
            });
        }
        // Bottom-up: even chunks of at most 3/4 MAX per node.
        let mut level: Vec<Node> = chunks(n)
            .map(|(a, b)| Node::Leaf((a as u32..b as u32).collect()))
            .collect();
        while level.len() > 1 {
            let mut it = level.into_iter();
            let len = it.len();
            level = chunks(len)
                .map(|(a, b)| {
                    let kids: Vec<Node> = it.by_ref().take(b - a).collect();
                    Node::Inner(Inner {
                        counts: kids.iter().map(Node::count).collect(),
                        firsts: kids.iter().map(Node::first).collect(),
                        kids,
                    })
                })
                .collect();
        }
        let root = level.pop().unwrap_or_default();
        ZSet {
            slots,
            free: Vec::new(),
            dict,
            tree: Tree { root, len: n },
        }
    }

    /// 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let id = self.find(member)?;
        let s = &self.slots[id as usize];
        let slots = &self.slots;
        Some(
            self.tree
                .partition_point(|x| cmp_key(slots, x, s.score, &s.member).is_lt()),
        )
    }

    /// The element at ascending rank `rank`.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&SBytes, f64)> {
        let id = self.tree.select(rank)?;
        let s = &self.slots[id as usize];
        Some((&s.member, s.score))
    }

    /// Every element in (score, member) order.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0, self.len(), false)
    }

    /// Up to `limit` elements starting at ascending rank `start`, walking up, or down
    /// when `rev` (then `start` is the ascending rank of the first element returned).
    pub fn range(&self, start: usize, limit: usize, rev: bool) -> Iter<'_> {
        Iter {
            slots: &self.slots,
            walk: self.tree.walk(start, limit, rev),
        }
    }

    /// Number of elements with score below `min` (or at most `min` when `exclusive`):
    /// the rank of the first element inside a range starting at `min`.
    pub fn rank_score_min(&self, min: f64, exclusive: bool) -> usize {
        let slots = &self.slots;
        self.tree.partition_point(|x| {
            let s = slots[x as usize].score;
            if exclusive {
                s <= min
            } else {
                s < min
            }
        })
    }

    /// Number of elements with score at most `max` (below `max` when `exclusive`):
    /// one past the rank of the last element inside a range ending at `max`.
    pub fn rank_score_max(&self, max: f64, exclusive: bool) -> usize {
        let slots = &self.slots;
        self.tree.partition_point(|x| {
            let s = slots[x as usize].score;
            if exclusive {
                s < max
            } else {
                s <= max
            }
        })
    }

    /// Number of leading elements whose member fails the lex range's lower bound.
    pub fn rank_lex_min(&self, min: &LexBound) -> usize {
        let slots = &self.slots;
        self.tree
            .partition_point(|x| !min.gte_min(&slots[x as usize].member))
    }

    /// Number of leading elements whose member passes the lex range's upper bound.
    pub fn rank_lex_max(&self, max: &LexBound) -> usize {
        let slots = &self.slots;
        self.tree
            .partition_point(|x| max.lte_max(&slots[x as usize].member))
    }

    /// Ascending rank where Redis starts walking a lex range: the first member at or
    /// above `min` (the last at or below `max` when `rev`), provided it is inside the
    /// range, as zzlFirstInLexRange / zzlLastInLexRange. Callers then walk while the
    /// other bound holds.
    pub fn lex_start(&self, min: &LexBound, max: &LexBound, rev: bool) -> Option<usize> {
        let len = self.len();
        if len == 0 || LexBound::range_is_empty(min, max) {
            return None;
        }
        let (first, _) = self.get_by_rank(0)?;
        let (last, _) = self.get_by_rank(len - 1)?;
        if !min.gte_min(last) || !max.lte_max(first) {
            return None;
        }
        let idx = if len <= SMALL {
            if rev {
                len - 1
                    - self
                        .range(len - 1, len, true)
                        .position(|(m, _)| max.lte_max(m))?
            } else {
                self.iter().position(|(m, _)| min.gte_min(m))?
            }
        } else if rev {
            self.rank_lex_max(max).checked_sub(1)?
        } else {
            Some(self.rank_lex_min(min)).filter(|&r| r < len)?
        };
        let (m, _) = self.get_by_rank(idx)?;
        let inside = if rev { min.gte_min(m) } else { max.lte_max(m) };
        inside.then_some(idx)
    }

    /// ZLEXCOUNT: walks from the start while `max` holds (listpack) or subtracts ranks.
    pub fn lex_count(&self, min: &LexBound, max: &LexBound) -> usize {
        let Some(start) = self.lex_start(min, max, false) else {
            return 0;
        };
        if self.len() <= SMALL {
            return self
                .range(start, usize::MAX, false)
                .take_while(|(m, _)| max.lte_max(m))
                .count();
        }
        match self.lex_start(min, max, true) {
            Some(end) if end >= start => end - start + 1,
            _ => 0,
        }
    }

    /// Removes and returns the lowest (or highest when `max`) element.
    pub fn pop(&mut self, max: bool) -> Option<(SBytes, f64)> {
        let rank = if max { self.len().checked_sub(1)? } else { 0 };
        let id = self.tree.select(rank)?;
        Some(self.remove_id(id))
    }

    /// Removes the elements with ascending ranks `start..end`; returns them in order.
    pub fn remove_range(&mut self, start: usize, end: usize) -> Vec<SBytes> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        let ids: Vec<u32> = self.tree.walk(start, end - start, false).collect();
        let out = ids.into_iter().map(|id| self.detach(id).0).collect();
        self.maybe_compact();
        out
    }

    /// One ZSCAN step over slot ids, counting down like [`super::scan_indexmap`]: an
    /// element keeps its slot while present, so one present for the whole iteration is
    /// returned at least once.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&SBytes, f64)) -> u64 {
        let len = self.slots.len() as u64;
        let mut pos = if cursor == 0 || cursor > len {
            len
        } else {
            cursor
        };
        let mut n = 0;
        while pos > 0 && n < count.max(1) {
            pos -= 1;
            let s = &self.slots[pos as usize];
            if !s.score.is_nan() {
                visit(&s.member, s.score);
                n += 1;
            }
        }
        pos
    }

    /// Bytes owned beyond the `ZSet` struct itself (MEMORY USAGE, eviction accounting).
    pub fn heap_size(&self) -> usize {
        fn node_size(n: &Node) -> usize {
            match n {
                Node::Leaf(v) => v.capacity() * 4,
                Node::Inner(i) => {
                    i.kids.capacity() * std::mem::size_of::<Node>()
                        + i.counts.capacity() * 8
                        + i.firsts.capacity() * 4
                        + i.kids.iter().map(node_size).sum::<usize>()
                }
            }
        }
        let members: usize = self.slots.iter().map(|s| s.member.heap_size()).sum();
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.free.capacity() * 4
            + self.dict.allocation_size()
            + node_size(&self.tree.root)
            + members
    }
}

/// `n` items in even chunks of at most 3/4 [`MAX`] (at least one chunk).
fn chunks(n: usize) -> impl Iterator<Item = (usize, usize)> {
    let per = MAX * 3 / 4;
    let k = n.div_ceil(per).max(1);
    (0..k).map(move |i| (i * n / k, (i + 1) * n / k))
}

/// One end of a ZRANGEBYLEX range: `-`, `+`, `[member` or `(member`.
#[derive(Clone, Debug, PartialEq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

impl LexBound {
    /// Parses Redis's syntax; None for anything else
    /// ("ERR min or max not valid string range item").
    pub fn parse(b: &[u8]) -> Option<LexBound> {
        match b.first()? {
            b'-' if b.len() == 1 => Some(LexBound::NegInf),
            b'+' if b.len() == 1 => Some(LexBound::PosInf),
            b'[' => Some(LexBound::Incl(b[1..].to_vec())),
            b'(' => Some(LexBound::Excl(b[1..].to_vec())),
            _ => None,
        }
    }

    /// A range that can hold nothing whatever the set (zslIsInLexRange's first test):
    /// min above max, or equal with either end exclusive (`-` and `+` count as exclusive).
    pub fn range_is_empty(min: &LexBound, max: &LexBound) -> bool {
        fn key(b: &LexBound) -> (u8, &[u8], bool) {
            match b {
                LexBound::NegInf => (0, &[], true),
                LexBound::Incl(v) => (1, v, false),
                LexBound::Excl(v) => (1, v, true),
                LexBound::PosInf => (2, &[], true),
            }
        }
        let (a, b) = (key(min), key(max));
        match (a.0, a.1).cmp(&(b.0, b.1)) {
            Ordering::Greater => true,
            Ordering::Equal => a.2 || b.2,
            Ordering::Less => false,
        }
    }

    /// `m` is at or above this lower bound.
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match self {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Incl(v) => m >= v.as_slice(),
            LexBound::Excl(v) => m > v.as_slice(),
        }
    }

    /// `m` is at or below this upper bound.
    pub fn lte_max(&self, m: &[u8]) -> bool {
        match self {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(v) => m <= v.as_slice(),
            LexBound::Excl(v) => m < v.as_slice(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    fn model_sorted(m: &std::collections::HashMap<Vec<u8>, f64>) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
        v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
        v
    }

    fn check_tree(node: &Node, is_root: bool) -> usize {
        match node {
            Node::Leaf(v) => {
                assert!(v.len() <= MAX);
                v.len()
            }
            Node::Inner(n) => {
                assert!(n.kids.len() <= MAX);
                assert!(is_root || n.kids.len() >= 2);
                let mut total = 0;
                for (k, kid) in n.kids.iter().enumerate() {
                    let c = check_tree(kid, false);
                    assert_eq!(c, n.counts[k], "count of child {k}");
                    assert!(c > 0);
                    assert_eq!(kid.first(), n.firsts[k]);
                    total += c;
                }
                total
            }
        }
    }

    fn check(z: &ZSet, model: &std::collections::HashMap<Vec<u8>, f64>) {
        let want = model_sorted(model);
        assert_eq!(z.len(), want.len());
        assert_eq!(check_tree(&z.tree.root, true), want.len());
        let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(got, want);
        let rev: Vec<(Vec<u8>, f64)> = z
            .range(want.len().saturating_sub(1), usize::MAX, true)
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        let mut w2 = want.clone();
        w2.reverse();
        assert_eq!(rev, w2);
        assert_eq!(z.dict.len(), want.len());
    }

    #[test]
    fn basic_order_and_rank() {
        let mut z = ZSet::new();
        assert_eq!(z.insert(b"b", 2.0), None);
        assert_eq!(z.insert(b"a", 2.0), None);
        assert_eq!(z.insert(b"c", 1.0), None);
        let v: Vec<&[u8]> = z.iter().map(|(m, _)| m.as_bytes()).collect();
        assert_eq!(v, vec![&b"c"[..], b"a", b"b"]);
        assert_eq!(z.rank(b"a"), Some(1));
        assert_eq!(z.rank(b"zz"), None);
        assert_eq!(z.insert(b"c", 3.0), Some(1.0));
        assert_eq!(z.rank(b"c"), Some(2));
        assert_eq!(z.score(b"c"), Some(3.0));
        assert_eq!(z.remove(b"a"), Some(2.0));
        assert_eq!(z.remove(b"a"), None);
        assert_eq!(z.len(), 2);
        assert_eq!(
            z.get_by_rank(0).map(|(m, _)| m.to_vec()),
            Some(b"b".to_vec())
        );
        assert_eq!(
            z.pop(true).map(|(m, s)| (m.to_vec(), s)),
            Some((b"c".to_vec(), 3.0))
        );
        assert_eq!(
            z.pop(false).map(|(m, s)| (m.to_vec(), s)),
            Some((b"b".to_vec(), 2.0))
        );
        assert!(z.is_empty());
        assert_eq!(z.pop(false), None);
    }

    #[test]
    fn score_and_lex_bounds() {
        let mut z = ZSet::new();
        for i in 0..1000 {
            z.insert(format!("m{i:04}").as_bytes(), (i / 10) as f64);
        }
        assert_eq!(z.rank_score_min(5.0, false), 50);
        assert_eq!(z.rank_score_min(5.0, true), 60);
        assert_eq!(z.rank_score_max(5.0, false), 60);
        assert_eq!(z.rank_score_max(5.0, true), 50);
        assert_eq!(z.rank_score_min(f64::NEG_INFINITY, false), 0);
        assert_eq!(z.rank_score_max(f64::INFINITY, false), 1000);
        let mut l = ZSet::new();
        for c in b'a'..=b'z' {
            l.insert(&[c], 0.0);
        }
        let min = LexBound::parse(b"[c").unwrap();
        let max = LexBound::parse(b"(f").unwrap();
        assert_eq!(l.rank_lex_min(&min), 2);
        assert_eq!(l.rank_lex_max(&max), 5);
        assert_eq!(l.rank_lex_min(&LexBound::NegInf), 0);
        assert_eq!(l.rank_lex_max(&LexBound::PosInf), 26);
        assert_eq!(l.lex_start(&min, &max, false), Some(2));
        assert_eq!(l.lex_start(&min, &max, true), Some(4));
        assert_eq!(l.lex_count(&min, &max), 3);
        assert!(LexBound::range_is_empty(
            &LexBound::PosInf,
            &LexBound::PosInf
        ));
        assert!(LexBound::range_is_empty(&max, &min));
        assert!(!LexBound::range_is_empty(
            &LexBound::NegInf,
            &LexBound::PosInf
        ));
        // Mixed scores: the listpack walk stops where the max bound first fails.
        let mut m = ZSet::new();
        m.insert(b"a", 0.0);
        m.insert(b"z", 1.0);
        m.insert(b"b", 2.0);
        let (lo, hi) = (LexBound::NegInf, LexBound::parse(b"[c").unwrap());
        assert_eq!(m.lex_count(&lo, &hi), 1);
        assert_eq!(m.lex_start(&lo, &hi, true), Some(2));
        assert_eq!(LexBound::parse(b"c"), None);
        assert_eq!(LexBound::parse(b""), None);
        assert_eq!(LexBound::parse(b"--"), None);
    }

    #[test]
    fn randomized_against_model() {
        let mut rng = SmallRng::seed_from_u64(7);
        let mut z = ZSet::new();
        let mut model: std::collections::HashMap<Vec<u8>, f64> = Default::default();
        for step in 0..40_000 {
            let key = format!("k{}", rng.gen_range(0..3000)).into_bytes();
            // Few distinct scores so ties exercise member ordering.
            let score = (rng.gen_range(-50..50) as f64) / 4.0;
            match rng.gen_range(0..10) {
                0..=4 => {
                    assert_eq!(z.insert(&key, score), model.insert(key.clone(), score));
                }
                5..=6 => {
                    assert_eq!(z.remove(&key), model.remove(&key));
                }
                7 => {
                    let want = model_sorted(&model);
                    let r = want.iter().position(|(m, _)| *m == key);
                    assert_eq!(z.rank(&key), r);
                    let start = rng.gen_range(0..=want.len());
                    let n = rng.gen_range(0..100);
                    let got: Vec<Vec<u8>> =
                        z.range(start, n, false).map(|(m, _)| m.to_vec()).collect();
                    let exp: Vec<Vec<u8>> = want
                        .iter()
                        .skip(start)
                        .take(n)
                        .map(|(m, _)| m.clone())
                        .collect();
                    assert_eq!(got, exp);
                    if start < want.len() {
                        let got: Vec<Vec<u8>> =
                            z.range(start, n, true).map(|(m, _)| m.to_vec()).collect();
                        let exp: Vec<Vec<u8>> = want[..=start]
                            .iter()
                            .rev()
                            .take(n)
                            .map(|(m, _)| m.clone())
                            .collect();
                        assert_eq!(got, exp);
                    }
                    let lo = want.partition_point(|(_, s)| *s < score);
                    assert_eq!(z.rank_score_min(score, false), lo);
                    let hi = want.partition_point(|(_, s)| *s <= score);
                    assert_eq!(z.rank_score_max(score, false), hi);
                    assert_eq!(z.rank_score_min(score, true), hi);
                    assert_eq!(z.rank_score_max(score, true), lo);
                }
                8 => {
                    let max = rng.gen_bool(0.5);
                    let want = model_sorted(&model);
                    let exp = if max { want.last() } else { want.first() };
                    let got = z.pop(max);
                    assert_eq!(got.as_ref().map(|(m, s)| (m.to_vec(), *s)), exp.cloned());
                    if let Some((m, _)) = got {
                        model.remove(m.as_bytes());
                    }
                }
                _ => {
                    let want = model_sorted(&model);
                    if !want.is_empty() {
                        let a = rng.gen_range(0..want.len());
                        let b = (a + rng.gen_range(0..40)).min(want.len());
                        let got: Vec<Vec<u8>> =
                            z.remove_range(a, b).iter().map(|m| m.to_vec()).collect();
                        let exp: Vec<Vec<u8>> = want[a..b].iter().map(|(m, _)| m.clone()).collect();
                        assert_eq!(got, exp);
                        for m in exp {
                            model.remove(&m);
                        }
                    }
                }
            }
            if step % 1000 == 0 {
                check(&z, &model);
            }
        }
        check(&z, &model);
        // Drain through remove: exercises merges down to an empty root.
        let keys: Vec<Vec<u8>> = model.keys().cloned().collect();
        for k in keys {
            assert!(z.remove(&k).is_some());
            model.remove(&k);
        }
        check(&z, &model);
        assert!(z.slots.is_empty());
    }

    #[test]
    fn scan_sees_stable_members_while_others_change() {
        let mut z = ZSet::new();
        for i in 0..500 {
            z.insert(format!("m{i}").as_bytes(), i as f64);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = z.scan(cursor, 10, |m, _| {
                seen.insert(m.to_vec());
            });
            step += 1;
            z.remove(format!("m{}", 100 + step).as_bytes());
            z.insert(format!("new{step}").as_bytes(), 0.5);
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(format!("m{i}").as_bytes()), "m{i} missed");
        }
    }

    #[test]
    fn compaction_keeps_content_and_shrinks() {
        let mut z = ZSet::new();
        for i in 0..10_000 {
            z.insert(format!("m{i}").as_bytes(), (i % 97) as f64);
        }
        for i in 0..9_900 {
            z.remove(format!("m{i}").as_bytes());
        }
        assert_eq!(z.len(), 100);
        assert!(z.slots.len() < 1000, "slots {}", z.slots.len());
        let mut model = std::collections::HashMap::new();
        for i in 9_900..10_000 {
            model.insert(format!("m{i}").into_bytes(), (i % 97) as f64);
            assert_eq!(z.score(format!("m{i}").as_bytes()), Some((i % 97) as f64));
        }
        check(&z, &model);
    }

    #[test]
    fn from_pairs_matches_inserts() {
        let mut rng = SmallRng::seed_from_u64(3);
        for n in [0usize, 1, 5, 48, 49, 200, 5000] {
            let mut model = std::collections::HashMap::new();
            for i in 0..n {
                model.insert(format!("p{i}").into_bytes(), rng.gen_range(0..20) as f64);
            }
            let pairs: Vec<(&[u8], f64)> = model.iter().map(|(m, s)| (m.as_slice(), *s)).collect();
            let mut z = ZSet::from_pairs(pairs);
            check(&z, &model);
            for i in 0..n / 2 {
                let k = format!("p{i}").into_bytes();
                assert_eq!(z.remove(&k), model.remove(&k));
                z.insert(b"extra", i as f64);
                model.insert(b"extra".to_vec(), i as f64);
            }
            check(&z, &model);
        }
    }

    #[test]
    fn memory_per_element_is_small() {
        let mut z = ZSet::new();
        let n = 100_000;
        for i in 0..n {
            z.insert(format!("member:{i}").as_bytes(), (i % 1000) as f64);
        }
        let per = z.heap_size() / n;
        // Slot 32 + table ~5-10 + leaf ~5-8; Redis's skiplist encoding needs ~100.
        eprintln!("zset heap bytes per element: {per}");
        assert!(per <= 64, "{per} bytes per element");
    }

    #[test]
    fn negative_zero_is_stored_as_zero() {
        let mut z = ZSet::new();
        z.insert(b"a", -0.0);
        assert!(z.score(b"a").unwrap().is_sign_positive());
        assert_eq!(z.insert(b"a", -0.0), Some(0.0));
        assert!(z.score(b"a").unwrap().is_sign_positive());
        z.insert(b"b", 0.0);
        assert_eq!(z.rank(b"b"), Some(1));
    }
}
