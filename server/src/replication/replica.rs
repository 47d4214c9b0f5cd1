//! The replica side: the link task that follows a master (Redis's replicationCron +
//! syncWithMaster + the master client). Handshake (PING, AUTH, REPLCONF listening-port,
//! REPLCONF capa eof capa psync2, PSYNC), the RDB in either framing, then the stream
//! applied through `dispatch()` with no reply, its bytes proxied verbatim into this
//! server's own backlog for chained replicas. REPLCONF ACK every second and on GETACK.

use super::{master_repl_offset, LinkState};
use crate::client::ClientState;
use crate::cmd::{self, Ctx};
use crate::shared::Shared;
use bytes::{Buf, Bytes, BytesMut};
use rill_protocol::{RequestDecoder, RequestLimits};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Starts the link task for the current `replicaof` (generation `gen`).
pub fn start(shared: Arc<Shared>, gen: u64) {
    tokio::spawn(async move { run(shared, gen).await });
}

/// REPLICAOF host port: records the master and starts a link task; the caller replies
/// +OK at once (the link connects in the background, as Redis).
pub fn set_master(shared: &Shared, host: &str, port: u16) {
    let gen = {
        let mut state = shared.state.lock();
        let was_master = state.repl.master.is_none();
        if let Some(h) = state.repl.master.as_ref().and_then(|m| m.client.clone()) {
            h.kill();
        }
        state.repl.link_gen += 1;
        state.repl.master = Some(super::MasterLink {
            host: host.to_string(),
            port,
            state: LinkState::Connect,
            down_since_ms: 0,
            last_io_ms: 0,
            read_offset: master_repl_offset(&state),
            sync_bytes: (0, 0),
            client: None,
            synced: false,
            db: 0,
        });
        if was_master {
            tracing::info!("Connecting to MASTER {host}:{port}");
        }
        disconnect_replicas(&mut state);
        state.repl.link_gen
    };
    if let Some(me) = shared.me.upgrade() {
        start(me, gen);
    }
}

/// REPLICAOF NO ONE: the history so far stays reachable as replid2 (Redis's
/// shiftReplicationId), so the other replicas continue with a partial resync.
pub fn unset_master(shared: &Shared) {
    let mut state = shared.state.lock();
    let Some(m) = state.repl.master.take() else {
        return;
    };
    if let Some(h) = m.client {
        h.kill();
    }
    state.repl.link_gen += 1;
    let off = master_repl_offset(&state);
    state.repl.shift_replid(off);
    disconnect_replicas(&mut state);
    tracing::info!("MASTER MODE enabled");
}

fn current(shared: &Shared, gen: u64) -> Option<(String, u16)> {
    let state = shared.state.lock();
    if state.repl.link_gen != gen {
        return None;
    }
    state.repl.master.as_ref().map(|m| (m.host.clone(), m.port))
}

async fn run(shared: Arc<Shared>, gen: u64) {
    // The start-up load must not land on top of a sync.
    while shared.persist.loading.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    loop {
        if shared.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        let Some((host, port)) = current(&shared, gen) else {
            return;
        };
        tracing::info!("Connecting to MASTER {host}:{port}");
        let r = link(&shared, gen, &host, port).await;
        {
            let mut state = shared.state.lock();
            if state.repl.link_gen != gen {
                return;
            }
            if let Some(m) = state.repl.master.as_mut() {
                if m.state == LinkState::Connected {
                    m.down_since_ms = crate::util::now_ms();
                }
                m.state = LinkState::Connect;
                if let Some(h) = m.client.take() {
                    shared.unregister_client(h.id);
                }
            }
        }
        shared.persist.loading.store(false, Ordering::SeqCst);
        match r {
            Ok(()) => tracing::info!("Connection with master lost."),
            Err(e) => tracing::warn!("Error condition on socket for SYNC: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn set_link(shared: &Shared, gen: u64, f: impl FnOnce(&mut super::MasterLink)) -> io::Result<()> {
    let mut state = shared.state.lock();
    if state.repl.link_gen != gen {
        return Err(io::Error::other("replicaof changed"));
    }
    match state.repl.master.as_mut() {
        Some(m) => {
            f(m);
            Ok(())
        }
        None => Err(io::Error::other("no longer a replica")),
    }
}

struct Conn {
    stream: TcpStream,
    rbuf: BytesMut,
}

impl Conn {
    async fn send(&mut self, argv: &[&[u8]]) -> io::Result<()> {
        let mut out = Vec::new();
        rill_storage::aof::encode_command(&mut out, argv);
        self.stream.write_all(&out).await
    }

    /// One reply line without CRLF; empty lines (keepalive newlines) are skipped.
    async fn line(&mut self, timeout: Duration) -> io::Result<String> {
        loop {
            if let Some(i) = self.rbuf.iter().position(|&c| c == b'\n') {
                let l = self.rbuf.split_to(i + 1);
                let s = String::from_utf8_lossy(&l).trim_end().to_string();
                if s.is_empty() {
                    continue;
                }
                return Ok(s);
            }
            self.fill(timeout).await?;
        }
    }

    async fn fill(&mut self, timeout: Duration) -> io::Result<usize> {
        self.rbuf.reserve(1 << 16);
        let n = tokio::time::timeout(timeout, self.stream.read_buf(&mut self.rbuf))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    "Timeout connecting to the MASTER...",
                )
            })??;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "Connection closed by the master",
            ));
        }
        Ok(n)
    }
}

