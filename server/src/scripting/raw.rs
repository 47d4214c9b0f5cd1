//! The per-run hot path on Lua's C API: KEYS/ARGV, the call of the script, `redis.call`
//! / `redis.pcall`, and the reply conversions both ways (Redis's luaCreateArray,
//! luaRedisGenericCommand, redisProtocolToLuaType, luaReplyToRedisReply).
//!
//! Through mlua's safe API every value crossing costs a lock, a reference slot and often
//! an allocation; perf put that at about a third of an EVALSHA's server time, which
//! kept EVALSHA well below redis-server (BENCHMARKS.md). Everything else (the sandbox,
//! the libraries, FUNCTION LOAD, errors) stays on mlua.
#![allow(unsafe_code)]

use super::{script_call, Run, RunSpec};
use bytes::Bytes;
use mlua::ffi::{self, lua_State};
use mlua::Lua;
use rill_protocol::{Reply, RespVersion};
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, CStr};

/// Registry key of the metatable that marks redis.call's error tables, so the sandbox's
/// pcall can hand scripts the error text, as Redis does.
pub(super) const CALL_ERROR_MT: &CStr = c"rill.call_error";

thread_local! {
    /// The run `redis.call` acts on (Redis's curr_run_ctx): the address of `run()`'s
    /// `RefCell<Run>` while a script runs on this thread, 0 otherwise. Scripts run on
    /// the thread that started them (a busy script hands the event loop away, not
    /// itself), so the C functions find their run here.
    static CURRENT_RUN: Cell<usize> = const { Cell::new(0) };
}

/// Binds `run` for `redis.call` until the guard drops (also on unwinding).
pub(super) struct Bound;

impl Bound {
    pub(super) fn bind(run: &RefCell<Run>) -> Bound {
        CURRENT_RUN.with(|c| c.set(run as *const RefCell<Run> as usize));
        Bound
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        CURRENT_RUN.with(|c| c.set(0));
    }
}

/// Calls `f` on the bound run; `None` outside a run (a reference to redis.call kept and
/// called later, FUNCTION LOAD's code) or when the run is already borrowed.
pub(super) fn with_run<R>(f: impl FnOnce(&mut Run) -> R) -> Option<R> {
    let addr = CURRENT_RUN.with(|c| c.get());
    if addr == 0 {
        return None;
    }
    // SAFETY: `Bound::bind` stores the address of a `RefCell<Run>` on `run()`'s stack
    // and its guard resets it to 0 before that frame ends; Lua runs the script on this
    // same thread, so only a live cell is seen. The RefCell's flag refuses re-entry.
    let cell = unsafe { &*(addr as *const RefCell<Run>) };
    let mut r = cell.try_borrow_mut().ok()?;
    Some(f(&mut r))
}

/// How a run ended: the script's value as a reply, or its error (a table from the
/// error handler, turned into Redis's final error text).
pub(super) struct Ended {
    pub ok: bool,
    pub reply: Reply,
}

/// The VM's main `lua_State`, taken once, so a run pays neither mlua's lock nor the
/// closure and extra pcall of `Lua::exec_raw`.
pub(super) struct MainState(*mut lua_State);

// SAFETY: the pointer is only used by whoever holds the `Scripting` it sits in (the
// keyspace lock), as the `Lua` it belongs to, which is Send itself.
unsafe impl Send for MainState {}

impl MainState {
    pub(super) fn of(lua: &Lua) -> mlua::Result<MainState> {
        let mut state = std::ptr::null_mut();
        // SAFETY: only reads the pointer; outside any callback exec_raw runs on the
        // main state, which lives as long as `lua`.
        unsafe { lua.exec_raw::<()>((), |l| state = l)? };
        Ok(MainState(state))
    }
}

