//! SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE (the work is in crate::persist).

use super::*;

/// ```text
/// SAVE
/// ```
fn save(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let config = ctx.config.clone();
    crate::persist::save(ctx.state, &config, ctx.now_ms)?;
    Ok(Reply::ok())
}

/// ```text
/// BGSAVE [SCHEDULE]
/// ```
fn bgsave(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let schedule = match argv.len() {
        1 => false,
        2 if eq_ic(&argv[1], "schedule") => true,
        _ => return Err(CmdError::Syntax),
    };
    let config = ctx.config.clone();
    let in_exec = ctx.client.in_exec;
    let msg = crate::persist::bgsave(ctx.state, &config, ctx.now_ms, schedule, in_exec)?;
    Ok(Reply::simple(msg))
}

/// ```text
/// BGREWRITEAOF
/// ```
fn bgrewriteaof(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let config = ctx.config.clone();
    let in_exec = ctx.client.in_exec;
    let msg = crate::persist::bgrewriteaof(ctx.shared, ctx.state, &config, ctx.now_ms, in_exec)?;
    Ok(Reply::simple(msg))
}

/// ```text
/// LASTSAVE
/// ```
fn lastsave(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(ctx.state.persist.lastsave))
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("save", 1, ADMIN | NOSCRIPT | NO_MULTI, save)
        .group("server")
        .doc(
            "1.0.0",
            "Synchronously save the dataset to disk",
            "O(N) where N is the total number of keys in all databases",
        ),
    CommandSpec::new("bgsave", -1, ADMIN | NOSCRIPT, bgsave)
        .group("server")
        .doc("1.0.0", "Asynchronously save the dataset to disk", "O(1)")
        .syntax("[SCHEDULE]"),
    CommandSpec::new("bgrewriteaof", 1, ADMIN | NOSCRIPT, bgrewriteaof)
        .group("server")
        .doc(
            "1.0.0",
            "Asynchronously rewrite the append-only file",
            "O(1)",
        ),
    CommandSpec::new("lastsave", 1, LOADING | STALE | FAST, lastsave)
        .group("server")
        .doc(
            "1.0.0",
            "Get the UNIX time stamp of the last successful save to disk",
            "O(1)",
        ),
];

#[cfg(test)]
mod tests {
    use crate::cmd::testkit::TestDb;

    #[test]
    fn bgsave_rejects_unknown_arguments() {
        let mut t = TestDb::new();
        assert_eq!(t.resp(&["BGSAVE", "NOW"]), "-ERR syntax error\r\n");
        assert_eq!(
            t.resp(&["SAVE", "x"]),
            "-ERR wrong number of arguments for 'save' command\r\n"
        );
        assert!(t.resp(&["LASTSAVE"]).starts_with(':'));
    }
}
