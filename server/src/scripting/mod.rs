//! Lua scripting (Redis 7.0's eval.c, script.c, script_lua.c): one Lua 5.1 VM through
//! mlua, as Redis embeds 5.1.
//!
//! - The VM lives in [`Scripting`] inside the keyspace `State`; scripts run with the
//!   keyspace lock held, so they are atomic.
//! - `redis.call` / `redis.pcall` are C functions (`raw`) that find the current run
//!   through a thread-local: they run the command through `cmd::call` on the script's
//!   own client (Redis's lua client), so commandstats, keyspace notifications and
//!   propagation work as for any command. The script's effects propagate as
//!   commands, wrapped in MULTI/EXEC by the caller's `call()` (Redis 7.0 has only
//!   effects replication).
//! - The sandbox: scripts see a read-only proxy of the globals; reading a missing global
//!   or writing any global raises Redis 7.0's errors; io, os, package, require, dofile,
//!   loadfile, print are absent.

pub mod functions;
pub mod libs;
mod raw;

use crate::client::ClientState;
use crate::cmd::replication::{running_stale, MASTERDOWN};
use crate::cmd::{self, Ctx};
use ahash::AHashMap as HashMap;
use bytes::Bytes;
use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};
use rill_protocol::{Reply, RespVersion};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

// Script flags (Redis's SCRIPT_FLAG_*), from a `#!lua flags=...` shebang.
pub const NO_WRITES: u32 = 1 << 0;
pub const ALLOW_OOM: u32 = 1 << 1;
pub const ALLOW_STALE: u32 = 1 << 2;
pub const NO_CLUSTER: u32 = 1 << 3;
pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
/// No shebang: the pre-7.0 rules (writes allowed, checks per command).
pub const EVAL_COMPAT_MODE: u32 = 1 << 5;

pub const FLAG_NAMES: &[(u32, &str)] = &[
    (NO_WRITES, "no-writes"),
    (ALLOW_OOM, "allow-oom"),
    (ALLOW_STALE, "allow-stale"),
    (NO_CLUSTER, "no-cluster"),
    (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
];

// redis.set_repl targets (Redis's PROPAGATE_*).
const REPL_AOF: i64 = 1;
const REPL_REPLICA: i64 = 2;

/// Parses the flags of a shebang line (`#!lua flags=no-writes,allow-oom`); `body` is the
/// whole script. Returns the flags and the offset where Lua code starts (the shebang
/// line is replaced by an empty line so line numbers stay right).
pub fn parse_shebang(body: &[u8]) -> Result<(u32, bool), String> {
    if !body.starts_with(b"#!") {
        return Ok((EVAL_COMPAT_MODE, false));
    }
    let end = body.iter().position(|&c| c == b'\n').unwrap_or(body.len());
    let line = String::from_utf8_lossy(&body[..end]).into_owned();
    let mut parts = line.split(' ').filter(|s| !s.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "#!lua" {
        return Err(format!("Unexpected engine in script shebang: {engine}"));
    }
    let mut flags = 0;
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(format!("Unknown lua shebang option: {part}"));
        };
        for f in list.split(',').filter(|s| !s.is_empty()) {
            match FLAG_NAMES.iter().find(|(_, n)| *n == f) {
                Some((bit, _)) => flags |= bit,
                None => return Err(format!("Unexpected flag in script shebang: {f}")),
            }
        }
    }
    Ok((flags, true))
}

/// The script being run, for SCRIPT KILL / FUNCTION KILL and the BUSY gate. Shared
/// (`Shared::script`) so connections can read it without the keyspace lock.
pub struct Running {
    base: std::time::Instant,
    /// A script is running (the keyspace lock is held by it).
    pub active: AtomicBool,
    /// Start of the run, µs since `base`.
    start_us: AtomicU64,
    /// Past busy-reply-threshold: other clients get -BUSY.
    pub busy: AtomicBool,
    /// SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE asked to stop it.
    pub kill: AtomicBool,
    /// It wrote something (then it cannot be killed: -UNKILLABLE).
    pub wrote: AtomicBool,
    /// It is a function (FUNCTION KILL) rather than an EVAL script (SCRIPT KILL).
    pub is_function: AtomicBool,
    /// It runs for the master's stream or the AOF (cannot be killed).
    pub from_master: AtomicBool,
    /// busy-reply-threshold in ms for this run; 0 = never busy.
    pub threshold_ms: AtomicU64,
}

