//! HyperLogLog in Redis 7.0's representation (`hyperloglog.c`), byte for byte, so a value
//! made here reads the same on redis-server and the other way round.
//!
//! A HyperLogLog is a plain string value:
//!
//! ```text
//! +------+---+-----+----------+----------------------------------+
//! | HYLL | E | N/U | Cardin.  | registers (dense) or opcodes     |
//! +------+---+-----+----------+----------------------------------+
//!   4      1   3     8 (LE, MSB of byte 15 set = cache invalid)
//! ```
//!
//! - Dense (E = 0): 16384 registers of 6 bits, packed from the LSB of each byte on.
//! - Sparse (E = 1): run-length opcodes, ZERO `00xxxxxx` (1..64 zero registers), XZERO
//!   `01xxxxxx yyyyyyyy` (1..16384 zero registers), VAL `1vvvvvxx` (value 1..32, 1..4
//!   registers). A sparse value turns dense when a register exceeds 32 or the string would
//!   outgrow `hll-sparse-max-bytes`.
//!
//! The estimator is Redis 7.0's: the register histogram fed to Ertl's improved raw
//! estimator (tau/sigma), see [`count`].

/// Header size: magic, encoding, 3 unused bytes, cached cardinality.
pub const HDR_SIZE: usize = 16;
const P: u32 = 14;
/// Bits of the hash left after the register index.
const Q: usize = 64 - P as usize;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
const REGISTER_MAX: u16 = 63;
/// Length of a dense HyperLogLog string.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * 6).div_ceil(8);
/// Encoding byte values.
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = 1;
const HASH_SEED: u64 = 0xadc83b19;
/// 0.5 / ln(2).
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

const XZERO_BIT: u8 = 0x40;
const VAL_BIT: u8 = 0x80;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;

/// The value is a HyperLogLog whose registers do not add up (INVALIDOBJ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

// ---------------------------------------------------------------------------------------
// Sparse opcodes

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}
fn is_xzero(b: u8) -> bool {
    b & 0xc0 == XZERO_BIT
}
fn is_val(b: u8) -> bool {
    b & VAL_BIT != 0
}
fn zero_len(b: u8) -> usize {
    (b & 0x3f) as usize + 1
}
/// `next` is the byte after the opcode; Redis reads the sds terminator (0) past the end.
fn xzero_len(b: u8, next: u8) -> usize {
    ((((b & 0x3f) as usize) << 8) | next as usize) + 1
}
fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}
fn val_len(b: u8) -> usize {
    (b & 0x3) as usize + 1
}
fn val_op(val: u8, len: usize) -> u8 {
    ((val - 1) << 2 | (len as u8 - 1)) | VAL_BIT
}
fn zero_op(len: usize) -> u8 {
    (len - 1) as u8
}
fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | XZERO_BIT, (l & 0xff) as u8]
}
/// The byte at `i`, or the 0 of Redis's sds terminator past the end.
fn byte_at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Dense registers

/// Register `i` of a dense register array.
#[inline]
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = regs[byte] as u16;
    let b1 = byte_at(regs, byte + 1) as u16;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX) as u8
}

/// Sets register `i` of a dense register array to `val` (0..=63).
#[inline]
fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let fb8 = 8 - fb;
    let v = val as u16;
    regs[byte] &= !(REGISTER_MAX << fb) as u8;
    regs[byte] |= (v << fb) as u8;
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !(REGISTER_MAX >> fb8) as u8;
        *b |= (v >> fb8) as u8;
    }
}

/// hllDenseSet: raises register `i` to `count`; true if it changed.
#[inline]
fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------------------
// Hashing

