//! redis.conf parsing, `--directive value` overrides, and the live parameter table behind
//! CONFIG GET/SET/REWRITE. Every Redis 7.0 parameter name is known (see
//! [`crate::config_params::PARAMS`]); the ones Rill acts on are mirrored into typed fields.
//!
//! Rules follow Redis 7.0's `config.c`: a config file line is `name arg [arg ...]`, only
//! multi-argument parameters take more than one argument, repeated `save` lines accumulate,
//! CONFIG SET is all-or-nothing, CONFIG REWRITE keeps comments and unknown lines.

use crate::config_params::{
    keyspace_events_from_str, merge_obuf_limits, Kind, Param, F_HIDDEN, F_IMMUTABLE, F_MULTI_ARG,
    F_PROTECTED, PARAMS,
};
use std::collections::HashMap;
use std::path::PathBuf;

/// Live configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Canonical parameter name -> value as CONFIG GET reports it.
    values: HashMap<&'static str, String>,
    /// The config file, for CONFIG REWRITE.
    pub file: Option<PathBuf>,
    /// Set once a `save` line was read while loading, so later ones accumulate.
    save_loaded: bool,
    // Typed mirrors of the parameters the server reads on hot paths.
    pub bind: Vec<String>,
    pub port: u16,
    /// -1: no Kafka listener.
    pub kafka_port: i32,
    pub dir: PathBuf,
    pub databases: usize,
    pub requirepass: Option<String>,
    pub maxclients: usize,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub proto_max_bulk_len: u64,
    /// hll-sparse-max-bytes: a sparse HyperLogLog longer than this turns dense.
    pub hll_sparse_max_bytes: usize,
    pub client_query_buffer_limit: u64,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    pub maxmemory_samples: usize,
    pub protected_mode: bool,
    pub hz: u64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: usize,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    pub loglevel: String,
    pub logfile: String,
    pub active_expire_effort: u32,
    /// min-replicas-to-write (checked on every write).
    pub min_replicas_to_write: i64,
    /// notify-keyspace-events as NOTIFY_* flags ([`crate::config_params`]).
    pub notify_keyspace_events: u32,
    /// `save` rules as (seconds, changes).
    pub save_params: Vec<(u64, u64)>,
    pub appendonly: bool,
    pub dbfilename: String,
    pub latency_monitor_threshold: i64,
    /// busy-reply-threshold (lua-time-limit) in ms, read by every script run.
    pub busy_reply_threshold: u64,
    /// Started with `--sentinel` (or as `redis-sentinel`).
    pub sentinel_mode: bool,
    /// `sentinel ...` lines of the config file, for [`crate::sentinel`] to parse.
    pub sentinel_lines: Vec<Vec<String>>,
}

/// A start-up config error, reported like redis-server's FATAL CONFIG FILE ERROR.
#[derive(Debug)]
pub struct ConfigError {
    pub source: String,
    pub line: usize,
    pub text: String,
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            return write!(f, "{}", self.reason);
        }
        write!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15 compatible Rill) ***\nReading the configuration file {}, at line {}\n>>> '{}'\n{}",
            self.source, self.line, self.text, self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

/// Finds a parameter by name or alias (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static Param> {
    lookup_as(name).map(|(p, _)| p)
}

/// Like [`lookup`], also returning the name as registered (the alias when one was used).
pub fn lookup_as(name: &str) -> Option<(&'static Param, &'static str)> {
    PARAMS.iter().find_map(|p| {
        if p.name.eq_ignore_ascii_case(name) {
            Some((p, p.name))
        } else {
            match p.alias {
                Some(a) if a.eq_ignore_ascii_case(name) => Some((p, a)),
                _ => None,
            }
        }
    })
}

/// Redis's `memtoull`: digits with an optional unit (b, k, kb, m, mb, g, gb; any case).
/// Out-of-range digits saturate and the unit multiplication wraps, as in C.
pub fn memtoull(v: &str) -> Option<u64> {
    if v.starts_with('-') {
        return None;
    }
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1_000_000,
        "mb" => 1 << 20,
        "g" => 1_000_000_000,
        "gb" => 1 << 30,
        _ => return None,
    };
    if digits.len() >= 128 {
        return None;
    }
    let mut n: u64 = 0;
    for c in digits.bytes() {
        n = n.saturating_mul(10).saturating_add((c - b'0') as u64);
    }
    Some(n.wrapping_mul(mul))
}