impl Default for Running {
    fn default() -> Running {
        Running {
            base: std::time::Instant::now(),
            active: AtomicBool::new(false),
            start_us: AtomicU64::new(0),
            busy: AtomicBool::new(false),
            kill: AtomicBool::new(false),
            wrote: AtomicBool::new(false),
            is_function: AtomicBool::new(false),
            from_master: AtomicBool::new(false),
            threshold_ms: AtomicU64::new(0),
        }
    }
}

pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

impl Running {
    fn now_us(&self) -> u64 {
        self.base.elapsed().as_micros() as u64
    }

    /// `now`: the command's start (`Ctx::tick`), which saves a clock read per run.
    fn start(
        &self,
        now: std::time::Instant,
        threshold_ms: u64,
        is_function: bool,
        from_master: bool,
    ) {
        self.threshold_ms.store(threshold_ms, Ordering::Relaxed);
        let start = now.saturating_duration_since(self.base).as_micros() as u64;
        self.start_us.store(start, Ordering::Relaxed);
        self.kill.store(false, Ordering::Relaxed);
        self.wrote.store(false, Ordering::Relaxed);
        self.busy.store(false, Ordering::Relaxed);
        self.is_function.store(is_function, Ordering::Relaxed);
        self.from_master.store(from_master, Ordering::Relaxed);
        self.active.store(true, Ordering::Release);
    }

    fn finish(&self) {
        self.active.store(false, Ordering::Release);
        self.busy.store(false, Ordering::Release);
    }

    /// Milliseconds the current run has taken.
    pub fn elapsed_ms(&self) -> u64 {
        self.now_us()
            .saturating_sub(self.start_us.load(Ordering::Relaxed))
            / 1000
    }

    /// The BUSY error other clients get while this script runs.
    pub fn busy_error(&self) -> &'static str {
        if self.is_function.load(Ordering::Relaxed) {
            BUSY_FUNCTION
        } else {
            BUSY_EVAL
        }
    }

    /// SCRIPT KILL (`is_eval`) / FUNCTION KILL while a script is busy (Redis's scriptKill).
    pub fn kill(&self, is_eval: bool) -> Result<(), &'static str> {
        if !self.active.load(Ordering::Acquire) {
            return Err("NOTBUSY No scripts in execution right now.");
        }
        if self.from_master.load(Ordering::Relaxed) {
            return Err("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.");
        }
        if self.wrote.load(Ordering::Relaxed) {
            return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
        }
        let is_function = self.is_function.load(Ordering::Relaxed);
        if is_eval && is_function {
            return Err(BUSY_FUNCTION);
        }
        if !is_eval && !is_function {
            return Err(BUSY_EVAL);
        }
        self.kill.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// The count hook (Redis's luaMaskCountHook): marks the run busy once it passes
    /// busy-reply-threshold and lets the event loop go on without this thread, and
    /// stops a killed script.
    fn hook(&self) -> mlua::Result<mlua::VmState> {
        if self.kill.load(Ordering::Relaxed) {
            return Err(mlua::Error::runtime(
                "Script killed by user with SCRIPT KILL...",
            ));
        }
        if !self.busy.load(Ordering::Relaxed) {
            let th = self.threshold_ms.load(Ordering::Relaxed);
            if th > 0 && self.elapsed_ms() >= th {
                tracing::warn!(
                    "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the SCRIPT KILL command.",
                    self.elapsed_ms()
                );
                self.busy.store(true, Ordering::Release);
                hand_off_event_loop();
            }
        }
        Ok(mlua::VmState::Continue)
    }
}

/// Sets the count hook that makes a long script busy and lets SCRIPT KILL stop it
/// (again after FUNCTION LOAD's own load-timeout hook).
pub(crate) fn install_hook(lua: &Lua) {
    let Some(r) = lua.app_data_ref::<Arc<Running>>().map(|r| r.clone()) else {
        return;
    };
    lua.set_hook(
        mlua::HookTriggers::new().every_nth_instruction(100_000),
        move |_, _| r.hook(),
    );
}

