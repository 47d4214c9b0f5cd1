//! Connection commands: PING, ECHO, SELECT, QUIT, AUTH, HELLO, RESET, CLIENT.

use super::*;
use rill_protocol::RespVersion;

/// ```text
/// PING [message]
/// ```
fn ping(_ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
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
    while i < argv.len() {
        let more = argv.len() - i - 1;
        if eq_ic(&argv[i], "AUTH") && more >= 2 {
            let (user, pass) = (&argv[i + 1], &argv[i + 2]);
            if !check_auth(ctx, Some(user), pass) {
                return Err(CmdError::Raw(
                    "WRONGPASS invalid username-password pair or user is disabled.".into(),
                ));
            }
            i += 3;
        } else if eq_ic(&argv[i], "SETNAME") && more >= 1 {
            set_client_name(ctx, &argv[i + 1])?;
            i += 2;
        } else {
            return Err(CmdError::err(format!(
                "Syntax error in HELLO option '{}'",
                lossy(&argv[i])
            )));
        }
    }
    if !ctx.client.authenticated {
        return Err(CmdError::Raw(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
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

/// Checks a password (and the only user, "default").
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
        Err(CmdError::Raw(
            "WRONGPASS invalid username-password pair or user is disabled.".into(),
        ))
    }
}

pub(crate) fn set_client_name(ctx: &mut Ctx, name: &[u8]) -> Result<(), CmdError> {
    if name.iter().any(|&c| c <= b' ' || c > b'~') {
        return Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    ctx.client.name = lossy(name);
    ctx.client.sync_info();
    Ok(())
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, FAST | SENTINEL, ping)
        .group("connection")
        .doc("1.0.0", "Returns the server's liveliness response.", "O(1)")
        .syntax("[message]"),
    CommandSpec::new("echo", 2, FAST, echo)
        .group("connection")
        .doc("1.0.0", "Returns the given string.", "O(1)")
        .syntax("message"),
    CommandSpec::new("select", 2, LOADING | STALE | FAST, select)
        .group("connection")
        .doc("1.0.0", "Changes the selected database.", "O(1)")
        .syntax("index"),
    CommandSpec::new(
        "quit",
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        quit,
    )
    .group("connection")
    .doc("1.0.0", "Closes the connection.", "O(1)"),
    CommandSpec::new(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        hello,
    )
    .group("connection")
    .doc("6.0.0", "Handshakes with the Redis server.", "O(1)")
    .syntax("[protover [AUTH username password] [SETNAME clientname]]"),
    CommandSpec::new(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        auth,
    )
    .group("connection")
    .doc(
        "1.0.0",
        "Authenticates the connection.",
        "O(N) where N is the number of passwords defined for the user",
    )
    .syntax("[username] password"),
];

#[cfg(test)]
mod tests {
    use crate::cmd::testkit::*;

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
}
