//! The classic group coordinator over TCP: simulated members built from kafka-protocol
//! request structs, one connection each (JoinGroup and SyncGroup park the connection).

use crate::common::{kafka_clients as clients, kcat_with_input, TestServer};
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn s(x: &str) -> StrBytes {
    StrBytes::from_string(x.to_string())
}

/// One simulated client connection.
struct Conn {
    c: TcpStream,
    corr: i32,
}

impl Conn {
    fn open(s: &TestServer) -> Conn {
        let c = TcpStream::connect(s.kafka_addr.expect("kafka")).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(15)))
            .expect("timeout");
        Conn { c, corr: 0 }
    }

    /// Sends `req` as `key` v`version` and decodes the response.
    fn call<Req: Encodable, Resp: Decodable>(
        &mut self,
        key: ApiKey,
        version: i16,
        req: &Req,
    ) -> Resp {
        self.corr += 1;
        let mut out = BytesMut::new();
        out.put_i32(0);
        RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(self.corr)
            .with_client_id(Some(s("it")))
            .encode(&mut out, key.request_header_version(version))
            .expect("header");
        req.encode(&mut out, version).expect("body");
        let n = (out.len() - 4) as i32;
        out[..4].copy_from_slice(&n.to_be_bytes());
        self.c.write_all(&out).expect("write");
        let mut size = [0u8; 4];
        self.c.read_exact(&mut size).expect("response size");
        let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
        self.c.read_exact(&mut body).expect("response body");
        let mut body = Bytes::from(body);
        let h = ResponseHeader::decode(&mut body, key.response_header_version(version))
            .expect("response header");
        assert_eq!(h.correlation_id, self.corr);
        Resp::decode(&mut body, version).expect("response body decodes")
    }
}

fn join_req(member_id: &str, session_ms: i32, protocols: &[&str]) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(GroupId(s("g1")))
        .with_session_timeout_ms(session_ms)
        .with_rebalance_timeout_ms(10_000)
        .with_member_id(s(member_id))
        .with_protocol_type(s("consumer"))
        .with_protocols(
            protocols
                .iter()
                .map(|p| {
                    JoinGroupRequestProtocol::default()
                        .with_name(s(p))
                        .with_metadata(Bytes::from(format!("sub-{p}")))
                })
                .collect(),
        )
}

fn sync_req(member_id: &str, gen: i32, assignments: &[(&str, &str)]) -> SyncGroupRequest {
    SyncGroupRequest::default()
        .with_group_id(GroupId(s("g1")))
        .with_generation_id(gen)
        .with_member_id(s(member_id))
        .with_protocol_type(Some(s("consumer")))
        .with_protocol_name(Some(s("range")))
        .with_assignments(
            assignments
                .iter()
                .map(|(m, a)| {
                    SyncGroupRequestAssignment::default()
                        .with_member_id(s(m))
                        .with_assignment(Bytes::from(a.to_string()))
                })
                .collect(),
        )
}

fn heartbeat(c: &mut Conn, version: i16, member_id: &str, gen: i32) -> i16 {
    let r: HeartbeatResponse = c.call(
        ApiKey::Heartbeat,
        version,
        &HeartbeatRequest::default()
            .with_group_id(GroupId(s("g1")))
            .with_generation_id(gen)
            .with_member_id(s(member_id)),
    );
    r.error_code
}

fn commit(c: &mut Conn, version: i16, member_id: &str, gen: i32, offset: i64) -> Vec<i16> {
    let r: OffsetCommitResponse = c.call(
        ApiKey::OffsetCommit,
        version,
        &OffsetCommitRequest::default()
            .with_group_id(GroupId(s("g1")))
            .with_generation_id_or_member_epoch(gen)
            .with_member_id(s(member_id))
            .with_topics(vec![OffsetCommitRequestTopic::default()
                .with_name(TopicName(s("orders")))
                .with_partitions(vec![OffsetCommitRequestPartition::default()
                    .with_partition_index(0)
                    .with_committed_offset(offset)
                    .with_committed_leader_epoch(0)
                    .with_committed_metadata(Some(s("meta")))])]),
    );
    r.topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
        .collect()
}

