//! The libraries Redis preloads into its Lua VM: cjson, cmsgpack, bit, struct.
//!
//! Each is a Rust port of the C file Redis 7.0 bundles (deps/lua/src/lua_cjson.c,
//! lua_cmsgpack.c, lua_bit.c, lua_struct.c) with the same outputs and error texts.
//!
//! Errors must reach Lua as plain strings, like `luaL_error` raises them, and
//! `luaL_argerror` names the function as its caller sees it. An mlua callback can
//! do neither (its errors are userdata), so every library function is a Rust
//! callback returning a status, wrapped in a tiny C closure ([`trampoline`]) that
//! raises the error with the Lua C API itself.

use std::ffi::c_int;

use mlua::{ffi, Function, Lua, MultiValue, Table, Value};

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod lstruct;

/// Sets the library globals (Redis's luaLoadLibraries).
pub fn open(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.set("cjson", cjson::module(lua)?)?;
    globals.set("struct", lstruct::module(lua)?)?;
    globals.set("cmsgpack", cmsgpack::module(lua)?)?;
    globals.set("bit", bit::module(lua)?)?;
    Ok(())
}

/// A library error, raised in Lua as its C original raises it.
#[derive(Debug)]
pub(crate) enum Fail {
    /// `luaL_error(L, msg)`: the message after the calling Lua line's position.
    Error(String),
    /// `lua_error` with the message alone (what the VM raises inside a C function).
    Raw(String),
    /// `luaL_argerror(L, narg, msg)`: "bad argument #narg to 'name' (msg)".
    Arg(i32, String),
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Self {
        Fail::Error(e.to_string())
    }
}

pub(crate) type Ret = Result<MultiValue, Fail>;

/// Marks [`packed`] results.
static PACKED: u8 = 0;

fn packed_marker() -> Value {
    Value::LightUserData(mlua::LightUserData(&PACKED as *const u8 as *mut _))
}

/// Results kept in a Lua table (`t[1..=n]`) and pushed by the trampoline:
/// thousands of results as a MultiValue would exhaust mlua's reference slots.
pub(crate) fn packed(t: Table, n: usize) -> MultiValue {
    MultiValue::from_vec(vec![
        packed_marker(),
        Value::Table(t),
        Value::Integer(n as i64),
    ])
}

/// A table member read back exactly: mlua reads numbers below 2^-52 (and -0)
/// as the integer 0.
pub(crate) fn exact(t: &Table, key: &Value, v: Value) -> mlua::Result<Value> {
    if matches!(v, Value::Integer(0)) {
        return Ok(Value::Number(t.raw_get::<f64>(key.clone())?));
    }
    Ok(v)
}

/// Wraps a library function so that its [`Fail`] becomes a Lua string error.
#[allow(unsafe_code)] // the one C closure; see the module comment
pub(crate) fn func<F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, MultiValue) -> Ret + Send + 'static,
{
    let inner = lua.create_function(move |lua, mut args: MultiValue| {
        // First comes the trampoline's table of numbers mlua would read wrong.
        if let Some(Value::Table(exact)) = args.pop_front() {
            for (i, v) in args.iter_mut().enumerate() {
                if matches!(v, Value::Integer(0)) {
                    if let Some(n) = exact.raw_get::<Option<f64>>(i + 1)? {
                        *v = Value::Number(n);
                    }
                }
            }
        }
        Ok(match f(lua, args) {
            Ok(mut values) => {
                if values.front() == Some(&packed_marker()) {
                    // 0: the results are in the table that follows.
                    values.pop_front();
                    values.push_front(Value::Integer(0));
                } else {
                    values.push_front(Value::Boolean(true));
                }
                values
            }
            Err(Fail::Error(msg)) => MultiValue::from_vec(vec![
                Value::Boolean(false),
                Value::Nil,
                Value::String(lua.create_string(msg)?),
            ]),
            Err(Fail::Raw(msg)) => MultiValue::from_vec(vec![
                Value::Boolean(false),
                Value::Boolean(false),
                Value::String(lua.create_string(msg)?),
            ]),
            Err(Fail::Arg(narg, msg)) => MultiValue::from_vec(vec![
                Value::Boolean(false),
                Value::Integer(narg.into()),
                Value::String(lua.create_string(msg)?),
            ]),
        })
    })?;
    // SAFETY: pushes one C closure over the function exec_raw put on the stack.
    unsafe {
        lua.exec_raw::<Function>(inner, |state| {
            ffi::lua_pushcclosure(state, trampoline, 1);
        })
    }
}

