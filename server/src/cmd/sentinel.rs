//! SENTINEL, and INFO / ROLE / PUBLISH as sentinel mode serves them (sentinel.c).

use super::*;
use crate::sentinel::{self, failover, link, Instance, Master, Peer, Replica, State};

fn sentinel() -> Result<&'static Arc<sentinel::Sentinel>, CmdError> {
    sentinel::get().ok_or_else(|| CmdError::err("This instance is not a sentinel"))
}

fn s(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn no_master() -> CmdError {
    CmdError::err("No such master with that name")
}

fn kv(k: &str, v: impl Into<Reply>) -> (Reply, Reply) {
    (Reply::bulk(k.to_string()), v.into())
}

fn b(v: impl ToString) -> Reply {
    Reply::bulk(v.to_string())
}

/// The flags field of addReplySentinelRedisInstance.
fn flags(inst: &Instance, kind: &str, extra: &[(bool, &str)]) -> String {
    let mut f = vec![];
    if inst.sdown() {
        f.push("s_down");
    }
    if inst.o_down_since != 0 {
        f.push("o_down");
    }
    f.push(kind);
    if inst.link.disconnected {
        f.push("disconnected");
    }
    for (on, name) in extra {
        if *on {
            f.push(name);
        }
    }
    f.join(",")
}

fn common(
    inst: &Instance,
    flags: String,
    down_after: i64,
    now: i64,
    data: bool,
) -> Vec<(Reply, Reply)> {
    let mut v = vec![
        kv("name", b(&inst.name)),
        kv("ip", b(&inst.ip)),
        kv("port", b(inst.port)),
        kv("runid", b(inst.runid.as_deref().unwrap_or(""))),
        kv("flags", b(flags)),
        kv("link-pending-commands", b(inst.link.pending.len())),
        kv("link-refcount", b(1)),
        kv(
            "last-ping-sent",
            b(if inst.link.act_ping_time != 0 {
                now - inst.link.act_ping_time
            } else {
                0
            }),
        ),
        kv("last-ok-ping-reply", b(now - inst.link.last_avail_time)),
        kv("last-ping-reply", b(now - inst.link.last_pong_time)),
    ];
    if inst.sdown() {
        v.push(kv("s-down-time", b(now - inst.s_down_since)));
    }
    if inst.o_down_since != 0 {
        v.push(kv("o-down-time", b(now - inst.o_down_since)));
    }
    v.push(kv("down-after-milliseconds", b(down_after)));
    if data {
        v.push(kv(
            "info-refresh",
            b(if inst.info_refresh != 0 {
                now - inst.info_refresh
            } else {
                0
            }),
        ));
        v.push(kv(
            "role-reported",
            b(if inst.role_master { "master" } else { "slave" }),
        ));
        v.push(kv("role-reported-time", b(now - inst.role_reported_time)));
    }
    v
}

fn master_reply(m: &Master, now: i64) -> Reply {
    let f = flags(
        &m.inst,
        "master",
        &[
            (m.in_failover(), "failover_in_progress"),
            (m.force_failover, "force_failover"),
        ],
    );
    let mut v = common(&m.inst, f, m.down_after, now, true);
    if m.in_failover() {
        // Right after link-refcount, as sentinel.c places it.
        v.insert(7, kv("failover-state", b(m.failover_state.as_str())));
    }
    v.push(kv("config-epoch", b(m.config_epoch)));
    v.push(kv("num-slaves", b(m.replicas.len())));
    v.push(kv("num-other-sentinels", b(m.sentinels.len())));
    v.push(kv("quorum", b(m.quorum)));
    v.push(kv("failover-timeout", b(m.failover_timeout)));
    v.push(kv("parallel-syncs", b(m.parallel_syncs)));
    if let Some(sc) = &m.notification_script {
        v.push(kv("notification-script", b(sc)));
    }
    if let Some(sc) = &m.client_reconfig_script {
        v.push(kv("client-reconfig-script", b(sc)));
    }
    Reply::Map(v)
}

fn replica_reply(m: &Master, r: &Replica, now: i64) -> Reply {
    let f = flags(
        &r.inst,
        "slave",
        &[
            (r.promoted, "promoted"),
            (r.reconf_sent, "reconf_sent"),
            (r.reconf_inprog, "reconf_inprog"),
            (r.reconf_done, "reconf_done"),
        ],
    );
    let mut v = common(&r.inst, f, m.down_after, now, true);
    v.push(kv("master-link-down-time", b(r.master_link_down_time)));
    v.push(kv(
        "master-link-status",
        b(if r.master_link_up { "ok" } else { "err" }),
    ));
    v.push(kv(
        "master-host",
        b(if r.master_host.is_empty() {
            "?"
        } else {
            &r.master_host
        }),
    ));
    v.push(kv("master-port", b(r.master_port)));
    v.push(kv("slave-priority", b(r.priority)));
    v.push(kv("slave-repl-offset", b(r.repl_offset)));
    v.push(kv("replica-announced", b(r.announced as u8)));
    Reply::Map(v)
}

fn sentinel_reply(m: &Master, p: &Peer, now: i64) -> Reply {
    let f = flags(&p.inst, "sentinel", &[(p.master_down, "master_down")]);
    let mut v = common(&p.inst, f, m.down_after, now, false);
    v.push(kv(
        "last-hello-message",
        b(if p.last_hello_time != 0 {
            now - p.last_hello_time
        } else {
            0
        }),
    ));
    v.push(kv("voted-leader", b(p.leader.as_deref().unwrap_or("?"))));
    v.push(kv("voted-leader-epoch", b(p.leader_epoch)));
    Reply::Map(v)
}

fn with_master<R>(
    argv: &[Bytes],
    f: impl FnOnce(&mut State, &str, i64) -> Result<R, CmdError>,
) -> Result<R, CmdError> {
    let sen = sentinel()?;
    let name = s(&argv[2]);
    let now = crate::util::now_ms();
    let mut st = sen.state.lock();
    if !st.masters.contains_key(&name) {
        return Err(no_master());
    }
    f(&mut st, &name, now)
}

/// ```text
/// SENTINEL MASTERS
/// ```
fn masters(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    let now = crate::util::now_ms();
    let st = sen.state.lock();
    Ok(Reply::Array(
        st.masters.values().map(|m| master_reply(m, now)).collect(),
    ))
}

/// ```text
/// SENTINEL MASTER master-name
/// ```
fn master(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    with_master(argv, |st, n, now| Ok(master_reply(&st.masters[n], now)))
}

/// ```text
/// SENTINEL REPLICAS master-name
/// ```
fn replicas(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    with_master(argv, |st, n, now| {
        let m = &st.masters[n];
        Ok(Reply::Array(
            m.replicas
                .values()
                .map(|r| replica_reply(m, r, now))
                .collect(),
        ))
    })
}

/// ```text
/// SENTINEL SENTINELS master-name
/// ```
fn sentinels(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    with_master(argv, |st, n, now| {
        let m = &st.masters[n];
        Ok(Reply::Array(
            m.sentinels
                .values()
                .map(|p| sentinel_reply(m, p, now))
                .collect(),
        ))
    })
}

/// ```text
/// SENTINEL GET-MASTER-ADDR-BY-NAME master-name
/// ```
fn get_master_addr(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    let st = sen.state.lock();
    let Some(m) = st.masters.get(&s(&argv[2])) else {
        return Ok(Reply::NullArray);
    };
    let (ip, port) = m.current_addr();
    Ok(Reply::Array(vec![b(ip), b(port)]))
}

/// ```text
/// SENTINEL CKQUORUM master-name
/// ```
fn ckquorum(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    with_master(argv, |st, n, _| {
        let m = &st.masters[n];
        let usable = 1 + m
            .sentinels
            .values()
            .filter(|p| !p.inst.sdown() && !p.inst.link.disconnected)
            .count();
        let noquorum = usable < m.quorum;
        let noauth = usable < failover::voters_quorum(m);
        if !noquorum && !noauth {
            return Ok(Reply::Simple(Bytes::from(format!(
                "OK {usable} usable Sentinels. Quorum and failover authorization can be reached"
            ))));
        }
        let mut e = format!("NOQUORUM {usable} usable Sentinels. ");
        if noquorum {
            e.push_str(
                "Not enough available Sentinels to reach the specified quorum for this master",
            );
        }
        if noauth {
            if noquorum {
                e.push_str(". ");
            }
            e.push_str(
                "Not enough available Sentinels to reach the majority and authorize a failover",
            );
        }
        Err(CmdError::Raw(e))
    })
}

/// ```text
/// SENTINEL FAILOVER master-name
/// ```
fn failover_cmd(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    with_master(argv, |st, n, now| {
        let m = &st.masters[n];
        if m.in_failover() {
            return Err(CmdError::Raw("INPROG Failover already in progress".into()));
        }
        if failover::select_slave(m, now).is_none() {
            return Err(CmdError::Raw(
                "NOGOODSLAVE No suitable replica to promote".into(),
            ));
        }
        tracing::warn!("Executing user requested FAILOVER of '{n}'");
        link::force_failover(st, n, now);
        Ok(Reply::ok())
    })
}

/// ```text
/// SENTINEL RESET pattern
/// ```
fn reset(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    let now = crate::util::now_ms();
    let mut n = 0;
    {
        let mut st = sen.state.lock();
        let names: Vec<String> = st.masters.keys().cloned().collect();
        for name in names {
            if !crate::db::glob::glob_match(&argv[2], name.as_bytes(), false) {
                continue;
            }
            let m = &mut st.masters[&name];
            link::reset_master(m, now, true);
            let msg = sentinel::describe(&sentinel::Who::Master(m));
            st.event("+reset-master", msg);
            n += 1;
        }
        st.dirty_config = true;
    }
    sen.flush_events();
    sen.flush_config();
    Ok(Reply::Int(n))
}

/// ```text
/// SENTINEL MONITOR name ip port quorum
/// ```
fn monitor(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    let quorum: i64 = s(&argv[5]).parse().map_err(|_| CmdError::NotInteger)?;
    if quorum <= 0 {
        return Err(CmdError::err("Quorum must be 1 or greater."));
    }
    let port: i64 = s(&argv[4]).parse().map_err(|_| CmdError::NotInteger)?;
    if !(1..=65535).contains(&port) {
        return Err(CmdError::err("Invalid port number"));
    }
    let ip = s(&argv[3]);
    if ip.parse::<std::net::IpAddr>().is_err() {
        return Err(CmdError::err("Invalid IP address or hostname specified"));
    }
    let name = s(&argv[2]);
    {
        let mut st = sen.state.lock();
        if st.masters.contains_key(&name) {
            return Err(CmdError::err("Duplicate master name."));
        }
        let m = Master::new(
            &name,
            &ip,
            port as u16,
            quorum as usize,
            crate::util::now_ms(),
        );
        let msg = format!(
            "{} quorum {}",
            sentinel::describe(&sentinel::Who::Master(&m)),
            quorum
        );
        st.masters.insert(name, m);
        st.event("+monitor", msg);
        st.dirty_config = true;
    }
    sen.flush_events();
    sen.flush_config();
    Ok(Reply::ok())
}

/// ```text
/// SENTINEL REMOVE master-name
/// ```
fn remove(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    {
        let mut st = sen.state.lock();
        let Some(m) = st.masters.shift_remove(&s(&argv[2])) else {
            return Err(no_master());
        };
        let msg = sentinel::describe(&sentinel::Who::Master(&m));
        st.event("-monitor", msg);
        st.dirty_config = true;
    }
    sen.flush_events();
    sen.flush_config();
    Ok(Reply::ok())
}

/// ```text
/// SENTINEL SET master-name option value [option value ...]
/// ```
fn set(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    let res = with_master(argv, |st, n, _| {
        let mut changes = vec![];
        let mut i = 3;
        while i < argv.len() {
            let opt = s(&argv[i]).to_ascii_lowercase();
            let Some(val) = argv.get(i + 1).map(s) else {
                return Err(CmdError::err(format!(
                    "Unknown option or number of arguments for SENTINEL SET '{opt}'"
                )));
            };
            let bad =
                || CmdError::err(format!("Invalid argument '{val}' for SENTINEL SET '{opt}'"));
            let pos = || val.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(bad);
            let m = st.masters.get_mut(n).ok_or_else(no_master)?;
            match opt.as_str() {
                "down-after-milliseconds" => m.down_after = pos()?,
                "failover-timeout" => m.failover_timeout = pos()?,
                "parallel-syncs" => m.parallel_syncs = pos()? as usize,
                "quorum" => m.quorum = pos()? as usize,
                "auth-pass" => m.auth_pass = (!val.is_empty()).then(|| val.clone()),
                "auth-user" => m.auth_user = (!val.is_empty()).then(|| val.clone()),
                "notification-script" | "client-reconfig-script" => {
                    return Err(CmdError::err(
                        "Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your config file.",
                    ))
                }
                _ => {
                    return Err(CmdError::err(format!(
                        "Unknown option or number of arguments for SENTINEL SET '{opt}'"
                    )))
                }
            }
            changes.push(format!("{opt} {val}"));
            i += 2;
        }
        let m = &st.masters[n];
        let who = sentinel::describe(&sentinel::Who::Master(m));
        for c in changes {
            st.event("+set", format!("{who} {c}"));
        }
        st.dirty_config = true;
        Ok(Reply::ok())
    });
    sen.flush_events();
    sen.flush_config();
    res
}

/// ```text
/// SENTINEL IS-MASTER-DOWN-BY-ADDR ip port current-epoch runid
/// ```
fn is_master_down(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    let port: u16 = s(&argv[3]).parse().map_err(|_| CmdError::NotInteger)?;
    let epoch: u64 = s(&argv[4]).parse().map_err(|_| CmdError::NotInteger)?;
    let (ip, runid) = (s(&argv[2]), s(&argv[5]));
    let now = crate::util::now_ms();
    let reply = {
        let mut st = sen.state.lock();
        let name = st
            .masters
            .iter()
            .find(|(_, m)| m.inst.ip == ip && m.inst.port == port)
            .map(|(k, _)| k.clone());
        let mut down = 0;
        let mut leader = None;
        let mut leader_epoch = 0;
        if let Some(n) = name {
            if !st.tilt && st.masters[&n].inst.sdown() {
                down = 1;
            }
            if runid != "*" {
                use rand::Rng;
                let desync = rand::thread_rng().gen_range(0..sentinel::MAX_DESYNC);
                let (l, e) = failover::vote_leader(&mut st, &n, epoch, &runid, now, desync);
                leader = l;
                leader_epoch = e;
            }
        }
        Reply::Array(vec![
            Reply::Int(down),
            b(leader.as_deref().unwrap_or("*")),
            Reply::Int(leader_epoch as i64),
        ])
    };
    sen.flush_events();
    sen.flush_config();
    Ok(reply)
}

/// ```text
/// SENTINEL INFO-CACHE [master-name [master-name ...]]
/// ```
fn info_cache(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    let now = crate::util::now_ms();
    let st = sen.state.lock();
    let wanted: Vec<String> = argv[2..].iter().map(s).collect();
    let mut out = vec![];
    for (name, m) in &st.masters {
        if !wanted.is_empty() && !wanted.contains(name) {
            continue;
        }
        let entry = |i: &Instance| {
            Reply::Array(vec![
                Reply::Int(if i.info_refresh != 0 {
                    now - i.info_refresh
                } else {
                    0
                }),
                b(&i.info),
            ])
        };
        let mut infos = vec![entry(&m.inst)];
        infos.extend(m.replicas.values().map(|r| entry(&r.inst)));
        out.push(b(name));
        out.push(Reply::Array(infos));
    }
    Ok(Reply::Array(out))
}

/// ```text
/// SENTINEL MYID
/// ```
fn myid(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(b(&sentinel()?.state.lock().myid))
}

/// ```text
/// SENTINEL FLUSHCONFIG
/// ```
fn flushconfig(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    sen.state.lock().dirty_config = true;
    sen.flush_config();
    Ok(Reply::ok())
}

/// ```text
/// SENTINEL PENDING-SCRIPTS
/// ```
fn pending_scripts(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(Reply::Array(vec![]))
}

/// ```text
/// SENTINEL SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]
/// ```
fn simulate_failure(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(Reply::ok())
}

/// ```text
/// SENTINEL CONFIG GET <param> | SENTINEL CONFIG SET <param> <value>
/// ```
fn config(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    if argv[2].eq_ignore_ascii_case(b"set") && argv.len() == 5 {
        let (name, val) = (s(&argv[3]).to_ascii_lowercase(), s(&argv[4]));
        {
            let mut st = sen.state.lock();
            match name.as_str() {
                "announce-ip" => st.announce_ip = (!val.is_empty()).then(|| val.clone()),
                "announce-port" => {
                    st.announce_port = val
                        .parse()
                        .map_err(|_| CmdError::err("Invalid value for config set announce-port"))?
                }
                _ => {
                    return Err(CmdError::err(format!(
                        "Invalid argument '{name}' to SENTINEL CONFIG SET"
                    )))
                }
            }
            st.dirty_config = true;
        }
        sen.flush_config();
        return Ok(Reply::ok());
    }
    let st = sen.state.lock();
    if !argv[2].eq_ignore_ascii_case(b"get") || argv.len() != 4 {
        return Err(CmdError::wrong_args("sentinel|config"));
    }
    let params = [
        ("resolve-hostnames", "no".to_string()),
        ("announce-hostnames", "no".to_string()),
        ("announce-ip", st.announce_ip.clone().unwrap_or_default()),
        ("announce-port", st.announce_port.to_string()),
        ("sentinel-user", String::new()),
        ("sentinel-pass", String::new()),
    ];
    let mut v = vec![];
    for (k, val) in params {
        if crate::db::glob::glob_match(&argv[3], k.as_bytes(), true) {
            v.push(kv(k, b(val)));
        }
    }
    Ok(Reply::Map(v))
}

const HELP: &[&str] = &[
    "CKQUORUM <master-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a master and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET <param> <value>",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param>",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-MASTER-ADDR-BY-NAME <master-name>",
    "    Return the ip and port number of the master with that name.",
    "FAILOVER <master-name>",
    "    Manually failover a master node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <master-name>",
    "    Return last cached INFO output from masters and all its replicas.",
    "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the master specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "MASTER <master-name>",
    "    Show the state and info of the specified master.",
    "MASTERS",
    "    Show a list of monitored masters and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new master with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <master-name>",
    "    Remove master from Sentinel's monitor list.",
    "REPLICAS <master-name>",
    "    Show a list of replicas for this master and their state.",
    "RESET <pattern>",
    "    Reset masters for specific master name matching this pattern.",
    "SENTINELS <master-name>",
    "    Show a list of Sentinel instances for this master and their state.",
    "SET <master-name> <option> <value> [<option> <value> ...]",
    "    Set configuration parameters for certain masters.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
];

/// ```text
/// SENTINEL HELP
/// ```
fn help(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(super::connection::help_reply("SENTINEL", HELP))
}

/// ```text
/// SENTINEL DEBUG [param value ...]
/// ```
fn debug(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(Reply::Map(vec![
        kv("INFO-PERIOD", b(sentinel::INFO_PERIOD)),
        kv("PING-PERIOD", b(sentinel::PING_PERIOD)),
        kv("ASK-PERIOD", b(sentinel::ASK_PERIOD)),
        kv("PUBLISH-PERIOD", b(sentinel::PUBLISH_PERIOD)),
        kv("DEFAULT-DOWN-AFTER", b(sentinel::DEFAULT_DOWN_AFTER)),
        kv(
            "DEFAULT-FAILOVER-TIMEOUT",
            b(sentinel::DEFAULT_FAILOVER_TIMEOUT),
        ),
        kv("TILT-TRIGGER", b(2000)),
        kv("TILT-PERIOD", b(30000)),
        kv("SLAVE-RECONF-TIMEOUT", b(sentinel::SLAVE_RECONF_TIMEOUT)),
        kv("MIN-LINK-RECONNECT-PERIOD", b(15000)),
        kv("ELECTION-TIMEOUT", b(sentinel::ELECTION_TIMEOUT)),
        kv("SCRIPT-MAX-RUNTIME", b(60000)),
        kv("SCRIPT-RETRY-DELAY", b(30000)),
    ]))
}

/// The `# Sentinel` INFO section.
pub fn info_section(st: &State) -> String {
    let mut out = format!(
        "# Sentinel\r\nsentinel_masters:{}\r\nsentinel_tilt:{}\r\nsentinel_tilt_since_seconds:{}\r\nsentinel_running_scripts:0\r\nsentinel_scripts_queue_length:0\r\nsentinel_simulate_failure_flags:0\r\n",
        st.masters.len(),
        st.tilt as u8,
        if st.tilt { (crate::util::now_ms() - st.tilt_start_time) / 1000 } else { -1 },
    );
    for (i, (name, m)) in st.masters.iter().enumerate() {
        let status = if m.odown() {
            "odown"
        } else if m.inst.sdown() {
            "sdown"
        } else {
            "ok"
        };
        out.push_str(&format!(
            "master{}:name={},status={},address={}:{},slaves={},sentinels={}\r\n",
            i,
            name,
            status,
            m.inst.ip,
            m.inst.port,
            m.replicas.len(),
            m.sentinels.len() + 1
        ));
    }
    out
}

const INFO_SECTIONS: &[&str] = &["server", "clients", "stats", "cpu"];

/// ```text
/// INFO [section [section ...]]
/// ```
fn info(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    let wanted: Vec<String> = argv[1..]
        .iter()
        .map(|a| s(a).to_ascii_lowercase())
        .collect();
    let all = wanted.is_empty()
        || wanted
            .iter()
            .any(|w| matches!(w.as_str(), "all" | "everything" | "default"));
    let mut sections: Vec<Bytes> = vec![Bytes::from_static(b"info")];
    for sec in INFO_SECTIONS {
        if all || wanted.iter().any(|w| w == sec) {
            sections.push(Bytes::from_static(sec.as_bytes()));
        }
    }
    let mut text = String::new();
    if sections.len() > 1 {
        let orig = table_info_handler();
        if let Reply::Verbatim(_, t) | Reply::Bulk(t) = orig(ctx, &sections)? {
            text =
                String::from_utf8_lossy(&t).replace("redis_mode:standalone", "redis_mode:sentinel");
        }
    }
    if all || wanted.iter().any(|w| w == "sentinel") {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        text.push_str(&info_section(&sen.state.lock()));
    }
    Ok(Reply::Verbatim("txt", Bytes::from(text)))
}

fn table_info_handler() -> Handler {
    super::server::COMMANDS
        .iter()
        .find(|c| c.name == "info")
        .map(|c| c.handler)
        .expect("invariant: INFO is in the server family")
}

/// ```text
/// ROLE
/// ```
fn role(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    let st = sentinel()?.state.lock();
    Ok(Reply::Array(vec![
        b("sentinel"),
        Reply::Array(st.masters.keys().map(b).collect()),
    ]))
}

/// ```text
/// PUBLISH channel message
/// ```
fn publish(_: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let sen = sentinel()?;
    if &argv[1][..] != sentinel::HELLO_CHANNEL.as_bytes() {
        return Err(CmdError::err(
            "Only HELLO messages are accepted by Sentinel instances.",
        ));
    }
    link::process_hello(&mut sen.state.lock(), &s(&argv[2]), crate::util::now_ms());
    sen.flush_events();
    Ok(Reply::Int(1))
}

const SA: u32 = ADMIN | SENTINEL;

static SENTINEL_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ckquorum", 3, SA, ckquorum)
        .group("sentinel")
        .doc("2.8.4", "Checks for a Redis Sentinel quorum", "O(1)"),
    CommandSpec::new("config", -3, SA, config)
        .group("sentinel")
        .doc("6.2.0", "Configures Redis Sentinel", "O(1)"),
    CommandSpec::new("debug", -2, SA, debug)
        .group("sentinel")
        .doc(
            "7.0.0",
            "Lists or updates the current configurable parameters of Redis Sentinel",
            "O(N) where N is the number of configurable parameters",
        ),
    CommandSpec::new("failover", 3, SA, failover_cmd)
        .group("sentinel")
        .doc("2.8.4", "Forces a Redis Sentinel failover", "O(1)"),
    CommandSpec::new("flushconfig", 2, SA, flushconfig)
        .group("sentinel")
        .doc(
            "2.8.4",
            "Rewrites the Redis Sentinel configuration file",
            "O(1)",
        ),
    CommandSpec::new("get-master-addr-by-name", 3, SA, get_master_addr)
        .group("sentinel")
        .doc(
            "2.8.4",
            "Returns the port and address of a master Redis instance",
            "O(1)",
        ),
    CommandSpec::new("help", 2, LOADING | STALE | SENTINEL, help)
        .group("sentinel")
        .doc(
            "6.2.0",
            "Returns helpful text about the different subcommands",
            "O(1)",
        ),
    CommandSpec::new("info-cache", -3, SA, info_cache)
        .group("sentinel")
        .doc(
            "3.2.0",
            "Returns the cached `INFO` replies from the deployment's instances",
            "O(N) where N is the number of instances",
        ),
    CommandSpec::new("is-master-down-by-addr", 6, SA, is_master_down)
        .group("sentinel")
        .doc(
            "2.8.4",
            "Determines whether a master Redis instance is down",
            "O(1)",
        ),
    CommandSpec::new("master", 3, SA, master)
        .group("sentinel")
        .doc(
            "2.8.4",
            "Returns the state of a master Redis instance",
            "O(1)",
        ),
    CommandSpec::new("masters", 2, SA, masters)
        .group("sentinel")
        .doc(
            "2.8.4",
            "Returns a list of monitored Redis masters",
            "O(N) where N is the number of masters",
        ),
    CommandSpec::new("monitor", 6, SA, monitor)
        .group("sentinel")
        .doc("2.8.4", "Starts monitoring", "O(1)"),
    CommandSpec::new("myid", 2, SA, myid).group("sentinel").doc(
        "6.2.0",
        "Returns the Redis Sentinel instance ID",
        "O(1)",
    ),
    CommandSpec::new("pending-scripts", 2, SA, pending_scripts)
        .group("sentinel")
        .doc(
            "2.8.4",
            "Returns information about pending scripts for Redis Sentinel",
            "O(N) where N is the number of pending scripts",
        ),
    CommandSpec::new("remove", 3, SA, remove)
        .group("sentinel")
        .doc("2.8.4", "Stops monitoring", "O(1)"),
    CommandSpec::new("replicas", 3, SA, replicas)
        .group("sentinel")
        .doc(
            "5.0.0",
            "Returns a list of the monitored Redis replicas",
            "O(N) where N is the number of replicas",
        ),
    CommandSpec::new("reset", 3, SA, reset)
        .group("sentinel")
        .doc(
            "2.8.4",
            "Resets Redis masters by name matching a pattern",
            "O(N) where N is the number of monitored masters",
        ),
    CommandSpec::new("sentinels", 3, SA, sentinels)
        .group("sentinel")
        .doc(
            "2.8.4",
            "Returns a list of Sentinel instances",
            "O(N) where N is the number of Sentinels",
        ),
    CommandSpec::new("set", -5, SA, set).group("sentinel").doc(
        "2.8.4",
        "Changes the configuration of a monitored Redis master",
        "O(1)",
    ),
    CommandSpec::new("simulate-failure", -3, SA, simulate_failure)
        .group("sentinel")
        .doc("3.2.0", "Simulates failover scenarios", "O(1)"),
    CommandSpec::new("slaves", 3, SA, replicas)
        .group("sentinel")
        .doc(
            "2.8.0",
            "Returns a list of the monitored replicas",
            "O(N) where N is the number of replicas",
        ),
];

