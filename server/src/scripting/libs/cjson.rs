//! `cjson`: Lua CJSON 2.1.0 as Redis bundles it (deps/lua/src/lua_cjson.c).
//!
//! Encoding: a table whose keys are all integers >= 1 is an array (holes are
//! `null`) unless it is excessively sparse; any other table is an object with
//! number keys as strings. Numbers print with `%.14g`, `/` escapes as `\/`.
//! Decoding: JSON `null` is `cjson.null` (a NULL lightuserdata); numbers go
//! through `strtod`, so hex, `Infinity` and `NaN` are accepted by default.
//! Each module table (`cjson.new()` makes more) has its own settings.

use std::sync::{Arc, Mutex, MutexGuard};

use mlua::{Function, LightUserData, Lua, MultiValue, Table, Value};

use super::{arg, as_number, check_bytes, check_integer, exact, set, type_name, Fail, Ret};

/// Lua 5.1's LUAI_MAXCSTACK: the C code's lua_checkstack fails past it.
const MAXCSTACK: usize = 8000;

/// The settings of one module table (json_config_t).
#[derive(Clone)]
struct Config {
    encode_sparse_convert: i32,
    encode_sparse_ratio: i32,
    encode_sparse_safe: i32,
    encode_max_depth: i32,
    /// 0 refuse, 1 encode as `nan`/`inf`, 2 encode as `null`.
    encode_invalid_numbers: i32,
    encode_number_precision: i32,
    encode_keep_buffer: i32,
    decode_invalid_numbers: i32,
    decode_max_depth: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encode_sparse_convert: 0,
            encode_sparse_ratio: 2,
            encode_sparse_safe: 10,
            encode_max_depth: 1000,
            encode_invalid_numbers: 0,
            encode_number_precision: 14,
            encode_keep_buffer: 1,
            decode_invalid_numbers: 1,
            decode_max_depth: 1000,
        }
    }
}

type Shared = Arc<Mutex<Config>>;

fn lock(cfg: &Shared) -> MutexGuard<'_, Config> {
    cfg.lock().unwrap_or_else(|e| e.into_inner())
}

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// Builds a `cjson` table with fresh settings (lua_cjson_new).
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let cfg: Shared = Arc::new(Mutex::new(Config::default()));

    let c = cfg.clone();
    // The base library's `next`, taken now: scripts cannot swap it later.
    let next_fn: Function = lua.globals().raw_get("next")?;
    set(lua, &t, "encode", move |lua, a| {
        let cfg = lock(&c).clone();
        encode(lua, &cfg, &next_fn, &a)
    })?;
    let c = cfg.clone();
    set(lua, &t, "decode", move |lua, a| {
        let cfg = lock(&c).clone();
        decode(lua, &cfg, &a)
    })?;
    let c = cfg.clone();
    set(lua, &t, "encode_sparse_array", move |lua, a| {
        arg_init(&a, 3)?;
        let mut cfg = lock(&c);
        let convert = enum_option(lua, &a, 1, &mut cfg.encode_sparse_convert, None)?;
        let ratio = integer_option(lua, &a, 2, &mut cfg.encode_sparse_ratio, 0, i32::MAX)?;
        let safe = integer_option(lua, &a, 3, &mut cfg.encode_sparse_safe, 0, i32::MAX)?;
        Ok(MultiValue::from_vec(vec![convert, ratio, safe]))
    })?;
    let c = cfg.clone();
    set(lua, &t, "encode_max_depth", move |lua, a| {
        arg_init(&a, 1)?;
        let v = integer_option(lua, &a, 1, &mut lock(&c).encode_max_depth, 1, i32::MAX)?;
        Ok(MultiValue::from_vec(vec![v]))
    })?;
    let c = cfg.clone();
    set(lua, &t, "decode_max_depth", move |lua, a| {
        arg_init(&a, 1)?;
        let v = integer_option(lua, &a, 1, &mut lock(&c).decode_max_depth, 1, i32::MAX)?;
        Ok(MultiValue::from_vec(vec![v]))
    })?;
    let c = cfg.clone();
    set(lua, &t, "encode_number_precision", move |lua, a| {
        arg_init(&a, 1)?;
        let v = integer_option(lua, &a, 1, &mut lock(&c).encode_number_precision, 1, 14)?;
        Ok(MultiValue::from_vec(vec![v]))
    })?;
    let c = cfg.clone();
    set(lua, &t, "encode_keep_buffer", move |lua, a| {
        arg_init(&a, 1)?;
        let v = enum_option(lua, &a, 1, &mut lock(&c).encode_keep_buffer, None)?;
        Ok(MultiValue::from_vec(vec![v]))
    })?;
    let c = cfg.clone();
    set(lua, &t, "encode_invalid_numbers", move |lua, a| {
        arg_init(&a, 1)?;
        let opts: &[&str] = &["off", "on", "null"];
        let v = enum_option(lua, &a, 1, &mut lock(&c).encode_invalid_numbers, Some(opts))?;
        Ok(MultiValue::from_vec(vec![v]))
    })?;
    let c = cfg;
    set(lua, &t, "decode_invalid_numbers", move |lua, a| {
        arg_init(&a, 1)?;
        let v = enum_option(lua, &a, 1, &mut lock(&c).decode_invalid_numbers, None)?;
        Ok(MultiValue::from_vec(vec![v]))
    })?;
    set(lua, &t, "new", |lua, _| {
        Ok(MultiValue::from_vec(vec![Value::Table(module(lua)?)]))
    })?;
    t.raw_set("null", null())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

