//! Sorted sets. PLACEHOLDER: to be replaced by an order-statistic structure with
//! O(log n) rank; this stub fixes the type name and the minimal API other families use
//! (`len`, `iter` in score order, `Clone`).

use super::SBytes;

#[derive(Clone, Debug, Default)]
pub struct ZSet {
    pub dict: std::collections::HashMap<SBytes, f64>,
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    /// (member, score) pairs in (score, member) order.
    pub fn iter(&self) -> impl Iterator<Item = (&SBytes, f64)> + '_ {
        let mut v: Vec<(&SBytes, f64)> = self.dict.iter().map(|(m, s)| (m, *s)).collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)));
        v.into_iter()
    }
}
