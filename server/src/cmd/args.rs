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

/// A SCAN cursor as Redis's `parseScanCursorOrReply` reads it (`strtoul`): optional sign,
/// decimal digits, a negative value wraps ("-1" is 2^64-1), "" is 0; leading spaces,
/// trailing bytes and overflow are rejected.
pub fn parse_cursor(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// A cursor argument: [`parse_cursor`] or "ERR invalid cursor". The *SCAN commands check
/// it before looking up the key, as Redis does.
pub fn cursor_arg(b: &[u8]) -> Result<u64, CmdError> {
    parse_cursor(b).ok_or_else(|| CmdError::err("invalid cursor"))
}

/// Options of SCAN, SSCAN, HSCAN and ZSCAN.
#[derive(Debug, Clone)]
pub struct ScanArgs {
    pub cursor: u64,
    pub pattern: Option<Bytes>,
    pub count: usize,
    /// SCAN's TYPE filter (lowercase type name as TYPE reports it).
    pub type_filter: Option<String>,
}

/// Parses `cursor [MATCH pattern] [COUNT count] [TYPE type]` starting at `argv[cursor_idx]`.
/// `allow_type` is true only for SCAN. Errors follow Redis's `scanGenericCommand`.
pub fn parse_scan(
    argv: &[Bytes],
    cursor_idx: usize,
    allow_type: bool,
) -> Result<ScanArgs, CmdError> {
    let cursor = parse_cursor(&argv[cursor_idx]).ok_or_else(|| CmdError::err("invalid cursor"))?;
    let mut out = ScanArgs {
        cursor,
        pattern: None,
        count: 10,
        type_filter: None,
    };
    let mut i = cursor_idx + 1;
    while i < argv.len() {
        let has_val = i + 1 < argv.len();
        if eq_ic(&argv[i], "COUNT") && has_val {
            let c = int_arg(&argv[i + 1])?;
            if c < 1 {
                return Err(CmdError::Syntax);
            }
            out.count = c as usize;
        } else if eq_ic(&argv[i], "MATCH") && has_val {
            // "*" matches everything; skip the glob work as Redis does.
            out.pattern = if &argv[i + 1][..] == b"*" {
                None
            } else {
                Some(argv[i + 1].clone())
            };
        } else if allow_type && eq_ic(&argv[i], "TYPE") && has_val {
            out.type_filter = Some(String::from_utf8_lossy(&argv[i + 1]).to_ascii_lowercase());
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(out)
}

/// The SCAN-family reply: `[cursor, [items...]]`.
pub fn scan_reply(cursor: u64, items: Vec<rill_protocol::Reply>) -> rill_protocol::Reply {
    rill_protocol::Reply::Array(vec![
        rill_protocol::Reply::Bulk(Bytes::from(cursor.to_string())),
        rill_protocol::Reply::Array(items),
    ])
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursor_reads_like_strtoul() {
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"1x"), None);
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
    }
}