/// Redis's `string2ll`: an optional `-`, no leading zeros, no spaces, no overflow.
pub fn string2ll(v: &str) -> Option<i64> {
    let b = v.as_bytes();
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    if !digits.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn bounds_err(min: impl std::fmt::Display, max: impl std::fmt::Display) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

fn enum_err(opts: &[(&str, u32)]) -> String {
    let names: Vec<&str> = opts.iter().map(|(n, _)| *n).collect();
    format!(
        "argument(s) must be one of the following: {}",
        names.join(", ")
    )
}

/// Validates `value` for `p` and returns its canonical form (what CONFIG GET shows).
/// Multi-argument values come as one space-separated string.
pub fn canonical(p: &Param, value: &str) -> Result<String, String> {
    match &p.kind {
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int { min, max } => {
            let n = string2ll(value)
                .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
            if n < *min || n > *max {
                return Err(bounds_err(min, max));
            }
            Ok(n.to_string())
        }
        Kind::Memory { min, max } => {
            let n = memtoull(value).ok_or_else(|| "argument must be a memory value".to_string())?;
            let ok = if *max > i64::MAX as u64 {
                n >= *min as u64
            } else {
                // Signed parameters see values past i64::MAX as negative.
                (n as i64) >= *min && (n as i64) as u64 <= *max
            };
            if !ok {
                return Err(bounds_err(min, max));
            }
            Ok(n.to_string())
        }
        Kind::MemoryPercent { min, max } => {
            let n: i64 = if let Some(n) = memtoull(value) {
                n as i64
            } else {
                match value
                    .strip_suffix('%')
                    .filter(|_| value.len() > 1)
                    .and_then(string2ll)
                {
                    Some(n) if n >= 0 => -n,
                    _ => return Err("argument must be a memory or percent value".into()),
                }
            };
            if n < 0 {
                if n < *min {
                    return Err(format!(
                        "percentage argument must be less or equal to {}",
                        -min
                    ));
                }
                return Ok(format!("{}%", -n));
            }
            if n > *max {
                return Err(bounds_err(min, max));
            }
            Ok(n.to_string())
        }
        Kind::Octal { min, max } => {
            let n = i64::from_str_radix(value, 8)
                .ok()
                .filter(|_| !value.is_empty())
                .ok_or_else(|| "argument couldn't be parsed as an octal number".to_string())?;
            if n < *min || n > *max {
                return Err(format!(
                    "argument must be between {min:o} and {max:o} inclusive"
                ));
            }
            Ok(format!("{n:o}"))
        }
        Kind::Enum(opts) => {
            let v = opts
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(value))
                .map(|(_, v)| *v)
                .ok_or_else(|| enum_err(opts))?;
            let first = opts
                .iter()
                .find(|(_, x)| *x == v)
                .expect("invariant: value came from the list");
            Ok(first.0.to_string())
        }
        Kind::EnumFlags(opts) => {
            let mut flags = 0;
            let words: Vec<&str> = if value.is_empty() {
                vec![""]
            } else {
                value.split(' ').collect()
            };
            for w in words {
                let (_, v) = opts
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(w))
                    .ok_or_else(|| enum_err(opts))?;
                flags |= v;
            }
            // shutdown-on-sig*: SAVE and NOSAVE exclude each other.
            if flags & 3 == 3 {
                return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
            }
            if flags == 0 {
                return Ok(opts[0].0.to_string());
            }
            Ok(opts
                .iter()
                .filter(|(_, v)| *v != 0 && flags & v == *v)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(" "))
        }
        Kind::String => Ok(value.to_string()),
        Kind::Special(validate) => validate(value),
    }
}

