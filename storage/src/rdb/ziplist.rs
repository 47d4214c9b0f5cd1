//! Legacy encodings Redis still loads: ziplist (ziplist.c), zipmap (zipmap.c), and
//! intset (intset.c, also written).

use super::listpack::Ele;

/// Decodes a ziplist's entries, bounds-checked.
pub fn decode_ziplist(zl: &[u8]) -> Result<Vec<Ele<'_>>, &'static str> {
    const HDR: usize = 10;
    if zl.len() < HDR + 1 {
        return Err("ziplist too short");
    }
    let total = u32::from_le_bytes(zl[0..4].try_into().unwrap()) as usize;
    if total != zl.len() {
        return Err("ziplist length mismatch");
    }
    let tail = u32::from_le_bytes(zl[4..8].try_into().unwrap()) as usize;
    if tail >= zl.len() {
        return Err("ziplist bad tail offset");
    }
    let count = u16::from_le_bytes(zl[8..10].try_into().unwrap()) as usize;
    let mut out = Vec::with_capacity(count.min(zl.len() / 2));
    let mut p = HDR;
    let mut prev_len = 0usize;
    let oob = "ziplist entry out of range";
    loop {
        let start = p;
        let b = *zl.get(p).ok_or(oob)?;
        if b == 0xFF {
            if p + 1 != zl.len() {
                return Err("ziplist terminator not at end");
            }
            break;
        }
        let prevlen = if b < 254 {
            p += 1;
            b as usize
        } else if b == 254 {
            let d = zl.get(p + 1..p + 5).ok_or(oob)?;
            p += 5;
            u32::from_le_bytes(d.try_into().unwrap()) as usize
        } else {
            return Err("ziplist bad prevlen");
        };
        if prevlen != prev_len {
            return Err("ziplist prevlen mismatch");
        }
        let e = *zl.get(p).ok_or(oob)?;
        let need = |from: usize, n: usize| -> Result<&[u8], &'static str> {
            zl.get(from..from.checked_add(n).ok_or(oob)?).ok_or(oob)
        };
        let ele = match e >> 6 {
            0 => {
                let len = (e & 0x3f) as usize;
                let s = need(p + 1, len)?;
                p += 1 + len;
                Ele::Str(s)
            }
            1 => {
                let d = need(p, 2)?;
                let len = (((d[0] & 0x3f) as usize) << 8) | d[1] as usize;
                let s = need(p + 2, len)?;
                p += 2 + len;
                Ele::Str(s)
            }
            2 => {
                if e != 0x80 {
                    return Err("ziplist bad encoding");
                }
                let d = need(p + 1, 4)?;
                let len = u32::from_be_bytes(d.try_into().unwrap()) as usize;
                let s = need(p + 5, len)?;
                p += 5 + len;
                Ele::Str(s)
            }
            _ => {
                let (v, n) = match e {
                    0xC0 => {
                        let d = need(p + 1, 2)?;
                        (i16::from_le_bytes([d[0], d[1]]) as i64, 2)
                    }
                    0xD0 => {
                        let d = need(p + 1, 4)?;
                        (i32::from_le_bytes(d.try_into().unwrap()) as i64, 4)
                    }
                    0xE0 => {
                        let d = need(p + 1, 8)?;
                        (i64::from_le_bytes(d.try_into().unwrap()), 8)
                    }
                    0xF0 => {
                        let d = need(p + 1, 3)?;
                        let u = (d[0] as u32) | (d[1] as u32) << 8 | (d[2] as u32) << 16;
                        (((u << 8) as i32 >> 8) as i64, 3)
                    }
                    0xFE => {
                        let d = need(p + 1, 1)?;
                        (d[0] as i8 as i64, 1)
                    }
                    0xF1..=0xFD => (((e & 0x0f) as i64) - 1, 0),
                    _ => return Err("ziplist bad encoding"),
                };
                p += 1 + n;
                Ele::Int(v)
            }
        };
        prev_len = p - start;
        out.push(ele);
    }
    if count != u16::MAX as usize && count != out.len() {
        return Err("ziplist count mismatch");
    }
    Ok(out)
}

/// Decodes a zipmap (Redis < 2.6 small hashes) into field/value pairs.
pub type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

