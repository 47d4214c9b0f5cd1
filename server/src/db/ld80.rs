//! x87 80-bit `long double` arithmetic, as Redis's INCRBYFLOAT and HINCRBYFLOAT do it: the
//! one implementation both commands use.
//!
//! Redis parses both operands with `strtold`, adds them in 80-bit extended precision (64-bit
//! mantissa) and prints the sum with `"%.17Lf"` minus trailing zeros. Doing the same in `f64`
//! gives visibly different replies (`0.1 + 0.2` is `0.3` in Redis, and `1e300` prints its
//! exact long double expansion), so this module emulates the format exactly: correctly
//! rounded decimal and hex parsing, round-half-even addition, exact fixed-point printing.
//! Exact values are carried in a small bignum; inputs are at most 5119 characters.

use std::cmp::Ordering;

/// Lowest exponent of the least significant mantissa bit (smallest subnormal is 2^-16445).
const MIN_LSB: i64 = -16445;
/// Highest exponent of the most significant mantissa bit.
const MAX_TOP: i64 = 16383;
/// Redis's MAX_LONG_DOUBLE_CHARS: longer inputs are rejected.
const MAX_CHARS: usize = 5 * 1024;

/// A long double value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ld {
    Zero {
        neg: bool,
    },
    Inf {
        neg: bool,
    },
    Nan,
    /// `mant * 2^exp`; `mant`'s top bit is set unless the value is subnormal.
    Fin {
        neg: bool,
        mant: u64,
        exp: i64,
    },
}

impl Ld {
    pub fn is_finite(&self) -> bool {
        matches!(self, Ld::Zero { .. } | Ld::Fin { .. })
    }
}

/// Unsigned bignum, little-endian 32-bit limbs, no leading zero limbs.
#[derive(Clone, Debug, Default)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }
    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
    fn bit_len(&self) -> i64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as i64 - 1) * 32 + (32 - top.leading_zeros() as i64),
        }
    }
    fn bit(&self, i: i64) -> bool {
        if i < 0 {
            return false;
        }
        let (w, b) = ((i / 32) as usize, i % 32);
        w < self.0.len() && (self.0[w] >> b) & 1 == 1
    }
    /// True if any bit below `i` is set.
    fn any_below(&self, i: i64) -> bool {
        if i <= 0 {
            return false;
        }
        let w = (i / 32) as usize;
        let b = i % 32;
        if self.0.iter().take(w).any(|&x| x != 0) {
            return true;
        }
        b > 0 && w < self.0.len() && self.0[w] & ((1u32 << b) - 1) != 0
    }
    fn mul_small(&mut self, m: u32) {
        let mut carry: u64 = 0;
        for x in self.0.iter_mut() {
            let v = *x as u64 * m as u64 + carry;
            *x = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }
    fn add_small(&mut self, a: u32) {
        let mut carry = a as u64;
        for x in self.0.iter_mut() {
            if carry == 0 {
                return;
            }
            let v = *x as u64 + carry;
            *x = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }
    fn mul_pow10(&mut self, mut e: u32) {
        while e >= 9 {
            self.mul_small(1_000_000_000);
            e -= 9;
        }
        if e > 0 {
            self.mul_small(10u32.pow(e));
        }
    }
    fn shl(&self, n: i64) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let (w, b) = ((n / 32) as usize, (n % 32) as u32);
        let mut out = vec![0u32; w];
        if b == 0 {
            out.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u32;
            for &x in &self.0 {
                out.push((x << b) | carry);
                carry = x >> (32 - b);
            }
            out.push(carry);
        }
        let mut r = Big(out);
        r.trim();
        r
    }
    fn shr(&self, n: i64) -> Big {
        let (w, b) = ((n / 32) as usize, (n % 32) as u32);
        if w >= self.0.len() {
            return Big::default();
        }
        let src = &self.0[w..];
        let mut out = Vec::with_capacity(src.len());
        for i in 0..src.len() {
            let lo = src[i] >> b;
            let hi = if b > 0 && i + 1 < src.len() {
                src[i + 1] << (32 - b)
            } else {
                0
            };
            out.push(lo | hi);
        }
        let mut r = Big(out);
        r.trim();
        r
    }
    fn cmp(&self, o: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&o.0.len())
            .then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }
    /// self -= o, requires self >= o.
    fn sub_assign(&mut self, o: &Big) {
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let v = self.0[i] as i64 - o.0.get(i).copied().unwrap_or(0) as i64 - borrow;
            if v < 0 {
                self.0[i] = (v + (1i64 << 32)) as u32;
                borrow = 1;
            } else {
                self.0[i] = v as u32;
                borrow = 0;
            }
        }
        self.trim();
    }
    fn add(&self, o: &Big) -> Big {
        let n = self.0.len().max(o.0.len());
        let mut out = Vec::with_capacity(n + 1);
        let mut carry = 0u64;
        for i in 0..n {
            let v = self.0.get(i).copied().unwrap_or(0) as u64
                + o.0.get(i).copied().unwrap_or(0) as u64
                + carry;
            out.push(v as u32);
            carry = v >> 32;
        }
        out.push(carry as u32);
        let mut r = Big(out);
        r.trim();
        r
    }
    fn low_u64(&self) -> u64 {
        self.0.first().copied().unwrap_or(0) as u64
            | (self.0.get(1).copied().unwrap_or(0) as u64) << 32
    }
    /// Divides in place by a small number, returning the remainder.
    fn divmod_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for x in self.0.iter_mut().rev() {
            let v = (rem << 32) | *x as u64;
            *x = (v / d as u64) as u32;
            rem = v % d as u64;
        }
        self.trim();
        rem as u32
    }
    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.divmod_small(1_000_000_000));
        }
        let mut s = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
        for c in chunks.iter().rev() {
            s.push_str(&format!("{:09}", c));
        }
        s
    }
}

