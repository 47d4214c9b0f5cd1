//! Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB, and the
//! sharded SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH (Redis 7.0's pubsub.c).
//!
//! The registry is [`crate::pubsub`]; messages reach a subscriber through its queue,
//! which conn.rs drains between replies and whenever the connection is idle.
//! (Un)subscribe confirmations are pushes, one per channel, encoded here into one reply.

use super::*;
use crate::pubsub::{ClientSubs, Kind};
use bytes::BytesMut;
use rill_protocol::{encode, RespVersion};

/// Redis's processCommand check: in RESP2, a subscribed client may only (un)subscribe,
/// PING, QUIT and RESET.
pub fn context_gate(ctx: &Ctx, reg: &Registered) -> Result<(), CmdError> {
    if ctx.client.resp != RespVersion::Resp2 || !ctx.client.subscribed() {
        return Ok(());
    }
    match reg.full_name.as_str() {
        "ping" | "subscribe" | "ssubscribe" | "unsubscribe" | "sunsubscribe" | "psubscribe"
        | "punsubscribe" | "quit" | "reset" => Ok(()),
        name => Err(CmdError::err(format!(
            "Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        ))),
    }
}

fn subs<'c>(ctx: &'c mut Ctx) -> &'c mut ClientSubs {
    let handle = ctx.client.handle.clone();
    ctx.client
        .pubsub
        .get_or_insert_with(|| Box::new(ClientSubs::new(handle)))
}

fn kind_name(kind: Kind, sub: bool) -> &'static str {
    match (kind, sub) {
        (Kind::Channel, true) => "subscribe",
        (Kind::Channel, false) => "unsubscribe",
        (Kind::Pattern, true) => "psubscribe",
        (Kind::Pattern, false) => "punsubscribe",
        (Kind::Shard, true) => "ssubscribe",
        (Kind::Shard, false) => "sunsubscribe",
    }
}

fn confirmation(
    out: &mut BytesMut,
    resp: RespVersion,
    what: &'static str,
    name: Option<Bytes>,
    n: usize,
) {
    let r = Reply::Push(vec![
        Reply::Bulk(Bytes::from_static(what.as_bytes())),
        name.map_or(Reply::Null, Reply::Bulk),
        Reply::Int(n as i64),
    ]);
    encode(&r, resp, out);
}

fn set_of(s: &mut ClientSubs, kind: Kind) -> &mut indexmap::IndexSet<Bytes> {
    match kind {
        Kind::Channel => &mut s.channels,
        Kind::Pattern => &mut s.patterns,
        Kind::Shard => &mut s.shard,
    }
}

fn count_for(s: &ClientSubs, kind: Kind) -> usize {
    if kind == Kind::Shard {
        s.shard.len()
    } else {
        s.count()
    }
}

fn do_subscribe(ctx: &mut Ctx, argv: &[Bytes], kind: Kind) -> CmdResult {
    let resp = ctx.client.resp;
    let shared = ctx.shared;
    let s = subs(ctx);
    let mut out = BytesMut::new();
    for name in &argv[1..] {
        if set_of(s, kind).insert(name.clone()) {
            shared.pubsub.subscribe(kind, name, &s.sub);
        }
        confirmation(
            &mut out,
            resp,
            kind_name(kind, true),
            Some(name.clone()),
            count_for(s, kind),
        );
    }
    s.sync_info();
    Ok(Reply::Raw(out.freeze()))
}

fn do_unsubscribe(ctx: &mut Ctx, argv: &[Bytes], kind: Kind) -> CmdResult {
    let resp = ctx.client.resp;
    let shared = ctx.shared;
    let s = subs(ctx);
    let mut out = BytesMut::new();
    let names: Vec<Bytes> = if argv.len() > 1 {
        argv[1..].to_vec()
    } else {
        set_of(s, kind).iter().cloned().collect()
    };
    let id = s.sub.handle.id;
    for name in &names {
        if set_of(s, kind).shift_remove(name) {
            shared.pubsub.unsubscribe(kind, name, id);
        }
        confirmation(
            &mut out,
            resp,
            kind_name(kind, false),
            Some(name.clone()),
            count_for(s, kind),
        );
    }
    if names.is_empty() {
        confirmation(
            &mut out,
            resp,
            kind_name(kind, false),
            None,
            count_for(s, kind),
        );
    }
    s.sync_info();
    Ok(Reply::Raw(out.freeze()))
}

