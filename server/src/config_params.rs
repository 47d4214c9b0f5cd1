//! The parameter table: every name CONFIG GET/SET knows, its type, default and flags.
//! Defaults are Redis 7.0's, except where Rill documents its own (kafka-*).

/// Parameter value types, with CONFIG SET's validation rules.
pub enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    Memory {
        min: i64,
        max: i64,
    },
    Enum(&'static [&'static str]),
    String,
    /// Custom validation returning the canonical value.
    Special(fn(&str) -> Result<String, String>),
}

/// Cannot be changed by CONFIG SET.
pub const F_IMMUTABLE: u32 = 1;
/// Value hidden from logs (passwords).
pub const F_SENSITIVE: u32 = 2;

pub struct Param {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    pub default: &'static str,
    pub flags: u32,
}

const fn p(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        flags: 0,
    }
}
const fn imm(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        flags: F_IMMUTABLE,
    }
}

const I64MAX: i64 = i64::MAX;
const INTMAX: i64 = i32::MAX as i64;

fn validate_save(v: &str) -> Result<String, String> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    if parts.len() % 2 != 0 {
        return Err("Invalid save parameters".into());
    }
    for x in &parts {
        x.parse::<u64>()
            .map_err(|_| "Invalid save parameters".to_string())?;
    }
    Ok(parts.join(" "))
}

fn validate_bind(v: &str) -> Result<String, String> {
    Ok(v.split_whitespace().collect::<Vec<_>>().join(" "))
}

pub static PARAMS: &[Param] = &[
    p("bind", Kind::Special(validate_bind), "127.0.0.1 -::1"),
    p("port", Kind::Int { min: 0, max: 65535 }, "6379"),
    p("kafka-port", Kind::Int { min: 0, max: 65535 }, "9092"),
    p("dir", Kind::String, "."),
    imm(
        "databases",
        Kind::Int {
            min: 1,
            max: INTMAX,
        },
        "16",
    ),
    Param {
        name: "requirepass",
        alias: None,
        kind: Kind::String,
        default: "",
        flags: F_SENSITIVE,
    },
    p(
        "maxclients",
        Kind::Int {
            min: 1,
            max: INTMAX,
        },
        "10000",
    ),
    p(
        "timeout",
        Kind::Int {
            min: 0,
            max: INTMAX,
        },
        "0",
    ),
    p(
        "tcp-keepalive",
        Kind::Int {
            min: 0,
            max: INTMAX,
        },
        "300",
    ),
    p(
        "loglevel",
        Kind::Enum(&["debug", "verbose", "notice", "warning", "nothing"]),
        "notice",
    ),
    imm("logfile", Kind::String, ""),
    p(
        "proto-max-bulk-len",
        Kind::Memory {
            min: 1024 * 1024,
            max: I64MAX,
        },
        "536870912",
    ),
    p(
        "client-query-buffer-limit",
        Kind::Memory {
            min: 1024 * 1024,
            max: I64MAX,
        },
        "1073741824",
    ),
    p(
        "maxmemory",
        Kind::Memory {
            min: 0,
            max: I64MAX,
        },
        "0",
    ),
    p(
        "maxmemory-policy",
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
    ),
    p("maxmemory-samples", Kind::Int { min: 1, max: 64 }, "5"),
    p("protected-mode", Kind::Bool, "yes"),
    p(
        "hz",
        Kind::Int {
            min: 0,
            max: INTMAX,
        },
        "10",
    ),
    p(
        "slowlog-log-slower-than",
        Kind::Int {
            min: -1,
            max: I64MAX,
        },
        "10000",
    ),
    p(
        "slowlog-max-len",
        Kind::Int {
            min: 0,
            max: I64MAX,
        },
        "128",
    ),
    p(
        "lfu-log-factor",
        Kind::Int {
            min: 0,
            max: INTMAX,
        },
        "10",
    ),
    p(
        "lfu-decay-time",
        Kind::Int {
            min: 0,
            max: INTMAX,
        },
        "1",
    ),
    p("active-expire-effort", Kind::Int { min: 1, max: 10 }, "1"),
    p(
        "save",
        Kind::Special(validate_save),
        "3600 1 300 100 60 10000",
    ),
    p("appendonly", Kind::Bool, "no"),
    p("daemonize", Kind::Bool, "no"),
];
