//! `struct`: Roberto Ierusalimschy's struct library (struct.c 1.4) as Redis
//! bundles it (deps/lua/src/lua_struct.c), with Redis's integral size limit.
//!
//! Formats: `>` big endian, `<` little endian, `![n]` alignment, `x` padding,
//! `b/B h/H l/L T i/In` integers, `cn` chars, `s` zero-terminated string, `f`, `d`.
//! Sizes are those of x86-64 Linux, where Redis runs: short 2, int 4, long 8.

use mlua::{Lua, MultiValue, Table, Value};

use super::{arg, check_bytes, check_number, number, opt_integer, packed, set, Fail, Ret};

const MAXINTSIZE: usize = 32;
/// Alignment of double on x86-64 (`MAXALIGN` in struct.c).
const MAXALIGN: usize = 8;

/// Builds the `struct` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    set(lua, &t, "pack", pack)?;
    set(lua, &t, "unpack", unpack)?;
    set(lua, &t, "size", size)?;
    Ok(t)
}

#[derive(Clone, Copy, PartialEq)]
enum Endian {
    Big,
    Little,
}

struct Header {
    endian: Endian,
    align: usize,
}

impl Header {
    fn new() -> Self {
        Header {
            endian: Endian::Little,
            align: 1,
        }
    }
}

/// The format string up to its first NUL, as C reads it.
struct Fmt {
    bytes: Vec<u8>,
    at: usize,
}

impl Fmt {
    fn next(&mut self) -> Option<u8> {
        let c = *self.bytes.get(self.at)?;
        if c == 0 {
            return None;
        }
        self.at += 1;
        Some(c)
    }

    /// A count in the format, or `df` without one (Redis refuses int overflow).
    fn getnum(&mut self, df: usize) -> Result<usize, Fail> {
        let mut a: i32 = 0;
        let mut any = false;
        while let Some(c) = self.bytes.get(self.at).filter(|c| c.is_ascii_digit()) {
            let d = (c - b'0') as i32;
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return Err(Fail::Error("integral size overflow".into()));
            }
            a = a * 10 + d;
            self.at += 1;
            any = true;
        }
        Ok(if any { a as usize } else { df })
    }
}

fn optsize(opt: u8, fmt: &mut Fmt) -> Result<usize, Fail> {
    Ok(match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'x' => 1,
        b'c' => fmt.getnum(1)?,
        b'i' | b'I' => {
            let sz = fmt.getnum(4)? as i32;
            if sz > MAXINTSIZE as i32 {
                return Err(Fail::Error(format!(
                    "integral size {sz} is larger than limit of {MAXINTSIZE}"
                )));
            }
            sz as usize
        }
        _ => 0,
    })
}

fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size.wrapping_sub(len & size.wrapping_sub(1))) & size.wrapping_sub(1)
}

fn controloptions(opt: u8, fmt: &mut Fmt, h: &mut Header) -> Result<(), Fail> {
    match opt {
        b' ' => {}
        b'>' => h.endian = Endian::Big,
        b'<' => h.endian = Endian::Little,
        b'!' => {
            let a = fmt.getnum(MAXALIGN)? as i32;
            if a <= 0 || (a & (a - 1)) != 0 {
                return Err(Fail::Error(format!("alignment {a} is not a power of 2")));
            }
            h.align = a as usize;
        }
        _ => {
            return Err(Fail::Arg(
                1,
                format!("invalid format option '{}'", opt as char),
            ))
        }
    }
    Ok(())
}

fn fmt_arg(lua: &Lua, args: &MultiValue) -> Result<Fmt, Fail> {
    Ok(Fmt {
        bytes: check_bytes(lua, args, 1)?,
        at: 0,
    })
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8], endian: Endian) {
    // Native order is little endian.
    if endian == Endian::Little {
        out.extend_from_slice(bytes);
    } else {
        out.extend(bytes.iter().rev());
    }
}

fn pack(lua: &Lua, mut args: MultiValue) -> Ret {
    let mut fmt = fmt_arg(lua, &args)?;
    // b_pack pushes a nil to separate the arguments from its buffer.
    args.push_back(Value::Nil);
    let mut h = Header::new();
    let mut narg = 2;
    let mut total: usize = 0;
    let mut out = Vec::new();
    while let Some(opt) = fmt.next() {
        let mut size = optsize(opt, &mut fmt)?;
        let toalign = gettoalign(total, &h, opt, size);
        total = total.wrapping_add(toalign);
        out.resize(out.len() + toalign, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(lua, &args, narg)?;
                narg += 1;
                let mut value: u64 = if n < 0.0 {
                    super::c_i64(n) as u64
                } else {
                    n as u64
                };
                let mut buf = vec![0u8; size];
                for b in buf.iter_mut() {
                    *b = value as u8;
                    value >>= 8;
                }
                if h.endian == Endian::Big {
                    buf.reverse();
                }
                out.extend_from_slice(&buf);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(lua, &args, narg)? as f32;
                narg += 1;
                put_bytes(&mut out, &f.to_le_bytes(), h.endian);
            }
            b'd' => {
                let d = check_number(lua, &args, narg)?;
                narg += 1;
                put_bytes(&mut out, &d.to_le_bytes(), h.endian);
            }
            b'c' | b's' => {
                let s = check_bytes(lua, &args, narg)?;
                narg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // struct.c checks after the increment: it names the next argument.
                    return Err(Fail::Arg(narg as i32, "string too short".into()));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => controloptions(opt, &mut fmt, &mut h)?,
        }
        total = total.wrapping_add(size);
    }
    Ok(MultiValue::from_vec(vec![Value::String(
        lua.create_string(out)?,
    )]))
}

