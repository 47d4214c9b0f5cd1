//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis 7.0's multi.c).
//!
//! - While a client is in MULTI, `dispatch()` checks each command (existence, arity,
//!   NOAUTH, no_multi, OOM) and [`queue`]s it, or rejects it and [`flag_transaction`]s,
//!   so EXEC replies EXECABORT.
//! - EXEC runs the queue through `call()` (commandstats, slowlog, MONITOR see each
//!   command, then EXEC itself). The whole batch of a connection runs under one keyspace
//!   lock, so nothing interleaves with an EXEC whatever the runtime's threading.
//! - WATCH registers a [`crate::db::Watcher`] per (db, key) in `Db::watched`; any change
//!   to the key (write, DEL, expiry, eviction, FLUSHDB/FLUSHALL/SWAPDB) sets the client's
//!   shared dirty flag (`ClientHandle::watch_dirty`, CLIENT LIST flag `d`), and EXEC
//!   replies a null array. EXEC, DISCARD, UNWATCH, RESET and disconnection unwatch.

use super::*;
use crate::client::MultiState;
use crate::db::Store;
use std::sync::atomic::Ordering;

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// Commands that run at once inside MULTI instead of being queued (processCommand's list).
pub fn runs_inside_multi(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Commands never refused for OOM inside MULTI (processCommand's reject_cmd_on_oom).
pub fn exempt_from_multi_oom(spec: &CommandSpec) -> bool {
    matches!(spec.name, "exec" | "discard" | "quit" | "reset")
}

/// Marks the transaction as failed (Redis's flagTransaction): EXEC will reply EXECABORT.
pub fn flag_transaction(client: &mut ClientState) {
    if let Some(m) = client.multi.as_mut() {
        m.dirty_exec = true;
    }
}

/// EXEC itself rejected (arity, NOAUTH, ...): the transaction is discarded and the
/// reason given (Redis's execCommandAbort), in or out of MULTI.
pub fn exec_abort(ctx: &mut Ctx, e: &CmdError) -> Reply {
    discard_transaction(ctx);
    let why = match e {
        CmdError::Err(s) => s.clone(),
        other => other.to_string(),
    };
    Reply::Error(Bytes::from(format!(
        "EXECABORT Transaction discarded because of: {why}"
    )))
}

/// Queues a checked command (Redis's queueMultiCommand).
pub fn queue(ctx: &mut Ctx, reg: &'static Registered, argv: &[Bytes]) -> Reply {
    if let Some(m) = ctx.client.multi.as_mut() {
        // Once the transaction is doomed, Redis stops storing commands.
        if !m.dirty_exec && !ctx.client.handle.watch_dirty.load(Ordering::Relaxed) {
            m.commands.push((reg, argv.to_vec()));
        }
    }
    ctx.client.sync_multi();
    Reply::simple("QUEUED")
}

/// Drops every watch of `client` (Redis's unwatchAllKeys) and clears its dirty flag.
pub fn unwatch_all(store: &mut Store, client: &mut ClientState) {
    for (db, key) in client.watched.drain(..) {
        if let Some(d) = store.dbs.get_mut(db) {
            d.unwatch(&key, client.id);
        }
    }
    client.handle.watch_dirty.store(false, Ordering::Relaxed);
}

/// Leaves MULTI and unwatches (Redis's discardTransaction).
pub fn discard_transaction(ctx: &mut Ctx) {
    ctx.client.multi = None;
    ctx.client.sync_multi();
    unwatch_all(&mut ctx.state.store, ctx.client);
}

/// True if a key this client watches has logically expired since WATCH.
fn watched_key_expired(ctx: &Ctx) -> bool {
    ctx.client.watched.iter().any(|(db, key)| {
        ctx.state
            .store
            .dbs
            .get(*db)
            .is_some_and(|d| d.watched_key_expired(key, ctx.client.id))
    })
}

/// ```text
/// MULTI
/// ```
fn multi(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(MultiState::default());
    ctx.client.sync_multi();
    Ok(Reply::ok())
}

/// ```text
/// EXEC
/// ```
fn exec(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    let Some(m) = ctx.client.multi.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    let dirty_cas =
        ctx.client.handle.watch_dirty.load(Ordering::Relaxed) || watched_key_expired(ctx);
    discard_transaction(ctx);
    if m.dirty_exec {
        return Err(CmdError::Raw(EXECABORT.into()));
    }
    if dirty_cas {
        return Ok(Reply::NullArray);
    }
    // EXEC's own duration (commandstats, latency) spans the commands it runs.
    let start = ctx.tick;
    ctx.client.in_exec = true;
    let mut replies = Vec::with_capacity(m.commands.len());
    for (reg, argv) in &m.commands {
        let r = call(ctx, reg, argv);
        if let Reply::Error(text) = &r {
            ctx.state.record_error(text);
        }
        replies.push(r);
        if ctx.client.close_after_reply {
            break;
        }
    }
    ctx.client.in_exec = false;
    ctx.tick = start;
    // The queued commands propagated themselves; call() wraps them in MULTI/EXEC.
    ctx.propagate_none();
    Ok(Reply::Array(replies))
}

/// ```text
/// DISCARD
/// ```
fn discard(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    if ctx.client.multi.is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    discard_transaction(ctx);
    Ok(Reply::ok())
}

/// ```text
/// WATCH key [key ...]
/// ```
fn watch(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    // No point in watching once a watched key was touched: EXEC fails anyway.
    if ctx.client.handle.watch_dirty.load(Ordering::Relaxed) {
        return Ok(Reply::ok());
    }
    let db = ctx.client.db;
    let id = ctx.client.id;
    let flag = ctx.client.handle.watch_dirty.clone();
    for key in &argv[1..] {
        if ctx.state.store.dbs[db].watch(key, id, &flag) {
            ctx.client.watched.push((db, crate::db::Key::new(key)));
        }
    }
    Ok(Reply::ok())
}

/// ```text
/// UNWATCH
/// ```
fn unwatch(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    unwatch_all(&mut ctx.state.store, ctx.client);
    Ok(Reply::ok())
}

const TX: u32 = NOSCRIPT | LOADING | STALE;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("multi", 1, TX | FAST | ALLOW_BUSY, multi)
        .group("transactions")
        .doc("1.2.0", "Mark the start of a transaction block", "O(1)"),
    CommandSpec::new("exec", 1, TX | SKIP_SLOWLOG, exec)
        .group("transactions")
        .doc(
            "1.2.0",
            "Execute all commands issued after MULTI",
            "Depends on commands in the transaction",
        ),
    CommandSpec::new("discard", 1, TX | FAST | ALLOW_BUSY, discard)
        .group("transactions")
        .doc(
            "2.0.0",
            "Discard all commands issued after MULTI",
            "O(N), when N is the number of queued commands",
        ),
    CommandSpec::new("watch", -2, TX | FAST | ALLOW_BUSY, watch)
        .keys(1, -1, 1)
        .group("transactions")
        .doc(
            "2.2.0",
            "Watch the given keys to determine execution of the MULTI/EXEC block",
            "O(1) for every key.",
        )
        .syntax("key [key ...]"),
    CommandSpec::new("unwatch", 1, TX | FAST | ALLOW_BUSY, unwatch)
        .group("transactions")
        .doc("2.2.0", "Forget about all watched keys", "O(1)"),
];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use rill_protocol::Reply;

    fn q() -> Reply {
        Reply::simple("QUEUED")
    }

    #[test]
    fn queue_and_exec() {
        let mut t = TestDb::new();
        assert_eq!(t.run(&["MULTI"]), Reply::ok());
        assert_eq!(t.run(&["SET", "a", "1"]), q());
        assert_eq!(t.run(&["INCR", "a"]), q());
        assert_eq!(t.run(&["LPUSH", "a", "x"]), q());
        assert_eq!(
            t.resp(&["EXEC"]),
            "*3\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(t.run(&["GET", "a"]), bulk("2"));
        assert!(t.client.multi.is_none());
    }

    #[test]
    fn queue_errors_abort() {
        let mut t = TestDb::new();
        t.run(&["MULTI"]);
        assert_eq!(
            t.run(&["GET"]),
            err("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(t.run(&["SET", "a", "1"]), q());
        assert_eq!(
            t.run(&["EXEC"]),
            err("EXECABORT Transaction discarded because of previous errors.")
        );
        assert_eq!(t.run(&["GET", "a"]), Reply::Null);
        assert_eq!(t.run(&["EXEC"]), err("ERR EXEC without MULTI"));
        assert_eq!(t.run(&["DISCARD"]), err("ERR DISCARD without MULTI"));
        t.run(&["MULTI"]);
        t.run(&["SET", "a", "1"]);
        assert_eq!(
            t.run(&["EXEC", "x"]),
            err("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")
        );
        assert!(t.client.multi.is_none());
        assert_eq!(t.run(&["GET", "a"]), Reply::Null);
    }

    #[test]
    fn nested_and_watch_inside() {
        let mut t = TestDb::new();
        t.run(&["MULTI"]);
        assert_eq!(t.run(&["MULTI"]), err("ERR MULTI calls can not be nested"));
        assert_eq!(
            t.run(&["WATCH", "x"]),
            err("ERR WATCH inside MULTI is not allowed")
        );
        assert_eq!(t.run(&["UNWATCH"]), q());
        // Neither error dooms the transaction.
        assert_eq!(t.resp(&["EXEC"]), "*1\r\n+OK\r\n");
    }

    #[test]
    fn watch_own_write_fails_exec_and_unwatch_clears() {
        let mut t = TestDb::new();
        t.run(&["WATCH", "k"]);
        t.run(&["SET", "k", "1"]);
        assert!(t.client.handle.list_line().contains("flags=d "));
        t.run(&["MULTI"]);
        t.run(&["SET", "k", "2"]);
        assert_eq!(t.run(&["EXEC"]), Reply::NullArray);
        assert_eq!(t.run(&["GET", "k"]), bulk("1"));
        // EXEC unwatched: the map is empty again.
        assert!(t.shared.state.lock().store.dbs[0].watched.is_empty());
        t.run(&["WATCH", "k"]);
        t.run(&["DEL", "k"]);
        t.run(&["UNWATCH"]);
        t.run(&["MULTI"]);
        assert_eq!(t.resp(&["EXEC"]), "*0\r\n");
    }

    #[test]
    fn flush_touches_only_existing_keys() {
        let mut t = TestDb::new();
        t.run(&["WATCH", "absent"]);
        t.run(&["FLUSHALL"]);
        t.run(&["MULTI"]);
        assert_eq!(t.resp(&["EXEC"]), "*0\r\n");
        t.run(&["SET", "k", "1"]);
        t.run(&["WATCH", "k"]);
        t.run(&["FLUSHDB"]);
        t.run(&["MULTI"]);
        assert_eq!(t.run(&["EXEC"]), Reply::NullArray);
        // SWAPDB with the key only in the other db.
        t.run(&["SELECT", "1"]);
        t.run(&["SET", "k", "1"]);
        t.run(&["SELECT", "0"]);
        t.run(&["WATCH", "k"]);
        t.run(&["SWAPDB", "0", "1"]);
        t.run(&["MULTI"]);
        assert_eq!(t.run(&["EXEC"]), Reply::NullArray);
    }

    #[test]
    fn expiry_since_watch_fails_exec_but_already_expired_does_not() {
        let mut t = TestDb::new();
        t.run(&["SET", "k", "v", "PX", "100"]);
        t.run(&["WATCH", "k"]);
        t.now_ms += 200;
        t.run(&["MULTI"]);
        assert_eq!(t.run(&["EXEC"]), Reply::NullArray);
        // Expired before WATCH, then lazily deleted: no change.
        t.run(&["SET", "j", "v", "PX", "100"]);
        t.now_ms += 200;
        t.run(&["WATCH", "j"]);
        assert_eq!(t.run(&["GET", "j"]), Reply::Null);
        t.run(&["MULTI"]);
        assert_eq!(t.resp(&["EXEC"]), "*0\r\n");
        // Expired before WATCH, then written: a change.
        t.run(&["SET", "j", "v", "PX", "100"]);
        t.now_ms += 200;
        t.run(&["WATCH", "j"]);
        t.run(&["SET", "j", "w"]);
        t.run(&["MULTI"]);
        assert_eq!(t.run(&["EXEC"]), Reply::NullArray);
    }

    #[test]
    fn client_list_shows_multi() {
        let mut t = TestDb::new();
        t.run(&["MULTI"]);
        t.run(&["SET", "a", "1"]);
        t.run(&["SET", "a", "2"]);
        let line = t.client.handle.list_line();
        assert!(
            line.contains("flags=x ") && line.contains(" multi=2 "),
            "{line}"
        );
        assert_eq!(t.run(&["RESET"]), Reply::simple("RESET"));
        let line = t.client.handle.list_line();
        assert!(
            line.contains("flags=N ") && line.contains(" multi=-1 "),
            "{line}"
        );
        assert_eq!(t.run(&["EXEC"]), err("ERR EXEC without MULTI"));
    }

    #[test]
    fn reset_unwatches() {
        let mut t = TestDb::new();
        t.run(&["WATCH", "a", "b"]);
        assert_eq!(t.shared.state.lock().store.dbs[0].watched.len(), 2);
        t.run(&["RESET"]);
        assert!(t.shared.state.lock().store.dbs[0].watched.is_empty());
        assert!(t.client.watched.is_empty());
    }

    #[test]
    fn two_watchers_of_one_key() {
        let mut a = TestDb::new();
        let mut b = TestDb {
            shared: a.shared.clone(),
            client: crate::client::ClientState::new(
                &a.shared,
                "127.0.0.1:2".parse().unwrap(),
                "127.0.0.1:6379".parse().unwrap(),
            ),
            now_ms: a.now_ms,
        };
        a.run(&["WATCH", "k"]);
        b.run(&["WATCH", "k"]);
        b.run(&["UNWATCH"]);
        assert_eq!(
            a.shared.state.lock().store.dbs[0].watched["k".as_bytes()].len(),
            1
        );
        b.run(&["WATCH", "k"]);
        b.run(&["MULTI"]);
        b.run(&["INCR", "k"]);
        assert_eq!(b.resp(&["EXEC"]), "*1\r\n:1\r\n");
        a.run(&["MULTI"]);
        assert_eq!(a.run(&["EXEC"]), Reply::NullArray);
        assert!(a.shared.state.lock().store.dbs[0].watched.is_empty());
    }
}