fn describe(c: &mut Conn) -> describe_groups_response::DescribedGroup {
    let r: DescribeGroupsResponse = c.call(
        ApiKey::DescribeGroups,
        5,
        &DescribeGroupsRequest::default().with_groups(vec![GroupId(s("g1"))]),
    );
    r.groups.into_iter().next().expect("one group")
}

/// kafka-python's versions: two members join concurrently inside the initial rebalance
/// delay, so both land in generation 1; then sync, heartbeat, commit, fetch, leave.
#[test]
fn two_members_join_sync_commit_fetch_leave() {
    let srv = TestServer::start_with(&["--group.initial.rebalance.delay.ms", "300"]);
    assert_eq!(
        srv.cli(&["CONFIG", "GET", "group.initial.rebalance.delay.ms"]),
        "group.initial.rebalance.delay.ms\n300\n"
    );
    let joins: Vec<_> = [&["range", "roundrobin"][..], &["roundrobin", "range"][..]]
        .into_iter()
        .map(|protocols| {
            let mut c = Conn::open(&srv);
            let req = join_req("", 30_000, protocols);
            std::thread::spawn(move || {
                let r: JoinGroupResponse = c.call(ApiKey::JoinGroup, 7, &req);
                (c, r)
            })
        })
        .collect();
    let mut joined: Vec<(Conn, JoinGroupResponse)> = joins
        .into_iter()
        .map(|j| j.join().expect("thread"))
        .collect();
    for (_, r) in &joined {
        assert_eq!((r.error_code, r.generation_id), (0, 1), "{r:?}");
        assert_eq!(r.protocol_type.as_deref(), Some("consumer"));
        assert!(r.member_id.starts_with("it-"), "{r:?}");
    }
    // Leader first.
    joined.sort_by_key(|(_, r)| r.leader != r.member_id);
    let (mut lc, lr) = joined.remove(0);
    let (mut fc, fr) = joined.remove(0);
    assert_eq!(fr.leader, lr.member_id);
    assert_eq!(lr.members.len(), 2);
    assert!(fr.members.is_empty());
    let proto = lr.protocol_name.clone().expect("protocol").to_string();
    assert!(proto == "range" || proto == "roundrobin", "{proto}");
    assert!(lr
        .members
        .iter()
        .all(|m| m.metadata == format!("sub-{proto}").as_bytes()));
    let (leader, follower) = (lr.member_id.to_string(), fr.member_id.to_string());

    // The follower's SyncGroup parks until the leader's arrives.
    let fid = follower.clone();
    let mut fsync = sync_req(&fid, 1, &[]);
    fsync.protocol_name = Some(s(&proto));
    let f = std::thread::spawn(move || {
        let r: SyncGroupResponse = fc.call(ApiKey::SyncGroup, 5, &fsync);
        (fc, r)
    });
    std::thread::sleep(Duration::from_millis(100));
    let mut lsync = sync_req(
        &leader,
        1,
        &[(&leader, "A-leader"), (&follower, "A-follower")],
    );
    lsync.protocol_name = Some(s(&proto));
    let r: SyncGroupResponse = lc.call(ApiKey::SyncGroup, 5, &lsync);
    assert_eq!(
        (r.error_code, r.assignment.clone()),
        (0, Bytes::from("A-leader"))
    );
    let (mut fc, r) = f.join().expect("thread");
    assert_eq!(r.error_code, 0);
    assert_eq!(r.assignment, Bytes::from("A-follower"));
    assert_eq!(r.protocol_name.as_deref(), Some(proto.as_str()));

    assert_eq!(heartbeat(&mut lc, 4, &leader, 1), 0);
    assert_eq!(heartbeat(&mut fc, 4, &follower, 1), 0);
    assert_eq!(heartbeat(&mut fc, 4, &follower, 7), 22);
    assert_eq!(heartbeat(&mut fc, 4, "nobody", 1), 25);

    let d = describe(&mut lc);
    assert_eq!(d.error_code, 0);
    assert_eq!(d.group_state.as_str(), "Stable");
    assert_eq!(d.protocol_data.as_str(), proto);
    assert_eq!(d.members.len(), 2);
    assert!(d
        .members
        .iter()
        .all(|m| m.client_host.as_str() == "/127.0.0.1"));
    assert!(d
        .members
        .iter()
        .any(|m| m.member_assignment == "A-follower"));

    let r: ListGroupsResponse = lc.call(ApiKey::ListGroups, 4, &ListGroupsRequest::default());
    assert_eq!(r.groups.len(), 1);
    assert_eq!(r.groups[0].group_state.as_str(), "Stable");

    // Offsets: member-checked commits, then v8 (batched) and v1 fetches.
    assert_eq!(commit(&mut lc, 8, &leader, 1, 42), vec![0]);
    assert_eq!(commit(&mut lc, 8, &leader, 0, 43), vec![22]);
    assert_eq!(commit(&mut lc, 8, "", -1, 43), vec![25]);
    let r: OffsetFetchResponse = lc.call(
        ApiKey::OffsetFetch,
        8,
        &OffsetFetchRequest::default().with_groups(vec![
            OffsetFetchRequestGroup::default()
                .with_group_id(GroupId(s("g1")))
                .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                    .with_name(TopicName(s("orders")))
                    .with_partition_indexes(vec![0, 1])])),
            OffsetFetchRequestGroup::default()
                .with_group_id(GroupId(s("g1")))
                .with_topics(None),
        ]),
    );
    assert_eq!(r.groups.len(), 2);
    let ps = &r.groups[0].topics[0].partitions;
    assert_eq!(
        (
            ps[0].committed_offset,
            ps[0].committed_leader_epoch,
            ps[0].metadata.as_deref()
        ),
        (42, 0, Some("meta"))
    );
    assert_eq!((ps[1].committed_offset, ps[1].error_code), (-1, 0));
    // Null topics: every committed partition.
    assert_eq!(r.groups[1].topics.len(), 1);
    assert_eq!(r.groups[1].topics[0].partitions.len(), 1);
    let r: OffsetFetchResponse = lc.call(
        ApiKey::OffsetFetch,
        1,
        &OffsetFetchRequest::default()
            .with_group_id(GroupId(s("g1")))
            .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                .with_name(TopicName(s("orders")))
                .with_partition_indexes(vec![0])])),
    );
    assert_eq!(r.topics[0].partitions[0].committed_offset, 42);

    // The leader leaves (v5 members array): the follower must rejoin, then becomes leader.
    let r: LeaveGroupResponse = lc.call(
        ApiKey::LeaveGroup,
        5,
        &LeaveGroupRequest::default()
            .with_group_id(GroupId(s("g1")))
            .with_members(vec![MemberIdentity::default().with_member_id(s(&leader))]),
    );
    assert_eq!(r.error_code, 0);
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.members[0].error_code, 0);
    assert_eq!(heartbeat(&mut fc, 4, &follower, 1), 27);
    let r: JoinGroupResponse = fc.call(
        ApiKey::JoinGroup,
        7,
        &join_req(&follower, 30_000, &["range"]),
    );
    assert_eq!((r.error_code, r.generation_id), (0, 2));
    assert_eq!(r.leader, r.member_id);
    let r: LeaveGroupResponse = fc.call(
        ApiKey::LeaveGroup,
        1,
        &LeaveGroupRequest::default()
            .with_group_id(GroupId(s("g1")))
            .with_member_id(s(&follower)),
    );
    assert_eq!(r.error_code, 0);
    let d = describe(&mut fc);
    assert_eq!(d.group_state.as_str(), "Empty");
    assert!(d.members.is_empty());
    // Empty group: the assign()-style manual commit is accepted now.
    assert_eq!(commit(&mut fc, 8, "", -1, 50), vec![0]);
}