/// strerror-style text of an io::Error (no " (os error N)" suffix).
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Redis's `rewriteConfigFormatMemory`: bytes with the largest exact unit.
pub fn format_memory(bytes: u64) -> String {
    const GB: u64 = 1 << 30;
    const MB: u64 = 1 << 20;
    const KB: u64 = 1 << 10;
    if bytes != 0 && bytes % GB == 0 {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes % MB == 0 {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// String parameters that keep an empty value (the rest treat "" as unset, and CONFIG
/// REWRITE drops their lines).
const ALLOW_EMPTY: &[&str] = &[
    "aclfile",
    "cluster-config-file",
    "syslog-ident",
    "dbfilename",
    "appendfilename",
    "appenddirname",
    "ignore-warnings",
    "proc-title-template",
    "logfile",
    "notify-keyspace-events",
];

impl Default for Config {
    fn default() -> Self {
        let mut values = HashMap::new();
        for p in PARAMS {
            values.insert(p.name, p.default.to_string());
        }
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| ".".into());
        values.insert("dir", cwd);
        let mut c = Config {
            values,
            file: None,
            save_loaded: false,
            bind: vec![],
            port: 6379,
            kafka_port: 9092,
            sentinel_mode: false,
            sentinel_lines: vec![],
            dir: PathBuf::from("."),
            databases: 16,
            requirepass: None,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            proto_max_bulk_len: 512 << 20,
            hll_sparse_max_bytes: 3000,
            client_query_buffer_limit: 1 << 30,
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            maxmemory_samples: 5,
            protected_mode: true,
            hz: 10,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            loglevel: "notice".into(),
            logfile: String::new(),
            active_expire_effort: 1,
            min_replicas_to_write: 0,
            notify_keyspace_events: 0,
            save_params: vec![],
            appendonly: false,
            dbfilename: "dump.rdb".into(),
            latency_monitor_threshold: 0,
            busy_reply_threshold: 5000,
        };
        c.refresh();
        c
    }
}

/// A failed CONFIG SET, with Redis's reply text (after `-ERR `).
#[derive(Debug, Clone, PartialEq)]
pub struct SetError(pub String);

impl Config {
    /// Reads a config file, then applies `--directive value` overrides, as redis-server does.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let sentinel = args.iter().any(|a| a == "--sentinel");
        let args: Vec<String> = args
            .iter()
            .filter(|a| *a != "--sentinel")
            .cloned()
            .collect();
        let mut rest = &args[..];
        if sentinel {
            // sentinel.c's initSentinelConfig; no Kafka face and no dataset in sentinel mode.
            c.sentinel_mode = true;
            c.load_text(
                "port 26379\nprotected-mode no\nkafka-port -1\nsave \"\"\nappendonly no",
                "(sentinel)",
            )?;
            c.save_loaded = false;
        }
        if let Some(first) = rest.first() {
            if !first.starts_with("--") {
                let text = std::fs::read_to_string(first).map_err(|e| ConfigError {
                    source: first.clone(),
                    line: 0,
                    text: String::new(),
                    reason: format!(
                        "Fatal error, can't open config file '{first}': {}",
                        strerror(&e)
                    ),
                })?;
                c.file =
                    Some(std::fs::canonicalize(first).unwrap_or_else(|_| PathBuf::from(first)));
                c.load_text(&text, first)?;
                rest = &rest[1..];
            }
        }
        // "--port 7000 --save 60 1" -> lines "port 7000", "save 60 1"
        let mut text = String::new();
        for a in rest {
            if let Some(d) = a.strip_prefix("--") {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(d);
            } else {
                text.push(' ');
                text.push_str(&quote_arg(a));
            }
        }
        c.load_text(&text, "(command line)")?;
        c.save_loaded = false;
        Ok(c)
    }

    /// Applies config text (file body or overrides). `save` lines accumulate across calls
    /// until [`Config::from_args`] finishes, replacing the default rules on the first one.
    pub fn load_text(&mut self, text: &str, source: &str) -> Result<(), ConfigError> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches([' ', '\t', '\r', '\n']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| ConfigError {
                source: source.into(),
                line: i + 1,
                text: line.into(),
                reason,
            };
            let args = rill_protocol::resp::split_args(line.as_bytes())
                .ok_or_else(|| err("Unbalanced quotes in configuration line".into()))?;
            if args.is_empty() {
                continue;
            }
            let args: Vec<String> = args
                .into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect();
            let name = args[0].to_ascii_lowercase();
            // A bare `sentinel` line only selects the mode (redis-server handles it in main).
            if name == "sentinel" && args.len() > 1 {
                if !self.sentinel_mode {
                    return Err(err("sentinel directive while not in sentinel mode".into()));
                }
                self.sentinel_lines.push(args[1..].to_vec());
                continue;
            }
            if let Some(p) = lookup(&name) {
                if p.flags & F_MULTI_ARG == 0 && args.len() != 2 {
                    return Err(err("wrong number of arguments".into()));
                }
                if p.flags & F_MULTI_ARG != 0 && args.len() < 2 {
                    return Err(err("wrong number of arguments".into()));
                }
                let mut value = args[1..].join(" ");
                if p.name == "save" {
                    if self.save_loaded && !value.is_empty() && !self.get("save").is_empty() {
                        value = format!("{} {}", self.get("save"), value);
                    }
                    self.save_loaded = true;
                }
                self.apply(p, &value).map_err(err)?;
                continue;
            }
            match (name.as_str(), args.len()) {
                (
                    "list-max-ziplist-entries"
                    | "list-max-ziplist-value"
                    | "lua-replicate-commands",
                    2,
                ) => {}
                ("include", 2) => {
                    let body = std::fs::read_to_string(&args[1]).map_err(|e| ConfigError {
                        source: args[1].clone(),
                        line: 0,
                        text: String::new(),
                        reason: format!(
                            "Fatal error, can't open config file '{}': {}",
                            args[1],
                            strerror(&e)
                        ),
                    })?;
                    self.load_text(&body, &args[1])?;
                }
                ("sentinel", n) if n > 1 => {
                    return Err(err("sentinel directive while not in sentinel mode".into()))
                }
                ("rename-command", 3) | ("user", _) | ("loadmodule", _) => {
                    return Err(err(format!("'{name}' is not supported by Rill")))
                }
                _ => return Err(err("Bad directive or wrong number of arguments".into())),
            }
        }
        self.refresh();
        Ok(())
    }

    /// Validates and stores one value (no immutability check: start-up rules).
    fn apply(&mut self, p: &'static Param, value: &str) -> Result<(), String> {
        let v = match p.name {
            "client-output-buffer-limit" => merge_obuf_limits(self.get(p.name), value)?,
            "dir" => {
                let path = std::fs::canonicalize(value).map_err(|e| strerror(&e))?;
                if !path.is_dir() {
                    return Err("Not a directory".into());
                }
                path.display().to_string()
            }
            "hz" => {
                let n: i64 = canonical(p, value)?.parse().unwrap_or(10);
                n.clamp(1, 500).to_string()
            }
            _ => canonical(p, value)?,
        };
        self.values.insert(p.name, v);
        Ok(())
    }

    /// Current value of a parameter by canonical name ("" for unknown names).
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map(|s| s.as_str()).unwrap_or("")
    }

    /// A numeric parameter's value (0 when not numeric).
    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).parse().unwrap_or(0)
    }

    /// A yes/no parameter's value.
    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == "yes"
    }

    /// CONFIG GET with one or more patterns: (name, value) pairs. A pattern without glob
    /// characters is looked up exactly (the reply echoes it as given, hidden parameters
    /// included); a glob matches names and aliases, case-insensitively.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for pat in patterns {
            let is_glob = pat.iter().any(|c| matches!(c, b'[' | b'*' | b'?'));
            if !is_glob {
                let name = String::from_utf8_lossy(pat).into_owned();
                if out.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                if let Some(p) = lookup(&name) {
                    out.push((name, self.get(p.name).to_string()));
                }
                continue;
            }
            for p in PARAMS {
                if p.flags & F_HIDDEN != 0 {
                    continue;
                }
                for n in std::iter::once(p.name).chain(p.alias) {
                    if out.iter().any(|(x, _)| x == n) {
                        continue;
                    }
                    if crate::db::glob::glob_match(pat, n.as_bytes(), true) {
                        out.push((n.to_string(), self.get(p.name).to_string()));
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET of one parameter (runtime rules, see [`Config::set_many`]).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        self.set_many(&[(name, value)], true).map_err(|e| e.0)
    }

    /// CONFIG SET name value [name value ...]: all or nothing, with Redis 7.0's errors.
    /// `protected_ok`: whether enable-protected-configs lets this client change protected
    /// parameters (dir, dbfilename).
    pub fn set_many(&mut self, pairs: &[(&str, &str)], protected_ok: bool) -> Result<(), SetError> {
        let mut found: Vec<(&'static Param, &'static str, &str)> = Vec::new();
        for (name, value) in pairs {
            let Some((p, as_name)) = lookup_as(name) else {
                return Err(SetError(format!(
                    "Unknown option or number of arguments for CONFIG SET - '{name}'"
                )));
            };
            let fail = |why: &str| {
                SetError(format!(
                    "CONFIG SET failed (possibly related to argument '{name}') - {why}"
                ))
            };
            if p.flags & F_IMMUTABLE != 0 {
                return Err(fail("can't set immutable config"));
            }
            if p.flags & F_PROTECTED != 0 && !protected_ok {
                return Err(fail("can't set protected config"));
            }
            if found
                .iter()
                .any(|(q, n, _)| std::ptr::eq(*q, p) && *n == as_name)
            {
                return Err(fail("duplicate parameter"));
            }
            found.push((p, as_name, value));
        }
        let mut next = self.clone();
        for (p, as_name, value) in found {
            next.apply(p, value).map_err(|why| {
                SetError(format!(
                    "CONFIG SET failed (possibly related to argument '{as_name}') - {why}"
                ))
            })?;
        }
        next.refresh();
        *self = next;
        Ok(())
    }

    /// Sets a parameter the server itself changes at runtime, immutable or not
    /// (REPLICAOF records `replicaof` so CONFIG GET and CONFIG REWRITE show it).
    pub fn set_internal(&mut self, name: &str, value: &str) -> Result<(), String> {
        let p = lookup(name).ok_or_else(|| format!("unknown parameter {name}"))?;
        self.apply(p, value)?;
        self.refresh();
        Ok(())
    }

    /// Whether enable-protected-configs lets a client (local = loopback or unix socket)
    /// change protected parameters.
    pub fn protected_configs_allowed(&self, local: bool) -> bool {
        match self.get("enable-protected-configs") {
            "yes" => true,
            "local" => local,
            _ => false,
        }
    }

    fn int(&self, name: &str) -> i64 {
        self.get_i64(name)
    }

    fn refresh(&mut self) {
        self.bind = self
            .get("bind")
            .split_whitespace()
            .map(|s| s.to_string())
            .collect();
        self.port = self.int("port") as u16;
        self.kafka_port = self.int("kafka-port") as i32;
        self.dir = PathBuf::from(self.get("dir"));
        self.databases = self.int("databases") as usize;
        let pass = self.get("requirepass");
        self.requirepass = if pass.is_empty() {
            None
        } else {
            Some(pass.to_string())
        };
        self.maxclients = self.int("maxclients") as usize;
        self.timeout = self.int("timeout") as u64;
        self.tcp_keepalive = self.int("tcp-keepalive") as u64;
        self.proto_max_bulk_len = self.get("proto-max-bulk-len").parse().unwrap_or(0);
        self.hll_sparse_max_bytes = self.get("hll-sparse-max-bytes").parse().unwrap_or(0);
        self.client_query_buffer_limit = self.get("client-query-buffer-limit").parse().unwrap_or(0);
        self.maxmemory = self.get("maxmemory").parse().unwrap_or(0);
        self.maxmemory_policy = self.get("maxmemory-policy").to_string();
        self.maxmemory_samples = self.int("maxmemory-samples") as usize;
        self.protected_mode = self.get_bool("protected-mode");
        self.hz = self.int("hz").clamp(1, 500) as u64;
        self.slowlog_log_slower_than = self.int("slowlog-log-slower-than");
        self.slowlog_max_len = self.int("slowlog-max-len") as usize;
        self.lfu_log_factor = self.int("lfu-log-factor") as u32;
        self.lfu_decay_time = self.int("lfu-decay-time") as u32;
        self.loglevel = self.get("loglevel").to_string();
        self.logfile = self.get("logfile").to_string();
        self.active_expire_effort = self.int("active-expire-effort") as u32;
        self.min_replicas_to_write = self.int("min-replicas-to-write");
        self.notify_keyspace_events =
            keyspace_events_from_str(self.get("notify-keyspace-events")).unwrap_or(0);
        let save: Vec<u64> = self
            .get("save")
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        self.save_params = save.chunks(2).map(|c| (c[0], c[1])).collect();
        self.appendonly = self.get_bool("appendonly");
        self.dbfilename = self.get("dbfilename").to_string();
        self.latency_monitor_threshold = self.int("latency-monitor-threshold");
        self.busy_reply_threshold = self.int("busy-reply-threshold").max(0) as u64;
    }

    /// The config-file lines that express `p`'s current value, and whether they must be
    /// written even where the file does not mention `p` (Redis's `force`). None: drop any
    /// existing lines (an unset string, the default bind, no master).
    fn rewrite_lines(&self, p: &Param) -> Option<(Vec<String>, bool)> {
        let v = self.get(p.name);
        let name = p.name;
        let differs = v != p.default;
        let line = |val: String| format!("{name} {val}");
        let lines = match (&p.kind, name) {
            (_, "save") => {
                if v.is_empty() {
                    return Some((vec!["save \"\"".into()], true));
                }
                let nums: Vec<&str> = v.split(' ').collect();
                let lines = nums
                    .chunks(2)
                    .map(|c| format!("save {} {}", c[0], c[1]))
                    .collect();
                return Some((lines, true));
            }
            (_, "dir") => return Some((vec![line(crate::util::repr(v.as_bytes()))], true)),
            (_, "bind") => {
                if !differs {
                    return None;
                }
                let val = if v.is_empty() {
                    "\"\"".into()
                } else {
                    v.into()
                };
                return Some((vec![line(val)], true));
            }
            (_, "replicaof") => {
                if v.is_empty() {
                    return None;
                }
                return Some((vec![line(v.into())], true));
            }
            (_, "latency-tracking-info-percentiles") => {
                let val = if v.is_empty() {
                    "\"\"".into()
                } else {
                    v.into()
                };
                return Some((vec![line(val)], true));
            }
            (_, "client-output-buffer-limit") => {
                let cur = crate::config_params::parse_obuf_limits(v).unwrap_or_default();
                let def = crate::config_params::parse_obuf_limits(p.default).unwrap_or_default();
                let mut lines = Vec::new();
                let mut force = false;
                for (i, (class, h, s, secs)) in cur.iter().enumerate() {
                    force |= def.get(i) != Some(&(*class, *h, *s, *secs));
                    lines.push(format!(
                        "{name} {} {} {} {secs}",
                        ["normal", "replica", "pubsub"][*class],
                        format_memory(*h),
                        format_memory(*s)
                    ));
                }
                return Some((lines, force));
            }
            (Kind::Memory { .. }, _) => line(format_memory(v.parse().unwrap_or(0))),
            (Kind::MemoryPercent { .. }, _) => {
                if v.ends_with('%') {
                    line(v.into())
                } else {
                    line(format_memory(v.parse().unwrap_or(0)))
                }
            }
            (Kind::String | Kind::Special(_), _)
                if !matches!(
                    name,
                    "oom-score-adj-values" | "activedefrag" | "notify-keyspace-events"
                ) =>
            {
                if v.is_empty() && !ALLOW_EMPTY.contains(&name) {
                    return None;
                }
                line(crate::util::repr(v.as_bytes()))
            }
            (_, "notify-keyspace-events") => line(crate::util::repr(v.as_bytes())),
            _ => line(v.into()),
        };
        Some((vec![lines], differs))
    }

    /// CONFIG REWRITE: rewrites the config file in place as Redis does. Comments and blank
    /// lines stay (runs of blank lines collapse), each parameter reuses the lines where the
    /// file already sets it, lines of parameters no longer set are blanked, unknown
    /// directives are commented out with `# ???`, and non-default values missing from the
    /// file are appended after a `# Generated by CONFIG REWRITE` line.
    pub fn rewrite(&self) -> Result<(), String> {
        const SIGNATURE: &str = "# Generated by CONFIG REWRITE";
        let path = self
            .file
            .as_ref()
            .ok_or_else(|| "The server is running without a config file".to_string())?;
        let old = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("Rewriting config file: {}", strerror(&e))),
        };
        let mut lines: Vec<String> = Vec::new();
        // option -> indexes of the lines that set it
        let mut option_lines: HashMap<String, std::collections::VecDeque<usize>> = HashMap::new();
        let mut needs_signature = true;
        let old_lines: Vec<&str> = if old.is_empty() {
            vec![]
        } else {
            old.split('\n').collect()
        };
        let n_old = old_lines.len();
        for (i, raw) in old_lines.into_iter().enumerate() {
            // A trailing newline leaves one empty piece; it is not a line.
            if i + 1 == n_old && raw.is_empty() {
                break;
            }
            let line = raw.trim_matches(['\r', '\n', '\t', ' ']);
            if line.is_empty() || line.starts_with('#') {
                if line == SIGNATURE {
                    needs_signature = false;
                }
                lines.push(line.to_string());
                continue;
            }
            let args = rill_protocol::resp::split_args(line.as_bytes());
            let first = args
                .as_ref()
                .and_then(|a| a.first())
                .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase());
            let keep_verbatim = matches!(first.as_deref(), Some("include" | "rename-command"));
            match first {
                Some(opt) if lookup(&opt).is_some() || keep_verbatim => {
                    let opt = match opt.find("slave") {
                        Some(k) => format!("{}replica{}", &opt[..k], &opt[k + 5..]),
                        None => opt,
                    };
                    option_lines.entry(opt).or_default().push_back(lines.len());
                    lines.push(line.to_string());
                }
                _ => lines.push(format!("# ??? {line}")),
            }
        }
        let mut processed: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for p in PARAMS {
            processed.insert(p.name);
            let Some((new_lines, force)) = self.rewrite_lines(p) else {
                continue;
            };
            for nl in new_lines {
                match option_lines.get_mut(p.name).and_then(|l| l.pop_front()) {
                    Some(idx) => lines[idx] = nl,
                    None if force => {
                        if needs_signature {
                            lines.push(SIGNATURE.into());
                            needs_signature = false;
                        }
                        lines.push(nl);
                    }
                    None => {}
                }
            }
        }
        // Blank the leftover lines of every parameter handled above.
        for (opt, idxs) in &option_lines {
            if processed.contains(opt.as_str()) {
                for &i in idxs {
                    lines[i].clear();
                }
            }
        }
        let mut content = String::new();
        let mut was_empty = false;
        for l in &lines {
            if l.is_empty() {
                if was_empty {
                    continue;
                }
                was_empty = true;
            } else {
                was_empty = false;
            }
            content.push_str(l);
            content.push('\n');
        }
        let tmp = path.with_extension(format!("rewrite-{}", std::process::id()));
        let res = std::fs::write(&tmp, content).and_then(|_| std::fs::rename(&tmp, path));
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("Rewriting config file: {}", strerror(&e)));
        }
        Ok(())
    }
}

