//! redis.conf parsing, `--directive value` overrides, and the live parameter table behind
//! CONFIG GET/SET/REWRITE. Every Redis 7.0 parameter name is known (see
//! [`crate::config_params::PARAMS`]); the ones Rill acts on are mirrored into typed fields.

use crate::config_params::{Kind, Param, F_IMMUTABLE, PARAMS};
use std::collections::HashMap;
use std::path::PathBuf;

/// Live configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Canonical parameter name -> value as CONFIG GET reports it.
    values: HashMap<&'static str, String>,
    /// The config file, for CONFIG REWRITE.
    pub file: Option<PathBuf>,
    // Typed mirrors of the parameters the server reads on hot paths.
    pub bind: Vec<String>,
    pub port: u16,
    pub kafka_port: u16,
    pub dir: PathBuf,
    pub databases: usize,
    pub requirepass: Option<String>,
    pub maxclients: usize,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub proto_max_bulk_len: u64,
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
        write!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (Rill) ***\nReading the configuration file {}, at line {}\n>>> '{}'\n{}",
            self.source, self.line, self.text, self.reason
        )
    }
}

/// Finds a parameter by name or alias (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static Param> {
    let lower = name.to_ascii_lowercase();
    PARAMS
        .iter()
        .find(|p| p.name == lower || p.alias == Some(lower.as_str()))
}

fn parse_memory(v: &str) -> Option<u64> {
    let l = v.to_ascii_lowercase();
    let (num, mul) = if let Some(n) = l.strip_suffix("gb") {
        (n, 1u64 << 30)
    } else if let Some(n) = l.strip_suffix("mb") {
        (n, 1 << 20)
    } else if let Some(n) = l.strip_suffix("kb") {
        (n, 1 << 10)
    } else if let Some(n) = l.strip_suffix('g') {
        (n, 1_000_000_000)
    } else if let Some(n) = l.strip_suffix('m') {
        (n, 1_000_000)
    } else if let Some(n) = l.strip_suffix('k') {
        (n, 1000)
    } else if let Some(n) = l.strip_suffix('b') {
        (n, 1)
    } else {
        (l.as_str(), 1)
    };
    let n: i64 = num.parse().ok()?;
    if n < 0 {
        return None;
    }
    (n as u64).checked_mul(mul)
}