/// Rounds `n * 2^shift` (plus a little more when `sticky`) to the nearest long double,
/// ties to even, with gradual underflow and overflow to infinity.
fn round_big(neg: bool, n: &Big, shift: i64, sticky: bool) -> Ld {
    if n.is_zero() {
        return Ld::Zero { neg };
    }
    let top = n.bit_len() - 1 + shift;
    if top > MAX_TOP {
        return Ld::Inf { neg };
    }
    let mut lsb = (top - 63).max(MIN_LSB);
    let drop = lsb - shift;
    let mant: u64 = if drop <= 0 {
        n.shl(-drop).low_u64()
    } else {
        let kept = n.shr(drop).low_u64();
        let half = n.bit(drop - 1);
        let rest = sticky || n.any_below(drop - 1);
        if half && (rest || kept & 1 == 1) {
            match kept.checked_add(1) {
                Some(k) => k,
                None => {
                    lsb += 1;
                    1u64 << 63
                }
            }
        } else {
            kept
        }
    };
    if mant == 0 {
        return Ld::Zero { neg };
    }
    if lsb + 63 - mant.leading_zeros() as i64 > MAX_TOP {
        return Ld::Inf { neg };
    }
    Ld::Fin {
        neg,
        mant,
        exp: lsb,
    }
}

fn digit_val(c: u8, hex: bool) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some((c - b'0') as u32),
        b'a'..=b'f' if hex => Some((c - b'a' + 10) as u32),
        b'A'..=b'F' if hex => Some((c - b'A' + 10) as u32),
        _ => None,
    }
}