fn getinteger(buf: &[u8], endian: Endian, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let size = buf.len();
    let mut push = |b: u8| l = (l << 8) | b as u64;
    if endian == Endian::Big {
        buf.iter().for_each(|b| push(*b));
    } else {
        buf.iter().rev().for_each(|b| push(*b));
    }
    if !signed {
        return l as f64;
    }
    // C shifts modulo 64 (x86), so sizes over 8 keep this odd mask.
    let mask = u64::MAX.wrapping_shl((size * 8).wrapping_sub(1) as u32);
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn data_too_short() -> Fail {
    Fail::Arg(2, "data string too short".into())
}

/// Unpacked values, kept in a Lua table (see `packed`); `last` is the top one.
struct Results {
    t: Table,
    n: usize,
    last: Option<Value>,
}

impl Results {
    fn new(lua: &Lua) -> mlua::Result<Self> {
        Ok(Results {
            t: lua.create_table()?,
            n: 0,
            last: None,
        })
    }

    fn push(&mut self, v: Value) -> mlua::Result<()> {
        self.n += 1;
        self.t.raw_set(self.n, v.clone())?;
        self.last = Some(v);
        Ok(())
    }

    fn pop(&mut self) -> mlua::Result<()> {
        if self.n > 0 {
            self.t.raw_set(self.n, Value::Nil)?;
            self.n -= 1;
            self.last = if self.n > 0 {
                Some(self.t.raw_get(self.n)?)
            } else {
                None
            };
        }
        Ok(())
    }
}

fn unpack(lua: &Lua, args: MultiValue) -> Ret {
    let mut fmt = fmt_arg(lua, &args)?;
    let data = check_bytes(lua, &args, 2)?;
    let ld = data.len();
    let mut pos = (opt_integer(lua, &args, 3, 1)? as usize).wrapping_sub(1);
    let mut h = Header::new();
    let mut out = Results::new(lua)?;
    while let Some(opt) = fmt.next() {
        let mut size = optsize(opt, &mut fmt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        let fits = |pos: usize, size: usize| pos.checked_add(size).is_some_and(|e| e <= ld);
        if !fits(pos, size) {
            return Err(data_too_short());
        }
        if out.n + 3 > 8000 {
            return Err(Fail::Error("stack overflow (too many results)".into()));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let v = getinteger(&data[pos..pos + size], h.endian, opt.is_ascii_lowercase());
                out.push(number(v))?;
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let f = if h.endian == Endian::Little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                out.push(number(f as f64))?;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let d = if h.endian == Endian::Little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                out.push(number(d))?;
            }
            b'c' => {
                if size == 0 {
                    // The length is the number unpacked just before.
                    // lua_isnumber on the stack top: the last result, else the data.
                    let prev = match out.last.clone().or_else(|| arg(&args, 2).cloned()) {
                        Some(Value::Integer(i)) => Some(i as f64),
                        Some(Value::Number(n)) => Some(n),
                        Some(s @ Value::String(_)) => lua.coerce_number(s)?,
                        _ => None,
                    };
                    let Some(prev) = prev else {
                        return Err(Fail::Error("format 'c0' needs a previous size".into()));
                    };
                    size = prev as usize;
                    out.pop()?;
                    if !fits(pos, size) {
                        return Err(data_too_short());
                    }
                }
                out.push(Value::String(lua.create_string(&data[pos..pos + size])?))?;
            }
            b's' => {
                let Some(e) = data[pos..].iter().position(|b| *b == 0) else {
                    return Err(Fail::Error("unfinished string in data".into()));
                };
                out.push(Value::String(lua.create_string(&data[pos..pos + e])?))?;
                size = e + 1;
            }
            _ => controloptions(opt, &mut fmt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    out.push(Value::Integer(pos.wrapping_add(1) as i64))?;
    Ok(packed(out.t, out.n))
}

fn size(lua: &Lua, args: MultiValue) -> Ret {
    let mut fmt = fmt_arg(lua, &args)?;
    let mut h = Header::new();
    let mut pos: usize = 0;
    while let Some(opt) = fmt.next() {
        let size = optsize(opt, &mut fmt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if opt == b's' {
            return Err(Fail::Arg(1, "option 's' has no fixed size".into()));
        } else if opt == b'c' && size == 0 {
            return Err(Fail::Arg(1, "option 'c0' has no fixed size".into()));
        }
        if !opt.is_ascii_alphanumeric() {
            controloptions(opt, &mut fmt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(MultiValue::from_vec(vec![Value::Integer(pos as i64)]))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{eval, vm};

    // Expected values from redis-server 7.0.15: EVAL "return ..." 0.
    #[test]
    fn matches_redis() {
        let lua = vm();
        let cases: &[(&str, &str)] = &[
            ("return struct.size('>iHd')", "14"),
            ("return struct.size('!2 d')", "8"),
            (
                "return struct.pack('>i16', -2)",
                "\0\0\0\0\0\0\0\0\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe",
            ),
            (
                "return {struct.unpack('>i16', struct.pack('>i16', -2))}",
                "{-2,17}",
            ),
            ("return {struct.unpack('<i3', '\\255\\255\\255')}", "{-1,4}"),
            ("return struct.size('!4bi')", "8"),
            ("return struct.size('bi')", "5"),
            ("return struct.size('!bd')", "16"),
            ("return struct.size('i16c3x')", "20"),
            ("return struct.pack('>i2', 258)", "\u{1}\u{2}"),
            ("return struct.pack('<I4', 1)", "\u{1}\0\0\0"),
            ("return struct.pack('b', -1)", "\\xff"),
            ("return struct.pack('c0', 'hello')", "hello"),
            ("return struct.pack('s', 'hi')", "hi\0"),
            ("return struct.pack('c3', 'abcdef')", "abc"),
            ("return {struct.unpack('>i2', '\\1\\2')}", "{258,3}"),
            ("return {struct.unpack('<h', '\\255\\255')}", "{-1,3}"),
            ("return {struct.unpack('<H', '\\255\\255')}", "{65535,3}"),
            ("return {struct.unpack('b c0', '\\3abcd')}", "{abc,5}"),
            ("return {struct.unpack('s', 'ab\\0cd')}", "{ab,4}"),
            (
                "return {struct.unpack('i', struct.pack('i', 7), 1)}",
                "{7,5}",
            ),
            (
                "return {struct.unpack('>d', struct.pack('>d', 1.5))}",
                "{1.5,9}",
            ),
            (
                "return {struct.unpack('<f', struct.pack('<f', 0.25))}",
                "{0.25,5}",
            ),
            (
                "return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}",
                "{1,2,9}",
            ),
            (
                "return {struct.unpack('<l', struct.pack('<l', -5))}",
                "{-5,9}",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, code), *want, "{code}");
        }
    }

    #[test]
    fn errors_match_redis() {
        let lua = vm();
        let cases: &[(&str, &str)] = &[
            (
                "return select(2, pcall(struct.pack, 'i33', 1))",
                "integral size 33 is larger than limit of 32",
            ),
            (
                "return select(2, pcall(struct.pack, '!3i', 1))",
                "alignment 3 is not a power of 2",
            ),
            (
                "return select(2, pcall(struct.pack, 'z', 1))",
                "bad argument #1 to '?' (invalid format option 'z')",
            ),
            (
                "return select(2, pcall(struct.pack, 'c5', 'ab'))",
                "bad argument #3 to '?' (string too short)",
            ),
            (
                "return select(2, pcall(struct.pack, 'i'))",
                "bad argument #2 to '?' (number expected, got nil)",
            ),
            (
                "return select(2, pcall(struct.unpack, 'i', 'ab'))",
                "bad argument #2 to '?' (data string too short)",
            ),
            (
                "return select(2, pcall(struct.unpack, 's', 'ab'))",
                "unfinished string in data",
            ),
            (
                "return select(2, pcall(struct.unpack, 'c0', 'ab'))",
                "format 'c0' needs a previous size",
            ),
            (
                "return select(2, pcall(struct.size, 's'))",
                "bad argument #1 to '?' (option 's' has no fixed size)",
            ),
            (
                "return select(2, pcall(struct.size, 'c0'))",
                "bad argument #1 to '?' (option 'c0' has no fixed size)",
            ),
            (
                "return select(2, pcall(struct.size, 'i2147483648'))",
                "integral size overflow",
            ),
            (
                "return select(2, pcall(struct.size))",
                "bad argument #1 to '?' (string expected, got no value)",
            ),
            (
                "return select(2, pcall(function() return struct.pack('i', 'x') end))",
                "user_script:1: bad argument #2 to 'pack' (number expected, got string)",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, code), *want, "{code}");
        }
    }
}
