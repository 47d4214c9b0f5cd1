//! Handlers for the classic group protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
//! OffsetCommit, OffsetFetch, ListGroups, DescribeGroups. They translate between the wire
//! structs and [`super::group::Coordinator`]; the coordinator lock is never held across
//! an `.await` (parked JoinGroup/SyncGroup answers are awaited after it is dropped).

use super::group::{errors, CommittedOffset, JoinParams, Reply};
use super::routes::{reply, HandlerFuture};
use super::Broker;
use bytes::Bytes;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    DescribeGroupsRequest, DescribeGroupsResponse, GroupId, HeartbeatRequest, HeartbeatResponse,
    JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, ListGroupsRequest,
    ListGroupsResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
    OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use rill_protocol::kafka::{decode_body, Header};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn s(x: &str) -> StrBytes {
    StrBytes::from_string(x.to_string())
}

/// `group.initial.rebalance.delay.ms` (KIP-134; default 0 here, trap T6).
fn initial_delay(broker: &Broker) -> Duration {
    let ms = broker
        .shared
        .config()
        .get_i64("group.initial.rebalance.delay.ms");
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// Kafka's `client_host` format: "/" and the peer's IP.
fn client_host() -> String {
    super::conn::PEER
        .try_with(|p| format!("/{}", p.ip()))
        .unwrap_or_default()
}

/// ```text
/// JoinGroup v0-7 group_id session_timeout_ms [rebalance_timeout_ms] member_id
///   [group_instance_id] protocol_type protocols
///   -> error_code generation_id [protocol_type] protocol_name leader member_id members
/// ```
pub fn join_group(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: JoinGroupRequest = decode_body(&header, &mut body)?;
        let v = header.api_version;
        let params = JoinParams {
            group_id: req.group_id.to_string(),
            member_id: req.member_id.to_string(),
            group_instance_id: req.group_instance_id.map(|x| x.to_string()),
            client_id: header.client_id.clone().unwrap_or_default(),
            client_host: client_host(),
            session_timeout_ms: req.session_timeout_ms,
            // v0 has no rebalance timeout: Kafka uses the session timeout.
            rebalance_timeout_ms: if v >= 1 {
                req.rebalance_timeout_ms
            } else {
                req.session_timeout_ms
            },
            protocol_type: req.protocol_type.to_string(),
            protocols: req
                .protocols
                .into_iter()
                .map(|p| (p.name.to_string(), p.metadata))
                .collect(),
        };
        let delay = initial_delay(&broker);
        let r = broker.groups.lock().join(params, delay, Instant::now());
        let r = match r {
            Reply::Now(r) => r,
            Reply::Later(rx) => rx.await.unwrap_or_else(|_| super::group::JoinResult {
                error_code: errors::UNKNOWN_SERVER_ERROR,
                generation_id: -1,
                ..Default::default()
            }),
        };
        let mut resp = JoinGroupResponse::default()
            .with_error_code(r.error_code)
            .with_generation_id(r.generation_id)
            .with_protocol_name(r.protocol_name.as_deref().map(s))
            .with_leader(s(&r.leader))
            .with_member_id(s(&r.member_id))
            .with_members(
                r.members
                    .iter()
                    .map(|m| {
                        JoinGroupResponseMember::default()
                            .with_member_id(s(&m.member_id))
                            .with_group_instance_id(if v >= 5 {
                                m.group_instance_id.as_deref().map(s)
                            } else {
                                None
                            })
                            .with_metadata(m.metadata.clone())
                    })
                    .collect(),
            );
        if v >= 7 {
            resp = resp.with_protocol_type(r.protocol_type.as_deref().map(s));
        } else if resp.protocol_name.is_none() {
            // Before v7 protocol_name is not nullable.
            resp = resp.with_protocol_name(Some(StrBytes::default()));
        }
        reply(&header, &resp)
    })
}

