//! One connection: read, decode every complete request, run the batch under one
//! keyspace lock, write the replies once (pipelining: one flush per batch).

use crate::client::ClientState;
use crate::cmd::{self, Ctx};
use crate::config::Config;
use crate::shared::Shared;
use bytes::{Bytes, BytesMut};
use rill_protocol::{encode, Reply, RequestDecoder, RequestLimits};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const READ_CHUNK: usize = 16 * 1024;

/// Serves a connection until it closes, is killed, or errs. The listener has already
/// registered the client; it is unregistered here.
pub async fn serve(shared: Arc<Shared>, mut stream: TcpStream, state: ClientState) {
    let mut client = state;
    let id = client.id;
    if let Err(e) = serve_inner(&shared, &mut stream, &mut client).await {
        tracing::debug!("client {id} closed: {e}");
    }
    if client.monitor {
        shared.monitor_count.fetch_sub(1, Ordering::Relaxed);
    }
    if !client.watched.is_empty() {
        cmd::multi::unwatch_all(&mut shared.state.lock().store, &mut client);
    }
    if let Some(ps) = client.pubsub.take() {
        shared.pubsub.remove_client(&ps);
    }
    crate::blocking::forget(shared.as_ref(), id);
    shared.unregister_client(id);
}

async fn serve_inner(
    shared: &Shared,
    stream: &mut TcpStream,
    client: &mut ClientState,
) -> std::io::Result<()> {
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut wbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut decoder = RequestDecoder::new();
    let mut batch: Vec<Vec<Bytes>> = Vec::new();
    let handle = client.handle.clone();
    // Registered once: re-creating a Notified per read costs a lock on the waiter list.
    let killed = handle.kill.notified();
    tokio::pin!(killed);
    loop {
        let config = shared.config();
        if rbuf.capacity() - rbuf.len() < 1024 {
            // Size the read for a big bulk in one go, but never past the query buffer
            // limit: a client announcing a huge bulk does not get to reserve it.
            let want = decoder
                .bulk_remaining(&rbuf)
                .unwrap_or(0)
                .min((config.client_query_buffer_limit as usize).saturating_add(1));
            rbuf.reserve(READ_CHUNK.max(want));
        }
        // Monitors and subscribers are exempt from the idle timeout, as in Redis.
        let timeout = if client.monitor || client.subscribed() {
            0
        } else {
            config.timeout
        };
        let n = tokio::select! {
            r = stream.read_buf(&mut rbuf) => r?,
            line = next_monitor_line(&mut client.monitor_rx) => {
                let Some(line) = line else { return Ok(()) };
                write_monitor_lines(shared, stream, client, line).await?;
                continue;
            }
            msg = next_pubsub(&mut client.pubsub) => {
                let Some(msg) = msg else { return Ok(()) };
                write_pubsub(shared, stream, client, msg, killed.as_mut()).await?;
                continue;
            }
            _ = &mut killed => return Ok(()),
            _ = idle_timeout(timeout) => {
                tracing::debug!("Closing idle client id={}", client.id);
                return Ok(());
            }
        };
        if n == 0 || handle.killed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let stats = &shared.stats;
        stats
            .total_net_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        stats.total_reads_processed.fetch_add(1, Ordering::Relaxed);
        stats
            .client_recent_max_input_buffer
            .fetch_max(rbuf.len(), Ordering::Relaxed);

        // requirepass cleared at runtime: the default user no longer needs a password.
        if !client.authenticated && config.requirepass.is_none() {
            client.authenticated = true;
        }
        let limits = RequestLimits {
            proto_max_bulk_len: config.proto_max_bulk_len,
            authenticated: client.authenticated,
        };
        let mut proto_err = None;
        loop {
            match decoder.decode(&mut rbuf, &limits) {
                Ok(Some(argv)) => batch.push(argv),
                Ok(None) => break,
                Err(e) => {
                    proto_err = Some(e);
                    break;
                }
            }
        }
        let pending = rbuf.len() + decoder.pending_bytes();
        if pending as u64 > config.client_query_buffer_limit {
            tracing::warn!(
                "Closing client that reached max query buffer length: id={} addr={} (qbuf initial bytes: {:?})",
                client.id,
                client.handle.addr,
                String::from_utf8_lossy(&rbuf[..rbuf.len().min(64)])
            );
            stats
                .client_query_buffer_limit_disconnections
                .fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let nbatch = batch.len();
        if !batch.is_empty() {
            *handle.last_interaction.lock() = Instant::now();
            let blocked =
                run_batch(shared, client, &mut batch, &mut wbuf, config, rbuf.len()).await;
            if blocked.is_some()
                && !run_blocked(shared, stream, client, &mut batch, &mut wbuf, &mut rbuf).await?
            {
                return Ok(());
            }
        }
        if let Some(e) = proto_err {
            let r = Reply::Error(Bytes::from(format!("ERR {e}")));
            encode(&r, client.resp, &mut wbuf);
            client.close_after_reply = true;
        }
        if !wbuf.is_empty() {
            // A pipelined batch's replies wait until the other ready connections have
            // run, as Redis writes in beforeSleep: the client then wakes once for many
            // replies instead of once per connection (the wake-ups were a sixth of the
            // server's CPU at -P 16, BENCHMARKS.md). Lone requests are not delayed.
            if nbatch > 1 {
                tokio::task::yield_now().await;
            }
            stream.write_all(&wbuf).await?;
            stats
                .total_net_output_bytes
                .fetch_add(wbuf.len() as u64, Ordering::Relaxed);
            stats.total_writes_processed.fetch_add(1, Ordering::Relaxed);
            wbuf.clear();
            if wbuf.capacity() > 1 << 20 {
                wbuf = BytesMut::with_capacity(READ_CHUNK);
            }
        }
        if client.close_after_reply {
            return Ok(());
        }
        if let Some(req) = client.psync.take() {
            return crate::replication::master::serve(shared, stream, client, req).await;
        }
        while let Some((offset, n, deadline)) = client.wait_repl.take() {
            let reply =
                crate::replication::master::wait(shared, stream, client, offset, n, deadline).await;
            encode(&reply, client.resp, &mut wbuf);
            if !batch.is_empty() {
                let blocked = run_batch(
                    shared,
                    client,
                    &mut batch,
                    &mut wbuf,
                    shared.config(),
                    rbuf.len(),
                )
                .await;
                if blocked.is_some()
                    && !run_blocked(shared, stream, client, &mut batch, &mut wbuf, &mut rbuf)
                        .await?
                {
                    return Ok(());
                }
            }
        }
        if !wbuf.is_empty() {
            stream.write_all(&wbuf).await?;
            wbuf.clear();
        }
    }
}

/// The next MONITOR line for this client; pending forever when it is not a monitor.
async fn next_monitor_line(
    rx: &mut Option<tokio::sync::broadcast::Receiver<Bytes>>,
) -> Option<Bytes> {
    use tokio::sync::broadcast::error::RecvError;
    let Some(rx) = rx else {
        return std::future::pending().await;
    };
    loop {
        match rx.recv().await {
            Ok(line) => return Some(line),
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return None,
        }
    }
}

/// Writes `first` and every feed line already queued, in one write.
async fn write_monitor_lines(
    shared: &Shared,
    stream: &mut TcpStream,
    client: &mut ClientState,
    first: Bytes,
) -> std::io::Result<()> {
    let mut out = BytesMut::from(&first[..]);
    if let Some(rx) = client.monitor_rx.as_mut() {
        while let Ok(line) = rx.try_recv() {
            out.extend_from_slice(&line);
            if out.len() > 1 << 20 {
                break;
            }
        }
    }
    stream.write_all(&out).await?;
    shared
        .stats
        .total_net_output_bytes
        .fetch_add(out.len() as u64, Ordering::Relaxed);
    Ok(())
}

/// The next pub/sub message for this client; pending forever when it never subscribed.
async fn next_pubsub(
    ps: &mut Option<Box<crate::pubsub::ClientSubs>>,
) -> Option<crate::pubsub::Msg> {
    let Some(ps) = ps else {
        return std::future::pending().await;
    };
    ps.rx.recv().await
}

/// Moves every queued pub/sub message into `out` (bounded to ~1 MB unless `all`);
/// returns the bytes counted against the output buffer limit.
fn drain_pubsub(client: &mut ClientState, out: &mut BytesMut, all: bool) -> usize {
    let resp = client.resp;
    let Some(ps) = client.pubsub.as_mut() else {
        return 0;
    };
    let mut n = 0;
    while all || out.len() < 1 << 20 {
        let Ok(m) = ps.rx.try_recv() else { break };
        n += m.size();
        m.write_to(resp, out);
    }
    n
}

/// Writes `first` and the messages queued behind it. A subscriber closed for its output
/// buffer limit is killed while this write may be stuck on a full socket, so the kill
/// notification is watched here too.
async fn write_pubsub(
    shared: &Shared,
    stream: &mut TcpStream,
    client: &mut ClientState,
    first: crate::pubsub::Msg,
    killed: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
) -> std::io::Result<()> {
    let mut out = BytesMut::new();
    let mut size = first.size();
    first.write_to(client.resp, &mut out);
    size += drain_pubsub(client, &mut out, false);
    tokio::select! {
        r = stream.write_all(&out) => r?,
        _ = killed => return Err(std::io::Error::other("killed")),
    }
    if let Some(ps) = client.pubsub.as_ref() {
        ps.sub.written(size);
    }
    shared
        .stats
        .total_net_output_bytes
        .fetch_add(out.len() as u64, Ordering::Relaxed);
    Ok(())
}

async fn idle_timeout(secs: u64) {
    if secs == 0 {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
}

/// Waits while CLIENT PAUSE applies to this batch: ALL holds every command, WRITE holds
/// batches with a command that may write or replicate (Redis's blockPostponeClient).
async fn wait_pause(shared: &Shared, client: &ClientState, batch: &[Vec<Bytes>]) {
    loop {
        let p = *shared.pause.lock();
        let now = crate::util::now_ms();
        if p.until_ms <= now || client.handle.killed.load(Ordering::Relaxed) {
            return;
        }
        if p.write_only {
            let is_write = |flags: u32| flags & (cmd::WRITE | cmd::MAY_REPLICATE) != 0;
            // An EXEC whose queue holds writes is a write, as in Redis.
            let queued_writes = client
                .multi
                .as_ref()
                .is_some_and(|m| m.commands.iter().any(|(r, _)| is_write(r.spec.flags)));
            let any_write = batch.iter().any(|argv| {
                cmd::lookup(&argv[0]).is_some_and(|r| {
                    is_write(r.spec.flags) || (queued_writes && r.spec.name == "exec")
                })
            });
            if !any_write {
                return;
            }
        }
        let wait = Duration::from_millis((p.until_ms - now) as u64);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.unpause.notified() => {}
            _ = client.handle.kill.notified() => {
                // Leave the permit for the read loop, which closes the connection.
                client.handle.kill.notify_one();
                return;
            }
        }
    }
}

/// Answers a batch while a busy script holds the keyspace (Redis's processCommand
/// under isInsideYieldingLongCommand): SCRIPT KILL and FUNCTION KILL act on the script,
/// everything else gets -BUSY. False when the batch holds a SHUTDOWN NOSAVE, which
/// kills the script and must then run normally.
fn serve_busy(
    shared: &Shared,
    client: &mut ClientState,
    batch: &mut Vec<Vec<Bytes>>,
    wbuf: &mut BytesMut,
) -> bool {
    let running = &shared.script;
    if batch.iter().any(|argv| {
        argv[0].eq_ignore_ascii_case(b"shutdown")
            && argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"nosave"))
    }) {
        running.kill.store(true, Ordering::Relaxed);
        return false;
    }
    for argv in batch.drain(..) {
        let sub = |name: &[u8]| argv.len() == 2 && argv[1].eq_ignore_ascii_case(name);
        let reply = if argv[0].eq_ignore_ascii_case(b"script") && sub(b"kill") {
            running.kill(true)
        } else if argv[0].eq_ignore_ascii_case(b"function") && sub(b"kill") {
            running.kill(false)
        } else {
            Err(running.busy_error())
        };
        let reply = match reply {
            Ok(()) => Reply::ok(),
            Err(e) => Reply::Error(Bytes::from_static(e.as_bytes())),
        };
        if !client.replies_suppressed() {
            encode(&reply, client.resp, wbuf);
        }
    }
    true
}

