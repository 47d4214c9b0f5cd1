//! Number formatting that matches Redis 7.0's C formatting exactly.

/// Formats like C's `printf("%.17g", d)`, which Redis 7.0 uses for double replies
/// (ZSCORE, WITHSCORES, RESP3 doubles). `inf`/`-inf` as Redis spells them.
pub fn double_g17(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // 17 significant digits, correctly rounded, as glibc does.
    let sci = format!("{:.16e}", d);
    let (mant, exp) = sci
        .split_once('e')
        .expect("invariant: {:e} has an exponent");
    let exp: i32 = exp.parse().expect("invariant: exponent is an integer");
    if !(-4..17).contains(&exp) {
        let mut m = mant.to_string();
        if m.contains('.') {
            while m.ends_with('0') {
                m.pop();
            }
            if m.ends_with('.') {
                m.pop();
            }
        }
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (16 - exp).max(0) as usize;
        let mut s = format!("{:.*}", decimals, d);
        if s.contains('.') {
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        }
        s
    }
}

/// Formats like Redis's `ld2string(.., LD_STR_HUMAN)` used by INCRBYFLOAT and
/// HINCRBYFLOAT: positional notation, no exponent, shortest round-trip digits.
pub fn double_human(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{}", d);
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// Parses a double the way Redis's `string2d`/`strtold` accepts it: no spaces,
/// no empty string, `inf`/`-inf`/`+inf` allowed, NaN rejected.
pub fn parse_double(b: &[u8]) -> Option<f64> {
    if b.is_empty() || b.len() > 5120 {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    if s.starts_with(|c: char| c.is_whitespace()) || s.ends_with(|c: char| c.is_whitespace()) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            if lower.contains("inf") || lower.contains("nan") {
                return None;
            }
            // strtod accepts hex floats too, but Redis clients never rely on them.
            s.parse::<f64>().ok()?
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Parses a signed 64-bit integer exactly as Redis's `string2ll`: no leading `+`,
/// no leading zeros (except "0"), no spaces, fits in i64.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b.len() == 1 && b[0] == b'0' {
        return Some(0);
    }
    let (neg, digits) = if b[0] == b'-' {
        (true, &b[1..])
    } else {
        (false, b)
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17_matches_redis() {
        assert_eq!(double_g17(1.1), "1.1000000000000001");
        assert_eq!(double_g17(0.1), "0.10000000000000001");
        assert_eq!(double_g17(1e20), "1e+20");
        assert_eq!(double_g17(1.0), "1");
        assert_eq!(double_g17(-2.5), "-2.5");
        assert_eq!(double_g17(123456.0), "123456");
        assert_eq!(double_g17(0.0001), "0.0001");
        assert_eq!(double_g17(0.00001), "1.0000000000000001e-05");
        assert_eq!(double_g17(f64::INFINITY), "inf");
        assert_eq!(double_g17(1e16), "10000000000000000");
        assert_eq!(double_g17(1e17), "1e+17");
    }

    #[test]
    fn human_matches_redis() {
        assert_eq!(double_human(10.6), "10.6");
        assert_eq!(double_human(5200.0), "5200");
        assert_eq!(double_human(1e20), "100000000000000000000");
    }

    #[test]
    fn i64_rules() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
    }

    #[test]
    fn double_rules() {
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double(b"nan"), None);
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b""), None);
    }
}