async fn link(shared: &Arc<Shared>, gen: u64, host: &str, port: u16) -> io::Result<()> {
    let config = shared.config();
    let timeout = Duration::from_secs(config.get_i64("repl-timeout").max(1) as u64);
    let stream = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timeout"))??;
    let _ = stream.set_nodelay(true);
    set_link(shared, gen, |m| m.state = LinkState::Handshake)?;
    tracing::info!("MASTER <-> REPLICA sync started");
    let mut c = Conn {
        stream,
        rbuf: BytesMut::with_capacity(1 << 16),
    };
    c.send(&[b"PING"]).await?;
    let r = c.line(timeout).await?;
    if r.starts_with('-')
        && !r.starts_with("-NOAUTH")
        && !r.starts_with("-NOPERM")
        && !r.starts_with("-ERR operation not permitted")
    {
        return Err(io::Error::other(format!(
            "Error reply to PING from master: '{r}'"
        )));
    }
    let auth = config.get("masterauth").to_string();
    if !auth.is_empty() {
        let user = config.get("masteruser").to_string();
        if user.is_empty() {
            c.send(&[b"AUTH", auth.as_bytes()]).await?;
        } else {
            c.send(&[b"AUTH", user.as_bytes(), auth.as_bytes()]).await?;
        }
        let r = c.line(timeout).await?;
        if r.starts_with('-') {
            return Err(io::Error::other(format!("Unable to AUTH to MASTER: {r}")));
        }
    }
    let my_port = shared
        .listen_addrs
        .lock()
        .first()
        .map_or(config.port, |a| a.port());
    let announce = config.get_i64("replica-announce-port");
    let my_port = if announce > 0 {
        announce as u16
    } else {
        my_port
    };
    c.send(&[
        b"REPLCONF",
        b"listening-port",
        my_port.to_string().as_bytes(),
    ])
    .await?;
    c.line(timeout).await?;
    let ip = config.get("replica-announce-ip").to_string();
    if !ip.is_empty() {
        c.send(&[b"REPLCONF", b"ip-address", ip.as_bytes()]).await?;
        c.line(timeout).await?;
    }
    c.send(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        .await?;
    c.line(timeout).await?;
    let (psync_id, psync_off) = {
        let state = shared.state.lock();
        match state.prop.backlog.as_ref() {
            Some(b) => (state.repl.replid.clone(), (b.end() + 1).to_string()),
            None => ("?".to_string(), "-1".to_string()),
        }
    };
    c.send(&[b"PSYNC", psync_id.as_bytes(), psync_off.as_bytes()])
        .await?;
    let r = c.line(timeout).await?;
    if let Some(rest) = r.strip_prefix("+FULLRESYNC ") {
        let mut it = rest.split_whitespace();
        let replid = it.next().unwrap_or_default().to_string();
        let offset: u64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        tracing::info!("Full resync from master: {replid}:{offset}");
        full_sync(shared, gen, &mut c, &replid, offset, timeout).await?;
    } else if let Some(rest) = r.strip_prefix("+CONTINUE") {
        let new_id = rest.trim();
        tracing::info!("Successful partial resynchronization with master.");
        let mut state = shared.state.lock();
        let off = master_repl_offset(&state);
        if !new_id.is_empty() && new_id != state.repl.replid {
            state.repl.replid2 = std::mem::replace(&mut state.repl.replid, new_id.to_string());
            state.repl.second_repl_offset = off as i64 + 1;
            disconnect_replicas(&mut state);
        }
        // Bytes read but not applied before the drop are sent again.
        if let Some(m) = state.repl.master.as_mut() {
            m.read_offset = off;
        }
    } else {
        return Err(io::Error::other(format!(
            "Unexpected reply to PSYNC from master: {r}"
        )));
    }
    stream_from(shared, gen, c, timeout).await
}

fn disconnect_replicas(state: &mut crate::shared::State) {
    for r in state.repl.replicas.values() {
        r.handle.kill();
    }
}

/// Where the `$EOF:` mark starts in `payload`, searching from `from` on.
fn find_mark(payload: &[u8], from: usize, mark: &[u8]) -> Option<usize> {
    payload
        .get(from..)?
        .windows(mark.len())
        .position(|w| w == mark)
        .map(|i| from + i)
}

async fn full_sync(
    shared: &Arc<Shared>,
    gen: u64,
    c: &mut Conn,
    replid: &str,
    offset: u64,
    timeout: Duration,
) -> io::Result<()> {
    let header = c.line(timeout).await?;
    let mut payload: Vec<u8>;
    if let Some(mark) = header.strip_prefix("$EOF:") {
        let mark = mark.as_bytes().to_vec();
        // Redis's mark is CONFIG_RUN_ID_SIZE (40) bytes.
        if mark.len() != 40 {
            return Err(io::Error::other(format!(
                "Bad protocol from MASTER: {header}"
            )));
        }
        set_link(shared, gen, |m| {
            m.state = LinkState::Transfer;
            m.sync_bytes = (-1, 0);
        })?;
        payload = Vec::new();
        loop {
            // The mark may arrive split across reads, or followed by the first bytes of
            // the command stream: search the new bytes (and the mark's length before).
            let from = payload.len().saturating_sub(mark.len() - 1);
            payload.extend_from_slice(&c.rbuf);
            c.rbuf.clear();
            if let Some(end) = find_mark(&payload, from, &mark) {
                c.rbuf.extend_from_slice(&payload[end + mark.len()..]);
                payload.truncate(end);
                break;
            }
            c.fill(timeout).await?;
            let n = payload.len() as u64 + c.rbuf.len() as u64;
            set_link(shared, gen, |m| {
                m.sync_bytes.1 = n;
                m.last_io_ms = crate::util::now_ms();
            })?;
        }
    } else if let Some(len) = header.strip_prefix('$') {
        let len: usize = len
            .parse()
            .map_err(|_| io::Error::other(format!("Bad protocol from MASTER: {header}")))?;
        set_link(shared, gen, |m| {
            m.state = LinkState::Transfer;
            m.sync_bytes = (len as i64, 0);
        })?;
        payload = Vec::with_capacity(len);
        loop {
            let take = c.rbuf.len().min(len - payload.len());
            payload.extend_from_slice(&c.rbuf[..take]);
            c.rbuf.advance(take);
            if payload.len() == len {
                break;
            }
            c.fill(timeout).await?;
            let n = payload.len() as u64;
            set_link(shared, gen, |m| {
                m.sync_bytes.1 = n;
                m.last_io_ms = crate::util::now_ms();
            })?;
        }
    } else {
        return Err(io::Error::other(format!(
            "Bad protocol from MASTER, the first byte is not '$' (we received '{header}')"
        )));
    }
    tracing::info!(
        "MASTER <-> REPLICA sync: Loading DB in memory ({} bytes)",
        payload.len()
    );
    shared.persist.loading.store(true, Ordering::SeqCst);
    let config = shared.config();
    let cfg = config.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let mut slice: &[u8] = &payload;
        let mut reader = rill_storage::rdb::RdbReader::new(&mut slice, "master payload")
            .map_err(|e| e.to_string())?;
        let mut store = crate::db::Store::new(cfg.databases);
        crate::persist::snapshot::load_rdb(
            &mut reader,
            "master payload",
            &mut store,
            &cfg,
            crate::util::now_ms(),
            false,
            |_| {},
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, String>(store)
    })
    .await
    .map_err(io::Error::other)?;
    shared.persist.loading.store(false, Ordering::SeqCst);
    let store = loaded.map_err(|e| {
        io::Error::other(format!(
            "Failed trying to load the MASTER synchronization DB from socket: {e}"
        ))
    })?;
    let mut state = shared.state.lock();
    if state.repl.link_gen != gen {
        return Err(io::Error::other("replicaof changed"));
    }
    state.store = store;
    state.store.dirty += 1;
    state.repl.replid = replid.to_string();
    state.repl.replid2 = "0".repeat(40);
    state.repl.second_repl_offset = -1;
    super::ensure_backlog(&mut state, &config);
    if let Some(b) = state.prop.backlog.as_mut() {
        b.reset(offset);
    }
    state.prop.repl_db = None;
    disconnect_replicas(&mut state);
    if let Some(m) = state.repl.master.as_mut() {
        m.synced = true;
        m.read_offset = offset;
        m.db = 0;
    }
    tracing::info!("MASTER <-> REPLICA sync: Finished with success");
    // The AOF restarts from the new dataset, as Redis's restartAOFAfterSYNC.
    if config.appendonly {
        let now = crate::util::now_ms();
        if let Err(e) = crate::persist::bgrewriteaof(shared, &mut state, &config, now, false) {
            tracing::warn!("Failed to restart the AOF after a full sync: {e}");
        }
    }
    Ok(())
}

