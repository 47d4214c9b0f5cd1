//! Sorted sets. PLACEHOLDER: to be replaced by an order-statistic structure with
//! O(log n) rank; this stub only fixes the type name.

use super::SBytes;

#[derive(Clone, Debug, Default)]
pub struct ZSet {
    pub dict: std::collections::HashMap<SBytes, f64>,
}
