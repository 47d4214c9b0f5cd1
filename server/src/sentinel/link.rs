//! The timer (sentinelTimer) and the per-instance link tasks.

use super::failover::*;
use super::*;
use rill_client::{Client, Frame};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh instance id; link tasks exit when their instance id is gone.
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Which instance a link task serves.
#[derive(Clone, Debug)]
pub struct Target {
    pub master: String,
    pub kind: Kind,
    pub id: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Master,
    Replica(String),
    Sentinel(String),
}

/// The instance behind `t`, if it still exists with the same id.
pub fn inst_mut<'a>(st: &'a mut State, t: &Target) -> Option<&'a mut Instance> {
    let m = st.masters.get_mut(&t.master)?;
    let i = match &t.kind {
        Kind::Master => &mut m.inst,
        Kind::Replica(k) => &mut m.replicas.get_mut(k)?.inst,
        Kind::Sentinel(k) => &mut m.sentinels.get_mut(k)?.inst,
    };
    (i.link_id == t.id).then_some(i)
}

fn rand_ms(max: i64) -> i64 {
    use rand::Rng;
    rand::thread_rng().gen_range(0..max.max(1))
}

fn argv(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// sentinelSendSlaveOf: MULTI, SLAVEOF, CONFIG REWRITE, CLIENT KILL (normal, pubsub), EXEC.
pub fn slaveof_batch(host: Option<(&str, u16)>) -> Request {
    let port;
    let slaveof = match host {
        Some((h, p)) => {
            port = p.to_string();
            argv(&["SLAVEOF", h, &port])
        }
        None => argv(&["SLAVEOF", "NO", "ONE"]),
    };
    Request::Raw(vec![
        argv(&["MULTI"]),
        slaveof,
        argv(&["CONFIG", "REWRITE"]),
        argv(&["CLIENT", "KILL", "TYPE", "normal"]),
        argv(&["CLIENT", "KILL", "TYPE", "pubsub"]),
        argv(&["EXEC"]),
    ])
}

/// Runs every 100 ms: spawns missing links, SDOWN/ODOWN, the failover state machine.
pub async fn timer(s: Arc<Sentinel>) {
    loop {
        // Redis randomizes hz so sentinels desynchronize; a small jitter does the same.
        tokio::time::sleep(Duration::from_millis(90 + rand_ms(20) as u64)).await;
        if s.shared.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        let spawn = tick(&mut s.state.lock(), crate::util::now_ms());
        for t in spawn {
            tokio::spawn(link_task(s.clone(), t));
        }
        s.flush_events();
        s.flush_config();
    }
}

/// One timer step over the whole state; returns the links to start.
pub fn tick(st: &mut State, now: i64) -> Vec<Target> {
    // TILT: the clock jumped or the process stalled; trust nothing for 30 s.
    let delta = now - st.previous_time;
    st.previous_time = now;
    if !(0..=2000).contains(&delta) {
        st.tilt = true;
        st.tilt_start_time = now;
        st.event("+tilt", "#tilt mode entered".into());
    }
    if st.tilt && now - st.tilt_start_time > 30_000 {
        st.tilt = false;
        st.event("-tilt", "#tilt mode exited".into());
    }
    let mut spawn = vec![];
    let names: Vec<String> = st.masters.keys().cloned().collect();
    for name in names {
        let m = &mut st.masters[&name];
        if !m.inst.link.task {
            m.inst.link.task = true;
            spawn.push(Target {
                master: name.clone(),
                kind: Kind::Master,
                id: m.inst.link_id,
            });
        }
        for (k, r) in m.replicas.iter_mut() {
            if !r.inst.link.task {
                r.inst.link.task = true;
                spawn.push(Target {
                    master: name.clone(),
                    kind: Kind::Replica(k.clone()),
                    id: r.inst.link_id,
                });
            }
        }
        for (k, p) in m.sentinels.iter_mut() {
            if !p.inst.link.task && p.inst.port != 0 {
                p.inst.link.task = true;
                spawn.push(Target {
                    master: name.clone(),
                    kind: Kind::Sentinel(k.clone()),
                    id: p.inst.link_id,
                });
            }
        }
        check_sdown(st, &name, now);
        if st.tilt {
            continue;
        }
        check_odown(st, &name);
        let m = &st.masters[&name];
        if should_start_failover(m, now) {
            start_failover(st, &name, now);
            ask_others(st, &name, now, true);
        }
        failover_step(st, &name, now);
        ask_others(st, &name, now, false);
    }
    spawn
}

fn check_sdown(st: &mut State, name: &str, now: i64) {
    let mut events: Vec<(&str, String)> = vec![];
    let m = &mut st.masters[name];
    let down_after = m.down_after;
    // A master reporting itself as a replica for long is as good as down.
    let fake =
        !m.inst.role_master && now - m.inst.role_reported_time > down_after + INFO_PERIOD * 2;
    let down = sdown_elapsed(&m.inst.link, now) > down_after || fake;
    if down && !m.inst.sdown() {
        m.inst.s_down_since = now;
        events.push(("+sdown", describe(&Who::Master(m))));
    } else if !down && m.inst.sdown() {
        m.inst.s_down_since = 0;
        m.force_failover = false;
        events.push(("-sdown", describe(&Who::Master(m))));
    }
    let m = &st.masters[name];
    let mut flips = vec![];
    for (k, r) in &m.replicas {
        let down = sdown_elapsed(&r.inst.link, now) > down_after;
        if down != r.inst.sdown() {
            flips.push((true, k.clone(), down));
            let e = if down { "+sdown" } else { "-sdown" };
            events.push((e, describe(&Who::Replica(m, r))));
        }
    }
    for (k, p) in &m.sentinels {
        let down = sdown_elapsed(&p.inst.link, now) > down_after;
        if down != p.inst.sdown() {
            flips.push((false, k.clone(), down));
            let e = if down { "+sdown" } else { "-sdown" };
            events.push((e, describe(&Who::Sentinel(m, p))));
        }
    }
    let m = &mut st.masters[name];
    for (replica, k, down) in flips {
        let inst = if replica {
            &mut m.replicas[&k].inst
        } else {
            &mut m.sentinels[&k].inst
        };
        inst.s_down_since = if down { now } else { 0 };
    }
    for (e, msg) in events {
        st.event(e, msg);
    }
}

fn check_odown(st: &mut State, name: &str) {
    let m = &mut st.masters[name];
    let votes = odown_votes(m);
    let odown = m.inst.sdown() && votes >= m.quorum;
    if odown && !m.odown() {
        m.inst.o_down_since = crate::util::now_ms();
        let msg = format!(
            "{} #quorum {}/{}",
            describe(&Who::Master(m)),
            votes,
            m.quorum
        );
        st.event("+odown", msg);
    } else if !odown && m.odown() {
        m.inst.o_down_since = 0;
        let msg = describe(&Who::Master(m));
        st.event("-odown", msg);
    }
}

/// sentinelAskMasterStateToOtherSentinels.
pub fn ask_others(st: &mut State, name: &str, now: i64, forced: bool) {
    let myid = st.myid.clone();
    let epoch = st.current_epoch;
    let m = &mut st.masters[name];
    let sdown = m.inst.sdown();
    let (ip, port) = (m.inst.ip.clone(), m.inst.port.to_string());
    let runid = if m.in_failover() { myid } else { "*".into() };
    for p in m.sentinels.values_mut() {
        if master_down_reply_expired(p.last_master_down_reply_time, now) {
            p.master_down = false;
            p.leader = None;
        }
        if !sdown || p.inst.link.disconnected {
            continue;
        }
        let queued = p
            .inst
            .link
            .pending
            .iter()
            .any(|r| matches!(r, Request::AskMasterDown { .. }));
        // Asked more often than Redis's 1 s while the master is down: ODOWN sooner.
        if queued || (!forced && now - p.last_master_down_reply_time < ASK_PERIOD / 4) {
            continue;
        }
        p.inst.link.pending.push(Request::AskMasterDown {
            master: name.to_string(),
            args: argv(&[
                "SENTINEL",
                "is-master-down-by-addr",
                &ip,
                &port,
                &epoch.to_string(),
                &runid,
            ]),
        });
    }
}

/// sentinelStartFailover.
fn start_failover(st: &mut State, name: &str, now: i64) {
    st.current_epoch += 1;
    let epoch = st.current_epoch;
    st.dirty_config = true;
    st.event("+new-epoch", epoch.to_string());
    let m = &mut st.masters[name];
    m.failover_state = FailoverState::WaitStart;
    m.failover_epoch = epoch;
    m.failover_start_time = now + rand_ms(MAX_DESYNC);
    m.failover_state_change_time = now;
    m.self_vote_delay = rand_ms(VOTE_DESYNC);
    let msg = describe(&Who::Master(m));
    st.event("+try-failover", msg);
}

/// Starts a failover without agreement (SENTINEL FAILOVER).
pub fn force_failover(st: &mut State, name: &str, now: i64) {
    start_failover(st, name, now);
    let m = &mut st.masters[name];
    m.force_failover = true;
}

fn set_state(st: &mut State, name: &str, state: FailoverState, now: i64, event_on: Option<&str>) {
    let m = &mut st.masters[name];
    m.failover_state = state;
    m.failover_state_change_time = now;
    let who = match event_on.and_then(|k| m.replicas.get(k)) {
        Some(r) => describe(&Who::Replica(m, r)),
        None => describe(&Who::Master(m)),
    };
    st.event(
        &format!("+failover-state-{}", state.as_str().replace('_', "-")),
        who,
    );
}

/// sentinelAbortFailover.
fn abort_failover(st: &mut State, name: &str, event: &str, now: i64) {
    let m = &mut st.masters[name];
    let who = describe(&Who::Master(m));
    m.failover_state = FailoverState::None;
    m.failover_state_change_time = now;
    m.force_failover = false;
    if let Some(k) = m.promoted.take() {
        if let Some(r) = m.replicas.get_mut(&k) {
            r.promoted = false;
        }
    }
    for r in m.replicas.values_mut() {
        r.reconf_sent = false;
        r.reconf_inprog = false;
        r.reconf_done = false;
    }
    st.event(event, who);
}

/// sentinelFailoverStateMachine, plus the UPDATE_CONFIG switch.
fn failover_step(st: &mut State, name: &str, now: i64) {
    let state = st.masters[name].failover_state;
    match state {
        FailoverState::None => {}
        FailoverState::WaitStart => {
            let m = &st.masters[name];
            if !m.force_failover && now - m.failover_state_change_time < m.self_vote_delay {
                return;
            }
            let epoch = m.failover_epoch;
            let leader = get_leader(st, name, epoch, now, rand_ms(MAX_DESYNC));
            let m = &st.masters[name];
            let is_leader = leader.as_deref() == Some(st.myid.as_str());
            if !is_leader && !m.force_failover {
                let timeout = ELECTION_TIMEOUT.min(m.failover_timeout);
                if now - m.failover_start_time > timeout {
                    abort_failover(st, name, "-failover-abort-not-elected", now);
                }
                return;
            }
            let msg = describe(&Who::Master(m));
            st.event("+elected-leader", msg);
            set_state(st, name, FailoverState::SelectSlave, now, None);
            failover_step(st, name, now);
        }
        FailoverState::SelectSlave => match select_slave(&st.masters[name], now) {
            None => abort_failover(st, name, "-failover-abort-no-good-slave", now),
            Some(k) => {
                let m = &mut st.masters[name];
                m.promoted = Some(k.clone());
                let r = &mut m.replicas[&k];
                r.promoted = true;
                let msg = describe(&Who::Replica(m, &m.replicas[&k]));
                st.event("+selected-slave", msg);
                set_state(st, name, FailoverState::SendSlaveofNoone, now, Some(&k));
                failover_step(st, name, now);
            }
        },
        FailoverState::SendSlaveofNoone => {
            let m = &mut st.masters[name];
            let Some(k) = m.promoted.clone() else { return };
            let timeout = m.failover_timeout;
            let r = &mut m.replicas[&k];
            if r.inst.link.disconnected {
                if now - m.failover_state_change_time > timeout {
                    abort_failover(st, name, "-failover-abort-slave-timeout", now);
                }
                return;
            }
            r.inst.link.pending.push(slaveof_batch(None));
            set_state(st, name, FailoverState::WaitPromotion, now, Some(&k));
        }
        FailoverState::WaitPromotion => {
            let m = &st.masters[name];
            if now - m.failover_state_change_time > m.failover_timeout {
                abort_failover(st, name, "-failover-abort-slave-timeout", now);
            }
        }
        FailoverState::ReconfSlaves => {
            reconf_next_slave(st, name, now);
            detect_end(st, name, now);
        }
        FailoverState::UpdateConfig => {
            let m = &st.masters[name];
            let Some(k) = m.promoted.clone() else { return };
            let Some(r) = m.replicas.get(&k) else { return };
            let (ip, port) = (r.inst.ip.clone(), r.inst.port);
            let msg = format!("{} {} {} {} {}", name, m.inst.ip, m.inst.port, ip, port);
            st.event("+switch-master", msg);
            reset_master_and_change_address(st, name, &ip, port, now);
        }
    }
}

/// sentinelFailoverReconfNextSlave.
fn reconf_next_slave(st: &mut State, name: &str, now: i64) {
    let m = &mut st.masters[name];
    let Some(pk) = m.promoted.clone() else { return };
    let (pip, pport) = match m.replicas.get(&pk) {
        Some(r) => (r.inst.ip.clone(), r.inst.port),
        None => return,
    };
    let mut in_progress = m
        .replicas
        .values()
        .filter(|r| r.reconf_sent || r.reconf_inprog)
        .count();
    let mut events = vec![];
    let keys: Vec<String> = m.replicas.keys().cloned().collect();
    for k in keys {
        let r = &mut m.replicas[&k];
        if r.promoted || r.reconf_done {
            continue;
        }
        if r.reconf_sent && now - r.reconf_sent_time > SLAVE_RECONF_TIMEOUT {
            r.reconf_sent = false;
            r.reconf_done = true;
            events.push(("-slave-reconf-sent-timeout", k.clone()));
            continue;
        }
        if in_progress >= m.parallel_syncs {
            break;
        }
        if r.reconf_sent || r.reconf_inprog || r.inst.link.disconnected {
            continue;
        }
        r.inst.link.pending.push(slaveof_batch(Some((&pip, pport))));
        r.reconf_sent = true;
        r.reconf_sent_time = now;
        in_progress += 1;
        events.push(("+slave-reconf-sent", k.clone()));
    }
    for (e, k) in events {
        let m = &st.masters[name];
        let msg = describe(&Who::Replica(m, &m.replicas[&k]));
        st.event(e, msg);
    }
}

/// sentinelFailoverDetectEnd.
fn detect_end(st: &mut State, name: &str, now: i64) {
    let m = &st.masters[name];
    let Some(pk) = m.promoted.clone() else { return };
    match m.replicas.get(&pk) {
        Some(p) if !p.inst.sdown() => {}
        _ => return,
    }
    let mut not_reconfigured = m
        .replicas
        .values()
        .filter(|r| !(r.promoted || r.reconf_done || r.inst.sdown()))
        .count();
    let timeout = now - m.failover_state_change_time > m.failover_timeout;
    if timeout {
        not_reconfigured = 0;
        let msg = describe(&Who::Master(m));
        st.event("+failover-end-for-timeout", msg);
    }
    if not_reconfigured == 0 {
        let msg = describe(&Who::Master(&st.masters[name]));
        st.event("+failover-end", msg);
        let m = &mut st.masters[name];
        m.failover_state = FailoverState::UpdateConfig;
        m.failover_state_change_time = now;
    }
    if timeout {
        let m = &mut st.masters[name];
        let (pip, pport) = (m.replicas[&pk].inst.ip.clone(), m.replicas[&pk].inst.port);
        let mut sent = vec![];
        for (k, r) in m.replicas.iter_mut() {
            if r.promoted || r.reconf_done || r.reconf_sent || r.inst.link.disconnected {
                continue;
            }
            r.inst.link.pending.push(slaveof_batch(Some((&pip, pport))));
            r.reconf_sent = true;
            sent.push(k.clone());
        }
        for k in sent {
            let m = &st.masters[name];
            let msg = describe(&Who::Replica(m, &m.replicas[&k]));
            st.event("+slave-reconf-sent-be", msg);
        }
    }
}

/// sentinelResetMasterAndChangeAddress: the new address becomes the master, the old one
/// and the other replicas its replicas; sentinels are kept.
pub fn reset_master_and_change_address(st: &mut State, name: &str, ip: &str, port: u16, now: i64) {
    let m = &mut st.masters[name];
    let mut addrs: Vec<(String, u16)> = m
        .replicas
        .values()
        .filter(|r| !(r.inst.ip == ip && r.inst.port == port))
        .map(|r| (r.inst.ip.clone(), r.inst.port))
        .collect();
    if !(m.inst.ip == ip && m.inst.port == port) {
        addrs.push((m.inst.ip.clone(), m.inst.port));
    }
    reset_master(m, now, false);
    m.inst = Instance::new(name.to_string(), ip, port, now);
    m.inst.role_master = true;
    for (rip, rport) in addrs {
        let r = Replica::new(&rip, rport, now);
        m.replicas.insert(r.inst.name.clone(), r);
    }
    let msgs: Vec<String> = m
        .replicas
        .values()
        .map(|r| describe(&Who::Replica(m, r)))
        .collect();
    for msg in msgs {
        st.event("+slave", msg);
    }
    st.dirty_config = true;
}

/// sentinelResetMaster: forgets replicas (and sentinels unless kept) and failover state.
pub fn reset_master(m: &mut Master, now: i64, sentinels_too: bool) {
    m.replicas.clear();
    if sentinels_too {
        m.sentinels.clear();
    }
    let (name, ip, port) = (m.inst.name.clone(), m.inst.ip.clone(), m.inst.port);
    m.inst = Instance::new(name, &ip, port, now);
    m.inst.role_master = true;
    m.leader = None;
    m.failover_state = FailoverState::None;
    m.failover_state_change_time = 0;
    m.failover_start_time = 0;
    m.force_failover = false;
    m.promoted = None;
}

/// sentinelProcessHelloMessage.
pub fn process_hello(st: &mut State, payload: &str, now: i64) {
    let t: Vec<&str> = payload.split(',').collect();
    if t.len() != 8 || t[2].eq_ignore_ascii_case(&st.myid) {
        return;
    }
    let (Ok(port), Ok(epoch), Ok(mport), Ok(mepoch)) = (
        t[1].parse::<u16>(),
        t[3].parse::<u64>(),
        t[6].parse::<u16>(),
        t[7].parse::<u64>(),
    ) else {
        return;
    };
    let (ip, runid, mname, mip) = (t[0], t[2], t[4], t[5]);
    let Some(m) = st.masters.get_mut(mname) else {
        return;
    };
    let known = m
        .sentinels
        .get(runid)
        .is_some_and(|p| p.inst.ip == ip && p.inst.port == port);
    let mut events = vec![];
    if !known {
        if let Some(old) = m.sentinels.shift_remove(runid) {
            events.push((
                "-dup-sentinel",
                format!(
                    "{} #duplicate of {}:{} or {}",
                    describe(&Who::Sentinel(m, &old)),
                    ip,
                    port,
                    runid
                ),
            ));
            events.push((
                "+sentinel-address-switch",
                format!("{} {} {} {}", mname, ip, port, runid),
            ));
        }
        // Another sentinel at this address must have restarted with a new id.
        let stale: Vec<String> = m
            .sentinels
            .iter()
            .filter(|(_, p)| p.inst.ip == ip && p.inst.port == port)
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            events.push((
                "+sentinel-invalid-addr",
                describe(&Who::Sentinel(m, &m.sentinels[&k])),
            ));
            m.sentinels[&k].inst.port = 0;
        }
        let mut inst = Instance::new(runid.to_string(), ip, port, now);
        inst.runid = Some(runid.to_string());
        let p = new_peer(inst);
        events.push(("+sentinel", describe(&Who::Sentinel(m, &p))));
        m.sentinels.insert(runid.to_string(), p);
        st.dirty_config = true;
    }
    for (e, msg) in events {
        st.event(e, msg);
    }
    if epoch > st.current_epoch {
        st.current_epoch = epoch;
        st.dirty_config = true;
        st.event("+new-epoch", epoch.to_string());
    }
    let m = &mut st.masters[mname];
    if m.config_epoch < mepoch {
        m.config_epoch = mepoch;
        st.dirty_config = true;
        if mport != m.inst.port || mip != m.inst.ip {
            let from = describe(&Who::Sentinel(m, &m.sentinels[runid]));
            let msg = format!("{} {} {} {} {}", mname, m.inst.ip, m.inst.port, mip, mport);
            st.event("+config-update-from", from);
            st.event("+switch-master", msg);
            let mname = mname.to_string();
            reset_master_and_change_address(st, &mname, mip, mport, now);
        }
    }
    if let Some(p) = st
        .masters
        .get_mut(mname)
        .and_then(|m| m.sentinels.get_mut(runid))
    {
        p.last_hello_time = now;
    }
}