/// RESET and disconnection: leave every channel, pattern and shard channel quietly.
pub fn unsubscribe_all(ctx: &mut Ctx) {
    if let Some(s) = ctx.client.pubsub.as_mut() {
        ctx.shared.pubsub.remove_client(s);
        s.channels.clear();
        s.patterns.clear();
        s.shard.clear();
        s.sync_info();
    }
}

/// ```text
/// SUBSCRIBE channel [channel ...]
/// ```
fn subscribe(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    do_subscribe(ctx, argv, Kind::Channel)
}

/// ```text
/// UNSUBSCRIBE [channel [channel ...]]
/// ```
fn unsubscribe(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    do_unsubscribe(ctx, argv, Kind::Channel)
}

/// ```text
/// PSUBSCRIBE pattern [pattern ...]
/// ```
fn psubscribe(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    do_subscribe(ctx, argv, Kind::Pattern)
}

/// ```text
/// PUNSUBSCRIBE [pattern [pattern ...]]
/// ```
fn punsubscribe(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    do_unsubscribe(ctx, argv, Kind::Pattern)
}

/// ```text
/// SSUBSCRIBE shardchannel [shardchannel ...]
/// ```
fn ssubscribe(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    do_subscribe(ctx, argv, Kind::Shard)
}

/// ```text
/// SUNSUBSCRIBE [shardchannel [shardchannel ...]]
/// ```
fn sunsubscribe(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    do_unsubscribe(ctx, argv, Kind::Shard)
}

/// ```text
/// PUBLISH channel message
/// ```
fn publish(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let n = ctx
        .shared
        .pubsub
        .publish(false, &argv[1], &argv[2], &ctx.config, ctx.now_ms);
    Ok(Reply::Int(n as i64))
}

/// ```text
/// SPUBLISH shardchannel message
/// ```
fn spublish(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let n = ctx
        .shared
        .pubsub
        .publish(true, &argv[1], &argv[2], &ctx.config, ctx.now_ms);
    Ok(Reply::Int(n as i64))
}

fn subcommand_syntax(argv: &[Bytes]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
        lossy(&argv[1])
    ))
}

fn channels_reply(ctx: &mut Ctx, argv: &[Bytes], shard: bool) -> CmdResult {
    if argv.len() > 3 {
        return Err(subcommand_syntax(argv));
    }
    let pat = argv.get(2).map(|p| &p[..]);
    let list = ctx.shared.pubsub.channels(shard, pat);
    Ok(Reply::Array(list.into_iter().map(Reply::Bulk).collect()))
}

/// ```text
/// PUBSUB CHANNELS [pattern]
/// ```
fn pubsub_channels(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    channels_reply(ctx, argv, false)
}

/// ```text
/// PUBSUB SHARDCHANNELS [pattern]
/// ```
fn pubsub_shardchannels(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    channels_reply(ctx, argv, true)
}

fn numsub_reply(ctx: &mut Ctx, argv: &[Bytes], shard: bool) -> CmdResult {
    let mut out = Vec::with_capacity((argv.len() - 2) * 2);
    for c in &argv[2..] {
        out.push(Reply::Bulk(c.clone()));
        out.push(Reply::Int(ctx.shared.pubsub.numsub(shard, c) as i64));
    }
    // A flat array in RESP3 too, as Redis 7.0.
    Ok(Reply::Array(out))
}

/// ```text
/// PUBSUB NUMSUB [channel [channel ...]]
/// ```
fn pubsub_numsub(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    numsub_reply(ctx, argv, false)
}

/// ```text
/// PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]
/// ```
fn pubsub_shardnumsub(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    numsub_reply(ctx, argv, true)
}

