//! The parameter table: every name Redis 7.0.15's CONFIG GET/SET knows, plus Rill's own
//! (`kafka-*`), with type, default, alias and flags as in Redis's `config.c`.
//!
//! Defaults are what `CONFIG GET` reports on a redis-server 7.0.15 started without a config
//! file, except `dir` (the server's working directory, resolved at start-up; Rill never
//! `chdir`s). Parameters Rill does not act on are validated, stored and reported all the same.

/// Parameter value types, with CONFIG SET's validation rules (see [`crate::config::canonical`]).
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    /// A plain integer (Redis's `string2ll`, no units).
    Int { min: i64, max: i64 },
    /// Bytes with optional units (`1k` = 1000, `1kb` = 1024, ..., `gb`).
    Memory { min: i64, max: u64 },
    /// Memory or a percentage (`10%`, stored negative as Redis does): maxmemory-clients.
    MemoryPercent { min: i64, max: i64 },
    /// An octal number: unixsocketperm.
    Octal { min: i64, max: i64 },
    /// One of the names; names sharing a value print as the first of them.
    Enum(&'static [(&'static str, u32)]),
    /// Several names from the list, OR-ed together (shutdown-on-sigint/-sigterm).
    EnumFlags(&'static [(&'static str, u32)]),
    /// Any string.
    String,
    /// Custom validation returning the canonical value (save, bind, notify-keyspace-events...).
    Special(fn(&str) -> Result<String, String>),
}

/// CONFIG SET refuses it: "can't set immutable config".
pub const F_IMMUTABLE: u32 = 1;
/// Value hidden from logs (passwords).
pub const F_SENSITIVE: u32 = 2;
/// CONFIG SET refuses it unless enable-protected-configs allows: "can't set protected config".
pub const F_PROTECTED: u32 = 4;
/// Not matched by CONFIG GET patterns, only by its exact name.
pub const F_HIDDEN: u32 = 8;
/// Takes several words: in a config file they are all its value; CONFIG SET splits on spaces.
pub const F_MULTI_ARG: u32 = 16;
/// A memory value CONFIG REWRITE writes with units (`64mb`).
pub const F_REWRITE_MEMORY: u32 = 32;

pub struct Param {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    pub default: &'static str,
    pub flags: u32,
}

impl Param {
    const fn alias(mut self, a: &'static str) -> Param {
        self.alias = Some(a);
        self
    }
    const fn flags(mut self, f: u32) -> Param {
        self.flags |= f;
        self
    }
    /// Immutable.
    const fn imm(self) -> Param {
        self.flags(F_IMMUTABLE)
    }
}

const fn p(name: &'static str, kind: Kind, default: &'static str) -> Param {
    let flags = match kind {
        Kind::Memory { .. } | Kind::MemoryPercent { .. } => F_REWRITE_MEMORY,
        _ => 0,
    };
    Param {
        name,
        alias: None,
        kind,
        default,
        flags,
    }
}
const fn b(name: &'static str, default: &'static str) -> Param {
    p(name, Kind::Bool, default)
}
const fn int(name: &'static str, min: i64, max: i64, default: &'static str) -> Param {
    p(name, Kind::Int { min, max }, default)
}
const fn mem(name: &'static str, min: i64, max: u64, default: &'static str) -> Param {
    p(name, Kind::Memory { min, max }, default)
}
const fn s(name: &'static str, default: &'static str) -> Param {
    p(name, Kind::String, default)
}
const fn special(
    name: &'static str,
    f: fn(&str) -> Result<String, String>,
    default: &'static str,
) -> Param {
    p(name, Kind::Special(f), default)
}

const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LONG_MAX: i64 = i64::MAX;
const LLONG_MAX: i64 = i64::MAX;