/// Runs the batch; returns the index of a command that blocked (see `crate::blocking`):
/// the batch then keeps that command (first) and those after it.
async fn run_batch(
    shared: &Shared,
    client: &mut ClientState,
    batch: &mut Vec<Vec<Bytes>>,
    wbuf: &mut BytesMut,
    mut config: Arc<Config>,
    qbuf: usize,
) -> Option<usize> {
    if shared.pause.lock().until_ms > 0 {
        wait_pause(shared, client, batch).await;
        config = shared.config();
    }
    let now = crate::util::now_ms();
    let mut last = 0;
    let mut blocked_at = None;
    let aof_target;
    {
        let Some(mut state) = shared.lock_unless_busy() else {
            if serve_busy(shared, client, batch, wbuf) {
                return None;
            }
            // SHUTDOWN NOSAVE killed the script: run the batch once it lets go.
            return Box::pin(run_batch(shared, client, batch, wbuf, config, qbuf)).await;
        };
        state.begin(now, &config);
        let mut ctx = Ctx {
            shared,
            state: &mut state,
            client,
            config,
            now_ms: now,
            tick: std::time::Instant::now(),
        };
        for (i, argv) in batch.iter().enumerate() {
            let reply = cmd::dispatch(&mut ctx, argv);
            if let Some(b) = &ctx.client.blocked {
                // The reply waits: the client is parked and the rest of the batch follows.
                ctx.state
                    .blocking
                    .register(&ctx.client.handle, ctx.client.db, b);
                last = i;
                blocked_at = Some(i);
                break;
            }
            // Messages this command published to its own client precede its reply.
            let n = drain_pubsub(ctx.client, wbuf, true);
            if let Some(ps) = ctx.client.pubsub.as_ref() {
                ps.sub.written(n);
            }
            if let Some(text) = error_text(&reply) {
                ctx.state.record_error(text);
            }
            if !ctx.client.replies_suppressed() {
                encode(&reply, ctx.client.resp, wbuf);
            }
            ctx.client.after_command();
            // A monitor's feed interleaves with its own replies, as in Redis's one
            // output buffer.
            if let Some(rx) = ctx.client.monitor_rx.as_mut() {
                while let Ok(line) = rx.try_recv() {
                    wbuf.extend_from_slice(&line);
                }
            }
            last = i;
            if ctx.client.close_after_reply
                || ctx.client.psync.is_some()
                || ctx.client.wait_repl.is_some()
            {
                break;
            }
        }
        if !ctx.state.blocking.is_empty() {
            crate::blocking::after_batch(ctx.shared, ctx.state, ctx.client);
        }
        let config = ctx.config.clone();
        aof_target = crate::persist::aof::batch_target(shared, &state, &config);
        if let Some(bl) = state.prop.backlog.as_mut() {
            if *shared.repl_feed.borrow() != bl.end() {
                bl.trim();
                shared.repl_feed.send_replace(bl.end());
            }
        }
    }
    if let Some((target, always)) = aof_target {
        crate::persist::aof::after_batch(shared, target, always).await;
    }
    if let Some(argv) = batch.get(last) {
        let name = cmd::resolve(argv).map_or("NULL", |r| r.full_name.as_str());
        let mut info = client.handle.info.lock();
        info.last_cmd = name;
        info.qbuf = qbuf;
    }
    match blocked_at {
        Some(i) => {
            batch.drain(..i);
            if let Some(argv) = client.blocked.as_mut().and_then(|b| b.retry_argv.take()) {
                batch[0] = argv;
            }
        }
        None if client.psync.is_some() || client.wait_repl.is_some() => {
            batch.drain(..=last);
        }
        None => batch.clear(),
    }
    blocked_at
}

