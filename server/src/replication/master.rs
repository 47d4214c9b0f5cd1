//! The master side: a connection that sent PSYNC (or SYNC) becomes a replica here. It
//! gets +CONTINUE and the backlog from its offset, or +FULLRESYNC, an RDB written by a
//! fork()ed child (to a file, or streamed through a pipe with the `$EOF:` framing when
//! repl-diskless-sync is on and the replica sent `capa eof`), then the stream. REPLCONF
//! ACKs it sends are read on the same socket.
#![allow(unsafe_code)]

use super::{master_repl_offset, update_hold, ReplicaInfo};
use crate::client::ClientState;
use crate::persist::child;
use crate::shared::Shared;
use bytes::{Bytes, BytesMut};
use rill_protocol::{RequestDecoder, RequestLimits};
use std::io::{self, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the replica asked for.
pub struct PsyncRequest {
    pub replid: Bytes,
    /// The first byte it wants (Redis counts from 1); -1 for `? -1`.
    pub offset: i64,
    /// Old SYNC: no +FULLRESYNC line, always a full sync.
    pub sync: bool,
}

/// Serves a replica until it disconnects or is killed.
pub async fn serve(
    shared: &Shared,
    stream: &mut TcpStream,
    client: &mut ClientState,
    req: PsyncRequest,
) -> io::Result<()> {
    let id = client.id;
    client.handle.info.lock().flags.push('S');
    let r = serve_inner(shared, stream, client, req).await;
    let mut state = shared.state.lock();
    if state.repl.replicas.remove(&id).is_some() {
        tracing::info!("Connection with replica {} lost.", client.handle.addr);
    }
    update_hold(&mut state);
    r
}

async fn serve_inner(
    shared: &Shared,
    stream: &mut TcpStream,
    client: &mut ClientState,
    req: PsyncRequest,
) -> io::Result<()> {
    let id = client.id;
    let addr = client.handle.addr;
    let name = format!("{}:{}", addr.ip(), client.repl_port);
    let now = crate::util::now_ms();
    // Partial resync?
    let no_link = shared
        .state
        .lock()
        .repl
        .master
        .as_ref()
        .is_some_and(|m| m.state != super::LinkState::Connected);
    if no_link {
        stream
            .write_all(b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n")
            .await?;
        return Ok(());
    }
    let continued = {
        let mut guard = shared.state.lock();
        let state = &mut *guard;
        state.repl.replicas.insert(
            id,
            ReplicaInfo {
                ip: client
                    .repl_ip
                    .clone()
                    .unwrap_or_else(|| addr.ip().to_string()),
                port: client.repl_port,
                state: "wait_bgsave",
                ack_offset: 0,
                ack_time_ms: now,
                sent: u64::MAX,
                handle: client.handle.clone(),
            },
        );
        let repl = &state.repl;
        let pos = (req.offset - 1).max(0) as u64;
        let history = req.replid == repl.replid.as_bytes()
            || (req.replid == repl.replid2.as_bytes() && req.offset <= repl.second_repl_offset);
        let ok = !req.sync
            && req.offset >= 1
            && history
            && state
                .prop
                .backlog
                .as_ref()
                .is_some_and(|b| b.can_serve(pos));
        if ok {
            state.repl.sync_partial_ok += 1;
            if let Some(r) = state.repl.replicas.get_mut(&id) {
                r.state = "online";
                r.sent = pos;
            }
            update_hold(state);
            tracing::info!(
                "Partial resynchronization request from {name} accepted. Sending {} bytes of backlog starting from offset {}.",
                master_repl_offset(state) - pos,
                req.offset
            );
            Some((pos, state.repl.replid.clone()))
        } else {
            if !req.sync && req.replid.as_ref() != b"?" {
                state.repl.sync_partial_err += 1;
            }
            None
        }
    };
    let (mut pos, wait_ack) = match continued {
        Some((pos, replid)) => {
            stream
                .write_all(format!("+CONTINUE {replid}\r\n").as_bytes())
                .await?;
            (pos, false)
        }
        None => {
            let (pos, diskless) = full_sync(shared, stream, client, &req, &name).await?;
            if client.repl_rdb_only {
                return Ok(());
            }
            (pos, diskless)
        }
    };
    {
        let mut state = shared.state.lock();
        if let Some(r) = state.repl.replicas.get_mut(&id) {
            r.state = "online";
            r.ack_time_ms = crate::util::now_ms();
        }
    }
    tracing::info!("Synchronization with replica {name} succeeded");
    stream_to(shared, stream, client, &mut pos, wait_ack).await
}

/// Full resync: fork, +FULLRESYNC, the RDB; returns the stream position it continues at
/// and whether the RDB went diskless.
async fn full_sync(
    shared: &Shared,
    stream: &mut TcpStream,
    client: &mut ClientState,
    req: &PsyncRequest,
    name: &str,
) -> io::Result<(u64, bool)> {
    let config = shared.config();
    let diskless = config.get_bool("repl-diskless-sync") && client.repl_capa_eof;
    tracing::info!("Full resync requested by replica {name}");
    if diskless {
        let delay = config.get_i64("repl-diskless-sync-delay").max(0) as u64;
        if delay > 0 {
            tokio::time::sleep(Duration::from_secs(delay)).await;
        }
    }
    let tmp = config.dir.join(format!(
        "temp-repl-{}-{}.rdb",
        std::process::id(),
        client.id
    ));
    let mut fds = [0i32; 2];
    if diskless {
        // SAFETY: pipe() fills two fds we then own.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let (pid, pos, replid) = {
        let mut guard = shared.state.lock();
        let state = &mut *guard;
        state.repl.sync_full += 1;
        super::ensure_backlog(state, &config);
        // A new full sync starts with a SELECT (Redis's slaveseldb = -1).
        state.prop.repl_db = None;
        let pos = master_repl_offset(state);
        if let Some(r) = state.repl.replicas.get_mut(&client.id) {
            r.sent = pos;
        }
        update_hold(state);
        let now = crate::util::now_ms();
        let store = &state.store;
        let cfg = config.clone();
        let path = tmp.clone();
        let wfd = fds[1];
        let pid = child::spawn(|| {
            let r = if diskless {
                // SAFETY: the child owns the pipe's write end from here.
                let f = unsafe { std::fs::File::from_raw_fd(wfd) };
                let w = io::BufWriter::with_capacity(1 << 16, f);
                crate::persist::snapshot::write_rdb(w, store, &cfg, now, false)
                    .and_then(|mut w| w.flush())
            } else {
                crate::persist::snapshot::write_rdb_file(&path, store, &cfg, now, false).map(drop)
            };
            i32::from(r.is_err())
        });
        (pid, pos, state.repl.replid.clone())
    };
    let pid = match pid {
        Ok(p) => p,
        Err(e) => {
            if diskless {
                // SAFETY: closing the fds pipe() gave us.
                unsafe {
                    libc::close(fds[0]);
                    libc::close(fds[1]);
                }
            }
            return Err(e);
        }
    };
    tracing::info!(
        "Starting BGSAVE for SYNC with target: {}",
        if diskless { "replicas sockets" } else { "disk" }
    );
    if !req.sync {
        stream
            .write_all(format!("+FULLRESYNC {replid} {pos}\r\n").as_bytes())
            .await?;
    }
    set_state(shared, client.id, "send_bulk");
    let r = if diskless {
        // SAFETY: closing our copy of the write end so the reader sees EOF.
        unsafe { libc::close(fds[1]) };
        // SAFETY: the read end is ours alone.
        let rfd = unsafe { OwnedFd::from_raw_fd(fds[0]) };
        send_from_pipe(stream, rfd, pid).await
    } else {
        send_file(stream, &tmp, pid).await
    };
    let _ = std::fs::remove_file(&tmp);
    r?;
    Ok((pos, diskless))
}

fn set_state(shared: &Shared, id: u64, s: &'static str) {
    if let Some(r) = shared.state.lock().repl.replicas.get_mut(&id) {
        r.state = s;
    }
}

async fn wait_child(pid: i32) -> io::Result<()> {
    loop {
        match child::try_wait(pid) {
            None => tokio::time::sleep(Duration::from_millis(5)).await,
            Some(child::Exit::Ok) => return Ok(()),
            Some(e) => return Err(io::Error::other(format!("RDB child failed: {e:?}"))),
        }
    }
}

/// Disk-backed: waits for the child, then `$<len>\r\n` and the file.
async fn send_file(stream: &mut TcpStream, path: &std::path::Path, pid: i32) -> io::Result<()> {
    if let Err(e) = wait_child(pid).await {
        child::kill(pid);
        return Err(e);
    }
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    stream.write_all(format!("${len}\r\n").as_bytes()).await?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// Diskless: the child's pipe streamed as `$EOF:<mark>\r\n<rdb><mark>`.
async fn send_from_pipe(stream: &mut TcpStream, rfd: OwnedFd, pid: i32) -> io::Result<()> {
    let mark = super::random_replid();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<io::Result<Vec<u8>>>(8);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut f = std::fs::File::from(rfd);
        loop {
            let mut buf = vec![0u8; 1 << 16];
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(buf)).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    let r = async {
        stream
            .write_all(format!("$EOF:{mark}\r\n").as_bytes())
            .await?;
        while let Some(chunk) = rx.recv().await {
            stream.write_all(&chunk?).await?;
        }
        wait_child(pid).await?;
        stream.write_all(mark.as_bytes()).await
    }
    .await;
    if r.is_err() {
        child::kill(pid);
    }
    r
}

/// Sends the stream from `pos` on, reading REPLCONF ACKs, until the replica goes.
///
/// After a diskless RDB nothing is sent until the replica's first REPLCONF ACK (Redis's
/// repl_put_online_on_ack): with the `$EOF:` framing a replica finds the end of the RDB
/// by its last 40 bytes, and stream bytes in the same read would hide the mark.
async fn stream_to(
    shared: &Shared,
    stream: &mut TcpStream,
    client: &mut ClientState,
    pos: &mut u64,
    mut wait_ack: bool,
) -> io::Result<()> {
    let id = client.id;
    let mut feed = shared.repl_feed.subscribe();
    let mut rbuf = BytesMut::with_capacity(1024);
    let mut decoder = RequestDecoder::new();
    let limits = RequestLimits {
        proto_max_bulk_len: 1 << 20,
        authenticated: true,
    };
    let handle = client.handle.clone();
    let killed = handle.kill.notified();
    tokio::pin!(killed);
    let mut chunk = Vec::new();
    let mut soft_since: Option<std::time::Instant> = None;
    loop {
        if handle.killed.load(Ordering::Relaxed) {
            return Ok(());
        }
        chunk.clear();
        {
            let config = shared.config();
            let mut guard = shared.state.lock();
            let state = &mut *guard;
            let Some(bl) = state.prop.backlog.as_ref() else {
                return Ok(());
            };
            let (hard, soft, soft_secs) = super::replica_output_limit(&config);
            let pending = bl.end().saturating_sub(*pos);
            let over_soft = if soft > 0 && pending > soft {
                let t = *soft_since.get_or_insert_with(std::time::Instant::now);
                t.elapsed().as_secs() >= soft_secs
            } else {
                soft_since = None;
                false
            };
            if (hard > 0 && pending > hard) || over_soft {
                tracing::warn!(
                    "Client id={id} addr={} flags=S scheduled to be closed ASAP for overcoming of output buffer limits.",
                    handle.addr
                );
                return Ok(());
            }
            match bl.read_from(*pos, 1 << 20) {
                Some(b) if !wait_ack => chunk.extend_from_slice(b),
                Some(_) => {}
                None => return Ok(()),
            }
            *pos += chunk.len() as u64;
            if !chunk.is_empty() {
                if let Some(r) = state.repl.replicas.get_mut(&id) {
                    r.sent = *pos;
                }
                update_hold(state);
            }
        }
        if !chunk.is_empty() {
            tokio::select! {
                r = stream.write_all(&chunk) => r?,
                _ = &mut killed => return Ok(()),
            }
            shared
                .stats
                .total_net_output_bytes
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            continue;
        }
        tokio::select! {
            _ = feed.changed() => {}
            r = stream.read_buf(&mut rbuf) => {
                if r? == 0 {
                    return Ok(());
                }
                while let Ok(Some(argv)) = decoder.decode(&mut rbuf, &limits) {
                    if argv.len() >= 2
                        && argv[0].eq_ignore_ascii_case(b"replconf")
                        && argv[1].eq_ignore_ascii_case(b"ack")
                    {
                        wait_ack = false;
                    }
                    on_replica_command(shared, id, &argv);
                }
            }
            _ = &mut killed => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                // A replica that stopped acknowledging is dropped after repl-timeout.
                let timeout = shared.config().get_i64("repl-timeout").max(1) * 1000;
                let last = shared.state.lock().repl.replicas.get(&id).map_or(0, |r| r.ack_time_ms);
                if crate::util::now_ms() - last > timeout {
                    tracing::warn!("Disconnecting timedout replica (streaming sync): {}", handle.addr);
                    return Ok(());
                }
            }
        }
    }
}

/// WAIT: until `n` replicas acknowledged `offset` or the deadline (0: none) passes.
pub async fn wait(
    shared: &Shared,
    stream: &TcpStream,
    client: &ClientState,
    offset: u64,
    n: usize,
    deadline: i64,
) -> rill_protocol::Reply {
    let mut watch_socket = true;
    loop {
        let acked_now = super::acked(&shared.state.lock(), offset);
        let now = crate::util::now_ms();
        if acked_now >= n
            || (deadline > 0 && now >= deadline)
            || client.handle.killed.load(Ordering::Relaxed)
        {
            return rill_protocol::Reply::Int(acked_now as i64);
        }
        let nap = if deadline > 0 {
            (deadline - now).clamp(1, 100)
        } else {
            100
        };
        let mut probe = [0u8; 1];
        tokio::select! {
            // A client gone while waiting ends the wait (its next commands just queue).
            r = stream.peek(&mut probe), if watch_socket => match r {
                Ok(0) | Err(_) => return rill_protocol::Reply::Int(acked_now as i64),
                Ok(_) => watch_socket = false,
            },
            _ = shared.repl_ack.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(nap as u64)) => {}
        }
    }
}

/// REPLCONF ACK <offset> from a replica.
fn on_replica_command(shared: &Shared, id: u64, argv: &[Bytes]) {
    if argv.len() >= 3
        && argv[0].eq_ignore_ascii_case(b"replconf")
        && argv[1].eq_ignore_ascii_case(b"ack")
    {
        let Some(off) = std::str::from_utf8(&argv[2])
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            return;
        };
        let mut state = shared.state.lock();
        if let Some(r) = state.repl.replicas.get_mut(&id) {
            r.ack_offset = r.ack_offset.max(off);
            r.ack_time_ms = crate::util::now_ms();
        }
        drop(state);
        shared.repl_ack.notify_waiters();
    }
}