/// Gives this worker's event loop to a new thread, so other connections are served
/// (with -BUSY) while the script goes on here; the thread returns to the blocking pool
/// once the script's connection task yields. Only on the multi-thread runtime.
fn hand_off_event_loop() {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let Ok(h) = Handle::try_current() else {
        return;
    };
    if h.runtime_flavor() != RuntimeFlavor::MultiThread {
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    // Runs once another thread drives the event loop: block_in_place has then handed
    // the worker over for good rather than taking it back on return.
    h.spawn(async move {
        let _ = tx.send(());
    });
    tokio::task::block_in_place(|| {
        let _ = rx.recv_timeout(std::time::Duration::from_secs(1));
    });
}

/// A cached EVAL script.
pub struct Script {
    pub body: Bytes,
    /// The compiled function in the Lua registry (runs push it from there, `raw.rs`).
    pub key: mlua::RegistryKey,
    pub flags: u32,
}

/// The Lua VM and the script cache (Redis's lctx).
pub struct Scripting {
    pub lua: Lua,
    /// sha1 (40 lowercase hex) -> script.
    pub scripts: HashMap<String, Script>,
    /// Sum of the cached bodies' lengths (used_memory_scripts_eval).
    pub scripts_bytes: usize,
    /// The environment scripts run in: a read-only view of the real globals (where
    /// KEYS and ARGV are set).
    env: Table,
    /// The error handler scripts run under (Redis's __redis__err__handler), in the
    /// Lua registry.
    handler: mlua::RegistryKey,
    /// The raw state runs use (`raw.rs`).
    state: raw::MainState,
    /// The script's own client (Redis's lua client); taken while a script runs.
    client: Option<ClientState>,
    pub running: Arc<Running>,
    /// FUNCTION LOAD's libraries, compiled (`functions`).
    pub functions: functions::Engine,
}

/// Lua run once per VM: the sandbox and the `pcall`/`xpcall` wrappers.
const PRELUDE: &str = r#"
local internal, handler = ...
local G = _G
local pairs, ipairs, next, select, getmetatable = pairs, ipairs, next, select, getmetatable
local rawget, rawset, setmetatable, error, tostring, setfenv, type, xpcall =
      rawget, rawset, setmetatable, error, tostring, setfenv, type, xpcall
local loadstring_, load_ = loadstring, load
local readonly = setmetatable({}, {__mode = 'k'})
-- proxy -> the table it shows: pairs, next, ipairs and rawget see through proxies, as
-- through Redis 7.0.15's read-only tables.
local real = setmetatable({}, {__mode = 'k'})
local function deny() error('Attempt to modify a readonly table', 2) end
local function ro(t)
  local p = setmetatable({}, {__index = t, __newindex = deny, __metatable = false})
  readonly[p] = true
  real[p] = t
  return p
end
local redis = {}
for k, v in pairs(internal.api) do redis[k] = v end
for _, name in ipairs({'print', 'dofile', 'loadfile', 'require', 'module', 'package',
                       'io', 'os', 'debug', 'newproxy', 'getfenv', 'setfenv'}) do
  G[name] = nil
end
G.redis = ro(redis)
for _, name in ipairs({'string', 'table', 'math', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct'}) do
  if type(G[name]) == 'table' then G[name] = ro(G[name]) end
end
G.__redis__err__handler = handler
local env = setmetatable({}, {__index = G, __newindex = deny, __metatable = false})
readonly[env] = true
real[env] = G
G._G = env
setmetatable(G, {__index = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end, __metatable = false})
-- Argument errors as the C functions word them, at the script's line.
local function want_table(name, n, t)
  if type(t) ~= 'table' then
    error("bad argument #1 to '" .. name .. "' (table expected, got " ..
          (n == 0 and 'no value' or type(t)) .. ")", 3)
  end
end
G.pairs = function(...)
  local t = ...
  want_table('pairs', select('#', ...), t)
  return next, real[t] or t, nil
end
G.ipairs = function(...)
  local t = ...
  want_table('ipairs', select('#', ...), t)
  return ipairs(real[t] or t)
end
G.next = function(...)
  local t, k = ...
  want_table('next', select('#', ...), t)
  return next(real[t] or t, k)
end
G.rawget = function(...)
  local t, k = ...
  want_table('rawget', select('#', ...), t)
  return rawget(real[t] or t, k)
end
-- Library tables have no metatable in Redis; _G's guards its globals.
local globals_mt = ro({__index = deny, __newindex = deny})
G.getmetatable = function(...)
  local t = ...
  if select('#', ...) == 0 then error("bad argument #1 to 'getmetatable' (value expected)", 2) end
  if t == env then return globals_mt end
  if type(t) == 'table' and readonly[t] then return nil end
  return getmetatable(t)
end
G.rawset = function(t, k, v)
  if readonly[t] then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end
G.loadstring = function(...)
  local f, e = loadstring_(...)
  if f then setfenv(f, env) end
  return f, e
end
G.load = function(...)
  local f, e = load_(...)
  if f then setfenv(f, env) end
  return f, e
end
-- Errors raised from Rust reach Lua as userdata; scripts see Redis's {err=...} tables.
local convert, pcall_, xpcall_ = internal.convert, pcall, xpcall
local function fix(ok, ...)
  if ok then return ok, ... end
  return ok, convert((...))
end
G.pcall = function(f, ...) return fix(pcall_(f, ...)) end
G.xpcall = function(f, h) return xpcall_(f, function(e) return h(convert(e)) end) end
return env, redis
"#;

impl Scripting {
    pub fn new() -> mlua::Result<Scripting> {
        Scripting::with_running(Arc::new(Running::default()))
    }

    /// A VM whose runs report to `running` (the server's `Shared::script`).
    pub fn with_running(running: Arc<Running>) -> mlua::Result<Scripting> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        libs::open(&lua)?;
        let internal = lua.create_table()?;
        let api = lua.create_table()?;
        api_functions(&lua, &api)?;
        internal.raw_set("api", api)?;
        internal.raw_set(
            "convert",
            lua.create_function(|lua, e: Value| pcall_error(lua, e))?,
        )?;
        let handler = lua.create_function(error_handler)?;
        let (env, redis_table): (Table, Table) = lua
            .load(PRELUDE)
            .set_name("=redis_prelude")
            .call((internal.clone(), handler.clone()))?;
        // SAFETY: both are C functions written for Lua's calling convention (raw.rs).
        #[allow(unsafe_code)]
        let (call, pcall) = unsafe {
            (
                lua.create_c_function(raw::redis_call)?,
                lua.create_c_function(raw::redis_pcall)?,
            )
        };
        redis_table.raw_set("call", call)?;
        redis_table.raw_set("pcall", pcall)?;
        lua.set_named_registry_value(
            raw::CALL_ERROR_MT.to_str().expect("ascii"),
            lua.create_table()?,
        )?;
        lua.set_app_data(running.clone());
        install_hook(&lua);
        let state = raw::MainState::of(&lua)?;
        let handler = lua.create_registry_value(handler)?;
        Ok(Scripting {
            lua,
            scripts: HashMap::new(),
            scripts_bytes: 0,
            env,
            handler,
            state,
            client: None,
            running,
            functions: functions::Engine::default(),
        })
    }

    /// Compiles an EVAL body (Redis's luaCreateFunction); the error is the reply text.
    pub fn compile(&self, body: &[u8]) -> Result<(Function, u32), String> {
        let (flags, shebang) = parse_shebang(body).map_err(|e| format!("ERR {e}"))?;
        // The shebang line becomes an empty line so line numbers stay right.
        let code: &[u8] = if shebang {
            &body[body.iter().position(|&c| c == b'\n').unwrap_or(body.len())..]
        } else {
            body
        };
        let f = self
            .lua
            .load(code)
            .set_name("@user_script")
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling script (new function): {}",
                    lua_error_text(&e)
                )
            })?;
        Ok((f, flags))
    }

    /// Caches a script under its sha1 (SCRIPT LOAD, EVAL).
    pub fn load(&mut self, body: &Bytes) -> Result<String, String> {
        let sha = sha1hex(body);
        if !self.scripts.contains_key(&sha) {
            let (func, flags) = self.compile(body)?;
            let key = self
                .lua
                .create_registry_value(func)
                .map_err(|e| format!("ERR {}", lua_error_text(&e)))?;
            self.scripts_bytes += body.len();
            self.scripts.insert(
                sha.clone(),
                Script {
                    body: body.clone(),
                    key,
                    flags,
                },
            );
        }
        Ok(sha)
    }

    /// SCRIPT FLUSH: drops every EVAL script.
    pub fn flush(&mut self) {
        self.scripts.clear();
        self.scripts_bytes = 0;
        self.lua.expire_registry_values();
        let _ = self.lua.gc_collect();
    }
}

