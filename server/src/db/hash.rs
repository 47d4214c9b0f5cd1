//! Hashes: an IndexMap, so HRANDFIELD picks in O(1) and HSCAN walks indexes.
//!
//! Redis 7.0 keeps small hashes (at most `hash-max-listpack-entries` = 128 fields,
//! fields and values at most `hash-max-listpack-value` = 64 bytes) as a listpack: insertion
//! order is kept across deletes and HSCAN returns everything in one call.
//! [`is_listpack`] says when a hash would be one.
//!
//! Also here: HINCRBYFLOAT arithmetic ([`incr_float`]), which matches Redis's long double
//! results by adding in exact decimal where long double would be exact.

use super::SBytes;
use rill_protocol::fmt::parse_double;

pub type Hash = indexmap::IndexMap<SBytes, SBytes, ahash::RandomState>;

/// Redis's default `hash-max-listpack-entries`.
pub const MAX_LISTPACK_ENTRIES: usize = 128;
/// Redis's default `hash-max-listpack-value`.
pub const MAX_LISTPACK_VALUE: usize = 64;

/// True if Redis 7.0 would encode this hash as a listpack.
pub fn is_listpack(h: &Hash) -> bool {
    h.len() <= MAX_LISTPACK_ENTRIES
        && h.iter()
            .all(|(k, v)| k.len() <= MAX_LISTPACK_VALUE && v.len() <= MAX_LISTPACK_VALUE)
}

/// Removes a field, keeping insertion order for listpack-sized hashes as Redis does.
pub fn remove_field(h: &mut Hash, field: &[u8]) -> Option<SBytes> {
    if h.len() <= MAX_LISTPACK_ENTRIES {
        h.shift_remove(field)
    } else {
        h.swap_remove(field)
    }
}

/// Why a float increment failed.
#[derive(Debug, PartialEq, Eq)]
pub enum IncrFloatError {
    /// The current value is not a float.
    NotFloat,
    /// The result would be NaN or infinite.
    NanOrInf,
}

/// A decimal `mant * 10^exp`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Dec {
    mant: i128,
    exp: i32,
}

const MAX_DEC_DIGITS: usize = 36;

