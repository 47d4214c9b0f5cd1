//! Argument parsing shared by every family, with Redis's error texts.

use super::CmdError;
use bytes::Bytes;
use rill_protocol::fmt::{parse_double, parse_i64};

/// Case-insensitive keyword match (`NX`, `WITHSCORES`, ...).
#[inline]
pub fn eq_ic(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// An integer argument: "ERR value is not an integer or out of range".
pub fn int_arg(b: &[u8]) -> Result<i64, CmdError> {
    parse_i64(b).ok_or(CmdError::NotInteger)
}

/// A float argument: "ERR value is not a valid float".
pub fn float_arg(b: &[u8]) -> Result<f64, CmdError> {
    parse_double(b).ok_or(CmdError::NotFloat)
}

/// A non-negative integer with a custom error (e.g. "ERR value is out of range, must be positive").
pub fn positive_arg(b: &[u8], err: &str) -> Result<i64, CmdError> {
    match parse_i64(b) {
        Some(v) if v >= 0 => Ok(v),
        Some(_) => Err(CmdError::err(err)),
        None => Err(CmdError::NotInteger),
    }
}

/// Lossy UTF-8 for error messages.
pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// argv as owned Bytes vector from string literals (tests, internal calls).
pub fn argv_of(parts: &[&str]) -> Vec<Bytes> {
    parts
        .iter()
        .map(|p| Bytes::copy_from_slice(p.as_bytes()))
        .collect()
}
