//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis bundles it (deps/lua/src/lua_cmsgpack.c).
//!
//! Its type choices: integral numbers (that fit an int64) as the smallest int,
//! others as float when a float holds them exactly, else double; tables whose keys
//! are exactly 1..n as arrays, others as maps; tables nested 16 deep as nil.

use mlua::{Lua, MultiValue, Table, Value};

use super::{
    as_number, c_i32, c_i64, check_bytes, check_integer, exact, opt_integer, packed, set, Fail, Ret,
};

const MAX_NESTING: usize = 16;
/// Lua 5.1's LUAI_MAXCSTACK: the C code's lua_checkstack fails past it.
const MAXCSTACK: usize = 8000;

/// Builds the `cmsgpack` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    set(lua, &t, "pack", pack)?;
    set(lua, &t, "unpack", |lua, a| {
        unpack_full(lua, &a, 0, 0, a.len())
    })?;
    set(lua, &t, "unpack_one", |lua, a| {
        let offset = opt_integer(lua, &a, 2, 0)? as i32;
        unpack_full(lua, &a, 1, offset, 1)
    })?;
    set(lua, &t, "unpack_limit", |lua, a| {
        let limit = check_integer(lua, &a, 2)? as i32;
        let offset = opt_integer(lua, &a, 3, 0)? as i32;
        unpack_full(lua, &a, limit, offset, 1)
    })?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