/// librdkafka's versions with the default delay 0: the first member completes alone,
/// the second forces a rebalance that the first joins after its heartbeat says 27.
/// A member that stops heartbeating is expired.
#[test]
fn rebalance_on_second_member_and_session_expiry() {
    let srv = TestServer::start();
    let mut a = Conn::open(&srv);
    let r: JoinGroupResponse = a.call(ApiKey::JoinGroup, 5, &join_req("", 30_000, &["range"]));
    assert_eq!((r.error_code, r.generation_id), (0, 1));
    let a_id = r.member_id.to_string();
    let r: SyncGroupResponse = a.call(ApiKey::SyncGroup, 3, &sync_req(&a_id, 1, &[(&a_id, "all")]));
    assert_eq!((r.error_code, r.assignment), (0, Bytes::from("all")));

    // B has a short session and will never heartbeat.
    let mut b = Conn::open(&srv);
    let bj = std::thread::spawn(move || {
        let r: JoinGroupResponse = b.call(ApiKey::JoinGroup, 5, &join_req("", 500, &["range"]));
        (b, r)
    });
    let mut seen = 0;
    for _ in 0..100 {
        seen = heartbeat(&mut a, 3, &a_id, 1);
        if seen == 27 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(seen, 27);
    let r: JoinGroupResponse = a.call(ApiKey::JoinGroup, 5, &join_req(&a_id, 30_000, &["range"]));
    assert_eq!((r.error_code, r.generation_id), (0, 2));
    assert_eq!(r.members.len(), 2);
    let (_b, br) = bj.join().expect("thread");
    assert_eq!((br.error_code, br.generation_id), (0, 2));
    let b_id = br.member_id.to_string();
    let r: SyncGroupResponse = a.call(ApiKey::SyncGroup, 3, &sync_req(&a_id, 2, &[]));
    assert_eq!(r.error_code, 0);

    // B's session (500 ms) runs out; A's heartbeats keep it alive and see the rebalance.
    let mut seen = 0;
    for _ in 0..100 {
        seen = heartbeat(&mut a, 3, &a_id, 2);
        if seen == 27 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(seen, 27, "B's session never expired");
    assert_eq!(heartbeat(&mut a, 3, &b_id, 2), 25);
    let r: JoinGroupResponse = a.call(ApiKey::JoinGroup, 5, &join_req(&a_id, 30_000, &["range"]));
    assert_eq!((r.error_code, r.generation_id, r.members.len()), (0, 3, 1));
    // OffsetCommit v7 (kcat's version) with an old generation is refused.
    let r: SyncGroupResponse = a.call(ApiKey::SyncGroup, 3, &sync_req(&a_id, 3, &[]));
    assert_eq!(r.error_code, 0);
    assert_eq!(commit(&mut a, 7, &a_id, 2, 1), vec![22]);
    assert_eq!(commit(&mut a, 7, &a_id, 3, 1), vec![0]);
}

/// `kcat -G`: librdkafka's balanced consumer joins, syncs, fetches from the start (no
/// committed offset yet) and commits the end offset when it leaves.
#[test]
fn kcat_group_consumer_reads_everything_and_commits() {
    let srv = TestServer::start();
    let kcat = |args: &[&str], input: &str| kcat_with_input(&srv.kafka(), args, input);

    let values: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
    kcat(&["-P", "-t", "orders"], &(values.join("\n") + "\n"));
    // -G joins group kg (JoinGroup, SyncGroup, OffsetFetch, Fetch); -e leaves at the end,
    // committing on close.
    let out = kcat(
        &[
            "-G",
            "kg",
            "-X",
            "auto.offset.reset=earliest",
            "-e",
            "-q",
            "-f",
            "%s\n",
            "orders",
        ],
        "",
    );
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got, values);
    let mut c = Conn::open(&srv);
    let r: ListGroupsResponse = c.call(ApiKey::ListGroups, 4, &ListGroupsRequest::default());
    assert!(
        r.groups.iter().any(|g| g.group_id.as_str() == "kg"),
        "{r:?}"
    );
    let r: OffsetFetchResponse = c.call(
        ApiKey::OffsetFetch,
        1,
        &OffsetFetchRequest::default()
            .with_group_id(GroupId(s("kg")))
            .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                .with_name(TopicName(s("orders")))
                .with_partition_indexes(vec![0])])),
    );
    assert_eq!(r.topics[0].partitions[0].committed_offset, 10);
}