pub fn decode_zipmap(zm: &[u8]) -> Result<Pairs<'_>, &'static str> {
    let oob = "zipmap entry out of range";
    let mut p = 1usize;
    let mut out = Vec::new();
    let read_len = |p: &mut usize| -> Result<Option<usize>, &'static str> {
        let b = *zm.get(*p).ok_or(oob)?;
        match b {
            0..=253 => {
                *p += 1;
                Ok(Some(b as usize))
            }
            254 => {
                let d = zm.get(*p + 1..*p + 5).ok_or(oob)?;
                *p += 5;
                Ok(Some(u32::from_le_bytes(d.try_into().unwrap()) as usize))
            }
            255 => Ok(None),
        }
    };
    if zm.is_empty() {
        return Err("zipmap too short");
    }
    loop {
        let Some(klen) = read_len(&mut p)? else {
            if p + 1 != zm.len() {
                return Err("zipmap terminator not at end");
            }
            break;
        };
        let k = zm.get(p..p.checked_add(klen).ok_or(oob)?).ok_or(oob)?;
        p += klen;
        let vlen = read_len(&mut p)?.ok_or("zipmap missing value")?;
        let free = *zm.get(p).ok_or(oob)? as usize;
        p += 1;
        let v = zm.get(p..p.checked_add(vlen).ok_or(oob)?).ok_or(oob)?;
        p += vlen + free;
        out.push((k, v));
    }
    Ok(out)
}

/// Decodes an intset's members in stored (ascending) order.
pub fn decode_intset(is: &[u8]) -> Result<Vec<i64>, &'static str> {
    if is.len() < 8 {
        return Err("intset too short");
    }
    let enc = u32::from_le_bytes(is[0..4].try_into().unwrap()) as usize;
    let len = u32::from_le_bytes(is[4..8].try_into().unwrap()) as usize;
    if !matches!(enc, 2 | 4 | 8) {
        return Err("intset bad encoding");
    }
    if len.checked_mul(enc).and_then(|n| n.checked_add(8)) != Some(is.len()) {
        return Err("intset length mismatch");
    }
    let out: Vec<i64> = is[8..]
        .chunks_exact(enc)
        .map(|c| match enc {
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            4 => i32::from_le_bytes(c.try_into().unwrap()) as i64,
            _ => i64::from_le_bytes(c.try_into().unwrap()),
        })
        .collect();
    if out.windows(2).any(|w| w[0] >= w[1]) {
        return Err("intset not sorted");
    }
    Ok(out)
}

/// Encodes sorted, distinct members as an intset of the narrowest width.
pub fn encode_intset(sorted: &[i64]) -> Vec<u8> {
    let enc: usize = match (sorted.first(), sorted.last()) {
        (Some(&lo), Some(&hi)) => {
            if lo >= i16::MIN as i64 && hi <= i16::MAX as i64 {
                2
            } else if lo >= i32::MIN as i64 && hi <= i32::MAX as i64 {
                4
            } else {
                8
            }
        }
        _ => 2,
    };
    let mut out = Vec::with_capacity(8 + enc * sorted.len());
    out.extend_from_slice(&(enc as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for &v in sorted {
        match enc {
            2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
            4 => out.extend_from_slice(&(v as i32).to_le_bytes()),
            _ => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_round_trip() {
        for v in [
            vec![1i64, 2, 3],
            vec![-70000, 5],
            vec![i64::MIN, 0, i64::MAX],
            vec![],
        ] {
            assert_eq!(decode_intset(&encode_intset(&v)).unwrap(), v);
        }
        assert_eq!(encode_intset(&[1, 2])[0], 2);
        assert_eq!(encode_intset(&[1, 40000])[0], 4);
    }

    #[test]
    fn ziplist_known() {
        // ziplist of "a", 1, 300, -1 (hand-assembled per ziplist.c).
        let mut z = vec![0u8; 10];
        let entries: Vec<Vec<u8>> = vec![
            vec![0x00, 0x01, b'a'],
            vec![0x03, 0xF2],
            vec![0x02, 0xC0, 0x2c, 0x01],
            vec![0x04, 0xFE, 0xff],
        ];
        let mut tail = 0;
        for e in &entries {
            tail = z.len();
            z.extend_from_slice(e);
        }
        z.push(0xFF);
        let n = z.len() as u32;
        z[0..4].copy_from_slice(&n.to_le_bytes());
        z[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        z[8..10].copy_from_slice(&4u16.to_le_bytes());
        let d = decode_ziplist(&z).unwrap();
        assert_eq!(
            d,
            vec![Ele::Str(b"a"), Ele::Int(1), Ele::Int(300), Ele::Int(-1)]
        );
        for i in 0..z.len() {
            let _ = decode_ziplist(&z[..i]);
            let mut x = z.clone();
            x[i] ^= 0x41;
            let _ = decode_ziplist(&x);
        }
    }

    #[test]
    fn zipmap_known() {
        let zm = [
            2u8, 3, b'f', b'o', b'o', 3, 1, b'b', b'a', b'r', 0, 1, b'k', 0, 0, 0xff,
        ];
        let d = decode_zipmap(&zm).unwrap();
        assert_eq!(d, vec![(&b"foo"[..], &b"bar"[..]), (&b"k"[..], &b""[..])]);
    }
}