/// Validates `value` for `p` and returns its canonical form (what CONFIG GET shows).
pub fn canonical(p: &Param, value: &str) -> Result<String, String> {
    match &p.kind {
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int { min, max } => {
            let n: i64 = value
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if n < *min || n > *max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(n.to_string())
        }
        Kind::Memory { min, max } => {
            let n =
                parse_memory(value).ok_or_else(|| "argument must be a memory value".to_string())?;
            if (n as i64) < *min || n > *max as u64 {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(n.to_string())
        }
        Kind::Enum(opts) => {
            let l = value.to_ascii_lowercase();
            if opts.contains(&l.as_str()) {
                Ok(l)
            } else {
                Err(format!(
                    "argument(s) must be one of the following: {}",
                    opts.join(", ")
                ))
            }
        }
        Kind::String => Ok(value.to_string()),
        Kind::Special(validate) => validate(value),
    }
}

impl Default for Config {
    fn default() -> Self {
        let mut values = HashMap::new();
        for p in PARAMS {
            values.insert(p.name, p.default.to_string());
        }
        let mut c = Config {
            values,
            file: None,
            bind: vec![],
            port: 6379,
            kafka_port: 9092,
            dir: PathBuf::from("."),
            databases: 16,
            requirepass: None,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            proto_max_bulk_len: 512 << 20,
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
        };
        c.refresh();
        c
    }
}

impl Config {
    /// Reads a config file, then applies `--directive value` overrides, as redis-server does.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let mut rest = args;
        if let Some(first) = rest.first() {
            if !first.starts_with("--") {
                let text = std::fs::read_to_string(first).map_err(|e| ConfigError {
                    source: first.clone(),
                    line: 0,
                    text: String::new(),
                    reason: format!("Fatal error, can't open config file '{first}': {e}"),
                })?;
                c.load_text(&text, first)?;
                c.file =
                    Some(std::fs::canonicalize(first).unwrap_or_else(|_| PathBuf::from(first)));
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
        Ok(c)
    }

    /// Applies config text (file body or overrides).
    pub fn load_text(&mut self, text: &str, source: &str) -> Result<(), ConfigError> {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
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
            let args: Vec<String> = args
                .into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect();
            let name = args[0].to_ascii_lowercase();
            if name == "include" {
                let path = args
                    .get(1)
                    .ok_or_else(|| err("Bad directive or wrong number of arguments".into()))?;
                let body = std::fs::read_to_string(path)
                    .map_err(|e| err(format!("Can't open include file: {e}")))?;
                self.load_text(&body, path)?;
                continue;
            }
            let Some(p) = lookup(&name) else {
                return Err(err("Bad directive or wrong number of arguments".into()));
            };
            if args.len() < 2 && !matches!(p.kind, Kind::String | Kind::Special(_)) {
                return Err(err("wrong number of arguments".into()));
            }
            let value = args[1..].join(" ");
            // Multi-valued directives accumulate across lines in a file (save, bind lists).
            let value = if p.name == "save" && source != "(command line)" && self.file_seen_save() {
                format!("{} {}", self.get(p.name), value).trim().to_string()
            } else {
                value
            };
            if p.name == "save" {
                self.values.insert("__save_seen", String::new());
            }
            let v = canonical(p, &value).map_err(err)?;
            self.values.insert(p.name, v);
        }
        self.values.remove("__save_seen");
        self.refresh();
        Ok(())
    }

    fn file_seen_save(&self) -> bool {
        self.values.contains_key("__save_seen")
    }

    /// Current value of a parameter by canonical name.
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map(|s| s.as_str()).unwrap_or("")
    }

    /// CONFIG GET pattern: (name, value) pairs of every parameter whose name or alias matches.
    pub fn get_matching(&self, pattern: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for p in PARAMS {
            if crate::db::glob::glob_match(pattern, p.name.as_bytes(), true) {
                out.push((p.name.to_string(), self.get(p.name).to_string()));
            }
            if let Some(a) = p.alias {
                if crate::db::glob::glob_match(pattern, a.as_bytes(), true) {
                    out.push((a.to_string(), self.get(p.name).to_string()));
                }
            }
        }
        out
    }

    /// CONFIG SET of one parameter (runtime rules: immutable ones are refused).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let p = lookup(name).ok_or_else(|| {
            format!("Unknown option or number of arguments for CONFIG SET - '{name}'")
        })?;
        if p.flags & F_IMMUTABLE != 0 {
            return Err(format!("CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"));
        }
        let v = canonical(p, value).map_err(|e| {
            format!("CONFIG SET failed (possibly related to argument '{name}') - {e}")
        })?;
        self.values.insert(p.name, v);
        self.refresh();
        Ok(())
    }

    fn int(&self, name: &str) -> i64 {
        self.get(name).parse().unwrap_or(0)
    }

    fn refresh(&mut self) {
        self.bind = self
            .get("bind")
            .split_whitespace()
            .map(|s| s.to_string())
            .collect();
        self.port = self.int("port") as u16;
        self.kafka_port = self.int("kafka-port") as u16;
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
        self.proto_max_bulk_len = self.int("proto-max-bulk-len") as u64;
        self.client_query_buffer_limit = self.int("client-query-buffer-limit") as u64;
        self.maxmemory = self.int("maxmemory") as u64;
        self.maxmemory_policy = self.get("maxmemory-policy").to_string();
        self.maxmemory_samples = self.int("maxmemory-samples") as usize;
        self.protected_mode = self.get("protected-mode") == "yes";
        self.hz = self.int("hz").clamp(1, 500) as u64;
        self.slowlog_log_slower_than = self.int("slowlog-log-slower-than");
        self.slowlog_max_len = self.int("slowlog-max-len") as usize;
        self.lfu_log_factor = self.int("lfu-log-factor") as u32;
        self.lfu_decay_time = self.int("lfu-decay-time") as u32;
        self.loglevel = self.get("loglevel").to_string();
        self.logfile = self.get("logfile").to_string();
        self.active_expire_effort = self.int("active-expire-effort") as u32;
    }

    /// CONFIG REWRITE: rewrites the config file in place, keeping comments and unknown
    /// lines, replacing directives whose value changed, appending new ones.
    pub fn rewrite(&self) -> Result<(), String> {
        let path = self
            .file
            .as_ref()
            .ok_or_else(|| "The server is running without a config file".to_string())?;
        let old = std::fs::read_to_string(path).unwrap_or_default();
        let mut out = Vec::new();
        let mut written = std::collections::HashSet::new();
        for line in old.lines() {
            let t = line.trim();
            let name = t
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match (t.starts_with('#') || t.is_empty(), lookup(&name)) {
                (false, Some(p)) => {
                    // First occurrence carries the current value; repeats are dropped.
                    if written.insert(p.name) {
                        out.push(format!("{} {}", p.name, quote_arg(self.get(p.name))));
                    }
                }
                _ => out.push(line.to_string()),
            }
        }
        let mut header = false;
        for p in PARAMS {
            if !written.contains(p.name) && self.get(p.name) != p.default {
                if !header {
                    out.push("# Generated by CONFIG REWRITE".into());
                    header = true;
                }
                out.push(format!("{} {}", p.name, quote_arg(self.get(p.name))));
            }
        }
        let tmp = path.with_extension("tmp-rewrite");
        std::fs::write(&tmp, out.join("\n") + "\n").map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, path).map_err(|e| e.to_string())
    }
}

fn quote_arg(v: &str) -> String {
    if v.is_empty() {
        "\"\"".into()
    } else if v.contains(|c: char| c == '"' || c == '\'' || c == '\\' || c.is_control()) {
        format!("\"{}\"", v.escape_default())
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
        assert!(e.reason.contains("integer"), "{}", e.reason);
    }

    #[test]
    fn set_validates() {
        let mut c = Config::default();
        assert!(c.set("maxmemory-policy", "allkeys-lru").is_ok());
        assert_eq!(c.maxmemory_policy, "allkeys-lru");
        assert!(c
            .set("maxmemory-policy", "bogus")
            .unwrap_err()
            .contains("must be one of"));
        assert!(c
            .set("nope", "1")
            .unwrap_err()
            .starts_with("Unknown option"));
    }
}