/// Sets KEYS and ARGV (or passes them as arguments, FCALL) and calls the script under
/// the error handler, converting what it returns while it is still on the stack.
/// `handler` and `spec.func` are registry ids.
pub(super) fn call_script(
    state: &MainState,
    handler: c_int,
    spec: &RunSpec,
    run: &RefCell<Run>,
) -> Ended {
    let l = state.0;
    // SAFETY: `l` is the live main state of the VM this run owns (MainState). The stack
    // is restored to `base` before returning; the pushes cannot raise (no memory limit
    // is set: an allocation failure aborts the process first), and lua_pcall catches
    // the script's errors. No Rust value with a destructor is live across lua_pcall.
    unsafe {
        let base = ffi::lua_gettop(l);
        if ffi::lua_checkstack(l, 8) == 0 {
            return Ended {
                ok: false,
                reply: Reply::error("ERR reached lua stack limit"),
            };
        }
        ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, handler);
        let status = if spec.fcall {
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, spec.func);
            push_string_array(l, spec.keys);
            push_string_array(l, spec.args);
            ffi::lua_pcall(l, 2, 1, base + 1)
        } else {
            push_str(l, b"KEYS");
            push_string_array(l, spec.keys);
            ffi::lua_rawset(l, ffi::LUA_GLOBALSINDEX);
            push_str(l, b"ARGV");
            push_string_array(l, spec.args);
            ffi::lua_rawset(l, ffi::LUA_GLOBALSINDEX);
            ffi::lua_rawgeti_(l, ffi::LUA_REGISTRYINDEX, spec.func);
            ffi::lua_pcall(l, 0, 1, base + 1)
        };
        let top = ffi::lua_gettop(l);
        let ended = if status == ffi::LUA_OK {
            let resp = run.borrow().resp;
            Ended {
                ok: true,
                reply: to_reply(l, top, resp),
            }
        } else {
            Ended {
                ok: false,
                reply: final_error(l, top, spec.name),
            }
        };
        ffi::lua_settop(l, base);
        ended
    }
}

unsafe fn push_str(l: *mut lua_State, s: &[u8]) {
    ffi::lua_pushlstring(l, s.as_ptr() as *const c_char, s.len());
}

/// A Lua array of strings (Redis's luaCreateArray).
unsafe fn push_string_array(l: *mut lua_State, items: &[Bytes]) {
    ffi::lua_createtable(l, items.len().min(c_int::MAX as usize) as c_int, 0);
    for (i, b) in items.iter().enumerate() {
        push_str(l, b);
        ffi::lua_rawseti_(l, -2, (i + 1) as c_int);
    }
}

/// The bytes of the string at `idx`; only for values of type string (lua_tolstring
/// would turn a number into a string in place).
unsafe fn str_at<'l>(l: *mut lua_State, idx: c_int) -> &'l [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        return &[];
    }
    std::slice::from_raw_parts(p as *const u8, len)
}

/// Pushes `t[name]` without metamethods; returns its type.
unsafe fn raw_field(l: *mut lua_State, t: c_int, name: &[u8]) -> c_int {
    push_str(l, name);
    ffi::lua_rawget_(l, t);
    ffi::lua_type(l, -1)
}

/// The final error reply of a failed script (Redis's luaCallFunction error path):
/// `<err> script: <name>, on <source>:<line>.`, from the handler's table at `idx`.
unsafe fn final_error(l: *mut lua_State, idx: c_int, name: &str) -> Reply {
    if ffi::lua_type(l, idx) != ffi::LUA_TTABLE {
        return Reply::error(format!("ERR Error running script {name}"));
    }
    let mut msg = if raw_field(l, idx, b"err") == ffi::LUA_TSTRING {
        str_at(l, -1).to_vec()
    } else {
        b"ERR unknown error".to_vec()
    };
    ffi::lua_pop(l, 1);
    let source = if raw_field(l, idx, b"source") == ffi::LUA_TSTRING {
        Some(String::from_utf8_lossy(str_at(l, -1)).into_owned())
    } else {
        None
    };
    ffi::lua_pop(l, 1);
    let line = if raw_field(l, idx, b"line") == ffi::LUA_TNUMBER {
        Some(ffi::lua_tonumber(l, -1) as i64)
    } else {
        None
    };
    ffi::lua_pop(l, 1);
    if let (Some(src), Some(line)) = (source, line) {
        msg.extend_from_slice(format!(" script: {name}, on {src}:{line}.").as_bytes());
    }
    Reply::Error(Bytes::from(one_line(msg)))
}

/// An error or status reply is one line.
fn one_line(mut b: Vec<u8>) -> Vec<u8> {
    for c in b.iter_mut() {
        if *c == b'\r' || *c == b'\n' {
            *c = b' ';
        }
    }
    b
}

