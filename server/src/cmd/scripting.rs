//! EVAL scripts: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis 7.0's eval.c).
//! The VM, the sandbox and the conversions live in `crate::scripting`.

use super::*;
use crate::scripting::{self, RunSpec, Scripting};

/// The VM, created on first use.
pub fn vm<'a>(ctx: &'a mut Ctx) -> Result<&'a mut Scripting, CmdError> {
    if ctx.state.scripting.is_none() {
        let sc = Scripting::with_running(ctx.shared.script.clone())
            .map_err(|e| CmdError::err(format!("Failed to start Lua: {e}")))?;
        ctx.state.scripting = Some(sc);
    }
    Ok(ctx.state.scripting.as_mut().expect("just created"))
}

/// `numkeys key... arg...` after the script (Redis's evalGetKeys checks).
fn split_keys(argv: &[Bytes]) -> Result<(&[Bytes], &[Bytes]), CmdError> {
    let numkeys = int_arg(&argv[2])?;
    if numkeys < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    let rest = &argv[3..];
    if numkeys as usize > rest.len() {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    Ok(rest.split_at(numkeys as usize))
}

fn eval_generic(ctx: &mut Ctx, argv: &[Bytes], by_sha: bool, ro: bool) -> CmdResult {
    // Shown to MONITOR ahead of the script's own commands, whatever the outcome (the
    // command is SKIP_MONITOR so call() does not feed it after the run).
    ctx.shared.feed_monitors(ctx.client, argv, ctx.now_ms);
    let (keys, args) = split_keys(argv)?;
    let sc = vm(ctx)?;
    // Redis compares the 40 characters case-insensitively.
    let mut lower = [0u8; 40];
    let sha_owned;
    let sha: &str = if by_sha {
        let given = &argv[1];
        let found = if given.len() == 40 {
            for (d, s) in lower.iter_mut().zip(given.iter()) {
                *d = s.to_ascii_lowercase();
            }
            std::str::from_utf8(&lower)
                .ok()
                .filter(|s| sc.scripts.contains_key(*s))
        } else {
            None
        };
        let Some(sha) = found else {
            return Err(CmdError::Raw(
                "NOSCRIPT No matching script. Please use EVAL.".into(),
            ));
        };
        sha
    } else {
        sha_owned = sc.load(&argv[1]).map_err(CmdError::Raw)?;
        &sha_owned
    };
    let script = &sc.scripts[sha];
    let spec = RunSpec {
        name: sha,
        func: script.key.id(),
        flags: script.flags,
        keys,
        args,
        ro,
        fcall: false,
    };
    let reply = scripting::run(ctx, spec);
    // The script's commands propagated themselves; call() wraps them in MULTI/EXEC.
    ctx.propagate_none();
    Ok(reply)
}

/// ```text
/// EVAL script numkeys [key [key ...]] [arg [arg ...]]
/// ```
fn eval(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    eval_generic(ctx, argv, false, false)
}

/// ```text
/// EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]]
/// ```
fn evalsha(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    eval_generic(ctx, argv, true, false)
}

/// ```text
/// EVAL_RO script numkeys [key [key ...]] [arg [arg ...]]
/// ```
fn eval_ro(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    eval_generic(ctx, argv, false, true)
}

/// ```text
/// EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]]
/// ```
fn evalsha_ro(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    eval_generic(ctx, argv, true, true)
}

/// ```text
/// SCRIPT LOAD script
/// ```
fn script_load(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sha = vm(ctx)?.load(&argv[2]).map_err(CmdError::Raw)?;
    Ok(Reply::Bulk(Bytes::from(sha)))
}

/// ```text
/// SCRIPT EXISTS sha1 [sha1 ...]
/// ```
fn script_exists(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sc = ctx.state.scripting.as_ref();
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|a| {
                let sha = lossy(a).to_ascii_lowercase();
                Reply::Int(sc.is_some_and(|s| s.scripts.contains_key(&sha)) as i64)
            })
            .collect(),
    ))
}

