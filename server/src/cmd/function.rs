//! Redis 7.0 Functions: FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS/KILL/HELP,
//! FCALL and FCALL_RO (Redis's functions.c). The libraries and `register_function` live
//! in `crate::scripting::functions`; runs go through `crate::scripting::run`.
//!
//! Library sources are keyspace data (`Store::functions`): FUNCTION LOAD, DELETE, FLUSH
//! and RESTORE count as changes (`dirty`), so they propagate as themselves to the AOF and
//! replicas, and the sources are in every RDB and AOF base.

use super::*;
use crate::scripting::{self, functions, RunSpec, Scripting};
use rill_storage::rdb;

/// The VM with its libraries in step with the keyspace's `Store::functions`.
fn engine<'a>(ctx: &'a mut Ctx) -> Result<&'a mut Scripting, CmdError> {
    super::scripting::vm(ctx)?;
    let state = &mut *ctx.state;
    let sc = state
        .scripting
        .as_mut()
        .expect("invariant: vm() created it");
    let lua = sc.lua.clone();
    sc.functions
        .sync(&lua, &state.store.functions, state.store.functions_gen);
    Ok(sc)
}

/// (functions, libraries) for INFO memory, from the compiled copy when it is current,
/// else counting libraries from the keyspace's sources.
pub fn counts(ctx: &Ctx) -> (usize, usize) {
    let store = &ctx.state.store;
    match ctx.state.scripting.as_ref() {
        Some(sc) if sc.functions.is_built_from(store.functions_gen) => (
            sc.functions
                .libraries
                .values()
                .map(|l| l.functions.len())
                .sum(),
            sc.functions.libraries.len(),
        ),
        _ => (0, store.functions.len()),
    }
}

/// After a change to the libraries: the keyspace copy follows, and the change counts.
fn commit(ctx: &mut Ctx) {
    let state = &mut *ctx.state;
    if let Some(sc) = state.scripting.as_mut() {
        state.store.functions = sc.functions.codes();
        sc.functions.set_gen(state.store.functions_gen);
    }
    ctx.dirty(1);
}

/// ```text
/// FUNCTION LOAD [REPLACE] function-code
/// ```
fn function_load(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut replace = false;
    for a in &argv[2..argv.len() - 1] {
        if eq_ic(a, "replace") {
            replace = true;
        } else {
            // An error reply is one line (Redis's addReplyErrorLength).
            let a = lossy(a).replace(['\r', '\n'], " ");
            return Err(CmdError::err(format!("Unknown option given: {a}")));
        }
    }
    let code = &argv[argv.len() - 1];
    let sc = engine(ctx)?;
    let (name, start) = functions::parse_meta(code).map_err(CmdError::Err)?;
    if !replace && sc.functions.libraries.contains_key(&name) {
        return Err(CmdError::err(format!("Library '{name}' already exists")));
    }
    let lua = sc.lua.clone();
    let lib = sc
        .functions
        .compile_body(&lua, name.clone(), code, start)
        .map_err(CmdError::Err)?;
    sc.functions.add(lib, replace).map_err(CmdError::Err)?;
    commit(ctx);
    Ok(Reply::bulk(name))
}

fn function_reply(f: &functions::FunctionInfo) -> Reply {
    let flags = scripting::FLAG_NAMES
        .iter()
        .filter(|(bit, _)| f.flags & bit != 0)
        .map(|(_, n)| Reply::simple(n))
        .collect();
    Reply::Map(vec![
        (Reply::bulk("name"), Reply::bulk(f.name.clone())),
        (
            Reply::bulk("description"),
            Reply::bulk_opt(f.description.as_deref()),
        ),
        (Reply::bulk("flags"), Reply::Set(flags)),
    ])
}

