//! The classic consumer group coordinator, as a pure state machine: no sockets, no clock
//! reads (every call takes `now`), no awaiting. Parked JoinGroup and SyncGroup answers are
//! `oneshot` channels the handlers in [`super::group_api`] await after dropping the lock.
//!
//! ```text
//!            join            all joined / timeout        leader's SyncGroup
//! Empty ──────────────► PreparingRebalance ─────────► CompletingRebalance ─────► Stable
//!   ▲                        ▲    │ (no members left)          │                    │
//!   └────────────────────────┼────┘                            │                    │
//!                            └─────── join, leave, session expiry ──────────────────┘
//! ```
//!
//! Committed offsets live in [`OffsetStore`]; this module only decides whether a commit is
//! allowed ([`Coordinator::validate_commit`]), as Kafka's `GroupCoordinator` does.

use super::offsets_log::OffsetsLog;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Kafka error codes used by the coordinator.
pub mod errors {
    pub const NONE: i16 = 0;
    pub const UNKNOWN_SERVER_ERROR: i16 = -1;
    pub const OFFSET_METADATA_TOO_LARGE: i16 = 12;
    pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
    pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub const NOT_COORDINATOR: i16 = 16;
    pub const ILLEGAL_GENERATION: i16 = 22;
    pub const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
    pub const INVALID_GROUP_ID: i16 = 24;
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    pub const INVALID_SESSION_TIMEOUT: i16 = 26;
    pub const REBALANCE_IN_PROGRESS: i16 = 27;
}
use errors::*;

/// A group's state (Kafka's `GroupState` names, which DescribeGroups and ListGroups print).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    /// The name Kafka reports.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// The random part of a generated member_id (Kafka uses a v4 UUID too).
fn new_member_uuid() -> uuid::Uuid {
    let bytes: [u8; 16] = rand::random();
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A JoinGroup request, version-independent.
#[derive(Debug, Clone, Default)]
pub struct JoinParams {
    pub group_id: String,
    /// Empty for a new member.
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    /// v0 has none: the caller passes session_timeout_ms, as Kafka does.
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    /// (name, metadata) in the member's order of preference; metadata is opaque.
    pub protocols: Vec<(String, Bytes)>,
}

/// One member as the leader sees it in its JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub metadata: Bytes,
}

/// A JoinGroup answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JoinResult {
    pub error_code: i16,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub member_id: String,
    /// Every member with its metadata for the leader, empty for the others.
    pub members: Vec<JoinMember>,
}

impl JoinResult {
    fn error(error_code: i16, member_id: &str) -> JoinResult {
        JoinResult {
            error_code,
            generation_id: -1,
            member_id: member_id.to_string(),
            ..JoinResult::default()
        }
    }
}

/// A SyncGroup answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncResult {
    pub error_code: i16,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Bytes,
}

impl SyncResult {
    fn error(error_code: i16) -> SyncResult {
        SyncResult {
            error_code,
            ..SyncResult::default()
        }
    }
}

/// An answer available now, or one parked until the rebalance phase completes.
#[derive(Debug)]
pub enum Reply<T> {
    Now(T),
    Later(oneshot::Receiver<T>),
}

/// A group member.
#[derive(Debug)]
pub struct Member {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    /// The leader's assignment for this member in the current generation.
    pub assignment: Bytes,
    last_heartbeat: Instant,
    awaiting_join: Option<oneshot::Sender<JoinResult>>,
    awaiting_sync: Option<oneshot::Sender<SyncResult>>,
}

impl Member {
    fn metadata_for(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(n, _)| n == protocol)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }

    fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|(n, _)| n == protocol)
    }
}

/// One consumer group.
#[derive(Debug)]
pub struct Group {
    pub group_id: String,
    pub state: GroupState,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: Option<String>,
    /// In join order: the first member becomes leader.
    pub members: Vec<Member>,
    /// When the join phase gives up on members that have not rejoined.
    rebalance_deadline: Option<Instant>,
    /// The initial rebalance delay of a group that was Empty (KIP-134).
    initial_delay_until: Option<Instant>,
}

impl Group {
    fn new(group_id: &str) -> Group {
        Group {
            group_id: group_id.to_string(),
            state: GroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: Vec::new(),
            rebalance_deadline: None,
            initial_delay_until: None,
        }
    }

