//! Redis's number <-> string helpers (util.c): string2ll, d2string.

/// Redis's `string2ll`: `Some` only for an integer in canonical form (no sign `+`, no
/// leading zeros, no spaces, no "-0"), which `ll2string` gives back byte for byte.
pub fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let digits = if s[0] == b'-' { &s[1..] } else { s };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse::<i64>().ok()
}

/// Redis 7.0's `d2string`: integers within 2^52 as `%lld`, else `%.17g`.
pub fn d2string(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let min = -4503599627370495.0;
    let max = 4503599627370496.0;
    if v > min && v < max && v == (v as i64) as f64 {
        return (v as i64).to_string();
    }
    rill_protocol::fmt::double_g17(v)
}

/// Redis's `double2ll`: `Some` for an integral value within +-LLONG_MAX/2.
pub fn double2ll(d: f64) -> Option<i64> {
    const LIM: f64 = (i64::MAX / 2) as f64;
    if !(-LIM..=LIM).contains(&d) {
        return None;
    }
    let ll = d as i64;
    (ll as f64 == d).then_some(ll)
}

/// `strtod` on a score string as Redis stores it (also "inf", "-inf", "nan").
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(s).ok()?;
    match s {
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2ll_canonical() {
        for ok in [
            "0",
            "1",
            "-1",
            "9223372036854775807",
            "-9223372036854775808",
            "120",
        ] {
            assert_eq!(
                string2ll(ok.as_bytes()).map(|v| v.to_string()),
                Some(ok.to_string())
            );
        }
        for bad in [
            "",
            "-0",
            "01",
            "+1",
            " 1",
            "1 ",
            "9223372036854775808",
            "1a",
            "-",
            "1.0",
        ] {
            assert_eq!(string2ll(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn g17() {
        use rill_protocol::fmt::double_g17 as fmt_g17;
        assert_eq!(fmt_g17(1.5), "1.5");
        assert_eq!(fmt_g17(0.1), "0.10000000000000001");
        assert_eq!(fmt_g17(1e20), "1e+20");
        assert_eq!(fmt_g17(1.0e-5), "1.0000000000000001e-05");
        assert_eq!(fmt_g17(0.0001), "0.0001");
        assert_eq!(fmt_g17(-3.25), "-3.25");
        assert_eq!(fmt_g17(9007199254740992.0), "9007199254740992");
        assert_eq!(fmt_g17(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(d2string(3.0), "3");
        assert_eq!(d2string(-0.0), "-0");
        assert_eq!(d2string(f64::INFINITY), "inf");
        assert_eq!(d2string(2.5), "2.5");
    }
}
