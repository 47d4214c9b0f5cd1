//! The pure parts of sentinel's decisions: functions over state and `now`, unit tested.

use super::{FailoverState, Master, State, ASK_PERIOD, INFO_PERIOD, PING_PERIOD};
use std::cmp::Ordering;

/// sentinelCheckSubjectivelyDown's elapsed time: since the oldest unanswered PING, or
/// since the last valid reply while disconnected.
pub fn sdown_elapsed(link: &super::Link, now: i64) -> i64 {
    if link.act_ping_time != 0 {
        now - link.act_ping_time
    } else if link.disconnected {
        now - link.last_avail_time
    } else {
        0
    }
}

/// Votes for ODOWN: ourselves plus the sentinels that replied "down" (sentinelCheckObjectivelyDown).
pub fn odown_votes(m: &Master) -> usize {
    1 + m.sentinels.values().filter(|p| p.master_down).count()
}

/// Majority of the voters (all known sentinels plus us).
pub fn voters_quorum(m: &Master) -> usize {
    let voters = m.sentinels.len() + 1;
    voters / 2 + 1
}

/// Replica ordering of sentinelSelectSlave: lower priority, then greater offset, then the
/// lexicographically smaller run id (a missing run id sorts last).
pub fn compare_replicas(a: (i64, u64, Option<&str>), b: (i64, u64, Option<&str>)) -> Ordering {
    a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(match (a.2, b.2) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
    })
}

/// sentinelSelectSlave: the key of the best promotable replica.
pub fn select_slave(m: &Master, now: i64) -> Option<String> {
    let max_master_down_time = if m.inst.sdown() {
        (now - m.inst.s_down_since) + m.down_after * 10
    } else {
        m.down_after * 10
    };
    let info_validity = if m.inst.sdown() {
        5 * 1000
    } else {
        3 * INFO_PERIOD
    };
    let mut candidates: Vec<(&String, &super::Replica)> = m
        .replicas
        .iter()
        .filter(|(_, r)| {
            !r.inst.sdown()
                && !r.inst.link.disconnected
                && now - r.inst.link.last_avail_time <= 5 * PING_PERIOD
                && r.priority != 0
                && now - r.inst.info_refresh <= info_validity
                && r.master_link_down_time <= max_master_down_time
                && !r.inst.role_master
        })
        .collect();
    candidates.sort_by(|(_, a), (_, b)| {
        compare_replicas(
            (a.priority, a.repl_offset, a.inst.runid.as_deref()),
            (b.priority, b.repl_offset, b.inst.runid.as_deref()),
        )
    });
    candidates.first().map(|(k, _)| (*k).clone())
}

/// sentinelVoteLeader: votes for `req_runid` in `req_epoch` unless we already voted in
/// that epoch; returns our vote and its epoch.
pub fn vote_leader(
    st: &mut State,
    master: &str,
    req_epoch: u64,
    req_runid: &str,
    now: i64,
    desync: i64,
) -> (Option<String>, u64) {
    if req_epoch > st.current_epoch {
        st.current_epoch = req_epoch;
        st.dirty_config = true;
        st.event("+new-epoch", req_epoch.to_string());
    }
    let current = st.current_epoch;
    let myid = st.myid.clone();
    let Some(m) = st.masters.get_mut(master) else {
        return (None, 0);
    };
    let mut voted = None;
    if m.leader_epoch < req_epoch && current <= req_epoch {
        m.leader = Some(req_runid.to_string());
        m.leader_epoch = current;
        if !req_runid.eq_ignore_ascii_case(&myid) {
            // Voted for someone else: don't start our own failover soon.
            m.failover_start_time = now + desync;
        }
        voted = Some(format!("{req_runid} {current}"));
    }
    let out = (m.leader.clone(), m.leader_epoch);
    if let Some(msg) = voted {
        st.dirty_config = true;
        st.event("+vote-for-leader", msg);
    }
    out
}

