//! Redis 7.0 Functions (functions.c, function_lua.c): libraries of Lua functions that
//! FUNCTION LOAD compiles into the scripting VM and FCALL runs.
//!
//! - A library's source (`#!lua name=<lib>` + code) is keyspace data: `Store::functions`
//!   holds it by library name, so it is saved, loaded and synced with the keys. The
//!   compiled copy here ([`Engine`]) is rebuilt from it whenever the Store was replaced
//!   by a load (`Store::functions_gen` differs).
//! - Each library runs in its own environment table. While its code loads, that table
//!   holds only the load-time API (`redis.register_function`, `redis.log`, the `LOG_*`
//!   and version constants); anything else raises Redis's nonexistent-global error and
//!   every write is refused. Once loaded, the table falls through to the script sandbox,
//!   so the registered callbacks see the same globals as EVAL scripts (without KEYS/ARGV).

use super::{lua_error_text, Scripting, FLAG_NAMES};
use ahash::AHashMap as HashMap;
use bytes::Bytes;
use mlua::{Function, Lua, MultiValue, Table, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// One registered function.
pub struct FunctionInfo {
    /// As registered (lookups are case-insensitive).
    pub name: String,
    /// The callback in the Lua registry (runs push it from there, `raw.rs`).
    pub key: mlua::RegistryKey,
    /// Script flags (`crate::scripting::NO_WRITES`, ...).
    pub flags: u32,
    pub description: Option<Bytes>,
}

/// One loaded library.
pub struct Library {
    pub name: String,
    /// The whole FUNCTION LOAD payload, shebang included (what DUMP and the RDB hold).
    pub code: Bytes,
    /// By name (case-sensitive within a library, as Redis).
    pub functions: BTreeMap<String, FunctionInfo>,
}

/// The compiled libraries (Redis's functionsLibCtx).
#[derive(Default)]
pub struct Engine {
    /// By library name (case-sensitive, as Redis).
    pub libraries: BTreeMap<String, Library>,
    /// Lowercase function name -> (library name, function name): FCALL's lookup is
    /// case-insensitive.
    pub functions: HashMap<String, (String, String)>,
    /// The `Store::functions_gen` these were built from.
    gen: u64,
    /// The Lua helpers `load_env(register)`, `run_env(env)` and `load_run(chunk)`,
    /// made on first use.
    helpers: Option<(Function, Function, Function)>,
}

/// Builds a library's environment (see the module doc).
const HELPERS: &str = r#"
local G = ...
local env, redis = rawget(G, '_G'), rawget(G, 'redis')
local setmetatable, error, tostring, ipairs, type = setmetatable, error, tostring, ipairs, type
-- The sandbox's pcall: errors raised from Rust come back as 'ERR ...' text.
local pcall = rawget(G, 'pcall')
local function deny() error('Attempt to modify a readonly table', 2) end
local consts = {'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING',
                'REDIS_VERSION', 'REDIS_VERSION_NUM'}
local function load_env(register)
  local api = {register_function = register, log = redis.log}
  for _, k in ipairs(consts) do api[k] = redis[k] end
  local r = setmetatable({}, {__index = function(_, k)
    local v = api[k]
    if v == nil then
      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end
    return v
  end, __newindex = deny, __metatable = false})
  return setmetatable({}, {__index = function(_, k)
    if k == 'redis' then return r end
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end, __newindex = deny})
end
local function run_env(e)
  setmetatable(e, {__index = env, __newindex = deny, __metatable = false})
end
local function load_run(f)
  local ok, e = pcall(f)
  if ok then return nil end
  if type(e) == 'table' then return e.err end
  -- Errors raised from Rust arrive as 'ERR ...' text; Lua's own errors get the code.
  e = tostring(e)
  if e:sub(1, 4) == 'ERR ' then return e end
  return 'ERR ' .. e
end
return load_env, run_env, load_run
"#;

/// An error raised by `redis.register_function`: its text goes out without a position.
#[derive(Debug)]
struct RegisterErr(&'static str);

impl std::fmt::Display for RegisterErr {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for RegisterErr {}

/// Redis's LOAD_TIMEOUT_MS.
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// Redis's functionsVerifyName (library and function names).
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// The shebang of a library (Redis's functionExtractLibMetaData + the engine and name
/// checks of functionsCreateWithLibraryCtx): the library name and where the Lua code
/// starts (at the shebang's newline, so line numbers stay right).
pub fn parse_meta(code: &[u8]) -> Result<(String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = rill_protocol::resp::split_args(&code[..end])
        .ok_or_else(|| "Invalid library metadata".to_string())?;
    let engine = match parts.first() {
        Some(p) if p.len() >= 3 && p.starts_with(b"#!") => &p[2..],
        _ => return Err("Invalid library metadata".into()),
    };
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(&part[5..]);
        } else {
            return Err(format!(
                "Invalid metadata value given: {}",
                String::from_utf8_lossy(part)
            ));
        }
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!(
            "Engine '{}' not found",
            String::from_utf8_lossy(engine)
        ));
    }
    if !valid_name(name) {
        return Err(BAD_NAME.into());
    }
    Ok((String::from_utf8_lossy(name).into_owned(), end))
}

