//! Server commands: INFO, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, MONITOR, SLOWLOG,
//! LATENCY, DEBUG, SHUTDOWN; and the after-call hook feeding SLOWLOG, LATENCY and
//! INFO latencystats.

use super::connection::{help_reply, subcommand_syntax_error};
use super::*;
use crate::shared::{redacted_args, LatencyHistogram};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// The Redis version Rill reports (clients gate features on it).
pub const REDIS_VERSION: &str = "7.0.15";

/// Runs after every command (Redis's call() tail): latency histogram, LATENCY event and
/// SLOWLOG entry.
pub fn after_call(ctx: &mut Ctx, reg: &Registered, argv: &[Bytes], usec: u64) {
    let st = &mut ctx.state;
    if st.latency_hist.len() <= reg.id {
        st.latency_hist.resize_with(reg.id + 1, || None);
    }
    st.latency_hist[reg.id]
        .get_or_insert_with(Default::default)
        .record(usec);
    if reg.spec.flags & SKIP_SLOWLOG != 0 {
        return;
    }
    let threshold = latency_threshold(ctx);
    let ms = usec / 1000;
    if threshold > 0 && ms >= threshold {
        let event = if reg.spec.flags & FAST != 0 {
            "fast-command"
        } else {
            "command"
        };
        ctx.state.latency_add(event, ctx.now_ms / 1000, ms);
    }
    slowlog_record(ctx, argv, usec);
}

/// latency-monitor-threshold of the current config, parsed once per config snapshot.
fn latency_threshold(ctx: &mut Ctx) -> u64 {
    if let Some((cfg, v)) = &ctx.state.latency_threshold {
        if Arc::ptr_eq(cfg, &ctx.config) {
            return *v;
        }
    }
    let v = ctx
        .config
        .get("latency-monitor-threshold")
        .parse()
        .unwrap_or(0);
    ctx.state.latency_threshold = Some((ctx.config.clone(), v));
    v
}