/// The lowercase hex SHA1 of `b` (redis.sha1hex, script names).
pub fn sha1hex(b: &[u8]) -> String {
    sha1_smol::Sha1::from(b).digest().to_string()
}

/// The text of a Lua error without mlua's decorations (tracebacks, "runtime error: ").
pub fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::MemoryError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_error_text(cause),
        other => other.to_string(),
    }
}

/// The xpcall handler (Redis's __redis__err__handler): turns the error into a table
/// {err=..., source=..., line=...} naming where the script failed.
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    // Level 0 is this handler; 1 the function that raised.
    let info = script_frame(lua, 1);
    let t = error_value(lua, err)?;
    if let Some((source, line)) = info {
        if t.raw_get::<Value>("source")?.is_nil() {
            t.raw_set("source", source)?;
            t.raw_set("line", line)?;
        }
    }
    Ok(t)
}

/// An error value as scripts see it: a table `{err=...}` (Redis raises tables).
fn error_value(lua: &Lua, err: Value) -> mlua::Result<Table> {
    if let Value::Table(t) = err {
        return Ok(t);
    }
    let text = match &err {
        Value::Error(e) => format!("ERR {}", lua_error_text(e)).into_bytes(),
        Value::String(s) => {
            let mut b = b"ERR ".to_vec();
            b.extend_from_slice(&s.as_bytes());
            b
        }
        v => format!(
            "ERR {}",
            lua.coerce_string(v.clone())
                .ok()
                .flatten()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| v.type_name().to_string())
        )
        .into_bytes(),
    };
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(&text)?)?;
    Ok(t)
}

