//! The command table, `dispatch()` (Redis's processCommand) and `call()` (Redis's call()).
//!
//! One file per command family; each ends with its `COMMANDS` table and its tests.
//! Handlers are synchronous: `fn(&mut Ctx, &[Bytes]) -> Result<Reply, CmdError>`, with
//! `argv[0]` the command name as sent. They run with the keyspace lock held.

pub mod args;
pub mod command;
pub mod config;
pub mod connection;
pub mod dump;
pub mod function;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod keys;
pub mod list;
pub mod memory;
pub mod multi;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod sentinel;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod topic;
pub mod zset;

use crate::client::ClientState;
use crate::config::Config;
use crate::db::Db;
use crate::shared::{Shared, State};
use ahash::AHashMap as HashMap;
use bytes::Bytes;
use rill_protocol::Reply;
use std::sync::{Arc, OnceLock};
use thiserror::Error;

pub use args::*;

/// A command's error reply. Display is the exact text after `-`.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CmdError {
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR syntax error")]
    Syntax,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR value is not a valid float")]
    NotFloat,
    #[error("ERR no such key")]
    NoSuchKey,
    #[error("ERR index out of range")]
    OutOfRange,
    #[error("ERR DB index is out of range")]
    DbIndexOutOfRange,
    #[error("OOM command not allowed when used memory > 'maxmemory'.")]
    Oom,
    /// `ERR <text>`
    #[error("ERR {0}")]
    Err(String),
    /// A full error line with its own prefix (NOAUTH, WRONGPASS, ...).
    #[error("{0}")]
    Raw(String),
}

impl CmdError {
    pub fn err(s: impl Into<String>) -> CmdError {
        CmdError::Err(s.into())
    }
    pub fn wrong_args(name: &str) -> CmdError {
        CmdError::Err(format!(
            "wrong number of arguments for '{}' command",
            name.to_ascii_lowercase()
        ))
    }
}

pub type CmdResult = Result<Reply, CmdError>;
pub type Handler = fn(&mut Ctx, &[Bytes]) -> CmdResult;

// Command flags (Redis's CMD_*), as COMMAND INFO reports them.
pub const WRITE: u32 = 1 << 0;
pub const READONLY: u32 = 1 << 1;
pub const DENYOOM: u32 = 1 << 2;
pub const ADMIN: u32 = 1 << 3;
pub const PUBSUB: u32 = 1 << 4;
pub const NOSCRIPT: u32 = 1 << 5;
pub const BLOCKING: u32 = 1 << 6;
pub const LOADING: u32 = 1 << 7;
pub const STALE: u32 = 1 << 8;
pub const SKIP_MONITOR: u32 = 1 << 9;
pub const SKIP_SLOWLOG: u32 = 1 << 10;
pub const ASKING: u32 = 1 << 11;
pub const FAST: u32 = 1 << 12;
pub const NO_AUTH: u32 = 1 << 13;
pub const MAY_REPLICATE: u32 = 1 << 14;
pub const SENTINEL: u32 = 1 << 15;
pub const NO_MANDATORY_KEYS: u32 = 1 << 16;
pub const NO_MULTI: u32 = 1 << 17;
pub const MOVABLEKEYS: u32 = 1 << 18;
pub const ALLOW_BUSY: u32 = 1 << 19;
pub const NO_ASYNC_LOADING: u32 = 1 << 20;

