//! REPLICAOF / SLAVEOF, PSYNC / SYNC, REPLCONF, ROLE, WAIT, and the replication gates of
//! processCommand (-READONLY, -MASTERDOWN, -NOREPLICAS). The work is in
//! crate::replication.

use super::*;
use crate::replication::{self as repl, LinkState};

/// The replication checks of processCommand, in Redis's order.
pub fn gate(ctx: &Ctx, spec: &CommandSpec) -> Option<CmdError> {
    let write = spec.flags & WRITE != 0;
    let replica = ctx.state.repl.master.as_ref();
    if write && replica.is_none() && ctx.config.min_replicas_to_write > 0 {
        let good = repl::good_replicas(ctx.state, &ctx.config, ctx.now_ms);
        if (good as i64) < ctx.config.min_replicas_to_write {
            return Some(CmdError::Raw(
                "NOREPLICAS Not enough good replicas to write.".into(),
            ));
        }
    }
    replica?;
    if write && ctx.config.get_bool("replica-read-only") {
        return Some(CmdError::Raw(
            "READONLY You can't write against a read only replica.".into(),
        ));
    }
    if spec.flags & STALE == 0 && running_stale(ctx) {
        return Some(CmdError::Raw(MASTERDOWN.into()));
    }
    None
}

pub const MASTERDOWN: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";

/// A replica cut from its master that must not serve stale data (Redis's running_stale):
/// only STALE commands run.
pub fn running_stale(ctx: &Ctx) -> bool {
    ctx.state.repl.link_down() && !ctx.config.get_bool("replica-serve-stale-data")
}

/// ```text
/// REPLICAOF <host port | NO ONE>
/// ```
fn replicaof(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if eq_ic(&argv[1], "no") && eq_ic(&argv[2], "one") {
        if ctx.state.repl.master.is_some() {
            let shared = ctx.shared;
            unset_master_locked(ctx);
            let _ = shared.update_config(|c| c.set_internal("replicaof", "no one"));
        }
        return Ok(Reply::ok());
    }
    if ctx.client.is_master {
        return Err(CmdError::err(
            "Command is not valid when client is a replica.",
        ));
    }
    let port = std::str::from_utf8(&argv[2])
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|p| (0..=65535).contains(p))
        .ok_or_else(|| CmdError::err("Invalid master port"))? as u16;
    let host = String::from_utf8_lossy(&argv[1]).into_owned();
    if ctx
        .state
        .repl
        .master
        .as_ref()
        .is_some_and(|m| m.host.eq_ignore_ascii_case(&host) && m.port == port)
    {
        return Ok(Reply::simple("OK Already connected to specified master"));
    }
    set_master_locked(ctx, &host, port);
    let v = format!("{host} {port}");
    let (_, config) = ctx
        .shared
        .update_config(|c| c.set_internal("replicaof", &v));
    ctx.config = config;
    tracing::info!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={} addr={}')",
        ctx.client.id,
        ctx.client.handle.addr
    );
    Ok(Reply::ok())
}

// The lock is held by the caller: the same steps as replica::set_master / unset_master.
fn set_master_locked(ctx: &mut Ctx, host: &str, port: u16) {
    let state = &mut *ctx.state;
    if let Some(h) = state.repl.master.as_ref().and_then(|m| m.client.clone()) {
        h.kill();
    }
    state.repl.link_gen += 1;
    let off = repl::master_repl_offset(state);
    state.repl.master = Some(repl::MasterLink {
        host: host.to_string(),
        port,
        state: LinkState::Connect,
        down_since_ms: 0,
        last_io_ms: 0,
        read_offset: off,
        sync_bytes: (0, 0),
        client: None,
        synced: false,
        db: 0,
    });
    for r in state.repl.replicas.values() {
        r.handle.kill();
    }
    let gen = state.repl.link_gen;
    if let Some(me) = ctx.shared.me.upgrade() {
        repl::replica::start(me, gen);
    }
}

