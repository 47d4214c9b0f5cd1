//! Lists. Redis 7.0 keeps every list as a quicklist; a ring buffer gives the same O(1)
//! ends and O(n) middle operations.

use super::SBytes;

pub type List = std::collections::VecDeque<SBytes>;

/// Normalizes a Redis range (`start`/`stop`, negative from the tail) against `len`,
/// as LRANGE and LTRIM do. `None` when the range is empty.
pub fn range_bounds(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

/// A Redis index (negative from the tail) as a position, if in range.
pub fn index(idx: i64, len: usize) -> Option<usize> {
    let i = if idx < 0 { len as i64 + idx } else { idx };
    if i < 0 || i >= len as i64 {
        None
    } else {
        Some(i as usize)
    }
}

/// LREM: removes up to `count` occurrences of `ele` (all when 0, from the tail when
/// negative). Returns how many were removed.
pub fn remove_matching(list: &mut List, ele: &[u8], count: i64) -> usize {
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs().min(usize::MAX as u64) as usize
    };
    let n = list.len();
    let mut remove = vec![false; n];
    let mut removed = 0;
    let positions: Box<dyn Iterator<Item = usize>> = if count < 0 {
        Box::new((0..n).rev())
    } else {
        Box::new(0..n)
    };
    for i in positions {
        if removed >= limit {
            break;
        }
        if list[i].as_bytes() == ele {
            remove[i] = true;
            removed += 1;
        }
    }
    if removed > 0 {
        let mut i = 0;
        list.retain(|_| {
            let keep = !remove[i];
            i += 1;
            keep
        });
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(items: &[&str]) -> List {
        items.iter().map(|s| SBytes::from(*s)).collect()
    }

    #[test]
    fn ranges() {
        assert_eq!(range_bounds(0, -1, 3), Some((0, 2)));
        assert_eq!(range_bounds(-100, 100, 3), Some((0, 2)));
        assert_eq!(range_bounds(2, 1, 3), None);
        assert_eq!(range_bounds(3, 5, 3), None);
        assert_eq!(range_bounds(0, 0, 0), None);
        assert_eq!(range_bounds(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(index(-1, 3), Some(2));
        assert_eq!(index(-4, 3), None);
        assert_eq!(index(3, 3), None);
        assert_eq!(index(i64::MIN, 3), None);
    }

    #[test]
    fn lrem_directions() {
        let mut a = l(&["x", "a", "x", "b", "x"]);
        assert_eq!(remove_matching(&mut a, b"x", -2), 2);
        assert_eq!(a, l(&["x", "a", "b"]));
        let mut a = l(&["x", "a", "x", "b", "x"]);
        assert_eq!(remove_matching(&mut a, b"x", 1), 1);
        assert_eq!(a, l(&["a", "x", "b", "x"]));
        assert_eq!(remove_matching(&mut a, b"x", 0), 2);
        assert_eq!(a, l(&["a", "b"]));
        assert_eq!(remove_matching(&mut a, b"x", i64::MIN), 0);
    }
}
