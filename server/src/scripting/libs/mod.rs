//! The libraries Redis preloads into its Lua VM: cjson, cmsgpack, bit, struct.

/// Sets the library globals (Redis's luaLoadLibraries).
pub fn open(_lua: &mlua::Lua) -> mlua::Result<()> {
    Ok(())
}