fn unset_master_locked(ctx: &mut Ctx) {
    let state = &mut *ctx.state;
    let Some(m) = state.repl.master.take() else {
        return;
    };
    if let Some(h) = m.client {
        h.kill();
    }
    state.repl.link_gen += 1;
    let off = repl::master_repl_offset(state);
    state.repl.shift_replid(off);
    for r in state.repl.replicas.values() {
        r.handle.kill();
    }
    tracing::info!(
        "MASTER MODE enabled (user request from 'id={} addr={}')",
        ctx.client.id,
        ctx.client.handle.addr
    );
}

/// ```text
/// PSYNC replicationid offset
/// ```
fn psync(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    start_sync(ctx, argv[1].clone(), parse_i64(&argv[2])?, false)
}

/// ```text
/// SYNC
/// ```
fn sync(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    start_sync(ctx, Bytes::from_static(b"?"), -1, true)
}

fn start_sync(ctx: &mut Ctx, replid: Bytes, offset: i64, sync: bool) -> CmdResult {
    if ctx.client.is_master {
        return Err(CmdError::err(
            "Command is not valid when client is a replica.",
        ));
    }
    ctx.client.psync = Some(repl::master::PsyncRequest {
        replid,
        offset,
        sync,
    });
    // The connection writes +FULLRESYNC / +CONTINUE itself.
    ctx.client.reply_skip = true;
    Ok(Reply::Null)
}

fn parse_i64(b: &[u8]) -> Result<i64, CmdError> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(CmdError::NotInteger)
}