// ------------------------------------------------------------ configuration

/// json_arg_init: at most `n` arguments.
fn arg_init(args: &MultiValue, n: usize) -> Result<(), Fail> {
    if args.len() > n {
        return Err(Fail::Arg(n as i32 + 1, "found too many arguments".into()));
    }
    Ok(())
}

fn is_nil(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Nil))
}

/// json_integer_option (its range error always names argument 1, as in C).
fn integer_option(
    lua: &Lua,
    args: &MultiValue,
    idx: usize,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> Result<Value, Fail> {
    if !is_nil(arg(args, idx)) {
        let value = check_integer(lua, args, idx)? as i32;
        if !(min <= value && value <= max) {
            return Err(Fail::Arg(
                1,
                format!("expected integer between {min} and {max}"),
            ));
        }
        *setting = value;
    }
    Ok(Value::Integer((*setting).into()))
}

/// json_enum_option: a boolean or one of `options` (default "off"/"on").
fn enum_option(
    lua: &Lua,
    args: &MultiValue,
    idx: usize,
    setting: &mut i32,
    options: Option<&[&str]>,
) -> Result<Value, Fail> {
    let options = options.unwrap_or(&["off", "on"]);
    match arg(args, idx) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => *setting = i32::from(*b),
        Some(_) => {
            // luaL_checkoption
            let name = check_bytes(lua, args, idx)?;
            match options.iter().position(|o| o.as_bytes() == name.as_slice()) {
                Some(i) => *setting = i as i32,
                None => {
                    return Err(Fail::Arg(
                        idx as i32,
                        format!("invalid option '{}'", String::from_utf8_lossy(&name)),
                    ))
                }
            }
        }
    }
    if *setting == 0 || *setting == 1 {
        Ok(Value::Boolean(*setting == 1))
    } else {
        let name = options.get(*setting as usize).copied().unwrap_or("");
        Ok(Value::String(lua.create_string(name)?))
    }
}

// ----------------------------------------------------------------- encoding

fn encode(lua: &Lua, cfg: &Config, next_fn: &Function, args: &MultiValue) -> Ret {
    if args.len() != 1 {
        return Err(Fail::Arg(1, "expected 1 argument".into()));
    }
    let mut out = Vec::new();
    encode_value(
        lua,
        cfg,
        next_fn,
        args.front().unwrap_or(&Value::Nil),
        &mut out,
    )?;
    Ok(MultiValue::from_vec(vec![Value::String(
        lua.create_string(out)?,
    )]))
}

fn exception(v: &Value, reason: &str) -> Fail {
    Fail::Error(format!("Cannot serialise {}: {reason}", type_name(Some(v))))
}

fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=31 | 127 => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

fn append_number(cfg: &Config, out: &mut Vec<u8>, v: &Value, n: f64) -> Result<(), Fail> {
    if n.is_nan() || n.is_infinite() {
        match cfg.encode_invalid_numbers {
            0 => return Err(exception(v, "must not be NaN or Inf")),
            // Redis's build prints them with %g, NaN unsigned.
            1 => {
                out.extend_from_slice(if n.is_nan() {
                    b"nan".as_slice()
                } else if n < 0.0 {
                    b"-inf".as_slice()
                } else {
                    b"inf".as_slice()
                });
                return Ok(());
            }
            _ => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
        }
    }
    out.extend_from_slice(super::fmt_g(n, cfg.encode_number_precision as usize).as_bytes());
    Ok(())
}

