//! Connection commands: PING, ECHO, SELECT, QUIT, AUTH, HELLO, RESET, CLIENT.

use super::*;
use crate::client::ClientHandle;
use rill_protocol::RespVersion;
use std::sync::atomic::Ordering;

/// ```text
/// PING [message]
/// ```
fn ping(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    // A RESP2 subscriber gets ["pong", arg] (Redis's pingCommand under CLIENT_PUBSUB).
    if argv.len() <= 2 && ctx.client.resp == RespVersion::Resp2 && ctx.client.subscribed() {
        let arg = argv.get(1).cloned().unwrap_or_default();
        return Ok(Reply::Array(vec![
            Reply::Bulk(Bytes::from_static(b"pong")),
            Reply::Bulk(arg),
        ]));
    }
    match argv.len() {
        1 => Ok(Reply::simple("PONG")),
        2 => Ok(Reply::Bulk(argv[1].clone())),
        _ => Err(CmdError::wrong_args("ping")),
    }
}

/// ```text
/// ECHO message
/// ```
fn echo(_ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Bulk(argv[1].clone()))
}

/// ```text
/// SELECT index
/// ```
fn select(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let idx = int_arg(&argv[1]).map_err(|_| CmdError::NotInteger)?;
    if idx < 0 || idx as usize >= ctx.state.store.dbs.len() {
        return Err(CmdError::DbIndexOutOfRange);
    }
    ctx.client.db = idx as usize;
    ctx.client.sync_info();
    Ok(Reply::ok())
}

