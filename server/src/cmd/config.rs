//! CONFIG GET/SET/RESETSTAT/REWRITE/HELP.

use super::*;

/// ```text
/// CONFIG GET parameter [parameter ...]
/// ```
fn config_get(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let patterns: Vec<&[u8]> = argv[2..].iter().map(|a| &a[..]).collect();
    let mut pairs = ctx.config.get_matching(&patterns);
    // `port 0` lets the OS pick (a Rill extension): report the port actually bound.
    for (k, v) in pairs.iter_mut() {
        if v == "0" && k.eq_ignore_ascii_case("port") {
            if let Some(a) = ctx.shared.listen_addrs.lock().first() {
                *v = a.port().to_string();
            }
        }
    }
    Ok(Reply::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Reply::bulk(k), Reply::bulk(v)))
            .collect(),
    ))
}

/// Loopback or unix-socket clients count as local for enable-protected-configs `local`.
fn is_local(ctx: &Ctx) -> bool {
    ctx.client.handle.addr.ip().is_loopback()
}

/// ```text
/// CONFIG SET parameter value [parameter value ...]
/// ```
fn config_set(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() % 2 != 0 {
        return Err(CmdError::Syntax);
    }
    let strings: Vec<String> = argv[2..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let pairs: Vec<(&str, &str)> = strings
        .chunks(2)
        .map(|c| (c[0].as_str(), c[1].as_str()))
        .collect();
    let local = is_local(ctx);
    let (res, new) = ctx.shared.update_config(|c| {
        let allowed = c.protected_configs_allowed(local);
        c.set_many(&pairs, allowed)
    });
    // Later commands of the same batch must see the new values.
    ctx.config = new.clone();
    res.map_err(|e| CmdError::Err(e.0))?;
    if new.appendonly != ctx.state.persist.aof.on {
        crate::persist::appendonly_changed(ctx.shared, ctx.state, &new, ctx.now_ms)
            .map_err(CmdError::Err)?;
    }
    Ok(Reply::ok())
}

/// ```text
/// CONFIG RESETSTAT
/// ```
fn config_resetstat(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    ctx.state.reset_stats();
    ctx.shared.stats.reset();
    Ok(Reply::ok())
}

/// ```text
/// CONFIG REWRITE
/// ```
fn config_rewrite(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let config = ctx.shared.config();
    config.rewrite().map_err(CmdError::Err)?;
    tracing::warn!("CONFIG REWRITE executed with success.");
    Ok(Reply::ok())
}

/// ```text
/// CONFIG HELP
/// ```
fn config_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(super::command::help_reply(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    ))
}

const ADMIN_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -3, ADMIN_FLAGS, config_get)
        .group("server")
        .doc(
            "2.0.0",
            "Get the values of configuration parameters",
            "O(N) when N is the number of configuration parameters provided",
        )
        .syntax("parameter [parameter ...]"),
    CommandSpec::new("help", 2, LOADING | STALE, config_help)
        .group("server")
        .doc(
            "5.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
    CommandSpec::new("resetstat", 2, ADMIN_FLAGS, config_resetstat)
        .group("server")
        .doc("2.0.0", "Reset the stats returned by INFO", "O(1)"),
    CommandSpec::new("rewrite", 2, ADMIN_FLAGS, config_rewrite)
        .group("server")
        .doc(
            "2.8.0",
            "Rewrite the configuration file with the in memory configuration",
            "O(1)",
        ),
    CommandSpec::new("set", -4, ADMIN_FLAGS, config_set)
        .group("server")
        .doc(
            "2.0.0",
            "Set configuration parameters to the given values",
            "O(N) when N is the number of configuration parameters provided",
        )
        .syntax("parameter value [parameter value ...]"),
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::container("config", SUBCOMMANDS)
    .group("server")
    .doc(
        "2.0.0",
        "A container for server configuration commands",
        "Depends on subcommand.",
    )];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::*;

    #[test]
    fn get_set_roundtrip() {
        let mut db = TestDb::new();
        assert_eq!(db.run(&["CONFIG", "SET", "maxmemory", "1kb"]), Reply::ok());
        assert_eq!(
            db.run(&["CONFIG", "GET", "maxmemory"]),
            Reply::Map(vec![(bulk("maxmemory"), bulk("1024"))])
        );
        assert_eq!(db.shared.config().maxmemory, 1024);
        assert_eq!(
            db.run(&["CONFIG", "SET", "maxmemory", "1", "x"]),
            err("ERR syntax error")
        );
        assert_eq!(
            db.run(&["CONFIG", "SET", "maxmemory"]),
            err("ERR wrong number of arguments for 'config|set' command")
        );
        assert_eq!(
            db.run(&["CONFIG", "SET", "daemonize", "yes"]),
            err("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config")
        );
        assert_eq!(
            db.run(&["CONFIG", "nope"]),
            err("ERR unknown subcommand 'nope'. Try CONFIG HELP.")
        );
        assert_eq!(
            db.run(&["CONFIG", "REWRITE"]),
            err("ERR The server is running without a config file")
        );
        let Reply::Array(help) = db.run(&["CONFIG", "HELP"]) else {
            panic!()
        };
        assert_eq!(help.len(), 11);
    }

    #[test]
    fn resetstat_clears_counters_not_slowlog() {
        let mut db = TestDb::new();
        db.run(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        db.run(&["DBSIZE"]);
        db.run(&["NOSUCHCOMMAND"]);
        {
            let st = db.shared.state.lock();
            assert!(st.total_commands > 0 && st.stat_rejected_unknown == 1);
            assert!(!st.slowlog.is_empty());
        }
        db.shared
            .stats
            .total_connections_received
            .store(5, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(db.run(&["CONFIG", "RESETSTAT"]), Reply::ok());
        let st = db.shared.state.lock();
        assert_eq!(st.stat_rejected_unknown, 0);
        let dbsize = crate::cmd::table().commands["dbsize"].id;
        assert_eq!(st.cmdstats[dbsize].calls, 0);
        assert!(!st.slowlog.is_empty());
        assert_eq!(
            db.shared
                .stats
                .total_connections_received
                .load(std::sync::atomic::Ordering::Relaxed),
            0
        );
    }
}