/// Parses like Redis's `string2ld`: `strtold` must consume the whole input, no leading
/// space, no NaN, and no overflow or underflow to zero.
pub fn parse(b: &[u8]) -> Option<Ld> {
    if b.is_empty() || b.len() >= MAX_CHARS {
        return None;
    }
    let (neg, rest) = match b[0] {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let lower = rest.to_ascii_lowercase();
    if lower == b"inf" || lower == b"infinity" {
        return Some(Ld::Inf { neg });
    }
    if lower.starts_with(b"nan") {
        return None;
    }
    let hex = lower.len() > 2 && lower.starts_with(b"0x") && digit_val(lower[2], true).is_some()
        || lower.len() > 3 && lower.starts_with(b"0x.") && digit_val(lower[3], true).is_some();
    let body = if hex { &rest[2..] } else { rest };
    let mut mant = Big::default();
    let mut ndigits = 0usize; // significant digits kept in `mant`
    let mut frac_digits: i64 = 0;
    let mut seen_digit = false;
    let mut seen_dot = false;
    let radix = if hex { 16 } else { 10 };
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c == b'.' && !seen_dot {
            seen_dot = true;
        } else if let Some(d) = digit_val(c, hex) {
            seen_digit = true;
            if ndigits > 0 || d != 0 {
                mant.mul_small(radix);
                mant.add_small(d);
                ndigits += 1;
            }
            if seen_dot {
                frac_digits += 1;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !seen_digit {
        return None;
    }
    let mut exp10: i64 = 0;
    if i < body.len() {
        let marker = if hex { b'p' } else { b'e' };
        if body[i].to_ascii_lowercase() != marker {
            return None;
        }
        i += 1;
        let mut eneg = false;
        if i < body.len() && (body[i] == b'+' || body[i] == b'-') {
            eneg = body[i] == b'-';
            i += 1;
        }
        if i >= body.len() {
            return None;
        }
        while i < body.len() {
            let d = digit_val(body[i], false)? as i64;
            exp10 = (exp10 * 10 + d).min(1 << 40);
            i += 1;
        }
        if eneg {
            exp10 = -exp10;
        }
    }
    if mant.is_zero() {
        return Some(Ld::Zero { neg });
    }
    let v = if hex {
        round_big(neg, &mant, exp10 - 4 * frac_digits, false)
    } else {
        let e = exp10 - frac_digits;
        let magnitude = ndigits as i64 + e; // value < 10^magnitude
        if magnitude > 4934 {
            Ld::Inf { neg }
        } else if magnitude < -4960 {
            Ld::Zero { neg }
        } else if e >= 0 {
            let mut n = mant;
            n.mul_pow10(e as u32);
            round_big(neg, &n, 0, false)
        } else {
            let mut den = Big::from_u64(1);
            den.mul_pow10((-e) as u32);
            // Scale so the quotient has ~68 bits, then divide bit by bit.
            let k = 68 + den.bit_len() - mant.bit_len();
            let (mut num, den) = if k >= 0 {
                (mant.shl(k), den)
            } else {
                (mant, den.shl(-k))
            };
            let mut q: u128 = 0;
            for bit in (0..72).rev() {
                let d = den.shl(bit);
                if num.cmp(&d) != Ordering::Less {
                    num.sub_assign(&d);
                    q |= 1u128 << bit;
                }
            }
            let qb = Big::from_u64(q as u64).add(&Big::from_u64((q >> 64) as u64).shl(64));
            round_big(neg, &qb, -k, !num.is_zero())
        }
    };
    match v {
        Ld::Inf { .. } | Ld::Zero { .. } => None, // ERANGE
        v => Some(v),
    }
}

/// `a + b` rounded to long double.
pub fn add(a: Ld, b: Ld) -> Ld {
    match (a, b) {
        (Ld::Nan, _) | (_, Ld::Nan) => Ld::Nan,
        (Ld::Inf { neg: x }, Ld::Inf { neg: y }) => {
            if x == y {
                a
            } else {
                Ld::Nan
            }
        }
        (Ld::Inf { .. }, _) => a,
        (_, Ld::Inf { .. }) => b,
        (Ld::Zero { neg: x }, Ld::Zero { neg: y }) => Ld::Zero { neg: x && y },
        (Ld::Zero { .. }, _) => b,
        (_, Ld::Zero { .. }) => a,
        (
            Ld::Fin {
                neg: na,
                mant: ma,
                exp: ea,
            },
            Ld::Fin {
                neg: nb,
                mant: mb,
                exp: eb,
            },
        ) => {
            let e = ea.min(eb);
            let ba = Big::from_u64(ma).shl(ea - e);
            let bb = Big::from_u64(mb).shl(eb - e);
            if na == nb {
                round_big(na, &ba.add(&bb), e, false)
            } else {
                match ba.cmp(&bb) {
                    Ordering::Equal => Ld::Zero { neg: false },
                    Ordering::Greater => {
                        let mut d = ba;
                        d.sub_assign(&bb);
                        round_big(na, &d, e, false)
                    }
                    Ordering::Less => {
                        let mut d = bb;
                        d.sub_assign(&ba);
                        round_big(nb, &d, e, false)
                    }
                }
            }
        }
    }
}

/// Redis's `ld2string(.., LD_STR_HUMAN)`: `"%.17Lf"`, trailing zeros (and a trailing dot)
/// removed, `-0` printed as `0`.
pub fn format_human(v: Ld) -> String {
    let (neg, int_part, frac) = match v {
        Ld::Nan => return "nan".into(),
        Ld::Inf { neg } => return if neg { "-inf".into() } else { "inf".into() },
        Ld::Zero { .. } => return "0".into(),
        Ld::Fin { neg, mant, exp } => {
            if exp >= 0 {
                (
                    neg,
                    Big::from_u64(mant).shl(exp).to_decimal(),
                    String::new(),
                )
            } else {
                let s = -exp;
                let mut n = Big::from_u64(mant);
                n.mul_pow10(17);
                let mut q = n.shr(s);
                let half = n.bit(s - 1);
                if half && (n.any_below(s - 1) || q.bit(0)) {
                    q.add_small(1);
                }
                let frac = q.divmod_small(1_000_000_000) as u64;
                let frac = frac + q.divmod_small(100_000_000) as u64 * 1_000_000_000;
                (neg, q.to_decimal(), format!("{:017}", frac))
            }
        }
    };
    let frac = frac.trim_end_matches('0');
    let mut out = String::with_capacity(int_part.len() + frac.len() + 2);
    if neg && !(int_part == "0" && frac.is_empty()) {
        out.push('-');
    }
    out.push_str(&int_part);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> String {
        format_human(add(
            parse(a.as_bytes()).unwrap(),
            parse(b.as_bytes()).unwrap(),
        ))
    }

    #[test]
    fn matches_redis_incrbyfloat() {
        // Expected values are redis-server 7.0.15's replies.
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("10.5", "0.1"), "10.6");
        assert_eq!(sum("17179869184", "1.5"), "17179869185.5");
        assert_eq!(sum("1", "-1.1"), "-0.1");
        assert_eq!(sum("0", "-0"), "0");
        assert_eq!(sum("0", "0x10"), "16");
        assert_eq!(sum("0", "0x1p-3"), "0.125");
        assert_eq!(sum("1e5", "1"), "100001");
        assert_eq!(sum("0", "1.0e-4000"), "0");
        assert_eq!(
            sum("0.3", "1e300"),
            "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144"
        );
        assert_eq!(
            sum("0", "1.7976931348623157e308"),
            "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384"
        );
        assert_eq!(sum("5.0e3", "0"), "5000");
        assert_eq!(sum("3.0e3", "-0.5"), "2999.5");
        // Also redis-server 7.0.15's (HINCRBYFLOAT and INCRBYFLOAT agree).
        assert_eq!(sum("1.1", "2.2"), "3.3");
        assert_eq!(sum("0", "5e20"), "500000000000000000000");
        assert_eq!(sum("0", "1.23456789012345678"), "1.23456789012345678");
        assert_eq!(sum("1003", "0.0000001"), "1003.0000001");
        assert_eq!(sum("1003.0000001", "-1000.0000001"), "3");
        assert_eq!(sum("0", "-0.001"), "-0.001");
        assert_eq!(
            sum("123456789", "0.123456789"),
            "123456789.12345678899873747"
        );
        assert_eq!(
            sum("123456789.12345678899873747", "0.000000001"),
            "123456789.12345678999554366"
        );
        assert_eq!(sum("1", "1e-20"), "1");
        assert_eq!(sum("0", "-1e-20"), "0");
        assert_eq!(sum("1e30", "1"), "1000000000000000000024696061952");
        assert_eq!(
            sum("123456789012345678901234567890", "1"),
            "123456789012345678899921813504"
        );
        assert_eq!(sum("1e17", "0.5"), "100000000000000000.5");
        // Past f64's range, still finite in long double.
        assert!(sum("1e308", "1e308").starts_with("199999999999999999993371759311691291321"));
        assert!(sum("0", "1e400").starts_with("100000000000000000002818806839475865145"));
    }

    #[test]
    fn parse_rules() {
        for bad in [
            "", " 1", "1 ", "abc", "1e", "e5", ".", "nan", "-nan", "1e-5000", "1e5000", "0x",
            "1.5x",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert!(parse(b"1e4932").unwrap().is_finite());
        assert_eq!(parse(b"inf"), Some(Ld::Inf { neg: false }));
        assert_eq!(parse(b"-Infinity"), Some(Ld::Inf { neg: true }));
        assert_eq!(parse(b"+.5"), parse(b"0.5"));
        assert_eq!(parse(b"5."), parse(b"5"));
        assert!(parse(format!("0.{}", "1".repeat(5117)).as_bytes()).is_some());
        assert_eq!(parse(format!("0.{}", "1".repeat(5118)).as_bytes()), None);
        assert_eq!(parse(&[b'1'; 5000]), None, "overflows");
        assert_eq!(
            add(parse(b"inf").unwrap(), parse(b"-inf").unwrap()),
            Ld::Nan
        );
    }
}
