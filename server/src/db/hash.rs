//! Hashes: an IndexMap, so HRANDFIELD picks in O(1) and HSCAN walks indexes.

use super::SBytes;

pub type Hash = indexmap::IndexMap<SBytes, SBytes, ahash::RandomState>;