/// A Lua number as Redis's `(long long)` cast gives it on x86-64: out of range and NaN
/// become i64::MIN.
pub(super) fn lua_number_to_i64(n: f64) -> i64 {
    if n.is_nan() || !(-9.223372036854776e18..9.223372036854776e18).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// Converts the value at `idx` (absolute) to a reply (Redis's luaReplyToRedisReply);
/// booleans follow the script's `redis.setresp`.
unsafe fn to_reply(l: *mut lua_State, idx: c_int, resp: RespVersion) -> Reply {
    // Lua's own stack limit bounds the depth, as in Redis (LUAI_MAXCSTACK: 8,000 slots,
    // one per level); the worker threads' 8 MiB stacks hold that many frames.
    if ffi::lua_checkstack(l, 4) == 0 {
        return Reply::error("ERR reached lua stack limit");
    }
    match ffi::lua_type(l, idx) {
        ffi::LUA_TSTRING => Reply::Bulk(Bytes::copy_from_slice(str_at(l, idx))),
        ffi::LUA_TNUMBER => Reply::Int(lua_number_to_i64(ffi::lua_tonumber(l, idx))),
        ffi::LUA_TBOOLEAN => {
            let b = ffi::lua_toboolean(l, idx) != 0;
            if resp == RespVersion::Resp3 {
                Reply::Bool(b)
            } else if b {
                Reply::Int(1)
            } else {
                Reply::Null
            }
        }
        ffi::LUA_TTABLE => table_to_reply(l, idx, resp),
        _ => Reply::Null,
    }
}

/// A table: `{err=}`, `{ok=}`, the RESP3 forms, else an array up to the first nil.
unsafe fn table_to_reply(l: *mut lua_State, t: c_int, resp: RespVersion) -> Reply {
    for (name, error) in [(&b"err"[..], true), (&b"ok"[..], false)] {
        if raw_field(l, t, name) == ffi::LUA_TSTRING {
            let b = Bytes::from(one_line(str_at(l, -1).to_vec()));
            ffi::lua_pop(l, 1);
            return if error {
                Reply::Error(b)
            } else {
                Reply::Simple(b)
            };
        }
        ffi::lua_pop(l, 1);
    }
    if raw_field(l, t, b"double") == ffi::LUA_TNUMBER {
        let d = ffi::lua_tonumber(l, -1);
        ffi::lua_pop(l, 1);
        return Reply::Double(d);
    }
    ffi::lua_pop(l, 1);
    if raw_field(l, t, b"big_number") == ffi::LUA_TSTRING {
        let b = Bytes::copy_from_slice(str_at(l, -1));
        ffi::lua_pop(l, 1);
        return Reply::BigNumber(b);
    }
    ffi::lua_pop(l, 1);
    for (name, map) in [(&b"map"[..], true), (&b"set"[..], false)] {
        if raw_field(l, t, name) == ffi::LUA_TTABLE {
            let m = ffi::lua_gettop(l);
            let mut pairs = Vec::new();
            let mut items = Vec::new();
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, m) != 0 {
                let top = ffi::lua_gettop(l);
                let k = to_reply(l, top - 1, resp);
                if map {
                    pairs.push((k, to_reply(l, top, resp)));
                } else {
                    items.push(k);
                }
                ffi::lua_pop(l, 1);
            }
            ffi::lua_pop(l, 1);
            return if map {
                Reply::Map(pairs)
            } else {
                Reply::Set(items)
            };
        }
        ffi::lua_pop(l, 1);
    }
    if raw_field(l, t, b"verbatim_string") == ffi::LUA_TTABLE {
        let vt = ffi::lua_gettop(l);
        let fmt = raw_field(l, vt, b"format") == ffi::LUA_TSTRING;
        let fmt: &'static str = if fmt && str_at(l, -1) == b"mkd" {
            "mkd"
        } else {
            "txt"
        };
        let has_fmt = ffi::lua_type(l, -1) == ffi::LUA_TSTRING;
        let s = if raw_field(l, vt, b"string") == ffi::LUA_TSTRING {
            Some(Bytes::copy_from_slice(str_at(l, -1)))
        } else {
            None
        };
        ffi::lua_settop(l, vt - 1);
        if let (true, Some(s)) = (has_fmt, s) {
            return Reply::Verbatim(fmt, s);
        }
    } else {
        ffi::lua_pop(l, 1);
    }
    let mut items = Vec::new();
    let mut i: c_int = 1;
    loop {
        ffi::lua_rawgeti_(l, t, i);
        let top = ffi::lua_gettop(l);
        if ffi::lua_type(l, top) == ffi::LUA_TNIL {
            ffi::lua_pop(l, 1);
            break;
        }
        items.push(to_reply(l, top, resp));
        ffi::lua_pop(l, 1);
        i += 1;
    }
    Reply::Array(items)
}

