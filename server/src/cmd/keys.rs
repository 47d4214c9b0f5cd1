//! Generic key commands: DEL, EXISTS, ... (growing).

use super::*;

/// ```text
/// DEL key [key ...]
/// ```
fn del(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut n = 0;
    for k in &argv[1..] {
        if ctx.db().remove(k).is_some() {
            n += 1;
            ctx.notify(NOTIFY_GENERIC, "del", k);
        }
    }
    ctx.dirty(n);
    Ok(Reply::Int(n as i64))
}

/// ```text
/// EXISTS key [key ...]
/// ```
fn exists(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let n = argv[1..].iter().filter(|k| ctx.db().exists(k)).count();
    Ok(Reply::Int(n as i64))
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, WRITE, del)
        .keys(1, -1, 1)
        .doc(
            "1.0.0",
            "Deletes one or more keys.",
            "O(N) where N is the number of keys that will be removed.",
        )
        .syntax("key [key ...]"),
    CommandSpec::new("exists", -2, READONLY | FAST, exists)
        .keys(1, -1, 1)
        .doc(
            "1.0.0",
            "Determines whether one or more keys exist.",
            "O(N) where N is the number of keys to check.",
        )
        .syntax("key [key ...]"),
];