    fn member(&self, member_id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.member_id == member_id)
    }

    fn member_mut(&mut self, member_id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.member_id == member_id)
    }

    /// The protocols every member supports.
    fn candidate_protocols(&self) -> Vec<String> {
        let Some(first) = self.members.first() else {
            return Vec::new();
        };
        first
            .protocols
            .iter()
            .map(|(n, _)| n.clone())
            .filter(|n| self.members.iter().all(|m| m.supports(n)))
            .collect()
    }

    /// Kafka's `selectProtocol`: each member votes for its most preferred candidate; the
    /// candidate with most votes wins (ties go to the first member's preference order).
    fn select_protocol(&self) -> Option<String> {
        let candidates = self.candidate_protocols();
        let mut votes: HashMap<&str, usize> = HashMap::new();
        for m in &self.members {
            if let Some((n, _)) = m.protocols.iter().find(|(n, _)| candidates.contains(n)) {
                *votes.entry(n.as_str()).or_default() += 1;
            }
        }
        let mut best: Option<(&str, usize)> = None;
        for c in &candidates {
            let v = votes.get(c.as_str()).copied().unwrap_or(0);
            if best.is_none_or(|(_, b)| v > b) {
                best = Some((c.as_str(), v));
            }
        }
        best.map(|(n, _)| n.to_string())
    }

    fn max_rebalance_timeout(&self) -> Duration {
        let ms = self
            .members
            .iter()
            .map(|m| m.rebalance_timeout_ms)
            .max()
            .unwrap_or(0);
        Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }

    /// Moves to PreparingRebalance; parked SyncGroups learn the rebalance started.
    fn prepare_rebalance(&mut self, now: Instant, initial_delay: Duration) {
        if self.state == GroupState::PreparingRebalance {
            return;
        }
        for m in &mut self.members {
            if let Some(tx) = m.awaiting_sync.take() {
                let _ = tx.send(SyncResult::error(REBALANCE_IN_PROGRESS));
            }
        }
        self.initial_delay_until = if self.state == GroupState::Empty {
            Some(now + initial_delay)
        } else {
            None
        };
        self.rebalance_deadline = Some(now + self.max_rebalance_timeout());
        self.state = GroupState::PreparingRebalance;
    }

    /// Completes the join phase if every member has rejoined (and any initial delay is
    /// over), or unconditionally once `force` (the rebalance timeout passed).
    fn maybe_complete_join(&mut self, now: Instant, force: bool) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let all_joined = self.members.iter().all(|m| m.awaiting_join.is_some());
        let delay_over = self.initial_delay_until.is_none_or(|t| now >= t);
        if !(force || (all_joined && delay_over)) {
            return;
        }
        // Members that did not rejoin in time are dropped, as Kafka does.
        self.members.retain(|m| m.awaiting_join.is_some());
        self.rebalance_deadline = None;
        self.initial_delay_until = None;
        self.generation_id += 1;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol_name = None;
            self.protocol_type = None;
            self.leader = None;
            return;
        }
        if self
            .leader
            .as_deref()
            .is_none_or(|l| self.member(l).is_none())
        {
            self.leader = self.members.first().map(|m| m.member_id.clone());
        }
        self.protocol_name = self.select_protocol();
        self.state = GroupState::CompletingRebalance;
        let protocol = self.protocol_name.clone().unwrap_or_default();
        let all: Vec<JoinMember> = self
            .members
            .iter()
            .map(|m| JoinMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.metadata_for(&protocol),
            })
            .collect();
        let leader = self.leader.clone().unwrap_or_default();
        for m in &mut self.members {
            m.assignment = Bytes::new();
            // A fresh session starts with the new generation.
            m.last_heartbeat = now;
            if let Some(tx) = m.awaiting_join.take() {
                let _ = tx.send(JoinResult {
                    error_code: NONE,
                    generation_id: self.generation_id,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    leader: leader.clone(),
                    member_id: m.member_id.clone(),
                    members: if m.member_id == leader {
                        all.clone()
                    } else {
                        Vec::new()
                    },
                });
            }
        }
    }

    /// Removes a member; a parked JoinGroup or SyncGroup gets UNKNOWN_MEMBER_ID. Then
    /// rebalances, or finishes a join phase that was waiting only for this member.
    fn remove_member(&mut self, member_id: &str, now: Instant) {
        let Some(i) = self.members.iter().position(|m| m.member_id == member_id) else {
            return;
        };
        let m = self.members.remove(i);
        if let Some(tx) = m.awaiting_join {
            let _ = tx.send(JoinResult::error(UNKNOWN_MEMBER_ID, member_id));
        }
        if let Some(tx) = m.awaiting_sync {
            let _ = tx.send(SyncResult::error(UNKNOWN_MEMBER_ID));
        }
        if self.leader.as_deref() == Some(member_id) {
            self.leader = self.members.first().map(|m| m.member_id.clone());
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(now, Duration::ZERO);
                self.maybe_complete_join(now, false);
            }
            GroupState::PreparingRebalance => self.maybe_complete_join(now, false),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    /// The current generation's JoinGroup answer for `member_id` (a rejoin that changes
    /// nothing in a Stable group).
    fn current_join(&self, member_id: &str) -> JoinResult {
        JoinResult {
            error_code: NONE,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader.clone().unwrap_or_default(),
            member_id: member_id.to_string(),
            members: Vec::new(),
        }
    }
}

/// What DescribeGroups reports about a member.
#[derive(Debug, Clone)]
pub struct DescribedMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub metadata: Bytes,
    pub assignment: Bytes,
}

/// What DescribeGroups reports about a group.
#[derive(Debug, Clone)]
pub struct DescribedGroup {
    pub group_id: String,
    pub state: GroupState,
    pub protocol_type: String,
    pub protocol_name: String,
    pub members: Vec<DescribedMember>,
}

/// All groups of this (single) coordinator, plus their committed offsets.
#[derive(Debug, Default)]
pub struct Coordinator {
    groups: HashMap<String, Group>,
    pub offsets: OffsetStore,
}