/// Quotes a command-line value for the config-line parser when it needs it.
fn quote_arg(v: &str) -> String {
    if v.is_empty() {
        "\"\"".into()
    } else if v.contains(|c: char| c == '"' || c == '\'' || c == '\\' || c.is_whitespace()) {
        crate::util::repr(v.as_bytes())
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_and_file() {
        let c = Config::from_args(&[
            "--port".into(),
            "7000".into(),
            "--maxmemory".into(),
            "1mb".into(),
        ])
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.maxmemory, 1 << 20);
        assert_eq!(c.get("maxmemory"), "1048576");
    }

    #[test]
    fn bad_directive_names_line() {
        let mut c = Config::default();
        let e = c
            .load_text("port 1\nnosuchthing 3\n", "x.conf")
            .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("Bad directive"));
        let e = c.load_text("port abc\n", "x.conf").unwrap_err();
        assert_eq!(e.reason, "argument couldn't be parsed into an integer");
        let e = c.load_text("port 1 2\n", "x.conf").unwrap_err();
        assert_eq!(e.reason, "wrong number of arguments");
        let e = c.load_text("maxmemory \"1mb\n", "x.conf").unwrap_err();
        assert_eq!(e.reason, "Unbalanced quotes in configuration line");
        // Deprecated directives are ignored.
        c.load_text("list-max-ziplist-entries 5\n", "x.conf")
            .unwrap();
    }

    #[test]
    fn save_lines_accumulate_in_a_load() {
        let mut c = Config::default();
        c.load_text("save 900 1\nsave 300 10\n", "x.conf").unwrap();
        c.load_text("save 60 10000\n", "(command line)").unwrap();
        assert_eq!(c.get("save"), "900 1 300 10 60 10000");
        assert_eq!(c.save_params, vec![(900, 1), (300, 10), (60, 10000)]);
        let c = Config::from_args(&["--save".into(), "".into()]).unwrap();
        assert_eq!(c.get("save"), "");
    }

    #[test]
    fn number_parsing_matches_redis() {
        assert_eq!(memtoull("5GB"), Some(5 << 30));
        assert_eq!(memtoull("1k"), Some(1000));
        assert_eq!(memtoull(""), Some(0));
        assert_eq!(memtoull("99999999999999999999"), Some(u64::MAX));
        assert_eq!(memtoull("+5"), None);
        assert_eq!(memtoull("1.5mb"), None);
        assert_eq!(string2ll("01"), None);
        assert_eq!(string2ll(" 5"), None);
        assert_eq!(string2ll("-12"), Some(-12));
        assert_eq!(string2ll("9223372036854775808"), None);
    }

    #[test]
    fn set_validates_like_redis() {
        let mut c = Config::default();
        assert!(c.set("maxmemory-policy", "allkeys-lru").is_ok());
        assert_eq!(c.maxmemory_policy, "allkeys-lru");
        assert_eq!(
            c.set("loglevel", "Nothing").unwrap_err(),
            "CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"
        );
        assert_eq!(
            c.set("nope", "1").unwrap_err(),
            "Unknown option or number of arguments for CONFIG SET - 'nope'"
        );
        assert_eq!(
            c.set("maxclients", "-1").unwrap_err(),
            "CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"
        );
        assert!(c
            .set("proto-max-bulk-len", "99999999999999999999")
            .unwrap_err()
            .ends_with("argument must be between 1048576 and 9223372036854775807 inclusive"));
        assert!(c.set("maxmemory", "99999999999999999999").is_ok());
        assert_eq!(c.get("maxmemory"), "18446744073709551615");
        c.set("hz", "1000").unwrap();
        assert_eq!(c.get("hz"), "500");
        c.set("maxmemory-clients", "10%").unwrap();
        assert_eq!(c.get("maxmemory-clients"), "10%");
        assert!(c
            .set("maxmemory-clients", "200%")
            .unwrap_err()
            .ends_with("percentage argument must be less or equal to 100"));
        c.set("oom-score-adj", "relative").unwrap();
        assert_eq!(c.get("oom-score-adj"), "yes");
        c.set("shutdown-on-sigint", "now save force").unwrap();
        assert_eq!(c.get("shutdown-on-sigint"), "save now force");
        c.set("lua-time-limit", "100").unwrap();
        assert_eq!(c.get("busy-reply-threshold"), "100");
        assert!(c
            .set("activedefrag", "yes")
            .unwrap_err()
            .contains("Active defragmentation cannot be enabled"));
    }

    #[test]
    fn set_many_is_all_or_nothing() {
        let mut c = Config::default();
        let e = c
            .set_many(&[("maxmemory", "1mb"), ("timeout", "x")], true)
            .unwrap_err();
        assert!(e.0.contains("'timeout'"), "{e:?}");
        assert_eq!(c.get("maxmemory"), "0");
        let e = c
            .set_many(&[("maxmemory", "1"), ("MAXMEMORY", "2")], true)
            .unwrap_err();
        assert_eq!(
            e.0,
            "CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"
        );
        let e = c
            .set_many(&[("daemonize", "yes"), ("foo", "2")], true)
            .unwrap_err();
        assert!(e.0.ends_with("can't set immutable config"));
        let e = c.set_many(&[("dir", "/tmp")], false).unwrap_err();
        assert!(e.0.ends_with("can't set protected config"));
        c.set_many(&[("maxmemory", "2mb"), ("hz", "20")], true)
            .unwrap();
        assert_eq!((c.maxmemory, c.hz), (2 << 20, 20));
    }

    #[test]
    fn get_matching_patterns_and_aliases() {
        let c = Config::default();
        let got = c.get_matching(&[b"*ziplist*"]);
        assert_eq!(got.len(), 5);
        assert!(got.contains(&("hash-max-ziplist-entries".into(), "512".into())));
        let got = c.get_matching(&[b"Maxmemory", b"maxmemory", b"nosuch", b"maxmemory"]);
        assert_eq!(
            got,
            vec![
                ("Maxmemory".to_string(), "0".to_string()),
                ("maxmemory".to_string(), "0".to_string())
            ]
        );
        assert!(c.get_matching(&[b"use-exit*"]).is_empty());
        assert_eq!(c.get_matching(&[b"use-exit-on-panic"]).len(), 1);
    }

    #[test]
    fn rewrite_keeps_comments_and_updates_values() {
        let dir = std::env::temp_dir().join(format!("rill-rewrite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.conf");
        let body = "# my comment\nport 7000\nmaxmemory 1mb\n\n\n# tail\nsave 900 1\nsave 300 10\nslave-read-only yes\n";
        std::fs::write(&path, body).unwrap();
        let mut c = Config::from_args(&[path.display().to_string()]).unwrap();
        assert_eq!(c.get("save"), "900 1 300 10");
        // A directive the server no longer knows gets commented out.
        std::fs::write(&path, format!("{body}bogus 1\n")).unwrap();
        c.set_many(
            &[("maxmemory", "2mb"), ("save", "60 5"), ("hz", "20")],
            true,
        )
        .unwrap();
        c.rewrite().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# my comment\nport 7000\nmaxmemory 2mb\n\n# tail\nsave 60 5\n"),
            "{text}"
        );
        assert!(text.contains("\nreplica-read-only yes\n"), "{text}");
        assert!(text.contains("\n# ??? bogus 1\n"), "{text}");
        assert!(text.contains("# Generated by CONFIG REWRITE\n"), "{text}");
        assert!(text.contains("\nhz 20\n"), "{text}");
        assert!(text.contains("\ndir \""), "{text}");
        assert!(!text.contains("save 300 10"), "{text}");
        // The rewritten file loads back to the same values.
        let c2 = Config::from_args(&[path.display().to_string()]).unwrap();
        assert_eq!(c2.get("maxmemory"), "2097152");
        assert_eq!(c2.get("save"), "60 5");
        assert_eq!(c2.hz, 20);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shipped_redis_conf_loads_with_defaults() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/redis.conf");
        let c = Config::from_args(&[path.to_string()]).unwrap();
        let d = Config::default();
        let text = std::fs::read_to_string(path).unwrap();
        let mut checked = 0;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let name = line.split_whitespace().next().unwrap();
            let p = lookup(name).unwrap();
            // Everything it sets is the built-in default, except the documented bind.
            if !matches!(p.name, "bind" | "dir") {
                assert_eq!(c.get(p.name), d.get(p.name), "{name}");
                checked += 1;
            }
        }
        assert!(checked > 30, "{checked}");
        assert_eq!(c.bind, vec!["127.0.0.1", "-::1"]);
        assert_eq!(c.file.as_deref(), Some(std::path::Path::new(path)));
    }
}
