//! Sets: an IndexSet, so SPOP/SRANDMEMBER pick in O(1) and SSCAN walks indexes.
//!
//! Redis 7.0 stores a set of at most `set-max-intset-entries` (512) integers as a sorted
//! intset and replies its members in numeric order; [`is_intset`] says when a set
//! would be one, and replies follow that order.

use super::SBytes;
use rill_protocol::fmt::parse_i64;

pub type Set = indexmap::IndexSet<SBytes, ahash::RandomState>;

/// Redis's default `set-max-intset-entries`.
pub const MAX_INTSET_ENTRIES: usize = 512;

/// True if Redis 7.0 would encode these members as an intset.
pub fn is_intset<'a>(len: usize, mut members: impl Iterator<Item = &'a SBytes>) -> bool {
    len <= MAX_INTSET_ENTRIES && members.all(|m| parse_i64(m).is_some())
}

/// Members in the order Redis would reply them: numeric for an intset, else as stored.
pub fn reply_order(set: &Set) -> Vec<&SBytes> {
    let mut v: Vec<&SBytes> = set.iter().collect();
    sort_if_intset(&mut v);
    v
}

/// Sorts numerically if the members would form an intset.
pub fn sort_if_intset(v: &mut [&SBytes]) {
    if is_intset(v.len(), v.iter().copied()) {
        v.sort_by_key(|m| parse_i64(m).unwrap_or(0));
    }
}

/// One SSCAN step over the set's indexes, walking downward like
/// [`super::scan_indexmap`], so members present throughout are never missed.
pub fn scan(set: &Set, cursor: u64, count: usize, mut visit: impl FnMut(&SBytes)) -> u64 {
    super::scan_positions(set.len(), cursor, count, |i| {
        if let Some(m) = set.get_index(i) {
            visit(m);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_order() {
        let s: Set = ["10", "-2", "3"].iter().map(|x| SBytes::from(*x)).collect();
        let v: Vec<&[u8]> = reply_order(&s).into_iter().map(|m| m.as_bytes()).collect();
        assert_eq!(v, vec![&b"-2"[..], b"3", b"10"]);
        let s: Set = ["10", "a", "3"].iter().map(|x| SBytes::from(*x)).collect();
        let v: Vec<&[u8]> = reply_order(&s).into_iter().map(|m| m.as_bytes()).collect();
        assert_eq!(v, vec![&b"10"[..], b"a", b"3"]);
        // "01" is not an integer for Redis, so no intset.
        assert!(!is_intset(1, [SBytes::from("01")].iter()));
    }

    #[test]
    fn scan_visits_all() {
        let s: Set = (0..100).map(SBytes::from_i64).collect();
        let mut seen = std::collections::HashSet::new();
        let mut c = 0;
        loop {
            c = scan(&s, c, 7, |m| {
                seen.insert(m.clone());
            });
            if c == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 100);
    }
}
