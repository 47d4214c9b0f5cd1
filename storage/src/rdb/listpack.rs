//! Listpack (listpack.c): a builder that encodes as Redis's lpAppend does, and a
//! bounds-checked decoder.

use super::util::string2ll;

pub const HDR: usize = 6;
const EOF_BYTE: u8 = 0xFF;
const NUMELE_UNKNOWN: usize = 65535;

/// One decoded listpack element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ele<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Ele<'_> {
    /// The element as Redis's lpGet would give it to a command: integers in decimal.
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Ele::Int(v) => v.to_string().into_bytes(),
            Ele::Str(s) => s.to_vec(),
        }
    }
    pub fn as_int(self) -> Option<i64> {
        match self {
            Ele::Int(v) => Some(v),
            Ele::Str(s) => string2ll(s),
        }
    }
}

/// Bytes `lpEncodeBacklen` uses for an entry of `l` bytes.
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2097151 {
        3
    } else if l < 268435455 {
        4
    } else {
        5
    }
}

fn push_backlen(buf: &mut Vec<u8>, l: usize) {
    match backlen_size(l) {
        1 => buf.push(l as u8),
        2 => buf.extend_from_slice(&[(l >> 7) as u8, ((l & 127) | 128) as u8]),
        3 => buf.extend_from_slice(&[
            (l >> 14) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
        4 => buf.extend_from_slice(&[
            (l >> 21) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
        _ => buf.extend_from_slice(&[
            (l >> 28) as u8,
            (((l >> 21) & 127) | 128) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
    }
}

/// Encoded size of an integer element (without backlen).
fn int_enc_size(v: i64) -> usize {
    if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (-32768..=32767).contains(&v) {
        3
    } else if (-8388608..=8388607).contains(&v) {
        4
    } else if (-2147483648..=2147483647).contains(&v) {
        5
    } else {
        9
    }
}

fn str_enc_size(len: usize) -> usize {
    if len < 64 {
        1 + len
    } else if len < 4096 {
        2 + len
    } else {
        5 + len
    }
}

/// Bytes an element adds to a listpack (encoding, data and backlen), as lpAppend
/// would encode it.
pub fn entry_size(s: &[u8]) -> usize {
    let l = match string2ll(s) {
        Some(v) => int_enc_size(v),
        None => str_enc_size(s.len()),
    };
    l + backlen_size(l)
}

pub fn int_entry_size(v: i64) -> usize {
    let l = int_enc_size(v);
    l + backlen_size(l)
}

/// Builds a listpack the way a sequence of lpAppend / lpAppendInteger calls does.
#[derive(Clone, Debug)]
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; HDR]);
        Builder { buf, count: 0 }
    }
    /// lpBytes of the finished listpack.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }
    pub fn count(&self) -> usize {
        self.count
    }
    /// lpAppend: a string, stored as an integer when it is one in canonical form.
    pub fn push_str(&mut self, s: &[u8]) {
        match string2ll(s) {
            Some(v) => self.push_int(v),
            None => {
                let start = self.buf.len();
                let len = s.len();
                if len < 64 {
                    self.buf.push(0x80 | len as u8);
                } else if len < 4096 {
                    self.buf
                        .extend_from_slice(&[0xE0 | (len >> 8) as u8, len as u8]);
                } else {
                    self.buf.push(0xF0);
                    self.buf.extend_from_slice(&(len as u32).to_le_bytes());
                }
                self.buf.extend_from_slice(s);
                let l = self.buf.len() - start;
                push_backlen(&mut self.buf, l);
                self.count += 1;
            }
        }
    }
    /// lpAppendInteger.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        match int_enc_size(v) {
            1 => self.buf.push(v as u8),
            2 => {
                let u = (v as u64 & 0x1fff) as u16;
                self.buf
                    .extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
            }
            3 => {
                self.buf.push(0xF1);
                self.buf.extend_from_slice(&(v as i16).to_le_bytes());
            }
            4 => {
                self.buf.push(0xF2);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            5 => {
                self.buf.push(0xF3);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                self.buf.push(0xF4);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        let l = self.buf.len() - start;
        push_backlen(&mut self.buf, l);
        self.count += 1;
    }
    /// Appends another builder's elements.
    pub fn append(&mut self, other: Builder) {
        self.buf.extend_from_slice(&other.buf[HDR..]);
        self.count += other.count;
    }
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF_BYTE);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let n = self.count.min(NUMELE_UNKNOWN) as u16;
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Decodes every element, checking the header, each entry's bounds and backlen, and
/// the terminator.
pub fn decode(lp: &[u8]) -> Result<Vec<Ele<'_>>, &'static str> {
    if lp.len() < HDR + 1 {
        return Err("listpack too short");
    }
    let total = u32::from_le_bytes(lp[0..4].try_into().unwrap()) as usize;
    if total != lp.len() {
        return Err("listpack length mismatch");
    }
    let numele = u16::from_le_bytes(lp[4..6].try_into().unwrap()) as usize;
    let mut out = Vec::with_capacity(numele.min(lp.len() / 2));
    let mut p = HDR;
    loop {
        let b = *lp.get(p).ok_or("listpack entry out of range")?;
        if b == EOF_BYTE {
            if p + 1 != lp.len() {
                return Err("listpack terminator not at end");
            }
            break;
        }
        let need = |n: usize| -> Result<&[u8], &'static str> {
            lp.get(p..p + n).ok_or("listpack entry out of range")
        };
        let (ele, l) = if b & 0x80 == 0 {
            (Ele::Int((b & 0x7f) as i64), 1)
        } else if b & 0xC0 == 0x80 {
            let len = (b & 0x3f) as usize;
            let d = need(1 + len)?;
            (Ele::Str(&d[1..]), 1 + len)
        } else if b & 0xE0 == 0xC0 {
            let d = need(2)?;
            let u = (((d[0] & 0x1f) as u64) << 8) | d[1] as u64;
            (Ele::Int(sign_extend(u, 13)), 2)
        } else if b & 0xF0 == 0xE0 {
            let d = need(2)?;
            let len = (((d[0] & 0x0f) as usize) << 8) | d[1] as usize;
            let d = need(2 + len)?;
            (Ele::Str(&d[2..]), 2 + len)
        } else {
            match b {
                0xF0 => {
                    let d = need(5)?;
                    let len = u32::from_le_bytes(d[1..5].try_into().unwrap()) as usize;
                    let d = lp
                        .get(
                            p..p.checked_add(5 + len)
                                .ok_or("listpack entry out of range")?,
                        )
                        .ok_or("listpack entry out of range")?;
                    (Ele::Str(&d[5..]), 5 + len)
                }
                0xF1 => {
                    let d = need(3)?;
                    (Ele::Int(i16::from_le_bytes([d[1], d[2]]) as i64), 3)
                }
                0xF2 => {
                    let d = need(4)?;
                    let u = d[1] as u64 | (d[2] as u64) << 8 | (d[3] as u64) << 16;
                    (Ele::Int(sign_extend(u, 24)), 4)
                }
                0xF3 => {
                    let d = need(5)?;
                    (
                        Ele::Int(i32::from_le_bytes(d[1..5].try_into().unwrap()) as i64),
                        5,
                    )
                }
                0xF4 => {
                    let d = need(9)?;
                    (Ele::Int(i64::from_le_bytes(d[1..9].try_into().unwrap())), 9)
                }
                _ => return Err("listpack bad encoding"),
            }
        };
        p += l;
        // Backlen: check it encodes `l`.
        let bl = backlen_size(l);
        let back = lp.get(p..p + bl).ok_or("listpack entry out of range")?;
        let mut v: usize = 0;
        for (i, &x) in back.iter().enumerate() {
            if (i == 0) == (x & 0x80 != 0) {
                return Err("listpack bad backlen");
            }
            v = (v << 7) | (x & 0x7f) as usize;
        }
        if v != l {
            return Err("listpack bad backlen");
        }
        p += bl;
        out.push(ele);
    }
    if numele != NUMELE_UNKNOWN && numele != out.len() {
        return Err("listpack count mismatch");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_encodings() {
        let strs: Vec<Vec<u8>> = vec![
            b"a".to_vec(),
            vec![b'x'; 63],
            vec![b'y'; 64],
            vec![b'z'; 4095],
            vec![b'w'; 4096],
            vec![b'v'; 20000],
            b"007".to_vec(),
        ];
        let ints = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8388607,
            -8388608,
            8388608,
            2147483647,
            -2147483648,
            2147483648,
            i64::MAX,
            i64::MIN,
        ];
        let mut b = Builder::new();
        for s in &strs {
            b.push_str(s);
        }
        for v in ints {
            b.push_int(v);
            b.push_str(v.to_string().as_bytes());
        }
        let predicted: usize = HDR
            + 1
            + strs.iter().map(|s| entry_size(s)).sum::<usize>()
            + ints.iter().map(|v| 2 * int_entry_size(*v)).sum::<usize>();
        assert_eq!(b.bytes(), predicted);
        let lp = b.finish();
        assert_eq!(lp.len(), predicted);
        let d = decode(&lp).unwrap();
        let mut i = 0;
        for s in &strs {
            assert_eq!(d[i], Ele::Str(s));
            i += 1;
        }
        for v in ints {
            assert_eq!(d[i], Ele::Int(v));
            assert_eq!(d[i + 1], Ele::Int(v));
            i += 2;
        }
    }

    #[test]
    fn known_bytes() {
        // DUMP of RPUSH l a b 1 2 on redis 7.0: listpack 11 00 00 00 04 00 81 61 02 81 62 02 01 01 02 01 ff
        let mut b = Builder::new();
        for e in [&b"a"[..], b"b", b"1", b"2"] {
            b.push_str(e);
        }
        assert_eq!(
            b.finish(),
            vec![0x11, 0, 0, 0, 4, 0, 0x81, 0x61, 2, 0x81, 0x62, 2, 1, 1, 2, 1, 0xff]
        );
    }

    #[test]
    fn hostile() {
        let mut b = Builder::new();
        b.push_str(b"hello");
        b.push_int(1000);
        let lp = b.finish();
        for i in 0..lp.len() {
            let _ = decode(&lp[..i]);
            for bit in 0..8 {
                let mut x = lp.clone();
                x[i] ^= 1 << bit;
                let _ = decode(&x);
            }
        }
    }
}