/// lua_array_length: `Some(max index)` for an array, `None` for an object.
fn array_length(cfg: &Config, t: &Table, v: &Value) -> Result<Option<i32>, Fail> {
    let (mut max, mut items) = (0i32, 0i32);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        match as_number(&k) {
            Some(k) if k != 0.0 && k.floor() == k && k >= 1.0 => {
                if k > max as f64 {
                    max = super::c_i32(k);
                }
                items = items.wrapping_add(1);
            }
            _ => return Ok(None),
        }
    }
    if cfg.encode_sparse_ratio > 0
        && max > items.wrapping_mul(cfg.encode_sparse_ratio)
        && max > cfg.encode_sparse_safe
    {
        if cfg.encode_sparse_convert == 0 {
            return Err(exception(v, "excessively sparse array"));
        }
        return Ok(None);
    }
    Ok(Some(max))
}

/// A value that is not a table.
fn encode_scalar(cfg: &Config, v: &Value, out: &mut Vec<u8>) -> Result<(), Fail> {
    match v {
        Value::String(s) => append_string(out, &s.as_bytes()),
        Value::Integer(_) | Value::Number(_) => {
            append_number(cfg, out, v, as_number(v).unwrap_or(0.0))?
        }
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(LightUserData(p)) if p.is_null() => out.extend_from_slice(b"null"),
        _ => return Err(exception(v, "type not supported")),
    }
    Ok(())
}

/// An object member's key and colon.
fn append_key(cfg: &Config, out: &mut Vec<u8>, k: &Value) -> Result<(), Fail> {
    match k {
        Value::Integer(_) | Value::Number(_) => {
            out.push(b'"');
            append_number(cfg, out, k, as_number(k).unwrap_or(0.0))?;
            out.extend_from_slice(b"\":");
        }
        Value::String(s) => {
            append_string(out, &s.as_bytes());
            out.push(b':');
        }
        _ => return Err(exception(k, "table key must be a number or string")),
    }
    Ok(())
}

/// The common object of scalars in one lazy pass; `false` (and nothing
/// written) when a member is a table, which needs the resumable walk.
fn flat_object(cfg: &Config, t: &Table, out: &mut Vec<u8>) -> Result<bool, Fail> {
    let start = out.len();
    out.push(b'{');
    let mut comma = false;
    for pair in t.pairs::<Value, Value>() {
        let (k, item) = pair?;
        if matches!(item, Value::Table(_)) {
            out.truncate(start);
            return Ok(false);
        }
        if comma {
            out.push(b',');
        }
        comma = true;
        append_key(cfg, out, &k)?;
        encode_scalar(cfg, &exact(t, &k, item)?, out)?;
    }
    out.push(b'}');
    Ok(true)
}

/// A table being encoded: an array (last index written, length) or an object
/// (whether a member was written). The table, and an object's last key, wait
/// in the spill table: in Rust each would hold one of mlua's few thousand
/// reference slots, and the depth is the user's to raise.
enum Pending {
    Arr(i32, i32),
    Obj(bool),
}

/// Appends the JSON of `root`. Iterative, objects walked with Lua's `next`
/// from their last key. `top` tracks the Lua stack height the C code would
/// have, for its lua_checkstack limit.
fn encode_value(
    lua: &Lua,
    cfg: &Config,
    next_fn: &Function,
    root: &Value,
    out: &mut Vec<u8>,
) -> Result<(), Fail> {
    let spill = lua.create_table()?;
    let mut open: Vec<Pending> = Vec::new();
    let mut top: usize = 1;
    let mut next = Some(root.clone());
    loop {
        if let Some(v) = next.take() {
            if let Value::Table(t) = &v {
                let depth = open.len() as i32 + 1;
                if depth > cfg.encode_max_depth || top + 3 > MAXCSTACK {
                    return Err(Fail::Error(format!(
                        "Cannot serialise, excessive nesting ({depth})"
                    )));
                }
                match array_length(cfg, t, &v)? {
                    Some(len) if len > 0 => {
                        spill.raw_set(2 * open.len() + 1, t)?;
                        out.push(b'[');
                        open.push(Pending::Arr(0, len));
                        top += 1;
                    }
                    _ => {
                        if !flat_object(cfg, t, out)? {
                            spill.raw_set(2 * open.len() + 1, t)?;
                            out.push(b'{');
                            open.push(Pending::Obj(false));
                            top += 2;
                        }
                    }
                }
            } else {
                encode_scalar(cfg, &v, out)?;
            }
        }
        let depth = open.len();
        let Some(pending) = open.last_mut() else {
            return Ok(());
        };
        let t: Table = spill.raw_get(2 * depth - 1)?;
        match pending {
            Pending::Arr(i, len) => {
                if *i < *len {
                    *i += 1;
                    if *i > 1 {
                        out.push(b',');
                    }
                    let key = Value::Integer((*i).into());
                    next = Some(exact(&t, &key, t.raw_get::<Value>(*i)?)?);
                    continue;
                }
                out.push(b']');
                top -= 1;
            }
            Pending::Obj(comma) => {
                let prev: Value = spill.raw_get(2 * depth)?;
                let (k, item): (Value, Value) = next_fn.call((&t, prev))?;
                if !matches!(k, Value::Nil) {
                    if *comma {
                        out.push(b',');
                    }
                    *comma = true;
                    append_key(cfg, out, &k)?;
                    next = Some(exact(&t, &k, item)?);
                    spill.raw_set(2 * depth, k)?;
                    continue;
                }
                out.push(b'}');
                top -= 2;
            }
        }
        spill.raw_set(2 * depth - 1, Value::Nil)?;
        spill.raw_set(2 * depth, Value::Nil)?;
        open.pop();
    }
}