/// An error as a script's own pcall returns it: errors raised from Rust (redis.call,
/// redis.setresp...) become their text, `ERR ...`, as in Redis; Lua values pass as is.
fn pcall_error(lua: &Lua, err: Value) -> mlua::Result<Value> {
    Ok(match err {
        Value::Error(e) => Value::String(lua.create_string(format!("ERR {}", lua_error_text(&e)))?),
        Value::Table(t) if is_call_error(lua, &t) => t.raw_get("err")?,
        other => other,
    })
}

/// The table redis.call raised (raw.rs marks it with its own metatable).
fn is_call_error(lua: &Lua, t: &Table) -> bool {
    let marker = lua.named_registry_value::<Table>(raw::CALL_ERROR_MT.to_str().expect("ascii"));
    matches!((t.metatable(), marker), (Some(m), Ok(k)) if m == k)
}

/// The first script frame from stack level `level` up: C functions (error, pcall, our
/// callbacks) and the prelude's wrappers are skipped, as Redis's handler skips a C frame.
fn script_frame(lua: &Lua, level: usize) -> Option<(String, i32)> {
    for l in level..level + 6 {
        let d = lua.inspect_stack(l)?;
        let src = d.source();
        if src.what == "C" {
            continue;
        }
        match src.source {
            Some(s) if s != "=redis_prelude" => return Some((s.into_owned(), d.curr_line())),
            _ => continue,
        }
    }
    None
}

fn log_level(n: i64) -> Option<tracing::Level> {
    match n {
        0 => Some(tracing::Level::DEBUG),
        1 | 2 => Some(tracing::Level::INFO),
        3 => Some(tracing::Level::WARN),
        _ => None,
    }
}