/// sentinelRefreshInstanceInfo: INFO of a master or replica.
pub fn process_info(st: &mut State, t: &Target, text: &str, now: i64) {
    let tilt = st.tilt;
    let Some(m) = st.masters.get_mut(&t.master) else {
        return;
    };
    let mut runid = None;
    let mut role_master = None;
    let mut found_replicas: Vec<(String, u16)> = vec![];
    let mut link_down_secs = 0i64;
    let mut master_host = None;
    let mut master_port = None;
    let mut link_up = None;
    let mut priority = None;
    let mut offset = None;
    let mut announced = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        match k {
            "run_id" if v.len() == 40 => runid = Some(v.to_string()),
            "role" => role_master = Some(v == "master"),
            "master_host" => master_host = Some(v.to_string()),
            "master_port" => master_port = v.parse::<u16>().ok(),
            "master_link_status" => link_up = Some(v == "up"),
            "master_link_down_since_seconds" => link_down_secs = v.parse().unwrap_or(0),
            "slave_priority" | "replica_priority" => priority = v.parse::<i64>().ok(),
            "slave_repl_offset" => offset = v.parse::<u64>().ok(),
            "replica_announced" => announced = Some(v == "1"),
            _ if k.len() > 5
                && k.starts_with("slave")
                && k[5..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                let mut ip = None;
                let mut port = None;
                for kv in v.split(',') {
                    match kv.split_once('=') {
                        Some(("ip", x)) => ip = Some(x.to_string()),
                        Some(("port", x)) => port = x.parse::<u16>().ok(),
                        _ => {}
                    }
                }
                if let (Some(ip), Some(port)) = (ip, port) {
                    found_replicas.push((ip, port));
                }
            }
            _ => {}
        }
    }
    let mut events: Vec<(&str, String)> = vec![];
    let is_master_target = t.kind == Kind::Master;
    let mut rebooted = false;
    {
        let Some(inst) = inst_mut_in(m, t) else {
            return;
        };
        inst.info = text.to_string();
        inst.info_refresh = now;
        if let Some(id) = runid {
            if inst.runid.as_ref().is_some_and(|old| *old != id) {
                rebooted = true;
            }
            inst.runid = Some(id);
        }
        if let Some(rm) = role_master {
            if rm != inst.role_master {
                inst.role_master = rm;
                inst.role_reported_time = now;
            }
        }
    }
    if rebooted {
        let who = match &t.kind {
            Kind::Replica(k) => m.replicas.get(k).map(|r| describe(&Who::Replica(m, r))),
            _ => Some(describe(&Who::Master(m))),
        };
        if let Some(w) = who {
            events.push(("+reboot", w));
        }
    }
    if is_master_target {
        for (ip, port) in found_replicas {
            let key = format!("{ip}:{port}");
            if !m.replicas.contains_key(&key) {
                let r = Replica::new(&ip, port, now);
                events.push(("+slave", describe(&Who::Replica(m, &r))));
                m.replicas.insert(key, r);
                st.dirty_config = true;
            }
        }
    }
    let Kind::Replica(key) = &t.kind else {
        for (e, msg) in events {
            st.event(e, msg);
        }
        return;
    };
    let m = &mut st.masters[&t.master];
    let (mip, mport, state) = (m.inst.ip.clone(), m.inst.port, m.failover_state);
    let promoted_addr = m
        .promoted
        .as_ref()
        .and_then(|k| m.replicas.get(k))
        .map(|r| (r.inst.ip.clone(), r.inst.port));
    let failover_epoch = m.failover_epoch;
    let master_sane = !m.inst.sdown() && m.inst.role_master && !m.inst.link.disconnected;
    let Some(r) = m.replicas.get_mut(key) else {
        return;
    };
    r.master_link_down_time = link_down_secs * 1000;
    if let Some(h) = master_host {
        r.master_host = h;
    }
    if let Some(p) = master_port {
        r.master_port = p;
    }
    if let Some(u) = link_up {
        r.master_link_up = u;
    }
    if let Some(p) = priority {
        r.priority = p;
    }
    if let Some(o) = offset {
        r.repl_offset = o;
    }
    if let Some(a) = announced {
        r.announced = a;
    }
    if tilt {
        for (e, msg) in events {
            st.event(e, msg);
        }
        return;
    }
    let wait_time = PUBLISH_PERIOD * 4;
    let mut promoted_now = false;
    if r.inst.role_master {
        if r.promoted && state == FailoverState::WaitPromotion {
            promoted_now = true;
        } else if !r.promoted
            && master_sane
            && !r.inst.sdown()
            && now - r.inst.role_reported_time > wait_time
            && now - r.slaveof_sent_time > wait_time
            && !r.inst.link.disconnected
        {
            // A replica (a returning old master) claims to be a master: force our view.
            r.inst.link.pending.push(slaveof_batch(Some((&mip, mport))));
            r.slaveof_sent_time = now;
            events.push(("+convert-to-slave", String::new()));
        }
    } else {
        if state == FailoverState::None
            && master_sane
            && !r.master_host.is_empty()
            && (r.master_host != mip || r.master_port != mport)
            && now - r.inst.role_reported_time > wait_time
            && now - r.slaveof_sent_time > wait_time
            && !r.inst.link.disconnected
        {
            r.inst.link.pending.push(slaveof_batch(Some((&mip, mport))));
            r.slaveof_sent_time = now;
            events.push(("+fix-slave-config", String::new()));
        }
        if let Some((pip, pport)) = &promoted_addr {
            if r.reconf_sent && r.master_host == *pip && r.master_port == *pport {
                r.reconf_sent = false;
                r.reconf_inprog = true;
                events.push(("+slave-reconf-inprog", String::new()));
            }
            if r.reconf_inprog && r.master_link_up {
                r.reconf_inprog = false;
                r.reconf_done = true;
                events.push(("+slave-reconf-done", String::new()));
            }
        }
    }
    let m = &st.masters[&t.master];
    let who = describe(&Who::Replica(m, &m.replicas[key]));
    for (e, msg) in events {
        let msg = if msg.is_empty() { who.clone() } else { msg };
        st.event(e, msg);
    }
    if promoted_now {
        let m = &mut st.masters[&t.master];
        m.config_epoch = failover_epoch;
        // Hello messages with the new configuration go out on the next link iteration.
        m.inst.last_pub_time = 0;
        for r in m.replicas.values_mut() {
            r.inst.last_pub_time = 0;
        }
        for p in m.sentinels.values_mut() {
            p.inst.last_pub_time = 0;
        }
        st.dirty_config = true;
        st.event("+promoted-slave", who);
        set_state(st, &t.master, FailoverState::ReconfSlaves, now, None);
        reconf_next_slave(st, &t.master, now);
    }
}