// ----------------------------------------------------------------- decoding

enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(&self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str(_) => "T_STRING",
            Tok::Num(_) => "T_NUMBER",
            Tok::Bool(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(e) => e,
        }
    }
}

/// A token and the 0-based offset errors report.
struct Token {
    tok: Tok,
    index: usize,
}

struct Parser<'a> {
    lua: &'a Lua,
    cfg: &'a Config,
    data: &'a [u8],
    ptr: usize,
    depth: i32,
}

fn hexdigit(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

impl Parser<'_> {
    /// The byte at `i`; the C string ends in NUL, which reads as the end.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn error(&self, msg: &'static str) -> Token {
        Token {
            tok: Tok::Error(msg),
            index: self.ptr,
        }
    }

    fn hex4(&self, i: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |acc, k| Some((acc << 4) | hexdigit(self.at(i + k))?))
    }

    /// json_append_unicode_escape: `\uXXXX` (or a surrogate pair) at ptr.
    fn unicode_escape(&mut self, tmp: &mut Vec<u8>) -> Option<()> {
        let mut cp = self.hex4(self.ptr + 2)?;
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 || self.at(self.ptr + 6) != b'\\' || self.at(self.ptr + 7) != b'u' {
                return None;
            }
            let low = self.hex4(self.ptr + 8)?;
            if low & 0xFC00 != 0xDC00 {
                return None;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let mut buf = [0u8; 4];
        let c = char::from_u32(cp)?;
        tmp.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        self.ptr += len;
        Some(())
    }

    fn string_token(&mut self) -> Token {
        let index = self.ptr;
        self.ptr += 1;
        let mut tmp = Vec::new();
        loop {
            let mut ch = self.at(self.ptr);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error("unexpected end of string");
            }
            if ch == b'\\' {
                ch = match self.at(self.ptr + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 8,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 12,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape(&mut tmp).is_some() {
                            continue;
                        }
                        return self.error("invalid unicode escape code");
                    }
                    _ => return self.error("invalid escape code"),
                };
                self.ptr += 1;
            }
            tmp.push(ch);
            self.ptr += 1;
        }
        self.ptr += 1;
        Token {
            tok: Tok::Str(tmp),
            index,
        }
    }

    /// json_is_invalid_number: forms strtod takes that strict JSON does not.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.ptr;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        if self.at(p) == b'0' {
            let ch2 = self.at(p + 1);
            return (ch2 | 0x20) == b'x' || ch2.is_ascii_digit();
        } else if self.at(p) <= b'9' {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|k| self.at(p + k).eq_ignore_ascii_case(&w[k]));
        word(b"inf") || word(b"nan")
    }

    fn number_token(&mut self) -> Token {
        match strtod(self.data, self.ptr) {
            Some((n, end)) => {
                let index = self.ptr;
                self.ptr = end;
                Token {
                    tok: Tok::Num(n),
                    index,
                }
            }
            None => self.error("invalid number"),
        }
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.ptr), b' ' | b'\t' | b'\n' | b'\r') {
            self.ptr += 1;
        }
        let index = self.ptr;
        let single = |tok| Token { tok, index };
        let ch = self.at(self.ptr);
        let tok = match ch {
            b'{' => Tok::ObjBegin,
            b'}' => Tok::ObjEnd,
            b'[' => Tok::ArrBegin,
            b']' => Tok::ArrEnd,
            b',' => Tok::Comma,
            b':' => Tok::Colon,
            0 => return single(Tok::End),
            b'"' => return self.string_token(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                    return self.error("invalid number");
                }
                return self.number_token();
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                let rest = &self.data[self.ptr..];
                if rest.starts_with(b"true") {
                    self.ptr += 4;
                    return single(Tok::Bool(true));
                } else if rest.starts_with(b"false") {
                    self.ptr += 5;
                    return single(Tok::Bool(false));
                } else if rest.starts_with(b"null") {
                    self.ptr += 4;
                    return single(Tok::Null);
                } else if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
                    return self.number_token();
                }
                return self.error("invalid token");
            }
            _ => return self.error("invalid token"),
        };
        self.ptr += 1;
        single(tok)
    }

    fn throw(&self, expected: &str, t: &Token) -> Fail {
        Fail::Error(format!(
            "Expected {expected} but found {} at character {}",
            t.tok.name(),
            t.index + 1
        ))
    }

    /// json_decode_descend: depth and Lua stack limits.
    fn descend(&mut self, top: usize, slots: usize) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && top + slots <= MAXCSTACK {
            return Ok(());
        }
        Err(Fail::Error(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.ptr
        )))
    }

    /// After `{` and its first member's key: the key and the value's first token.
    fn member(&mut self, token: Token) -> Result<(mlua::String, Token), Fail> {
        let Tok::Str(key) = &token.tok else {
            return Err(self.throw("object key string", &token));
        };
        let key = self.lua.create_string(key)?;
        let token = self.next_token();
        if !matches!(token.tok, Tok::Colon) {
            return Err(self.throw("colon", &token));
        }
        Ok((key, self.next_token()))
    }

    /// One JSON value from `token` on. Iterative, since the nesting depth is
    /// the user's to raise: the open arrays and objects (with an object's
    /// current key) wait in the `spill` table, not in Rust, where each would
    /// hold one of mlua's few thousand reference slots. `top` tracks the Lua
    /// stack height the C code would have.
    fn parse(&mut self, mut token: Token) -> Result<Value, Fail> {
        let spill = self.lua.create_table()?;
        // Per open container: Some(next index) for an array, None for an object.
        let mut open: Vec<Option<i64>> = Vec::new();
        let mut top: usize = 1;
        loop {
            // A value starts at `token`: a scalar, or a container to descend into.
            let mut value = match token.tok {
                Tok::Str(s) => Value::String(self.lua.create_string(s)?),
                Tok::Num(n) => Value::Number(n),
                Tok::Bool(b) => Value::Boolean(b),
                Tok::Null => null(),
                Tok::ObjBegin => {
                    self.descend(top, 3)?;
                    let t = self.lua.create_table()?;
                    token = self.next_token();
                    if matches!(token.tok, Tok::ObjEnd) {
                        self.depth -= 1;
                        Value::Table(t)
                    } else {
                        let (key, next) = self.member(token)?;
                        spill.raw_set(2 * open.len() + 1, t)?;
                        spill.raw_set(2 * open.len() + 2, key)?;
                        open.push(None);
                        top += 2;
                        token = next;
                        continue;
                    }
                }
                Tok::ArrBegin => {
                    self.descend(top, 2)?;
                    let t = self.lua.create_table()?;
                    token = self.next_token();
                    if matches!(token.tok, Tok::ArrEnd) {
                        self.depth -= 1;
                        Value::Table(t)
                    } else {
                        spill.raw_set(2 * open.len() + 1, t)?;
                        open.push(Some(1));
                        top += 1;
                        continue;
                    }
                }
                _ => return Err(self.throw("value", &token)),
            };
            // Store it in its container; close the containers that end here.
            loop {
                let depth = open.len();
                let Some(slot) = open.last_mut() else {
                    return Ok(value);
                };
                let t: Table = spill.raw_get(2 * depth - 1)?;
                let (end, expected) = match slot {
                    Some(i) => {
                        t.raw_set(*i, value)?;
                        *i += 1;
                        (Tok::ArrEnd, "comma or array end")
                    }
                    None => {
                        let key: Value = spill.raw_get(2 * depth)?;
                        t.raw_set(key, value)?;
                        (Tok::ObjEnd, "comma or object end")
                    }
                };
                let is_array = slot.is_some();
                token = self.next_token();
                if std::mem::discriminant(&token.tok) == std::mem::discriminant(&end) {
                    self.depth -= 1;
                    top -= if is_array { 1 } else { 2 };
                    spill.raw_set(2 * depth - 1, Value::Nil)?;
                    spill.raw_set(2 * depth, Value::Nil)?;
                    open.pop();
                    value = Value::Table(t);
                    continue;
                }
                if !matches!(token.tok, Tok::Comma) {
                    return Err(self.throw(expected, &token));
                }
                token = self.next_token();
                if !is_array {
                    let (key, next) = self.member(token)?;
                    spill.raw_set(2 * depth, key)?;
                    token = next;
                }
                break;
            }
        }
    }
}