/// ```text
/// QUIT
/// ```
fn quit(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    ctx.client.close_after_reply = true;
    Ok(Reply::ok())
}

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// ```text
/// HELLO [protover [AUTH username password] [SETNAME clientname]]
/// ```
fn hello(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut ver = None;
    let mut i = 1;
    if argv.len() >= 2 {
        let v = int_arg(&argv[1])
            .map_err(|_| CmdError::err("Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::Raw("NOPROTO unsupported protocol version".into()));
        }
        ver = Some(v);
        i = 2;
    }
    let mut creds = None;
    let mut name = None;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        if eq_ic(&argv[i], "AUTH") && more >= 2 {
            creds = Some((&argv[i + 1], &argv[i + 2]));
            i += 3;
        } else if eq_ic(&argv[i], "SETNAME") && more >= 1 {
            name = Some(&argv[i + 1]);
            i += 2;
        } else {
            return Err(CmdError::err(format!(
                "Syntax error in HELLO option '{}'",
                lossy(&argv[i])
            )));
        }
    }
    if let Some((user, pass)) = creds {
        if !check_auth(ctx, Some(user), pass) {
            return Err(CmdError::Raw(WRONGPASS.into()));
        }
    }
    if !ctx.client.authenticated {
        return Err(CmdError::Raw(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
    }
    if let Some(n) = name {
        set_client_name(ctx, n)?;
    }
    if let Some(v) = ver {
        ctx.client.resp = if v == 3 {
            RespVersion::Resp3
        } else {
            RespVersion::Resp2
        };
    }
    ctx.client.sync_info();
    Ok(Reply::Map(vec![
        (Reply::bulk("server"), Reply::bulk("redis")),
        (
            Reply::bulk("version"),
            Reply::bulk(crate::cmd::server::REDIS_VERSION),
        ),
        (
            Reply::bulk("proto"),
            Reply::Int(if ctx.client.resp == RespVersion::Resp3 {
                3
            } else {
                2
            }),
        ),
        (Reply::bulk("id"), Reply::Int(ctx.client.id as i64)),
        (Reply::bulk("mode"), Reply::bulk("standalone")),
        (Reply::bulk("role"), Reply::bulk("master")),
        (Reply::bulk("modules"), Reply::Array(vec![])),
    ]))
}

/// Checks credentials against the only user, "default" (requirepass, or nopass when
/// requirepass is unset); on success the client is authenticated.
fn check_auth(ctx: &mut Ctx, user: Option<&Bytes>, pass: &[u8]) -> bool {
    if let Some(u) = user {
        if &u[..] != b"default" {
            return false;
        }
    }
    let ok = match &ctx.config.requirepass {
        None => user.is_some(),
        Some(p) => p.as_bytes() == pass,
    };
    if ok {
        ctx.client.authenticated = true;
    }
    ok
}

/// ```text
/// AUTH [username] password
/// ```
fn auth(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if argv.len() == 2 && ctx.config.requirepass.is_none() {
        return Err(CmdError::err(
            "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ));
    }
    let (user, pass) = if argv.len() == 3 {
        (Some(&argv[1]), &argv[2])
    } else {
        (None, &argv[1])
    };
    if check_auth(ctx, user, pass) {
        Ok(Reply::ok())
    } else {
        Err(CmdError::Raw(WRONGPASS.into()))
    }
}

/// ```text
/// RESET
/// ```
/// Redis's clearClientConnectionState: leaves MONITOR, selects db 0, RESP2, default-user
/// auth state, no name, replies on, no-evict off; discards MULTI and unwatches. (Pub/sub
/// state belongs to its family and is cleared there.)
fn reset(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    super::multi::discard_transaction(ctx);
    super::pubsub::unsubscribe_all(ctx);
    let c = &mut *ctx.client;
    if c.monitor {
        c.monitor = false;
        c.monitor_rx = None;
        ctx.shared.monitor_count.fetch_sub(1, Ordering::Relaxed);
        c.handle.info.lock().monitor = false;
    }
    c.db = 0;
    c.resp = RespVersion::Resp2;
    c.authenticated = ctx.config.requirepass.is_none();
    c.name.clear();
    c.reply_off = false;
    c.reply_skip_next = false;
    c.handle.no_evict.store(false, Ordering::Relaxed);
    c.sync_info();
    Ok(Reply::simple("RESET"))
}

pub(crate) fn set_client_name(ctx: &mut Ctx, name: &[u8]) -> Result<(), CmdError> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    ctx.client.name = lossy(name);
    ctx.client.sync_info();
    Ok(())
}

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CMD> HELP.`
pub(crate) fn subcommand_syntax_error(argv: &[Bytes]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        lossy(&argv[1]).chars().take(128).collect::<String>(),
        lossy(&argv[0]).to_ascii_uppercase()
    ))
}

/// Redis's addReplyHelp: a header line, the command's lines, then HELP.
pub(crate) fn help_reply(name: &str, lines: &[&str]) -> Reply {
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(Reply::Simple(Bytes::from(format!(
        "{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ))));
    for l in lines {
        out.push(Reply::Simple(Bytes::copy_from_slice(l.as_bytes())));
    }
    out.push(Reply::simple("HELP"));
    out.push(Reply::simple("    Prints this help."));
    Reply::Array(out)
}

/// Client types as CLIENT LIST TYPE and CLIENT KILL TYPE name them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

fn client_type_by_name(name: &[u8]) -> Option<ClientType> {
    match name.to_ascii_lowercase().as_slice() {
        b"normal" => Some(ClientType::Normal),
        b"slave" | b"replica" => Some(ClientType::Replica),
        b"pubsub" => Some(ClientType::PubSub),
        b"master" => Some(ClientType::Master),
        _ => None,
    }
}

/// Redis's getClientType, from the flag letters families set (M, S, P); a monitor is a
/// normal client.
pub fn client_type(h: &ClientHandle) -> ClientType {
    let i = h.info.lock();
    if i.flags.contains('M') {
        ClientType::Master
    } else if i.flags.contains('S') && !i.monitor {
        ClientType::Replica
    } else if i.flags.contains('P') {
        ClientType::PubSub
    } else {
        ClientType::Normal
    }
}

fn client_list_text(handles: &[std::sync::Arc<ClientHandle>]) -> Reply {
    let mut s = String::new();
    for h in handles {
        s.push_str(&h.list_line());
        s.push('\n');
    }
    Reply::Verbatim("txt", Bytes::from(s))
}

/// ```text
/// CLIENT ID
/// ```
fn client_id(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(ctx.client.id as i64))
}

/// ```text
/// CLIENT SETNAME connection-name
/// ```
fn client_setname(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    set_client_name(ctx, &argv[2])?;
    Ok(Reply::ok())
}

/// ```text
/// CLIENT GETNAME
/// ```
fn client_getname(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    if ctx.client.name.is_empty() {
        Ok(Reply::Null)
    } else {
        Ok(Reply::bulk(ctx.client.name.clone()))
    }
}

/// ```text
/// CLIENT LIST [TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]
/// ```
fn client_list(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    ctx.client.handle.info.lock().last_cmd = "client|list";
    let clients: Vec<_> = ctx.shared.clients.lock().values().cloned().collect();
    if argv.len() == 4 && eq_ic(&argv[2], "type") {
        let t = client_type_by_name(&argv[3])
            .ok_or_else(|| CmdError::err(format!("Unknown client type '{}'", lossy(&argv[3]))))?;
        let sel: Vec<_> = clients
            .into_iter()
            .filter(|h| client_type(h) == t)
            .collect();
        return Ok(client_list_text(&sel));
    }
    if argv.len() > 3 && eq_ic(&argv[2], "id") {
        let mut sel = Vec::new();
        for a in &argv[3..] {
            let id = int_arg(a).map_err(|_| CmdError::err("Invalid client ID"))?;
            if let Some(h) = clients.iter().find(|h| h.id as i64 == id) {
                sel.push(h.clone());
            }
        }
        return Ok(client_list_text(&sel));
    }
    if argv.len() != 2 {
        return Err(CmdError::Syntax);
    }
    Ok(client_list_text(&clients))
}

/// ```text
/// CLIENT INFO
/// ```
fn client_info(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    ctx.client.handle.info.lock().last_cmd = "client|info";
    let mut s = ctx.client.handle.list_line();
    s.push('\n');
    Ok(Reply::Verbatim("txt", Bytes::from(s)))
}

/// ```text
/// CLIENT KILL <ip:port | <[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA |
///   PUBSUB>] | [USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME <YES | NO>]>
///   [[ID client-id] | ...]>
/// ```
fn client_kill(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let mut addr: Option<String> = None;
    let mut laddr: Option<String> = None;
    let mut id: Option<u64> = None;
    let mut ctype: Option<ClientType> = None;
    let mut skipme = true;
    if argv.len() == 3 {
        // Old form: CLIENT KILL addr; a client may kill itself.
        addr = Some(lossy(&argv[2]));
        skipme = false;
    } else {
        let mut i = 2;
        while i < argv.len() {
            let more = i + 1 < argv.len();
            let opt = &argv[i];
            if eq_ic(opt, "id") && more {
                let v = int_arg(&argv[i + 1])
                    .ok()
                    .filter(|&v| v >= 1)
                    .ok_or_else(|| CmdError::err("client-id should be greater than 0"))?;
                id = Some(v as u64);
            } else if eq_ic(opt, "type") && more {
                ctype = Some(client_type_by_name(&argv[i + 1]).ok_or_else(|| {
                    CmdError::err(format!("Unknown client type '{}'", lossy(&argv[i + 1])))
                })?);
            } else if eq_ic(opt, "addr") && more {
                addr = Some(lossy(&argv[i + 1]));
            } else if eq_ic(opt, "laddr") && more {
                laddr = Some(lossy(&argv[i + 1]));
            } else if eq_ic(opt, "user") && more {
                if &argv[i + 1][..] != b"default" {
                    return Err(CmdError::err(format!(
                        "No such user '{}'",
                        lossy(&argv[i + 1])
                    )));
                }
            } else if eq_ic(opt, "skipme") && more {
                if eq_ic(&argv[i + 1], "yes") {
                    skipme = true;
                } else if eq_ic(&argv[i + 1], "no") {
                    skipme = false;
                } else {
                    return Err(CmdError::Syntax);
                }
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
    }
    let clients: Vec<_> = ctx.shared.clients.lock().values().cloned().collect();
    let me = ctx.client.id;
    let mut killed = 0;
    for h in clients {
        if addr.as_ref().is_some_and(|a| *a != h.addr.to_string())
            || laddr.as_ref().is_some_and(|a| *a != h.laddr.to_string())
            || ctype.is_some_and(|t| client_type(&h) != t)
            || id.is_some_and(|i| i != h.id)
            || (h.id == me && skipme)
        {
            continue;
        }
        if h.id == me {
            ctx.client.close_after_reply = true;
        } else {
            h.kill();
        }
        killed += 1;
    }
    if argv.len() == 3 {
        if killed == 0 {
            Err(CmdError::err("No such client"))
        } else {
            Ok(Reply::ok())
        }
    } else {
        Ok(Reply::Int(killed))
    }
}

/// ```text
/// CLIENT PAUSE timeout [WRITE | ALL]
/// ```
fn client_pause(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 4 {
        return Err(subcommand_syntax_error(argv));
    }
    let mut write_only = false;
    if argv.len() == 4 {
        if eq_ic(&argv[3], "write") {
            write_only = true;
        } else if !eq_ic(&argv[3], "all") {
            return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL"));
        }
    }
    let ms = int_arg(&argv[2])
        .map_err(|_| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let until_ms = if ms == 0 {
        0
    } else {
        ctx.now_ms
            .checked_add(ms)
            .ok_or_else(|| CmdError::err("timeout is out of range"))?
    };
    *ctx.shared.pause.lock() = crate::shared::Pause {
        until_ms,
        write_only,
    };
    ctx.shared.unpause.notify_waiters();
    Ok(Reply::ok())
}

/// ```text
/// CLIENT UNPAUSE
/// ```
fn client_unpause(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    *ctx.shared.pause.lock() = crate::shared::Pause::default();
    ctx.shared.unpause.notify_waiters();
    Ok(Reply::ok())
}

/// ```text
/// CLIENT NO-EVICT <ON | OFF>
/// ```
fn client_no_evict(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let on = if eq_ic(&argv[2], "on") {
        true
    } else if eq_ic(&argv[2], "off") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    ctx.client.handle.no_evict.store(on, Ordering::Relaxed);
    Ok(Reply::ok())
}

/// ```text
/// CLIENT REPLY <ON | OFF | SKIP>
/// ```
fn client_reply(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let c = &mut *ctx.client;
    if eq_ic(&argv[2], "on") {
        c.reply_off = false;
        c.reply_skip = false;
        Ok(Reply::ok())
    } else if eq_ic(&argv[2], "off") {
        c.reply_off = true;
        Ok(Reply::Raw(Bytes::new()))
    } else if eq_ic(&argv[2], "skip") {
        if !c.reply_off {
            c.reply_skip_next = true;
        }
        Ok(Reply::Raw(Bytes::new()))
    } else {
        Err(CmdError::Syntax)
    }
}

/// ```text
/// CLIENT UNBLOCK client-id [TIMEOUT | ERROR]
/// ```
/// Ends a client's wait in a blocking command (crate::blocking): TIMEOUT (the default)
/// answers as its timeout would, ERROR with `-UNBLOCKED`. 1 if the client was blocked.
fn client_unblock(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 4 {
        return Err(subcommand_syntax_error(argv));
    }
    if argv.len() == 4 && !eq_ic(&argv[3], "timeout") && !eq_ic(&argv[3], "error") {
        return Err(CmdError::err(
            "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
        ));
    }
    let id = int_arg(&argv[2])?;
    let mode = if argv.len() == 4 && eq_ic(&argv[3], "error") {
        crate::blocking::Unblock::Error
    } else {
        crate::blocking::Unblock::Timeout
    };
    let done = u64::try_from(id).is_ok_and(|id| ctx.state.blocking.unblock(id, mode));
    Ok(Reply::Int(done as i64))
}

/// ```text
/// CLIENT GETREDIR
/// ```
fn client_getredir(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(-1))
}

/// ```text
/// CLIENT TRACKINGINFO
/// ```
fn client_trackinginfo(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Map(vec![
        (Reply::bulk("flags"), Reply::Set(vec![Reply::bulk("off")])),
        (Reply::bulk("redirect"), Reply::Int(-1)),
        (Reply::bulk("prefixes"), Reply::Array(vec![])),
    ]))
}

/// ```text
/// CLIENT HELP
/// ```
fn client_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(help_reply("CLIENT", CLIENT_HELP))
}

const CLIENT_HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
];

const CONN: u32 = NOSCRIPT | LOADING | STALE;

static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("id", 2, CONN, client_id)
        .group("connection")
        .doc("5.0.0", "Returns the client ID for the current connection", "O(1)"),
    CommandSpec::new("setname", 3, CONN, client_setname)
        .group("connection")
        .doc("2.6.9", "Set the current connection name", "O(1)")
        .syntax("connection-name"),
    CommandSpec::new("getname", 2, CONN, client_getname)
        .group("connection")
        .doc("2.6.9", "Get the current connection name", "O(1)"),
    CommandSpec::new("list", -2, ADMIN | CONN, client_list)
        .group("connection")
        .doc(
            "2.4.0",
            "Get the list of client connections",
            "O(N) where N is the number of client connections",
        )
        .syntax("[TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]"),
    CommandSpec::new("info", 2, CONN, client_info)
        .group("connection")
        .doc(
            "6.2.0",
            "Returns information about the current client connection.",
            "O(1)",
        ),
    CommandSpec::new("kill", -3, ADMIN | CONN, client_kill)
        .group("connection")
        .doc(
            "2.4.0",
            "Kill the connection of a client",
            "O(N) where N is the number of client connections",
        )
        .syntax("<ip:port | <[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | [USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME <YES | NO>]> [[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | [USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME <YES | NO>] ...]>"),
    CommandSpec::new("pause", -3, ADMIN | CONN, client_pause)
        .group("connection")
        .doc(
            "2.9.50",
            "Stop processing commands from clients for some time",
            "O(1)",
        )
        .syntax("timeout [WRITE | ALL]"),
    CommandSpec::new("unpause", 2, ADMIN | CONN, client_unpause)
        .group("connection")
        .doc(
            "6.2.0",
            "Resume processing of clients that were paused",
            "O(N) Where N is the number of paused clients",
        ),
    CommandSpec::new("no-evict", 3, ADMIN | CONN, client_no_evict)
        .group("connection")
        .doc(
            "7.0.0",
            "Set client eviction mode for the current connection",
            "O(1)",
        )
        .syntax("<ON | OFF>"),
    CommandSpec::new("reply", 3, CONN, client_reply)
        .group("connection")
        .doc(
            "3.2.0",
            "Instruct the server whether to reply to commands",
            "O(1)",
        )
        .syntax("<ON | OFF | SKIP>"),
    CommandSpec::new("unblock", -3, ADMIN | CONN, client_unblock)
        .group("connection")
        .doc(
            "5.0.0",
            "Unblock a client blocked in a blocking command from a different connection",
            "O(log N) where N is the number of client connections",
        )
        .syntax("client-id [TIMEOUT | ERROR]"),
    CommandSpec::new("getredir", 2, CONN, client_getredir)
        .group("connection")
        .doc(
            "6.0.0",
            "Get tracking notifications redirection client ID if any",
            "O(1)",
        ),
    CommandSpec::new("trackinginfo", 2, CONN, client_trackinginfo)
        .group("connection")
        .doc(
            "6.2.0",
            "Return information about server assisted client side caching for the current connection",
            "O(1)",
        ),
    CommandSpec::new("help", 2, LOADING | STALE, client_help)
        .group("connection")
        .doc(
            "5.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
];

const HANDSHAKE: u32 = NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, FAST | SENTINEL, ping)
        .group("connection")
        .doc("1.0.0", "Ping the server", "O(1)")
        .syntax("[message]"),
    CommandSpec::new("echo", 2, LOADING | STALE | FAST, echo)
        .group("connection")
        .doc("1.0.0", "Echo the given string", "O(1)")
        .syntax("message"),
    CommandSpec::new("select", 2, LOADING | STALE | FAST, select)
        .group("connection")
        .doc(
            "1.0.0",
            "Change the selected database for the current connection",
            "O(1)",
        )
        .syntax("index"),
    CommandSpec::new("quit", -1, HANDSHAKE, quit)
        .group("connection")
        .doc("1.0.0", "Close the connection", "O(1)"),
    CommandSpec::new("hello", -1, HANDSHAKE | SENTINEL, hello)
        .group("connection")
        .doc("6.0.0", "Handshake with Redis", "O(1)")
        .syntax("[protover [AUTH username password] [SETNAME clientname]]"),
    CommandSpec::new("auth", -2, HANDSHAKE | SENTINEL, auth)
        .group("connection")
        .doc(
            "1.0.0",
            "Authenticate to the server",
            "O(N) where N is the number of passwords defined for the user",
        )
        .syntax("[username] password"),
    CommandSpec::new("reset", 1, HANDSHAKE, reset)
        .group("connection")
        .doc("6.2.0", "Reset the connection", "O(1)"),
    CommandSpec::container("client", CLIENT_SUBCOMMANDS)
        .group("connection")
        .doc(
            "2.4.0",
            "A container for client connection commands",
            "Depends on subcommand.",
        ),
];