/// ```text
/// PUBSUB NUMPAT
/// ```
fn pubsub_numpat(ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Int(ctx.shared.pubsub.numpat() as i64))
}

const HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

/// ```text
/// PUBSUB HELP
/// ```
fn pubsub_help(_ctx: &mut Ctx, _argv: &[Bytes]) -> CmdResult {
    Ok(Reply::Array(
        HELP.iter().map(|l| Reply::simple(l)).collect(),
    ))
}

const PS: u32 = PUBSUB | LOADING | STALE;

static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("channels", -2, PS, pubsub_channels)
        .group("pubsub")
        .doc(
            "2.8.0",
            "List active channels",
            "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        )
        .syntax("[pattern]"),
    CommandSpec::new("numsub", -2, PS, pubsub_numsub)
        .group("pubsub")
        .doc(
            "2.8.0",
            "Get the count of subscribers for channels",
            "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        )
        .syntax("[channel [channel ...]]"),
    CommandSpec::new("numpat", 2, PS, pubsub_numpat)
        .group("pubsub")
        .doc("2.8.0", "Get the count of unique patterns pattern subscriptions", "O(1)"),
    CommandSpec::new("shardchannels", -2, PS, pubsub_shardchannels)
        .group("pubsub")
        .doc(
            "7.0.0",
            "List active shard channels",
            "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        )
        .syntax("[pattern]"),
    CommandSpec::new("shardnumsub", -2, PS, pubsub_shardnumsub)
        .group("pubsub")
        .doc(
            "7.0.0",
            "Get the count of subscribers for shard channels",
            "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        )
        .syntax("[shardchannel [shardchannel ...]]"),
    CommandSpec::new("help", 2, LOADING | STALE, pubsub_help)
        .group("pubsub")
        .doc("6.2.0", "Show helpful text about the different subcommands", "O(1)"),
];

const SUB: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, SUB, subscribe)
        .group("pubsub")
        .doc(
            "2.0.0",
            "Listen for messages published to the given channels",
            "O(N) where N is the number of channels to subscribe to.",
        )
        .syntax("channel [channel ...]"),
    CommandSpec::new("unsubscribe", -1, SUB, unsubscribe)
        .group("pubsub")
        .doc(
            "2.0.0",
            "Stop listening for messages posted to the given channels",
            "O(N) where N is the number of clients already subscribed to a channel.",
        )
        .syntax("[channel [channel ...]]"),
    CommandSpec::new("psubscribe", -2, SUB, psubscribe)
        .group("pubsub")
        .doc(
            "2.0.0",
            "Listen for messages published to channels matching the given patterns",
            "O(N) where N is the number of patterns the client is already subscribed to.",
        )
        .syntax("pattern [pattern ...]"),
    CommandSpec::new("punsubscribe", -1, SUB, punsubscribe)
        .group("pubsub")
        .doc(
            "2.0.0",
            "Stop listening for messages posted to channels matching the given patterns",
            "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
        )
        .syntax("[pattern [pattern ...]]"),
    CommandSpec::new("publish", 3, PUBSUB | LOADING | STALE | FAST, publish)
        .group("pubsub")
        .doc(
            "2.0.0",
            "Post a message to a channel",
            "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        )
        .syntax("channel message"),
    CommandSpec::new("ssubscribe", -2, SUB, ssubscribe)
        .keys(1, -1, 1)
        .group("pubsub")
        .doc(
            "7.0.0",
            "Listen for messages published to the given shard channels",
            "O(N) where N is the number of shard channels to subscribe to.",
        )
        .syntax("shardchannel [shardchannel ...]"),
    CommandSpec::new("sunsubscribe", -1, SUB, sunsubscribe)
        .keys(1, -1, 1)
        .group("pubsub")
        .doc(
            "7.0.0",
            "Stop listening for messages posted to the given shard channels",
            "O(N) where N is the number of clients already subscribed to a shard channel.",
        )
        .syntax("[shardchannel [shardchannel ...]]"),
    CommandSpec::new("spublish", 3, PUBSUB | LOADING | STALE | FAST, spublish)
        .keys(1, 1, 1)
        .group("pubsub")
        .doc(
            "7.0.0",
            "Post a message to a shard channel",
            "O(N) where N is the number of clients subscribed to the receiving shard channel.",
        )
        .syntax("shardchannel message"),
    CommandSpec::container("pubsub", PUBSUB_SUBCOMMANDS)
        .group("pubsub")
        .doc("2.8.0", "A container for Pub/Sub commands", "Depends on subcommand."),
];

#[cfg(test)]
mod tests {
    use super::super::testkit::TestDb;

    #[test]
    fn subscribe_replies_and_context_gate() {
        let mut t = TestDb::new();
        assert_eq!(
            t.resp(&["SUBSCRIBE", "a", "b"]),
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        );
        assert_eq!(
            t.resp(&["GET", "x"]),
            "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
        );
        assert_eq!(
            t.resp(&["CONFIG", "GET", "x"]),
            "-ERR Can't execute 'config|get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
        );
        assert_eq!(t.resp(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert_eq!(t.resp(&["PING", "hi"]), "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
        assert_eq!(
            t.resp(&["PSUBSCRIBE", "p*"]),
            "*3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:3\r\n"
        );
        assert_eq!(
            t.resp(&["PUNSUBSCRIBE"]),
            "*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:2\r\n"
        );
        assert_eq!(
            t.resp(&["UNSUBSCRIBE", "a", "zz"]),
            "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$2\r\nzz\r\n:1\r\n"
        );
        assert_eq!(
            t.resp(&["UNSUBSCRIBE"]),
            "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"
        );
        assert_eq!(
            t.resp(&["UNSUBSCRIBE"]),
            "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
        );
        assert_eq!(t.resp(&["GET", "x"]), "$-1\r\n");
    }

    #[test]
    fn publish_counts_and_introspection() {
        let mut t = TestDb::new();
        t.run(&["HELLO", "3"]);
        t.run(&["SUBSCRIBE", "news", "x"]);
        t.run(&["PSUBSCRIBE", "n*", "[mn]ews"]);
        t.run(&["SSUBSCRIBE", "s1"]);
        assert_eq!(t.resp(&["PUBLISH", "news", "hi"]), ":3\r\n");
        assert_eq!(t.resp(&["PUBLISH", "nope", "hi"]), ":1\r\n");
        assert_eq!(t.resp(&["PUBLISH", "zzz", "hi"]), ":0\r\n");
        assert_eq!(t.resp(&["SPUBLISH", "s1", "hi"]), ":1\r\n");
        assert_eq!(t.resp(&["SPUBLISH", "news", "hi"]), ":0\r\n");
        let rx = &mut t.client.pubsub.as_mut().unwrap().rx;
        let mut got = vec![];
        while let Ok(m) = rx.try_recv() {
            let mut out = bytes::BytesMut::new();
            m.write_to(rill_protocol::RespVersion::Resp2, &mut out);
            got.push(String::from_utf8_lossy(&out).into_owned());
        }
        assert_eq!(got.len(), 5, "{got:?}");
        assert_eq!(got[0], "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
        assert!(
            got[1].starts_with("*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n"),
            "{got:?}"
        );
        assert_eq!(got[4], "*3\r\n$8\r\nsmessage\r\n$2\r\ns1\r\n$2\r\nhi\r\n");
        t.run(&["RESET"]);
        t.run(&["HELLO", "3"]);
        t.run(&["SUBSCRIBE", "news", "x"]);
        assert_eq!(t.resp(&["PUBSUB", "NUMPAT"]), ":0\r\n");
        assert_eq!(
            t.resp(&["PUBSUB", "NUMSUB", "news", "q"]),
            "*4\r\n$4\r\nnews\r\n:1\r\n$1\r\nq\r\n:0\r\n"
        );
        assert_eq!(
            t.resp(&["PUBSUB", "CHANNELS", "n*"]),
            "*1\r\n$4\r\nnews\r\n"
        );
        assert_eq!(
            t.resp(&["PUBSUB", "CHANNELS", "a", "b"]),
            "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n"
        );
    }
}