pub const FLAG_NAMES: &[(u32, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (ASKING, "asking"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (MAY_REPLICATE, "may_replicate"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (NO_ASYNC_LOADING, "no_async_loading"),
    (NO_MULTI, "no_multi"),
    (MOVABLEKEYS, "movablekeys"),
    (ALLOW_BUSY, "allow_busy"),
];

/// One entry of the command table.
#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lowercase name (for subcommands, just the subcommand: "get" under "config").
    pub name: &'static str,
    /// Redis arity: positive = exact argc, negative = at least -arity.
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub handler: Handler,
    /// COMMAND DOCS group: "string", "generic", "server", ...
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// Argument syntax as in the Redis docs, e.g. `key value [NX | XX]`; COMMAND DOCS
    /// derives its argument tree from it.
    pub syntax: &'static str,
    pub subcommands: &'static [CommandSpec],
}

fn no_handler(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    Err(CmdError::err(format!(
        "unknown subcommand '{}'",
        String::from_utf8_lossy(&argv[1])
    )))
}

impl CommandSpec {
    /// A command with no keys; chain `.keys()`, `.doc()` etc.
    pub const fn new(name: &'static str, arity: i32, flags: u32, handler: Handler) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            step: 0,
            handler,
            group: "generic",
            since: "1.0.0",
            summary: "",
            complexity: "",
            syntax: "",
            subcommands: &[],
        }
    }
    /// A container command (CONFIG, CLIENT, ...) dispatching on argv[1].
    pub const fn container(name: &'static str, subcommands: &'static [CommandSpec]) -> CommandSpec {
        let mut c = CommandSpec::new(name, -2, 0, no_handler);
        c.subcommands = subcommands;
        c
    }
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.first_key = first;
        self.last_key = last;
        self.step = step;
        self
    }
    pub const fn group(mut self, g: &'static str) -> Self {
        self.group = g;
        self
    }
    pub const fn doc(
        mut self,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Self {
        self.since = since;
        self.summary = summary;
        self.complexity = complexity;
        self
    }
    pub const fn syntax(mut self, s: &'static str) -> Self {
        self.syntax = s;
        self
    }
    pub fn is_write(&self) -> bool {
        self.flags & WRITE != 0
    }
}

/// Every family's table.
pub fn families() -> Vec<&'static [CommandSpec]> {
    vec![
        connection::COMMANDS,
        server::COMMANDS,
        memory::COMMANDS,
        config::COMMANDS,
        command::COMMANDS,
        keys::COMMANDS,
        dump::COMMANDS,
        string::COMMANDS,
        hyperloglog::COMMANDS,
        list::COMMANDS,
        set::COMMANDS,
        hash::COMMANDS,
        zset::COMMANDS,
        geo::COMMANDS,
        sort::COMMANDS,
        multi::COMMANDS,
        stream::COMMANDS,
        pubsub::COMMANDS,
        persistence::COMMANDS,
        topic::COMMANDS,
        replication::COMMANDS,
        scripting::COMMANDS,
        function::COMMANDS,
    ]
}

/// A command (or subcommand) in the lookup table, with its commandstats slot.
pub struct Registered {
    pub id: usize,
    /// "get", or "config|get" for subcommands.
    pub full_name: String,
    pub spec: &'static CommandSpec,
    pub subs: HashMap<String, Registered>,
}

pub struct Table {
    pub commands: HashMap<String, Registered>,
    /// Full names by id, for commandstats.
    pub names: Vec<String>,
}

static TABLE: OnceLock<Table> = OnceLock::new();

/// The command table, built once.
pub fn table() -> &'static Table {
    TABLE.get_or_init(|| {
        let mut names = Vec::new();
        let mut commands = HashMap::new();
        // Sentinel mode serves only sentinel's command set, with its own INFO/ROLE/PUBLISH.
        let mut fams = families();
        if crate::sentinel::mode() {
            fams.push(sentinel::COMMANDS);
        }
        for fam in fams {
            for spec in fam.iter() {
                if crate::sentinel::mode()
                    && !crate::sentinel::SERVED.contains(&spec.name)
                    && !std::ptr::eq(fam, sentinel::COMMANDS)
                {
                    continue;
                }
                let id = names.len();
                names.push(spec.name.to_string());
                let mut subs = HashMap::new();
                for sub in spec.subcommands {
                    let full = format!("{}|{}", spec.name, sub.name);
                    let sid = names.len();
                    names.push(full.clone());
                    subs.insert(
                        sub.name.to_string(),
                        Registered {
                            id: sid,
                            full_name: full,
                            spec: sub,
                            subs: HashMap::new(),
                        },
                    );
                }
                commands.insert(
                    spec.name.to_string(),
                    Registered {
                        id,
                        full_name: spec.name.to_string(),
                        spec,
                        subs,
                    },
                );
            }
        }
        Table { commands, names }
    })
}

/// Looks up argv[0] case-insensitively without allocating for short names.
pub fn lookup(name: &[u8]) -> Option<&'static Registered> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    for (i, c) in name.iter().enumerate() {
        buf[i] = c.to_ascii_lowercase();
    }
    let s = std::str::from_utf8(&buf[..name.len()]).ok()?;
    table().commands.get(s)
}

/// Per-command statistics (INFO commandstats).
#[derive(Clone, Default, Debug)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// What a handler sees.
pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub state: &'a mut State,
    pub client: &'a mut ClientState,
    /// Config snapshot; CONFIG SET replaces it so later commands in the batch see the change.
    pub config: Arc<Config>,
    pub now_ms: i64,
    /// When the previous command of this batch finished (or the batch started): a
    /// command's duration runs from here, so each command costs one clock read.
    pub tick: std::time::Instant,
}

impl<'a> Ctx<'a> {
    /// The client's selected database.
    pub fn db(&mut self) -> &mut Db {
        &mut self.state.store.dbs[self.client.db]
    }