/// Records a command in the slowlog if it ran longer than slowlog-log-slower-than
/// (Redis's slowlogPushEntryIfNeeded: 32 arguments, 128 bytes each, at most).
pub fn slowlog_record(ctx: &mut Ctx, argv: &[Bytes], usec: u64) {
    let threshold = ctx.config.slowlog_log_slower_than;
    if threshold < 0 || (usec as i64) < threshold {
        return;
    }
    let max = ctx.config.slowlog_max_len;
    let redacted = redacted_args(argv);
    let mut args: Vec<Bytes> = Vec::new();
    let n = argv.len().min(32);
    for (i, a) in argv.iter().take(n).enumerate() {
        if i == 31 && argv.len() > 32 {
            args.push(Bytes::from(format!(
                "... ({} more arguments)",
                argv.len() - 31
            )));
        } else if redacted.contains(&i) {
            args.push(Bytes::from_static(b"(redacted)"));
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

// ---------------------------------------------------------------- keyspace-wide commands

/// ```text
/// DBSIZE
/// ```
fn dbsize(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(ctx.db().len() as i64))
}

/// FLUSHDB/FLUSHALL option: `[ASYNC | SYNC]` (both free synchronously here).
fn flush_flags(argv: &[Bytes]) -> Result<(), CmdError> {
    match argv.len() {
        1 => Ok(()),
        2 if eq_ic(&argv[1], "sync") || eq_ic(&argv[1], "async") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

/// ```text
/// FLUSHDB [ASYNC | SYNC]
/// ```
fn flushdb(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    flush_flags(argv)?;
    let n = ctx.db().flush();
    ctx.dirty(n as u64);
    Ok(Reply::ok())
}

/// ```text
/// FLUSHALL [ASYNC | SYNC]
/// ```
fn flushall(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    flush_flags(argv)?;
    let mut n = 0;
    for db in ctx.state.store.dbs.iter_mut() {
        n += db.flush();
    }
    ctx.dirty(n as u64 + 1);
    Ok(Reply::ok())
}

/// ```text
/// SWAPDB index1 index2
/// ```
/// Swaps the data (keys, expires, avg_ttl) but not the clients' WATCHes, which are all
/// invalidated, as in Redis.
fn swapdb(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let parse = |a: &[u8], msg: &str| {
        int_arg(a)
            .ok()
            .filter(|v| i32::try_from(*v).is_ok())
            .ok_or_else(|| CmdError::err(msg))
    };
    let a = parse(&argv[1], "invalid first DB index")?;
    let b = parse(&argv[2], "invalid second DB index")?;
    let n = ctx.state.store.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CmdError::DbIndexOutOfRange);
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        let dbs = &mut ctx.state.store.dbs;
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = dbs.split_at_mut(hi);
        let (x, y) = (&mut left[lo], &mut right[0]);
        // Watches stay with the database index; touch them before the contents move.
        x.touch_all_watched(Some(y));
        y.touch_all_watched(Some(x));
        std::mem::swap(&mut x.keys, &mut y.keys);
        std::mem::swap(&mut x.expires, &mut y.expires);
        std::mem::swap(&mut x.avg_ttl, &mut y.avg_ttl);
    }
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// ```text
/// TIME
/// ```
fn time(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let us = crate::util::now_us();
    Ok(Reply::Array(vec![
        Reply::bulk((us / 1_000_000).to_string()),
        Reply::bulk((us % 1_000_000).to_string()),
    ]))
}

/// ```text
/// MONITOR
/// ```
fn monitor(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    if !ctx.client.monitor {
        ctx.client.monitor = true;
        ctx.client.monitor_rx = Some(ctx.shared.monitors.subscribe());
        ctx.client.handle.info.lock().monitor = true;
        ctx.shared.monitor_count.fetch_add(1, Ordering::Relaxed);
    }
    Ok(Reply::ok())
}

/// ```text
/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
/// ```
/// Stops the server; no reply, the connection closes. Saves first when asked or when
/// save rules exist (prepareForShutdown); a failed save keeps it running unless FORCE.
fn shutdown(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let (mut nosave, mut save, mut other, mut abort) = (false, false, false, false);
    let mut force = false;
    for a in &argv[1..] {
        if eq_ic(a, "nosave") {
            nosave = true;
        } else if eq_ic(a, "save") {
            save = true;
        } else if eq_ic(a, "now") || eq_ic(a, "force") {
            force |= eq_ic(a, "force");
            other = true;
        } else if eq_ic(a, "abort") {
            abort = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if (abort && (nosave || save || other)) || (nosave && save) {
        return Err(CmdError::Syntax);
    }
    if abort {
        return Err(CmdError::err("No shutdown in progress."));
    }
    tracing::warn!("User requested shutdown...");
    let save = if nosave {
        Some(false)
    } else if save {
        Some(true)
    } else {
        None
    };
    let config = ctx.config.clone();
    if let Err(e) = crate::persist::prepare_shutdown(ctx.shared, ctx.state, &config, save) {
        if !force {
            return Err(CmdError::Err(e));
        }
    }
    ctx.shared.shutting_down.store(true, Ordering::SeqCst);
    ctx.shared.shutdown.notify_waiters();
    ctx.client.close_after_reply = true;
    Ok(Reply::Raw(Bytes::new()))
}

// ---------------------------------------------------------------- SLOWLOG

/// ```text
/// SLOWLOG GET [count]
/// ```
fn slowlog_get(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() > 3 {
        return Err(subcommand_syntax_error(argv));
    }
    let mut count = 10usize;
    if argv.len() == 3 {
        let msg = "count should be greater than or equal to -1";
        let n = int_arg(&argv[2]).map_err(|_| CmdError::err(msg))?;
        count = match n {
            -1 => usize::MAX,
            n if n < -1 => return Err(CmdError::err(msg)),
            n => n as usize,
        };
    }
    let out = ctx
        .state
        .slowlog
        .iter()
        .take(count)
        .map(|e| {
            Reply::Array(vec![
                Reply::Int(e.id as i64),
                Reply::Int(e.time),
                Reply::Int(e.duration_us as i64),
                Reply::Array(e.argv.iter().map(|a| Reply::Bulk(a.clone())).collect()),
                Reply::bulk(e.peer.clone()),
                Reply::bulk(e.name.clone()),
            ])
        })
        .collect();
    Ok(Reply::Array(out))
}

/// ```text
/// SLOWLOG LEN
/// ```
fn slowlog_len(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(ctx.state.slowlog.len() as i64))
}

/// ```text
/// SLOWLOG RESET
/// ```
fn slowlog_reset(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    ctx.state.slowlog.clear();
    Ok(Reply::ok())
}

/// ```text
/// SLOWLOG HELP
/// ```
fn slowlog_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(help_reply("SLOWLOG", SLOWLOG_HELP))
}

// ---------------------------------------------------------------- LATENCY

/// ```text
/// LATENCY LATEST
/// ```
fn latency_latest(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let out = ctx
        .state
        .latency
        .iter()
        .filter_map(|(name, ev)| {
            let (t, ms) = *ev.samples.back()?;
            Some(Reply::Array(vec![
                Reply::bulk(name.clone()),
                Reply::Int(t),
                Reply::Int(ms as i64),
                Reply::Int(ev.max as i64),
            ]))
        })
        .collect();
    Ok(Reply::Array(out))
}

/// ```text
/// LATENCY HISTORY event
/// ```
fn latency_history(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let name = lossy(&argv[2]);
    let out = match ctx.state.latency.get(&name) {
        Some(ev) => ev
            .samples
            .iter()
            .map(|&(t, ms)| Reply::Array(vec![Reply::Int(t), Reply::Int(ms as i64)]))
            .collect(),
        None => vec![],
    };
    Ok(Reply::Array(out))
}

/// ```text
/// LATENCY RESET [event [event ...]]
/// ```
fn latency_reset(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let lat = &mut ctx.state.latency;
    if argv.len() == 2 {
        let n = lat.len();
        lat.clear();
        return Ok(Reply::Int(n as i64));
    }
    let mut n = 0;
    for a in &argv[2..] {
        if lat.remove(&lossy(a)).is_some() {
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}

/// ```text
/// LATENCY DOCTOR
/// ```
fn latency_doctor(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let text = if latency_threshold(ctx) == 0 {
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string()
    } else if ctx.state.latency.is_empty() {
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n".to_string()
    } else {
        let now = ctx.now_ms / 1000;
        let mut s = String::from("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        for (i, (name, ev)) in ctx.state.latency.iter().enumerate() {
            let n = ev.samples.len().max(1) as u64;
            let avg = ev.samples.iter().map(|s| s.1).sum::<u64>() / n;
            let mad = ev.samples.iter().map(|s| s.1.abs_diff(avg)).sum::<u64>() / n;
            let oldest = ev.samples.front().map(|s| s.0).unwrap_or(now);
            let period = (now - oldest).max(1) as f64 / n as f64;
            let _ = writeln!(
                s,
                "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
                i + 1,
                name,
                ev.samples.len(),
                avg,
                mad,
                period,
                ev.max
            );
        }
        s.push_str("\nI have a few advices for you:\n\n");
        s.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        s.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        s
    };
    Ok(Reply::Verbatim("txt", Bytes::from(text)))
}

/// ```text
/// LATENCY GRAPH event
/// ```
/// The header of Redis's graph, with one column per sample (`#` scaled to the maximum).
fn latency_graph(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let name = lossy(&argv[2]);
    let Some(ev) = ctx
        .state
        .latency
        .get(&name)
        .filter(|e| !e.samples.is_empty())
    else {
        return Err(CmdError::err(format!(
            "No samples available for event '{name}'"
        )));
    };
    let high = ev.samples.iter().map(|s| s.1).max().unwrap_or(0);
    let low = ev.samples.iter().map(|s| s.1).min().unwrap_or(0);
    let mut s = format!(
        "{name} - high {high} ms, low {low} ms (all time high {} ms)\n{}\n",
        ev.max,
        "-".repeat(80)
    );
    for row in (0..4).rev() {
        for &(_, ms) in &ev.samples {
            let h = (ms * 4).checked_div(high).unwrap_or(0);
            s.push(if h > row { '#' } else { ' ' });
        }
        s.push('\n');
    }
    Ok(Reply::Verbatim("txt", Bytes::from(s)))
}

/// Redis's HdrHistogram reports a value as the highest one equivalent to it at 2
/// significant digits (in ns); this maps a µs value the same way, in µs.
fn hdr_equivalent_us(us: u64) -> f64 {
    let ns = (us * 1000).max(1000);
    let msb = 63 - ns.leading_zeros();
    let unit = if msb < 8 { 1 } else { 1u64 << (msb - 7) };
    ((ns & !(unit - 1)) + unit - 1) as f64 / 1000.0
}

/// One command's LATENCY HISTOGRAM entry: calls and cumulative counts at Redis's
/// power-of-two buckets (1024ns, 2048ns, ... reported in µs).
fn histogram_reply(h: &LatencyHistogram) -> Reply {
    let mut buckets = Vec::new();
    let mut prev = 0;
    let mut boundary: u64 = 1024;
    while prev < h.total && boundary < (1 << 50) {
        let micros = (boundary + boundary / 128 - 1) / 1000;
        let n = h.count_le(micros);
        if n > prev {
            buckets.push((Reply::Int(micros as i64), Reply::Int(n as i64)));
        }
        prev = prev.max(n);
        boundary *= 2;
    }
    Reply::Map(vec![
        (Reply::bulk("calls"), Reply::Int(h.total as i64)),
        (Reply::bulk("histogram_usec"), Reply::Map(buckets)),
    ])
}

/// ```text
/// LATENCY HISTOGRAM [command [command ...]]
/// ```
fn latency_histogram(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let t = table();
    let hist = &ctx.state.latency_hist;
    let get = |id: usize| hist.get(id).and_then(|h| h.as_deref());
    let mut out = Vec::new();
    if argv.len() == 2 {
        for (id, name) in t.names.iter().enumerate() {
            if let Some(h) = get(id) {
                out.push((Reply::bulk(name.clone()), histogram_reply(h)));
            }
        }
    } else {
        for a in &argv[2..] {
            let full = lossy(a).to_ascii_lowercase();
            let reg = match full.split_once('|') {
                Some((c, s)) => t.commands.get(c).and_then(|r| r.subs.get(s)),
                None => t.commands.get(&full),
            };
            if let Some(reg) = reg {
                if let Some(h) = get(reg.id) {
                    out.push((Reply::bulk(reg.full_name.clone()), histogram_reply(h)));
                }
            }
        }
    }
    Ok(Reply::Map(out))
}

/// ```text
/// LATENCY HELP
/// ```
fn latency_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(help_reply("LATENCY", LATENCY_HELP))
}

// ---------------------------------------------------------------- DEBUG

const DEBUG_NOT_ALLOWED: &str = "DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// enable-debug-command: "yes", "local" (loopback clients only) or "no" (Redis's default).
pub fn debug_allowed(setting: &str, peer: std::net::SocketAddr) -> bool {
    match setting {
        "yes" => true,
        "local" => peer.ip().is_loopback(),
        _ => false,
    }
}

/// ```text
/// DEBUG subcommand [argument ...]
/// ```
/// SLEEP, SET-ACTIVE-EXPIRE, PROTOCOL, ERROR, LOG, POPULATE, RELOAD and HELP; SLEEP holds the keyspace
/// lock, stopping the server as in Redis.
fn debug(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if !debug_allowed(
        ctx.config.get("enable-debug-command"),
        ctx.client.handle.addr,
    ) {
        return Err(CmdError::err(DEBUG_NOT_ALLOWED));
    }
    let sub = argv[1].to_ascii_lowercase();
    match (sub.as_slice(), argv.len()) {
        (b"help", 2) => Ok(help_reply("DEBUG", DEBUG_HELP)),
        (b"sleep", 3) => {
            let secs: f64 = std::str::from_utf8(&argv[2])
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0.0);
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            }
            Ok(Reply::ok())
        }
        (b"set-active-expire", 3) => {
            let on = int_arg(&argv[2]).unwrap_or(0) != 0;
            ctx.shared.active_expire.store(on, Ordering::Relaxed);
            Ok(Reply::ok())
        }
        (b"log", 3) => {
            tracing::warn!("DEBUG LOG: {}", lossy(&argv[2]));
            Ok(Reply::ok())
        }
        (b"error", 3) => Ok(Reply::Error(argv[2].clone())),
        (b"protocol", 3) => debug_protocol(ctx, &argv[2]),
        (b"populate", 3..=5) => debug_populate(ctx, argv),
        (b"reload", _) => {
            let (mut save, mut flush, mut merge) = (true, true, false);
            for o in &argv[2..] {
                if eq_ic(o, "merge") {
                    merge = true;
                } else if eq_ic(o, "noflush") {
                    flush = false;
                } else if eq_ic(o, "nosave") {
                    save = false;
                } else {
                    return Err(CmdError::err(
                        "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                    ));
                }
            }
            let config = ctx.config.clone();
            let opts = crate::persist::load::ReloadOptions { save, flush, merge };
            crate::persist::load::debug_reload(ctx.shared, ctx.state, &config, ctx.now_ms, opts)?;
            Ok(Reply::ok())
        }
        _ => Err(subcommand_syntax_error(argv)),
    }
}

/// DEBUG POPULATE count [prefix] [size]: `prefix:N` -> `value:N` (zero-padded to size),
/// existing keys left alone, as Redis.
fn debug_populate(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let count = int_arg(&argv[2])?;
    if count < 0 {
        return Err(CmdError::err("positive count value required"));
    }
    let prefix = argv.get(3).map_or(&b"key"[..], |p| &p[..]);
    let size = match argv.get(4) {
        Some(s) => {
            let n = int_arg(s)?;
            if n < 0 {
                return Err(CmdError::err("positive size value required"));
            }
            Some(n as usize)
        }
        None => None,
    };
    let mut added = 0;
    for j in 0..count {
        let mut key = prefix.to_vec();
        key.push(b':');
        key.extend_from_slice(itoa::Buffer::new().format(j).as_bytes());
        if ctx.db().exists(&key) {
            continue;
        }
        let mut val = format!("value:{j}").into_bytes();
        if let Some(n) = size {
            val.resize(n, 0);
        }
        ctx.db().insert_new(
            &key,
            crate::db::Value::Str(crate::db::SBytes::from(&val[..])),
        );
        added += 1;
    }
    ctx.dirty(added);
    Ok(Reply::ok())
}

fn debug_protocol(ctx: &mut Ctx, kind: &[u8]) -> CmdResult {
    let resp3 = ctx.client.resp == rill_protocol::RespVersion::Resp3;
    let ints = |n: i64| (0..n).map(Reply::Int).collect::<Vec<_>>();
    Ok(match kind.to_ascii_lowercase().as_slice() {
        b"string" => Reply::bulk("Hello World"),
        b"integer" => Reply::Int(12345),
        b"double" => Reply::Raw(Bytes::from_static(if resp3 {
            b",3.141\r\n"
        } else {
            b"$5\r\n3.141\r\n"
        })),
        b"bignum" => Reply::BigNumber(Bytes::from_static(
            b"1234567999999999999999999999999999999",
        )),
        b"null" => Reply::Null,
        b"array" => Reply::Array(ints(3)),
        b"set" => Reply::Set(ints(3)),
        b"map" => Reply::Map(
            (0..3)
                .map(|i| (Reply::Int(i), Reply::Bool(i == 1)))
                .collect(),
        ),
        b"attrib" => {
            if resp3 {
                Reply::Raw(Bytes::from_static(
                    b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
                ))
            } else {
                Reply::bulk("Some real reply following the attribute")
            }
        }
        b"push" => {
            if !resp3 {
                return Err(CmdError::err("RESP2 is not supported by this command"));
            }
            Reply::Raw(Bytes::from_static(
                b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
            ))
        }
        b"verbatim" => Reply::Verbatim("txt", Bytes::from_static(b"This is a verbatim\nstring")),
        b"true" => Reply::Bool(true),
        b"false" => Reply::Bool(false),
        _ => {
            return Err(CmdError::err(
                "Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
            ))
        }
    })
}

// ---------------------------------------------------------------- INFO

/// Sections in output order, with whether "default" includes them.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
    ("topics", true),
];

/// Redis's bytesToHuman.
pub fn bytes_to_human(n: u64) -> String {
    let n = n as f64;
    const K: f64 = 1024.0;
    if n < K {
        format!("{}B", n as u64)
    } else if n < K * K {
        format!("{:.2}K", n / K)
    } else if n < K * K * K {
        format!("{:.2}M", n / (K * K))
    } else if n < K * K * K * K {
        format!("{:.2}G", n / (K * K * K))
    } else if n < K * K * K * K * K {
        format!("{:.2}T", n / (K * K * K * K))
    } else {
        format!("{:.2}P", n / (K * K * K * K * K))
    }
}

/// (user, system, children user, children system) CPU seconds from /proc, and the main
/// thread's (user, system).
fn cpu_times() -> ([f64; 4], [f64; 2]) {
    fn fields(path: &str) -> Vec<f64> {
        let s = std::fs::read_to_string(path).unwrap_or_default();
        let rest = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
        // After ")": state is field 3; utime is field 14.
        rest.split_whitespace()
            .skip(11)
            .take(4)
            .map(|v| v.parse::<f64>().unwrap_or(0.0) / 100.0)
            .collect()
    }
    let p = fields("/proc/self/stat");
    let t = fields(&format!("/proc/self/task/{}/stat", std::process::id()));
    let g = |v: &Vec<f64>, i: usize| v.get(i).copied().unwrap_or(0.0);
    (
        [g(&p, 0), g(&p, 1), g(&p, 2), g(&p, 3)],
        [g(&t, 0), g(&t, 1)],
    )
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn cfg_or<'a>(config: &'a crate::config::Config, name: &str, default: &'a str) -> &'a str {
    match config.get(name) {
        "" => default,
        v => v,
    }
}

/// Builds the INFO text for the requested sections (Redis's genRedisInfoString).
pub fn info_text(ctx: &mut Ctx, args: &[Bytes]) -> String {
    let mut want: Vec<&str> = Vec::new();
    let mut all = false;
    if args.is_empty() {
        want.extend(SECTIONS.iter().filter(|s| s.1).map(|s| s.0));
    }
    let mut lowered = Vec::new();
    for a in args {
        let l = lossy(a).to_ascii_lowercase();
        match l.as_str() {
            "default" => want.extend(SECTIONS.iter().filter(|s| s.1).map(|s| s.0)),
            "all" | "everything" => all = true,
            _ => lowered.push(l),
        }
    }
    let wanted = |name: &str| {
        all || want.contains(&name)
            || lowered
                .iter()
                .any(|l| l == name || (name == "modules" && l == "module_list"))
    };
    let mut out = String::new();
    for (name, _) in SECTIONS {
        if !wanted(name) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        if *name == "topics" {
            // Per-partition lines only when asked by name: a broker may hold thousands.
            let detail = lowered.iter().any(|l| l == "topics");
            topics_section(ctx, detail, &mut out);
        } else {
            info_section(ctx, name, &mut out);
        }
    }
    out
}

macro_rules! field {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
        $out.push_str("\r\n");
    }};
}

/// `# Topics`: topics, partitions and bytes; with `detail` one
/// `topic_<name>_<p>:leo=..,hw=..,log_start_offset=..,bytes=..,segments=..` line per
/// partition.
fn topics_section(ctx: &mut Ctx, detail: bool, o: &mut String) {
    let topics = crate::cmd::topic::all_topic_stats(ctx.shared);
    let partitions: usize = topics.iter().map(|(_, p)| p.len()).sum();
    let bytes: u64 = topics.iter().flat_map(|(_, p)| p).map(|s| s.bytes).sum();
    o.push_str("# Topics\r\n");
    field!(o, "topics:{}", topics.len());
    field!(o, "partitions:{partitions}");
    field!(o, "topics_bytes:{bytes}");
    if detail {
        for (name, parts) in &topics {
            for (p, s) in parts.iter().enumerate() {
                field!(
                    o,
                    "topic_{name}_{p}:leo={},hw={},log_start_offset={},bytes={},segments={}",
                    s.leo,
                    s.hw,
                    s.log_start_offset,
                    s.bytes,
                    s.segments
                );
            }
        }
    }
}

fn info_section(ctx: &mut Ctx, name: &str, o: &mut String) {
    let shared = ctx.shared;
    let config = ctx.config.clone();
    let stats = &shared.stats;
    let now_us = crate::util::now_us();
    match name {
        "server" => {
            let uptime = shared.started.elapsed().as_secs();
            let port = shared
                .listen_addrs
                .lock()
                .first()
                .map(|a| a.port())
                .unwrap_or(config.port);
            let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            o.push_str("# Server\r\n");
            field!(o, "redis_version:{REDIS_VERSION}");
            field!(o, "redis_git_sha1:00000000");
            field!(o, "redis_git_dirty:0");
            field!(o, "redis_build_id:{}", &shared.run_id[..15]);
            field!(o, "redis_mode:standalone");
            field!(o, "os:Linux {} {}", release, std::env::consts::ARCH);
            field!(o, "arch_bits:{}", usize::BITS);
            field!(o, "monotonic_clock:POSIX clock_gettime");
            field!(o, "multiplexing_api:epoll");
            field!(o, "atomicvar_api:c11-builtin");
            field!(o, "gcc_version:0.0.0");
            field!(o, "process_id:{}", std::process::id());
            field!(o, "process_supervised:no");
            field!(o, "run_id:{}", shared.run_id);
            field!(o, "tcp_port:{port}");
            field!(o, "server_time_usec:{now_us}");
            field!(o, "uptime_in_seconds:{uptime}");
            field!(o, "uptime_in_days:{}", uptime / 86400);
            field!(o, "hz:{}", config.hz);
            field!(o, "configured_hz:{}", config.hz);
            field!(o, "lru_clock:{}", (now_us / 1_000_000) & ((1 << 24) - 1));
            field!(o, "executable:{}", shared.executable);
            field!(o, "config_file:{}", shared.config_file);
            field!(o, "io_threads_active:0");
        }
        "clients" => {
            o.push_str("# Clients\r\n");
            field!(
                o,
                "connected_clients:{}",
                stats.connected_clients.load(Ordering::Relaxed)
            );
            field!(o, "cluster_connections:0");
            field!(o, "maxclients:{}", config.maxclients);
            field!(
                o,
                "client_recent_max_input_buffer:{}",
                stats.client_recent_max_input_buffer.load(Ordering::Relaxed)
            );
            field!(o, "client_recent_max_output_buffer:0");
            field!(
                o,
                "blocked_clients:{}",
                shared.blocked_clients.load(Ordering::Relaxed)
            );
            field!(o, "tracking_clients:0");
            field!(
                o,
                "clients_in_timeout_table:{}",
                ctx.state.blocking.timed_len()
            );
        }
        "memory" => {
            let used = crate::alloc::used_memory() as u64;
            let peak = (stats
                .used_memory_peak
                .fetch_max(used as usize, Ordering::Relaxed) as u64)
                .max(used);
            let rss = crate::alloc::rss_bytes() as u64;
            let startup = stats.used_memory_startup.load(Ordering::Relaxed) as u64;
            let overhead = startup.min(used);
            let dataset = used - overhead;
            let sysmem = total_system_memory();
            let pct = |a: u64, b: u64| {
                if b == 0 {
                    0.0
                } else {
                    a as f64 * 100.0 / b as f64
                }
            };
            let ratio = if used == 0 {
                0.0
            } else {
                rss as f64 / used as f64
            };
            o.push_str("# Memory\r\n");
            field!(o, "used_memory:{used}");
            field!(o, "used_memory_human:{}", bytes_to_human(used));
            field!(o, "used_memory_rss:{rss}");
            field!(o, "used_memory_rss_human:{}", bytes_to_human(rss));
            field!(o, "used_memory_peak:{peak}");
            field!(o, "used_memory_peak_human:{}", bytes_to_human(peak));
            field!(o, "used_memory_peak_perc:{:.2}%", pct(used, peak));
            field!(o, "used_memory_overhead:{overhead}");
            field!(o, "used_memory_startup:{startup}");
            field!(o, "used_memory_dataset:{dataset}");
            field!(o, "used_memory_dataset_perc:{:.2}%", pct(dataset, used));
            field!(o, "allocator_allocated:{used}");
            field!(o, "allocator_active:{used}");
            field!(o, "allocator_resident:{rss}");
            field!(o, "total_system_memory:{sysmem}");
            field!(o, "total_system_memory_human:{}", bytes_to_human(sysmem));
            // Redis's Lua VM exists from start-up (about 32 KiB); ours from first use.
            let (lua_mem, scripts_eval, cached) = match ctx.state.scripting.as_ref() {
                Some(sc) => (sc.lua.used_memory(), sc.scripts_bytes, sc.scripts.len()),
                None => (32768, 0, 0),
            };
            field!(o, "used_memory_lua:{lua_mem}");
            field!(o, "used_memory_vm_eval:{lua_mem}");
            field!(
                o,
                "used_memory_lua_human:{}",
                bytes_to_human(lua_mem as u64)
            );
            field!(o, "used_memory_scripts_eval:{scripts_eval}");
            field!(o, "number_of_cached_scripts:{cached}");
            let (functions, libraries) = crate::cmd::function::counts(ctx);
            field!(o, "number_of_functions:{functions}");
            field!(o, "number_of_libraries:{libraries}");
            field!(o, "used_memory_vm_functions:32768");
            field!(o, "used_memory_vm_total:65536");
            field!(o, "used_memory_vm_total_human:64.00K");
            field!(o, "used_memory_functions:0");
            field!(o, "used_memory_scripts:0");
            field!(o, "used_memory_scripts_human:0B");
            field!(o, "maxmemory:{}", config.maxmemory);
            field!(o, "maxmemory_human:{}", bytes_to_human(config.maxmemory));
            field!(o, "maxmemory_policy:{}", config.maxmemory_policy);
            field!(o, "allocator_frag_ratio:1.00");
            field!(o, "allocator_frag_bytes:0");
            field!(o, "allocator_rss_ratio:{ratio:.2}");
            field!(o, "allocator_rss_bytes:{}", rss as i64 - used as i64);
            field!(o, "rss_overhead_ratio:1.00");
            field!(o, "rss_overhead_bytes:0");
            field!(o, "mem_fragmentation_ratio:{ratio:.2}");
            field!(o, "mem_fragmentation_bytes:{}", rss as i64 - used as i64);
            field!(o, "mem_not_counted_for_evict:0");
            field!(o, "mem_replication_backlog:0");
            field!(o, "mem_total_replication_buffers:0");
            field!(o, "mem_clients_slaves:0");
            field!(o, "mem_clients_normal:0");
            field!(o, "mem_cluster_links:0");
            field!(o, "mem_aof_buffer:0");
            field!(o, "mem_allocator:libc");
            field!(o, "active_defrag_running:0");
            field!(o, "lazyfree_pending_objects:0");
            field!(o, "lazyfreed_objects:0");
        }
        "persistence" => crate::persist::info(shared, ctx.state, &config, o),
        "stats" => {
            let dbs = &ctx.state.store.dbs;
            let expired: u64 = dbs.iter().map(|d| d.stat_expired).sum();
            let hits: u64 = dbs.iter().map(|d| d.stat_hits).sum();
            let misses: u64 = dbs.iter().map(|d| d.stat_misses).sum();
            let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            o.push_str("# Stats\r\n");
            field!(
                o,
                "total_connections_received:{}",
                ld(&stats.total_connections_received)
            );
            field!(o, "total_commands_processed:{}", ctx.state.total_commands);
            field!(o, "instantaneous_ops_per_sec:{}", ld(&stats.ops_sec));
            field!(
                o,
                "total_net_input_bytes:{}",
                ld(&stats.total_net_input_bytes)
            );
            field!(
                o,
                "total_net_output_bytes:{}",
                ld(&stats.total_net_output_bytes)
            );
            field!(o, "total_net_repl_input_bytes:0");
            field!(o, "total_net_repl_output_bytes:0");
            field!(
                o,
                "instantaneous_input_kbps:{:.2}",
                ld(&stats.input_kbps_x100) as f64 / 100.0
            );
            field!(
                o,
                "instantaneous_output_kbps:{:.2}",
                ld(&stats.output_kbps_x100) as f64 / 100.0
            );
            field!(o, "instantaneous_input_repl_kbps:0.00");
            field!(o, "instantaneous_output_repl_kbps:0.00");
            field!(
                o,
                "rejected_connections:{}",
                ld(&stats.rejected_connections)
            );
            field!(o, "sync_full:{}", ctx.state.repl.sync_full);
            field!(o, "sync_partial_ok:{}", ctx.state.repl.sync_partial_ok);
            field!(o, "sync_partial_err:{}", ctx.state.repl.sync_partial_err);
            field!(o, "expired_keys:{expired}");
            field!(o, "expired_stale_perc:0.00");
            field!(o, "expired_time_cap_reached_count:0");
            field!(o, "expire_cycle_cpu_milliseconds:0");
            field!(o, "evicted_keys:{}", ctx.state.stat_evicted_keys);
            field!(o, "evicted_clients:0");
            field!(o, "total_eviction_exceeded_time:0");
            field!(o, "current_eviction_exceeded_time:0");
            field!(o, "keyspace_hits:{hits}");
            field!(o, "keyspace_misses:{misses}");
            field!(o, "pubsub_channels:0");
            field!(o, "pubsub_patterns:0");
            field!(o, "pubsubshard_channels:0");
            {
                use crate::persist::child::{LATEST_FORK_USEC, TOTAL_FORKS};
                use std::sync::atomic::Ordering::Relaxed;
                field!(o, "latest_fork_usec:{}", LATEST_FORK_USEC.load(Relaxed));
                field!(o, "total_forks:{}", TOTAL_FORKS.load(Relaxed));
            }
            field!(o, "migrate_cached_sockets:0");
            field!(o, "slave_expires_tracked_keys:0");
            field!(o, "active_defrag_hits:0");
            field!(o, "active_defrag_misses:0");
            field!(o, "active_defrag_key_hits:0");
            field!(o, "active_defrag_key_misses:0");
            field!(o, "total_active_defrag_time:0");
            field!(o, "current_active_defrag_time:0");
            field!(o, "tracking_total_keys:0");
            field!(o, "tracking_total_items:0");
            field!(o, "tracking_total_prefixes:0");
            field!(o, "unexpected_error_replies:0");
            field!(o, "total_error_replies:{}", ctx.state.total_error_replies);
            field!(o, "dump_payload_sanitizations:0");
            field!(
                o,
                "total_reads_processed:{}",
                ld(&stats.total_reads_processed)
            );
            field!(
                o,
                "total_writes_processed:{}",
                ld(&stats.total_writes_processed)
            );
            field!(o, "io_threaded_reads_processed:0");
            field!(o, "io_threaded_writes_processed:0");
            field!(o, "reply_buffer_shrinks:0");
            field!(o, "reply_buffer_expands:0");
        }
        "replication" => {
            o.push_str("# Replication\r\n");
            crate::replication::info(ctx.state, &config, ctx.now_ms, o);
        }
        "cpu" => {
            let (p, t) = cpu_times();
            o.push_str("# CPU\r\n");
            field!(o, "used_cpu_sys:{:.6}", p[1]);
            field!(o, "used_cpu_user:{:.6}", p[0]);
            field!(o, "used_cpu_sys_children:{:.6}", p[3]);
            field!(o, "used_cpu_user_children:{:.6}", p[2]);
            field!(o, "used_cpu_sys_main_thread:{:.6}", t[1]);
            field!(o, "used_cpu_user_main_thread:{:.6}", t[0]);
        }
        "modules" => o.push_str("# Modules\r\n"),
        "commandstats" => {
            o.push_str("# Commandstats\r\n");
            let names = &table().names;
            for (id, st) in ctx.state.cmdstats.iter().enumerate() {
                if st.calls == 0 && st.failed_calls == 0 && st.rejected_calls == 0 {
                    continue;
                }
                let per = if st.calls == 0 {
                    0.0
                } else {
                    st.usec as f64 / st.calls as f64
                };
                field!(
                    o,
                    "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
                    names[id],
                    st.calls,
                    st.usec,
                    per,
                    st.rejected_calls,
                    st.failed_calls
                );
            }
        }
        "errorstats" => {
            o.push_str("# Errorstats\r\n");
            for (code, n) in &ctx.state.errorstats {
                field!(o, "errorstat_{code}:count={n}");
            }
        }
        "latencystats" => {
            o.push_str("# Latencystats\r\n");
            if cfg_or(&config, "latency-tracking", "yes") != "yes" {
                return;
            }
            let pcts: Vec<f64> = cfg_or(&config, "latency-tracking-info-percentiles", "50 99 99.9")
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            let names = &table().names;
            for (id, h) in ctx.state.latency_hist.iter().enumerate() {
                let Some(h) = h else { continue };
                let parts: Vec<String> = pcts
                    .iter()
                    .map(|&p| format!("p{}={:.3}", p, hdr_equivalent_us(h.percentile(p))))
                    .collect();
                field!(
                    o,
                    "latency_percentiles_usec_{}:{}",
                    names[id],
                    parts.join(",")
                );
            }
        }
        "cluster" => {
            o.push_str("# Cluster\r\n");
            field!(o, "cluster_enabled:0");
        }
        "keyspace" => {
            o.push_str("# Keyspace\r\n");
            for (i, db) in ctx.state.store.dbs.iter().enumerate() {
                if db.is_empty() {
                    continue;
                }
                field!(
                    o,
                    "db{}:keys={},expires={},avg_ttl={}",
                    i,
                    db.len(),
                    db.expires.len(),
                    db.avg_ttl
                );
            }
        }
        _ => {}
    }
}

/// ```text
/// INFO [section [section ...]]
/// ```
fn info(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let text = info_text(ctx, &argv[1..]);
    Ok(Reply::Verbatim("txt", Bytes::from(text)))
}

const SLOWLOG_HELP: &[&str] = &[
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
];

const LATENCY_HELP: &[&str] = &[
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
];

const DEBUG_HELP: &[&str] = &[
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
];

const LS: u32 = LOADING | STALE;

static SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -2, ADMIN | LS, slowlog_get)
        .group("server")
        .doc(
            "2.2.12",
            "Get the slow log's entries",
            "O(N) where N is the number of entries returned",
        )
        .syntax("[count]"),
    CommandSpec::new("len", 2, ADMIN | LS, slowlog_len)
        .group("server")
        .doc("2.2.12", "Get the slow log's length", "O(1)"),
    CommandSpec::new("reset", 2, ADMIN | LS, slowlog_reset)
        .group("server")
        .doc(
            "2.2.12",
            "Clear all entries from the slow log",
            "O(N) where N is the number of entries in the slowlog",
        ),
    CommandSpec::new("help", 2, LS, slowlog_help)
        .group("server")
        .doc(
            "6.2.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
];

static LATENCY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("latest", 2, ADMIN | NOSCRIPT | LS, latency_latest)
        .group("server")
        .doc(
            "2.8.13",
            "Return the latest latency samples for all events.",
            "O(1)",
        ),
    CommandSpec::new("history", 3, ADMIN | NOSCRIPT | LS, latency_history)
        .group("server")
        .doc(
            "2.8.13",
            "Return timestamp-latency samples for the event.",
            "O(1)",
        )
        .syntax("event"),
    CommandSpec::new("reset", -2, ADMIN | NOSCRIPT | LS, latency_reset)
        .group("server")
        .doc(
            "2.8.13",
            "Reset latency data for one or more events.",
            "O(1)",
        )
        .syntax("[event [event ...]]"),
    CommandSpec::new("doctor", 2, ADMIN | NOSCRIPT | LS, latency_doctor)
        .group("server")
        .doc(
            "2.8.13",
            "Return a human readable latency analysis report.",
            "O(1)",
        ),
    CommandSpec::new("graph", 3, ADMIN | NOSCRIPT | LS, latency_graph)
        .group("server")
        .doc("2.8.13", "Return a latency graph for the event.", "O(1)")
        .syntax("event"),
    CommandSpec::new("histogram", -2, ADMIN | NOSCRIPT | LS, latency_histogram)
        .group("server")
        .doc(
            "7.0.0",
            "Return the cumulative distribution of latencies of a subset of commands or all.",
            "O(N) where N is the number of commands with latency information being retrieved.",
        )
        .syntax("[command [command ...]]"),
    CommandSpec::new("help", 2, LS, latency_help)
        .group("server")
        .doc(
            "2.8.13",
            "Show helpful text about the different subcommands.",
            "O(1)",
        ),
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("dbsize", 1, READONLY | FAST, dbsize)
        .group("server")
        .doc(
            "1.0.0",
            "Return the number of keys in the selected database",
            "O(1)",
        ),
    CommandSpec::new("flushdb", -1, WRITE, flushdb)
        .group("server")
        .doc(
            "1.0.0",
            "Remove all keys from the current database",
            "O(N) where N is the number of keys in the selected database",
        )
        .syntax("[ASYNC | SYNC]"),
    CommandSpec::new("flushall", -1, WRITE, flushall)
        .group("server")
        .doc(
            "1.0.0",
            "Remove all keys from all databases",
            "O(N) where N is the total number of keys in all databases",
        )
        .syntax("[ASYNC | SYNC]"),
    CommandSpec::new("swapdb", 3, WRITE | FAST, swapdb)
        .group("server")
        .doc(
            "4.0.0",
            "Swaps two Redis databases",
            "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        )
        .syntax("index1 index2"),
    CommandSpec::new("time", 1, LS | FAST, time)
        .group("server")
        .doc("2.6.0", "Return the current server time", "O(1)"),
    CommandSpec::new("info", -1, LS | SENTINEL, info)
        .group("server")
        .doc(
            "1.0.0",
            "Get information and statistics about the server",
            "O(1)",
        )
        .syntax("[section [section ...]]"),
    CommandSpec::new("monitor", 1, ADMIN | NOSCRIPT | LS, monitor)
        .group("server")
        .doc(
            "1.0.0",
            "Listen for all requests received by the server in real time",
            "",
        ),
    CommandSpec::new("debug", -2, ADMIN | NOSCRIPT | LS, debug)
        .group("server")
        .doc(
            "1.0.0",
            "A container for debugging commands",
            "Depends on subcommand.",
        ),
    CommandSpec::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LS | NO_MULTI | ALLOW_BUSY | SENTINEL,
        shutdown,
    )
    .group("server")
    .doc(
        "1.0.0",
        "Synchronously save the dataset to disk and then shut down the server",
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
    )
    .syntax("[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]"),
    CommandSpec::container("slowlog", SLOWLOG_SUBCOMMANDS)
        .group("server")
        .doc(
            "2.2.12",
            "A container for slow log commands",
            "Depends on subcommand.",
        ),
    CommandSpec::container("latency", LATENCY_SUBCOMMANDS)
        .group("server")
        .doc(
            "2.8.13",
            "A container for latency diagnostics commands",
            "Depends on subcommand.",
        ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::*;

    fn info(t: &mut TestDb, args: &[&str]) -> String {
        let mut argv = vec!["INFO"];
        argv.extend_from_slice(args);
        match t.run(&argv) {
            Reply::Verbatim("txt", b) => String::from_utf8(b.to_vec()).unwrap(),
            r => panic!("{r:?}"),
        }
    }

    fn headers(s: &str) -> Vec<&str> {
        s.lines().filter(|l| l.starts_with("# ")).collect()
    }

    #[test]
    fn info_sections() {
        let mut t = TestDb::new();
        assert_eq!(
            headers(&info(&mut t, &[])),
            [
                "# Server",
                "# Clients",
                "# Memory",
                "# Persistence",
                "# Stats",
                "# Replication",
                "# CPU",
                "# Modules",
                "# Errorstats",
                "# Cluster",
                "# Keyspace",
                "# Topics"
            ]
        );
        let all = info(&mut t, &["all"]);
        assert!(headers(&all).contains(&"# Commandstats"));
        assert!(headers(&all).contains(&"# Latencystats"));
        assert_eq!(headers(&info(&mut t, &["everything"])), headers(&all));
        // Output order is the server's, whatever the request order; names ignore case.
        assert_eq!(
            headers(&info(&mut t, &["KEYSPACE", "server"])),
            ["# Server", "# Keyspace"]
        );
        assert_eq!(info(&mut t, &["nosuchsection"]), "");
        let c = info(&mut t, &["clients", "keyspace"]);
        assert!(c.starts_with("# Clients\r\nconnected_clients:"), "{c}");
        assert!(c.contains("\r\n\r\n# Keyspace\r\n"), "{c}");
        assert!(c.ends_with("\r\n"));
        let s = info(&mut t, &["server"]);
        for f in [
            "redis_version:7.0.15\r\n",
            "redis_mode:standalone\r\n",
            "arch_bits:64\r\n",
            "tcp_port:",
            "run_id:",
            "uptime_in_days:0\r\n",
            "hz:10\r\n",
            "configured_hz:10\r\n",
            "executable:",
            "config_file:",
        ] {
            assert!(s.contains(f), "{f}");
        }
        let r = info(&mut t, &["replication"]);
        assert!(r.contains("role:master\r\nconnected_slaves:0\r\n"));
        assert!(r.contains("master_repl_offset:0\r\n"));
    }

    #[test]
    fn info_stats_and_keyspace() {
        let mut t = TestDb::new();
        t.shared.state.lock().store.dbs[0].set(
            b"k",
            crate::db::Value::Str(crate::db::SBytes::from("v")),
            false,
        );
        t.run(&["PING"]);
        t.run(&["NOSUCH"]);
        let ks = info(&mut t, &["keyspace"]);
        assert_eq!(ks, "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");
        let cs = info(&mut t, &["commandstats"]);
        assert!(cs.contains("cmdstat_ping:calls=1,usec="), "{cs}");
        assert!(cs.contains(",rejected_calls=0,failed_calls=0\r\n"));
        t.run(&["CLIENT", "PAUSE", "x"]);
        let cs = info(&mut t, &["commandstats"]);
        assert!(cs.contains("cmdstat_client|pause:calls=1,"), "{cs}");
        assert!(cs.contains("failed_calls=1"), "{cs}");
        let ls = info(&mut t, &["latencystats"]);
        assert!(ls.contains("latency_percentiles_usec_ping:p50="), "{ls}");
        assert!(ls.contains(",p99=") && ls.contains(",p99.9="));
    }

    #[test]
    fn errorstats_count_codes() {
        let mut st = crate::shared::State::new(&crate::config::Config::default());
        st.record_error(b"ERR unknown command 'x'");
        st.record_error(b"WRONGTYPE Operation against a key");
        st.record_error(b"boom");
        assert_eq!(st.errorstats.get("ERR"), Some(&2));
        assert_eq!(st.errorstats.get("WRONGTYPE"), Some(&1));
        assert_eq!(st.total_error_replies, 3);
    }

    #[test]
    fn slowlog_records_and_redacts() {
        let c = crate::config::Config::from_args(&[
            "--slowlog-log-slower-than".into(),
            "0".into(),
            "--slowlog-max-len".into(),
            "3".into(),
        ])
        .unwrap();
        let mut t = TestDb::with_config(c);
        t.resp(&["SLOWLOG", "RESET"]);
        t.resp(&["AUTH", "default", "pw"]);
        t.resp(&["CLIENT", "SETNAME", "nm"]);
        let long = "x".repeat(200);
        t.resp(&["ECHO", &long]);
        let Reply::Array(entries) = t.run(&["SLOWLOG", "GET", "-1"]) else {
            panic!()
        };
        // The SLOWLOG GET above is not in its own reply; max-len 3 keeps the newest three.
        assert_eq!(entries.len(), 3);
        let Reply::Array(e) = &entries[0] else {
            panic!()
        };
        assert_eq!(e.len(), 6);
        assert_eq!(
            e[3],
            Reply::Array(vec![
                bulk("ECHO"),
                bulk(&format!("{}... (72 more bytes)", &long[..128]))
            ])
        );
        assert_eq!(e[4], bulk("127.0.0.1:1"));
        assert_eq!(e[5], bulk("nm"));
        let Reply::Array(auth) = &entries[2] else {
            panic!()
        };
        assert_eq!(auth[3], arr(&["AUTH", "(redacted)", "(redacted)"]));
        assert_eq!(t.resp(&["SLOWLOG", "LEN"]), ":3\r\n");
        assert_eq!(t.resp(&["SLOWLOG", "RESET"]), "+OK\r\n");
        assert_eq!(t.resp(&["SLOWLOG", "LEN"]), ":1\r\n");
        assert_eq!(
            t.resp(&["SLOWLOG", "GET", "-2"]),
            "-ERR count should be greater than or equal to -1\r\n"
        );
    }

    #[test]
    fn slowlog_many_arguments() {
        let c = crate::config::Config::from_args(&["--slowlog-log-slower-than".into(), "0".into()])
            .unwrap();
        let mut t = TestDb::with_config(c);
        let mut argv = vec!["PING".to_string()];
        argv.extend((0..40).map(|i| i.to_string()));
        let argv: Vec<&str> = argv.iter().map(|s| s.as_str()).collect();
        t.run(&argv);
        let Reply::Array(entries) = t.run(&["SLOWLOG", "GET", "1"]) else {
            panic!()
        };
        let Reply::Array(e) = &entries[0] else {
            panic!()
        };
        let Reply::Array(args) = &e[3] else { panic!() };
        assert_eq!(args.len(), 32);
        assert_eq!(args[31], bulk("... (10 more arguments)"));
    }

    #[test]
    fn latency_events_and_replies() {
        let mut t = TestDb::new();
        {
            let mut st = t.shared.state.lock();
            st.latency_add("command", 1000, 20);
            st.latency_add("command", 1000, 30);
            st.latency_add("command", 1001, 10);
        }
        assert_eq!(
            t.run(&["LATENCY", "LATEST"]),
            Reply::Array(vec![Reply::Array(vec![
                bulk("command"),
                int(1001),
                int(10),
                int(30)
            ])])
        );
        assert_eq!(
            t.run(&["LATENCY", "HISTORY", "command"]),
            Reply::Array(vec![
                Reply::Array(vec![int(1000), int(30)]),
                Reply::Array(vec![int(1001), int(10)])
            ])
        );
        assert_eq!(
            t.resp(&["LATENCY", "GRAPH", "nope"]),
            "-ERR No samples available for event 'nope'\r\n"
        );
        assert_eq!(t.resp(&["LATENCY", "RESET", "command", "x"]), ":1\r\n");
        assert_eq!(t.resp(&["LATENCY", "LATEST"]), "*0\r\n");
        assert!(t
            .resp(&["LATENCY", "DOCTOR"])
            .contains("I'm sorry, Dave, I can't do that. Latency monitoring is disabled"));
    }

    #[test]
    fn latency_histogram_reply() {
        let mut t = TestDb::new();
        t.run(&["PING"]);
        t.run(&["PING"]);
        match t.run(&["LATENCY", "HISTOGRAM", "ping", "nosuch"]) {
            Reply::Map(m) => {
                assert_eq!(m.len(), 1);
                assert_eq!(m[0].0, bulk("ping"));
                let Reply::Map(f) = &m[0].1 else { panic!() };
                assert_eq!(f[0], (bulk("calls"), int(2)));
            }
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn histogram_math() {
        let mut h = LatencyHistogram::default();
        for us in [1, 5, 5, 5, 40, 1000] {
            h.record(us);
        }
        assert_eq!(h.percentile(50.0), 5);
        assert_eq!(h.percentile(100.0), 1007);
        assert_eq!(h.count_le(5), 4);
        assert_eq!(h.count_le(1), 1);
        // Redis prints 5µs as 5.023 (HdrHistogram's highest equivalent value).
        assert_eq!(format!("{:.3}", hdr_equivalent_us(5)), "5.023");
        assert_eq!(format!("{:.3}", hdr_equivalent_us(0)), "1.003");
    }

    #[test]
    fn debug_is_refused_by_default() {
        let mut t = TestDb::new();
        assert_eq!(
            t.resp(&["DEBUG", "SLEEP", "0"]),
            format!("-ERR {DEBUG_NOT_ALLOWED}\r\n")
        );
        let local: std::net::SocketAddr = "127.0.0.1:5".parse().unwrap();
        let remote: std::net::SocketAddr = "10.0.0.1:5".parse().unwrap();
        assert!(debug_allowed("yes", remote));
        assert!(debug_allowed("local", local));
        assert!(!debug_allowed("local", remote));
        assert!(!debug_allowed("no", local));
        assert!(!debug_allowed("", local));
    }

    #[test]
    fn flush_and_misc() {
        let mut t = TestDb::new();
        for db in 0..2 {
            t.shared.state.lock().store.dbs[db].set(
                b"k",
                crate::db::Value::Str(crate::db::SBytes::from("v")),
                false,
            );
        }
        assert_eq!(t.resp(&["FLUSHDB", "x"]), "-ERR syntax error\r\n");
        assert_eq!(t.resp(&["FLUSHDB", "ASYNC"]), "+OK\r\n");
        assert_eq!(t.resp(&["DBSIZE"]), ":0\r\n");
        assert_eq!(t.shared.state.lock().store.dbs[1].len(), 1);
        assert_eq!(
            t.resp(&["FLUSHALL", "SYNC", "ASYNC"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.resp(&["FLUSHALL"]), "+OK\r\n");
        assert_eq!(t.shared.state.lock().store.dbs[1].len(), 0);
        let Reply::Array(tm) = t.run(&["TIME"]) else {
            panic!()
        };
        let Reply::Bulk(secs) = &tm[0] else { panic!() };
        let secs: i64 = std::str::from_utf8(secs).unwrap().parse().unwrap();
        assert!((secs - t.now_ms / 1000).abs() <= 2);
        assert_eq!(
            t.resp(&["SHUTDOWN", "ABORT"]),
            "-ERR No shutdown in progress.\r\n"
        );
        assert_eq!(
            t.resp(&["SHUTDOWN", "NOSAVE", "SAVE"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(t.resp(&["SHUTDOWN", "NOSAVE"]), "");
        assert!(t.shared.shutting_down.load(Ordering::SeqCst));
        assert!(t.client.close_after_reply);
    }

    #[test]
    fn bytes_human() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(941064), "919.01K");
        assert_eq!(bytes_to_human(7024640), "6.70M");
    }
}