async fn send_ack(stream: &mut TcpStream, offset: u64) -> io::Result<()> {
    let mut out = Vec::new();
    rill_storage::aof::encode_command(
        &mut out,
        &[
            b"REPLCONF".as_slice(),
            b"ACK",
            offset.to_string().as_bytes(),
        ],
    );
    stream.write_all(&out).await
}

/// Applies the master's stream until the link drops.
async fn stream_from(
    shared: &Arc<Shared>,
    gen: u64,
    mut c: Conn,
    timeout: Duration,
) -> io::Result<()> {
    let peer = c.stream.peer_addr()?;
    let local = c.stream.local_addr()?;
    let mut client = ClientState::new(shared, peer, local);
    client.authenticated = true;
    client.is_master = true;
    client.db = shared.state.lock().repl.master.as_ref().map_or(0, |m| m.db);
    client.handle.info.lock().flags.push('M');
    let handle = client.handle.clone();
    shared.register_client(handle.clone());
    let now = crate::util::now_ms();
    set_link(shared, gen, |m| {
        m.state = LinkState::Connected;
        m.last_io_ms = now;
        m.down_since_ms = 0;
        m.client = Some(handle.clone());
    })?;
    let killed = handle.kill.notified();
    tokio::pin!(killed);
    let mut decoder = RequestDecoder::new();
    let limits = RequestLimits {
        proto_max_bulk_len: u64::MAX,
        authenticated: true,
    };
    let mut raw: Vec<u8> = c.rbuf.to_vec();
    let mut ack = tokio::time::interval(Duration::from_secs(1));
    let offset = master_repl_offset(&shared.state.lock());
    send_ack(&mut c.stream, offset).await?;
    loop {
        if !c.rbuf.is_empty() {
            let getack = apply(
                shared,
                &mut client,
                &mut decoder,
                &limits,
                &mut c.rbuf,
                &mut raw,
            );
            if getack {
                let off = master_repl_offset(&shared.state.lock());
                send_ack(&mut c.stream, off).await?;
            }
        }
        if handle.killed.load(Ordering::Relaxed) {
            return Ok(());
        }
        c.rbuf.reserve(1 << 16);
        tokio::select! {
            r = c.stream.read_buf(&mut c.rbuf) => {
                let n = r?;
                if n == 0 {
                    return Ok(());
                }
                let len = c.rbuf.len();
                raw.extend_from_slice(&c.rbuf[len - n..]);
                shared.stats.total_net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                let _ = set_link(shared, gen, |m| {
                    m.last_io_ms = crate::util::now_ms();
                    m.read_offset += n as u64;
                });
            }
            _ = ack.tick() => {
                let off = master_repl_offset(&shared.state.lock());
                send_ack(&mut c.stream, off).await?;
                let last = shared.state.lock().repl.master.as_ref().map_or(0, |m| m.last_io_ms);
                if crate::util::now_ms() - last > timeout.as_millis() as i64 {
                    return Err(io::Error::other("MASTER timeout: no data nor PING received..."));
                }
            }
            _ = &mut killed => return Ok(()),
        }
    }
}