/// Served only in sentinel mode (they replace INFO, ROLE and PUBLISH there).
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::container("sentinel", SENTINEL_SUBCOMMANDS)
        .group("sentinel")
        .doc("2.8.4", "A container for Sentinel commands", "Depends on subcommand."),
    CommandSpec::new("info", -1, LOADING | STALE | SENTINEL, info)
        .group("server")
        .doc("1.0.0", "Get information and statistics about the server", "O(1)")
        .syntax("[section [section ...]]"),
    CommandSpec::new("role", 1, NOSCRIPT | LOADING | STALE | FAST | SENTINEL, role)
        .group("server")
        .doc("2.8.12", "Return the role of the instance in the context of replication", "O(1)"),
    CommandSpec::new("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | SENTINEL, publish)
        .group("pubsub")
        .doc("2.0.0", "Post a message to a channel", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (using the same channel)")
        .syntax("channel message"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_section_format() {
        let mut st = State::new("a".repeat(40), 0);
        st.masters.insert(
            "mymaster".into(),
            Master::new("mymaster", "127.0.0.1", 6379, 2, 0),
        );
        let s = info_section(&st);
        assert!(s.contains("sentinel_masters:1\r\n"));
        assert!(s.ends_with(
            "master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=0,sentinels=1\r\n"
        ));
    }
}