#[cfg(test)]
mod tests {
    use crate::cmd::testkit::*;
    use bytes::Bytes;
    use rill_protocol::{Reply, RespVersion};
    use std::sync::atomic::Ordering;

    #[test]
    fn ping_echo_select() {
        let mut t = TestDb::new();
        assert_eq!(t.resp(&["PING"]), "+PONG\r\n");
        assert_eq!(t.resp(&["ping", "hi"]), "$2\r\nhi\r\n");
        assert_eq!(t.resp(&["ECHO", "x"]), "$1\r\nx\r\n");
        assert_eq!(
            t.resp(&["SELECT", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            t.resp(&["SELECT", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.resp(&["SELECT", "1"]), "+OK\r\n");
        assert_eq!(
            t.resp(&["ECHO"]),
            "-ERR wrong number of arguments for 'echo' command\r\n"
        );
        assert_eq!(
            t.resp(&["NOPE", "a", "b"]),
            "-ERR unknown command 'NOPE', with args beginning with: 'a' 'b' \r\n"
        );
    }

    fn with_pass() -> TestDb {
        let c =
            crate::config::Config::from_args(&["--requirepass".into(), "secret".into()]).unwrap();
        TestDb::with_config(c)
    }

    #[test]
    fn auth_and_noauth() {
        let mut t = with_pass();
        assert_eq!(t.resp(&["PING"]), "-NOAUTH Authentication required.\r\n");
        assert!(t.resp(&["HELLO", "3"]).starts_with(
            "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option"
        ));
        assert_eq!(
            t.resp(&["AUTH", "nope"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(
            t.resp(&["AUTH", "bob", "secret"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(t.resp(&["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
        assert_eq!(t.resp(&["AUTH", "secret"]), "+OK\r\n");
        assert_eq!(t.resp(&["PING"]), "+PONG\r\n");
        // RESET drops authentication when a password is required.
        assert_eq!(t.resp(&["RESET"]), "+RESET\r\n");
        assert_eq!(t.resp(&["PING"]), "-NOAUTH Authentication required.\r\n");
        // HELLO AUTH authenticates, and SETNAME applies only after it succeeds.
        assert!(t
            .resp(&["HELLO", "2", "AUTH", "default", "bad", "SETNAME", "x"])
            .starts_with("-WRONGPASS"));
        assert_eq!(t.client.name, "");
        let r = t.resp(&["HELLO", "2", "AUTH", "default", "secret", "SETNAME", "x"]);
        assert!(
            r.starts_with("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
            "{r}"
        );
        assert_eq!(t.resp(&["CLIENT", "GETNAME"]), "$1\r\nx\r\n");
    }

    #[test]
    fn auth_without_password_configured() {
        let mut t = TestDb::new();
        assert_eq!(
            t.resp(&["AUTH", "x"]),
            "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
        );
        // The default user is nopass: any password works with a username.
        assert_eq!(t.resp(&["AUTH", "default", "whatever"]), "+OK\r\n");
    }

    #[test]
    fn hello_errors_and_reply() {
        let mut t = TestDb::new();
        assert_eq!(
            t.resp(&["HELLO", "4"]),
            "-NOPROTO unsupported protocol version\r\n"
        );
        assert_eq!(
            t.resp(&["HELLO", "x"]),
            "-ERR Protocol version is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.resp(&["HELLO", "3", "AUTH", "a"]),
            "-ERR Syntax error in HELLO option 'AUTH'\r\n"
        );
        assert_eq!(
            t.resp(&["HELLO", "3", "SETNAME", "a b"]),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        );
        assert_eq!(
            t.client.resp,
            RespVersion::Resp2,
            "failed HELLO keeps RESP2"
        );
        let id = t.client.id;
        match t.run(&["HELLO", "3"]) {
            Reply::Map(m) => {
                let keys: Vec<_> = m.iter().map(|(k, _)| k.clone()).collect();
                assert_eq!(
                    keys,
                    ["server", "version", "proto", "id", "mode", "role", "modules"]
                        .iter()
                        .map(|s| bulk(s))
                        .collect::<Vec<_>>()
                );
                assert_eq!(m[1].1, bulk("7.0.15"));
                assert_eq!(m[2].1, int(3));
                assert_eq!(m[3].1, int(id as i64));
            }
            r => panic!("{r:?}"),
        }
        assert_eq!(t.client.resp, RespVersion::Resp3);
    }

    #[test]
    fn client_basics() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["CLIENT", "ID"]), int(t.client.id as i64));
        assert_eq!(t.resp(&["CLIENT", "GETNAME"]), "$-1\r\n");
        assert_eq!(t.resp(&["CLIENT", "SETNAME", "conn-1"]), "+OK\r\n");
        assert_eq!(t.resp(&["CLIENT", "GETNAME"]), "$6\r\nconn-1\r\n");
        assert_eq!(t.resp(&["CLIENT", "SETNAME", ""]), "+OK\r\n");
        assert_eq!(t.resp(&["CLIENT", "GETNAME"]), "$-1\r\n");
        assert_eq!(
            t.resp(&["CLIENT", "SETINFO", "lib-name", "redis-py"]),
            "-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n"
        );
        assert_eq!(
            t.resp(&["CLIENT"]),
            "-ERR wrong number of arguments for 'client' command\r\n"
        );
        assert_eq!(
            t.resp(&["CLIENT", "ID", "x"]),
            "-ERR wrong number of arguments for 'client|id' command\r\n"
        );
        let help = t.resp(&["CLIENT", "HELP"]);
        assert!(help.starts_with(
            "*48\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CACHING (YES|NO)\r\n"
        ));
        assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
    }

    #[test]
    fn client_kill_and_list_errors() {
        let mut t = TestDb::new();
        let cases = [
            (vec!["CLIENT", "KILL", "1.2.3.4:5"], "-ERR No such client\r\n"),
            (vec!["CLIENT", "KILL", "ID", "999"], ":0\r\n"),
            (
                vec!["CLIENT", "KILL", "ID", "0"],
                "-ERR client-id should be greater than 0\r\n",
            ),
            (vec!["CLIENT", "KILL", "foo", "bar"], "-ERR syntax error\r\n"),
            (
                vec!["CLIENT", "KILL", "TYPE", "foo"],
                "-ERR Unknown client type 'foo'\r\n",
            ),
            (
                vec!["CLIENT", "KILL", "SKIPME", "maybe"],
                "-ERR syntax error\r\n",
            ),
            (vec!["CLIENT", "KILL", "MAXAGE", "1"], "-ERR syntax error\r\n"),
            (
                vec!["CLIENT", "KILL", "USER", "nobody"],
                "-ERR No such user 'nobody'\r\n",
            ),
            (
                vec!["CLIENT", "LIST", "TYPE", "foo"],
                "-ERR Unknown client type 'foo'\r\n",
            ),
            (vec!["CLIENT", "LIST", "ID"], "-ERR syntax error\r\n"),
            (
                vec!["CLIENT", "LIST", "ID", "1", "x"],
                "-ERR Invalid client ID\r\n",
            ),
            (vec!["CLIENT", "LIST", "ID", "99999"], "$0\r\n\r\n"),
            (
                vec!["CLIENT", "PAUSE", "x"],
                "-ERR timeout is not an integer or out of range\r\n",
            ),
            (
                vec!["CLIENT", "PAUSE", "-1"],
                "-ERR timeout is negative\r\n",
            ),
            (
                vec!["CLIENT", "PAUSE", "10", "foo"],
                "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n",
            ),
            (
                vec!["CLIENT", "PAUSE", "10", "WRITE", "x"],
                "-ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.\r\n",
            ),
            (
                vec!["CLIENT", "NO-EVICT", "maybe"],
                "-ERR syntax error\r\n",
            ),
            (
                vec!["CLIENT", "UNBLOCK", "1", "foo"],
                "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
            ),
        ];
        for (argv, want) in cases {
            assert_eq!(t.resp(&argv), want, "{argv:?}");
        }
    }

    #[test]
    fn client_kill_self_old_form_closes_after_reply() {
        let mut t = TestDb::new();
        t.shared.register_client(t.client.handle.clone());
        // New form skips the caller by default.
        assert_eq!(t.resp(&["CLIENT", "KILL", "ADDR", "127.0.0.1:1"]), ":0\r\n");
        assert!(!t.client.close_after_reply);
        assert_eq!(t.resp(&["CLIENT", "KILL", "127.0.0.1:1"]), "+OK\r\n");
        assert!(t.client.close_after_reply);
    }

    #[test]
    fn client_list_and_info_lines() {
        let mut t = TestDb::new();
        t.shared.register_client(t.client.handle.clone());
        t.resp(&["CLIENT", "SETNAME", "me"]);
        t.resp(&["SELECT", "2"]);
        t.resp(&["CLIENT", "NO-EVICT", "on"]);
        let id = t.client.id;
        let Reply::Verbatim("txt", b) = t.run(&["CLIENT", "LIST"]) else {
            panic!()
        };
        let line = String::from_utf8(b.to_vec()).unwrap();
        assert!(line.ends_with('\n'));
        assert!(
            line.starts_with(&format!(
                "id={id} addr=127.0.0.1:1 laddr=127.0.0.1:6379 fd="
            )),
            "{line}"
        );
        for f in [
            " name=me ",
            " flags=e ",
            " db=2 ",
            " cmd=client|list ",
            " resp=2",
        ] {
            assert!(line.contains(f), "{f} in {line}");
        }
        let Reply::Verbatim("txt", b) = t.run(&["CLIENT", "LIST", "TYPE", "normal"]) else {
            panic!()
        };
        assert_eq!(b.iter().filter(|&&c| c == b'\n').count(), 1);
        let Reply::Verbatim("txt", b) = t.run(&["CLIENT", "LIST", "TYPE", "pubsub"]) else {
            panic!()
        };
        assert!(b.is_empty());
        let Reply::Verbatim("txt", b) = t.run(&["CLIENT", "INFO"]) else {
            panic!()
        };
        assert!(String::from_utf8_lossy(&b).contains(" cmd=client|info "));
    }

    #[test]
    fn client_reply_modes() {
        let mut t = TestDb::new();
        // The connection loop drops replies while these flags say so.
        assert_eq!(
            t.run(&["CLIENT", "REPLY", "SKIP"]),
            Reply::Raw(Bytes::new())
        );
        assert!(t.client.reply_skip_next);
        t.client.after_command();
        assert!(t.client.replies_suppressed());
        t.client.after_command();
        assert!(!t.client.replies_suppressed());
        t.run(&["CLIENT", "REPLY", "OFF"]);
        assert!(t.client.replies_suppressed());
        assert_eq!(t.resp(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
        assert!(!t.client.replies_suppressed());
        assert_eq!(t.resp(&["CLIENT", "REPLY", "x"]), "-ERR syntax error\r\n");
    }

    #[test]
    fn client_pause_sets_and_clears() {
        let mut t = TestDb::new();
        assert_eq!(t.resp(&["CLIENT", "PAUSE", "100000", "WRITE"]), "+OK\r\n");
        let p = *t.shared.pause.lock();
        assert!(p.write_only && p.until_ms >= t.now_ms + 100000);
        // A later PAUSE replaces the earlier one, as in Redis 7.0.
        assert_eq!(t.resp(&["CLIENT", "PAUSE", "5"]), "+OK\r\n");
        let p = *t.shared.pause.lock();
        assert!(!p.write_only && p.until_ms <= t.now_ms + 5);
        assert_eq!(t.resp(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
        assert_eq!(t.shared.pause.lock().until_ms, 0);
    }

    #[test]
    fn reset_clears_connection_state() {
        let mut t = TestDb::new();
        t.run(&["HELLO", "3", "SETNAME", "n"]);
        t.run(&["SELECT", "3"]);
        t.run(&["CLIENT", "NO-EVICT", "on"]);
        t.run(&["MONITOR"]);
        assert_eq!(t.shared.monitor_count.load(Ordering::Relaxed), 1);
        assert_eq!(t.resp(&["RESET"]), "+RESET\r\n");
        assert_eq!(t.client.db, 0);
        assert_eq!(t.client.resp, RespVersion::Resp2);
        assert_eq!(t.client.name, "");
        assert!(!t.client.monitor);
        assert_eq!(t.shared.monitor_count.load(Ordering::Relaxed), 0);
        assert!(!t.client.handle.no_evict.load(Ordering::Relaxed));
    }

    #[test]
    fn swapdb_moves_data() {
        let mut t = TestDb::new();
        t.resp(&["SELECT", "1"]);
        t.client.db = 1;
        t.shared.state.lock().store.dbs[1].set(
            b"k",
            crate::db::Value::Str(crate::db::SBytes::from("v")),
            false,
        );
        assert_eq!(t.resp(&["DBSIZE"]), ":1\r\n");
        assert_eq!(t.resp(&["SWAPDB", "0", "1"]), "+OK\r\n");
        assert_eq!(t.resp(&["DBSIZE"]), ":0\r\n");
        t.resp(&["SELECT", "0"]);
        assert_eq!(t.resp(&["DBSIZE"]), ":1\r\n");
        assert_eq!(
            t.resp(&["SWAPDB", "0", "x"]),
            "-ERR invalid second DB index\r\n"
        );
        assert_eq!(
            t.resp(&["SWAPDB", "x", "0"]),
            "-ERR invalid first DB index\r\n"
        );
        assert_eq!(
            t.resp(&["SWAPDB", "0", "16"]),
            "-ERR DB index is out of range\r\n"
        );
    }
}