/// `kafka-flush always`: commits are fsynced before their response, so a kill -9 right
/// after loses none.
const FLUSH_ALWAYS: [&str; 2] = ["--kafka-flush", "always"];

/// Two confluent-kafka consumers in one group split a 4-partition topic, see every value
/// exactly once and commit; after kill -9 and a restart on the same dir, a new consumer
/// in the group reads only the values produced since (the commits were replayed from
/// `__consumer_offsets-0`).
#[test]
fn confluent_group_shares_partitions_and_resumes_after_sigkill() {
    let srv = TestServer::start_with(&FLUSH_ALWAYS);
    let out = clients(
        "confluent-group-share",
        &srv.kafka(),
        &["shared", "400", "gs"],
    );
    assert!(out.contains("committed 400"), "{out}");
    let dir = srv.kill9();
    assert!(dir.path().join("topics/__consumer_offsets-0").is_dir());
    let srv = TestServer::start_in(dir, &FLUSH_ALWAYS);
    let out = clients(
        "confluent-group-resume",
        &srv.kafka(),
        &["shared", "400", "40", "gs"],
    );
    assert_eq!(out.trim(), "resumed 40");
}

/// kafka-python's KafkaConsumer with a group_id: subscribe, read all, commit, close; after
/// kill -9 and a restart, a second consumer in the group resumes after the commit.
#[test]
fn kafka_python_group_commit_survives_restart() {
    let srv = TestServer::start_with(&FLUSH_ALWAYS);
    let out = clients(
        "kafka-python-group",
        &srv.kafka(),
        &["kp", "kpg", "0", "30"],
    );
    assert_eq!(out.trim(), "group read 30");
    let srv = TestServer::start_in(srv.kill9(), &FLUSH_ALWAYS);
    let out = clients(
        "kafka-python-group",
        &srv.kafka(),
        &["kp", "kpg", "30", "20"],
    );
    assert_eq!(out.trim(), "group read 20");
}

