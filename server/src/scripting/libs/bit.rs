//! `bit`: LuaBitOp 1.0.2 as Redis bundles it (deps/lua/src/lua_bit.c): 32-bit
//! operations on Lua numbers, results as signed 32-bit numbers.

use mlua::{Lua, MultiValue, Table, Value};

use super::{arg, set, to_number, type_name, Fail, Ret};

/// Builds the `bit` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    set(lua, &t, "tobit", |lua, a| bret(barg(lua, &a, 1)?))?;
    set(lua, &t, "bnot", |lua, a| bret(!barg(lua, &a, 1)?))?;
    set(lua, &t, "band", |lua, a| fold(lua, &a, |x, y| x & y))?;
    set(lua, &t, "bor", |lua, a| fold(lua, &a, |x, y| x | y))?;
    set(lua, &t, "bxor", |lua, a| fold(lua, &a, |x, y| x ^ y))?;
    set(lua, &t, "lshift", |lua, a| shift(lua, &a, |b, n| b << n))?;
    set(lua, &t, "rshift", |lua, a| shift(lua, &a, |b, n| b >> n))?;
    set(lua, &t, "arshift", |lua, a| {
        shift(lua, &a, |b, n| ((b as i32) >> n) as u32)
    })?;
    set(lua, &t, "rol", |lua, a| {
        shift(lua, &a, |b, n| b.rotate_left(n))
    })?;
    set(lua, &t, "ror", |lua, a| {
        shift(lua, &a, |b, n| b.rotate_right(n))
    })?;
    set(lua, &t, "bswap", |lua, a| {
        bret(barg(lua, &a, 1)?.swap_bytes())
    })?;
    set(lua, &t, "tohex", tohex)?;
    Ok(t)
}

/// The argument normalised to 32 bits: the low word of `x + 2^52 + 2^51`,
/// i.e. `x` rounded to an integer, modulo 2^32 (barg in lua_bit.c).
fn barg(lua: &Lua, args: &MultiValue, narg: usize) -> Result<u32, Fail> {
    let v = arg(args, narg);
    let n = to_number(lua, v);
    let b = (n.unwrap_or(0.0) + 6_755_399_441_055_744.0).to_bits() as u32;
    // Lua 5.1 builds only complain when the result is 0 and it was no number.
    if b == 0 && n.is_none() {
        return Err(Fail::Arg(
            narg as i32,
            format!("number expected, got {}", type_name(v)),
        ));
    }
    Ok(b)
}

fn bret(b: u32) -> Ret {
    Ok(MultiValue::from_vec(vec![Value::Integer(
        (b as i32).into(),
    )]))
}

/// band/bor/bxor: argument 1, then the others from the last one down.
fn fold(lua: &Lua, args: &MultiValue, op: fn(u32, u32) -> u32) -> Ret {
    let mut b = barg(lua, args, 1)?;
    for i in (2..=args.len()).rev() {
        b = op(b, barg(lua, args, i)?);
    }
    bret(b)
}

fn shift(lua: &Lua, args: &MultiValue, op: fn(u32, u32) -> u32) -> Ret {
    let b = barg(lua, args, 1)?;
    let n = barg(lua, args, 2)? & 31;
    bret(op(b, n))
}

/// `bit.tohex(x [, n])`: n digits (default 8), upper case when n < 0.
fn tohex(lua: &Lua, args: MultiValue) -> Ret {
    let mut b = barg(lua, &args, 1)?;
    let mut n = match arg(&args, 2) {
        None => 8,
        Some(_) => barg(lua, &args, 2)? as i32,
    };
    // Redis's fix: -INT32_MIN overflows.
    if n == i32::MIN {
        n = i32::MIN + 1;
    }
    let digits: &[u8; 16] = if n < 0 {
        n = -n;
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let n = n.min(8) as usize;
    let mut buf = vec![0u8; n];
    for slot in buf.iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    Ok(MultiValue::from_vec(vec![Value::String(
        lua.create_string(buf)?,
    )]))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{eval, vm};

    // Expected values from redis-server 7.0.15: EVAL "return ..." 0.
    #[test]
    fn matches_redis() {
        let lua = vm();
        let cases: &[(&str, &str)] = &[
            ("return bit.tobit(0xffffffff)", "-1"),
            ("return bit.tobit(2^32 + 5)", "5"),
            ("return bit.tobit(1.5)", "2"),
            ("return bit.tobit(2.5)", "2"),
            ("return bit.tobit(-1.5)", "-2"),
            ("return bit.tobit('12')", "12"),
            ("return bit.tohex(255)", "000000ff"),
            ("return bit.tohex(-1)", "ffffffff"),
            ("return bit.tohex(255, -4)", "00FF"),
            ("return bit.tohex(255, 2)", "ff"),
            ("return bit.tohex(255, 20)", "000000ff"),
            ("return bit.tohex(65535, -2147483648)", "0000FFFF"),
            ("return bit.bnot(0)", "-1"),
            ("return bit.band(0xff, 0x0f, 0x3)", "3"),
            ("return bit.bor(1, 2, 4)", "7"),
            ("return bit.bxor(5, 3)", "6"),
            ("return bit.lshift(1, 31)", "-2147483648"),
            ("return bit.lshift(1, 33)", "2"),
            ("return bit.rshift(-1, 28)", "15"),
            ("return bit.arshift(-256, 4)", "-16"),
            ("return bit.rol(0x12345678, 8)", "878082066"),
            ("return bit.ror(0x12345678, 8)", "2014458966"),
            ("return bit.bswap(0x12345678)", "2018915346"),
            ("return bit.band()", "ERR"),
        ];
        for (code, want) in cases {
            if *want == "ERR" {
                continue;
            }
            assert_eq!(eval(&lua, code), *want, "{code}");
        }
    }

    #[test]
    fn errors_match_redis() {
        let lua = vm();
        let cases: &[(&str, &str)] = &[
            (
                "return select(2, pcall(bit.band))",
                "bad argument #1 to '?' (number expected, got no value)",
            ),
            (
                "return select(2, pcall(bit.bor, 1, 2, {}))",
                "bad argument #3 to '?' (number expected, got table)",
            ),
            (
                "return select(2, pcall(bit.tobit, 'x'))",
                "bad argument #1 to '?' (number expected, got string)",
            ),
            (
                "return select(2, pcall(bit.lshift, 1))",
                "bad argument #2 to '?' (number expected, got no value)",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, code), *want, "{code}");
        }
    }
}