/// Pushes a command's reply for the script (Redis's redisProtocolToLuaType), as the
/// script's client would read it in `resp`. Fails only when the Lua stack is full.
unsafe fn push_reply(l: *mut lua_State, r: &Reply, resp: RespVersion) -> Result<(), ()> {
    if ffi::lua_checkstack(l, 4) == 0 {
        return Err(());
    }
    let resp3 = resp == RespVersion::Resp3;
    match r {
        Reply::Simple(s) => push_field_table(l, b"ok", s),
        Reply::Error(s) => push_field_table(l, b"err", s),
        Reply::Int(i) => ffi::lua_pushnumber(l, *i as f64),
        Reply::Bulk(b) => push_str(l, b),
        Reply::Null | Reply::NullArray => {
            if resp3 {
                ffi::lua_pushnil(l)
            } else {
                ffi::lua_pushboolean(l, 0)
            }
        }
        Reply::Array(items) | Reply::Push(items) => push_array(l, items, resp)?,
        Reply::Set(items) => {
            if resp3 {
                ffi::lua_createtable(l, 0, 1);
                push_str(l, b"set");
                ffi::lua_createtable(l, 0, items.len().min(1 << 20) as c_int);
                for it in items {
                    if push_key(l, it, resp)? {
                        ffi::lua_pushboolean(l, 1);
                        ffi::lua_rawset(l, -3);
                    }
                }
                ffi::lua_rawset(l, -3);
            } else {
                push_array(l, items, resp)?
            }
        }
        Reply::Map(pairs) => {
            if resp3 {
                ffi::lua_createtable(l, 0, 1);
                push_str(l, b"map");
                ffi::lua_createtable(l, 0, pairs.len().min(1 << 20) as c_int);
                for (k, v) in pairs {
                    if push_key(l, k, resp)? {
                        push_reply(l, v, resp)?;
                        ffi::lua_rawset(l, -3);
                    }
                }
                ffi::lua_rawset(l, -3);
            } else {
                ffi::lua_createtable(l, (pairs.len() * 2).min(1 << 20) as c_int, 0);
                for (i, (k, v)) in pairs.iter().enumerate() {
                    push_reply(l, k, resp)?;
                    ffi::lua_rawseti_(l, -2, (2 * i + 1) as c_int);
                    push_reply(l, v, resp)?;
                    ffi::lua_rawseti_(l, -2, (2 * i + 2) as c_int);
                }
            }
        }
        Reply::Double(d) => {
            if resp3 {
                ffi::lua_createtable(l, 0, 1);
                push_str(l, b"double");
                ffi::lua_pushnumber(l, *d);
                ffi::lua_rawset(l, -3);
            } else {
                push_str(l, rill_protocol::fmt::double_g17(*d).as_bytes())
            }
        }
        Reply::Bool(b) => {
            if resp3 {
                ffi::lua_pushboolean(l, *b as c_int)
            } else {
                ffi::lua_pushnumber(l, if *b { 1.0 } else { 0.0 })
            }
        }
        Reply::Verbatim(fmt, b) => {
            if resp3 {
                ffi::lua_createtable(l, 0, 1);
                push_str(l, b"verbatim_string");
                ffi::lua_createtable(l, 0, 2);
                push_str(l, b"format");
                push_str(l, fmt.as_bytes());
                ffi::lua_rawset(l, -3);
                push_str(l, b"string");
                push_str(l, b);
                ffi::lua_rawset(l, -3);
                ffi::lua_rawset(l, -3);
            } else {
                push_str(l, b)
            }
        }
        Reply::BigNumber(b) => {
            if resp3 {
                push_field_table(l, b"big_number", b)
            } else {
                push_str(l, b)
            }
        }
        Reply::Raw(b) => {
            if b.as_ref() == b"+OK\r\n" {
                push_field_table(l, b"ok", b"OK");
            } else {
                let mut buf = bytes::BytesMut::from(&b[..]);
                match rill_protocol::client::decode_reply(&mut buf) {
                    Ok(Some(f)) => push_reply(l, &frame_to_reply(f), resp)?,
                    _ => ffi::lua_pushboolean(l, 0),
                }
            }
        }
    }
    Ok(())
}

/// Pushes a RESP3 set member or map key; a nil (a null) is dropped rather than
/// stored, which would raise past Rust frames. False when nothing was pushed.
unsafe fn push_key(l: *mut lua_State, r: &Reply, resp: RespVersion) -> Result<bool, ()> {
    push_reply(l, r, resp)?;
    if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
        ffi::lua_pop(l, 1);
        return Ok(false);
    }
    Ok(true)
}

unsafe fn push_array(l: *mut lua_State, items: &[Reply], resp: RespVersion) -> Result<(), ()> {
    ffi::lua_createtable(l, items.len().min(1 << 20) as c_int, 0);
    for (i, it) in items.iter().enumerate() {
        push_reply(l, it, resp)?;
        ffi::lua_rawseti_(l, -2, (i + 1) as c_int);
    }
    Ok(())
}