/// Calls upvalue 1 with the arguments; it returns `true, results...`,
/// `0, table, n` (see [`packed`]) or `false, narg|nil|false, message`. The
/// failure is raised here, in the frame the caller called, so `luaL_argerror`
/// finds the function's name.
#[allow(unsafe_code)] // raises errors with lua_error, as mlua's own pcall does
unsafe extern "C-unwind" fn trampoline(state: *mut ffi::lua_State) -> c_int {
    let nargs = ffi::lua_gettop(state);
    // lua_checkstack itself: mlua-sys's luaL_checkstack asks 20 slots more.
    if ffi::lua_checkstack(state, 4) == 0 {
        ffi::lua_pushstring(state, c"stack overflow".as_ptr());
        ffi::lua_error(state);
    }
    // mlua reads a Lua 5.1 number within 2^-52 of an integer as that integer:
    // -0 and tiny numbers would become 0. Pass those exactly, in a table.
    ffi::lua_pushnil(state);
    for i in 1..=nargs {
        if ffi::lua_type(state, i) == ffi::LUA_TNUMBER {
            let n = ffi::lua_tonumber(state, i);
            if n.abs() < f64::EPSILON && (n != 0.0 || n.is_sign_negative()) {
                if ffi::lua_isnil(state, -1) != 0 {
                    ffi::lua_pop(state, 1);
                    ffi::lua_createtable(state, 0, 1);
                }
                ffi::lua_pushnumber(state, n);
                ffi::lua_rawseti(state, -2, i as _);
            }
        }
    }
    ffi::lua_insert(state, 1);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, nargs + 1, ffi::LUA_MULTRET);
    let top = ffi::lua_gettop(state);
    if ffi::lua_type(state, 1) == ffi::LUA_TNUMBER {
        // Packed: 0, table, n.
        let n = ffi::lua_tointeger(state, 3) as c_int;
        ffi::lua_settop(state, 2);
        ffi::lua_replace(state, 1);
        // lua_checkstack itself: mlua-sys's luaL_checkstack asks 20 slots more.
        if ffi::lua_checkstack(state, n) == 0 {
            ffi::lua_pushstring(state, c"stack overflow (too many results)".as_ptr());
            ffi::lua_error(state);
        }
        for i in 1..=n {
            ffi::lua_rawgeti(state, 1, i as _);
        }
        ffi::lua_remove(state, 1);
        return n;
    }
    if ffi::lua_toboolean(state, 1) != 0 {
        ffi::lua_remove(state, 1);
        return top - 1;
    }
    // No Rust value with a destructor is alive here: both calls longjmp.
    if ffi::lua_isnumber(state, 2) != 0 {
        let narg = ffi::lua_tointeger(state, 2) as c_int;
        ffi::luaL_argerror(state, narg, ffi::lua_tostring(state, 3));
        0
    } else if ffi::lua_isnil(state, 2) != 0 {
        ffi::lua_settop(state, 3);
        ffi::luaL_where(state, 1);
        ffi::lua_insert(state, 3);
        ffi::lua_concat(state, 2);
        ffi::lua_error(state)
    } else {
        ffi::lua_settop(state, 3);
        ffi::lua_error(state)
    }
}

/// Sets `t[name]` to the wrapped library function.
pub(crate) fn set<F>(lua: &Lua, t: &Table, name: &str, f: F) -> mlua::Result<()>
where
    F: Fn(&Lua, MultiValue) -> Ret + Send + 'static,
{
    t.raw_set(name, func(lua, f)?)
}

/// Lua's type name as `luaL_typename` reports it (`None` is an absent argument).
pub(crate) fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::Integer(_)) | Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(Value::LightUserData(_)) | Some(Value::UserData(_)) => "userdata",
        Some(_) => "userdata",
    }
}

/// The `narg`-th argument (1-based), `None` when absent.
pub(crate) fn arg(args: &MultiValue, narg: usize) -> Option<&Value> {
    args.get(narg.wrapping_sub(1))
}

/// A number value (mlua reads integral Lua 5.1 numbers as `Integer`).
pub(crate) fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// `lua_tonumber`: numbers, and strings that convert.
pub(crate) fn to_number(lua: &Lua, v: Option<&Value>) -> Option<f64> {
    match v {
        Some(Value::String(s)) => lua.coerce_number(Value::String(s.clone())).ok().flatten(),
        Some(v) => as_number(v),
        None => None,
    }
}

fn type_error(args: &MultiValue, narg: usize, expected: &str) -> Fail {
    Fail::Arg(
        narg as i32,
        format!("{expected} expected, got {}", type_name(arg(args, narg))),
    )
}

/// `luaL_checknumber`.
pub(crate) fn check_number(lua: &Lua, args: &MultiValue, narg: usize) -> Result<f64, Fail> {
    to_number(lua, arg(args, narg)).ok_or_else(|| type_error(args, narg, "number"))
}