/// The parts of the `redis` table that need no command context.
fn api_functions(lua: &Lua, t: &Table) -> mlua::Result<()> {
    for (k, v) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
    ] {
        t.raw_set(k, v)?;
    }
    t.raw_set("REDIS_VERSION", crate::cmd::server::REDIS_VERSION)?;
    t.raw_set(
        "REDIS_VERSION_NUM",
        version_num(crate::cmd::server::REDIS_VERSION),
    )?;
    t.raw_set(
        "sha1hex",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(mlua::Error::runtime("wrong number of arguments"));
            }
            let s = match lua.coerce_string(args[0].clone())? {
                Some(s) => s.as_bytes().to_vec(),
                None => Vec::new(),
            };
            Ok(sha1hex(&s))
        })?,
    )?;
    t.raw_set(
        "error_reply",
        lua.create_function(|lua, args: MultiValue| reply_table(lua, args, "err"))?,
    )?;
    t.raw_set(
        "status_reply",
        lua.create_function(|lua, args: MultiValue| reply_table(lua, args, "ok"))?,
    )?;
    t.raw_set(
        "log",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() < 2 {
                return Err(mlua::Error::runtime(
                    "redis.log() requires two arguments or more.",
                ));
            }
            let level = match &args[0] {
                Value::Integer(i) => *i,
                Value::Number(n) => *n as i64,
                _ => {
                    return Err(mlua::Error::runtime(
                        "First argument must be a number (log level).",
                    ))
                }
            };
            let Some(level) = log_level(level) else {
                return Err(mlua::Error::runtime("Invalid debug level."));
            };
            let mut msg = String::new();
            for (i, v) in args.iter().skip(1).enumerate() {
                if i > 0 {
                    msg.push(' ');
                }
                if let Some(s) = lua.coerce_string(v.clone())? {
                    msg.push_str(&s.to_string_lossy());
                }
            }
            match level {
                tracing::Level::DEBUG => tracing::debug!("{msg}"),
                tracing::Level::INFO => tracing::info!("{msg}"),
                _ => tracing::warn!("{msg}"),
            }
            Ok(())
        })?,
    )?;
    t.raw_set(
        "setresp",
        lua.create_function(|_, args: MultiValue| {
            let v = match (args.len(), args.front()) {
                (1, Some(Value::Integer(2))) => RespVersion::Resp2,
                (1, Some(Value::Integer(3))) => RespVersion::Resp3,
                (1, _) => return Err(mlua::Error::runtime("RESP version must be 2 or 3.")),
                _ => {
                    return Err(mlua::Error::runtime(
                        "redis.setresp() requires one argument.",
                    ))
                }
            };
            raw::with_run(|r| r.resp = v);
            Ok(())
        })?,
    )?;
    t.raw_set(
        "set_repl",
        lua.create_function(|_, args: MultiValue| {
            let v = match (args.len(), args.front()) {
                (1, Some(Value::Integer(i))) if (0..=3).contains(i) => *i,
                (1, _) => return Err(mlua::Error::runtime(
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                )),
                _ => {
                    return Err(mlua::Error::runtime(
                        "redis.set_repl() requires one argument.",
                    ))
                }
            };
            let mut suppress = 0;
            if v & REPL_AOF == 0 {
                suppress |= crate::propagate::SUPPRESS_AOF;
            }
            if v & REPL_REPLICA == 0 {
                suppress |= crate::propagate::SUPPRESS_REPLICAS;
            }
            raw::with_run(|r| r.suppress = suppress);
            Ok(())
        })?,
    )?;
    t.raw_set(
        "acl_check_cmd",
        lua.create_function(|_, args: MultiValue| {
            let Some(Value::String(name)) = args.front() else {
                return Err(mlua::Error::runtime(
                    "Please specify at least one argument for this redis lib call",
                ));
            };
            if cmd::lookup(&name.as_bytes()).is_none() {
                return Err(mlua::Error::runtime(
                    "Invalid command passed to redis.acl_check_cmd()",
                ));
            }
            Ok(true)
        })?,
    )?;
    t.raw_set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
    t.raw_set("breakpoint", lua.create_function(|_, ()| Ok(false))?)?;
    t.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    Ok(())
}

fn version_num(v: &str) -> i64 {
    v.split('.')
        .take(3)
        .fold(0, |acc, p| acc * 256 + p.parse::<i64>().unwrap_or(0))
}

/// redis.error_reply / redis.status_reply: `{err=...}` / `{ok=...}`.
fn reply_table(lua: &Lua, args: MultiValue, field: &str) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let s = match (args.len(), args.front()) {
        (1, Some(Value::String(s))) => s.as_bytes().to_vec(),
        // Returned, not raised (Redis's luaPushError).
        _ => {
            t.raw_set("err", "ERR wrong number or type of arguments")?;
            return Ok(t);
        }
    };
    if field == "err" {
        t.raw_set(field, lua.create_string(error_text(&s))?)?;
    } else {
        t.raw_set(field, lua.create_string(&s)?)?;
    }
    Ok(t)
}

/// An error text as Redis's luaPushErrorBuff stores it: `CODE message`, the code taken
/// from a leading `-CODE`, else `ERR`; trailing CR/LF trimmed.
fn error_text(s: &[u8]) -> Vec<u8> {
    let s = s.strip_prefix(b"-").unwrap_or(s);
    let mut v = match s.iter().position(|&c| c == b' ') {
        Some(_) => s.to_vec(),
        None => [b"ERR ".as_slice(), s].concat(),
    };
    while matches!(v.last(), Some(b'\r' | b'\n')) {
        v.pop();
    }
    v
}

/// What one run needs besides the Ctx.
pub struct RunSpec<'a> {
    /// The sha for EVAL, the function name for FCALL (error texts).
    pub name: &'a str,
    /// The function's Lua registry id (`Script::key`, `FunctionInfo::key`).
    pub func: std::ffi::c_int,
    pub flags: u32,
    pub keys: &'a [Bytes],
    pub args: &'a [Bytes],
    /// EVAL_RO / FCALL_RO.
    pub ro: bool,
    /// FCALL: keys and args are passed as the function's arguments.
    pub fcall: bool,
}

/// Per-run state shared by the bound `redis.call` and the runner.
struct Run<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    client: ClientState,
    /// Writes refused (no-writes flag, *_RO).
    read_only: bool,
    flags: u32,
    running: Arc<Running>,
    /// What the script set with redis.setresp.
    resp: RespVersion,
    /// What it set with redis.set_repl: `crate::propagate::SUPPRESS_*` bits.
    suppress: u8,
}