    /// Counts a change for `save` rules and propagation.
    pub fn dirty(&mut self, n: u64) {
        self.state.store.dirty += n;
    }

    /// Keyspace notification (Redis's notifyKeyspaceEvent, per notify-keyspace-events).
    /// Keys lazily expired so far are announced first, as Redis does at deletion time.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        if self.config.notify_keyspace_events == 0 {
            return;
        }
        self.notify_expired();
        crate::pubsub::notify_keyspace(
            &self.shared.pubsub,
            &self.config,
            class,
            event,
            self.client.db,
            key,
            self.now_ms,
        );
    }

    /// This call propagates `argv` instead of its own argv; call again to append more
    /// commands (Redis's rewriteClientCommandVector / alsoPropagate).
    pub fn propagate_as(&mut self, argv: Vec<Bytes>) {
        if self.state.prop.active() {
            self.state
                .prop
                .call_override
                .get_or_insert_with(Vec::new)
                .push(argv);
        }
    }

    /// This call propagates nothing, whatever it changed (preventCommandPropagation).
    pub fn propagate_none(&mut self) {
        if self.state.prop.active() {
            self.state.prop.call_override.get_or_insert_with(Vec::new);
        }
    }

    /// Announces (and forgets) the keys lazily expired during this command, and
    /// propagates their deletion ahead of the command's own effects.
    pub fn notify_expired(&mut self) {
        if !crate::db::expired_pending() {
            return;
        }
        for (i, db) in self.state.store.dbs.iter_mut().enumerate() {
            for key in db.take_expired() {
                self.state.prop.command(i, &[b"DEL".as_slice(), &key]);
                crate::pubsub::notify_keyspace(
                    &self.shared.pubsub,
                    &self.config,
                    NOTIFY_EXPIRED,
                    "expired",
                    i,
                    &key,
                    self.now_ms,
                );
            }
        }
    }
}

// Keyspace notification classes (Redis's NOTIFY_*).
pub const NOTIFY_GENERIC: u32 = 1 << 2;
pub const NOTIFY_STRING: u32 = 1 << 3;
pub const NOTIFY_LIST: u32 = 1 << 4;
pub const NOTIFY_SET: u32 = 1 << 5;
pub const NOTIFY_HASH: u32 = 1 << 6;
pub const NOTIFY_ZSET: u32 = 1 << 7;
pub const NOTIFY_EXPIRED: u32 = 1 << 8;
pub const NOTIFY_EVICTED: u32 = 1 << 9;
pub const NOTIFY_STREAM: u32 = 1 << 10;

fn unknown_command_error(argv: &[Bytes]) -> CmdError {
    let mut args = String::new();
    for a in argv[1..].iter() {
        let s = String::from_utf8_lossy(a);
        let s: String = s.chars().take(128).collect();
        args.push_str(&format!("'{}' ", s));
        if args.len() >= 128 {
            break;
        }
    }
    let name: String = String::from_utf8_lossy(&argv[0])
        .chars()
        .take(128)
        .collect();
    CmdError::err(format!(
        "unknown command '{}', with args beginning with: {}",
        name, args
    ))
}

/// Resolves argv to a command or subcommand, checking arity (Redis's lookupCommand +
/// the arity part of processCommand).
pub fn resolve(argv: &[Bytes]) -> Result<&'static Registered, CmdError> {
    let Some(reg) = lookup(&argv[0]) else {
        return Err(unknown_command_error(argv));
    };
    let reg = if !reg.subs.is_empty() && argv.len() >= 2 {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        match reg.subs.get(&sub) {
            Some(s) => s,
            None => {
                return Err(CmdError::err(format!(
                    "unknown subcommand '{}'. Try {} HELP.",
                    String::from_utf8_lossy(&argv[1])
                        .chars()
                        .take(128)
                        .collect::<String>(),
                    reg.spec.name.to_ascii_uppercase()
                )))
            }
        }
    } else {
        reg
    };
    let a = reg.spec.arity;
    if (a > 0 && argv.len() as i32 != a) || (argv.len() as i32) < -a {
        return Err(CmdError::wrong_args(&reg.full_name));
    }
    Ok(reg)
}