/// C's double-to-integer conversion on x86-64 (cvttsd2si): out of range gives
/// the minimum value, as `lua_number2integer` does.
pub(crate) fn c_i64(d: f64) -> i64 {
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// The same for a 32-bit `int`.
pub(crate) fn c_i32(d: f64) -> i32 {
    if !(-2_147_483_648.0..2_147_483_648.0).contains(&d) {
        i32::MIN
    } else {
        d as i32
    }
}

/// `luaL_checkinteger` (a 64-bit `lua_Integer`).
pub(crate) fn check_integer(lua: &Lua, args: &MultiValue, narg: usize) -> Result<i64, Fail> {
    check_number(lua, args, narg).map(c_i64)
}

/// `luaL_optinteger`.
pub(crate) fn opt_integer(
    lua: &Lua,
    args: &MultiValue,
    narg: usize,
    def: i64,
) -> Result<i64, Fail> {
    match arg(args, narg) {
        None | Some(Value::Nil) => Ok(def),
        Some(_) => check_integer(lua, args, narg),
    }
}

/// `luaL_checklstring`: strings, and numbers converted by Lua.
pub(crate) fn check_bytes(lua: &Lua, args: &MultiValue, narg: usize) -> Result<Vec<u8>, Fail> {
    match arg(args, narg) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(v @ (Value::Integer(_) | Value::Number(_))) => match lua.coerce_string(v.clone())? {
            Some(s) => Ok(s.as_bytes().to_vec()),
            None => Err(type_error(args, narg, "string")),
        },
        _ => Err(type_error(args, narg, "string")),
    }
}

/// A number as Lua returns it.
pub(crate) fn number(n: f64) -> Value {
    Value::Number(n)
}

/// C's `%.<prec>g`, as lua_cjson (and Lua's own `tostring`, at 14) formats doubles.
pub(crate) fn fmt_g(n: f64, prec: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let p = prec.max(1);
    let sci = format!("{:.*e}", p - 1, n);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!(
            "{}e{}{:02}",
            strip_zeros(mantissa),
            sign,
            exp.unsigned_abs()
        )
    } else {
        let fixed = format!("{:.*}", (p as i32 - 1 - exp) as usize, n);
        strip_zeros(&fixed).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use mlua::Lua;

    /// A VM with the libraries, like Redis's.
    pub fn vm() -> Lua {
        let lua = Lua::new();
        super::open(&lua).expect("open libs");
        lua
    }

    /// Runs a chunk and renders its first result the way a test compares it:
    /// strings raw but bytes over 0x7f as `\\xNN`, numbers with `tostring`, tables as `{...}` of their array part.
    pub fn eval(lua: &Lua, code: &str) -> String {
        let render = lua
            .load(
                r#"
                local function r(v)
                  if type(v) == 'table' then
                    local parts = {}
                    for i = 1, #v do parts[#parts + 1] = r(v[i]) end
                    return '{' .. table.concat(parts, ',') .. '}'
                  end
                  return tostring(v)
                end
                return r
            "#,
            )
            .eval::<mlua::Function>()
            .expect("render");
        let v: mlua::Value = lua
            .load(code)
            .set_name("@user_script")
            .eval()
            .unwrap_or_else(|e| panic!("{code}: {e}"));
        let s = render.call::<mlua::String>(v).expect("render call");
        s.as_bytes()
            .iter()
            .map(|b| {
                if *b < 0x80 {
                    (*b as char).to_string()
                } else {
                    format!("\\x{b:02x}")
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{eval, vm};
    use super::*;

    #[test]
    fn fmt_g_matches_printf() {
        assert_eq!(fmt_g(0.1, 14), "0.1");
        assert_eq!(fmt_g(1e15, 14), "1e+15");
        assert_eq!(fmt_g(123456789012345.0, 14), "1.2345678901234e+14");
        assert_eq!(fmt_g(100000000000000.0, 14), "1e+14");
        assert_eq!(fmt_g(10000000000000.0, 14), "10000000000000");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(-1.5, 14), "-1.5");
        assert_eq!(fmt_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(fmt_g(1.23456, 3), "1.23");
        assert_eq!(fmt_g(-0.0, 14), "-0");
        assert_eq!(fmt_g(1e308, 14), "1e+308");
    }

    #[test]
    fn globals_are_tables_of_functions() {
        let lua = vm();
        assert_eq!(
            eval(
                &lua,
                "return {type(cjson.encode), type(cmsgpack.pack), type(bit.band), type(struct.pack)}"
            ),
            "{function,function,function,function}"
        );
    }

    #[test]
    fn argerror_names_the_function_as_called() {
        let lua = vm();
        // Redis: bad argument #1 to 'tobit' (number expected, got no value)
        // Called from Lua code, luaL_error prefixes the caller's position.
        assert_eq!(
            eval(
                &lua,
                "return select(2, pcall(function() return bit.tobit() end))"
            ),
            "user_script:1: bad argument #1 to 'tobit' (number expected, got no value)"
        );
        assert_eq!(
            eval(&lua, "return select(2, pcall(bit.tobit))"),
            "bad argument #1 to '?' (number expected, got no value)"
        );
        assert_eq!(
            eval(
                &lua,
                "local ok, e = pcall(function() local x = bit.tobit() return x end) return e"
            ),
            "user_script:1: bad argument #1 to 'tobit' (number expected, got no value)"
        );
    }
}