/// ```text
/// SyncGroup v0-5 group_id generation_id member_id [group_instance_id]
///   [protocol_type protocol_name] assignments -> error_code [protocol_type protocol_name]
///   assignment
/// ```
pub fn sync_group(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: SyncGroupRequest = decode_body(&header, &mut body)?;
        let assignments = req
            .assignments
            .into_iter()
            .map(|a| (a.member_id.to_string(), a.assignment))
            .collect();
        let r = broker.groups.lock().sync(
            &req.group_id,
            &req.member_id,
            req.generation_id,
            req.protocol_type.as_deref(),
            req.protocol_name.as_deref(),
            assignments,
            Instant::now(),
        );
        let r = match r {
            Reply::Now(r) => r,
            Reply::Later(rx) => rx.await.unwrap_or(super::group::SyncResult {
                error_code: errors::REBALANCE_IN_PROGRESS,
                ..Default::default()
            }),
        };
        let mut resp = SyncGroupResponse::default()
            .with_error_code(r.error_code)
            .with_assignment(r.assignment);
        if header.api_version >= 5 {
            resp = resp
                .with_protocol_type(r.protocol_type.as_deref().map(s))
                .with_protocol_name(r.protocol_name.as_deref().map(s));
        }
        reply(&header, &resp)
    })
}

/// Heartbeat v0-4 group_id generation_id member_id -> error_code.
pub fn heartbeat(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: HeartbeatRequest = decode_body(&header, &mut body)?;
        let code = broker.groups.lock().heartbeat(
            &req.group_id,
            &req.member_id,
            req.generation_id,
            Instant::now(),
        );
        reply(&header, &HeartbeatResponse::default().with_error_code(code))
    })
}

/// ```text
/// LeaveGroup v0-2 group_id member_id -> error_code
/// LeaveGroup v3-5 group_id members [member_id group_instance_id] -> error_code members
/// ```
pub fn leave_group(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: LeaveGroupRequest = decode_body(&header, &mut body)?;
        let members: Vec<(String, Option<String>)> = if header.api_version >= 3 {
            req.members
                .iter()
                .map(|m| {
                    (
                        m.member_id.to_string(),
                        m.group_instance_id.as_ref().map(|i| i.to_string()),
                    )
                })
                .collect()
        } else {
            vec![(req.member_id.to_string(), None)]
        };
        let codes = broker
            .groups
            .lock()
            .leave(&req.group_id, &members, Instant::now());
        let resp = if header.api_version >= 3 {
            LeaveGroupResponse::default().with_members(
                members
                    .iter()
                    .zip(&codes)
                    .map(|((m, i), c)| {
                        MemberResponse::default()
                            .with_member_id(s(m))
                            .with_group_instance_id(i.as_deref().map(s))
                            .with_error_code(*c)
                    })
                    .collect(),
            )
        } else {
            LeaveGroupResponse::default()
                .with_error_code(codes.first().copied().unwrap_or(errors::NONE))
        };
        reply(&header, &resp)
    })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Kafka's `offset.metadata.max.bytes`: longer commit metadata gets
/// OFFSET_METADATA_TOO_LARGE for its partition.
const OFFSET_METADATA_MAX_BYTES: usize = 4096;