/// Runs one command: gates, then the handler, then stats (Redis's processCommand + call).
pub fn dispatch(ctx: &mut Ctx, argv: &[Bytes]) -> Reply {
    let reg = match resolve(argv) {
        Ok(r) => r,
        Err(e) => {
            ctx.state.stat_rejected_unknown += 1;
            if argv[0].eq_ignore_ascii_case(b"exec") {
                return multi::exec_abort(ctx, &e);
            }
            multi::flag_transaction(ctx.client);
            return Reply::Error(Bytes::from(e.to_string()));
        }
    };
    let spec = reg.spec;
    if let Err(e) = gates(ctx, spec).and_then(|()| pubsub::context_gate(ctx, reg)) {
        ctx.state.cmdstat(reg.id).rejected_calls += 1;
        if spec.name == "exec" {
            return multi::exec_abort(ctx, &e);
        }
        multi::flag_transaction(ctx.client);
        return Reply::Error(Bytes::from(e.to_string()));
    }
    if ctx.client.multi.is_some() && !multi::runs_inside_multi(spec) {
        return multi::queue(ctx, reg, argv);
    }
    call(ctx, reg, argv)
}

fn gates(ctx: &mut Ctx, spec: &CommandSpec) -> Result<(), CmdError> {
    if ctx.client.aof_loader || ctx.client.is_master {
        return Ok(());
    }
    if !ctx.client.authenticated && spec.flags & NO_AUTH == 0 {
        return Err(CmdError::Raw("NOAUTH Authentication required.".into()));
    }
    let in_multi = ctx.client.multi.is_some();
    if in_multi && spec.flags & NO_MULTI != 0 {
        return Err(CmdError::err("Command not allowed inside a transaction"));
    }
    // As Redis's processCommand: evict before every command, refuse only DENYOOM ones,
    // and inside MULTI anything but EXEC/DISCARD/QUIT/RESET (queueing takes memory).
    // A replica leaves eviction to its master (replica-ignore-maxmemory yes).
    if ctx.config.maxmemory > 0
        && !(ctx.state.repl.is_replica() && ctx.config.get_bool("replica-ignore-maxmemory"))
    {
        let evicted = crate::evict::perform_evictions(ctx);
        if spec.flags & DENYOOM != 0 || (in_multi && !multi::exempt_from_multi_oom(spec)) {
            evicted?;
        }
    }
    if spec.flags & WRITE != 0 || spec.name == "ping" {
        if let Some(e) = crate::persist::deny_writes(ctx.shared, ctx.state, &ctx.config) {
            return Err(e);
        }
    }
    if let Some(e) = replication::gate(ctx, spec) {
        return Err(e);
    }
    if spec.flags & LOADING == 0
        && ctx
            .shared
            .persist
            .loading
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Err(CmdError::Raw(
            "LOADING Redis is loading the dataset in memory".into(),
        ));
    }
    Ok(())
}

/// Calls the handler and records commandstats, slowlog and monitor output.
pub fn call(ctx: &mut Ctx, reg: &'static Registered, argv: &[Bytes]) -> Reply {
    let dirty_before = ctx.state.store.dirty;
    // A top-level call that emits several commands (EXEC, SPOP with a count, a lazy
    // expiry's DEL before the command) propagates them as one MULTI/EXEC, as Redis 7.0.
    let mark = (!ctx.client.in_exec && ctx.state.prop.active()).then(|| ctx.state.prop.mark());
    let res = (reg.spec.handler)(ctx, argv);
    ctx.notify_expired();
    if ctx.state.prop.active() {
        let db = ctx.client.db;
        let prop = &mut ctx.state.prop;
        match prop.call_override.take() {
            Some(cmds) => {
                for c in &cmds {
                    prop.command(db, c);
                }
            }
            None if ctx.state.store.dirty > dirty_before && ctx.client.blocked.is_none() => {
                prop.command(db, argv)
            }
            None => {}
        }
        if let Some(m) = mark {
            prop.wrap_multi(m);
        }
    }
    if ctx.client.blocked.is_some() {
        // Counted when it runs to completion (crate::blocking).
        ctx.tick = std::time::Instant::now();
        return Reply::Null;
    }
    let end = std::time::Instant::now();
    let usec = end.duration_since(ctx.tick).as_micros() as u64;
    ctx.tick = end;
    let st = ctx.state.cmdstat(reg.id);
    st.calls += 1;
    st.usec += usec;
    ctx.state.total_commands += 1;
    let reply = match res {
        Ok(r) => r,
        Err(e) => {
            ctx.state.cmdstat(reg.id).failed_calls += 1;
            Reply::Error(Bytes::from(e.to_string()))
        }
    };
    crate::cmd::server::after_call(ctx, reg, argv, usec);
    if reg.spec.flags & (SKIP_MONITOR | ADMIN) == 0 {
        ctx.shared.feed_monitors(ctx.client, argv, ctx.now_ms);
    }
    reply
}

#[cfg(test)]
pub mod testkit;

#[cfg(test)]
mod replay_tests;