// ----------------------------------------------------------------- encoding

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_double(buf: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if d == f as f64 {
        buf.push(0xca);
        buf.extend_from_slice(&f.to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&d.to_be_bytes());
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        buf.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        buf.push(0xd2);
        buf.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_header(buf: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 0xffff {
        buf.push(b16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(b32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn encode_number(buf: &mut Vec<u8>, n: f64) {
    // IS_INT64_EQUIVALENT: C's (int64_t) cast gives INT64_MIN out of range.
    let i = c_i64(n);
    if !n.is_infinite() && i as f64 == n {
        encode_int(buf, i);
    } else {
        encode_double(buf, n);
    }
}

/// Keys exactly 1..n, n being the count (table_is_an_array; the empty table too).
fn is_array(t: &Table) -> mlua::Result<bool> {
    let (mut count, mut max) = (0i32, 0i32);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match &k {
            Value::Integer(_) | Value::Number(_) => as_number(&k).unwrap_or(0.0),
            _ => return Ok(false),
        };
        if n <= 0.0 || c_i32(n) as f64 != n {
            return Ok(false);
        }
        max = max.max(n as i32);
        count = count.wrapping_add(1);
    }
    Ok(max == count)
}

fn encode_value(buf: &mut Vec<u8>, v: &Value, level: usize) -> mlua::Result<()> {
    match v {
        Value::String(s) => encode_bytes(buf, &s.as_bytes()),
        Value::Boolean(b) => buf.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(_) | Value::Number(_) => encode_number(buf, as_number(v).unwrap_or(0.0)),
        // Deeper tables are nil: survives tables that reference themselves.
        Value::Table(t) if level < MAX_NESTING => {
            if is_array(t)? {
                let len = t.raw_len();
                encode_header(buf, len, 0x90, 0xdc, 0xdd);
                for j in 1..=len {
                    encode_value(
                        buf,
                        &exact(t, &Value::Integer(j as i64), t.raw_get::<Value>(j)?)?,
                        level + 1,
                    )?;
                }
            } else {
                // Two lazy passes, count then encode: a collected Vec would hold
                // an mlua reference per member.
                let mut len = 0;
                for pair in t.pairs::<Value, Value>() {
                    pair?;
                    len += 1;
                }
                encode_header(buf, len, 0x80, 0xde, 0xdf);
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    encode_value(buf, &k, level + 1)?;
                    encode_value(buf, &exact(t, &k, v)?, level + 1)?;
                }
            }
        }
        _ => buf.push(0xc0),
    }
    Ok(())
}

/// `cmsgpack.pack(v1, v2, ...)`: the concatenated encodings.
fn pack(lua: &Lua, args: MultiValue) -> Ret {
    if args.is_empty() {
        return Err(Fail::Arg(0, "MessagePack pack needs input.".into()));
    }
    let mut buf = Vec::new();
    for v in args.iter() {
        encode_value(&mut buf, v, 0)?;
    }
    Ok(MultiValue::from_vec(vec![Value::String(
        lua.create_string(buf)?,
    )]))
}

// ----------------------------------------------------------------- decoding

enum DecodeErr {
    Eof,
    BadFmt,
    /// A Lua error the C code would hit (lua_settable, lua_checkstack).
    Lua(Fail),
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.at
    }

    fn need(&self, n: usize) -> Result<(), DecodeErr> {
        if self.left() < n {
            Err(DecodeErr::Eof)
        } else {
            Ok(())
        }
    }

    fn be(&self, from: usize, n: usize) -> u64 {
        self.data[self.at + from..self.at + from + n]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | *b as u64)
    }

    fn string(&mut self, lua: &Lua, hdr: usize, len: usize) -> Result<Value, DecodeErr> {
        self.need(hdr.saturating_add(len))?;
        let s = lua
            .create_string(&self.data[self.at + hdr..self.at + hdr + len])
            .map_err(|e| DecodeErr::Lua(e.into()))?;
        self.at += hdr + len;
        Ok(Value::String(s))
    }
}

fn stack_overflow(msg: &str) -> DecodeErr {
    DecodeErr::Lua(Fail::Error(format!("stack overflow ({msg})")))
}

/// What the next bytes hold: a value, or the header of an array or map.
enum Item {
    Value(Value),
    Array(usize),
    Map(usize),
}

/// The next value or container header; `top` is the Lua stack height the C
/// code would have, for its lua_checkstack limits.
fn item(lua: &Lua, c: &mut Cursor, top: usize) -> Result<Item, DecodeErr> {
    c.need(1)?;
    if top + 1 > MAXCSTACK {
        return Err(stack_overflow(
            "too many return values at once; use unpack_one or unpack_limit instead.",
        ));
    }
    let b = c.data[c.at];
    let num = |n: f64| Ok(Item::Value(Value::Number(n)));
    match b {
        0xcc => {
            c.need(2)?;
            let v = c.be(1, 1) as f64;
            c.at += 2;
            num(v)
        }
        0xd0 => {
            c.need(2)?;
            let v = c.be(1, 1) as u8 as i8 as f64;
            c.at += 2;
            num(v)
        }
        0xcd => {
            c.need(3)?;
            let v = c.be(1, 2) as f64;
            c.at += 3;
            num(v)
        }
        0xd1 => {
            c.need(3)?;
            let v = c.be(1, 2) as u16 as i16 as f64;
            c.at += 3;
            num(v)
        }
        0xce => {
            c.need(5)?;
            let v = c.be(1, 4) as f64;
            c.at += 5;
            num(v)
        }
        0xd2 => {
            c.need(5)?;
            let v = c.be(1, 4) as u32 as i32 as f64;
            c.at += 5;
            num(v)
        }
        0xcf => {
            c.need(9)?;
            let v = c.be(1, 8) as f64;
            c.at += 9;
            num(v)
        }
        0xd3 => {
            c.need(9)?;
            let v = c.be(1, 8) as i64 as f64;
            c.at += 9;
            num(v)
        }
        0xc0 => {
            c.at += 1;
            Ok(Item::Value(Value::Nil))
        }
        0xc3 | 0xc2 => {
            c.at += 1;
            Ok(Item::Value(Value::Boolean(b == 0xc3)))
        }
        0xca => {
            c.need(5)?;
            let v = f32::from_bits(c.be(1, 4) as u32) as f64;
            c.at += 5;
            num(v)
        }
        0xcb => {
            c.need(9)?;
            let v = f64::from_bits(c.be(1, 8));
            c.at += 9;
            num(v)
        }
        0xd9 => {
            c.need(2)?;
            let l = c.be(1, 1) as usize;
            c.string(lua, 2, l).map(Item::Value)
        }
        0xda => {
            c.need(3)?;
            let l = c.be(1, 2) as usize;
            c.string(lua, 3, l).map(Item::Value)
        }
        0xdb => {
            c.need(5)?;
            let l = c.be(1, 4) as usize;
            c.string(lua, 5, l).map(Item::Value)
        }
        0xdc | 0xde => {
            c.need(3)?;
            let l = c.be(1, 2) as usize;
            c.at += 3;
            Ok(if b == 0xdc {
                Item::Array(l)
            } else {
                Item::Map(l)
            })
        }
        0xdd | 0xdf => {
            c.need(5)?;
            let l = c.be(1, 4) as usize;
            c.at += 5;
            Ok(if b == 0xdd {
                Item::Array(l)
            } else {
                Item::Map(l)
            })
        }
        _ if b & 0x80 == 0 => {
            c.at += 1;
            num(b as f64)
        }
        _ if b & 0xe0 == 0xe0 => {
            c.at += 1;
            num(b as i8 as f64)
        }
        _ if b & 0xe0 == 0xa0 => c.string(lua, 1, (b & 0x1f) as usize).map(Item::Value),
        _ if b & 0xf0 == 0x90 || b & 0xf0 == 0x80 => {
            c.at += 1;
            let l = (b & 0xf) as usize;
            Ok(if b & 0xf0 == 0x90 {
                Item::Array(l)
            } else {
                Item::Map(l)
            })
        }
        _ => Err(DecodeErr::BadFmt),
    }
}

/// An array or map being decoded; its table (and a map's pending key) wait in
/// the spill table, so a deep stack of them holds no mlua references.
struct Open {
    array: bool,
    left: usize,
    index: i64,
    has_key: bool,
    /// The Lua stack height below the table in the C code.
    top: usize,
}

/// One value. Iterative: the input's nesting is bounded only by the C code's
/// Lua stack limit, too deep for recursion on a thread's stack.
fn decode_value(lua: &Lua, c: &mut Cursor, base: usize, spill: &Table) -> Result<Value, DecodeErr> {
    let lua_err = |e: mlua::Error| DecodeErr::Lua(e.into());
    let mut open: Vec<Open> = Vec::new();
    let mut top = base;
    loop {
        let mut value = match item(lua, c, top)? {
            Item::Value(v) => v,
            it => {
                let (array, len) = match it {
                    Item::Array(l) => (true, l),
                    Item::Map(l) => (false, l),
                    Item::Value(_) => (false, 0),
                };
                let t = lua.create_table().map_err(lua_err)?;
                if array && top + 2 > MAXCSTACK {
                    return Err(stack_overflow("in function mp_decode_to_lua_array"));
                }
                if len > 0 {
                    spill.raw_set(2 * open.len() + 1, t).map_err(lua_err)?;
                    open.push(Open {
                        array,
                        left: len,
                        index: 1,
                        has_key: false,
                        top,
                    });
                    // Array items sit above the table and their index; a key above the table.
                    top += if array { 2 } else { 1 };
                    continue;
                }
                Value::Table(t)
            }
        };
        loop {
            let depth = open.len();
            let Some(f) = open.last_mut() else {
                return Ok(value);
            };
            let slot = 2 * depth - 1;
            if !f.array && !f.has_key {
                spill.raw_set(slot + 1, value).map_err(lua_err)?;
                f.has_key = true;
                top = f.top + 2;
                break;
            }
            let t: Table = spill.raw_get(slot).map_err(lua_err)?;
            if f.array {
                t.raw_set(f.index, value).map_err(lua_err)?;
                f.index += 1;
            } else {
                let k: Value = spill.raw_get(slot + 1).map_err(lua_err)?;
                f.has_key = false;
                match &k {
                    Value::Nil => {
                        return Err(DecodeErr::Lua(Fail::Raw("table index is nil".into())))
                    }
                    Value::Number(n) if n.is_nan() => {
                        return Err(DecodeErr::Lua(Fail::Raw("table index is NaN".into())))
                    }
                    _ => {}
                }
                t.raw_set(k, value).map_err(lua_err)?;
            }
            f.left -= 1;
            if f.left == 0 {
                spill.raw_set(slot, Value::Nil).map_err(lua_err)?;
                spill.raw_set(slot + 1, Value::Nil).map_err(lua_err)?;
                open.pop();
                value = Value::Table(t);
                continue;
            }
            top = f.top + if f.array { 2 } else { 1 };
            break;
        }
    }
}

/// mp_unpack_full: `limit` values (0 with offset 0: all) from byte `offset`;
/// with a limit or offset the next offset (-1 at the end) comes first.
fn unpack_full(lua: &Lua, args: &MultiValue, limit: i32, offset: i32, base: usize) -> Ret {
    let s = check_bytes(lua, args, 1)?;
    let len = s.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(Fail::Error(format!(
            "Invalid request to unpack with offset of {offset} and limit of {}.",
            len as i32
        )));
    } else if offset as usize > len {
        return Err(Fail::Error(format!(
            "Start offset {offset} greater than input length {}.",
            len as i32
        )));
    }
    let limit = if decode_all { i32::MAX } else { limit };
    let mut c = Cursor {
        data: &s,
        at: offset as usize,
    };
    // Results go straight into a Lua table (see `packed`), the next offset first.
    let out = lua.create_table()?;
    let spill = lua.create_table()?;
    let first = if decode_all { 1 } else { 2 };
    let mut cnt = 0usize;
    while c.left() > 0 && (cnt as i32) < limit {
        match decode_value(lua, &mut c, base + cnt, &spill) {
            Ok(v) => out.raw_set(first + cnt, v)?,
            Err(DecodeErr::Eof) => return Err(Fail::Error("Missing bytes in input.".into())),
            Err(DecodeErr::BadFmt) => return Err(Fail::Error("Bad data format in input.".into())),
            Err(DecodeErr::Lua(f)) => return Err(f),
        }
        cnt += 1;
    }
    if !decode_all {
        let next = if c.left() == 0 { -1 } else { c.at as i64 };
        out.raw_set(1, next)?;
        cnt += 1;
    }
    Ok(packed(out, cnt))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{eval, vm};

    /// Hex of a packed string, for comparing bytes.
    const HEX: &str = "local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end ";

    // Expected values from redis-server 7.0.15: EVAL "return ..." 0.
    #[test]
    fn pack_matches_redis() {
        let lua = vm();
        let cases: &[(&str, &str)] = &[
            ("return hex(cmsgpack.pack({}))", "90"),
            ("return hex(cmsgpack.pack({1,2,3}))", "93010203"),
            ("return hex(cmsgpack.pack({a=1}))", "81a16101"),
            ("return hex(cmsgpack.pack({1,nil,3}))", "8201010303"),
            ("return hex(cmsgpack.pack(string.rep('a', 40))):sub(1, 4)", "d928"),
            (
                "return hex(cmsgpack.pack(1.5, 0.1, -1, -33, 200, 70000, 2^32, -2^40, 2^63, 0/0, 1/0))",
                "ca3fc00000cb3fb999999999999affd0dfccc8ce00011170cf0000000100000000d3ffffff0000000000ca5f000000cbfff8000000000000ca7f800000",
            ),
            ("return hex(cmsgpack.pack(true, false, nil, cjson.null))", "c3c2c0c0"),
            ("return hex(cmsgpack.pack(-0.0))", "00"),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, &format!("{HEX}{code}")), *want, "{code}");
        }
    }

    #[test]
    fn unpack_matches_redis() {
        let lua = vm();
        let cases: &[(&str, &str)] = &[
            (
                "return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3))}",
                "{1,1}",
            ),
            (
                "return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), 1)}",
                "{2,2}",
            ),
            (
                "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2)}",
                "{2,1,2}",
            ),
            (
                "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 0)}",
                "{1,2,3}",
            ),
            ("return {cmsgpack.unpack(cmsgpack.pack(1,2,3))}", "{1,2,3}"),
            ("return {cmsgpack.unpack('')}", "{}"),
            (
                "return cmsgpack.unpack(cmsgpack.pack({1,{2,'x'},{a={b=true}}}))[3].a.b",
                "true",
            ),
            (
                "return cmsgpack.unpack(cmsgpack.pack(-2^40))",
                "-1099511627776",
            ),
            ("return cmsgpack.unpack(cmsgpack.pack(0.1))", "0.1"),
            (
                "return select(2, pcall(cmsgpack.unpack, '\\196'))",
                "Bad data format in input.",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, '\\145'))",
                "Missing bytes in input.",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack_one, 'a', -1))",
                "Invalid request to unpack with offset of -1 and limit of 1.",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack_one, 'a', 5))",
                "Start offset 5 greater than input length 1.",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, '\\129\\192\\1'))",
                "table index is nil",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack))",
                "bad argument #1 to '?' (string expected, got no value)",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack_limit, 'a'))",
                "bad argument #2 to '?' (number expected, got no value)",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, string.rep('\\145', 5000)))",
                "stack overflow (in function mp_decode_to_lua_array)",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, string.rep('\\145', 3998)))",
                "Missing bytes in input.",
            ),
            (
                "local t = cmsgpack.unpack(string.rep('\\145', 3999) .. '\\1') \
                 for i = 1, 3999 do t = t[1] end return t",
                "1",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, string.rep('\\129\\1', 5000)))",
                "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)",
            ),
            ("return #{cmsgpack.unpack(string.rep('\\1', 7998))}", "7998"),
            (
                "local t = {} for i = 1, 20000 do t['k' .. i] = {i} end \
                 local n = 0 for _ in pairs(cmsgpack.unpack(cmsgpack.pack(t))) do n = n + 1 end \
                 return n .. ' ' .. #{cmsgpack.unpack(string.rep('\\145\\1', 7000))}",
                "20000 7000",
            ),
            (
                "return select(2, pcall(cmsgpack.unpack, string.rep('\\1', 8000)))",
                "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)",
            ),
            (
                "return select(2, pcall(cmsgpack.pack))",
                "bad argument #0 to '?' (MessagePack pack needs input.)",
            ),
            (
                "return select(2, pcall(function() return cmsgpack.pack() end))",
                "user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, code), *want, "{code}");
        }
    }
}
