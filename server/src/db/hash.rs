//! Hashes: an IndexMap, so HRANDFIELD picks in O(1) and HSCAN walks indexes.
//!
//! Redis 7.0 keeps small hashes (at most `hash-max-listpack-entries` = 128 fields,
//! fields and values at most `hash-max-listpack-value` = 64 bytes) as a listpack: insertion
//! order is kept across deletes and HSCAN returns everything in one call.
//! [`is_listpack`] says when a hash would be one.
//!
//! Also here: HINCRBYFLOAT arithmetic ([`incr_float`]), which reproduces Redis's x87
//! `long double` results (64-bit mantissa, `%.17Lf` output) bit for bit below 2^127.

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

/// An x87 80-bit `long double` as Redis 7.0 computes HINCRBYFLOAT with:
/// `(-1)^neg * m * 2^e` with a 64-bit mantissa, normalized (top bit set) unless zero.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LongDouble {
    neg: bool,
    m: u64,
    e: i32,
}

const LD_ZERO: LongDouble = LongDouble {
    neg: false,
    m: 0,
    e: 0,
};

/// Rounds `v * 2^e` (plus a sticky remainder below it) to a 64-bit mantissa,
/// round-half-even as the FPU does.
fn round_to_ld(neg: bool, v: u128, mut e: i32, sticky: bool) -> LongDouble {
    if v == 0 {
        return LD_ZERO;
    }
    let bits = 128 - v.leading_zeros() as i32;
    if bits <= 64 {
        let sh = 64 - bits;
        return LongDouble {
            neg,
            m: (v << sh) as u64,
            e: e - sh,
        };
    }
    let shift = (bits - 64) as u32;
    let mut keep = v >> shift;
    let rem = v & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    if rem > half || (rem == half && (sticky || keep & 1 == 1)) {
        keep += 1;
    }
    e += shift as i32;
    if keep == 1u128 << 64 {
        keep = 1u128 << 63;
        e += 1;
    }
    LongDouble {
        neg,
        m: keep as u64,
        e,
    }
}

/// strtold for plain decimal text (`-12.5`, `1e3`, `.5`); `None` for anything else or
/// out of the range handled exactly here.
fn parse_ld(b: &[u8]) -> Option<LongDouble> {
    let (neg, mut rest) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let mut d: u128 = 0;
    let mut digits = 0usize;
    let mut any = false;
    let mut k: i32 = 0;
    let mut seen_dot = false;
    while let Some(&c) = rest.first() {
        match c {
            b'0'..=b'9' => {
                any = true;
                if d != 0 || c != b'0' {
                    digits += 1;
                }
                if digits > 36 {
                    return None;
                }
                d = d * 10 + (c - b'0') as u128;
                if seen_dot {
                    k -= 1;
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
        let t = std::str::from_utf8(&rest[1..]).ok()?;
        if t.is_empty() || t == "+" || t == "-" {
            return None;
        }
        let x: i32 = t.parse().ok()?;
        if !(-400..=400).contains(&x) {
            return None;
        }
        k += x;
    }
    if d == 0 {
        return Some(LongDouble { neg, ..LD_ZERO });
    }
    if k >= 0 {
        let n = d.checked_mul(10u128.checked_pow(k as u32)?)?;
        return Some(round_to_ld(neg, n, 0, false));
    }
    let p = 10u128.checked_pow((-k) as u32)?;
    // Binary long division of d / p: integer part, then fraction bits by doubling the
    // remainder (2r < 2p <= 2^128 never overflows since p < 2^127).
    let mut acc = d / p;
    let mut r = d % p;
    let mut e = 0i32;
    while acc < 1u128 << 66 {
        let r2 = r << 1;
        acc <<= 1;
        if r2 >= p {
            acc |= 1;
            r = r2 - p;
        } else {
            r = r2;
        }
        e -= 1;
    }
    Some(round_to_ld(neg, acc, e, r != 0))
}

fn add_ld(a: LongDouble, b: LongDouble) -> LongDouble {
    if a.m == 0 {
        return b;
    }
    if b.m == 0 {
        return a;
    }
    let (big, small) = if (a.e, a.m) >= (b.e, b.m) {
        (a, b)
    } else {
        (b, a)
    };
    let d = (big.e - small.e) as u32;
    let bm = (big.m as u128) << 63;
    let base = big.e - 63;
    let sm = if d <= 63 {
        (small.m as u128) << (63 - d)
    } else if d - 63 >= 128 {
        1 // only a sticky bit remains
    } else {
        let sh = d - 63;
        let v = (small.m as u128) >> sh;
        let lost = (small.m as u128) & ((1u128 << sh) - 1) != 0;
        v | lost as u128
    };
    let v = if big.neg == small.neg {
        bm + sm
    } else {
        bm - sm
    };
    round_to_ld(big.neg, v, base, false)
}

/// `printf("%.17Lf")` with trailing zeros (and a bare `.`) trimmed, `-0` as `0`: Redis's
/// `ld2string(.., LD_STR_HUMAN)`. `None` past 2^127, where this u128 arithmetic ends.
fn format_ld(x: LongDouble) -> Option<String> {
    const SCALE: u128 = 100_000_000_000_000_000; // 10^17
    let mut s = if x.m == 0 {
        "0".to_string()
    } else if x.e >= 0 {
        if x.e > 63 {
            return None;
        }
        ((x.m as u128) << x.e).to_string()
    } else {
        let sh = (-x.e) as u32;
        let prod = x.m as u128 * SCALE;
        let q = if sh >= 127 {
            0
        } else {
            let mut q = prod >> sh;
            let rem = prod & ((1u128 << sh) - 1);
            let half = 1u128 << (sh - 1);
            if rem > half || (rem == half && q & 1 == 1) {
                q += 1;
            }
            q
        };
        let mut t = format!("{}.{:017}", q / SCALE, q % SCALE);
        while t.ends_with('0') {
            t.pop();
        }
        if t.ends_with('.') {
            t.pop();
        }
        t
    };
    if x.neg && s != "0" {
        s.insert(0, '-');
    }
    Some(s)
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
    if let (Some(a), Some(b)) = (parse_ld(cur), parse_ld(incr)) {
        if let Some(s) = format_ld(add_ld(a, b)) {
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
        assert_eq!(
            inc(Some("123456789"), "0.123456789"),
            "123456789.12345678899873747"
        );
        assert_eq!(
            inc(Some("123456789.12345678899873747"), "0.000000001"),
            "123456789.12345678999554366"
        );
        assert_eq!(inc(Some("1"), "1e-20"), "1");
        assert_eq!(inc(Some("0"), "-1e-20"), "0");
        assert_eq!(inc(Some("100"), "1e2"), "200");
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