/// A Lua value as Redis's lua_isstring + lua_tostring read it (strings and numbers).
fn lua_string(lua: &Lua, v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => lua
            .coerce_string(v.clone())
            .ok()
            .flatten()
            .map(|s| s.as_bytes().to_vec()),
        _ => None,
    }
}

/// `redis.register_function(name, callback)` or `redis.register_function{...}` (Redis's
/// luaRegisterFunctionReadArgs + functionLibCreateFunction).
fn register(
    lua: &Lua,
    into: &RefCell<BTreeMap<String, FunctionInfo>>,
    args: MultiValue,
) -> Result<(), &'static str> {
    if args.is_empty() || args.len() > 2 {
        return Err("wrong number of arguments to redis.register_function");
    }
    let mut name = None;
    let mut func = None;
    let mut flags = 0;
    let mut description = None;
    if args.len() == 2 {
        name = Some(
            lua_string(lua, &args[0])
                .ok_or("first argument to redis.register_function must be a string")?,
        );
        match &args[1] {
            Value::Function(f) => func = Some(f.clone()),
            _ => return Err("second argument to redis.register_function must be a function"),
        }
    } else {
        let Value::Table(t) = &args[0] else {
            return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
        };
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair.map_err(|_| "unknown argument given to redis.register_function")?;
            let key = lua_string(lua, &k)
                .ok_or("named argument key given to redis.register_function is not a string")?;
            if key.eq_ignore_ascii_case(b"function_name") {
                name = Some(lua_string(lua, &v).ok_or(
                    "function_name argument given to redis.register_function must be a string",
                )?);
            } else if key.eq_ignore_ascii_case(b"description") {
                description = Some(lua_string(lua, &v).ok_or(
                    "description argument given to redis.register_function must be a string",
                )?);
            } else if key.eq_ignore_ascii_case(b"callback") {
                match v {
                    Value::Function(f) => func = Some(f),
                    _ => {
                        return Err(
                            "callback argument given to redis.register_function must be a function",
                        )
                    }
                }
            } else if key.eq_ignore_ascii_case(b"flags") {
                let Value::Table(ft) = v else {
                    return Err("flags argument to redis.register_function must be a table representing function flags");
                };
                for f in ft.pairs::<Value, Value>() {
                    let (_, fv) = f.map_err(|_| "unknown flag given")?;
                    let Value::String(s) = fv else {
                        return Err("unknown flag given");
                    };
                    let s = s.as_bytes();
                    match FLAG_NAMES.iter().find(|(_, n)| n.as_bytes() == &s[..]) {
                        Some((bit, _)) => flags |= bit,
                        None => return Err("unknown flag given"),
                    }
                }
            } else {
                return Err("unknown argument given to redis.register_function");
            }
        }
    }
    let Some(name) = name else {
        return Err("redis.register_function must get a function name argument");
    };
    let Some(func) = func else {
        return Err("redis.register_function must get a callback argument");
    };
    if !valid_name(&name) {
        return Err(BAD_NAME);
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    let mut into = into.borrow_mut();
    if into.contains_key(&name) {
        return Err("Function already exists in the library");
    }
    let key = lua
        .create_registry_value(func)
        .map_err(|_| "Out of memory registering the function")?;
    into.insert(
        name.clone(),
        FunctionInfo {
            name,
            key,
            flags,
            description: description.map(Bytes::from),
        },
    );
    Ok(())
}

impl Engine {
    fn helpers(&mut self, lua: &Lua) -> mlua::Result<(Function, Function, Function)> {
        if self.helpers.is_none() {
            self.helpers = Some(
                lua.load(HELPERS)
                    .set_name("=redis_prelude")
                    .call(lua.globals())?,
            );
        }
        Ok(self.helpers.clone().expect("just made"))
    }

