//! Lists. Redis 7.0 keeps every list as a quicklist; a ring buffer gives the same O(1)
//! ends and O(n) middle operations.

use super::SBytes;

pub type List = std::collections::VecDeque<SBytes>;