/// Serves a batch whose first command blocked: waits until the command is woken (and
/// re-runs it), times out or is unblocked, then runs the rest of the batch, as Redis
/// holds a blocked client's later commands. False when the client went away.
async fn run_blocked(
    shared: &Shared,
    stream: &mut TcpStream,
    client: &mut ClientState,
    batch: &mut Vec<Vec<Bytes>>,
    wbuf: &mut BytesMut,
    rbuf: &mut BytesMut,
) -> std::io::Result<bool> {
    use crate::blocking::{Unblock, Wait};
    client.handle.info.lock().flags.push('b');
    let mut deadline = client.blocked.as_ref().and_then(|b| b.deadline_ms);
    let gone = loop {
        let Some(b) = client.blocked.take() else {
            break false;
        };
        if !wbuf.is_empty() {
            stream.write_all(wbuf).await?;
            wbuf.clear();
        }
        let outcome = crate::blocking::wait(shared, stream, rbuf, client, b.kind, deadline).await;
        let blocked = match outcome {
            Wait::Gone => break true,
            Wait::Woken => {
                run_batch(shared, client, batch, wbuf, shared.config(), rbuf.len()).await
            }
            Wait::Timeout | Wait::Unblocked(_) => {
                let argv = batch.first().map_or(&[][..], |a| &a[..]);
                let mode = crate::blocking::finish(shared, client.id, argv);
                let why = match outcome {
                    Wait::Unblocked(m) => Some(m),
                    _ => mode,
                };
                let reply = match why.and_then(Unblock::error_text) {
                    Some(text) => {
                        shared.state.lock().record_error(text.as_bytes());
                        Reply::Error(Bytes::from_static(text.as_bytes()))
                    }
                    None => b.timeout_reply,
                };
                encode(&reply, client.resp, wbuf);
                batch.remove(0);
                if batch.is_empty() {
                    None
                } else {
                    run_batch(shared, client, batch, wbuf, shared.config(), rbuf.len())
                        .await
                        .map(|i| i + 1)
                }
            }
        };
        // A later command of the batch blocking starts its own timeout.
        if blocked.is_some_and(|i| i > 0) {
            deadline = client.blocked.as_ref().and_then(|b| b.deadline_ms);
        }
    };
    let mut info = client.handle.info.lock();
    info.flags.retain(|c| c != 'b');
    Ok(!gone)
}

/// The text of an error reply (after `-`), for INFO errorstats.
fn error_text(r: &Reply) -> Option<&[u8]> {
    match r {
        Reply::Error(b) => Some(&b[..]),
        Reply::Raw(b) if b.first() == Some(&b'-') => {
            let end = b.len().saturating_sub(2).max(1);
            Some(&b[1..end])
        }
        _ => None,
    }
}
