//! Lua scripting (Redis 7.0's eval.c, script_lua.c, function_lua.c): one Lua 5.1 VM
//! through mlua, as Redis embeds 5.1.

pub mod libs;
