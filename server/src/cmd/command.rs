//! COMMAND: introspection of the command table (COUNT, INFO, DOCS, LIST, GETKEYS,
//! GETKEYSANDFLAGS, HELP), in Redis 7.0's reply shapes.
//!
//! Everything is derived from the [`CommandSpec`]s generically, so commands other
//! families add show up without changes here:
//! - ACL categories from flags and group as Redis's `setImplicitACLCategories` does, plus the
//!   few categories Redis declares explicitly ([`ACL_EXCEPTIONS`]);
//! - key specs and tips from Redis 7.0.15's tables (`command_data.rs`) when the command is a
//!   Redis command, otherwise derived from first/last/step and a `numkeys` in the syntax;
//! - COMMAND DOCS arguments by parsing the spec's `syntax` string ([`parse_syntax`]).

use super::*;

#[path = "command_data.rs"]
mod data;

// ---------------------------------------------------------------------------------------
// ACL categories

/// Redis's ACL categories, in the order COMMAND INFO lists them.
pub const ACL_CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Categories Redis declares explicitly beyond what flags and group imply: (full name,
/// added, removed).
const ACL_EXCEPTIONS: &[(&str, &[&str], &[&str])] = &[
    ("asking", &["connection"], &[]),
    ("dbsize", &["keyspace"], &[]),
    ("flushall", &["keyspace", "dangerous"], &[]),
    ("flushdb", &["keyspace", "dangerous"], &[]),
    ("info", &["dangerous"], &[]),
    ("keys", &["dangerous"], &[]),
    ("lastsave", &["admin", "dangerous"], &[]),
    ("migrate", &["dangerous"], &[]),
    ("pubsub|help", &[], &["pubsub"]),
    ("readonly", &["connection"], &[]),
    ("readwrite", &["connection"], &[]),
    ("restore", &["dangerous"], &[]),
    ("restore-asking", &["keyspace", "dangerous"], &[]),
    ("role", &["admin", "dangerous"], &[]),
    (
        "sort",
        &["set", "sortedset", "list", "dangerous"],
        &["keyspace"],
    ),
    (
        "sort_ro",
        &["set", "sortedset", "list", "dangerous"],
        &["keyspace"],
    ),
    ("swapdb", &["keyspace", "dangerous"], &[]),
    ("wait", &["connection"], &["keyspace"]),
];

/// The ACL category a command group implies.
fn group_category(group: &str) -> Option<&'static str> {
    Some(match group {
        "string" => "string",
        "list" => "list",
        "set" => "set",
        "sorted-set" | "sortedset" | "zset" => "sortedset",
        "hash" => "hash",
        "bitmap" => "bitmap",
        "hyperloglog" => "hyperloglog",
        "geo" => "geo",
        "stream" => "stream",
        "pubsub" => "pubsub",
        "transactions" | "transaction" => "transaction",
        "scripting" => "scripting",
        "connection" => "connection",
        "generic" | "keyspace" => "keyspace",
        _ => return None,
    })
}

/// Redis's group name for COMMAND DOCS.
fn docs_group(group: &str) -> &str {
    match group {
        "zset" | "sortedset" => "sorted-set",
        "transaction" => "transactions",
        "keyspace" => "generic",
        g => g,
    }
}

fn is_container(spec: &CommandSpec) -> bool {
    !spec.subcommands.is_empty()
}

/// ACL categories of a command (without the `@`), in Redis's order.
pub fn acl_categories(full_name: &str, spec: &CommandSpec) -> Vec<&'static str> {
    let mut set: Vec<&'static str> = Vec::new();
    // Containers (CONFIG, CLIENT...) get no group category of their own.
    let group = if is_container(spec) {
        None
    } else {
        group_category(spec.group)
    };
    if let Some(g) = group {
        set.push(g);
    }
    let f = spec.flags;
    if f & WRITE != 0 {
        set.push("write");
    }
    if f & READONLY != 0 && group != Some("scripting") {
        set.push("read");
    }
    if f & ADMIN != 0 {
        set.push("admin");
        set.push("dangerous");
    }
    if f & PUBSUB != 0 {
        set.push("pubsub");
    }
    if f & FAST != 0 {
        set.push("fast");
    } else {
        set.push("slow");
    }
    if f & BLOCKING != 0 {
        set.push("blocking");
    }
    // COMMAND and its subcommands are declared @connection.
    if full_name == "command" || full_name.starts_with("command|") {
        set.push("connection");
    }
    if let Some((_, add, remove)) = ACL_EXCEPTIONS.iter().find(|(n, _, _)| *n == full_name) {
        set.extend(add.iter().copied());
        set.retain(|c| !remove.contains(c));
    }
    ACL_CATEGORIES
        .iter()
        .copied()
        .filter(|c| set.contains(c))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Key specs

#[derive(Debug, Clone, PartialEq)]
pub enum BeginSearch {
    Index(i64),
    Keyword { keyword: String, startfrom: i64 },
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FindKeys {
    Range {
        lastkey: i64,
        keystep: i64,
        limit: i64,
    },
    Keynum {
        keynumidx: i64,
        firstkey: i64,
        keystep: i64,
    },
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeySpec {
    pub notes: String,
    pub flags: Vec<String>,
    pub begin: BeginSearch,
    pub find: FindKeys,
}

fn nums(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|x| x.parse().ok()).collect()
}

/// Decodes one `command_data.rs` key spec.
fn decode_spec(s: &str) -> KeySpec {
    let mut parts = s.split('|');
    let flags = parts
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|f| !f.is_empty())
        .map(String::from)
        .collect();
    let b = parts.next().unwrap_or("u");
    let begin = if let Some(i) = b.strip_prefix('i') {
        BeginSearch::Index(i.parse().unwrap_or(0))
    } else if let Some(k) = b.strip_prefix('k') {
        let (kw, from) = k.rsplit_once(':').unwrap_or((k, "1"));
        BeginSearch::Keyword {
            keyword: kw.to_string(),
            startfrom: from.parse().unwrap_or(1),
        }
    } else {
        BeginSearch::Unknown
    };
    let f = parts.next().unwrap_or("u");
    let notes = parts.next().unwrap_or("").to_string();
    let find = if let Some(r) = f.strip_prefix('r') {
        let n = nums(r);
        FindKeys::Range {
            lastkey: n.first().copied().unwrap_or(0),
            keystep: n.get(1).copied().unwrap_or(1),
            limit: n.get(2).copied().unwrap_or(0),
        }
    } else if let Some(r) = f.strip_prefix('n') {
        let n = nums(r);
        FindKeys::Keynum {
            keynumidx: n.first().copied().unwrap_or(0),
            firstkey: n.get(1).copied().unwrap_or(1),
            keystep: n.get(2).copied().unwrap_or(1),
        }
    } else {
        FindKeys::Unknown
    };
    KeySpec {
        notes,
        flags,
        begin,
        find,
    }
}