/// Checks a script may run at all (Redis's scriptPrepareForRun).
fn prepare(ctx: &mut Ctx, spec: &RunSpec) -> Result<(), String> {
    let compat = spec.flags & EVAL_COMPAT_MODE != 0;
    if compat {
        // Pre-7.0 scripts never run on a stale replica (scriptPrepareForRun).
        if running_stale(ctx) {
            return Err(MASTERDOWN.into());
        }
    } else {
        if spec.ro && spec.flags & NO_WRITES == 0 {
            return Err("ERR Can not execute a script with write flag using *_ro command.".into());
        }
        let may_write = spec.flags & NO_WRITES == 0;
        if may_write && ctx.state.repl.is_replica() && !ctx.client.is_master {
            return Err("READONLY You can't write against a read only replica.".into());
        }
        // Without allow-stale a script is not a STALE command: processCommand's refusal.
        if spec.flags & ALLOW_STALE == 0 && running_stale(ctx) {
            return Err(MASTERDOWN.into());
        }
        if may_write
            && spec.flags & ALLOW_OOM == 0
            && ctx.config.maxmemory > 0
            && !ctx.client.is_master
        {
            if let Err(e) = crate::evict::perform_evictions(ctx) {
                return Err(e.to_string());
            }
        }
    }
    Ok(())
}

/// Runs a script or function; the reply is what the caller gets.
pub fn run(ctx: &mut Ctx, spec: RunSpec) -> Reply {
    if let Err(e) = prepare(ctx, &spec) {
        return Reply::Error(Bytes::from(e));
    }
    // Out of the State for the run: no handle clones, and `run` may borrow the Ctx.
    let Some(mut sc) = ctx.state.scripting.take() else {
        return Reply::error("ERR scripting is not initialised");
    };
    let running = sc.running.clone();
    let mut client = match sc.client.take() {
        Some(c) => c,
        None => lua_client(ctx),
    };
    client.db = ctx.client.db;
    client.resp = RespVersion::Resp2;
    client.authenticated = true;
    client.in_exec = true;
    client.in_script = true;
    client.is_master = ctx.client.is_master;
    client.aof_loader = ctx.client.aof_loader;
    let threshold = ctx.config.busy_reply_threshold;
    let from_master = ctx.client.is_master || ctx.client.aof_loader;
    running.start(ctx.tick, threshold, spec.fcall, from_master);
    let run = RefCell::new(Run {
        ctx,
        client,
        read_only: spec.ro || spec.flags & NO_WRITES != 0,
        flags: spec.flags,
        running: running.clone(),
        resp: RespVersion::Resp2,
        suppress: 0,
    });
    let result = {
        let _bound = raw::Bound::bind(&run);
        raw::call_script(&sc.state, sc.handler.id(), &spec, &run)
    };
    let Run { ctx, client, .. } = run.into_inner();
    running.finish();
    ctx.state.prop.suppress = 0;
    let killed = running.kill.swap(false, Ordering::Relaxed);
    let reply = if !result.ok && killed {
        Reply::error("ERR Script killed by user with SCRIPT KILL...")
    } else {
        result.reply
    };
    sc.client = Some(client);
    ctx.state.scripting = Some(sc);
    reply
}

/// The lua client (Redis's scriptRunCtx.c, one per VM).
fn lua_client(ctx: &Ctx) -> ClientState {
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    ClientState::new(ctx.shared, addr, addr)
}

