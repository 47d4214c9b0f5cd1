//! connection integration tests.

#[allow(unused_imports)]
use crate::common::*;