/// ```text
/// FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]
/// ```
fn function_list(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i];
        if !with_code && eq_ic(a, "withcode") {
            with_code = true;
        } else if pattern.is_none() && eq_ic(a, "libraryname") {
            if i + 1 >= argv.len() {
                return Err(CmdError::err("library name argument was not given"));
            }
            i += 1;
            pattern = Some(&argv[i]);
        } else {
            let a = lossy(a).replace(['\r', '\n'], " ");
            return Err(CmdError::err(format!("Unknown argument {a}")));
        }
        i += 1;
    }
    let sc = engine(ctx)?;
    let mut out = Vec::new();
    for lib in sc.functions.libraries.values() {
        if let Some(p) = pattern {
            if !crate::db::glob::glob_match(p, lib.name.as_bytes(), true) {
                continue;
            }
        }
        let mut fields = vec![
            (Reply::bulk("library_name"), Reply::bulk(lib.name.clone())),
            (Reply::bulk("engine"), Reply::bulk("LUA")),
            (
                Reply::bulk("functions"),
                Reply::Array(lib.functions.values().map(function_reply).collect()),
            ),
        ];
        if with_code {
            fields.push((Reply::bulk("library_code"), Reply::bulk(lib.code.clone())));
        }
        out.push(Reply::Map(fields));
    }
    Ok(Reply::Array(out))
}

/// ```text
/// FUNCTION DELETE library-name
/// ```
fn function_delete(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let name = lossy(&argv[2]);
    let sc = engine(ctx)?;
    if sc.functions.remove(&name).is_none() {
        return Err(CmdError::err("Library not found"));
    }
    commit(ctx);
    Ok(Reply::ok())
}

/// ```text
/// FUNCTION FLUSH [ASYNC | SYNC]
/// ```
fn function_flush(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 3 {
        return Err(subcommand_syntax(&argv[1]));
    }
    if argv.len() == 3 && !eq_ic(&argv[2], "sync") && !eq_ic(&argv[2], "async") {
        return Err(CmdError::err(
            "FUNCTION FLUSH only supports SYNC|ASYNC option",
        ));
    }
    engine(ctx)?.functions.clear();
    commit(ctx);
    Ok(Reply::ok())
}

fn subcommand_syntax(sub: &[u8]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
        lossy(sub)
    ))
}

/// ```text
/// FUNCTION DUMP
/// ```
fn function_dump(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let mut opts = crate::persist::convert::write_options(&ctx.config);
    opts.checksum = true;
    let sc = engine(ctx)?;
    let codes: Vec<&Bytes> = sc.functions.libraries.values().map(|l| &l.code).collect();
    Ok(Reply::bulk(rdb::encode_functions_dump(&codes, &opts)))
}

