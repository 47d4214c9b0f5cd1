//! stub

/// Builds the table.
pub fn module(lua: &mlua::Lua) -> mlua::Result<mlua::Table> {
    lua.create_table()
}