/// `{name=value}`: Redis's status and error tables.
unsafe fn push_field_table(l: *mut lua_State, name: &[u8], value: &[u8]) {
    ffi::lua_createtable(l, 0, 1);
    push_str(l, name);
    push_str(l, value);
    ffi::lua_rawset(l, -3);
}

/// A decoded pre-encoded reply; kinds a script cannot receive become false.
fn frame_to_reply(f: rill_protocol::client::Frame) -> Reply {
    use rill_protocol::client::Frame as F;
    match f {
        F::SimpleString { data, .. } => Reply::Simple(data),
        F::SimpleError { data, .. } => Reply::Error(Bytes::copy_from_slice(data.as_bytes())),
        F::Number { data, .. } => Reply::Int(data),
        F::BlobString { data, .. } => Reply::Bulk(data),
        F::Double { data, .. } => Reply::Double(data),
        F::Boolean { data, .. } => Reply::Bool(data),
        F::Null => Reply::Null,
        F::Array { data, .. } => Reply::Array(data.into_iter().map(frame_to_reply).collect()),
        // Pushed as false, as before (redisProtocolToLuaType has no other kinds here).
        _ => Reply::Bool(false),
    }
}

/// `redis.call`: raises the command's error.
pub(super) unsafe extern "C-unwind" fn redis_call(l: *mut lua_State) -> c_int {
    if call_generic(l, true) {
        // Nothing with a destructor is live in this frame: lua_error's longjmp skips it.
        ffi::lua_error(l);
    }
    1
}

/// `redis.pcall`: returns the command's error as `{err=...}`.
pub(super) unsafe extern "C-unwind" fn redis_pcall(l: *mut lua_State) -> c_int {
    if call_generic(l, false) {
        ffi::lua_error(l);
    }
    1
}

/// Runs the command named by the arguments and pushes its reply (or its error table);
/// true when that table must be raised.
unsafe fn call_generic(l: *mut lua_State, raise: bool) -> bool {
    let mut raise = raise;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let argv = match call_argv(l) {
            Ok(argv) => argv,
            Err(e) => return Err(e.as_bytes().to_vec()),
        };
        match with_run(|r| script_call(r, argv).map(|reply| (reply, r.resp))) {
            Some(Ok((reply, resp))) => {
                let top = ffi::lua_gettop(l);
                match push_reply(l, &reply, resp) {
                    Ok(()) => Ok(()),
                    Err(()) => {
                        ffi::lua_settop(l, top);
                        Err(b"ERR reached lua stack limit".to_vec())
                    }
                }
            }
            Some(Err(text)) => Err(text),
            None => {
                // Not a command error: raised from pcall too.
                raise = true;
                Err(b"ERR redis.call can only be used while a script runs".to_vec())
            }
        }
    }));
    let text = match outcome {
        Ok(Ok(())) => return false,
        Ok(Err(text)) => text,
        Err(_) => {
            tracing::error!("a command called from a script panicked");
            b"ERR internal error running the command".to_vec()
        }
    };
    push_field_table(l, b"err", &text);
    if raise {
        // Marks the table as redis.call's: the sandbox's pcall gives scripts its text.
        ffi::lua_getfield_(l, ffi::LUA_REGISTRYINDEX, CALL_ERROR_MT.as_ptr());
        ffi::lua_setmetatable(l, -2);
    }
    raise
}

/// The command's arguments: strings as they are, numbers as Redis 7.0 prints them
/// (`%.17g`).
unsafe fn call_argv(l: *mut lua_State) -> Result<Vec<Bytes>, &'static str> {
    let n = ffi::lua_gettop(l);
    if n == 0 {
        return Err("ERR Please specify at least one argument for this redis lib call");
    }
    let mut argv = Vec::with_capacity(n as usize);
    for i in 1..=n {
        match ffi::lua_type(l, i) {
            ffi::LUA_TSTRING => argv.push(Bytes::copy_from_slice(str_at(l, i))),
            ffi::LUA_TNUMBER => {
                let d = ffi::lua_tonumber(l, i);
                argv.push(Bytes::from(if d.is_nan() && d.is_sign_negative() {
                    "-nan".to_string() // glibc's %g keeps NaN's sign (0/0 is -nan)
                } else {
                    rill_protocol::fmt::double_g17(d)
                }))
            }
            _ => return Err("ERR Lua redis lib command arguments must be strings or integers"),
        }
    }
    Ok(argv)
}
