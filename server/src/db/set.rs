//! Sets: an IndexSet, so SPOP/SRANDMEMBER pick in O(1) and SSCAN walks indexes.

use super::SBytes;

pub type Set = indexmap::IndexSet<SBytes, ahash::RandomState>;