/// `redis.call` / `redis.pcall`: runs one command (Redis's luaRedisGenericCommand +
/// scriptCall) on `argv` (not empty). The error is the reply text, with its code.
fn script_call(r: &mut Run, argv: Vec<Bytes>) -> Result<Reply, Vec<u8>> {
    let fail = |text: &str| -> Result<Reply, Vec<u8>> { Err(text.as_bytes().to_vec()) };
    let reg = match cmd::resolve(&argv) {
        Ok(reg) => reg,
        Err(_) if cmd::lookup(&argv[0]).is_none() => {
            return fail("ERR Unknown Redis command called from script")
        }
        Err(_) => return fail("ERR Wrong number of args calling Redis command from script"),
    };
    let flags = reg.spec.flags;
    if flags & cmd::NOSCRIPT != 0 {
        return fail("ERR This Redis command is not allowed from script");
    }
    if flags & cmd::WRITE != 0 {
        if r.read_only {
            return fail("ERR Write commands are not allowed from read-only scripts.");
        }
        if r.ctx.state.repl.is_replica() && !r.client.is_master && !r.client.aof_loader {
            return fail("READONLY You can't write against a read only replica.");
        }
        if let Some(e) = crate::persist::deny_writes(r.ctx.shared, r.ctx.state, &r.ctx.config) {
            return fail(&e.to_string());
        }
    }
    // A pre-7.0 script may still be refused for OOM at a deny-oom command, unless it
    // already wrote (Redis lets a script that started writing finish).
    if flags & cmd::DENYOOM != 0
        && r.flags & EVAL_COMPAT_MODE != 0
        && r.ctx.config.maxmemory > 0
        && !r.running.wrote.load(Ordering::Relaxed)
        && !r.client.is_master
        && crate::evict::perform_evictions(r.ctx).is_err()
    {
        return fail("OOM command not allowed when used memory > 'maxmemory'.");
    }
    // allow-stale scripts still run only STALE commands (Redis's scriptVerifyAllowStale).
    if flags & cmd::STALE == 0 && running_stale(r.ctx) {
        return fail("ERR Can not execute the command on a stale replica");
    }
    r.client.resp = r.resp;
    r.ctx.state.prop.suppress = r.suppress;
    let dirty = r.ctx.state.store.dirty;
    let reply = {
        let mut c = Ctx {
            shared: r.ctx.shared,
            state: &mut *r.ctx.state,
            client: &mut r.client,
            config: r.ctx.config.clone(),
            now_ms: r.ctx.now_ms,
            tick: std::time::Instant::now(),
        };
        let reply = cmd::call(&mut c, reg, &argv);
        // CONFIG SET inside a script is seen by its later commands.
        r.ctx.config = c.config;
        reply
    };
    if r.ctx.state.store.dirty != dirty {
        r.running.wrote.store(true, Ordering::Relaxed);
    }
    match reply {
        Reply::Error(text) => {
            r.ctx.state.record_error(&text);
            Err(text.to_vec())
        }
        Reply::Raw(b) if b.first() == Some(&b'-') => {
            let end = b.len().saturating_sub(2).max(1);
            r.ctx.state.record_error(&b[1..end]);
            Err(b[1..end].to_vec())
        }
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_flags() {
        assert_eq!(
            parse_shebang(b"return 1").unwrap(),
            (EVAL_COMPAT_MODE, false)
        );
        assert_eq!(
            parse_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap(),
            (NO_WRITES | ALLOW_OOM, true)
        );
        assert_eq!(parse_shebang(b"#!lua\nreturn 1").unwrap(), (0, true));
        assert_eq!(
            parse_shebang(b"#!lua flags=bogus\n").unwrap_err(),
            "Unexpected flag in script shebang: bogus"
        );
        assert_eq!(
            parse_shebang(b"#!lua name=x\n").unwrap_err(),
            "Unknown lua shebang option: name=x"
        );
        assert_eq!(
            parse_shebang(b"#!nope\n").unwrap_err(),
            "Unexpected engine in script shebang: #!nope"
        );
    }

    #[test]
    fn numbers_convert_as_redis_casts_them() {
        use raw::lua_number_to_i64;
        assert_eq!(lua_number_to_i64(3.99), 3);
        assert_eq!(lua_number_to_i64(-3.7), -3);
        assert_eq!(lua_number_to_i64(1e20), i64::MIN);
        assert_eq!(lua_number_to_i64(f64::NAN), i64::MIN);
    }

    #[test]
    fn sha1hex_of_empty_string() {
        assert_eq!(sha1hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn sandbox_denies_globals() {
        let sc = Scripting::new().unwrap();
        let xpcall: Function = sc.lua.globals().raw_get("xpcall").unwrap();
        let handler: Function = sc.lua.registry_value(&sc.handler).unwrap();
        let (f, _) = sc.compile(b"x = 1").unwrap();
        let (ok, err): (bool, Table) = xpcall.call((f, &handler)).unwrap();
        assert!(!ok);
        let msg: String = err.raw_get("err").unwrap();
        assert_eq!(msg, "ERR user_script:1: Attempt to modify a readonly table");
        let (f, _) = sc.compile(b"return y").unwrap();
        let (ok, err): (bool, Table) = xpcall.call((f, &handler)).unwrap();
        assert!(!ok);
        let msg: String = err.raw_get("err").unwrap();
        assert_eq!(
            msg,
            "ERR user_script:1: Script attempted to access nonexistent global variable 'y'"
        );
        let line: i64 = err.raw_get("line").unwrap();
        assert_eq!(line, 1);
    }
}