fn parse_dec(b: &[u8]) -> Option<Dec> {
    let (neg, mut rest) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let mut mant: i128 = 0;
    let mut digits = 0usize;
    let mut any = false;
    let mut exp: i32 = 0;
    let mut seen_dot = false;
    while let Some(&c) = rest.first() {
        match c {
            b'0'..=b'9' => {
                any = true;
                if mant != 0 || c != b'0' {
                    digits += 1;
                }
                if digits > MAX_DEC_DIGITS {
                    return None;
                }
                mant = mant * 10 + (c - b'0') as i128;
                if seen_dot {
                    exp -= 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        rest = &rest[1..];
    }
    if !any {
        return None;
    }
    if let Some(&c) = rest.first() {
        if c != b'e' && c != b'E' {
            return None;
        }
        let e = std::str::from_utf8(&rest[1..]).ok()?;
        if e.is_empty() || e.starts_with('+') && e.len() == 1 {
            return None;
        }
        let e: i32 = e.parse().ok()?;
        if !(-400..=400).contains(&e) {
            return None;
        }
        exp += e;
    }
    Some(Dec {
        mant: if neg { -mant } else { mant },
        exp,
    })
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

fn add_dec(a: Dec, b: Dec) -> Option<Dec> {
    let exp = a.exp.min(b.exp);
    let am = a.mant.checked_mul(pow10((a.exp - exp) as u32)?)?;
    let bm = b.mant.checked_mul(pow10((b.exp - exp) as u32)?)?;
    Some(Dec {
        mant: am.checked_add(bm)?,
        exp,
    })
}

/// Formats as Redis's `%.17Lf` with trailing zeros trimmed would, when the long double
/// holding this value prints exactly; `None` otherwise.
fn format_dec(d: Dec) -> Option<String> {
    let Dec { mut mant, mut exp } = d;
    if exp < -17 {
        // Round to 17 decimals, half away from zero.
        let div = pow10((-17 - exp) as u32)?;
        let q = mant / div;
        let r = mant % div;
        mant = if r.abs() * 2 >= div {
            q + r.signum()
        } else {
            q
        };
        exp = -17;
    }
    while exp < 0 && mant % 10 == 0 && mant != 0 {
        mant /= 10;
        exp += 1;
    }
    if mant == 0 {
        return Some("0".into());
    }
    let digits = mant.unsigned_abs().to_string();
    // A long double carries ~19.2 significant digits; stay well inside them.
    if digits.len() > 18 {
        return None;
    }
    if exp >= 0 {
        // The integer must be exact in a 64-bit mantissa.
        let v = mant.checked_mul(pow10(exp as u32)?)?.unsigned_abs();
        let odd = v >> v.trailing_zeros();
        if odd >= 1u128 << 64 {
            return None;
        }
        let s = v.to_string();
        return Some(if mant < 0 { format!("-{s}") } else { s });
    }
    let frac = (-exp) as usize;
    let padded = if digits.len() <= frac {
        format!("{}{}", "0".repeat(frac - digits.len() + 1), digits)
    } else {
        digits
    };
    let (int, dec) = padded.split_at(padded.len() - frac);
    let sign = if mant < 0 { "-" } else { "" };
    Some(format!("{sign}{int}.{dec}"))
}

/// Shortest decimal within two ulps of `v`, positional: how a long double computation
/// of a short decimal sum prints when the f64 result carries rounding noise.
fn format_f64(v: f64) -> String {
    let ulp = f64::from_bits(v.abs().to_bits() + 1) - v.abs();
    for p in 1..=17 {
        let s = format!("{:.*e}", p - 1, v);
        if let Ok(pv) = s.parse::<f64>() {
            if (pv - v).abs() <= 2.0 * ulp {
                return trim_neg_zero(format!("{pv}"));
            }
        }
    }
    trim_neg_zero(format!("{v}"))
}

fn trim_neg_zero(s: String) -> String {
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// HINCRBYFLOAT/INCRBYFLOAT: `current + incr`, formatted as Redis stores and replies it.
/// `incr` must already be a valid, finite float (checked by the caller with Redis's
/// argument errors). `current` is `None` for a missing field.
pub fn incr_float(current: Option<&[u8]>, incr: &[u8]) -> Result<String, IncrFloatError> {
    let cur = current.unwrap_or(b"0");
    let cur_f = parse_double(cur).ok_or(IncrFloatError::NotFloat)?;
    let inc_f = parse_double(incr).ok_or(IncrFloatError::NotFloat)?;
    let v = cur_f + inc_f;
    if !v.is_finite() {
        return Err(IncrFloatError::NanOrInf);
    }
    if let (Some(a), Some(b)) = (parse_dec(cur), parse_dec(incr)) {
        if let Some(s) = add_dec(a, b).and_then(format_dec) {
            return Ok(s);
        }
    }
    Ok(format_f64(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(cur: Option<&str>, by: &str) -> String {
        incr_float(cur.map(|c| c.as_bytes()), by.as_bytes()).unwrap()
    }

    #[test]
    fn incr_float_matches_redis_long_double_output() {
        // Expected values are redis-server 7.0.15's replies.
        assert_eq!(inc(Some("0.1"), "0.2"), "0.3");
        assert_eq!(inc(Some("10"), "1.5"), "11.5");
        assert_eq!(inc(None, "3"), "3");
        assert_eq!(inc(Some("3"), "1.0e3"), "1003");
        assert_eq!(inc(Some("1003"), "0.0000001"), "1003.0000001");
        assert_eq!(inc(Some("1003.0000001"), "-1000.0000001"), "3");
        assert_eq!(inc(Some("1.1"), "2.2"), "3.3");
        assert_eq!(inc(None, "5e20"), "500000000000000000000");
        assert_eq!(inc(None, "1.23456789012345678"), "1.23456789012345678");
        assert_eq!(inc(Some("-1"), "1"), "0");
        assert_eq!(inc(Some("5"), "-0.5"), "4.5");
        assert_eq!(inc(Some("0"), "-0.001"), "-0.001");
    }

    #[test]
    fn incr_float_errors() {
        assert_eq!(
            incr_float(Some(b"abc"), b"1"),
            Err(IncrFloatError::NotFloat)
        );
        assert_eq!(
            incr_float(Some(b"1e308"), b"1e308"),
            Err(IncrFloatError::NanOrInf)
        );
        assert_eq!(
            incr_float(Some(b"inf"), b"1"),
            Err(IncrFloatError::NanOrInf)
        );
    }

    #[test]
    fn listpack_rules() {
        let mut h = Hash::default();
        h.insert("a".into(), "1".into());
        h.insert("b".into(), "2".into());
        h.insert("c".into(), "3".into());
        assert!(is_listpack(&h));
        remove_field(&mut h, b"a");
        let keys: Vec<&[u8]> = h.keys().map(|k| k.as_bytes()).collect();
        assert_eq!(keys, vec![&b"b"[..], b"c"]);
        h.insert("big".into(), SBytes::new(&[b'x'; 65]));
        assert!(!is_listpack(&h));
    }
}