/// ```text
/// OffsetCommit v2-8 group_id generation_id member_id [retention_time_ms]
///   topics [name partitions [partition_index committed_offset [committed_leader_epoch]
///   committed_metadata]] -> topics [name partitions [partition_index error_code]]
/// ```
/// The accepted partitions are appended as one batch to `__consumer_offsets-0` (fsynced
/// under `kafka-flush always`) before the response; if that append fails they all get
/// NOT_COORDINATOR, Kafka's mapping of a storage error, so the client retries.
pub fn offset_commit(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: OffsetCommitRequest = decode_body(&header, &mut body)?;
        let mut c = broker.groups.lock();
        let code = c.validate_commit(
            &req.group_id,
            &req.member_id,
            req.generation_id_or_member_epoch,
            Instant::now(),
        );
        let ts = now_ms();
        // Error codes by topic and partition, in request order; accepted partitions are
        // also in `entries`, stored together below.
        let mut codes: Vec<Vec<i16>> = Vec::with_capacity(req.topics.len());
        let mut entries = Vec::new();
        for t in &req.topics {
            let mut tc = Vec::with_capacity(t.partitions.len());
            for p in &t.partitions {
                let metadata = p.committed_metadata.as_ref().map(|m| m.to_string());
                let pc = if code != errors::NONE {
                    code
                } else if metadata
                    .as_ref()
                    .is_some_and(|m| m.len() > OFFSET_METADATA_MAX_BYTES)
                {
                    errors::OFFSET_METADATA_TOO_LARGE
                } else {
                    entries.push((
                        t.name.to_string(),
                        p.partition_index,
                        CommittedOffset {
                            offset: p.committed_offset,
                            leader_epoch: if header.api_version >= 6 {
                                p.committed_leader_epoch
                            } else {
                                -1
                            },
                            metadata,
                            commit_timestamp_ms: ts,
                        },
                    ));
                    errors::NONE
                };
                tc.push(pc);
            }
            codes.push(tc);
        }
        let stored = c.offsets.commit_all(&req.group_id, entries, ts);
        drop(c);
        if let Err(e) = &stored {
            tracing::warn!("Kafka: offset commit for {} failed: {e}", &*req.group_id);
        }
        let topics = req
            .topics
            .into_iter()
            .zip(codes)
            .map(|(t, tc)| {
                let partitions = t
                    .partitions
                    .iter()
                    .zip(tc)
                    .map(|(p, pc)| {
                        let pc = if pc == errors::NONE && stored.is_err() {
                            errors::NOT_COORDINATOR
                        } else {
                            pc
                        };
                        OffsetCommitResponsePartition::default()
                            .with_partition_index(p.partition_index)
                            .with_error_code(pc)
                    })
                    .collect();
                OffsetCommitResponseTopic::default()
                    .with_name(t.name)
                    .with_partitions(partitions)
            })
            .collect();
        reply(
            &header,
            &OffsetCommitResponse::default().with_topics(topics),
        )
    })
}

/// One group's committed offsets for `topics` (None: every committed partition), as
/// `(topic, [(partition, offset, leader_epoch, metadata)])`; -1 for no commit.
type FetchedTopic = (String, Vec<(i32, i64, i32, String)>);

fn fetch_offsets(
    broker: &Broker,
    group: &str,
    topics: Option<Vec<(String, Vec<i32>)>>,
) -> Vec<FetchedTopic> {
    let c = broker.groups.lock();
    let row = |p: i32, o: Option<&CommittedOffset>| match o {
        Some(o) => (
            p,
            o.offset,
            o.leader_epoch,
            o.metadata.clone().unwrap_or_default(),
        ),
        None => (p, -1, -1, String::new()),
    };
    match topics {
        Some(topics) => topics
            .into_iter()
            .map(|(t, ps)| {
                let rows = ps
                    .into_iter()
                    .map(|p| row(p, c.offsets.fetch(group, &t, p)))
                    .collect();
                (t, rows)
            })
            .collect(),
        None => {
            let mut out: Vec<FetchedTopic> = Vec::new();
            for (t, p, o) in c.offsets.fetch_group(group) {
                let r = row(p, Some(&o));
                match out.last_mut() {
                    Some((last, rows)) if *last == t => rows.push(r),
                    _ => out.push((t, vec![r])),
                }
            }
            out
        }
    }
}