    /// Compiles a library and runs its code to collect its functions (Redis's
    /// luaEngineCreate); the library is not added. The error is the reply text without
    /// its `ERR `.
    pub fn compile(&mut self, lua: &Lua, code: &Bytes) -> Result<Library, String> {
        let (name, start) = parse_meta(code)?;
        self.compile_body(lua, name, code, start)
    }

    /// [`Engine::compile`] once the shebang is parsed ([`parse_meta`]'s name and start).
    pub fn compile_body(
        &mut self,
        lua: &Lua,
        name: String,
        code: &Bytes,
        start: usize,
    ) -> Result<Library, String> {
        let (load_env, run_env, load_run) = self
            .helpers(lua)
            .map_err(|e| format!("Failed to start Lua: {e}"))?;
        let registered = RefCell::new(BTreeMap::new());
        let outcome = lua.scope(|scope| {
            let reg = scope.create_function(|lua, args: MultiValue| {
                register(lua, &registered, args).map_err(|e| mlua::Error::external(RegisterErr(e)))
            })?;
            let env: Table = load_env.call(reg)?;
            let chunk = match lua
                .load(&code[start..])
                .set_name("@user_function")
                .set_environment(env.clone())
                .into_function()
            {
                Ok(f) => f,
                Err(e) => {
                    return Ok(Err(format!(
                        "Error compiling function: {}",
                        lua_error_text(&e)
                    )))
                }
            };
            // Redis's luaEngineLoadHook: a library's code gets 500 ms to register.
            let started = std::time::Instant::now();
            lua.set_hook(
                mlua::HookTriggers::new().every_nth_instruction(100_000),
                move |_, _| {
                    if started.elapsed() > LOAD_TIMEOUT {
                        return Err(mlua::Error::runtime("FUNCTION LOAD timeout"));
                    }
                    Ok(mlua::VmState::Continue)
                },
            );
            let outcome = load_run.call::<Option<mlua::String>>(chunk);
            lua.remove_hook();
            super::install_hook(lua);
            if let Some(e) = outcome? {
                return Ok(Err(format!(
                    "Error registering functions: {}",
                    e.to_string_lossy()
                )));
            }
            run_env.call::<()>(env)?;
            Ok(Ok(()))
        });
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => {
                return Err(format!(
                    "Error registering functions: ERR {}",
                    lua_error_text(&e)
                ))
            }
        }
        let functions = registered.into_inner();
        if functions.is_empty() {
            return Err("No functions registered".into());
        }
        Ok(Library {
            name,
            code: code.clone(),
            functions,
        })
    }

    /// Adds a compiled library; with `replace`, one of the same name goes. Fails (and
    /// changes nothing) when another library has a function of the same name.
    pub fn add(&mut self, lib: Library, replace: bool) -> Result<(), String> {
        if !replace && self.libraries.contains_key(&lib.name) {
            return Err(format!("Library '{}' already exists", lib.name));
        }
        for f in lib.functions.values() {
            let key = f.name.to_ascii_lowercase();
            if self
                .functions
                .get(&key)
                .is_some_and(|(owner, _)| *owner != lib.name)
            {
                return Err(format!("Function {} already exists", f.name));
            }
        }
        self.remove(&lib.name);
        for f in lib.functions.values() {
            // Names differing only in case within one library: the first one wins, as
            // Redis's dictAdd into its case-insensitive function dict.
            self.functions
                .entry(f.name.to_ascii_lowercase())
                .or_insert_with(|| (lib.name.clone(), f.name.clone()));
        }
        self.libraries.insert(lib.name.clone(), lib);
        Ok(())
    }

    /// Drops a library and its functions.
    pub fn remove(&mut self, name: &str) -> Option<Library> {
        let lib = self.libraries.remove(name)?;
        for f in lib.functions.values() {
            let key = f.name.to_ascii_lowercase();
            if self
                .functions
                .get(&key)
                .is_some_and(|(owner, _)| *owner == lib.name)
            {
                self.functions.remove(&key);
            }
        }
        Some(lib)
    }

    /// Drops every library.
    pub fn clear(&mut self) {
        self.libraries.clear();
        self.functions.clear();
    }

    /// A function by name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&FunctionInfo> {
        let (lib, fname) = self.functions.get(&name.to_ascii_lowercase())?;
        self.libraries.get(lib)?.functions.get(fname)
    }

    /// The sources, for `Store::functions`.
    pub fn codes(&self) -> BTreeMap<String, Bytes> {
        self.libraries
            .iter()
            .map(|(n, l)| (n.clone(), l.code.clone()))
            .collect()
    }

    /// Rebuilds from `codes` when the Store they belong to is not the one these were
    /// built from (`gen`).
    pub fn sync(&mut self, lua: &Lua, codes: &BTreeMap<String, Bytes>, gen: u64) {
        if self.gen == gen {
            return;
        }
        self.clear();
        lua.expire_registry_values();
        for code in codes.values() {
            match self.compile(lua, code).and_then(|lib| self.add(lib, false)) {
                Ok(()) => {}
                Err(e) => tracing::warn!("dropping a function library that fails to load: {e}"),
            }
        }
        self.gen = gen;
    }

    /// These are the compiled copy of the Store with `gen`.
    pub fn is_built_from(&self, gen: u64) -> bool {
        self.gen == gen
    }

    /// Marks these libraries as the compiled copy of the Store with `gen`.
    pub fn set_gen(&mut self, gen: u64) {
        self.gen = gen;
    }
}