fn decode(lua: &Lua, cfg: &Config, args: &MultiValue) -> Ret {
    if args.len() != 1 {
        return Err(Fail::Arg(1, "expected 1 argument".into()));
    }
    let data = check_bytes(lua, args, 1)?;
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(Fail::Error(
            "JSON parser does not support UTF-16 or UTF-32".into(),
        ));
    }
    let mut p = Parser {
        lua,
        cfg,
        data: &data,
        ptr: 0,
        depth: 0,
    };
    let token = p.next_token();
    let v = p.parse(token)?;
    let token = p.next_token();
    if !matches!(token.tok, Tok::End) {
        return Err(p.throw("the end", &token));
    }
    Ok(MultiValue::from_vec(vec![v]))
}

/// C's `strtod` on the bytes from `start`: the value and where it stopped, or
/// `None` when nothing converts. Decimal, hex (`0x1p4`), `inf[inity]`, `nan[(...)]`.
fn strtod(s: &[u8], start: usize) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = start;
    let neg = match at(i) {
        b'-' => {
            i += 1;
            true
        }
        b'+' => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if neg { -v } else { v };
    let word = |i: usize, w: &[u8]| {
        w.iter()
            .enumerate()
            .all(|(k, c)| at(i + k).eq_ignore_ascii_case(c))
    };
    if word(i, b"inf") {
        let end = if word(i + 3, b"inity") { i + 8 } else { i + 3 };
        return Some((sign(f64::INFINITY), end));
    }
    if word(i, b"nan") {
        let mut end = i + 3;
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                end = j + 1;
            }
        }
        return Some((sign(f64::NAN), end));
    }
    if at(i) == b'0' && (at(i + 1) | 0x20) == b'x' {
        if let Some((v, end)) = hex_float(s, i + 2) {
            return Some((sign(v), end));
        }
        // "0x" with no digits: just the 0.
        return Some((sign(0.0), i + 1));
    }
    let digits_from = |mut j: usize| {
        let from = j;
        while at(j).is_ascii_digit() {
            j += 1;
        }
        (j, j - from)
    };
    let (mut j, int_digits) = digits_from(i);
    let mut frac_digits = 0;
    if at(j) == b'.' {
        let (k, n) = digits_from(j + 1);
        frac_digits = n;
        if int_digits + n > 0 {
            j = k;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if at(j) | 0x20 == b'e' {
        let mut k = j + 1;
        if at(k) == b'+' || at(k) == b'-' {
            k += 1;
        }
        let (k2, n) = digits_from(k);
        if n > 0 {
            j = k2;
        }
    }
    let text = std::str::from_utf8(&s[i..j]).ok()?;
    let v: f64 = text.parse().ok()?;
    Some((sign(v), j))
}

/// The hex digits, optional fraction and `p` exponent after "0x".
fn hex_float(s: &[u8], from: usize) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = from;
    let mut mant = 0f64;
    let mut exp: i64 = 0;
    let mut any = false;
    while let Some(d) = hexdigit(at(i)) {
        mant = mant * 16.0 + d as f64;
        any = true;
        i += 1;
    }
    if at(i) == b'.' {
        let mut j = i + 1;
        while let Some(d) = hexdigit(at(j)) {
            mant = mant * 16.0 + d as f64;
            exp -= 4;
            any = true;
            j += 1;
        }
        if any {
            i = j;
        }
    }
    if !any {
        return None;
    }
    if at(i) | 0x20 == b'p' {
        let mut k = i + 1;
        let neg = at(k) == b'-';
        if at(k) == b'+' || at(k) == b'-' {
            k += 1;
        }
        let mut e: i64 = 0;
        let from = k;
        while at(k).is_ascii_digit() {
            e = (e * 10 + (at(k) - b'0') as i64).min(100_000);
            k += 1;
        }
        if k > from {
            exp += if neg { -e } else { e };
            i = k;
        }
    }
    Some((mant * 2f64.powi(exp.clamp(-100_000, 100_000) as i32), i))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{eval, vm};

    // Expected values from redis-server 7.0.15: EVAL "return ..." 0.
    #[test]
    fn encode_matches_redis() {
        let lua = vm();
        let cases: &[(&str, &str)] = &[
            ("return cjson.encode({1,2,3,{a=1}})", r#"[1,2,3,{"a":1}]"#),
            ("return cjson.encode({[1]=1,[2]=2,[4]=4})", "[1,2,null,4]"),
            (
                "return cjson.encode('a/b\"c\\\\d\\n\\1\\127')",
                r#""a\/b\"c\\d\n\u0001\u007f""#,
            ),
            ("return cjson.encode(0.1)", "0.1"),
            ("return cjson.encode(1/3)", "0.33333333333333"),
            ("return cjson.encode(1e300)", "1e+300"),
            ("return cjson.encode({[1.5]=1})", r#"{"1.5":1}"#),
            ("return cjson.encode({})", "{}"),
            ("return cjson.encode(cjson.null)", "null"),
            ("return cjson.encode(1e-20)", "1e-20"),
            ("return cjson.encode({1e-20})", "[1e-20]"),
            (
                r#"return cjson.encode(cjson.decode('{"a":[1,2,{"b":null}],"c":true}'))"#,
                r#"{"a":[1,2,{"b":null}],"c":true}"#,
            ),
            (
                "return select(2, pcall(cjson.encode, {[1]=1,[20]=2}))",
                "Cannot serialise table: excessively sparse array",
            ),
            (
                "return select(2, pcall(cjson.encode, 0/0))",
                "Cannot serialise number: must not be NaN or Inf",
            ),
            (
                "return select(2, pcall(cjson.encode, {[true]=1}))",
                "Cannot serialise boolean: table key must be a number or string",
            ),
            (
                "return select(2, pcall(cjson.encode, function() end))",
                "Cannot serialise function: type not supported",
            ),
            (
                "return select(2, pcall(cjson.encode))",
                "bad argument #1 to '?' (expected 1 argument)",
            ),
            (
                "local t = {} local c = t for i = 1, 1001 do c[1] = {} c = c[1] end \
                 return select(2, pcall(cjson.encode, t))",
                "Cannot serialise, excessive nesting (1001)",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, code), *want, "{code}");
        }
    }

    #[test]
    fn decode_matches_redis() {
        let lua = vm();
        let cases: &[(&str, &str)] = &[
            (
                "return cjson.decode('[0x10, +5, 1e2, 007, 1.5]')",
                "{16,5,100,7,1.5}",
            ),
            ("return cjson.decode('[Infinity, -inf]')[2]", "-inf"),
            ("return tostring(cjson.decode('NaN'))", "nan"),
            ("return cjson.decode('[1,null,3]')[2] == cjson.null", "true"),
            (
                r#"return cjson.decode('"\\u00e9\\ud83d\\ude00\\/"')"#,
                "\\xc3\\xa9\\xf0\\x9f\\x98\\x80/",
            ),
            (
                "return select(2, pcall(cjson.decode, '{'))",
                "Expected object key string but found T_END at character 2",
            ),
            (
                "return select(2, pcall(cjson.decode, ''))",
                "Expected value but found T_END at character 1",
            ),
            (
                "return select(2, pcall(cjson.decode, '[1,]'))",
                "Expected value but found T_ARR_END at character 4",
            ),
            (
                "return select(2, pcall(cjson.decode, '\"abc'))",
                "Expected value but found unexpected end of string at character 5",
            ),
            (
                "return select(2, pcall(cjson.decode, '\"a\\\\qb\"'))",
                "Expected value but found invalid escape code at character 3",
            ),
            (
                "return select(2, pcall(cjson.decode, '\"\\\\ud800\"'))",
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                "return select(2, pcall(cjson.decode, '{1:2}'))",
                "Expected object key string but found T_NUMBER at character 2",
            ),
            (
                "return select(2, pcall(cjson.decode, '{\"a\" 2}'))",
                "Expected colon but found T_NUMBER at character 6",
            ),
            (
                "return select(2, pcall(cjson.decode, '[1 2]'))",
                "Expected comma or array end but found T_NUMBER at character 4",
            ),
            (
                "return select(2, pcall(cjson.decode, '1 2'))",
                "Expected the end but found T_NUMBER at character 3",
            ),
            (
                "return select(2, pcall(cjson.decode, 'nul'))",
                "Expected value but found invalid token at character 1",
            ),
            (
                "return select(2, pcall(cjson.decode, '-'))",
                "Expected value but found invalid number at character 1",
            ),
            (
                "return select(2, pcall(cjson.decode, string.rep('[', 1001)))",
                "Found too many nested data structures (1001) at character 1001",
            ),
            (
                "return select(2, pcall(cjson.decode, '\\0['))",
                "JSON parser does not support UTF-16 or UTF-32",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, code), *want, "{code}");
        }
    }

    #[test]
    fn settings_match_redis() {
        let lua = vm();
        let cases: &[(&str, &str)] = &[
            ("return {cjson.encode_sparse_array()}", "{false,2,10}"),
            (
                "return {cjson.encode_max_depth(), cjson.decode_max_depth(), \
                 cjson.encode_number_precision(), tostring(cjson.encode_keep_buffer()), \
                 tostring(cjson.encode_invalid_numbers()), tostring(cjson.decode_invalid_numbers())}",
                "{1000,1000,14,true,false,true}",
            ),
            (
                "return select(2, pcall(cjson.encode_number_precision, 15))",
                "bad argument #1 to '?' (expected integer between 1 and 14)",
            ),
            (
                "return select(2, pcall(cjson.encode_max_depth, 0))",
                "bad argument #1 to '?' (expected integer between 1 and 2147483647)",
            ),
            (
                "return select(2, pcall(cjson.encode_max_depth, 1, 2))",
                "bad argument #2 to '?' (found too many arguments)",
            ),
            (
                "return select(2, pcall(cjson.encode_invalid_numbers, 'x'))",
                "bad argument #1 to '?' (invalid option 'x')",
            ),
            (
                "return select(2, pcall(cjson.encode_sparse_array, true, 1, -1))",
                "bad argument #1 to '?' (expected integer between 0 and 2147483647)",
            ),
            // A fresh table per cjson.new(), its own settings.
            (
                "local c = cjson.new() c.encode_number_precision(3) \
                 return {c.encode(1/3), cjson.encode(1/3)}",
                "{0.333,0.33333333333333}",
            ),
            ("cjson.encode_invalid_numbers('null') return cjson.encode({1/0})", "[null]"),
            (
                "cjson.encode_invalid_numbers(true) return cjson.encode({-(0/0), 0/0, 1/0, -1/0})",
                "[nan,nan,inf,-inf]",
            ),
            ("cjson.encode_invalid_numbers(false) return cjson.encode(2^53)", "9.007199254741e+15"),
            ("return cjson.encode(-0.0)", "-0"),
            ("return cjson.encode(123456789012345678)", "1.2345678901235e+17"),
            ("return cjson.encode(0.00001)", "1e-05"),
            (
                "return cjson.encode({a=1,b=2,c=3,d={1,2},e='x'})",
                r#"{"a":1,"c":3,"b":2,"e":"x","d":[1,2]}"#,
            ),
            ("return cjson.decode('\"\\\\u0000a\"')", "\0a"),
            (
                "return select(2, pcall(cjson.decode, '[1]x'))",
                "Expected the end but found invalid token at character 4",
            ),
            ("return cjson.decode('[1]\\0x')", "{1}"),
            (
                "return select(2, pcall(cjson.decode, '1.5e'))",
                "Expected the end but found invalid token at character 4",
            ),
            ("return cjson.decode('  \\t\\n 5 ')", "5"),
            ("cjson.encode_sparse_array(true) return cjson.encode({[1]=1,[20]=2})", r#"{"1":1,"20":2}"#),
            (
                "cjson.decode_invalid_numbers(false) return select(2, pcall(cjson.decode, '0x10'))",
                "Expected value but found invalid number at character 1",
            ),
            (
                "cjson.decode_max_depth(2) return select(2, pcall(cjson.decode, '[[[1]]]'))",
                "Found too many nested data structures (3) at character 3",
            ),
            (
                "cjson.encode_max_depth(2) return select(2, pcall(cjson.encode, {{{1}}}))",
                "Cannot serialise, excessive nesting (3)",
            ),
            // Wide tables hold no mlua reference per member.
            (
                "local t = {} for i = 1, 20000 do t['k' .. i] = {i} end \
                 return #cjson.encode(t) .. ' ' .. #cjson.encode(cjson.decode(cjson.encode(t)))",
                "317789 317789",
            ),
            // Past the depth settings, the C code's Lua stack limit.
            (
                "cjson.decode_max_depth(100000) return select(2, pcall(cjson.decode, string.rep('[', 9000)))",
                "Found too many nested data structures (7999) at character 7999",
            ),
            (
                "return select(2, pcall(cjson.decode, string.rep('{\"a\":', 9000)))",
                "Found too many nested data structures (4000) at character 19996",
            ),
            (
                "cjson.encode_max_depth(100000) local t = {} local c = t \
                 for i = 1, 9000 do c[1] = {} c = c[1] end return select(2, pcall(cjson.encode, t))",
                "Cannot serialise, excessive nesting (7998)",
            ),
            (
                "local t = {} local c = t for i = 1, 9000 do c.a = {} c = c.a end \
                 return select(2, pcall(cjson.encode, t))",
                "Cannot serialise, excessive nesting (4000)",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, code), *want, "{code}");
        }
    }
}