/// Runs every complete command in `rbuf` under one lock; true if one was GETACK.
fn apply(
    shared: &Arc<Shared>,
    client: &mut ClientState,
    decoder: &mut RequestDecoder,
    limits: &RequestLimits,
    rbuf: &mut BytesMut,
    raw: &mut Vec<u8>,
) -> bool {
    let config = shared.config();
    let now = crate::util::now_ms();
    let mut getack = false;
    let mut guard = shared.state.lock();
    let state = &mut *guard;
    state.begin(now, &config);
    // The stream goes to chained replicas verbatim, not as this server's effects.
    let mut backlog = state.prop.backlog.take();
    // For the master's own commands no key is expired (Redis's expireIfNeeded with
    // current_client == master): its DEL must find the key it deletes.
    for db in &mut state.store.dbs {
        db.loading = true;
    }
    let mut consumed = 0usize;
    let mut done = 0usize;
    {
        let mut ctx = Ctx {
            shared,
            state,
            client,
            config,
            now_ms: now,
            tick: std::time::Instant::now(),
        };
        loop {
            let before = rbuf.len();
            let r = decoder.decode(rbuf, limits);
            consumed += before - rbuf.len();
            match r {
                Ok(Some(argv)) => {
                    done = consumed;
                    if argv.is_empty() {
                        continue;
                    }
                    if argv.len() >= 2
                        && argv[0].eq_ignore_ascii_case(b"replconf")
                        && argv[1].eq_ignore_ascii_case(b"getack")
                    {
                        getack = true;
                    } else {
                        let _ = cmd::dispatch(&mut ctx, &argv);
                        ctx.client.after_command();
                    }
                    if let Some(b) = backlog.as_mut() {
                        b.feed(&raw[..done]);
                    }
                    raw.drain(..done);
                    consumed -= done;
                    done = 0;
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("Protocol error from MASTER: {e}");
                    rbuf.clear();
                    raw.clear();
                    break;
                }
            }
        }
        let _ = done;
        if !ctx.state.blocking.is_empty() {
            crate::blocking::after_batch(ctx.shared, ctx.state, ctx.client);
        }
    }
    if let Some(b) = backlog.as_mut() {
        b.trim();
        shared.repl_feed.send_replace(b.end());
    }
    state.prop.backlog = backlog;
    if let Some(m) = state.repl.master.as_mut() {
        m.db = client.db;
    }
    // The raw stream switched databases on its own: a write of ours after a promotion
    // must start with a SELECT.
    state.prop.repl_db = None;
    for db in &mut state.store.dbs {
        db.loading = false;
    }
    let _ = Bytes::new();
    getack
}

#[cfg(test)]
mod tests {
    use super::find_mark;

    #[test]
    fn eof_mark_is_found_split_across_reads_and_before_stream_bytes() {
        let mark = b"0123456789012345678901234567890123456789";
        let mut payload = b"REDIS0010rdb-bytes".to_vec();
        // the first read ends inside the mark
        payload.extend_from_slice(&mark[..15]);
        assert_eq!(find_mark(&payload, 0, mark), None);
        // the second completes it and carries the first command of the stream
        let from = payload.len().saturating_sub(mark.len() - 1);
        payload.extend_from_slice(&mark[15..]);
        payload.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(find_mark(&payload, from, mark), Some(18));
        assert_eq!(find_mark(b"short", 3, mark), None);
        assert_eq!(find_mark(b"short", 9, mark), None);
    }
}