/// ```text
/// OffsetFetch v1-7 group_id topics (null: all, v2+) -> topics [partitions] [error_code]
/// OffsetFetch v8   groups [group_id topics] -> groups [group_id topics error_code]
/// ```
pub fn offset_fetch(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: OffsetFetchRequest = decode_body(&header, &mut body)?;
        let v = header.api_version;
        let epoch = |e: i32| if v >= 5 { e } else { -1 };
        if broker.shared.persist.loading.load(Ordering::SeqCst) && v >= 2 {
            // TCOMMIT's offsets arrive with the keyspace; clients retry this error.
            let resp = if v >= 8 {
                let groups = req.groups.into_iter().map(|g| {
                    OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id)
                        .with_error_code(errors::COORDINATOR_LOAD_IN_PROGRESS)
                });
                OffsetFetchResponse::default().with_groups(groups.collect())
            } else {
                OffsetFetchResponse::default().with_error_code(errors::COORDINATOR_LOAD_IN_PROGRESS)
            };
            return reply(&header, &resp);
        }
        let resp = if v >= 8 {
            let groups = req
                .groups
                .into_iter()
                .map(|g| {
                    let topics = g.topics.map(|ts| {
                        ts.into_iter()
                            .map(|t| (t.name.to_string(), t.partition_indexes))
                            .collect()
                    });
                    let fetched = fetch_offsets(&broker, &g.group_id, topics);
                    OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id)
                        .with_topics(
                            fetched
                                .into_iter()
                                .map(|(t, rows)| {
                                    OffsetFetchResponseTopics::default()
                                        .with_name(TopicName(s(&t)))
                                        .with_partitions(
                                            rows.into_iter()
                                                .map(|(p, o, e, m)| {
                                                    OffsetFetchResponsePartitions::default()
                                                        .with_partition_index(p)
                                                        .with_committed_offset(o)
                                                        .with_committed_leader_epoch(e)
                                                        .with_metadata(Some(s(&m)))
                                                })
                                                .collect(),
                                        )
                                })
                                .collect(),
                        )
                })
                .collect();
            OffsetFetchResponse::default().with_groups(groups)
        } else {
            let topics = req.topics.map(|ts| {
                ts.into_iter()
                    .map(|t| (t.name.to_string(), t.partition_indexes))
                    .collect()
            });
            let fetched = fetch_offsets(&broker, &req.group_id, topics);
            OffsetFetchResponse::default().with_topics(
                fetched
                    .into_iter()
                    .map(|(t, rows)| {
                        OffsetFetchResponseTopic::default()
                            .with_name(TopicName(s(&t)))
                            .with_partitions(
                                rows.into_iter()
                                    .map(|(p, o, e, m)| {
                                        OffsetFetchResponsePartition::default()
                                            .with_partition_index(p)
                                            .with_committed_offset(o)
                                            .with_committed_leader_epoch(epoch(e))
                                            .with_metadata(Some(s(&m)))
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            )
        };
        reply(&header, &resp)
    })
}

/// ListGroups v0-4 [states_filter] -> error_code groups [group_id protocol_type [group_state]].
pub fn list_groups(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: ListGroupsRequest = decode_body(&header, &mut body)?;
        let v = header.api_version;
        let groups = broker
            .groups
            .lock()
            .list()
            .into_iter()
            // Kafka matches the states filter case-insensitively.
            .filter(|(_, _, st)| {
                v < 4
                    || req.states_filter.is_empty()
                    || req
                        .states_filter
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(st.name()))
            })
            .map(|(g, pt, st)| {
                let l = ListedGroup::default()
                    .with_group_id(GroupId(s(&g)))
                    .with_protocol_type(s(&pt));
                if v >= 4 {
                    l.with_group_state(s(st.name()))
                } else {
                    l
                }
            })
            .collect();
        reply(&header, &ListGroupsResponse::default().with_groups(groups))
    })
}

/// DescribeGroups v0-5 groups -> groups [error_code group_id group_state protocol_type
/// protocol_data members [member_id [group_instance_id] client_id client_host
/// member_metadata member_assignment]].
pub fn describe_groups(broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let req: DescribeGroupsRequest = decode_body(&header, &mut body)?;
        let v = header.api_version;
        let c = broker.groups.lock();
        let groups = req
            .groups
            .iter()
            .map(|id| {
                let d = c.describe(id);
                DescribedGroup::default()
                    .with_group_id(id.clone())
                    .with_group_state(s(d.state.name()))
                    .with_protocol_type(s(&d.protocol_type))
                    .with_protocol_data(s(&d.protocol_name))
                    // Kafka sends this when not requested: "unknown" (i32::MIN).
                    .with_authorized_operations(i32::MIN)
                    .with_members(
                        d.members
                            .into_iter()
                            .map(|m| {
                                DescribedGroupMember::default()
                                    .with_member_id(s(&m.member_id))
                                    .with_group_instance_id(if v >= 4 {
                                        m.group_instance_id.as_deref().map(s)
                                    } else {
                                        None
                                    })
                                    .with_client_id(s(&m.client_id))
                                    .with_client_host(s(&m.client_host))
                                    .with_member_metadata(m.metadata)
                                    .with_member_assignment(m.assignment)
                            })
                            .collect(),
                    )
            })
            .collect();
        drop(c);
        reply(
            &header,
            &DescribeGroupsResponse::default().with_groups(groups),
        )
    })
}