/// `__consumer_offsets` holds commits but is not a client topic: Metadata does not list
/// it, and Metadata, CreateTopics and Produce naming it get INVALID_TOPIC_EXCEPTION (17).
#[test]
fn offsets_topic_is_hidden_and_not_writable() {
    let srv = TestServer::start();
    let mut c = Conn::open(&srv);
    assert_eq!(commit(&mut c, 2, "", -1, 5), vec![0]);
    let _: CreateTopicsResponse = c.call(
        ApiKey::CreateTopics,
        5,
        &CreateTopicsRequest::default()
            .with_topics(vec![create_topics_request::CreatableTopic::default()
                .with_name(TopicName(s("visible")))
                .with_num_partitions(1)
                .with_replication_factor(1)])
            .with_timeout_ms(5000),
    );
    let all: MetadataResponse = c.call(
        ApiKey::Metadata,
        9,
        &MetadataRequest::default().with_topics(None),
    );
    assert!(
        all.topics
            .iter()
            .all(|t| t.name.as_ref().map(|n| n.as_str()) != Some("__consumer_offsets")),
        "{all:?}"
    );
    let names: Vec<_> = all
        .topics
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.to_string()))
        .collect();
    assert_eq!(names, vec!["visible".to_string()]);
    let named: MetadataResponse = c.call(
        ApiKey::Metadata,
        9,
        &MetadataRequest::default()
            .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
            )
            .with_name(Some(TopicName(s("__consumer_offsets"))))]))
            .with_allow_auto_topic_creation(true),
    );
    assert_eq!(named.topics[0].error_code, 17);
    let created: CreateTopicsResponse = c.call(
        ApiKey::CreateTopics,
        5,
        &CreateTopicsRequest::default()
            .with_topics(vec![create_topics_request::CreatableTopic::default()
                .with_name(TopicName(s("__consumer_offsets")))
                .with_num_partitions(1)
                .with_replication_factor(1)])
            .with_timeout_ms(5000),
    );
    assert_eq!(created.topics[0].error_code, 17);
    let records = rill_storage::log::batch::encode_batch(&[rill_storage::log::batch::NewRecord {
        timestamp: 0,
        key: None,
        value: Some(b"x"),
    }]);
    let produced: ProduceResponse = c.call(
        ApiKey::Produce,
        7,
        &ProduceRequest::default()
            .with_acks(1)
            .with_timeout_ms(5000)
            .with_topic_data(vec![produce_request::TopicProduceData::default()
                .with_name(TopicName(s("__consumer_offsets")))
                .with_partition_data(vec![
                    produce_request::PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(Bytes::from(records))),
                ])]),
    );
    assert_eq!(produced.responses[0].partition_responses[0].error_code, 17);
    // The commit itself is still there.
    let r: OffsetFetchResponse = c.call(
        ApiKey::OffsetFetch,
        1,
        &OffsetFetchRequest::default()
            .with_group_id(GroupId(s("g1")))
            .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                .with_name(TopicName(s("orders")))
                .with_partition_indexes(vec![0])])),
    );
    assert_eq!(r.topics[0].partitions[0].committed_offset, 5);
}