/// ```text
/// SCRIPT FLUSH [ASYNC | SYNC]
/// ```
fn script_flush(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 3 || (argv.len() == 3 && !eq_ic(&argv[2], "sync") && !eq_ic(&argv[2], "async"))
    {
        return Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    if let Some(sc) = ctx.state.scripting.as_mut() {
        sc.flush();
    }
    Ok(Reply::ok())
}

/// ```text
/// SCRIPT KILL
/// ```
/// Only reached when no script runs: a running script holds the keyspace, and the
/// connection layer answers SCRIPT KILL itself (`crate::scripting::busy`).
fn script_kill(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Err(CmdError::Raw(
        "NOTBUSY No scripts in execution right now.".into(),
    ))
}

/// ```text
/// SCRIPT DEBUG <YES | SYNC | NO>
/// ```
/// The Lua debugger (LDB) is not built: NO is accepted, YES and SYNC refused.
fn script_debug(_ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if eq_ic(&argv[2], "no") {
        return Ok(Reply::ok());
    }
    if eq_ic(&argv[2], "yes") || eq_ic(&argv[2], "sync") {
        return Err(CmdError::err(
            "The Lua debugger is not supported by this server",
        ));
    }
    Err(CmdError::err("Use SCRIPT DEBUG YES/SYNC/NO"))
}

/// ```text
/// SCRIPT HELP
/// ```
fn script_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(super::command::help_reply(
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    ))
}

const EVAL_FLAGS: u32 = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MOVABLEKEYS;

static SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("debug", 3, NOSCRIPT, script_debug)
        .group("scripting")
        .doc("3.2.0", "Set the debug mode for executed scripts.", "O(1)")
        .syntax("<YES | SYNC | NO>"),
    CommandSpec::new("exists", -3, NOSCRIPT, script_exists)
        .group("scripting")
        .doc(
            "2.6.0",
            "Check existence of scripts in the script cache.",
            "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        )
        .syntax("sha1 [sha1 ...]"),
    CommandSpec::new("flush", -2, NOSCRIPT, script_flush)
        .group("scripting")
        .doc(
            "2.6.0",
            "Remove all the scripts from the script cache.",
            "O(N) with N being the number of scripts in cache",
        )
        .syntax("[ASYNC | SYNC]"),
    CommandSpec::new("help", 2, LOADING | STALE, script_help)
        .group("scripting")
        .doc("5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("kill", 2, NOSCRIPT | ALLOW_BUSY, script_kill)
        .group("scripting")
        .doc(
            "2.6.0",
            "Kill the script currently in execution.",
            "O(1)",
        ),
    CommandSpec::new("load", 3, NOSCRIPT | STALE, script_load)
        .group("scripting")
        .doc(
            "2.6.0",
            "Load the specified Lua script into the script cache.",
            "O(N) with N being the length in bytes of the script body.",
        )
        .syntax("script"),
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, EVAL_FLAGS, eval)
        .keys(0, 0, 0)
        .group("scripting")
        .doc(
            "2.6.0",
            "Execute a Lua script server side",
            "Depends on the script that is executed.",
        )
        .syntax("script numkeys [key [key ...]] [arg [arg ...]]"),
    CommandSpec::new("evalsha", -3, EVAL_FLAGS, evalsha)
        .keys(0, 0, 0)
        .group("scripting")
        .doc(
            "2.6.0",
            "Execute a Lua script server side",
            "Depends on the script that is executed.",
        )
        .syntax("sha1 numkeys [key [key ...]] [arg [arg ...]]"),
    CommandSpec::new("eval_ro", -3, READONLY | EVAL_FLAGS, eval_ro)
        .keys(0, 0, 0)
        .group("scripting")
        .doc(
            "7.0.0",
            "Execute a read-only Lua script server side",
            "Depends on the script that is executed.",
        )
        .syntax("script numkeys [key [key ...]] [arg [arg ...]]"),
    CommandSpec::new("evalsha_ro", -3, READONLY | EVAL_FLAGS, evalsha_ro)
        .keys(0, 0, 0)
        .group("scripting")
        .doc(
            "7.0.0",
            "Execute a read-only Lua script server side",
            "Depends on the script that is executed.",
        )
        .syntax("sha1 numkeys [key [key ...]] [arg [arg ...]]"),
    CommandSpec::container("script", SCRIPT_SUBCOMMANDS)
        .group("scripting")
        .doc(
            "2.6.0",
            "A container for Lua scripts management commands",
            "Depends on subcommand.",
        ),
];