/// sentinelGetLeader: the winner of `epoch` if it has a majority and the quorum. Votes
/// for the most voted sentinel (or ourselves) first.
pub fn get_leader(
    st: &mut State,
    master: &str,
    epoch: u64,
    now: i64,
    desync: i64,
) -> Option<String> {
    let current = st.current_epoch;
    let myid = st.myid.clone();
    let m = st.masters.get(master)?;
    let mut counters: Vec<(String, usize)> = vec![];
    for p in m.sentinels.values() {
        if let (Some(l), true) = (&p.leader, p.leader_epoch == current) {
            match counters.iter_mut().find(|(k, _)| k == l) {
                Some(c) => c.1 += 1,
                None => counters.push((l.clone(), 1)),
            }
        }
    }
    let (quorum, vq) = (m.quorum, voters_quorum(m));
    let mut winner: Option<String> = None;
    let mut max_votes = 0;
    for (k, v) in &counters {
        if *v > max_votes {
            max_votes = *v;
            winner = Some(k.clone());
        }
    }
    let candidate = winner.clone().unwrap_or(myid);
    let (myvote, leader_epoch) = vote_leader(st, master, epoch, &candidate, now, desync);
    if let (Some(v), true) = (myvote, leader_epoch == epoch) {
        let votes = counters
            .iter()
            .find(|(k, _)| *k == v)
            .map(|(_, c)| *c)
            .unwrap_or(0)
            + 1;
        if votes > max_votes {
            max_votes = votes;
            winner = Some(v);
        }
    }
    winner.filter(|_| max_votes >= vq && max_votes >= quorum)
}

/// Whether a peer's IS-MASTER-DOWN-BY-ADDR reply is too old to count.
pub fn master_down_reply_expired(last_reply: i64, now: i64) -> bool {
    now - last_reply > ASK_PERIOD * 5
}

/// How often INFO is sent to an instance of `m`.
pub fn info_period(m: &Master, replica: bool) -> i64 {
    if replica && (m.odown() || m.in_failover()) || (!replica && m.inst.sdown()) {
        1000
    } else {
        INFO_PERIOD
    }
}