const MAXMEMORY_POLICY: &[(&str, u32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const SYSLOG_FACILITY: &[(&str, u32)] = &[
    ("user", 0),
    ("local0", 1),
    ("local1", 2),
    ("local2", 3),
    ("local3", 4),
    ("local4", 5),
    ("local5", 6),
    ("local6", 7),
    ("local7", 8),
];
const LOGLEVEL: &[(&str, u32)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const SUPERVISED: &[(&str, u32)] = &[("upstart", 0), ("systemd", 1), ("auto", 2), ("no", 3)];
const APPENDFSYNC: &[(&str, u32)] = &[("everysec", 0), ("always", 1), ("no", 2)];
/// `kafka-flush`: the topic log's fsync policy, named as appendfsync's.
const KAFKA_FLUSH: &[(&str, u32)] = &[("everysec", 0), ("always", 1), ("no", 2)];
/// `log.message.timestamp.type`, Kafka's spelling.
const TIMESTAMP_TYPE: &[(&str, u32)] = &[("CreateTime", 0), ("LogAppendTime", 1)];
const REPL_DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const TLS_AUTH_CLIENTS: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
const OOM_SCORE_ADJ: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT: &[(&str, u32)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];
const ENDPOINT_TYPE: &[(&str, u32)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR: &[(&str, u32)] = &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
/// SHUTDOWN flags; 0 prints as "default".
pub const SHUTDOWN_ON_SIG: &[(&str, u32)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];

fn invalid_save() -> String {
    "Invalid save parameters".into()
}

/// `save <seconds> <changes> [...]`: seconds >= 1, changes >= 0; "" = no snapshots.
fn validate_save(v: &str) -> Result<String, String> {
    let parts: Vec<&str> = if v.is_empty() {
        vec![]
    } else {
        v.split(' ').collect()
    };
    if parts.len() % 2 != 0 {
        return Err(invalid_save());
    }
    let mut out = Vec::new();
    for (i, x) in parts.iter().enumerate() {
        let n = strtoll_full(x).ok_or_else(invalid_save)?;
        if (i % 2 == 0 && n < 1) || (i % 2 == 1 && n < 0) {
            return Err(invalid_save());
        }
        out.push(n.to_string());
    }
    Ok(out.join(" "))
}

/// C `strtoll(s, &end, 10)` with `*end == '\0'` required: leading spaces and a sign are
/// accepted, an empty string is 0, out-of-range values saturate.
pub fn strtoll_full(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() {
        // strtoll consumed nothing: end points at the start of s.
        return if s.is_empty() { Some(0) } else { None };
    }
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v: i128 = 0;
    for c in digits.bytes() {
        v = (v * 10 + (c - b'0') as i128).min(i64::MAX as i128 + 1);
    }
    let v = if neg { -v } else { v };
    Some(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// `bind addr [addr ...]`, at most 16 addresses; "" = none.
fn validate_bind(v: &str) -> Result<String, String> {
    let parts: Vec<&str> = if v.is_empty() {
        vec![]
    } else {
        v.split(' ').collect()
    };
    if parts.len() > 16 {
        return Err("Too many bind addresses specified.".into());
    }
    Ok(parts.join(" "))
}

/// `client-output-buffer-limit <class> <hard> <soft> <soft seconds> [...]`, merged into
/// the current value by the caller ([`merge_obuf_limits`]); here only validated.
pub fn parse_obuf_limits(v: &str) -> Result<Vec<(usize, u64, u64, i64)>, String> {
    let parts: Vec<&str> = if v.is_empty() {
        vec![]
    } else {
        v.split(' ').collect()
    };
    if parts.len() % 4 != 0 {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut out = Vec::new();
    for c in parts.chunks(4) {
        let class = match c[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let hard = crate::config::memtoull(c[1]);
        let soft = crate::config::memtoull(c[2]);
        let secs = strtoll_full(c[3]);
        match (hard, soft, secs) {
            (Some(h), Some(s), Some(secs)) if secs >= 0 => out.push((class, h, s, secs)),
            _ => {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                )
            }
        }
    }
    Ok(out)
}

fn validate_obuf(v: &str) -> Result<String, String> {
    merge_obuf_limits(
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        v,
    )
}

/// Applies the classes named in `v` over `current` (classes not named keep their limits).
pub fn merge_obuf_limits(current: &str, v: &str) -> Result<String, String> {
    let mut cur = parse_obuf_limits(current).unwrap_or_default();
    for (class, h, s, secs) in parse_obuf_limits(v)? {
        if let Some(e) = cur.iter_mut().find(|e| e.0 == class) {
            *e = (class, h, s, secs);
        }
    }
    Ok(cur
        .iter()
        .map(|(c, h, s, secs)| format!("{} {h} {s} {secs}", ["normal", "slave", "pubsub"][*c]))
        .collect::<Vec<_>>()
        .join(" "))
}

fn validate_oom_values(v: &str) -> Result<String, String> {
    let parts: Vec<&str> = if v.is_empty() {
        vec![]
    } else {
        v.split(' ').collect()
    };
    if parts.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut out = Vec::new();
    for x in parts {
        match strtoll_full(x) {
            Some(n) if (-2000..=2000).contains(&n) => out.push(n.to_string()),
            _ => {
                return Err(
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into(),
                )
            }
        }
    }
    Ok(out.join(" "))
}

// Keyspace notification flags (Redis's NOTIFY_*).
pub const NOTIFY_KEYSPACE: u32 = 1 << 0;
pub const NOTIFY_KEYEVENT: u32 = 1 << 1;
pub const NOTIFY_GENERIC: u32 = 1 << 2;
pub const NOTIFY_STRING: u32 = 1 << 3;
pub const NOTIFY_LIST: u32 = 1 << 4;
pub const NOTIFY_SET: u32 = 1 << 5;
pub const NOTIFY_HASH: u32 = 1 << 6;
pub const NOTIFY_ZSET: u32 = 1 << 7;
pub const NOTIFY_EXPIRED: u32 = 1 << 8;
pub const NOTIFY_EVICTED: u32 = 1 << 9;
pub const NOTIFY_STREAM: u32 = 1 << 10;
pub const NOTIFY_KEY_MISS: u32 = 1 << 11;
pub const NOTIFY_LOADED: u32 = 1 << 12;
pub const NOTIFY_MODULE: u32 = 1 << 13;
pub const NOTIFY_NEW: u32 = 1 << 14;
/// `A`: g$lshzxetd.
pub const NOTIFY_ALL: u32 = NOTIFY_GENERIC
    | NOTIFY_STRING
    | NOTIFY_LIST
    | NOTIFY_SET
    | NOTIFY_HASH
    | NOTIFY_ZSET
    | NOTIFY_EXPIRED
    | NOTIFY_EVICTED
    | NOTIFY_STREAM
    | NOTIFY_MODULE;

/// notify-keyspace-events letters to flags; None for an unknown letter.
pub fn keyspace_events_from_str(s: &str) -> Option<u32> {
    let mut f = 0;
    for c in s.chars() {
        f |= match c {
            'A' => NOTIFY_ALL,
            'g' => NOTIFY_GENERIC,
            '$' => NOTIFY_STRING,
            'l' => NOTIFY_LIST,
            's' => NOTIFY_SET,
            'h' => NOTIFY_HASH,
            'z' => NOTIFY_ZSET,
            'x' => NOTIFY_EXPIRED,
            'e' => NOTIFY_EVICTED,
            'K' => NOTIFY_KEYSPACE,
            'E' => NOTIFY_KEYEVENT,
            't' => NOTIFY_STREAM,
            'm' => NOTIFY_KEY_MISS,
            'd' => NOTIFY_MODULE,
            'n' => NOTIFY_NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// Flags back to letters, in Redis's order (`A` swallows g$lshzxetd and n).
pub fn keyspace_events_to_string(f: u32) -> String {
    let mut s = String::new();
    if f & NOTIFY_ALL == NOTIFY_ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (NOTIFY_GENERIC, 'g'),
            (NOTIFY_STRING, '$'),
            (NOTIFY_LIST, 'l'),
            (NOTIFY_SET, 's'),
            (NOTIFY_HASH, 'h'),
            (NOTIFY_ZSET, 'z'),
            (NOTIFY_EXPIRED, 'x'),
            (NOTIFY_EVICTED, 'e'),
            (NOTIFY_STREAM, 't'),
            (NOTIFY_MODULE, 'd'),
            (NOTIFY_NEW, 'n'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [
        (NOTIFY_KEYSPACE, 'K'),
        (NOTIFY_KEYEVENT, 'E'),
        (NOTIFY_KEY_MISS, 'm'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

fn validate_notify(v: &str) -> Result<String, String> {
    keyspace_events_from_str(v)
        .map(keyspace_events_to_string)
        .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())
}

/// `replicaof <host> <port>` or `no one`; stored as "host port" or "".
fn validate_replicaof(v: &str) -> Result<String, String> {
    let parts: Vec<&str> = v.split(' ').collect();
    if parts.len() != 2 {
        return Err("wrong number of arguments".into());
    }
    if parts[0].eq_ignore_ascii_case("no") && parts[1].eq_ignore_ascii_case("one") {
        return Ok(String::new());
    }
    match strtoll_full(parts[1]) {
        Some(port) if (0..=65535).contains(&port) && !parts[1].is_empty() => {
            Ok(format!("{} {}", parts[0], port))
        }
        _ => Err("Invalid master port".into()),
    }
}

fn validate_percentiles(v: &str) -> Result<String, String> {
    if v.is_empty() {
        return Ok(String::new());
    }
    let mut out = Vec::new();
    for x in v.split(' ') {
        let f: f64 = x
            .parse()
            .ok()
            .filter(|f: &f64| !f.is_nan() && !x.is_empty() && !x.starts_with([' ', '+']))
            .ok_or_else(|| "Invalid latency-tracking-info-percentiles parameters".to_string())?;
        if !(0.0..=100.0).contains(&f) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        out.push(fmt_percentile(f));
    }
    Ok(out.join(" "))
}

/// `%f` with trailing zeros (and a trailing dot) trimmed, as Redis prints percentiles.
fn fmt_percentile(f: f64) -> String {
    let s = format!("{f:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn is_basename(v: &str) -> bool {
    !v.contains('/')
}

fn validate_dbfilename(v: &str) -> Result<String, String> {
    if !is_basename(v) {
        return Err("dbfilename can't be a path, just a filename".into());
    }
    Ok(v.into())
}

fn validate_appendfilename(v: &str) -> Result<String, String> {
    if v.is_empty() {
        return Err("appendfilename can't be empty".into());
    }
    if !is_basename(v) {
        return Err("appendfilename can't be a path, just a filename".into());
    }
    Ok(v.into())
}

fn validate_appenddirname(v: &str) -> Result<String, String> {
    if v.is_empty() {
        return Err("appenddirname can't be empty".into());
    }
    if !is_basename(v) {
        return Err("appenddirname can't be a path, just a dirname".into());
    }
    Ok(v.into())
}

fn validate_hostname(v: &str) -> Result<String, String> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters".into());
    }
    if !v
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots".into());
    }
    Ok(v.into())
}

fn validate_proc_title(v: &str) -> Result<String, String> {
    const VARS: &[&str] = &[
        "{title}",
        "{listen-addr}",
        "{server-mode}",
        "{port}",
        "{tls-port}",
        "{unixsocket}",
        "{config-file}",
    ];
    let bad = || "template format is invalid or contains unknown variables".to_string();
    let mut rest = v;
    while let Some(i) = rest.find(['{', '}']) {
        if rest.as_bytes()[i] == b'}' {
            return Err(bad());
        }
        let end = rest[i..].find('}').ok_or_else(bad)? + i;
        if !VARS.contains(&&rest[i..=end]) {
            return Err(bad());
        }
        rest = &rest[end + 1..];
    }
    // Redis also refuses a template that yields an empty title.
    if v.trim().is_empty() {
        return Err(bad());
    }
    Ok(v.into())
}

fn validate_activedefrag(v: &str) -> Result<String, String> {
    match v.to_ascii_lowercase().as_str() {
        "no" => Ok("no".into()),
        "yes" => Err("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution".into()),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// `dir`: validated and made absolute by [`crate::config::Config`] (it needs the file system).
fn validate_dir(v: &str) -> Result<String, String> {
    Ok(v.into())
}

pub static PARAMS: &[Param] = &[
    // Bool configs
    b("rdbchecksum", "yes").imm(),
    b("daemonize", "no").imm(),
    b("io-threads-do-reads", "no").imm(),
    b("always-show-logo", "no").imm(),
    b("protected-mode", "yes"),
    b("rdbcompression", "yes"),
    b("rdb-del-sync-files", "no"),
    b("activerehashing", "yes"),
    b("stop-writes-on-bgsave-error", "yes"),
    b("set-proc-title", "yes").imm(),
    b("dynamic-hz", "yes"),
    b("lazyfree-lazy-eviction", "no"),
    b("lazyfree-lazy-expire", "no"),
    b("lazyfree-lazy-server-del", "no"),
    b("lazyfree-lazy-user-del", "no"),
    b("lazyfree-lazy-user-flush", "no"),
    b("repl-disable-tcp-nodelay", "no"),
    b("repl-diskless-sync", "yes"),
    b("aof-rewrite-incremental-fsync", "yes"),
    b("no-appendfsync-on-rewrite", "no"),
    b("cluster-require-full-coverage", "yes"),
    b("rdb-save-incremental-fsync", "yes"),
    b("aof-load-truncated", "yes"),
    b("aof-use-rdb-preamble", "yes"),
    b("aof-timestamp-enabled", "no"),
    b("cluster-replica-no-failover", "no").alias("cluster-slave-no-failover"),
    b("replica-lazy-flush", "no").alias("slave-lazy-flush"),
    b("replica-serve-stale-data", "yes").alias("slave-serve-stale-data"),
    b("replica-read-only", "yes").alias("slave-read-only"),
    b("replica-ignore-maxmemory", "yes").alias("slave-ignore-maxmemory"),
    b("jemalloc-bg-thread", "yes"),
    special("activedefrag", validate_activedefrag, "no"),
    b("syslog-enabled", "no").imm(),
    b("cluster-enabled", "no").imm(),
    b("appendonly", "no"),
    b("cluster-allow-reads-when-down", "no"),
    b("cluster-allow-pubsubshard-when-down", "yes"),
    b("crash-log-enabled", "yes"),
    b("crash-memcheck-enabled", "yes"),
    b("use-exit-on-panic", "no").flags(F_HIDDEN),
    b("disable-thp", "yes").imm(),
    b("cluster-allow-replica-migration", "yes"),
    b("replica-announced", "yes"),
    b("latency-tracking", "yes"),
    b("aof-disable-auto-gc", "no"),
    b("replica-ignore-disk-write-errors", "no"),
    // String configs
    s("aclfile", "").imm(),
    s("unixsocket", "").imm(),
    s("pidfile", "").imm(),
    s("replica-announce-ip", "").alias("slave-announce-ip"),
    s("masteruser", "").flags(F_SENSITIVE),
    s("cluster-announce-ip", ""),
    s("cluster-config-file", "nodes.conf").imm(),
    special("cluster-announce-hostname", validate_hostname, ""),
    s("syslog-ident", "redis").imm(),
    special("dbfilename", validate_dbfilename, "dump.rdb").flags(F_PROTECTED),
    special("appendfilename", validate_appendfilename, "appendonly.aof").imm(),
    special("appenddirname", validate_appenddirname, "appendonlydir").imm(),
    s("server_cpulist", "").imm(),
    s("bio_cpulist", "").imm(),
    s("aof_rewrite_cpulist", "").imm(),
    s("bgsave_cpulist", "").imm(),
    s("ignore-warnings", ""),
    special(
        "proc-title-template",
        validate_proc_title,
        "{title} {listen-addr} {server-mode}",
    ),
    s("bind-source-addr", ""),
    s("logfile", "").imm(),
    s("masterauth", "").flags(F_SENSITIVE),
    s("requirepass", "").flags(F_SENSITIVE),
    // Enum configs
    p("supervised", Kind::Enum(SUPERVISED), "no").imm(),
    p("syslog-facility", Kind::Enum(SYSLOG_FACILITY), "local0").imm(),
    p(
        "repl-diskless-load",
        Kind::Enum(REPL_DISKLESS_LOAD),
        "disabled",
    ),
    p("loglevel", Kind::Enum(LOGLEVEL), "notice"),
    p(
        "maxmemory-policy",
        Kind::Enum(MAXMEMORY_POLICY),
        "noeviction",
    ),
    p("appendfsync", Kind::Enum(APPENDFSYNC), "everysec"),
    p("oom-score-adj", Kind::Enum(OOM_SCORE_ADJ), "no"),
    p(
        "acl-pubsub-default",
        Kind::Enum(ACL_PUBSUB_DEFAULT),
        "resetchannels",
    ),
    p("sanitize-dump-payload", Kind::Enum(SANITIZE_DUMP), "no"),
    p(
        "enable-protected-configs",
        Kind::Enum(PROTECTED_ACTION),
        "no",
    )
    .imm(),
    p("enable-debug-command", Kind::Enum(PROTECTED_ACTION), "no").imm(),
    p("enable-module-command", Kind::Enum(PROTECTED_ACTION), "no").imm(),
    p(
        "cluster-preferred-endpoint-type",
        Kind::Enum(ENDPOINT_TYPE),
        "ip",
    ),
    p(
        "propagation-error-behavior",
        Kind::Enum(PROPAGATION_ERROR),
        "ignore",
    ),
    p(
        "shutdown-on-sigint",
        Kind::EnumFlags(SHUTDOWN_ON_SIG),
        "default",
    )
    .flags(F_MULTI_ARG),
    p(
        "shutdown-on-sigterm",
        Kind::EnumFlags(SHUTDOWN_ON_SIG),
        "default",
    )
    .flags(F_MULTI_ARG),
    // Integer configs
    int("databases", 1, INT_MAX, "16").imm(),
    int("port", 0, 65535, "6379"),
    int("io-threads", 1, 128, "1").imm(),
    int("auto-aof-rewrite-percentage", 0, INT_MAX, "100"),
    int("cluster-replica-validity-factor", 0, INT_MAX, "10").alias("cluster-slave-validity-factor"),
    int("list-max-listpack-size", INT_MIN, INT_MAX, "-2").alias("list-max-ziplist-size"),
    int("tcp-keepalive", 0, INT_MAX, "300"),
    int("cluster-migration-barrier", 0, INT_MAX, "1"),
    int("active-defrag-cycle-min", 1, 99, "1"),
    int("active-defrag-cycle-max", 1, 99, "25"),
    int("active-defrag-threshold-lower", 0, 1000, "10"),
    int("active-defrag-threshold-upper", 0, 1000, "100"),
    int("lfu-log-factor", 0, INT_MAX, "10"),
    int("lfu-decay-time", 0, INT_MAX, "1"),
    int("replica-priority", 0, INT_MAX, "100").alias("slave-priority"),
    int("repl-diskless-sync-delay", 0, INT_MAX, "5"),
    int("maxmemory-samples", 1, INT_MAX, "5"),
    int("maxmemory-eviction-tenacity", 0, 100, "10"),
    int("timeout", 0, INT_MAX, "0"),
    int("replica-announce-port", 0, 65535, "0").alias("slave-announce-port"),
    int("tcp-backlog", 0, INT_MAX, "511").imm(),
    int("cluster-port", 0, 65535, "0").imm(),
    int("cluster-announce-bus-port", 0, 65535, "0"),
    int("cluster-announce-port", 0, 65535, "0"),
    int("cluster-announce-tls-port", 0, 65535, "0"),
    int("repl-timeout", 1, INT_MAX, "60"),
    int("repl-ping-replica-period", 1, INT_MAX, "10").alias("repl-ping-slave-period"),
    int("list-compress-depth", 0, INT_MAX, "0"),
    int("rdb-key-save-delay", INT_MIN, INT_MAX, "0").flags(F_HIDDEN),
    int("key-load-delay", INT_MIN, INT_MAX, "0").flags(F_HIDDEN),
    int("active-expire-effort", 1, 10, "1"),
    int("hz", 0, INT_MAX, "10"),
    int("min-replicas-to-write", 0, INT_MAX, "0").alias("min-slaves-to-write"),
    int("min-replicas-max-lag", 0, INT_MAX, "10").alias("min-slaves-max-lag"),
    int("watchdog-period", 0, INT_MAX, "0").flags(F_HIDDEN),
    int("shutdown-timeout", 0, INT_MAX, "10"),
    int("repl-diskless-sync-max-replicas", 0, INT_MAX, "0"),
    int("maxclients", 1, UINT_MAX, "10000"),
    p("unixsocketperm", Kind::Octal { min: 0, max: 0o777 }, "0").imm(),
    int("socket-mark-id", 0, UINT_MAX, "0").imm(),
    int("active-defrag-max-scan-fields", 1, LONG_MAX, "1000"),
    int("slowlog-max-len", 0, LONG_MAX, "128"),
    int("acllog-max-len", 0, LONG_MAX, "128"),
    int("busy-reply-threshold", 0, LONG_MAX, "5000").alias("lua-time-limit"),
    int("cluster-node-timeout", 0, LLONG_MAX, "15000"),
    int("slowlog-log-slower-than", -1, LLONG_MAX, "10000"),
    int("latency-monitor-threshold", 0, LLONG_MAX, "0"),
    mem(
        "proto-max-bulk-len",
        1024 * 1024,
        LONG_MAX as u64,
        "536870912",
    ),
    int("stream-node-max-entries", 0, LLONG_MAX, "100"),
    mem("repl-backlog-size", 1, LLONG_MAX as u64, "1048576"),
    mem("maxmemory", 0, u64::MAX, "0"),
    mem("cluster-link-sendbuf-limit", 0, u64::MAX, "0"),
    int("hash-max-listpack-entries", 0, LONG_MAX, "512").alias("hash-max-ziplist-entries"),
    int("set-max-intset-entries", 0, LONG_MAX, "512"),
    int("zset-max-listpack-entries", 0, LONG_MAX, "128").alias("zset-max-ziplist-entries"),
    mem(
        "active-defrag-ignore-bytes",
        1,
        LLONG_MAX as u64,
        "104857600",
    ),
    mem("hash-max-listpack-value", 0, LONG_MAX as u64, "64").alias("hash-max-ziplist-value"),
    mem("stream-node-max-bytes", 0, LONG_MAX as u64, "4096"),
    mem("zset-max-listpack-value", 0, LONG_MAX as u64, "64").alias("zset-max-ziplist-value"),
    mem("hll-sparse-max-bytes", 0, LONG_MAX as u64, "3000"),
    int("tracking-table-max-keys", 0, LONG_MAX, "1000000"),
    mem(
        "client-query-buffer-limit",
        1024 * 1024,
        LONG_MAX as u64,
        "1073741824",
    ),
    p(
        "maxmemory-clients",
        Kind::MemoryPercent {
            min: -100,
            max: i64::MAX,
        },
        "0",
    ),
    int("repl-backlog-ttl", 0, LONG_MAX, "3600"),
    mem("auto-aof-rewrite-min-size", 0, LLONG_MAX as u64, "67108864"),
    int(
        "loading-process-events-interval-bytes",
        1024,
        INT_MAX,
        "2097152",
    )
    .flags(F_HIDDEN),
    // TLS (Debian's redis-server is built with it)
    int("tls-port", 0, 65535, "0"),
    int("tls-session-cache-size", 0, INT_MAX, "20480"),
    int("tls-session-cache-timeout", 0, INT_MAX, "300"),
    b("tls-cluster", "no"),
    b("tls-replication", "no"),
    p("tls-auth-clients", Kind::Enum(TLS_AUTH_CLIENTS), "yes"),
    b("tls-prefer-server-ciphers", "no"),
    b("tls-session-caching", "yes"),
    s("tls-cert-file", ""),
    s("tls-key-file", ""),
    s("tls-key-file-pass", ""),
    s("tls-client-cert-file", ""),
    s("tls-client-key-file", ""),
    s("tls-client-key-file-pass", ""),
    s("tls-dh-params-file", ""),
    s("tls-ca-cert-file", ""),
    s("tls-ca-cert-dir", ""),
    s("tls-protocols", ""),
    s("tls-ciphers", ""),
    s("tls-ciphersuites", ""),
    // Special configs
    special("dir", validate_dir, ".").flags(F_PROTECTED),
    special("save", validate_save, "3600 1 300 100 60 10000").flags(F_MULTI_ARG),
    special(
        "client-output-buffer-limit",
        validate_obuf,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    )
    .flags(F_MULTI_ARG),
    special("oom-score-adj-values", validate_oom_values, "0 200 800").flags(F_MULTI_ARG),
    special("notify-keyspace-events", validate_notify, ""),
    special("bind", validate_bind, "* -::*").flags(F_MULTI_ARG),
    special("replicaof", validate_replicaof, "")
        .alias("slaveof")
        .flags(F_MULTI_ARG | F_IMMUTABLE),
    special(
        "latency-tracking-info-percentiles",
        validate_percentiles,
        "50 99 99.9",
    )
    .flags(F_MULTI_ARG),
    // Rill's own
    // -1 disables the Kafka listener; 0 binds an ephemeral port (like `port 0`).
    int("kafka-port", -1, 65535, "9092").imm(),
    s("kafka-advertised-listener", "").imm(),
    // Kafka broker settings keep Kafka's dotted names.
    int("num.partitions", 1, 1_000_000, "1"),
    b("auto.create.topics.enable", "yes"),
    // Read when partitions are opened, hence immutable.
    p("kafka-flush", Kind::Enum(KAFKA_FLUSH), "everysec").imm(),
    int("log.segment.bytes", 1024, i64::MAX, "67108864").imm(),
    int("log.retention.ms", -1, i64::MAX, "604800000").imm(),
    int("log.retention.bytes", -1, i64::MAX, "-1").imm(),
    // The largest record batch a Produce may store (a topic's max.message.bytes).
    int("message.max.bytes", 0, i32::MAX as i64, "1048588").imm(),
    // CreateTime keeps the producer's timestamps; LogAppendTime stamps the append time.
    p(
        "log.message.timestamp.type",
        Kind::Enum(TIMESTAMP_TYPE),
        "CreateTime",
    )
    .imm(),
    // KIP-134's delay before the first rebalance of an Empty group; Kafka's 3000 is what
    // slows every CI consumer (KAFKA.md T6), so 0 here.
    int("group.initial.rebalance.delay.ms", 0, i32::MAX as i64, "0"),
    // __consumer_offsets is compacted once over this size with half its records stale.
    int("offsets.topic.segment.bytes", 1, i64::MAX, "104857600"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_unique_and_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for p in PARAMS {
            for n in std::iter::once(p.name).chain(p.alias) {
                assert!(seen.insert(n), "duplicate {n}");
                assert_eq!(n, n.to_ascii_lowercase());
            }
        }
        // 173 names + 19 aliases in Redis 7.0.15's CONFIG GET *, plus hidden and Rill's own.
        let visible = PARAMS.iter().filter(|p| p.flags & F_HIDDEN == 0).count();
        let aliases = PARAMS.iter().filter(|p| p.alias.is_some()).count();
        assert_eq!(visible + aliases, 192 + 12);
    }

    #[test]
    fn defaults_validate_to_themselves() {
        for p in PARAMS {
            if p.name == "dir" || p.name == "replicaof" {
                continue;
            }
            let v = crate::config::canonical(p, p.default)
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert_eq!(v, p.default, "{}", p.name);
        }
    }

    #[test]
    fn notify_flags_roundtrip() {
        assert_eq!(
            keyspace_events_to_string(keyspace_events_from_str("KEA").unwrap()),
            "AKE"
        );
        assert_eq!(
            keyspace_events_to_string(keyspace_events_from_str("gxE").unwrap()),
            "gxE"
        );
        assert_eq!(
            keyspace_events_to_string(keyspace_events_from_str("Agx$lshzxetmdnKE").unwrap()),
            "AKEm"
        );
        assert!(keyspace_events_from_str("Q").is_none());
    }

    #[test]
    fn special_validators() {
        assert_eq!(validate_save("").unwrap(), "");
        assert!(validate_save("0 1").is_err());
        assert!(validate_save("100").is_err());
        assert!(validate_save("100 -1").is_err());
        assert_eq!(validate_save("900 1 300 10").unwrap(), "900 1 300 10");
        assert_eq!(
            merge_obuf_limits(
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
                "replica 1mb 2mb 3"
            )
            .unwrap(),
            "normal 0 0 0 slave 1048576 2097152 3 pubsub 33554432 8388608 60"
        );
        assert!(validate_obuf("master 1 2 3")
            .unwrap_err()
            .contains("Invalid client class"));
        assert_eq!(validate_percentiles("50 99.90 100").unwrap(), "50 99.9 100");
        assert!(validate_percentiles("101")
            .unwrap_err()
            .contains("sit between"));
        assert_eq!(validate_replicaof("NO ONE").unwrap(), "");
        assert_eq!(validate_replicaof("h 7000").unwrap(), "h 7000");
        assert!(validate_proc_title("{foo}").is_err());
        assert!(validate_proc_title("{title} {port}").is_ok());
    }
}