fn inst_mut_in<'a>(m: &'a mut Master, t: &Target) -> Option<&'a mut Instance> {
    let i = match &t.kind {
        Kind::Master => &mut m.inst,
        Kind::Replica(k) => &mut m.replicas.get_mut(k)?.inst,
        Kind::Sentinel(k) => &mut m.sentinels.get_mut(k)?.inst,
    };
    (i.link_id == t.id).then_some(i)
}

/// What the link sends on this iteration.
enum Out {
    Ping,
    Info,
    Hello(String),
    Req(Request),
}

fn frame_text(f: &Frame) -> Option<String> {
    match f {
        Frame::BlobString { data, .. }
        | Frame::SimpleString { data, .. }
        | Frame::VerbatimString { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
        _ => None,
    }
}

fn frame_int(f: &Frame) -> Option<i64> {
    match f {
        Frame::Number { data, .. } => Some(*data),
        _ => None,
    }
}

fn is_error(f: &Frame) -> bool {
    matches!(f, Frame::SimpleError { .. } | Frame::BlobError { .. })
}

/// What to send now, decided under the lock (sentinelSendPeriodicCommands).
fn next_out(s: &Sentinel, t: &Target, local_ip: &str, now: i64) -> Option<Vec<Out>> {
    let mut st = s.state.lock();
    let myid = st.myid.clone();
    let epoch = st.current_epoch;
    let announce_ip = st
        .announce_ip
        .clone()
        .unwrap_or_else(|| local_ip.to_string());
    let announce_port = if st.announce_port != 0 {
        st.announce_port
    } else {
        s.port
    };
    let m = st.masters.get_mut(&t.master)?;
    let (mip, mport) = m.current_addr();
    let (mname, mip, mepoch) = (m.inst.name.clone(), mip.to_string(), m.config_epoch);
    let fast_info = match &t.kind {
        Kind::Replica(k) => m.replicas.get(k).is_some_and(|r| {
            r.reconf_sent
                || r.reconf_inprog
                || (r.promoted && m.failover_state == FailoverState::WaitPromotion)
        }),
        _ => false,
    };
    let period = match &t.kind {
        Kind::Master => info_period(m, false),
        Kind::Replica(_) => info_period(m, true),
        Kind::Sentinel(_) => 0,
    };
    let down_after = m.down_after;
    let inst = inst_mut_in(m, t)?;
    let mut out = vec![];
    for r in inst.link.pending.drain(..) {
        out.push(Out::Req(r));
    }
    let ping_period = PING_PERIOD.min(down_after);
    if std::mem::take(&mut inst.link.ping_now)
        || (now - inst.link.last_pong_time > ping_period
            && now - inst.link.last_ping_time > ping_period / 2)
    {
        inst.link.last_ping_time = now;
        if inst.link.act_ping_time == 0 {
            inst.link.act_ping_time = now;
        }
        out.push(Out::Ping);
    }
    let sentinel = matches!(t.kind, Kind::Sentinel(_));
    if !sentinel
        && (inst.info_refresh == 0
            || now - inst.info_refresh > period
            || (fast_info && now - inst.info_refresh > 100))
    {
        out.push(Out::Info);
    }
    if now - inst.last_pub_time > PUBLISH_PERIOD {
        inst.last_pub_time = now;
        out.push(Out::Hello(format!(
            "{announce_ip},{announce_port},{myid},{epoch},{mname},{mip},{mport},{mepoch}"
        )));
    }
    Some(out)
}

/// A link task: one command connection (and, for masters and replicas, a pub/sub
/// connection for hello messages), reconnecting until the instance is forgotten.
pub async fn link_task(s: Arc<Sentinel>, t: Target) {
    loop {
        let (addr, auth) = {
            let mut st = s.state.lock();
            let auth = st
                .masters
                .get(&t.master)
                .map(|m| (m.auth_user.clone(), m.auth_pass.clone()));
            match inst_mut(&mut st, &t) {
                Some(i) => (i.addr(), auth),
                None => return,
            }
        };
        let conn = tokio::time::timeout(Duration::from_millis(1000), Client::connect(&addr)).await;
        let mut client = match conn {
            Ok(Ok(c)) => c,
            _ => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let sentinel = matches!(t.kind, Kind::Sentinel(_));
        if !sentinel {
            if let Some((user, Some(pass))) = &auth {
                let r = match user {
                    Some(u) => client.cmd(&[b"AUTH", u.as_bytes(), pass.as_bytes()]).await,
                    None => client.cmd(&[b"AUTH", pass.as_bytes()]).await,
                };
                if r.is_err() {
                    continue;
                }
            }
        }
        let myid8 = s.state.lock().myid[..8].to_string();
        let name = format!("sentinel-{myid8}-cmd");
        if client
            .cmd(&[b"CLIENT", b"SETNAME", name.as_bytes()])
            .await
            .is_err()
        {
            continue;
        }
        let local_ip = client
            .local_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|_| "127.0.0.1".into());
        {
            let mut st = s.state.lock();
            match inst_mut(&mut st, &t) {
                Some(i) => {
                    i.link.disconnected = false;
                    i.link.ping_now = true;
                    i.link.local_ip = Some(local_ip.clone());
                }
                None => return,
            }
        }
        let pubsub = (!sentinel).then(|| {
            tokio::spawn(pubsub_task(
                s.clone(),
                addr.clone(),
                auth.clone(),
                myid8.clone(),
            ))
        });
        let res = run_link(&s, &t, &mut client, &local_ip).await;
        if let Some(h) = pubsub {
            h.abort();
        }
        let gone = {
            let mut st = s.state.lock();
            match inst_mut(&mut st, &t) {
                Some(i) => {
                    i.link.disconnected = true;
                    false
                }
                None => true,
            }
        };
        if gone || res.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Serves a connected link; None when the instance is gone, Some(()) on a link error.
async fn run_link(s: &Sentinel, t: &Target, client: &mut Client, local_ip: &str) -> Option<()> {
    loop {
        let now = crate::util::now_ms();
        let outs = next_out(s, t, local_ip, now)?;
        let down_after = s.state.lock().masters.get(&t.master)?.down_after;
        let limit = Duration::from_millis((down_after / 2).max(100) as u64);
        let mut info_sent = false;
        for o in outs {
            let r = match o {
                Out::Ping => {
                    let f = tokio::time::timeout(limit, client.cmd(&[b"PING"])).await;
                    let Ok(Ok(f)) = f else { return Some(()) };
                    let now = crate::util::now_ms();
                    let mut st = s.state.lock();
                    let i = inst_mut(&mut st, t)?;
                    i.link.last_pong_time = now;
                    let text = frame_text(&f).unwrap_or_default();
                    // As Redis: PONG, LOADING and MASTERDOWN count as a valid reply.
                    if !is_error(&f)
                        || text.starts_with("LOADING")
                        || text.starts_with("MASTERDOWN")
                    {
                        i.link.last_avail_time = now;
                        i.link.act_ping_time = 0;
                    } else if let Frame::SimpleError { data, .. } = &f {
                        if data.starts_with("LOADING") || data.starts_with("MASTERDOWN") {
                            i.link.last_avail_time = now;
                            i.link.act_ping_time = 0;
                        }
                    }
                    Ok(())
                }
                Out::Info => {
                    info_sent = true;
                    let f = tokio::time::timeout(limit, client.cmd(&[b"INFO"])).await;
                    let Ok(Ok(f)) = f else { return Some(()) };
                    if let Some(text) = frame_text(&f) {
                        let now = crate::util::now_ms();
                        let mut st = s.state.lock();
                        inst_mut(&mut st, t)?;
                        process_info(&mut st, t, &text, now);
                    }
                    Ok(())
                }
                Out::Hello(payload) => {
                    let f = tokio::time::timeout(
                        limit,
                        client.cmd(&[b"PUBLISH", HELLO_CHANNEL.as_bytes(), payload.as_bytes()]),
                    )
                    .await;
                    let Ok(Ok(_)) = f else { return Some(()) };
                    Ok(())
                }
                Out::Req(Request::Raw(batch)) => {
                    for a in &batch {
                        let refs: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
                        client.queue(&refs);
                    }
                    let f = tokio::time::timeout(limit, client.flush_and_read(batch.len())).await;
                    let Ok(Ok(replies)) = f else { return Some(()) };
                    if let Some(e) = replies.iter().find(|f| is_error(f)) {
                        tracing::debug!("sentinel command error from {:?}: {:?}", t.kind, e);
                    }
                    // Learn the outcome (promotion, new master) right away.
                    let mut st = s.state.lock();
                    if let Some(i) = inst_mut(&mut st, t) {
                        i.info_refresh = 0;
                    }
                    Ok(())
                }
                Out::Req(Request::AskMasterDown { master, args }) => {
                    let refs: Vec<&[u8]> = args.iter().map(|x| x.as_slice()).collect();
                    let f = tokio::time::timeout(limit, client.cmd(&refs)).await;
                    let Ok(Ok(f)) = f else { return Some(()) };
                    let now = crate::util::now_ms();
                    let mut st = s.state.lock();
                    if let (Frame::Array { data, .. }, Kind::Sentinel(k)) = (&f, &t.kind) {
                        if data.len() == 3 {
                            if let (Some(down), Some(leader), Some(epoch)) = (
                                frame_int(&data[0]),
                                frame_text(&data[1]),
                                frame_int(&data[2]),
                            ) {
                                if let Some(p) = st
                                    .masters
                                    .get_mut(&master)
                                    .and_then(|m| m.sentinels.get_mut(k))
                                {
                                    p.last_master_down_reply_time = now;
                                    p.master_down = down == 1;
                                    if leader != "*" {
                                        p.leader = Some(leader);
                                        p.leader_epoch = epoch as u64;
                                    }
                                }
                            }
                        }
                    }
                    Ok::<(), ()>(())
                }
            };
            let _ = r;
        }
        if info_sent {
            s.flush_events();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The pub/sub link: hello messages of other sentinels seen on an instance.
async fn pubsub_task(
    s: Arc<Sentinel>,
    addr: String,
    auth: Option<(Option<String>, Option<String>)>,
    myid8: String,
) {
    // Reconnects while the command link lives (it aborts this task when it drops).
    loop {
        pubsub_session(&s, &addr, &auth, &myid8).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn pubsub_session(
    s: &Sentinel,
    addr: &str,
    auth: &Option<(Option<String>, Option<String>)>,
    myid8: &str,
) {
    let Ok(Ok(mut c)) =
        tokio::time::timeout(Duration::from_millis(1000), Client::connect(addr)).await
    else {
        return;
    };
    if let Some((user, Some(pass))) = auth {
        let r = match user {
            Some(u) => c.cmd(&[b"AUTH", u.as_bytes(), pass.as_bytes()]).await,
            None => c.cmd(&[b"AUTH", pass.as_bytes()]).await,
        };
        if r.is_err() {
            return;
        }
    }
    let name = format!("sentinel-{myid8}-pubsub");
    if c.cmd(&[b"CLIENT", b"SETNAME", name.as_bytes()])
        .await
        .is_err()
    {
        return;
    }
    if c.cmd(&[b"SUBSCRIBE", HELLO_CHANNEL.as_bytes()])
        .await
        .is_err()
    {
        return;
    }
    while let Ok(f) = c.read_frame().await {
        let data = match f {
            Frame::Array { data, .. } | Frame::Push { data, .. } => data,
            _ => continue,
        };
        if data.len() == 3 && frame_text(&data[0]).as_deref() == Some("message") {
            if let Some(payload) = frame_text(&data[2]) {
                let now = crate::util::now_ms();
                process_hello(&mut s.state.lock(), &payload, now);
                s.flush_events();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let mut st = State::new("a".repeat(40), 0);
        st.masters.insert(
            "mymaster".into(),
            Master::new("mymaster", "127.0.0.1", 6379, 2, 0),
        );
        st
    }

    fn kinds(st: &State) -> Vec<&str> {
        st.events.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn info_discovers_replicas() {
        let mut st = state();
        let id = st.masters["mymaster"].inst.link_id;
        let t = Target {
            master: "mymaster".into(),
            kind: Kind::Master,
            id,
        };
        let info = "# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=6380,state=online,offset=1,lag=0\r\n";
        process_info(&mut st, &t, info, 10);
        assert!(st.masters["mymaster"]
            .replicas
            .contains_key("127.0.0.1:6380"));
        assert_eq!(
            st.events[0],
            (
                "+slave".to_string(),
                "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379".to_string()
            )
        );
        assert!(st.dirty_config);
    }

    #[test]
    fn hello_adds_sentinels_and_switches_on_newer_config() {
        let mut st = state();
        let b = "b".repeat(40);
        process_hello(
            &mut st,
            &format!("127.0.0.1,26380,{b},0,mymaster,127.0.0.1,6379,0"),
            5,
        );
        assert_eq!(kinds(&st), ["+sentinel"]);
        assert!(st.masters["mymaster"].sentinels.contains_key(&b));
        // Our own hello is ignored.
        let a = "a".repeat(40);
        process_hello(
            &mut st,
            &format!("127.0.0.1,26379,{a},9,mymaster,1.2.3.4,1,9"),
            5,
        );
        assert_eq!(st.current_epoch, 0);
        // A newer config epoch with another address: +switch-master.
        process_hello(
            &mut st,
            &format!("127.0.0.1,26380,{b},3,mymaster,127.0.0.1,6380,3"),
            6,
        );
        let m = &st.masters["mymaster"];
        assert_eq!(
            (m.inst.port, m.config_epoch, st.current_epoch),
            (6380, 3, 3)
        );
        assert!(m.replicas.contains_key("127.0.0.1:6379"));
        assert!(kinds(&st).contains(&"+switch-master"));
        let sw = st
            .events
            .iter()
            .find(|(k, _)| k == "+switch-master")
            .unwrap();
        assert_eq!(sw.1, "mymaster 127.0.0.1 6379 127.0.0.1 6380");
    }

    #[test]
    fn sdown_then_odown_then_failover_start() {
        const T: i64 = 100_000;
        let mut st = state();
        st.previous_time = T;
        let b = "b".repeat(40);
        process_hello(
            &mut st,
            &format!("127.0.0.1,26380,{b},0,mymaster,127.0.0.1,6379,0"),
            0,
        );
        {
            let m = &mut st.masters["mymaster"];
            m.down_after = 1000;
            m.failover_timeout = 1000;
            m.inst.link.disconnected = true;
            m.inst.link.last_avail_time = T;
        }
        tick(&mut st, T + 500);
        assert!(!st.masters["mymaster"].inst.sdown());
        tick(&mut st, T + 1500);
        assert!(st.masters["mymaster"].inst.sdown());
        assert!(!st.masters["mymaster"].odown());
        st.masters["mymaster"].sentinels[&b].master_down = true;
        st.masters["mymaster"].sentinels[&b].last_master_down_reply_time = T + 1500;
        st.masters["mymaster"].sentinels[&b].inst.link.disconnected = false;
        tick(&mut st, T + 1600);
        let m = &st.masters["mymaster"];
        assert!(m.odown());
        assert_eq!(m.failover_state, FailoverState::WaitStart);
        assert_eq!(st.current_epoch, 1);
        // The vote request goes to the other sentinel with our run id.
        let p = &m.sentinels[&b];
        assert!(p.inst.link.pending.iter().any(|r| matches!(r,
            Request::AskMasterDown { args, .. } if args.last().map(|a| a.as_slice()) == Some(st.myid.as_bytes()))));
        assert!(kinds(&st).contains(&"+try-failover"));
    }
}