#[cfg(test)]
mod tests {
    use crate::cmd::testkit::{err, TestDb};
    use rill_protocol::Reply;

    #[test]
    fn eval_returns_converted_values() {
        let mut t = TestDb::new();
        assert_eq!(
            t.run(&["EVAL", "return {1,2,3.5,'x',true,false,nil,5}", "0"]),
            Reply::Array(vec![
                Reply::Int(1),
                Reply::Int(2),
                Reply::Int(3),
                Reply::bulk("x"),
                Reply::Int(1),
                Reply::Null
            ])
        );
        assert_eq!(
            t.run(&["EVAL", "return KEYS[1]..ARGV[1]", "1", "k", "a"]),
            Reply::bulk("ka")
        );
        assert_eq!(t.run(&["EVAL", "return 1e20", "0"]), Reply::Int(i64::MIN));
        assert_eq!(
            t.run(&["EVAL", "return redis.status_reply('FINE')", "0"]),
            Reply::Simple("FINE".into())
        );
    }

    #[test]
    fn redis_call_runs_commands_and_reports_errors() {
        let mut t = TestDb::new();
        assert_eq!(
            t.run(&[
                "EVAL",
                "return redis.call('set', KEYS[1], ARGV[1])",
                "1",
                "k",
                "v"
            ]),
            Reply::Simple("OK".into())
        );
        assert_eq!(t.run(&["GET", "k"]), Reply::bulk("v"));
        let sha = "c243b9f46db13ba8f69da41b45a77708832babed";
        t.run(&["SET", "s", "abc"]);
        assert_eq!(
            t.run(&["EVAL", "return redis.call('incr','s')", "0"]),
            err(&format!(
                "ERR value is not an integer or out of range script: {sha}, on @user_script:1."
            ))
        );
        assert_eq!(
            t.run(&["EVAL", "return redis.pcall('incr','s')", "0"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            t.run(&["EVAL", "error('boom')", "0"]),
            err("ERR user_script:1: boom script: 82903a0434f1503e152f89c03c9acd881a0e8150, on @user_script:1.")
        );
        assert_eq!(
            t.run(&["EVAL", "return 1 +", "0"]),
            err("ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'")
        );
    }

    #[test]
    fn evalsha_and_script_cache() {
        let mut t = TestDb::new();
        assert_eq!(
            t.run(&["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"]),
            err("NOSCRIPT No matching script. Please use EVAL.")
        );
        assert_eq!(
            t.run(&["SCRIPT", "LOAD", "return 1"]),
            Reply::bulk("e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
        );
        assert_eq!(
            t.run(&["EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"]),
            Reply::Int(1)
        );
        assert_eq!(
            t.run(&[
                "SCRIPT",
                "EXISTS",
                "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
                "ff"
            ]),
            Reply::Array(vec![Reply::Int(1), Reply::Int(0)])
        );
        assert_eq!(t.run(&["SCRIPT", "FLUSH"]), Reply::ok());
        assert_eq!(
            t.run(&[
                "SCRIPT",
                "EXISTS",
                "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
            ]),
            Reply::Array(vec![Reply::Int(0)])
        );
    }

    #[test]
    fn read_only_scripts_refuse_writes() {
        let mut t = TestDb::new();
        assert_eq!(
            t.run(&["EVAL_RO", "return redis.call('set','a','b')", "0"]),
            err("ERR Write commands are not allowed from read-only scripts. script: ff967d0ae0e68b4f9e360fa91c54598bc25ad9b6, on @user_script:1.")
        );
        assert_eq!(
            t.run(&["EVAL_RO", "#!lua\nreturn 1", "0"]),
            err("ERR Can not execute a script with write flag using *_ro command.")
        );
        assert_eq!(
            t.run(&["EVAL", "#!lua flags=no-writes\nreturn redis.call('set','a','b')", "0"]),
            err("ERR Write commands are not allowed from read-only scripts. script: 6acb400a50fe96e33eca4e0af6e9dcfb21193726, on @user_script:2.")
        );
        assert_eq!(t.run(&["EXISTS", "a"]), Reply::Int(0));
    }
}