fn data_lookup<'a>(table: &'a [(&str, &'a [&'a str])], name: &str) -> Option<&'a [&'a str]> {
    table
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| table[i].1)
}

/// Key specs of a command: Redis's own for Redis commands, otherwise derived.
pub fn key_specs(full_name: &str, spec: &CommandSpec) -> Vec<KeySpec> {
    if let Some(specs) = data_lookup(data::KEY_SPECS, full_name) {
        return specs.iter().map(|s| decode_spec(s)).collect();
    }
    let mut out = Vec::new();
    let flags: Vec<String> = if spec.flags & WRITE != 0 {
        vec!["RW".into(), "update".into()]
    } else {
        vec!["RO".into(), "access".into()]
    };
    if spec.first_key > 0 {
        let lastkey = if spec.last_key < 0 {
            spec.last_key as i64
        } else {
            (spec.last_key - spec.first_key) as i64
        };
        out.push(KeySpec {
            notes: String::new(),
            flags: flags.clone(),
            begin: BeginSearch::Index(spec.first_key as i64),
            find: FindKeys::Range {
                lastkey,
                keystep: spec.step.max(1) as i64,
                limit: 0,
            },
        });
    }
    if spec.flags & MOVABLEKEYS != 0 {
        // `... numkeys key [key ...]`: the leading required arguments fix numkeys' position.
        let words: Vec<&str> = spec.syntax.split_whitespace().collect();
        if let Some(pos) = words.iter().position(|w| *w == "numkeys") {
            if words[..pos]
                .iter()
                .all(|w| !w.contains(['[', ']', '<', '>', '|']) && !is_token_word(w))
                && matches!(words.get(pos + 1), Some(&"key") | Some(&"[key"))
            {
                let prefix = if full_name.contains('|') { 2 } else { 1 };
                out.push(KeySpec {
                    notes: String::new(),
                    flags,
                    begin: BeginSearch::Index((pos + prefix) as i64),
                    find: FindKeys::Keynum {
                        keynumidx: 0,
                        firstkey: 1,
                        keystep: 1,
                    },
                });
            }
        }
    }
    out
}

/// Command tips (Redis's own for Redis commands).
pub fn tips(full_name: &str) -> &'static [&'static str] {
    data_lookup(data::TIPS, full_name).unwrap_or(&[])
}

fn int_reply(n: i64) -> Reply {
    Reply::Int(n)
}

fn map(pairs: Vec<(&str, Reply)>) -> Reply {
    Reply::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Reply::bulk(Bytes::copy_from_slice(k.as_bytes())), v))
            .collect(),
    )
}

fn bulk_str(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn status(s: &str) -> Reply {
    Reply::Simple(Bytes::copy_from_slice(s.as_bytes()))
}

fn key_spec_reply(k: &KeySpec) -> Reply {
    let begin = match &k.begin {
        BeginSearch::Index(i) => map(vec![
            ("type", bulk_str("index")),
            ("spec", map(vec![("index", int_reply(*i))])),
        ]),
        BeginSearch::Keyword { keyword, startfrom } => map(vec![
            ("type", bulk_str("keyword")),
            (
                "spec",
                map(vec![
                    ("keyword", bulk_str(keyword)),
                    ("startfrom", int_reply(*startfrom)),
                ]),
            ),
        ]),
        BeginSearch::Unknown => map(vec![
            ("type", bulk_str("unknown")),
            ("spec", Reply::Map(vec![])),
        ]),
    };
    let find = match &k.find {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => map(vec![
            ("type", bulk_str("range")),
            (
                "spec",
                map(vec![
                    ("lastkey", int_reply(*lastkey)),
                    ("keystep", int_reply(*keystep)),
                    ("limit", int_reply(*limit)),
                ]),
            ),
        ]),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => map(vec![
            ("type", bulk_str("keynum")),
            (
                "spec",
                map(vec![
                    ("keynumidx", int_reply(*keynumidx)),
                    ("firstkey", int_reply(*firstkey)),
                    ("keystep", int_reply(*keystep)),
                ]),
            ),
        ]),
        FindKeys::Unknown => map(vec![
            ("type", bulk_str("unknown")),
            ("spec", Reply::Map(vec![])),
        ]),
    };
    let mut pairs = Vec::new();
    if !k.notes.is_empty() {
        pairs.push(("notes", bulk_str(&k.notes)));
    }
    pairs.push((
        "flags",
        Reply::Set(k.flags.iter().map(|f| status(f)).collect()),
    ));
    pairs.push(("begin_search", begin));
    pairs.push(("find_keys", find));
    map(pairs)
}

/// One COMMAND INFO entry (10 fields, subcommands nested).
fn info_reply(full_name: &str, spec: &CommandSpec) -> Reply {
    let flags: Vec<Reply> = FLAG_NAMES
        .iter()
        .filter(|(bit, _)| spec.flags & bit != 0)
        .map(|(_, n)| status(n))
        .collect();
    let subs = if is_container(spec) {
        Reply::Array(
            spec.subcommands
                .iter()
                .map(|s| info_reply(&format!("{full_name}|{}", s.name), s))
                .collect(),
        )
    } else {
        Reply::Set(vec![])
    };
    Reply::Array(vec![
        bulk_str(full_name),
        int_reply(spec.arity as i64),
        Reply::Set(flags),
        int_reply(spec.first_key as i64),
        int_reply(spec.last_key as i64),
        int_reply(spec.step as i64),
        Reply::Set(
            acl_categories(full_name, spec)
                .iter()
                .map(|c| status(&format!("@{c}")))
                .collect(),
        ),
        Reply::Set(tips(full_name).iter().map(|t| bulk_str(t)).collect()),
        Reply::Set(
            key_specs(full_name, spec)
                .iter()
                .map(key_spec_reply)
                .collect(),
        ),
        subs,
    ])
}

// ---------------------------------------------------------------------------------------
// Syntax -> COMMAND DOCS arguments

/// COMMAND DOCS argument types.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgType {
    Key,
    String,
    Integer,
    Double,
    Pattern,
    UnixTime,
    PureToken,
    OneOf(Vec<Arg>),
    Block(Vec<Arg>),
}

