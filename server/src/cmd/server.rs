//! Server commands: INFO, DBSIZE, FLUSHDB, FLUSHALL, CONFIG, COMMAND, ... (growing).

use super::*;

/// The Redis version Rill reports (clients gate features on it).
pub const REDIS_VERSION: &str = "7.0.15";

/// Records a command in the slowlog if it ran longer than slowlog-log-slower-than.
pub fn slowlog_record(ctx: &mut Ctx, argv: &[Bytes], usec: u64) {
    let threshold = ctx.config.slowlog_log_slower_than;
    if threshold < 0 || (usec as i64) < threshold {
        return;
    }
    let max = ctx.config.slowlog_max_len;
    let mut args: Vec<Bytes> = Vec::new();
    let n = argv.len().min(32);
    for (i, a) in argv.iter().take(n).enumerate() {
        if i == 31 && argv.len() > 32 {
            args.push(Bytes::from(format!(
                "... ({} more arguments)",
                argv.len() - 31
            )));
        } else if a.len() > 128 {
            let mut v = a[..128].to_vec();
            v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
            args.push(Bytes::from(v));
        } else {
            args.push(a.clone());
        }
    }
    let id = ctx.state.slowlog_next_id;
    ctx.state.slowlog_next_id += 1;
    ctx.state.slowlog.push_front(crate::shared::SlowlogEntry {
        id,
        time: ctx.now_ms / 1000,
        duration_us: usec,
        argv: args,
        peer: ctx.client.handle.addr.to_string(),
        name: ctx.client.name.clone(),
    });
    while ctx.state.slowlog.len() > max {
        ctx.state.slowlog.pop_back();
    }
}

/// ```text
/// DBSIZE
/// ```
fn dbsize(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(ctx.db().len() as i64))
}

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::new("dbsize", 1, READONLY | FAST, dbsize)
    .group("server")
    .doc(
        "1.0.0",
        "Returns the number of keys in the database.",
        "O(1)",
    )];