/// ```text
/// REPLCONF [listening-port port] [ip-address ip] [capa eof|psync2] [ACK offset] [GETACK *]
/// ```
fn replconf(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() % 2 == 0 {
        return Err(CmdError::Syntax);
    }
    for pair in argv[1..].chunks(2) {
        let (opt, val) = (&pair[0], &pair[1]);
        if eq_ic(opt, "listening-port") {
            let p = parse_i64(val)?;
            ctx.client.repl_port = p.clamp(0, 65535) as u16;
        } else if eq_ic(opt, "ip-address") {
            ctx.client.repl_ip = Some(String::from_utf8_lossy(val).into_owned());
        } else if eq_ic(opt, "capa") {
            if eq_ic(val, "eof") {
                ctx.client.repl_capa_eof = true;
            }
        } else if eq_ic(opt, "ack") || eq_ic(opt, "getack") {
            // ACKs are read by the replica's sender task; GETACK by the master link.
            ctx.client.reply_skip = true;
            return Ok(Reply::Null);
        } else if eq_ic(opt, "rdb-only") {
            ctx.client.repl_rdb_only = val.as_ref() == b"1";
        } else if eq_ic(opt, "rdb-filter-only") {
        } else {
            return Err(CmdError::err(format!(
                "Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    Ok(Reply::ok())
}

/// ```text
/// ROLE
/// ```
fn role(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let state = &*ctx.state;
    let r = &state.repl;
    if let Some(m) = &r.master {
        let st = match m.state {
            LinkState::Connect => "connect",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        };
        let off = if m.state == LinkState::Connected {
            repl::master_repl_offset(state) as i64
        } else {
            -1
        };
        return Ok(Reply::Array(vec![
            Reply::bulk("slave"),
            Reply::bulk(m.host.clone()),
            Reply::Int(m.port as i64),
            Reply::bulk(st),
            Reply::Int(off),
        ]));
    }
    let replicas = r
        .replicas
        .values()
        .filter(|x| x.state == "online")
        .map(|x| {
            Reply::Array(vec![
                Reply::bulk(x.ip.clone()),
                Reply::bulk(x.port.to_string()),
                Reply::bulk(x.ack_offset.to_string()),
            ])
        })
        .collect();
    Ok(Reply::Array(vec![
        Reply::bulk("master"),
        Reply::Int(repl::master_repl_offset(state) as i64),
        Reply::Array(replicas),
    ]))
}

/// ```text
/// WAIT numreplicas timeout
/// ```
fn wait(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if ctx.state.repl.is_replica() {
        return Err(CmdError::err(
            "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        ));
    }
    let n = parse_i64(&argv[1])?;
    let timeout = parse_i64(&argv[2])?;
    if timeout < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let offset = repl::master_repl_offset(ctx.state);
    let acked = repl::acked(ctx.state, offset);
    if acked as i64 >= n || ctx.client.in_exec || ctx.client.multi.is_some() {
        return Ok(Reply::Int(acked as i64));
    }
    repl::feed_raw(ctx.state, &[b"REPLCONF", b"GETACK", b"*"]);
    let deadline = if timeout > 0 { ctx.now_ms + timeout } else { 0 };
    ctx.client.wait_repl = Some((offset, n.max(0) as usize, deadline));
    ctx.client.reply_skip = true;
    Ok(Reply::Null)
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("replicaof", 3, ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING, replicaof)
        .group("server")
        .doc(
            "5.0.0",
            "Make the server a replica of another instance, or promote it as master.",
            "O(1)",
        )
        .syntax("host port"),
    CommandSpec::new("slaveof", 3, ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING, replicaof)
        .group("server")
        .doc(
            "1.0.0",
            "Make the server a replica of another instance, or promote it as master.",
            "O(1)",
        )
        .syntax("host port"),
    CommandSpec::new("psync", -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, psync)
        .group("server")
        .doc("2.8.0", "Internal command used for replication", "")
        .syntax("replicationid offset"),
    CommandSpec::new("sync", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, sync)
        .group("server")
        .doc("1.0.0", "Internal command used for replication", ""),
    CommandSpec::new("replconf", -1, ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY, replconf)
        .group("server")
        .doc(
            "3.0.0",
            "An internal command for configuring the replication stream",
            "O(1)",
        ),
    CommandSpec::new("role", 1, NOSCRIPT | LOADING | STALE | FAST, role)
        .group("server")
        .doc("2.8.12", "Return the role of the instance in the context of replication", "O(1)"),
    CommandSpec::new("wait", 3, NOSCRIPT, wait)
        .group("generic")
        .doc(
            "3.0.0",
            "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
            "O(1)",
        )
        .syntax("numreplicas timeout"),
];

#[cfg(test)]
mod tests {
    use crate::cmd::testkit::TestDb;

    #[test]
    fn argument_errors_match_redis() {
        let mut t = TestDb::new();
        assert_eq!(
            t.resp(&["REPLICAOF", "127.0.0.1", "abc"]),
            "-ERR Invalid master port\r\n"
        );
        assert_eq!(
            t.resp(&["REPLICAOF", "127.0.0.1", "70000"]),
            "-ERR Invalid master port\r\n"
        );
        assert_eq!(
            t.resp(&["WAIT", "1"]),
            "-ERR wrong number of arguments for 'wait' command\r\n"
        );
        assert_eq!(
            t.resp(&["WAIT", "a", "1"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(t.resp(&["WAIT", "1", "-1"]), "-ERR timeout is negative\r\n");
        assert_eq!(
            t.resp(&["REPLCONF", "listening-port"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.resp(&["REPLCONF", "foo", "bar"]),
            "-ERR Unrecognized REPLCONF option: foo\r\n"
        );
        assert_eq!(t.resp(&["REPLCONF", "listening-port", "6380"]), "+OK\r\n");
    }

    #[test]
    fn a_lone_master_reports_no_replicas() {
        let mut t = TestDb::new();
        assert_eq!(t.resp(&["WAIT", "0", "0"]), ":0\r\n");
        assert_eq!(t.resp(&["ROLE"]), "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
        assert_eq!(t.resp(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    }
}