/// Checks libraries read from a file or a master compile, as loading them would (Redis
/// refuses an RDB whose functions fail). Runs in a scratch VM.
pub fn verify(codes: &BTreeMap<String, Bytes>) -> Result<(), String> {
    if codes.is_empty() {
        return Ok(());
    }
    let mut sc = Scripting::new().map_err(|e| format!("Failed to start Lua: {e}"))?;
    let lua = sc.lua.clone();
    for code in codes.values() {
        let lib = sc.functions.compile(&lua, code)?;
        sc.functions.add(lib, false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_errors_match_redis() {
        assert_eq!(
            parse_meta(b"return 1").unwrap_err(),
            "Missing library metadata"
        );
        assert_eq!(
            parse_meta(b"#!lua name=x").unwrap_err(),
            "Invalid library metadata"
        );
        assert_eq!(
            parse_meta(b"#!lua\n").unwrap_err(),
            "Library name was not given"
        );
        assert_eq!(
            parse_meta(b"#!js name=x\n").unwrap_err(),
            "Engine 'js' not found"
        );
        assert_eq!(
            parse_meta(b"#!lua name=x bogus=1\n").unwrap_err(),
            "Invalid metadata value given: bogus=1"
        );
        assert_eq!(
            parse_meta(b"#!lua name=a name=b\n").unwrap_err(),
            "Invalid metadata value, name argument was given multiple times"
        );
        assert_eq!(parse_meta(b"#!lua name=a-b\n").unwrap_err(), BAD_NAME);
        assert_eq!(
            parse_meta(b"#!LUA  Name=lib_1\nreturn").unwrap(),
            ("lib_1".to_string(), 17)
        );
    }

    #[test]
    fn register_and_replace() {
        let sc = Scripting::new().unwrap();
        let lua = sc.lua.clone();
        let mut e = Engine::default();
        let code = Bytes::from_static(
            b"#!lua name=l\nredis.register_function{function_name='F', callback=function(k, a) return #k end, flags={'no-writes'}, description='d'}",
        );
        let lib = e.compile(&lua, &code).unwrap();
        e.add(lib, false).unwrap();
        let f = e.get("f").unwrap();
        assert_eq!(f.name, "F");
        assert_eq!(f.flags, super::super::NO_WRITES);
        assert_eq!(f.description.as_deref(), Some(&b"d"[..]));
        let lib = e.compile(&lua, &code).unwrap();
        assert_eq!(e.add(lib, false).unwrap_err(), "Library 'l' already exists");
        let other = Bytes::from_static(
            b"#!lua name=m\nredis.register_function('f', function() return 1 end)",
        );
        let lib = e.compile(&lua, &other).unwrap();
        assert_eq!(e.add(lib, false).unwrap_err(), "Function f already exists");
        assert_eq!(
            e.compile(&lua, &Bytes::from_static(b"#!lua name=n\nlocal x = 1"))
                .err()
                .unwrap(),
            "No functions registered"
        );
        assert_eq!(
            e.compile(&lua, &Bytes::from_static(b"#!lua name=n\nredis.call('ping')"))
                .err()
                .unwrap(),
            "Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"
        );
        assert_eq!(
            e.compile(
                &lua,
                &Bytes::from_static(
                    b"#!lua name=n\nredis.register_function('a-b', function() end)"
                )
            )
            .err()
            .unwrap(),
            format!("Error registering functions: ERR {BAD_NAME}")
        );
        assert!(e.remove("l").is_some());
        assert!(e.get("F").is_none());
    }
}
