//! String commands: GET, SET, ... (growing).

use super::*;
use crate::db::{SBytes, Value};

/// ```text
/// GET key
/// ```
fn get(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    match ctx.db().get(&argv[1]) {
        None => Ok(Reply::Null),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(Reply::bulk_slice(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// ```text
/// SET key value
/// ```
fn set(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    ctx.db()
        .set(&argv[1], Value::Str(SBytes::new(&argv[2])), false);
    ctx.dirty(1);
    ctx.notify(NOTIFY_STRING, "set", &argv[1]);
    Ok(Reply::ok())
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, get)
        .keys(1, 1, 1)
        .group("string")
        .doc("1.0.0", "Returns the string value of a key.", "O(1)")
        .syntax("key"),
    CommandSpec::new("set", -3, WRITE | DENYOOM, set)
        .keys(1, 1, 1)
        .group("string")
        .doc("1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "O(1)")
        .syntax("key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]"),
];