/// MurmurHash64A as Redis has it (endian-neutral: 8-byte blocks read little endian).
/// Hand-written because the exact variant, including its `len * m` seeding, is the format.
pub fn murmurhash64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4a7935bd1e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let chunks = key.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u64::from_le_bytes(c.try_into().expect("invariant: 8-byte chunk"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// hllPatLen: the register an element maps to and the length of its run of zeroes + 1.
#[inline]
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let mut hash = murmurhash64a(ele, HASH_SEED);
    let index = (hash & P_MASK) as usize;
    hash >>= P;
    hash |= 1u64 << Q;
    (index, hash.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------------------
// Header

/// A new, empty HyperLogLog: sparse, one XZERO covering every register, cache valid at 0.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_SIZE + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(XZERO_MAX_LEN);
        v.extend_from_slice(&xzero_op(n));
        left -= n;
    }
    v
}

/// isHLLObjectOrReply's checks on a string value: magic, known encoding, and for dense
/// the exact length.
pub fn is_valid(s: &[u8]) -> bool {
    s.len() >= HDR_SIZE
        && &s[..4] == b"HYLL"
        && s[4] <= MAX_ENCODING
        && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

/// The encoding byte (of a value that passed [`is_valid`]).
pub fn encoding(s: &[u8]) -> u8 {
    s[4]
}

/// The cached cardinality, if the cache is valid.
pub fn cached_card(s: &[u8]) -> Option<u64> {
    (s[15] & 0x80 == 0).then(|| u64::from_le_bytes(s[8..16].try_into().expect("invariant")))
}

/// Stores `card` as the cached cardinality (which makes the cache valid).
pub fn set_cached_card(s: &mut [u8], card: u64) {
    s[8..16].copy_from_slice(&card.to_le_bytes());
}

/// Marks the cached cardinality stale.
pub fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

// ---------------------------------------------------------------------------------------
// Updates

/// hllAdd: adds one element; true if a register changed (the cache is not touched here:
/// PFADD invalidates it once for all its elements).
pub fn add(s: &mut Vec<u8>, ele: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    set_register(s, index, count, sparse_max)
}

/// Raises register `index` to `count` in either encoding; true if it changed.
pub fn set_register(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    match s[4] {
        DENSE => Ok(dense_set(&mut s[HDR_SIZE..], index, count)),
        SPARSE => sparse_set(s, index, count, sparse_max),
        _ => Err(Corrupt),
    }
}

/// hllSparseToDense: converts in place; Ok(true) if it was sparse. The header (magic,
/// unused bytes, cached cardinality) is kept.
pub fn sparse_to_dense(s: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if s[4] == DENSE {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&s[..HDR_SIZE]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    let mut idx = 0usize;
    let mut p = HDR_SIZE;
    while p < s.len() {
        let b = s[p];
        if is_zero(b) {
            idx += zero_len(b);
            p += 1;
        } else if is_xzero(b) {
            idx += xzero_len(b, byte_at(s, p + 1));
            p += 2;
        } else {
            let runlen = val_len(b);
            let regval = val_value(b);
            if runlen + idx > REGISTERS {
                break;
            }
            for r in idx..idx + runlen {
                dense_put(regs, r, regval);
            }
            idx += runlen;
            p += 1;
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *s = dense;
    Ok(true)
}

/// hllSparseSet: raises register `index` to `count`, splitting the opcode that covers it
/// and merging equal neighbours, or promoting to dense when needed.
fn sparse_set(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let mut end = s.len();
    let mut p = HDR_SIZE;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let b = s[p];
        let oplen;
        if is_zero(b) {
            span = zero_len(b);
            oplen = 1;
        } else if is_val(b) {
            span = val_len(b);
            oplen = 1;
        } else {
            span = xzero_len(b, byte_at(s, p + 1));
            oplen = 2;
        }
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let b = s[p];
    let (zero, xzero) = (is_zero(b), is_xzero(b));
    let runlen = if zero {
        zero_len(b)
    } else if xzero {
        xzero_len(b, byte_at(s, p + 1))
    } else {
        val_len(b)
    };

    // Step 2: the in-place cases (a VAL already high enough, a VAL or ZERO of length 1),
    // then the general split.
    let mut done = false;
    if !zero && !xzero {
        if val_value(b) >= count {
            return Ok(false);
        }
        if runlen == 1 {
            s[p] = val_op(count, 1);
            done = true;
        }
    }
    if !done && zero && runlen == 1 {
        s[p] = val_op(count, 1);
        done = true;
    }
    if !done {
        let mut seq = [0u8; 5];
        let mut n = 0;
        let last = first + span - 1;
        if zero || xzero {
            let mut put_zeroes = |n: &mut usize, len: usize| {
                if len > ZERO_MAX_LEN {
                    seq[*n..*n + 2].copy_from_slice(&xzero_op(len));
                    *n += 2;
                } else {
                    seq[*n] = zero_op(len);
                    *n += 1;
                }
            };
            if index != first {
                put_zeroes(&mut n, index - first);
            }
            let mut tail = [0u8; 5];
            let mut tn = 0;
            if index != last {
                let len = last - index;
                if len > ZERO_MAX_LEN {
                    tail[..2].copy_from_slice(&xzero_op(len));
                    tn = 2;
                } else {
                    tail[0] = zero_op(len);
                    tn = 1;
                }
            }
            seq[n] = val_op(count, 1);
            n += 1;
            seq[n..n + tn].copy_from_slice(&tail[..tn]);
            n += tn;
        } else {
            let curval = val_value(b);
            if index != first {
                seq[n] = val_op(curval, index - first);
                n += 1;
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                seq[n] = val_op(curval, last - index);
                n += 1;
            }
        }
        // Step 3: substitute the sequence for the old opcode.
        let oldlen = if xzero { 2 } else { 1 };
        if n > oldlen && s.len() + (n - oldlen) > sparse_max {
            return promote(s, index, count);
        }
        let newlen = s.len() + n - oldlen;
        let next = (p + oldlen).min(s.len());
        if n > oldlen {
            s.reserve_exact(n - oldlen);
        }
        s.splice(p..next, seq[..n].iter().copied());
        // An XZERO cut short by the end of the string (corrupt) loses its last byte, as
        // Redis's length arithmetic does.
        s.truncate(newlen);
        end = s.len();
    }

    // Step 4: merge adjacent VALs of equal value, scanning up to 5 opcodes from `prev`.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scanlen = 5;
    while p < end && scanlen > 0 {
        scanlen -= 1;
        let b = s[p];
        if is_xzero(b) {
            p += 2;
            continue;
        } else if is_zero(b) {
            p += 1;
            continue;
        }
        if p + 1 < end && is_val(s[p + 1]) {
            let v1 = val_value(b);
            let v2 = val_value(s[p + 1]);
            if v1 == v2 {
                let len = val_len(b) + val_len(s[p + 1]);
                if len <= VAL_MAX_LEN {
                    s[p + 1] = val_op(v1, len);
                    s.remove(p);
                    end -= 1;
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(s);
    Ok(true)
}

/// Converts to dense and sets the register there.
fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(s)?;
    Ok(dense_set(&mut s[HDR_SIZE..], index, count))
}

// ---------------------------------------------------------------------------------------
// Reading

/// hllMerge: `max[i] = max(max[i], register i)` over the registers of `s`.
pub fn merge(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), Corrupt> {
    if s[4] == DENSE {
        let regs = &s[HDR_SIZE..];
        for (i, m) in max.iter_mut().enumerate() {
            let v = dense_get(regs, i);
            if v > *m {
                *m = v;
            }
        }
        return Ok(());
    }
    let mut i = 0usize;
    let mut p = HDR_SIZE;
    while p < s.len() {
        let b = s[p];
        if is_zero(b) {
            i += zero_len(b);
            p += 1;
        } else if is_xzero(b) {
            i += xzero_len(b, byte_at(s, p + 1));
            p += 2;
        } else {
            let runlen = val_len(b);
            let regval = val_value(b);
            if runlen + i > REGISTERS {
                break;
            }
            for m in &mut max[i..i + runlen] {
                if regval > *m {
                    *m = regval;
                }
            }
            i += runlen;
            p += 1;
        }
    }
    if i != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

/// How many registers hold each value, for a dense or sparse HyperLogLog string.
fn histogram(s: &[u8]) -> Result<[u32; 64], Corrupt> {
    let mut h = [0u32; 64];
    if s[4] == DENSE {
        // Four 6-bit registers per three bytes.
        for c in s[HDR_SIZE..].chunks_exact(3) {
            let w = c[0] as u32 | (c[1] as u32) << 8 | (c[2] as u32) << 16;
            h[(w & 63) as usize] += 1;
            h[((w >> 6) & 63) as usize] += 1;
            h[((w >> 12) & 63) as usize] += 1;
            h[(w >> 18) as usize] += 1;
        }
        return Ok(h);
    }
    let mut idx = 0usize;
    let mut p = HDR_SIZE;
    while p < s.len() {
        let b = s[p];
        if is_zero(b) {
            let n = zero_len(b);
            idx += n;
            h[0] += n as u32;
            p += 1;
        } else if is_xzero(b) {
            let n = xzero_len(b, byte_at(s, p + 1));
            idx += n;
            h[0] += n as u32;
            p += 2;
        } else {
            let n = val_len(b);
            idx += n;
            h[val_value(b) as usize] += n as u32;
            p += 1;
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    Ok(h)
}

/// Histogram of a raw register array (one byte per register), as PFCOUNT of several keys
/// builds it.
fn raw_histogram(max: &[u8; REGISTERS]) -> [u32; 64] {
    let mut h = [0u32; 64];
    for &r in max.iter() {
        h[(r & 63) as usize] += 1;
    }
    h
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        // Redis writes pow(1 - x, 2), which the compiler turns into this product.
        z -= (1.0 - x) * (1.0 - x) * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// Ertl's estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
/// arXiv:1702.01284) over the register histogram, as Redis 7.0's hllCount.
fn estimate(h: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// hllCount of a dense or sparse HyperLogLog string (ignoring the cache).
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    Ok(estimate(&histogram(s)?))
}

/// hllCount of merged raw registers (PFCOUNT of several keys).
pub fn count_raw(max: &[u8; REGISTERS]) -> u64 {
    estimate(&raw_histogram(max))
}

/// Every register of a dense HyperLogLog string (PFDEBUG GETREG).
pub fn registers(s: &[u8]) -> Vec<u8> {
    let regs = &s[HDR_SIZE..];
    (0..REGISTERS).map(|i| dense_get(regs, i)).collect()
}

/// The opcodes of a sparse HyperLogLog string as PFDEBUG DECODE prints them:
/// `z:<len>`, `Z:<len>`, `v:<value>,<len>`, space separated.
pub fn decode(s: &[u8]) -> String {
    let mut out = Vec::new();
    let mut p = HDR_SIZE;
    while p < s.len() {
        let b = s[p];
        if is_zero(b) {
            out.push(format!("z:{}", zero_len(b)));
            p += 1;
        } else if is_xzero(b) {
            out.push(format!("Z:{}", xzero_len(b, byte_at(s, p + 1))));
            p += 2;
        } else {
            out.push(format!("v:{},{}", val_value(b), val_len(b)));
            p += 1;
        }
    }
    out.join(" ")
}

/// PFSELFTEST: register access on random values, then 10 million adds into a dense and a
/// sparse HyperLogLog checking encoding, agreement and error at powers of ten. The error
/// text is the reply after `ERR `.
pub fn selftest(rng: &mut impl rand::Rng, sparse_max: usize) -> Result<(), String> {
    const TEST_CYCLES: usize = 1000;
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut bytecounters = [0u8; REGISTERS];
    for _ in 0..TEST_CYCLES {
        let regs = &mut dense[HDR_SIZE..];
        for (i, c) in bytecounters.iter_mut().enumerate() {
            let r = rng.gen::<u8>() & REGISTER_MAX as u8;
            *c = r;
            dense_put(regs, i, r);
        }
        for (i, &c) in bytecounters.iter().enumerate() {
            let val = dense_get(regs, i);
            if val != c {
                return Err(format!(
                    "TESTFAILED Register {i} should be {c} but is {val}"
                ));
            }
        }
    }
    dense[HDR_SIZE..].fill(0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed: u64 = rng.gen();
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_ne_bytes();
        let (index, cnt) = pat_len(&ele);
        dense_set(&mut dense[HDR_SIZE..], index, cnt);
        set_register(&mut sparse, index, cnt, sparse_max).map_err(|_| "TESTFAILED corrupt")?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let dc = count(&dense).map_err(|_| "TESTFAILED corrupt")?;
        if Ok(dc) != count(&sparse) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - dc as i64).unsigned_abs();
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add_all(s: &mut Vec<u8>, items: impl Iterator<Item = String>) -> usize {
        items
            .filter(|e| add(s, e.as_bytes(), 3000).expect("valid"))
            .count()
    }

    #[test]
    fn empty_is_one_xzero() {
        let s = new_sparse();
        assert_eq!(s.len(), 18);
        assert_eq!(&s[..5], b"HYLL\x01");
        assert_eq!(&s[16..], &[0x7f, 0xff]);
        assert!(is_valid(&s));
        assert_eq!(decode(&s), "Z:16384");
        assert_eq!(count(&s), Ok(0));
        assert_eq!(cached_card(&s), Some(0));
    }

    #[test]
    fn murmur_known_values() {
        // MurmurHash64A reference values (seed 0), and Redis's seed on a short key.
        assert_eq!(murmurhash64a(b"", 0), 0);
        assert_ne!(
            murmurhash64a(b"a", HASH_SEED),
            murmurhash64a(b"b", HASH_SEED)
        );
        let long = murmurhash64a(b"0123456789abcdef!", HASH_SEED);
        assert_ne!(long, murmurhash64a(b"0123456789abcdef?", HASH_SEED));
    }

    #[test]
    fn dense_registers_roundtrip_without_touching_neighbours() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
        for i in 0..REGISTERS {
            dense_put(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8, "register {i}");
        }
        dense_put(&mut regs, REGISTERS - 1, 63);
        assert_eq!(dense_get(&regs, REGISTERS - 1), 63);
        assert_eq!(
            dense_get(&regs, REGISTERS - 2),
            ((REGISTERS - 2) % 64) as u8
        );
    }

    #[test]
    fn sparse_and_dense_agree_and_promote() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        sparse_to_dense(&mut dense).expect("valid");
        assert_eq!(dense.len(), DENSE_SIZE);
        let mut n = 0;
        while sparse[4] == SPARSE {
            let e = format!("ele:{n}");
            add(&mut sparse, e.as_bytes(), 3000).expect("valid");
            add(&mut dense, e.as_bytes(), 3000).expect("valid");
            n += 1;
            if n % 97 == 0 {
                assert_eq!(count(&sparse), count(&dense), "after {n}");
                let mut converted = sparse.clone();
                sparse_to_dense(&mut converted).expect("valid");
                assert_eq!(&converted[HDR_SIZE..], &dense[HDR_SIZE..], "after {n}");
                assert!(sparse.len() <= 3000);
            }
        }
        assert!(n > 500, "promoted after {n}");
        assert_eq!(&sparse[HDR_SIZE..], &dense[HDR_SIZE..]);
    }

    #[test]
    fn estimates_are_close() {
        let mut s = new_sparse();
        add_all(&mut s, (0..20000).map(|i| format!("k{i}")));
        let c = count(&s).expect("valid") as f64;
        assert!((c - 20000.0).abs() < 20000.0 * 0.03, "{c}");
        let mut s = new_sparse();
        assert_eq!(add_all(&mut s, (0..10).map(|i| format!("k{i}"))), 10);
        assert_eq!(count(&s), Ok(10));
    }

    #[test]
    fn merge_takes_maxima() {
        let mut a = new_sparse();
        let mut b = new_sparse();
        add_all(&mut a, (0..300).map(|i| format!("a{i}")));
        add_all(&mut b, (0..5000).map(|i| format!("b{i}")));
        let mut all = new_sparse();
        add_all(&mut all, (0..300).map(|i| format!("a{i}")));
        add_all(&mut all, (0..5000).map(|i| format!("b{i}")));
        let mut max = [0u8; REGISTERS];
        merge(&mut max, &a).expect("valid");
        merge(&mut max, &b).expect("valid");
        assert_eq!(count_raw(&max), count(&all).expect("valid"));
    }

    #[test]
    fn corrupt_sparse_is_detected() {
        let mut s = new_sparse();
        s[16] = 0x00; // Z:16384 -> z:1 + a stray byte
        assert_eq!(count(&s), Err(Corrupt));
        assert_eq!(sparse_to_dense(&mut s.clone()), Err(Corrupt));
        let mut max = [0u8; REGISTERS];
        assert_eq!(merge(&mut max, &s), Err(Corrupt));
        let mut t = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0".to_vec();
        assert_eq!(add(&mut t, b"x", 3000), Err(Corrupt));
        assert!(!is_valid(b"HYLL\0\0\0\0\0\0\0\0\0\0\0\0xx"));
        assert!(!is_valid(b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0"));
        assert!(!is_valid(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\0"));
        assert!(!is_valid(b"HYLL"));
    }

    #[test]
    fn same_bytes_as_redis() {
        // redis-server 7.0.15: PFADD h a b c, then GET h (before and after PFCOUNT h).
        let mut s = new_sparse();
        for e in ["a", "b", "c"] {
            add(&mut s, e.as_bytes(), 3000).expect("valid");
        }
        invalidate_cache(&mut s);
        let body = b"`\xf3\x80P\xb1\x84K\xfb\x80BZ";
        let mut want = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
        want.extend_from_slice(body);
        assert_eq!(s, want);
        assert_eq!(count(&s), Ok(3));
    }

    #[test]
    fn cache_bits() {
        let mut s = new_sparse();
        invalidate_cache(&mut s);
        assert_eq!(cached_card(&s), None);
        set_cached_card(&mut s, 1234);
        assert_eq!(cached_card(&s), Some(1234));
    }
}