impl Coordinator {
    /// The group, if it exists.
    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.groups.get(group_id)
    }

    /// JoinGroup. A new member gets `<client_id>-<uuid>` as member_id (no
    /// MEMBER_ID_REQUIRED round trip). The answer is parked until the join phase completes.
    pub fn join(
        &mut self,
        p: JoinParams,
        initial_delay: Duration,
        now: Instant,
    ) -> Reply<JoinResult> {
        if p.group_id.is_empty() {
            return Reply::Now(JoinResult::error(INVALID_GROUP_ID, &p.member_id));
        }
        if p.session_timeout_ms <= 0 {
            return Reply::Now(JoinResult::error(INVALID_SESSION_TIMEOUT, &p.member_id));
        }
        if p.protocol_type.is_empty() || p.protocols.is_empty() {
            return Reply::Now(JoinResult::error(INCONSISTENT_GROUP_PROTOCOL, &p.member_id));
        }
        let group = self
            .groups
            .entry(p.group_id.clone())
            .or_insert_with(|| Group::new(&p.group_id));
        if group.state == GroupState::Dead {
            return Reply::Now(JoinResult::error(COORDINATOR_NOT_AVAILABLE, &p.member_id));
        }
        // A new member must speak the group's protocol_type and share a protocol with it.
        let known = !p.member_id.is_empty() && group.member(&p.member_id).is_some();
        if !group.members.is_empty() && !known {
            let same_type = group.protocol_type.as_deref() == Some(p.protocol_type.as_str());
            let candidates = group.candidate_protocols();
            if !same_type || !p.protocols.iter().any(|(n, _)| candidates.contains(n)) {
                return Reply::Now(JoinResult::error(INCONSISTENT_GROUP_PROTOCOL, &p.member_id));
            }
        }
        if !p.member_id.is_empty() && !known {
            return Reply::Now(JoinResult::error(UNKNOWN_MEMBER_ID, &p.member_id));
        }
        let (tx, rx) = oneshot::channel();
        let member_id = if known {
            p.member_id.clone()
        } else {
            // Static membership: a rejoining instance replaces its old member.
            if let Some(instance) = &p.group_instance_id {
                if let Some(old) = group
                    .members
                    .iter()
                    .find(|m| m.group_instance_id.as_ref() == Some(instance))
                    .map(|m| m.member_id.clone())
                {
                    group.remove_member(&old, now);
                }
            }
            let id = format!("{}-{}", p.client_id, new_member_uuid());
            if group.members.is_empty() {
                group.protocol_type = Some(p.protocol_type.clone());
            }
            group.members.push(Member {
                member_id: id.clone(),
                group_instance_id: p.group_instance_id.clone(),
                client_id: p.client_id.clone(),
                client_host: p.client_host.clone(),
                session_timeout_ms: p.session_timeout_ms,
                rebalance_timeout_ms: p.rebalance_timeout_ms,
                protocol_type: p.protocol_type.clone(),
                protocols: p.protocols.clone(),
                assignment: Bytes::new(),
                last_heartbeat: now,
                awaiting_join: None,
                awaiting_sync: None,
            });
            id
        };

        let is_leader = group.leader.as_deref() == Some(member_id.as_str());
        let Some(m) = group.member_mut(&member_id) else {
            return Reply::Now(JoinResult::error(UNKNOWN_SERVER_ERROR, &member_id));
        };
        let unchanged = known && m.protocols == p.protocols;
        m.protocols = p.protocols;
        m.session_timeout_ms = p.session_timeout_ms;
        m.rebalance_timeout_ms = p.rebalance_timeout_ms;
        m.last_heartbeat = now;
        // A follower rejoining a Stable group with nothing new gets the current
        // generation back instead of forcing everyone through a rebalance (as Kafka).
        if group.state == GroupState::Stable && unchanged && !is_leader {
            return Reply::Now(group.current_join(&member_id));
        }
        if let Some(m) = group.member_mut(&member_id) {
            if let Some(old) = m.awaiting_join.replace(tx) {
                // A duplicate JoinGroup (a retry on another connection) replaces the first.
                let _ = old.send(JoinResult::error(UNKNOWN_MEMBER_ID, &member_id));
            }
        }
        group.prepare_rebalance(now, initial_delay);
        if let Some(t) = group.initial_delay_until {
            // Each new member extends the initial delay, bounded by the rebalance timeout.
            let cap = group.rebalance_deadline.unwrap_or(t);
            group.initial_delay_until = Some((now + initial_delay).max(t).min(cap));
        }
        group.maybe_complete_join(now, false);
        Reply::Later(rx)
    }

    /// SyncGroup. The leader's assignments complete every parked SyncGroup of the
    /// generation; followers arriving first wait for it.
    #[allow(clippy::too_many_arguments)]
    pub fn sync(
        &mut self,
        group_id: &str,
        member_id: &str,
        generation_id: i32,
        protocol_type: Option<&str>,
        protocol_name: Option<&str>,
        assignments: Vec<(String, Bytes)>,
        now: Instant,
    ) -> Reply<SyncResult> {
        let Some(group) = self.groups.get_mut(group_id) else {
            return Reply::Now(SyncResult::error(UNKNOWN_MEMBER_ID));
        };
        if group.member(member_id).is_none() {
            return Reply::Now(SyncResult::error(UNKNOWN_MEMBER_ID));
        }
        if generation_id != group.generation_id {
            return Reply::Now(SyncResult::error(ILLEGAL_GENERATION));
        }
        if protocol_type.is_some_and(|t| group.protocol_type.as_deref() != Some(t))
            || protocol_name.is_some_and(|n| group.protocol_name.as_deref() != Some(n))
        {
            return Reply::Now(SyncResult::error(INCONSISTENT_GROUP_PROTOCOL));
        }
        let ok = |g: &Group, assignment: Bytes| SyncResult {
            error_code: NONE,
            protocol_type: g.protocol_type.clone(),
            protocol_name: g.protocol_name.clone(),
            assignment,
        };
        match group.state {
            GroupState::Empty | GroupState::Dead => {
                Reply::Now(SyncResult::error(UNKNOWN_MEMBER_ID))
            }
            GroupState::PreparingRebalance => Reply::Now(SyncResult::error(REBALANCE_IN_PROGRESS)),
            GroupState::Stable => {
                let a = group
                    .member(member_id)
                    .map(|m| m.assignment.clone())
                    .unwrap_or_default();
                Reply::Now(ok(group, a))
            }
            GroupState::CompletingRebalance => {
                let (tx, rx) = oneshot::channel();
                if let Some(m) = group.member_mut(member_id) {
                    m.last_heartbeat = now;
                    if let Some(old) = m.awaiting_sync.replace(tx) {
                        let _ = old.send(SyncResult::error(REBALANCE_IN_PROGRESS));
                    }
                }
                if group.leader.as_deref() == Some(member_id) {
                    let mut by_member: HashMap<String, Bytes> = assignments.into_iter().collect();
                    let (pt, pn) = (group.protocol_type.clone(), group.protocol_name.clone());
                    for m in &mut group.members {
                        m.assignment = by_member.remove(&m.member_id).unwrap_or_default();
                        if let Some(tx) = m.awaiting_sync.take() {
                            let _ = tx.send(SyncResult {
                                error_code: NONE,
                                protocol_type: pt.clone(),
                                protocol_name: pn.clone(),
                                assignment: m.assignment.clone(),
                            });
                        }
                    }
                    group.state = GroupState::Stable;
                }
                Reply::Later(rx)
            }
        }
    }

    /// Heartbeat: NONE, REBALANCE_IN_PROGRESS (rejoin), UNKNOWN_MEMBER_ID or
    /// ILLEGAL_GENERATION, checked in Kafka's order.
    pub fn heartbeat(
        &mut self,
        group_id: &str,
        member_id: &str,
        generation_id: i32,
        now: Instant,
    ) -> i16 {
        let Some(group) = self.groups.get_mut(group_id) else {
            return UNKNOWN_MEMBER_ID;
        };
        if group.state == GroupState::Dead {
            return COORDINATOR_NOT_AVAILABLE;
        }
        let current = group.generation_id;
        let state = group.state;
        let Some(m) = group.member_mut(member_id) else {
            return UNKNOWN_MEMBER_ID;
        };
        if generation_id != current {
            return ILLEGAL_GENERATION;
        }
        m.last_heartbeat = now;
        if state == GroupState::PreparingRebalance {
            REBALANCE_IN_PROGRESS
        } else {
            NONE
        }
    }

    /// LeaveGroup for each `(member_id, group_instance_id)`; a static member may leave by
    /// group_instance_id alone. Returns one error code per member.
    pub fn leave(
        &mut self,
        group_id: &str,
        members: &[(String, Option<String>)],
        now: Instant,
    ) -> Vec<i16> {
        let Some(group) = self.groups.get_mut(group_id) else {
            return vec![UNKNOWN_MEMBER_ID; members.len()];
        };
        members
            .iter()
            .map(|(member_id, instance)| {
                let found = group
                    .members
                    .iter()
                    .find(|m| match instance {
                        Some(i) if member_id.is_empty() => m.group_instance_id.as_ref() == Some(i),
                        _ => &m.member_id == member_id,
                    })
                    .map(|m| m.member_id.clone());
                match found {
                    Some(id) => {
                        group.remove_member(&id, now);
                        NONE
                    }
                    None => UNKNOWN_MEMBER_ID,
                }
            })
            .collect()
    }

    /// The periodic sweep: expires members whose session timed out and finishes join
    /// phases whose rebalance timeout or initial delay is over.
    pub fn tick(&mut self, now: Instant) {
        for group in self.groups.values_mut() {
            // A member parked in JoinGroup is bounded by the rebalance timeout instead.
            let expired: Vec<String> = group
                .members
                .iter()
                .filter(|m| {
                    m.awaiting_join.is_none()
                        && now.saturating_duration_since(m.last_heartbeat)
                            > Duration::from_millis(
                                u64::try_from(m.session_timeout_ms).unwrap_or(0),
                            )
                })
                .map(|m| m.member_id.clone())
                .collect();
            for id in expired {
                tracing::info!("group {}: member {id} session expired", group.group_id);
                group.remove_member(&id, now);
            }
            if group.state == GroupState::PreparingRebalance {
                let timed_out = group.rebalance_deadline.is_some_and(|d| now >= d);
                group.maybe_complete_join(now, timed_out);
            }
        }
    }

    /// Kafka's OffsetCommit checks. generation_id -1 with an empty member_id is the
    /// `assign()` manual commit: allowed while the group is Empty or unknown (which
    /// creates it, so ListGroups shows it as Kafka does).
    pub fn validate_commit(
        &mut self,
        group_id: &str,
        member_id: &str,
        generation_id: i32,
        now: Instant,
    ) -> i16 {
        if group_id.is_empty() {
            return INVALID_GROUP_ID;
        }
        let Some(group) = self.groups.get_mut(group_id) else {
            if generation_id < 0 {
                self.groups
                    .insert(group_id.to_string(), Group::new(group_id));
                return NONE;
            }
            return ILLEGAL_GENERATION;
        };
        if group.state == GroupState::Dead {
            return COORDINATOR_NOT_AVAILABLE;
        }
        if generation_id < 0 && member_id.is_empty() && group.state == GroupState::Empty {
            return NONE;
        }
        if group.state == GroupState::CompletingRebalance {
            return REBALANCE_IN_PROGRESS;
        }
        let current = group.generation_id;
        let Some(m) = group.member_mut(member_id) else {
            return UNKNOWN_MEMBER_ID;
        };
        if generation_id != current {
            return ILLEGAL_GENERATION;
        }
        // A commit counts as a sign of life, as in Kafka.
        m.last_heartbeat = now;
        NONE
    }

    /// ListGroups: (group_id, protocol_type, state).
    pub fn list(&self) -> Vec<(String, String, GroupState)> {
        let mut v: Vec<_> = self
            .groups
            .values()
            .map(|g| {
                (
                    g.group_id.clone(),
                    g.protocol_type.clone().unwrap_or_default(),
                    g.state,
                )
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// DescribeGroups for one group; an unknown group is Dead with no members (as Kafka).
    pub fn describe(&self, group_id: &str) -> DescribedGroup {
        let Some(g) = self.groups.get(group_id) else {
            return DescribedGroup {
                group_id: group_id.to_string(),
                state: GroupState::Dead,
                protocol_type: String::new(),
                protocol_name: String::new(),
                members: Vec::new(),
            };
        };
        let protocol = g.protocol_name.clone().unwrap_or_default();
        // Kafka shows metadata and assignments only once the group is Stable.
        let stable = g.state == GroupState::Stable;
        DescribedGroup {
            group_id: g.group_id.clone(),
            state: g.state,
            protocol_type: g.protocol_type.clone().unwrap_or_default(),
            protocol_name: protocol.clone(),
            members: g
                .members
                .iter()
                .map(|m| DescribedMember {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    metadata: if stable {
                        m.metadata_for(&protocol)
                    } else {
                        Bytes::new()
                    },
                    assignment: if stable {
                        m.assignment.clone()
                    } else {
                        Bytes::new()
                    },
                })
                .collect(),
        }
    }
}

/// A committed offset (Kafka's `OffsetAndMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub offset: i64,
    /// -1 when the client did not send one.
    pub leader_epoch: i32,
    pub metadata: Option<String>,
    pub commit_timestamp_ms: i64,
}

impl CommittedOffset {
    /// A commit made with TCOMMIT: no leader epoch, empty metadata.
    pub fn resp(offset: i64, commit_timestamp_ms: i64) -> CommittedOffset {
        CommittedOffset {
            offset,
            leader_epoch: -1,
            metadata: Some(String::new()),
            commit_timestamp_ms,
        }
    }
}

/// Committed offsets, `(group, topic, partition) -> CommittedOffset`.
///
/// An in-memory map, made durable by the `__consumer_offsets-0` log once
/// [`OffsetStore::attach`]ed: [`OffsetStore::commit_all`] (and [`OffsetStore::commit`])
/// append the records before changing the map, and [`OffsetStore::load`] replays them on
/// startup; the last write per key wins. Without a log (unit tests) it is memory only.
#[derive(Debug, Default)]
pub struct OffsetStore {
    // BTreeMap so a group's partitions come out in (topic, partition) order.
    map: BTreeMap<(String, String, i32), CommittedOffset>,
    log: Option<OffsetsLog>,
    /// Where the log is created at the first commit, so a data dir that never sees a
    /// Kafka group gets no `topics/` directory.
    deferred: Option<(std::path::PathBuf, rill_storage::log::LogConfig)>,
    /// `offsets.topic.segment.bytes`, handed to the log.
    compact_bytes: Option<u64>,
}

impl OffsetStore {
    /// Makes later commits durable in `log` (after [`OffsetStore::load`] replayed it).
    pub fn attach(&mut self, mut log: OffsetsLog) {
        if let Some(n) = self.compact_bytes {
            log.compact_bytes = n;
        }
        self.log = Some(log);
    }

    /// `offsets.topic.segment.bytes`: the size past which the log is compacted.
    pub fn set_compact_bytes(&mut self, n: u64) {
        self.compact_bytes = Some(n);
        if let Some(log) = self.log.as_mut() {
            log.compact_bytes = n;
        }
    }

    /// As [`OffsetStore::attach`], the log to be created under `topics` at the first
    /// commit.
    pub fn attach_on_first_commit(
        &mut self,
        topics: std::path::PathBuf,
        config: rill_storage::log::LogConfig,
    ) {
        self.deferred = Some((topics, config));
    }

    #[cfg(test)]
    /// Stores one commit. With a log attached the record is appended first; an I/O error
    /// is logged and the commit dropped (use [`OffsetStore::commit_all`] to see it).
    pub fn commit(&mut self, group: &str, topic: &str, partition: i32, value: CommittedOffset) {
        let ts = value.commit_timestamp_ms;
        if let Err(e) = self.commit_all(group, vec![(topic.to_string(), partition, value)], ts) {
            tracing::warn!("Kafka: offset commit for group {group} not stored: {e}");
        }
    }

    /// Stores a group's commits as one batch in the log (fsynced under `kafka-flush
    /// always`), then in memory; on an I/O error nothing is stored.
    pub fn commit_all(
        &mut self,
        group: &str,
        entries: Vec<(String, i32, CommittedOffset)>,
        now_ms: i64,
    ) -> std::io::Result<()> {
        if self.log.is_none() {
            if let Some((topics, config)) = self.deferred.take() {
                match OffsetsLog::open(&topics, config.clone()) {
                    Ok((log, _)) => self.attach(log),
                    Err(e) => {
                        self.deferred = Some((topics, config));
                        return Err(e);
                    }
                }
            }
        }
        if let Some(log) = self.log.as_mut() {
            let refs: Vec<(&str, i32, &CommittedOffset)> = entries
                .iter()
                .map(|(t, p, v)| (t.as_str(), *p, v))
                .collect();
            log.append(group, &refs, now_ms)?;
        }
        for (topic, partition, value) in entries {
            self.map
                .insert((group.to_string(), topic, partition), value);
        }
        Ok(())
    }

    /// A commit kept in memory only: TCOMMIT's, which the keyspace persists.
    pub fn put(&mut self, group: &str, topic: &str, partition: i32, value: CommittedOffset) {
        self.map
            .insert((group.to_string(), topic.to_string(), partition), value);
    }

    /// TCOMMIT's offsets as loaded with the keyspace: each replaces the stored offset
    /// unless that one was committed later (over Kafka, after the TCOMMIT); a tie goes
    /// to the keyspace.
    pub fn merge_newer(&mut self, offsets: &crate::db::TopicOffsets) {
        for ((group, topic, partition), &(offset, ts)) in offsets {
            let key = (group.clone(), topic.clone(), *partition);
            if self
                .map
                .get(&key)
                .is_some_and(|c| c.commit_timestamp_ms > ts)
            {
                continue;
            }
            self.map.insert(key, CommittedOffset::resp(offset, ts));
        }
    }

    /// The periodic flush of the log (server cron).
    pub fn flush_if_due(&mut self, now_ms: i64) {
        if let Some(log) = self.log.as_mut() {
            if let Err(e) = log.flush_if_due(now_ms) {
                tracing::warn!("Kafka: {} flush: {e}", super::offsets_log::OFFSETS_TOPIC);
            }
        }
    }

    /// Closes the log cleanly (shutdown); later commits are memory only.
    pub fn close(&mut self) {
        self.deferred = None;
        if let Some(log) = self.log.take() {
            if let Err(e) = log.close() {
                tracing::warn!("Kafka: closing {}: {e}", super::offsets_log::OFFSETS_TOPIC);
            }
        }
    }

    /// The committed offset, if any.
    pub fn fetch(&self, group: &str, topic: &str, partition: i32) -> Option<&CommittedOffset> {
        self.map
            .get(&(group.to_string(), topic.to_string(), partition))
    }

    /// Every committed `(topic, partition, offset)` of `group` (OffsetFetch with null topics).
    pub fn fetch_group(&self, group: &str) -> Vec<(String, i32, CommittedOffset)> {
        self.map
            .iter()
            .filter(|((g, _, _), _)| g == group)
            .map(|((_, t, p), v)| (t.clone(), *p, v.clone()))
            .collect()
    }

    /// Replays records (oldest first); None is a tombstone that deletes the key.
    pub fn load<I>(&mut self, records: I)
    where
        I: IntoIterator<Item = ((String, String, i32), Option<CommittedOffset>)>,
    {
        for (key, value) in records {
            match value {
                Some(v) => {
                    self.map.insert(key, v);
                }
                None => {
                    self.map.remove(&key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(group: &str, member_id: &str, protocols: &[&str]) -> JoinParams {
        JoinParams {
            group_id: group.into(),
            member_id: member_id.into(),
            client_id: "c".into(),
            client_host: "/127.0.0.1".into(),
            session_timeout_ms: 10_000,
            rebalance_timeout_ms: 30_000,
            protocol_type: "consumer".into(),
            protocols: protocols
                .iter()
                .map(|p| (p.to_string(), Bytes::from(format!("meta-{p}"))))
                .collect(),
            ..JoinParams::default()
        }
    }

    fn later<T: std::fmt::Debug>(r: Reply<T>) -> oneshot::Receiver<T> {
        match r {
            Reply::Later(rx) => rx,
            Reply::Now(v) => panic!("answered now: {v:?}"),
        }
    }

    fn ready<T>(rx: &mut oneshot::Receiver<T>) -> T {
        rx.try_recv().expect("answer ready")
    }

    fn pending<T: std::fmt::Debug>(rx: &mut oneshot::Receiver<T>) {
        assert!(matches!(
            rx.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        ));
    }

    /// Two members in generation `gen`: (coordinator, leader id, follower id, gen).
    fn two_members(now: Instant) -> (Coordinator, String, String, i32) {
        let mut c = Coordinator::default();
        let mut a = later(c.join(
            params("g", "", &["range", "roundrobin"]),
            Duration::ZERO,
            now,
        ));
        let a1 = ready(&mut a);
        assert_eq!((a1.error_code, a1.generation_id), (NONE, 1));
        assert_eq!(a1.leader, a1.member_id);
        assert!(a1.member_id.starts_with("c-"));
        // B joins: A must rejoin (its heartbeat says so) before generation 2 completes.
        let mut b = later(c.join(
            params("g", "", &["roundrobin", "range"]),
            Duration::ZERO,
            now,
        ));
        pending(&mut b);
        assert_eq!(
            c.heartbeat("g", &a1.member_id, 1, now),
            REBALANCE_IN_PROGRESS
        );
        let mut a = later(c.join(
            params("g", &a1.member_id, &["range", "roundrobin"]),
            Duration::ZERO,
            now,
        ));
        let (a2, b2) = (ready(&mut a), ready(&mut b));
        assert_eq!((a2.generation_id, b2.generation_id), (2, 2));
        (c, a2.member_id, b2.member_id, 2)
    }

    #[test]
    fn join_two_members_leader_and_vote() {
        let now = Instant::now();
        let mut c = Coordinator::default();
        let _rx = later(c.join(
            params("g", "", &["range", "roundrobin"]),
            Duration::ZERO,
            now,
        ));
        let group = c.group("g").expect("group");
        assert_eq!(group.state, GroupState::CompletingRebalance);

        let (c, leader, follower, _) = two_members(now);
        let g = c.group("g").expect("group");
        assert_eq!(g.leader.as_deref(), Some(leader.as_str()));
        assert_ne!(leader, follower);
        // One vote each for range and roundrobin: the tie goes to the leader's order.
        assert_eq!(g.protocol_name.as_deref(), Some("range"));
        assert_eq!(g.state, GroupState::CompletingRebalance);
    }

    #[test]
    fn leader_gets_all_metadata_followers_none() {
        let now = Instant::now();
        let mut c = Coordinator::default();
        // With an initial delay both join the same (first) generation.
        let d = Duration::from_millis(100);
        let mut a = later(c.join(params("g", "", &["x", "y"]), d, now));
        let mut b = later(c.join(params("g", "", &["y"]), d, now));
        pending(&mut a);
        c.tick(now + Duration::from_millis(50));
        pending(&mut a);
        c.tick(now + Duration::from_millis(150));
        let (a, b) = (ready(&mut a), ready(&mut b));
        assert_eq!((a.generation_id, b.generation_id), (1, 1));
        // Only "y" is supported by both.
        assert_eq!(a.protocol_name.as_deref(), Some("y"));
        assert_eq!(a.members.len(), 2);
        assert!(a.members.iter().all(|m| m.metadata == "meta-y"));
        assert!(b.members.is_empty());
        assert_eq!(b.leader, a.member_id);
    }

    #[test]
    fn inconsistent_protocol_is_rejected() {
        let now = Instant::now();
        let (mut c, _, _, _) = two_members(now);
        let r = c.join(params("g", "", &["sticky"]), Duration::ZERO, now);
        assert!(matches!(
            r,
            Reply::Now(JoinResult {
                error_code: INCONSISTENT_GROUP_PROTOCOL,
                ..
            })
        ));
        let r = c.join(params("g", "nobody", &["range"]), Duration::ZERO, now);
        assert!(matches!(
            r,
            Reply::Now(JoinResult {
                error_code: UNKNOWN_MEMBER_ID,
                ..
            })
        ));
    }

    #[test]
    fn sync_distributes_assignments() {
        let now = Instant::now();
        let (mut c, leader, follower, gen) = two_members(now);
        let mut f = later(c.sync("g", &follower, gen, None, None, vec![], now));
        pending(&mut f);
        assert_eq!(c.heartbeat("g", &follower, gen, now), NONE);
        let assignments = vec![
            (leader.clone(), Bytes::from("for-leader")),
            (follower.clone(), Bytes::from("for-follower")),
        ];
        let mut l = later(c.sync(
            "g",
            &leader,
            gen,
            Some("consumer"),
            Some("range"),
            assignments,
            now,
        ));
        assert_eq!(ready(&mut l).assignment, Bytes::from("for-leader"));
        let f = ready(&mut f);
        assert_eq!(f.assignment, Bytes::from("for-follower"));
        assert_eq!(f.protocol_name.as_deref(), Some("range"));
        assert_eq!(c.group("g").expect("group").state, GroupState::Stable);
        // A late SyncGroup in Stable gets the stored assignment.
        match c.sync("g", &follower, gen, None, None, vec![], now) {
            Reply::Now(r) => assert_eq!(r.assignment, Bytes::from("for-follower")),
            Reply::Later(_) => panic!("parked"),
        }
        assert!(matches!(
            c.sync("g", &follower, gen - 1, None, None, vec![], now),
            Reply::Now(SyncResult {
                error_code: ILLEGAL_GENERATION,
                ..
            })
        ));
        assert!(matches!(
            c.sync(
                "g",
                &follower,
                gen,
                Some("consumer"),
                Some("sticky"),
                vec![],
                now
            ),
            Reply::Now(SyncResult {
                error_code: INCONSISTENT_GROUP_PROTOCOL,
                ..
            })
        ));
    }

    #[test]
    fn heartbeat_errors() {
        let now = Instant::now();
        let (mut c, leader, _, gen) = two_members(now);
        assert_eq!(c.heartbeat("g", &leader, gen, now), NONE);
        assert_eq!(c.heartbeat("g", &leader, gen + 1, now), ILLEGAL_GENERATION);
        assert_eq!(c.heartbeat("g", "nobody", gen, now), UNKNOWN_MEMBER_ID);
        assert_eq!(c.heartbeat("nogroup", &leader, gen, now), UNKNOWN_MEMBER_ID);
        // A third member starts a rebalance.
        let _pending = c.join(params("g", "", &["range"]), Duration::ZERO, now);
        assert_eq!(c.heartbeat("g", &leader, gen, now), REBALANCE_IN_PROGRESS);
    }

    #[test]
    fn leave_rebalances_then_empties() {
        let now = Instant::now();
        let (mut c, leader, follower, gen) = two_members(now);
        assert_eq!(c.leave("g", &[(leader.clone(), None)], now), vec![NONE]);
        let g = c.group("g").expect("group");
        assert_eq!(g.state, GroupState::PreparingRebalance);
        assert_eq!(g.leader.as_deref(), Some(follower.as_str()));
        assert_eq!(
            c.leave("g", &[(leader, None)], now),
            vec![UNKNOWN_MEMBER_ID]
        );
        let mut f = later(c.join(params("g", &follower, &["range"]), Duration::ZERO, now));
        let f = ready(&mut f);
        assert_eq!(
            (f.generation_id, f.leader.as_str()),
            (gen + 1, follower.as_str())
        );
        assert_eq!(c.leave("g", &[(follower, None)], now), vec![NONE]);
        let g = c.group("g").expect("group");
        assert_eq!(g.state, GroupState::Empty);
        assert!(g.members.is_empty());
    }

    #[test]
    fn leave_wakes_a_join_waiting_for_the_leaver() {
        let now = Instant::now();
        let (mut c, leader, follower, _) = two_members(now);
        let mut f = later(c.join(params("g", &follower, &["range"]), Duration::ZERO, now));
        pending(&mut f);
        c.leave("g", &[(leader, None)], now);
        let f = ready(&mut f);
        assert_eq!(f.error_code, NONE);
        assert_eq!(f.leader, follower);
        assert_eq!(f.members.len(), 1);
    }

    #[test]
    fn session_expiry_removes_and_rebalances() {
        let now = Instant::now();
        let (mut c, leader, follower, gen) = two_members(now);
        let later_t = now + Duration::from_millis(5_000);
        assert_eq!(c.heartbeat("g", &follower, gen, later_t), NONE);
        c.tick(now + Duration::from_millis(10_001));
        let g = c.group("g").expect("group");
        assert!(g.member(&leader).is_none());
        assert!(g.member(&follower).is_some());
        assert_eq!(g.state, GroupState::PreparingRebalance);
        // The follower never rejoins either: the rebalance timeout drops it too.
        c.tick(now + Duration::from_millis(10_001 + 30_001));
        let g = c.group("g").expect("group");
        assert_eq!(g.state, GroupState::Empty);
        assert_eq!(g.generation_id, gen + 1);
    }

    #[test]
    fn commit_generation_checks() {
        let now = Instant::now();
        // Manual commit on an unknown group creates it, Empty.
        let mut c = Coordinator::default();
        assert_eq!(c.validate_commit("solo", "", -1, now), NONE);
        assert_eq!(c.group("solo").expect("group").state, GroupState::Empty);
        assert_eq!(c.validate_commit("solo", "", -1, now), NONE);
        assert_eq!(c.validate_commit("other", "m", 3, now), ILLEGAL_GENERATION);

        let (mut c, leader, follower, gen) = two_members(now);
        // CompletingRebalance: wait for the assignment.
        assert_eq!(
            c.validate_commit("g", &leader, gen, now),
            REBALANCE_IN_PROGRESS
        );
        let _f = c.sync("g", &follower, gen, None, None, vec![], now);
        let _l = c.sync("g", &leader, gen, None, None, vec![], now);
        assert_eq!(c.validate_commit("g", &leader, gen, now), NONE);
        assert_eq!(
            c.validate_commit("g", &leader, gen - 1, now),
            ILLEGAL_GENERATION
        );
        assert_eq!(
            c.validate_commit("g", "nobody", gen, now),
            UNKNOWN_MEMBER_ID
        );
        // Manual commits are refused while the group has members.
        assert_eq!(c.validate_commit("g", "", -1, now), UNKNOWN_MEMBER_ID);
    }

    #[test]
    fn offset_store_commit_fetch_load() {
        let mut s = OffsetStore::default();
        let v = |o| CommittedOffset {
            offset: o,
            leader_epoch: -1,
            metadata: None,
            commit_timestamp_ms: 0,
        };
        s.commit("g", "t", 1, v(5));
        s.commit("g", "t", 0, v(7));
        s.commit("h", "t", 0, v(9));
        assert_eq!(s.fetch("g", "t", 1).map(|c| c.offset), Some(5));
        assert_eq!(s.fetch("g", "u", 0), None);
        let all: Vec<_> = s
            .fetch_group("g")
            .into_iter()
            .map(|(t, p, c)| (t, p, c.offset))
            .collect();
        assert_eq!(all, vec![("t".into(), 0, 7), ("t".into(), 1, 5)]);
        s.load(vec![
            (("g".into(), "t".into(), 0), Some(v(8))),
            (("g".into(), "t".into(), 1), None),
        ]);
        assert_eq!(s.fetch("g", "t", 0).map(|c| c.offset), Some(8));
        assert_eq!(s.fetch("g", "t", 1), None);
    }

    #[test]
    fn static_member_rejoin_replaces_old_id() {
        let now = Instant::now();
        let mut c = Coordinator::default();
        let mut p = params("g", "", &["range"]);
        p.group_instance_id = Some("i1".into());
        let mut a = later(c.join(p.clone(), Duration::ZERO, now));
        let a = ready(&mut a);
        let mut b = later(c.join(p, Duration::ZERO, now));
        let b = ready(&mut b);
        assert_ne!(a.member_id, b.member_id);
        let g = c.group("g").expect("group");
        assert_eq!(g.members.len(), 1);
        assert_eq!(
            c.heartbeat("g", &a.member_id, b.generation_id, now),
            UNKNOWN_MEMBER_ID
        );
        assert_eq!(
            c.leave("g", &[(String::new(), Some("i1".into()))], now),
            vec![NONE]
        );
    }
}