/// A failover may start: ODOWN, none in progress, and not within 2 x failover-timeout of
/// the last attempt (or of our vote for someone else).
pub fn should_start_failover(m: &Master, now: i64) -> bool {
    m.odown()
        && m.failover_state == FailoverState::None
        && now - m.failover_start_time >= m.failover_timeout * 2
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;

    fn state() -> State {
        State::new("a".repeat(40), 0)
    }

    fn peer(id: &str) -> Peer {
        let mut i = Instance::new(id.into(), "127.0.0.1", 1, 0);
        i.runid = Some(id.into());
        new_peer(i)
    }

    #[test]
    fn replica_ordering() {
        use std::cmp::Ordering::*;
        assert_eq!(
            compare_replicas((10, 0, Some("b")), (100, 999, Some("a"))),
            Less
        );
        assert_eq!(
            compare_replicas((100, 5, Some("b")), (100, 4, Some("a"))),
            Less
        );
        assert_eq!(
            compare_replicas((100, 5, Some("a")), (100, 5, Some("B"))),
            Less
        );
        assert_eq!(
            compare_replicas((100, 5, None), (100, 5, Some("z"))),
            Greater
        );
    }

    #[test]
    fn select_skips_unusable_replicas() {
        let now = 100_000;
        let mut m = Master::new("m", "127.0.0.1", 1, 2, now);
        for (port, prio, off, down) in [
            (2, 100, 10, false),
            (3, 0, 99, false),
            (4, 100, 50, true),
            (5, 100, 20, false),
        ] {
            let mut r = Replica::new("127.0.0.1", port, now);
            r.priority = prio;
            r.repl_offset = off;
            r.inst.link.disconnected = false;
            r.inst.info_refresh = now;
            if down {
                r.inst.s_down_since = now;
            }
            m.replicas.insert(r.inst.name.clone(), r);
        }
        assert_eq!(select_slave(&m, now).as_deref(), Some("127.0.0.1:5"));
        m.replicas.get_mut("127.0.0.1:5").unwrap().inst.info_refresh = 0;
        assert_eq!(select_slave(&m, now).as_deref(), Some("127.0.0.1:2"));
    }

    #[test]
    fn quorum_and_majority() {
        let mut m = Master::new("m", "127.0.0.1", 1, 2, 0);
        assert_eq!(voters_quorum(&m), 1);
        m.sentinels.insert("b".into(), peer("b"));
        m.sentinels.insert("c".into(), peer("c"));
        assert_eq!(voters_quorum(&m), 2);
        assert_eq!(odown_votes(&m), 1);
        m.sentinels.get_mut("c").unwrap().master_down = true;
        assert_eq!(odown_votes(&m), 2);
    }

    #[test]
    fn one_vote_per_epoch() {
        let mut st = state();
        st.masters
            .insert("m".into(), Master::new("m", "127.0.0.1", 1, 2, 0));
        let (v, e) = vote_leader(&mut st, "m", 1, "b", 0, 0);
        assert_eq!((v.as_deref(), e), (Some("b"), 1));
        assert_eq!(st.current_epoch, 1);
        // A second request in the same epoch gets the first vote back.
        let (v, _) = vote_leader(&mut st, "m", 1, "c", 0, 0);
        assert_eq!(v.as_deref(), Some("b"));
        // A newer epoch gets a new vote.
        let (v, e) = vote_leader(&mut st, "m", 2, "c", 0, 0);
        assert_eq!((v.as_deref(), e), (Some("c"), 2));
        assert!(st.events.iter().any(|(k, _)| k == "+vote-for-leader"));
    }

    #[test]
    fn leader_needs_majority_and_quorum() {
        let mut st = state();
        let mut m = Master::new("m", "127.0.0.1", 1, 2, 0);
        m.sentinels.insert("b".into(), peer("b"));
        m.sentinels.insert("c".into(), peer("c"));
        st.masters.insert("m".into(), m);
        st.current_epoch = 1;
        // Only our own vote: 1 of 3.
        assert_eq!(get_leader(&mut st, "m", 1, 0, 0), None);
        // b voted for us in epoch 1: 2 of 3.
        let b = st.masters["m"].sentinels.get_index(0).unwrap().0.clone();
        let p = st
            .masters
            .get_mut("m")
            .unwrap()
            .sentinels
            .get_mut(&b)
            .unwrap();
        p.leader = Some("a".repeat(40));
        p.leader_epoch = 1;
        assert_eq!(get_leader(&mut st, "m", 1, 0, 0), Some("a".repeat(40)));
    }

    #[test]
    fn failover_start_is_rate_limited() {
        let mut m = Master::new("m", "127.0.0.1", 1, 2, 0);
        m.failover_timeout = 1000;
        m.inst.o_down_since = 1;
        m.failover_start_time = 10_000;
        assert!(!should_start_failover(&m, 11_000));
        assert!(should_start_failover(&m, 12_000));
        m.failover_state = FailoverState::WaitStart;
        assert!(!should_start_failover(&m, 20_000));
    }

    #[test]
    fn sdown_elapsed_rules() {
        let mut l = Link {
            last_avail_time: 1000,
            ..Link::default()
        };
        assert_eq!(sdown_elapsed(&l, 5000), 0);
        l.disconnected = true;
        assert_eq!(sdown_elapsed(&l, 5000), 4000);
        l.act_ping_time = 4500;
        assert_eq!(sdown_elapsed(&l, 5000), 500);
    }

    #[test]
    fn config_round_trip() {
        let mut st = state();
        for l in [
            "monitor mymaster 127.0.0.1 6379 2",
            "down-after-milliseconds mymaster 1000",
            "known-replica mymaster 127.0.0.1 6380",
            "known-sentinel mymaster 127.0.0.1 26380 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "current-epoch 7",
        ] {
            let args: Vec<String> = l.split(' ').map(String::from).collect();
            apply_config_line(&mut st, &args, 0).unwrap();
        }
        let bad: Vec<String> = ["down-after-milliseconds", "nope", "1"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            apply_config_line(&mut st, &bad, 0).unwrap_err(),
            "No such master with specified name."
        );
        let lines = config_lines(&st);
        assert!(lines.contains(&"sentinel known-replica mymaster 127.0.0.1 6380".to_string()));
        assert!(lines.contains(&"sentinel current-epoch 7".to_string()));
        assert!(lines.contains(&"sentinel down-after-milliseconds mymaster 1000".to_string()));
        let mut st2 = state();
        for l in &lines {
            let args: Vec<String> = l.split(' ').skip(1).map(String::from).collect();
            apply_config_line(&mut st2, &args, 0).unwrap();
        }
        assert_eq!(config_lines(&st2), lines);
    }
}