impl ArgType {
    fn name(&self) -> &'static str {
        match self {
            ArgType::Key => "key",
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf(_) => "oneof",
            ArgType::Block(_) => "block",
        }
    }
}

/// One COMMAND DOCS argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: String,
    pub kind: ArgType,
    pub token: Option<String>,
    pub optional: bool,
    pub multiple: bool,
    pub multiple_token: bool,
}

impl Arg {
    fn new(name: impl Into<String>, kind: ArgType) -> Arg {
        Arg {
            name: name.into(),
            kind,
            token: None,
            optional: false,
            multiple: false,
            multiple_token: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Word(String),
    /// `[...]` (optional) or `<...>`, alternatives separated by `|`.
    Group {
        optional: bool,
        alts: Vec<Vec<Node>>,
    },
}

fn tokenize(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_whitespace() || matches!(c, '[' | ']' | '<' | '>' | '|') {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Parses alternatives up to `close` (or the end); unbalanced brackets are tolerated.
fn parse_alts(toks: &[String], pos: &mut usize, close: Option<&str>) -> Vec<Vec<Node>> {
    let mut alts = vec![Vec::new()];
    while *pos < toks.len() {
        let t = toks[*pos].as_str();
        *pos += 1;
        match t {
            "|" => alts.push(Vec::new()),
            "[" | "<" => {
                let inner = parse_alts(toks, pos, Some(if t == "[" { "]" } else { ">" }));
                alts.last_mut()
                    .expect("invariant: non-empty")
                    .push(Node::Group {
                        optional: t == "[",
                        alts: inner,
                    });
            }
            "]" | ">" => {
                if close == Some(t) {
                    return alts;
                }
            }
            w => alts
                .last_mut()
                .expect("invariant: non-empty")
                .push(Node::Word(w.to_string())),
        }
    }
    alts
}

/// A word written in capitals (or punctuation like `=`, `~`, `*`, `""`) is a literal token.
fn is_token_word(w: &str) -> bool {
    if w == "..." {
        return false;
    }
    let has_lower = w.chars().any(|c| c.is_ascii_lowercase());
    let has_upper = w.chars().any(|c| c.is_ascii_uppercase());
    !has_lower && (has_upper || !w.chars().any(|c| c.is_ascii_digit()))
}

/// The type a lowercase argument name suggests; `name:type` overrides it.
fn type_for(name: &str) -> (String, ArgType) {
    if let Some((n, t)) = name.split_once(':') {
        let kind = match t {
            "key" => ArgType::Key,
            "integer" => ArgType::Integer,
            "double" => ArgType::Double,
            "pattern" => ArgType::Pattern,
            "unix-time" => ArgType::UnixTime,
            _ => ArgType::String,
        };
        return (n.to_string(), kind);
    }
    let kind = match name {
        "key" | "destination" | "source" | "newkey" | "destkey" | "srckey" | "sourcekey" => {
            ArgType::Key
        }
        "pattern" => ArgType::Pattern,
        "unix-time-seconds" | "unix-time-milliseconds" => ArgType::UnixTime,
        "count" | "numkeys" | "start" | "stop" | "end" | "index" | "offset" | "seconds"
        | "milliseconds" | "db" | "destination-db" | "port" | "increment" | "decrement"
        | "rank" | "len" | "num-matches" | "numreplicas" | "protover" | "cursor" | "weight"
        | "samples" | "index1" | "index2" | "numlocal" | "ms" | "bit" | "timeout" | "client-id"
        | "threshold" => ArgType::Integer,
        "score" | "min" | "max" | "longitude" | "latitude" | "radius" | "width" | "height" => {
            ArgType::Double
        }
        _ => ArgType::String,
    };
    (name.to_string(), kind)
}

fn token_name(tok: &str) -> String {
    match tok {
        "=" => "equal".into(),
        "~" => "approximately".into(),
        "*" => "auto-id".into(),
        "$" => "last-id".into(),
        "\"\"" => "empty-string".into(),
        t => t.to_ascii_lowercase(),
    }
}

fn block_or_single(mut args: Vec<Arg>, name_hint: &str) -> Arg {
    if args.len() == 1 {
        return args.pop().expect("invariant: one");
    }
    let name = if name_hint.is_empty() {
        args.iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join("-")
    } else {
        name_hint.to_string()
    };
    Arg::new(name, ArgType::Block(args))
}

fn convert_node(n: &Node) -> Arg {
    match n {
        Node::Word(w) if is_token_word(w) => {
            let mut a = Arg::new(token_name(w), ArgType::PureToken);
            a.token = Some(w.clone());
            a
        }
        Node::Word(w) => {
            let (name, kind) = type_for(w);
            Arg::new(name, kind)
        }
        Node::Group { optional, alts } => {
            let mut a = if alts.len() > 1 {
                let choices: Vec<Arg> = alts
                    .iter()
                    .map(|alt| block_or_single(convert_seq(alt), ""))
                    .collect();
                let name = choices
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join("-");
                Arg::new(name, ArgType::OneOf(choices))
            } else {
                let inner = convert_seq(alts.first().map(|v| v.as_slice()).unwrap_or(&[]));
                if inner.is_empty() {
                    Arg::new("", ArgType::Block(vec![]))
                } else {
                    block_or_single(inner, "")
                }
            };
            if *optional {
                a.optional = true;
            }
            a
        }
    }
}

/// Converts a sequence: `X [X ...]` repetitions become `multiple`, and a token followed by
/// arguments up to the next token becomes their token (`EX seconds`, `LIMIT offset count`).
fn convert_seq(nodes: &[Node]) -> Vec<Arg> {
    // Units: (nodes, repeated).
    let mut units: Vec<(Vec<Node>, bool)> = Vec::new();
    for n in nodes {
        if let Node::Group {
            optional: true,
            alts,
        } = n
        {
            if alts.len() == 1 {
                let inner = &alts[0];
                if inner.len() >= 2 && inner.last() == Some(&Node::Word("...".into())) {
                    let unit = &inner[..inner.len() - 1];
                    let k = unit.len();
                    if units.len() >= k
                        && units[units.len() - k..]
                            .iter()
                            .zip(unit)
                            .all(|((u, rep), x)| !rep && u.len() == 1 && &u[0] == x)
                    {
                        units.truncate(units.len() - k);
                        units.push((unit.to_vec(), true));
                        continue;
                    }
                }
            }
        }
        if n == &Node::Word("...".into()) {
            if let Some(last) = units.last_mut() {
                last.1 = true;
            }
            continue;
        }
        units.push((vec![n.clone()], false));
    }
    let is_tok = |u: &(Vec<Node>, bool)| {
        !u.1 && u.0.len() == 1 && matches!(&u.0[0], Node::Word(w) if is_token_word(w))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < units.len() {
        let (unit, repeated) = &units[i];
        if *repeated {
            let mut a = if unit.len() == 1 {
                convert_node(&unit[0])
            } else if matches!(&unit[0], Node::Word(w) if is_token_word(w)) {
                // GET pattern [GET pattern ...]
                let mut inner = block_or_single(convert_seq(&unit[1..]), "");
                inner.token = match &unit[0] {
                    Node::Word(w) => Some(w.clone()),
                    _ => None,
                };
                inner.multiple_token = true;
                inner
            } else {
                let args = convert_seq(unit);
                let name = args
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join("-");
                Arg::new(name, ArgType::Block(args))
            };
            a.multiple = true;
            out.push(a);
            i += 1;
            continue;
        }
        if is_tok(&units[i]) {
            let tok = match &unit[0] {
                Node::Word(w) => w.clone(),
                _ => unreachable!("is_tok checked a word"),
            };
            let mut j = i + 1;
            while j < units.len() && !is_tok(&units[j]) {
                j += 1;
            }
            let absorbed: Vec<Arg> = (i + 1..j)
                .flat_map(|k| convert_seq_unit(&units[k]))
                .collect();
            let a = if absorbed.is_empty() {
                convert_node(&unit[0])
            } else {
                let mut a = if absorbed.len() == 1 && absorbed[0].token.is_none() {
                    absorbed.into_iter().next().expect("invariant: one")
                } else {
                    Arg::new(token_name(&tok), ArgType::Block(absorbed))
                };
                a.token = Some(tok);
                a
            };
            out.push(a);
            i = j;
            continue;
        }
        out.push(convert_node(&unit[0]));
        i += 1;
    }
    out
}

fn convert_seq_unit(u: &(Vec<Node>, bool)) -> Vec<Arg> {
    if u.1 {
        convert_seq(
            &[
                u.0.clone(),
                vec![Node::Group {
                    optional: true,
                    alts: vec![u
                        .0
                        .iter()
                        .cloned()
                        .chain([Node::Word("...".into())])
                        .collect()],
                }],
            ]
            .concat(),
        )
    } else {
        u.0.iter().map(convert_node).collect()
    }
}

/// Parses a Redis-docs syntax string (`key value [NX | XX] [EX seconds | PX milliseconds]`)
/// into COMMAND DOCS arguments.
pub fn parse_syntax(syntax: &str) -> Vec<Arg> {
    let toks = tokenize(syntax);
    let mut pos = 0;
    let alts = parse_alts(&toks, &mut pos, None);
    if alts.len() > 1 {
        // A top-level choice: one oneof argument.
        return vec![convert_node(&Node::Group {
            optional: false,
            alts,
        })];
    }
    convert_seq(&alts[0])
}

/// Renders arguments back to a syntax line, as redis-cli renders its hints.
pub fn render_args(args: &[Arg]) -> String {
    args.iter().map(render_arg).collect::<Vec<_>>().join(" ")
}

fn render_arg(a: &Arg) -> String {
    let body = match &a.kind {
        ArgType::PureToken => a.token.clone().unwrap_or_default(),
        ArgType::OneOf(choices) => {
            let inner = choices
                .iter()
                .map(render_arg)
                .collect::<Vec<_>>()
                .join(" | ");
            match &a.token {
                Some(t) => format!("{t} <{inner}>"),
                None if a.optional => inner,
                None => format!("<{inner}>"),
            }
        }
        ArgType::Block(args) => {
            let inner = render_args(args);
            match &a.token {
                Some(t) => format!("{t} {inner}"),
                None => inner,
            }
        }
        _ => match &a.token {
            Some(t) => format!("{t} {}", a.name),
            None => a.name.clone(),
        },
    };
    let body = if a.multiple {
        if a.multiple_token || a.token.is_none() {
            format!("{body} [{body} ...]")
        } else {
            // WEIGHTS weight [weight ...]
            let no_tok = Arg {
                token: None,
                multiple: false,
                optional: false,
                ..a.clone()
            };
            let r = render_arg(&no_tok);
            format!("{body} [{r} ...]")
        }
    } else {
        body
    };
    if a.optional {
        format!("[{body}]")
    } else {
        body
    }
}

fn arg_reply(a: &Arg, key_index: &mut i64, nspecs: i64) -> Reply {
    let mut pairs = vec![
        ("name", bulk_str(&a.name)),
        ("type", bulk_str(a.kind.name())),
    ];
    if a.kind == ArgType::Key && nspecs > 0 {
        pairs.push(("key_spec_index", int_reply((*key_index).min(nspecs - 1))));
        *key_index += 1;
    }
    if let Some(t) = &a.token {
        pairs.push(("token", bulk_str(t)));
    }
    let mut flags = Vec::new();
    if a.optional {
        flags.push(status("optional"));
    }
    if a.multiple {
        flags.push(status("multiple"));
    }
    if a.multiple_token {
        flags.push(status("multiple_token"));
    }
    if !flags.is_empty() {
        pairs.push(("flags", Reply::Set(flags)));
    }
    if let ArgType::OneOf(args) | ArgType::Block(args) = &a.kind {
        pairs.push((
            "arguments",
            Reply::Array(
                args.iter()
                    .map(|x| arg_reply(x, key_index, nspecs))
                    .collect(),
            ),
        ));
    }
    map(pairs)
}

fn docs_reply(full_name: &str, spec: &CommandSpec) -> Reply {
    let mut pairs = Vec::new();
    if !spec.summary.is_empty() {
        pairs.push(("summary", bulk_str(spec.summary)));
    }
    if !spec.since.is_empty() {
        pairs.push(("since", bulk_str(spec.since)));
    }
    pairs.push(("group", bulk_str(docs_group(spec.group))));
    if !spec.complexity.is_empty() {
        pairs.push(("complexity", bulk_str(spec.complexity)));
    }
    if let Some(flags) = data_lookup(data::DOC_FLAGS, full_name) {
        pairs.push((
            "doc_flags",
            Reply::Set(flags.iter().map(|f| status(f)).collect()),
        ));
    }
    let args = parse_syntax(spec.syntax);
    if !args.is_empty() {
        let nspecs = key_specs(full_name, spec).len() as i64;
        let mut ki = 0;
        pairs.push((
            "arguments",
            Reply::Array(args.iter().map(|a| arg_reply(a, &mut ki, nspecs)).collect()),
        ));
    }
    if is_container(spec) {
        pairs.push((
            "subcommands",
            Reply::Map(
                spec.subcommands
                    .iter()
                    .map(|s| {
                        let n = format!("{full_name}|{}", s.name);
                        (bulk_str(&n), docs_reply(&n, s))
                    })
                    .collect(),
            ),
        ));
    }
    map(pairs)
}

// ---------------------------------------------------------------------------------------
// Lookup helpers

/// Every top-level command, sorted by name.
fn all_commands() -> Vec<&'static Registered> {
    let mut v: Vec<&Registered> = table().commands.values().collect();
    v.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    v
}

/// Looks up `name` or `container|sub`.
fn lookup_full(name: &[u8]) -> Option<&'static Registered> {
    let s = String::from_utf8_lossy(name).to_ascii_lowercase();
    match s.split_once('|') {
        Some((c, sub)) => table().commands.get(c)?.subs.get(sub),
        None => table().commands.get(&s),
    }
}

/// Resolves a full command line (as GETKEYS receives it) to its command or subcommand.
fn lookup_argv(argv: &[Bytes]) -> Option<&'static Registered> {
    let reg = lookup(&argv[0])?;
    if reg.subs.is_empty() || argv.len() < 2 {
        return Some(reg);
    }
    reg.subs
        .get(&String::from_utf8_lossy(&argv[1]).to_ascii_lowercase())
}

/// Keys found in a command line: (argv index, key spec flags).
pub type KeyHits = Vec<(usize, Vec<String>)>;

/// A key spec that does not fit the arguments (Redis's "invalid_spec").
#[derive(Debug, PartialEq)]
pub struct InvalidKeySpec;

/// Keys of a command line by its key specs (Redis's getKeysUsingKeySpecs): (argv index,
/// spec flags). Err on a spec that does not fit the arguments.
pub fn get_keys(
    full_name: &str,
    spec: &CommandSpec,
    argv: &[Bytes],
) -> Result<KeyHits, InvalidKeySpec> {
    let argc = argv.len() as i64;
    let mut out = Vec::new();
    for ks in key_specs(full_name, spec) {
        let first = match &ks.begin {
            BeginSearch::Index(i) => *i,
            BeginSearch::Keyword { keyword, startfrom } => {
                let start = if *startfrom > 0 {
                    *startfrom
                } else {
                    argc + startfrom
                };
                let end = if *startfrom > 0 { argc - 1 } else { 0 };
                let mut i = start;
                let mut found = 0;
                while i != end + if start <= end { 1 } else { -1 } {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if eq_ic(&argv[i as usize], keyword) {
                        found = i + 1;
                        break;
                    }
                    i += if start <= end { 1 } else { -1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            BeginSearch::Unknown => continue,
        };
        if first >= argc {
            continue;
        }
        let (first, last, step) = match &ks.find {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if *lastkey >= 0 {
                    first + lastkey
                } else if *limit <= 1 {
                    lastkey + argc
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (first, last, *keystep)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let idx = first + keynumidx;
                if idx >= argc {
                    return Err(InvalidKeySpec);
                }
                let n = std::str::from_utf8(&argv[idx as usize])
                    .ok()
                    .and_then(crate::config::string2ll)
                    .filter(|n| *n >= 0)
                    .ok_or(InvalidKeySpec)?;
                let f = first + firstkey;
                (f, f + n - 1, *keystep)
            }
            FindKeys::Unknown => continue,
        };
        if last >= argc || last < first || first >= argc {
            return Err(InvalidKeySpec);
        }
        let mut i = first;
        while i <= last {
            out.push((i as usize, ks.flags.clone()));
            i += step.max(1);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Handlers

/// ```text
/// COMMAND
/// ```
fn command_all(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Array(
        all_commands()
            .iter()
            .map(|r| info_reply(&r.full_name, r.spec))
            .collect(),
    ))
}

/// ```text
/// COMMAND COUNT
/// ```
fn command_count(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(table().commands.len() as i64))
}

/// ```text
/// COMMAND INFO [command-name [command-name ...]]
/// ```
fn command_info(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    if argv.len() == 2 {
        return command_all(ctx, argv);
    }
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|n| match lookup_full(n) {
                Some(r) => info_reply(&r.full_name, r.spec),
                // Redis's addReplyNull: `$-1` in RESP2.
                None => Reply::Null,
            })
            .collect(),
    ))
}

/// ```text
/// COMMAND DOCS [command-name [command-name ...]]
/// ```
fn command_docs(_ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let regs: Vec<&Registered> = if argv.len() == 2 {
        all_commands()
    } else {
        argv[2..].iter().filter_map(|n| lookup_full(n)).collect()
    };
    Ok(Reply::Map(
        regs.iter()
            .map(|r| (bulk_str(&r.full_name), docs_reply(&r.full_name, r.spec)))
            .collect(),
    ))
}

/// ```text
/// COMMAND LIST [FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]
/// ```
fn command_list(_ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    enum Filter<'a> {
        All,
        Module,
        AclCat(String),
        Pattern(&'a [u8]),
    }
    let filter = match argv.len() {
        2 => Filter::All,
        5 if eq_ic(&argv[2], "filterby") => {
            if eq_ic(&argv[3], "module") {
                Filter::Module
            } else if eq_ic(&argv[3], "aclcat") {
                Filter::AclCat(lossy(&argv[4]).to_ascii_lowercase())
            } else if eq_ic(&argv[3], "pattern") {
                Filter::Pattern(&argv[4])
            } else {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    let mut names = Vec::new();
    for r in all_commands() {
        let mut entries = vec![(r.full_name.clone(), r.spec)];
        let mut subs: Vec<&Registered> = r.subs.values().collect();
        subs.sort_by(|a, b| a.full_name.cmp(&b.full_name));
        entries.extend(subs.iter().map(|s| (s.full_name.clone(), s.spec)));
        for (name, spec) in entries {
            let keep = match &filter {
                Filter::All => true,
                Filter::Module => false,
                Filter::AclCat(c) => acl_categories(&name, spec).contains(&c.as_str()),
                Filter::Pattern(p) => crate::db::glob::glob_match(p, name.as_bytes(), true),
            };
            if keep {
                names.push(bulk_str(&name));
            }
        }
    }
    Ok(Reply::Array(names))
}

fn getkeys_common(argv: &[Bytes]) -> Result<(KeyHits, &[Bytes]), CmdError> {
    let line = &argv[2..];
    let reg = lookup_argv(line).ok_or_else(|| CmdError::err("Invalid command specified"))?;
    let spec = reg.spec;
    let specs = key_specs(&reg.full_name, spec);
    let has_keys = specs
        .first()
        .is_some_and(|k| !k.flags.iter().any(|f| f == "not_key"));
    if !has_keys {
        return Err(CmdError::err("The command has no key arguments"));
    }
    let argc = line.len() as i32;
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        return Err(CmdError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    // As Redis's getKeysFromCommandWithSpecs: a command whose key specs have
    // VARIABLE_FLAGS resolves its keys (and their flags) with its getkeys callback.
    if specs
        .iter()
        .any(|k| k.flags.iter().any(|f| f == "variable_flags"))
    {
        if let Some(keys) = variable_flags_keys(&reg.full_name, line) {
            return Ok((keys, line));
        }
    }
    // Key specs Redis cannot resolve (begin_search unknown) fall back to the command's
    // getkeys callback: sortGetKeys / sortROGetKeys.
    if reg.full_name == "sort" || reg.full_name == "sort_ro" {
        let mut keys = crate::cmd::sort::sort_get_keys(line);
        if reg.full_name == "sort_ro" {
            keys.truncate(1);
        }
        let flags = |store: bool| -> Vec<String> {
            let f: &[&str] = if store {
                &["OW", "update"]
            } else {
                &["RO", "access"]
            };
            f.iter().map(|s| s.to_string()).collect()
        };
        return Ok((
            keys.into_iter().map(|(i, st)| (i, flags(st))).collect(),
            line,
        ));
    }
    match get_keys(&reg.full_name, spec, line) {
        Ok(keys) if !keys.is_empty() => Ok((keys, line)),
        _ if spec.flags & NO_MANDATORY_KEYS != 0 => Ok((vec![], line)),
        _ => Err(CmdError::err("Invalid arguments specified for command")),
    }
}

/// Redis's getkeys callbacks for the commands whose key flags depend on the arguments
/// (setGetKeys, bitfieldGetKeys): the key is always argv[1].
fn variable_flags_keys(full_name: &str, line: &[Bytes]) -> Option<KeyHits> {
    let flags: &[&str] = match full_name {
        "set" => {
            if line.iter().skip(3).any(|a| eq_ic(a, "get")) {
                &["RW", "access", "update"]
            } else {
                &["OW", "update"]
            }
        }
        "bitfield" => {
            let mut readonly = true;
            let mut i = 2;
            while i < line.len() {
                let rem = line.len() - i - 1;
                let a = &line[i];
                if eq_ic(a, "get") && rem >= 2 {
                    i += 2;
                } else if eq_ic(a, "overflow") && rem >= 1 {
                    i += 1;
                } else {
                    // SET/INCRBY, or a syntax error: assume a write, as Redis does.
                    readonly = false;
                    break;
                }
                i += 1;
            }
            if readonly {
                &["RO", "access"]
            } else {
                &["RW", "access", "update"]
            }
        }
        _ => return None,
    };
    Some(vec![(1, flags.iter().map(|f| f.to_string()).collect())])
}

/// ```text
/// COMMAND GETKEYS command [arg [arg ...]]
/// ```
fn command_getkeys(_ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let (keys, line) = getkeys_common(argv)?;
    Ok(Reply::Array(
        keys.iter()
            .map(|(i, _)| Reply::Bulk(line[*i].clone()))
            .collect(),
    ))
}

/// ```text
/// COMMAND GETKEYSANDFLAGS command [arg [arg ...]]
/// ```
fn command_getkeysandflags(_ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let (keys, line) = getkeys_common(argv)?;
    Ok(Reply::Array(
        keys.iter()
            .map(|(i, flags)| {
                Reply::Array(vec![
                    Reply::Bulk(line[*i].clone()),
                    Reply::Set(flags.iter().map(|f| status(f)).collect()),
                ])
            })
            .collect(),
    ))
}

/// Redis's addReplyHelp: the header line, the lines, then HELP's own.
pub fn help_reply(name: &str, lines: &[&str]) -> Reply {
    let mut out = vec![status(&format!(
        "{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ))];
    out.extend(lines.iter().map(|l| status(l)));
    out.push(status("HELP"));
    out.push(status("    Prints this help."));
    Reply::Array(out)
}

/// ```text
/// COMMAND HELP
/// ```
fn command_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    ))
}

const SUB_FLAGS: u32 = LOADING | STALE;

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, SUB_FLAGS, command_count)
        .group("server")
        .doc("2.8.13", "Get total number of Redis commands", "O(1)"),
    CommandSpec::new("docs", -2, SUB_FLAGS, command_docs)
        .group("server")
        .doc(
            "7.0.0",
            "Get array of specific Redis command documentation",
            "O(N) where N is the number of commands to look up",
        )
        .syntax("[command-name [command-name ...]]"),
    CommandSpec::new("getkeys", -4, SUB_FLAGS, command_getkeys)
        .group("server")
        .doc(
            "2.8.13",
            "Extract keys given a full Redis command",
            "O(N) where N is the number of arguments to the command",
        ),
    CommandSpec::new("getkeysandflags", -4, SUB_FLAGS, command_getkeysandflags)
        .group("server")
        .doc(
            "7.0.0",
            "Extract keys and access flags given a full Redis command",
            "O(N) where N is the number of arguments to the command",
        ),
    CommandSpec::new("help", 2, SUB_FLAGS, command_help)
        .group("server")
        .doc(
            "5.0.0",
            "Show helpful text about the different subcommands",
            "O(1)",
        ),
    CommandSpec::new("info", -2, SUB_FLAGS, command_info)
        .group("server")
        .doc(
            "2.8.13",
            "Get array of specific Redis command details, or all when no argument is given.",
            "O(N) where N is the number of commands to look up",
        )
        .syntax("[command-name [command-name ...]]"),
    CommandSpec::new("list", -2, SUB_FLAGS, command_list)
        .group("server")
        .doc(
            "7.0.0",
            "Get an array of Redis command names",
            "O(N) where N is the total number of Redis commands",
        )
        .syntax("[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]"),
];

const fn command_container() -> CommandSpec {
    let mut c = CommandSpec::container("command", SUBCOMMANDS)
        .group("server")
        .doc(
            "2.8.13",
            "Get array of Redis command details",
            "O(N) where N is the total number of Redis commands",
        );
    // COMMAND alone lists everything.
    c.arity = -1;
    c.flags = LOADING | STALE;
    c.handler = command_all;
    c
}

pub static COMMANDS: &[CommandSpec] = &[command_container()];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::*;

    fn names(args: &[Arg]) -> Vec<(&str, &str, Option<&str>, bool, bool)> {
        args.iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.kind.name(),
                    a.token.as_deref(),
                    a.optional,
                    a.multiple,
                )
            })
            .collect()
    }

    #[test]
    fn parses_set_syntax() {
        let s = "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]";
        let args = parse_syntax(s);
        assert_eq!(
            names(&args),
            vec![
                ("key", "key", None, false, false),
                ("value", "string", None, false, false),
                ("nx-xx", "oneof", None, true, false),
                ("get", "pure-token", Some("GET"), true, false),
                (
                    "seconds-milliseconds-unix-time-seconds-unix-time-milliseconds-keepttl",
                    "oneof",
                    None,
                    true,
                    false
                ),
            ]
        );
        let ArgType::OneOf(exp) = &args[4].kind else {
            panic!("oneof")
        };
        assert_eq!(exp[0].token.as_deref(), Some("EX"));
        assert_eq!(exp[0].kind, ArgType::Integer);
        assert_eq!(exp[2].kind, ArgType::UnixTime);
        assert_eq!(exp[4].kind, ArgType::PureToken);
        assert_eq!(render_args(&args), s);
    }

    #[test]
    fn parses_repetition_and_blocks() {
        let args = parse_syntax("key [key ...]");
        assert_eq!(names(&args), vec![("key", "key", None, false, true)]);
        let args = parse_syntax("key score member [score member ...]");
        assert_eq!(args.len(), 2);
        assert!(args[1].multiple);
        assert!(matches!(&args[1].kind, ArgType::Block(b) if b.len() == 2));
        let s = "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]";
        let args = parse_syntax(s);
        assert_eq!(
            names(&args),
            vec![
                ("numkeys", "integer", None, false, false),
                ("key", "key", None, false, true),
                ("weight", "integer", Some("WEIGHTS"), true, true),
                ("sum-min-max", "oneof", Some("AGGREGATE"), true, false),
                ("withscores", "pure-token", Some("WITHSCORES"), true, false),
            ]
        );
        assert_eq!(render_args(&args), s);
        let s = "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA] [STORE destination]";
        let args = parse_syntax(s);
        assert_eq!(args[2].name, "limit");
        assert!(matches!(&args[2].kind, ArgType::Block(b) if b.len() == 2));
        assert!(args[3].multiple && args[3].multiple_token);
        assert_eq!(args[6].kind, ArgType::Key);
        assert_eq!(render_args(&args), s);
        let s = "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]";
        let args = parse_syntax(s);
        assert_eq!(args[2].token.as_deref(), Some("STREAMS"));
        assert!(matches!(&args[2].kind, ArgType::Block(b) if b.len() == 2 && b[0].multiple));
        assert_eq!(render_args(&args), s);
        let s = "[protover [AUTH username password] [SETNAME clientname]]";
        let args = parse_syntax(s);
        assert_eq!(args.len(), 1);
        assert!(args[0].optional);
        assert_eq!(render_args(&args), s);
        assert!(parse_syntax("").is_empty());
        // Malformed input never panics.
        for s in [
            "[",
            "]",
            "<a | [b",
            "a ... ...",
            "[...]",
            "| |",
            "[key [key ...]",
        ] {
            let _ = render_args(&parse_syntax(s));
        }
    }

    #[test]
    fn acl_categories_follow_redis() {
        let spec = CommandSpec::new("get", 2, READONLY | FAST, command_count).group("string");
        assert_eq!(acl_categories("get", &spec), vec!["read", "string", "fast"]);
        let spec = CommandSpec::new("flushdb", -1, WRITE, command_count).group("server");
        assert_eq!(
            acl_categories("flushdb", &spec),
            vec!["keyspace", "write", "slow", "dangerous"]
        );
        let spec =
            CommandSpec::new("list", -2, ADMIN | NOSCRIPT, command_count).group("connection");
        assert_eq!(
            acl_categories("client|list", &spec),
            vec!["admin", "slow", "dangerous", "connection"]
        );
    }

    #[test]
    fn key_specs_and_getkeys() {
        let mset = CommandSpec::new("mset", -3, WRITE | DENYOOM, command_count).keys(1, -1, 2);
        let argv = argv_of(&["mset", "a", "1", "b"]);
        let keys = get_keys("mset", &mset, &argv).unwrap();
        assert_eq!(keys.iter().map(|k| k.0).collect::<Vec<_>>(), vec![1, 3]);
        // A Rill-only command: derived spec.
        let spec = CommandSpec::new("rillx", -3, WRITE | MOVABLEKEYS, command_count)
            .syntax("numkeys key [key ...] [FLAG]");
        let ks = key_specs("rillx", &spec);
        assert_eq!(ks.len(), 1);
        assert_eq!(ks[0].begin, BeginSearch::Index(1));
        let keys = get_keys("rillx", &spec, &argv_of(&["rillx", "2", "a", "b", "FLAG"])).unwrap();
        assert_eq!(keys.iter().map(|k| k.0).collect::<Vec<_>>(), vec![2, 3]);
        assert!(get_keys("rillx", &spec, &argv_of(&["rillx", "0", "a"])).is_err());
        // Redis's table: xread's STREAMS keyword spec takes half the rest.
        let xread = CommandSpec::new("xread", -4, READONLY | MOVABLEKEYS, command_count);
        let keys = get_keys(
            "xread",
            &xread,
            &argv_of(&["xread", "count", "1", "streams", "a", "b", "0", "0"]),
        )
        .unwrap();
        assert_eq!(keys.iter().map(|k| k.0).collect::<Vec<_>>(), vec![4, 5]);
    }

    #[test]
    fn command_subcommands_through_dispatch() {
        let mut db = TestDb::new();
        assert_eq!(
            db.run(&["COMMAND", "COUNT"]),
            int(table().commands.len() as i64)
        );
        assert_eq!(
            db.run(&["COMMAND", "GETKEYS", "GET", "k"]),
            Reply::Array(vec![bulk("k")])
        );
        assert_eq!(
            db.run(&["COMMAND", "GETKEYS", "GET"]),
            err("ERR wrong number of arguments for 'command|getkeys' command")
        );
        assert_eq!(
            db.run(&["COMMAND", "GETKEYS", "GET", "a", "b"]),
            err("ERR Invalid number of arguments specified for command")
        );
        assert_eq!(
            db.run(&["COMMAND", "GETKEYS", "nosuch", "a"]),
            err("ERR Invalid command specified")
        );
        assert_eq!(
            db.run(&["COMMAND", "GETKEYS", "PING", "a"]),
            err("ERR The command has no key arguments")
        );
        assert_eq!(
            db.run(&["COMMAND", "foo"]),
            err("ERR unknown subcommand 'foo'. Try COMMAND HELP.")
        );
        assert_eq!(db.run(&["COMMAND", "LIST", "x"]), err("ERR syntax error"));
        let Reply::Array(v) = db.run(&["COMMAND", "INFO", "get", "nosuch"]) else {
            panic!()
        };
        // addReplyNull: `$-1` in RESP2, as Redis 7.0.
        assert_eq!(v[1], Reply::Null);
        let Reply::Array(get) = &v[0] else { panic!() };
        assert_eq!(get.len(), 10);
        assert_eq!(get[0], bulk("get"));
        assert_eq!(get[1], int(2));
        let Reply::Array(all) = db.run(&["COMMAND"]) else {
            panic!()
        };
        assert_eq!(all.len(), table().commands.len());
        let Reply::Array(l) = db.run(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "command|*"])
        else {
            panic!()
        };
        assert_eq!(l.len(), SUBCOMMANDS.len());
        let Reply::Map(d) = db.run(&["COMMAND", "DOCS", "get", "nosuch"]) else {
            panic!()
        };
        assert_eq!(d.len(), 1);
    }
}