/// ```text
/// FUNCTION RESTORE serialized-value [FLUSH | APPEND | REPLACE]
/// ```
fn function_restore(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 4 {
        return Err(subcommand_syntax(&argv[1]));
    }
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    let policy = match argv.get(3) {
        None => Policy::Append,
        Some(a) if eq_ic(a, "append") => Policy::Append,
        Some(a) if eq_ic(a, "replace") => Policy::Replace,
        Some(a) if eq_ic(a, "flush") => Policy::Flush,
        Some(_) => {
            return Err(CmdError::err(
                "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ))
        }
    };
    let codes = rdb::decode_functions_dump(&argv[2]).map_err(|e| {
        CmdError::err(match e {
            rdb::FunctionsDumpError::Checksum => "DUMP payload version or checksum are wrong",
            rdb::FunctionsDumpError::NotAFunction => "given type is not a function",
            rdb::FunctionsDumpError::Corrupt => "failed loading the given functions payload",
        })
    })?;
    let sc = engine(ctx)?;
    let lua = sc.lua.clone();
    // The payload's libraries first load on their own (Redis's fresh functionsLibCtx).
    let mut incoming = functions::Engine::default();
    for code in codes {
        let code = Bytes::from(code);
        let lib = sc.functions.compile(&lua, &code).map_err(CmdError::Err)?;
        incoming.add(lib, false).map_err(CmdError::Err)?;
    }
    let current = &mut sc.functions;
    if policy == Policy::Flush {
        current.clear();
    } else {
        // libraryJoin: check everything before changing anything.
        for name in incoming.libraries.keys() {
            if policy == Policy::Append && current.libraries.contains_key(name) {
                return Err(CmdError::err(format!("Library {name} already exists")));
            }
        }
        for lib in incoming.libraries.values() {
            for f in lib.functions.values() {
                let owner = current.functions.get(&f.name.to_ascii_lowercase());
                if owner.is_some_and(|(o, _)| !incoming.libraries.contains_key(o)) {
                    return Err(CmdError::err(format!("Function {} already exists", f.name)));
                }
            }
        }
    }
    let names: Vec<String> = incoming.libraries.keys().cloned().collect();
    for name in names {
        if let Some(lib) = incoming.remove(&name) {
            current.add(lib, true).map_err(CmdError::Err)?;
        }
    }
    commit(ctx);
    Ok(Reply::ok())
}

/// ```text
/// FUNCTION STATS
/// ```
/// A running function holds the keyspace, so the handler only runs when none does.
fn function_stats(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let sc = engine(ctx)?;
    let libraries = sc.functions.libraries.len() as i64;
    // Redis's per-engine n_functions: the libraries' sizes summed.
    let functions: usize = sc
        .functions
        .libraries
        .values()
        .map(|l| l.functions.len())
        .sum();
    let functions = functions as i64;
    Ok(Reply::Map(vec![
        (Reply::bulk("running_script"), Reply::Null),
        (
            Reply::bulk("engines"),
            Reply::Map(vec![(
                Reply::bulk("LUA"),
                Reply::Map(vec![
                    (Reply::bulk("libraries_count"), Reply::Int(libraries)),
                    (Reply::bulk("functions_count"), Reply::Int(functions)),
                ]),
            )]),
        ),
    ]))
}

/// ```text
/// FUNCTION KILL
/// ```
/// Only reached when no function runs (see `cmd::scripting::script_kill`).
fn function_kill(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Err(CmdError::Raw(
        "NOTBUSY No scripts in execution right now.".into(),
    ))
}

/// ```text
/// FUNCTION HELP
/// ```
fn function_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(super::command::help_reply(
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    ))
}

/// FCALL / FCALL_RO: `function numkeys key... arg...` (Redis's fcallCommandGeneric).
fn fcall_generic(ctx: &mut Ctx, argv: &[Bytes], ro: bool) -> CmdResult {
    // As EVAL: MONITOR sees the call ahead of the function's commands.
    ctx.shared.feed_monitors(ctx.client, argv, ctx.now_ms);
    let name = lossy(&argv[1]);
    let sc = engine(ctx)?;
    let Some(f) = sc.functions.get(&name) else {
        return Err(CmdError::err("Function not found"));
    };
    let (func, flags, fname) = (f.key.id(), f.flags, f.name.clone());
    let Ok(numkeys) = int_arg(&argv[2]) else {
        return Err(CmdError::err("Bad number of keys provided"));
    };
    let rest = &argv[3..];
    if numkeys > rest.len() as i64 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    if numkeys < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    let (keys, args) = rest.split_at(numkeys as usize);
    let reply = scripting::run(
        ctx,
        RunSpec {
            name: &fname,
            func,
            flags,
            keys,
            args,
            ro,
            fcall: true,
        },
    );
    // The function's commands propagated themselves; call() wraps them in MULTI/EXEC.
    ctx.propagate_none();
    Ok(reply)
}

/// ```text
/// FCALL function numkeys [key [key ...]] [arg [arg ...]]
/// ```
fn fcall(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    fcall_generic(ctx, argv, false)
}

/// ```text
/// FCALL_RO function numkeys [key [key ...]] [arg [arg ...]]
/// ```
fn fcall_ro(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    fcall_generic(ctx, argv, true)
}

const FCALL_FLAGS: u32 = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MOVABLEKEYS;

static FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("delete", 3, WRITE | NOSCRIPT, function_delete)
        .group("scripting")
        .doc("7.0.0", "Delete a function by name", "O(1)")
        .syntax("library-name"),
    CommandSpec::new("dump", 2, NOSCRIPT, function_dump)
        .group("scripting")
        .doc(
            "7.0.0",
            "Dump all functions into a serialized binary payload",
            "O(N) where N is the number of functions",
        ),
    CommandSpec::new("flush", -2, WRITE | NOSCRIPT, function_flush)
        .group("scripting")
        .doc(
            "7.0.0",
            "Deleting all functions",
            "O(N) where N is the number of functions deleted",
        )
        .syntax("[ASYNC | SYNC]"),
    CommandSpec::new("help", 2, LOADING | STALE, function_help)
        .group("scripting")
        .doc(
            "7.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
    CommandSpec::new("kill", 2, NOSCRIPT | ALLOW_BUSY, function_kill)
        .group("scripting")
        .doc("7.0.0", "Kill the function currently in execution.", "O(1)"),
    CommandSpec::new("list", -2, NOSCRIPT, function_list)
        .group("scripting")
        .doc(
            "7.0.0",
            "List information about all the functions",
            "O(N) where N is the number of functions",
        )
        .syntax("[LIBRARYNAME library-name-pattern] [WITHCODE]"),
    CommandSpec::new("load", -3, WRITE | DENYOOM | NOSCRIPT, function_load)
        .group("scripting")
        .doc(
            "7.0.0",
            "Create a function with the given arguments (name, code, description)",
            "O(1) (considering compilation time is redundant)",
        )
        .syntax("[REPLACE] function-code"),
    CommandSpec::new("restore", -3, WRITE | DENYOOM | NOSCRIPT, function_restore)
        .group("scripting")
        .doc(
            "7.0.0",
            "Restore all the functions on the given payload",
            "O(N) where N is the number of functions on the payload",
        )
        .syntax("serialized-value [FLUSH | APPEND | REPLACE]"),
    CommandSpec::new("stats", 2, NOSCRIPT | ALLOW_BUSY, function_stats)
        .group("scripting")
        .doc(
            "7.0.0",
            "Return information about the function currently running (name, description, duration)",
            "O(1)",
        ),
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("fcall", -3, FCALL_FLAGS, fcall)
        .keys(0, 0, 0)
        .group("scripting")
        .doc(
            "7.0.0",
            "Invoke a function",
            "Depends on the function that is executed.",
        )
        .syntax("function numkeys [key [key ...]] [arg [arg ...]]"),
    CommandSpec::new("fcall_ro", -3, READONLY | FCALL_FLAGS, fcall_ro)
        .keys(0, 0, 0)
        .group("scripting")
        .doc(
            "7.0.0",
            "Invoke a read-only function",
            "Depends on the function that is executed.",
        )
        .syntax("function numkeys [key [key ...]] [arg [arg ...]]"),
    CommandSpec::container("function", FUNCTION_SUBCOMMANDS)
        .group("scripting")
        .doc(
            "7.0.0",
            "A container for function commands",
            "Depends on subcommand.",
        ),
];

#[cfg(test)]
mod tests {
    use crate::cmd::testkit::{err, TestDb};
    use bytes::Bytes;
    use rill_protocol::Reply;

    const LIB: &str = "#!lua name=mylib\nredis.register_function('set_get', function(keys, args) redis.call('set', keys[1], args[1]) return redis.call('get', keys[1]) end)\nredis.register_function{function_name='ro', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";

    #[test]
    fn load_and_call() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["FUNCTION", "LOAD", LIB]), Reply::bulk("mylib"));
        assert_eq!(
            t.run(&["FCALL", "set_get", "1", "k", "v"]),
            Reply::bulk("v")
        );
        assert_eq!(t.run(&["FCALL_RO", "RO", "1", "k"]), Reply::bulk("v"));
        assert_eq!(
            t.run(&["FCALL_RO", "set_get", "1", "k", "v"]),
            err("ERR Can not execute a script with write flag using *_ro command.")
        );
        assert_eq!(
            t.run(&["FCALL", "nope", "0"]),
            err("ERR Function not found")
        );
        assert_eq!(
            t.run(&["FCALL", "ro", "x"]),
            err("ERR Bad number of keys provided")
        );
        assert_eq!(
            t.run(&["FUNCTION", "LOAD", LIB]),
            err("ERR Library 'mylib' already exists")
        );
        assert_eq!(
            t.run(&["FUNCTION", "LOAD", "REPLACE", LIB]),
            Reply::bulk("mylib")
        );
        assert_eq!(
            t.run(&["FUNCTION", "STATS"]),
            Reply::Map(vec![
                (Reply::bulk("running_script"), Reply::Null),
                (
                    Reply::bulk("engines"),
                    Reply::Map(vec![(
                        Reply::bulk("LUA"),
                        Reply::Map(vec![
                            (Reply::bulk("libraries_count"), Reply::Int(1)),
                            (Reply::bulk("functions_count"), Reply::Int(2)),
                        ])
                    )])
                )
            ])
        );
    }

    fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
        parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
    }

    #[test]
    fn dump_restore_round_trip() {
        let mut t = TestDb::new();
        t.run(&["FUNCTION", "LOAD", LIB]);
        let Reply::Bulk(raw) = t.run(&["FUNCTION", "DUMP"]) else {
            panic!("no dump")
        };
        let mut t2 = TestDb::new();
        let restore = |t2: &mut TestDb, extra: &[&[u8]]| {
            let mut a: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", &raw];
            a.extend_from_slice(extra);
            t2.run_argv(&argv(&a))
        };
        assert_eq!(restore(&mut t2, &[]), Reply::ok());
        assert_eq!(
            restore(&mut t2, &[]),
            err("ERR Library mylib already exists")
        );
        assert_eq!(restore(&mut t2, &[b"REPLACE"]), Reply::ok());
        assert_eq!(
            t2.run(&["FCALL", "set_get", "1", "a", "b"]),
            Reply::bulk("b")
        );
        assert_eq!(
            t2.run(&["FUNCTION", "RESTORE", "junk"]),
            err("ERR DUMP payload version or checksum are wrong")
        );
        assert_eq!(t2.run(&["FUNCTION", "DELETE", "mylib"]), Reply::ok());
        assert_eq!(
            t2.run(&["FUNCTION", "DELETE", "mylib"]),
            err("ERR Library not found")
        );
    }

    #[test]
    fn load_times_out_and_leaves_no_hook() {
        let mut t = TestDb::new();
        assert_eq!(
            t.run(&["FUNCTION", "LOAD", "#!lua name=loop\nwhile true do end"]),
            err("ERR Error registering functions: ERR FUNCTION LOAD timeout")
        );
        assert_eq!(
            t.run(&[
                "EVAL",
                "local i = 0 while i < 3e6 do i = i + 1 end return i",
                "0"
            ]),
            Reply::Int(3_000_000)
        );
        t.run(&["FUNCTION", "LOAD", LIB]);
        let info = format!("{:?}", t.run(&["INFO", "memory"]));
        assert!(info.contains("number_of_functions:2"), "{info}");
        assert!(info.contains("number_of_libraries:1"), "{info}");
    }

    /// The payload redis-server 7.0.15 gives for two libraries.
    #[test]
    fn restores_a_redis_payload() {
        let payload = b"\xf5@B#!lua name=y\nredis.register_function('w', function() return 1 end)\xf5@B#!lua name=x\nredis.register_function('z', function() return 1 end)\n\x00\x9bX\xa12;\xf7q&";
        let mut t = TestDb::new();
        assert_eq!(
            t.run_argv(&argv(&[b"FUNCTION", b"RESTORE", payload])),
            Reply::ok()
        );
        assert_eq!(t.run(&["FCALL", "w", "0"]), Reply::Int(1));
        assert_eq!(t.run(&["FCALL", "z", "0"]), Reply::Int(1));
    }

    #[test]
    fn changes_propagate_as_themselves() {
        let mut t = TestDb::new().propagating();
        t.run(&["FUNCTION", "LOAD", LIB]);
        t.run(&["FCALL", "set_get", "1", "k", "v"]);
        t.run(&["FUNCTION", "DELETE", "mylib"]);
        t.run(&["FUNCTION", "FLUSH"]);
        let p = t.take_propagated();
        assert_eq!(p[0], format!("FUNCTION LOAD {LIB}"));
        assert_eq!(
            &p[1..],
            &["set k v", "FUNCTION DELETE mylib", "FUNCTION FLUSH"]
        );
    }
}
