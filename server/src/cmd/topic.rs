//! The RESP face of the topic log: TCREATE, TPRODUCE, TFETCH, TOFFSETS, TCOMMIT,
//! TCOMMITTED, TINFO.
//!
//! The same partitions the Kafka listener serves (crate::broker): a record written with
//! TPRODUCE is read by Kafka consumers and a record produced over Kafka is read by TFETCH.
//! Committed offsets are the group coordinator's, the ones Kafka's OffsetFetch returns.
//!
//! Records are not propagated to the AOF or replicas: the log is its own persistence.
//! TCOMMIT is: its offsets are keyspace data, persisted with the keys (see [`tcommit`]).
//! TFETCH BLOCK parks the client as XREAD BLOCK does (crate::blocking, BlockKind::Topic),
//! woken by the partition's append Notify, so a Kafka Produce wakes it as TPRODUCE does.

use super::*;
use crate::broker::registry::{valid_topic_name, PartitionLog};
use crate::broker::Broker;
use kafka_protocol::records::RecordBatchDecoder;
use rill_storage::log::batch::{encode_batch, NewRecord};
use rill_storage::log::{AppendError, ReadError};

/// TFETCH's COUNT when none is given (Kafka's max.poll.records default).
const DEFAULT_COUNT: usize = 500;

/// Bytes read from the log per step of TFETCH (a whole batch is always read).
const READ_CHUNK: usize = 1 << 20;

/// At most this many partitions per TCREATE (a typo should not create a million dirs).
const MAX_PARTITIONS: i64 = 10_000;

fn no_such_topic() -> CmdError {
    CmdError::err("no such topic")
}

fn broker(ctx: &Ctx) -> Result<Arc<Broker>, CmdError> {
    ctx.shared
        .broker()
        .ok_or_else(|| CmdError::err("topics are not available on this server"))
}

fn topic_name(arg: &[u8]) -> Result<&str, CmdError> {
    std::str::from_utf8(arg)
        .ok()
        .filter(|n| valid_topic_name(n))
        .ok_or_else(|| CmdError::err("invalid topic name (1-249 characters of [a-zA-Z0-9._-])"))
}

/// The logs of an existing topic.
fn topic_logs(ctx: &Ctx, arg: &[u8]) -> Result<Vec<Arc<PartitionLog>>, CmdError> {
    let name = std::str::from_utf8(arg).map_err(|_| no_such_topic())?;
    broker(ctx)?
        .topic_logs(name, false)
        .ok_or_else(no_such_topic)
}

fn partition_arg(arg: &[u8], partitions: usize) -> Result<usize, CmdError> {
    let p = int_arg(arg)?;
    usize::try_from(p)
        .ok()
        .filter(|&p| p < partitions)
        .ok_or_else(|| CmdError::err("no such partition"))
}

fn closed() -> CmdError {
    CmdError::err("topic log is closed (shutting down)")
}

/// ```text
/// TCREATE topic [PARTITIONS n]
/// ```
/// Creates a topic with `n` partitions (default `num.partitions`). `-ERR topic already
/// exists` when it does.
fn tcreate(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    ctx.propagate_none();
    let name = topic_name(&argv[1])?;
    let broker = broker(ctx)?;
    let partitions = match &argv[2..] {
        [] => i64::from(broker.num_partitions()),
        [kw, n] if eq_ic(kw, "partitions") => {
            let n = int_arg(n)?;
            if !(1..=MAX_PARTITIONS).contains(&n) {
                return Err(CmdError::err(format!(
                    "PARTITIONS must be between 1 and {MAX_PARTITIONS}"
                )));
            }
            n
        }
        _ => return Err(CmdError::Syntax),
    };
    let mut registry = broker.registry.lock();
    if registry.get(name).is_some() {
        return Err(CmdError::err("topic already exists"));
    }
    // In range by the check above.
    let partitions = i32::try_from(partitions).map_err(|_| CmdError::Syntax)?;
    registry
        .create(name, partitions)
        .ok_or_else(|| CmdError::err("cannot create the topic's partition directories"))?;
    tracing::info!("topic {name} created over RESP ({partitions} partitions)");
    Ok(Reply::ok())
}

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`), so a keyed record lands
/// in the partition a Kafka producer's default partitioner would pick.
fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's default partition for a key: `toPositive(murmur2(key)) % partitions`.
fn partition_for_key(key: &[u8], partitions: usize) -> usize {
    let h = (murmur2(key) & 0x7fff_ffff) as usize;
    h % partitions.max(1)
}

/// ```text
/// TPRODUCE topic [PARTITION p] [KEY k] value [value ...]
/// ```
/// Appends the values as one record batch (all with key `k`, timestamp now) and returns
/// the offset of the first. Options are read before the first value. Without PARTITION a
/// keyed batch goes where Kafka's default partitioner would put it, an unkeyed one to 0.
/// A missing topic is created (`num.partitions`) unless auto.create.topics.enable is off.
fn tproduce(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    ctx.propagate_none();
    // As a Kafka producer's metadata request (and as XADD creates its stream).
    let name = std::str::from_utf8(&argv[1]).map_err(|_| no_such_topic())?;
    let logs = broker(ctx)?
        .topic_logs(name, true)
        .ok_or_else(no_such_topic)?;
    let mut partition = None;
    let mut key: Option<&[u8]> = None;
    let mut i = 2;
    while i + 1 < argv.len() {
        if eq_ic(&argv[i], "partition") && partition.is_none() {
            partition = Some(partition_arg(&argv[i + 1], logs.len())?);
        } else if eq_ic(&argv[i], "key") && key.is_none() {
            key = Some(&argv[i + 1]);
        } else {
            break;
        }
        i += 2;
    }
    let values = &argv[i..];
    if values.is_empty() {
        return Err(CmdError::Syntax);
    }
    let p = match (partition, key) {
        (Some(p), _) => p,
        (None, Some(k)) => partition_for_key(k, logs.len()),
        (None, None) => 0,
    };
    let log = logs
        .get(p)
        .ok_or_else(|| CmdError::err("no such partition"))?;
    let now = ctx.now_ms;
    let records: Vec<NewRecord> = values
        .iter()
        .map(|v| NewRecord {
            timestamp: now,
            key,
            value: Some(v),
        })
        .collect();
    let mut batch = encode_batch(&records);
    let info = {
        let mut state = log.state.lock();
        let partition = state.log.as_mut().ok_or_else(closed)?;
        crate::broker::produce::append_locked(partition, &mut batch, now)
    };
    match info {
        Ok(info) => {
            // Wakes Kafka Fetches long-polling this partition.
            log.appended.notify_waiters();
            Ok(Reply::Int(info.base_offset))
        }
        Err(AppendError::MessageTooLarge { .. }) => Err(CmdError::err(
            "record batch is larger than the maximum allowed",
        )),
        Err(e) => Err(CmdError::err(format!("append failed: {e}"))),
    }
}

/// Options of TFETCH.
#[derive(Debug, PartialEq)]
struct FetchOpts {
    count: usize,
    /// BLOCK's timeout in ms (0 = forever); None without BLOCK.
    block_ms: Option<i64>,
}

/// `[COUNT n] [BLOCK ms]`, in any order, the last of a repeated option winning (as XREAD).
fn fetch_opts(args: &[Bytes]) -> Result<FetchOpts, CmdError> {
    let mut opts = FetchOpts {
        count: DEFAULT_COUNT,
        block_ms: None,
    };
    let mut i = 0;
    while i < args.len() {
        let Some(v) = args.get(i + 1) else {
            return Err(CmdError::Syntax);
        };
        if eq_ic(&args[i], "count") {
            let n = positive_arg(v, "COUNT must be positive")?;
            opts.count = usize::try_from(n).unwrap_or(usize::MAX).max(1);
        } else if eq_ic(&args[i], "block") {
            opts.block_ms = Some(crate::blocking::timeout_ms(v)?);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(opts)
}

/// TFETCH's offset argument: an offset, or `$` for the high watermark (XREAD's `$`).
fn fetch_offset(arg: &[u8]) -> Result<Option<i64>, CmdError> {
    if arg == b"$" {
        return Ok(None);
    }
    int_arg(arg).map(Some)
}

/// ```text
/// TFETCH topic partition offset|$ [COUNT n] [BLOCK ms]
/// ```
/// Up to `n` (default 500) records from `offset` up to the high watermark, as an array of
/// `[offset, key, value, timestamp]` entries (key and value bulk strings or nil, offset
/// and timestamp integers). Kafka-compressed batches are decompressed; control records
/// are skipped. An empty array at the hw; `-ERR offset out of range` outside
/// [log_start_offset, hw]. `$` stands for the hw.
///
/// With BLOCK and nothing to return, waits up to `ms` milliseconds (0 = forever) for a
/// record produced over either face, then answers as above; a null array on timeout, as
/// XREAD. Inside MULTI it does not wait. A `$` is re-run as the offset it stood for.
fn tfetch(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let logs = topic_logs(ctx, &argv[1])?;
    let log = &logs[partition_arg(&argv[2], logs.len())?];
    let from = fetch_offset(&argv[3])?;
    let opts = fetch_opts(&argv[4..])?;
    let (out, offset, hw) = {
        let state = log.state.lock();
        let l = state.log.as_ref().ok_or_else(closed)?;
        let (start, hw) = (l.log_start_offset(), l.hw());
        let offset = from.unwrap_or(hw);
        if offset < start || offset > hw {
            return Err(CmdError::err(format!(
                "offset out of range (log_start_offset {start}, hw {hw})"
            )));
        }
        (read_records(l, offset, hw, opts.count)?, offset, hw)
    };
    let Some(ms) = opts.block_ms.filter(|_| out.is_empty()) else {
        return Ok(Reply::Array(out));
    };
    let deadline_ms = crate::blocking::deadline(ms, ctx.now_ms)?;
    let mut retry = argv.to_vec();
    retry[3] = Bytes::from(offset.to_string());
    crate::blocking::block_topic(
        ctx,
        crate::blocking::BlockedOn {
            kind: crate::blocking::BlockKind::Topic,
            keys: Vec::new(),
            stream_ids: Vec::new(),
            deadline_ms,
            timeout_reply: Reply::NullArray,
            retry_argv: Some(retry),
            group: None,
        },
        // The hw, not `offset`: records up to the hw were all control records (or
        // compacted away) when none was returned, and they must not wake it again.
        crate::blocking::TopicWait {
            log: log.clone(),
            offset: hw,
        },
    )
}

/// Up to `count` records in [offset, hw), as TFETCH entries.
fn read_records(
    l: &rill_storage::log::Partition,
    offset: i64,
    hw: i64,
    count: usize,
) -> Result<Vec<Reply>, CmdError> {
    let mut out = Vec::new();
    let mut pos = offset;
    while pos < hw && out.len() < count {
        let read = match l.read(pos, READ_CHUNK, hw) {
            Ok(r) => r.records,
            Err(ReadError::OffsetOutOfRange { .. }) => break,
            Err(ReadError::Io(e)) => return Err(CmdError::err(format!("log read: {e}"))),
        };
        if read.is_empty() {
            break;
        }
        let mut buf = Bytes::from(read);
        let mut next = pos;
        while !buf.is_empty() && out.len() < count {
            let set = RecordBatchDecoder::decode(&mut buf)
                .map_err(|e| CmdError::err(format!("cannot decode a stored batch: {e}")))?;
            for r in set.records {
                next = next.max(r.offset + 1);
                if r.control || r.offset < offset || r.offset >= hw {
                    continue;
                }
                if out.len() >= count {
                    break;
                }
                out.push(Reply::Array(vec![
                    Reply::Int(r.offset),
                    r.key.map_or(Reply::Null, Reply::Bulk),
                    r.value.map_or(Reply::Null, Reply::Bulk),
                    Reply::Int(r.timestamp),
                ]));
            }
        }
        if next <= pos {
            // A batch with no records left to decode (compacted away): step past what
            // was read rather than loop.
            break;
        }
        pos = next;
    }
    Ok(out)
}

/// ```text
/// TOFFSETS topic partition
/// ```
/// `[earliest, latest]`: the log start offset and the high watermark (the offset the next
/// record will get), as Kafka's ListOffsets -2 / -1.
fn toffsets(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let logs = topic_logs(ctx, &argv[1])?;
    let log = &logs[partition_arg(&argv[2], logs.len())?];
    let state = log.state.lock();
    let l = state.log.as_ref().ok_or_else(closed)?;
    Ok(Reply::Array(vec![
        Reply::Int(l.log_start_offset()),
        Reply::Int(l.hw()),
    ]))
}

/// ```text
/// TCOMMIT group topic partition offset [TIMESTAMP unix-ms]
/// ```
/// Commits `offset` (the next record the group will read) for `group`, as a Kafka
/// consumer's manual `commitSync` with `assign()`: refused while the group has live
/// members. OffsetFetch and TCOMMITTED return it.
///
/// The offset is keyspace data (`Store::topic_offsets`): it propagates (with its commit
/// TIMESTAMP) and is saved in the RDB like a key, so inside MULTI/EXEC it is persisted
/// atomically with the transaction's writes. After a load the later of it and a Kafka
/// commit of the same partition wins (`OffsetStore::merge_newer`).
fn tcommit(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let group = std::str::from_utf8(&argv[1])
        .ok()
        .filter(|g| !g.is_empty())
        .ok_or_else(|| CmdError::err("invalid group id"))?;
    let mut timestamp = ctx.now_ms;
    match &argv[5..] {
        [] => {}
        [opt, ts] if opt.eq_ignore_ascii_case(b"timestamp") => {
            timestamp = positive_arg(ts, "timestamp must be positive")?;
        }
        _ => return Err(CmdError::Syntax),
    }
    let topic = topic_name(&argv[2])?;
    let offset = positive_arg(&argv[4], "offset must be positive")?;
    let partition = if ctx.client.aof_loader {
        // Replayed before OffsetStore::merge_newer; the topic may be gone by now.
        int_arg(&argv[3])
            .ok()
            .and_then(|p| i32::try_from(p).ok())
            .filter(|&p| p >= 0)
            .ok_or_else(|| CmdError::err("no such partition"))?
    } else {
        let logs = topic_logs(ctx, &argv[2])?;
        let partition = partition_arg(&argv[3], logs.len())?;
        // partition < logs.len() <= i32::MAX partitions.
        let partition = i32::try_from(partition).map_err(|_| CmdError::OutOfRange)?;
        let broker = broker(ctx)?;
        let mut coordinator = broker.groups.lock();
        let code = coordinator.validate_commit(group, "", -1, std::time::Instant::now());
        if code != 0 {
            let why = kafka_protocol::ResponseError::try_from_code(code)
                .map_or_else(|| format!("error code {code}"), |e| format!("{e:?}"));
            return Err(CmdError::err(format!(
                "cannot commit for this group now ({why})"
            )));
        }
        let value = crate::broker::group::CommittedOffset::resp(offset, timestamp);
        coordinator.offsets.put(group, topic, partition, value);
        partition
    };
    ctx.state.store.topic_offsets.insert(
        (group.to_string(), topic.to_string(), partition),
        (offset, timestamp),
    );
    ctx.dirty(1);
    let mut ts = itoa::Buffer::new();
    ctx.propagate_as(vec![
        argv[0].clone(),
        argv[1].clone(),
        argv[2].clone(),
        argv[3].clone(),
        argv[4].clone(),
        Bytes::from_static(b"TIMESTAMP"),
        Bytes::copy_from_slice(ts.format(timestamp).as_bytes()),
    ]);
    Ok(Reply::ok())
}

/// Hands the TCOMMIT offsets just loaded with the keyspace to the group coordinator
/// (after the start-up load; the Kafka listener answers COORDINATOR_LOAD_IN_PROGRESS to
/// offset requests until then).
pub fn merge_loaded_offsets(shared: &crate::shared::Shared) {
    let Some(broker) = shared.broker() else {
        return;
    };
    let state = shared.state.lock();
    if state.store.topic_offsets.is_empty() {
        return;
    }
    broker
        .groups
        .lock()
        .offsets
        .merge_newer(&state.store.topic_offsets);
}

/// ```text
/// TCOMMITTED group topic partition
/// ```
/// The group's committed offset, or nil when it has none.
fn tcommitted(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let group = lossy(&argv[1]);
    let logs = topic_logs(ctx, &argv[2])?;
    let topic = topic_name(&argv[2])?;
    let partition = partition_arg(&argv[3], logs.len())?;
    let partition = i32::try_from(partition).map_err(|_| CmdError::OutOfRange)?;
    let broker = broker(ctx)?;
    let coordinator = broker.groups.lock();
    Ok(coordinator
        .offsets
        .fetch(&group, topic, partition)
        .map_or(Reply::Null, |o| Reply::Int(o.offset)))
}

/// One partition's numbers, for TINFO and INFO topics.
pub struct PartitionStats {
    pub leo: i64,
    pub hw: i64,
    pub log_start_offset: i64,
    pub bytes: u64,
    pub segments: usize,
}

/// The stats of a partition, None once its log is closed.
pub fn partition_stats(log: &PartitionLog) -> Option<PartitionStats> {
    let state = log.state.lock();
    let l = state.log.as_ref()?;
    Some(PartitionStats {
        leo: l.leo(),
        hw: l.hw(),
        log_start_offset: l.log_start_offset(),
        bytes: l.size_bytes(),
        segments: l.segment_count(),
    })
}

/// Every topic with its partitions' stats, in name order (for INFO).
pub fn all_topic_stats(shared: &crate::shared::Shared) -> Vec<(String, Vec<PartitionStats>)> {
    let Some(broker) = shared.broker() else {
        return Vec::new();
    };
    let topics: Vec<(String, Vec<Arc<PartitionLog>>)> = broker
        .registry
        .lock()
        .iter()
        .map(|(n, t)| (n.clone(), t.logs.clone()))
        .collect();
    topics
        .into_iter()
        .map(|(n, logs)| {
            let stats = logs.iter().filter_map(|l| partition_stats(l)).collect();
            (n, stats)
        })
        .collect()
}

/// ```text
/// TINFO topic
/// ```
/// A map: `topic_id`, `partitions` (count) and `partition_info`, a map from partition
/// number to a map of leo, hw, log_start_offset, bytes, segments.
fn tinfo(ctx: &mut Ctx, argv: &[Bytes]) -> CmdResult {
    let name = std::str::from_utf8(&argv[1]).map_err(|_| no_such_topic())?;
    let broker = broker(ctx)?;
    let (topic_id, logs) = {
        let registry = broker.registry.lock();
        let t = registry.get(name).ok_or_else(no_such_topic)?;
        (t.topic_id, t.logs.clone())
    };
    let field = |k: &'static str, v: i64| (Reply::simple(k), Reply::Int(v));
    let mut parts = Vec::with_capacity(logs.len());
    for (p, log) in logs.iter().enumerate() {
        let s = partition_stats(log).ok_or_else(closed)?;
        parts.push((
            Reply::Int(p as i64),
            Reply::Map(vec![
                field("leo", s.leo),
                field("hw", s.hw),
                field("log_start_offset", s.log_start_offset),
                field("bytes", i64::try_from(s.bytes).unwrap_or(i64::MAX)),
                field("segments", s.segments as i64),
            ]),
        ));
    }
    Ok(Reply::Map(vec![
        (Reply::simple("topic_id"), Reply::bulk(topic_id.to_string())),
        field("partitions", logs.len() as i64),
        (Reply::simple("partition_info"), Reply::Map(parts)),
    ]))
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("tcreate", -2, WRITE, tcreate)
        .group("topic")
        .doc(
            "7.0.0",
            "Create a topic (a partitioned log)",
            "O(N) where N is the number of partitions",
        )
        .syntax("topic [PARTITIONS n]"),
    CommandSpec::new("tproduce", -3, WRITE, tproduce)
        .group("topic")
        .doc(
            "7.0.0",
            "Append records to a topic partition and return the first offset",
            "O(N) where N is the number of values",
        )
        .syntax("topic [PARTITION p] [KEY k] value [value ...]"),
    CommandSpec::new("tfetch", -4, READONLY | BLOCKING, tfetch)
        .group("topic")
        .doc(
            "7.0.0",
            "Read records of a topic partition from an offset, optionally waiting for new ones",
            "O(N) where N is the number of records returned",
        )
        .syntax("topic partition offset|$ [COUNT n] [BLOCK ms]"),
    CommandSpec::new("toffsets", 3, READONLY | FAST, toffsets)
        .group("topic")
        .doc(
            "7.0.0",
            "Get the earliest and latest offsets of a topic partition",
            "O(1)",
        )
        .syntax("topic partition"),
    CommandSpec::new("tcommit", -5, WRITE | FAST, tcommit)
        .group("topic")
        .doc(
            "7.0.0",
            "Commit a consumer group's offset for a topic partition",
            "O(1)",
        )
        .syntax("group topic partition offset [TIMESTAMP unix-ms]"),
    CommandSpec::new("tcommitted", 4, READONLY | FAST, tcommitted)
        .group("topic")
        .doc(
            "7.0.0",
            "Get a consumer group's committed offset for a topic partition",
            "O(1)",
        )
        .syntax("group topic partition"),
    CommandSpec::new("tinfo", 2, READONLY, tinfo)
        .group("topic")
        .doc(
            "7.0.0",
            "Get the partitions of a topic with their offsets and sizes",
            "O(N) where N is the number of partitions",
        )
        .syntax("topic"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testkit::TestDb;

    /// A TestDb with a broker whose logs live in a temporary directory.
    fn setup() -> (TestDb, Arc<Broker>, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let args = ["--dir".to_string(), dir.path().display().to_string()];
        let config = crate::config::Config::from_args(&args).expect("config");
        let t = TestDb::with_config(config);
        let b = Broker::new(t.shared.clone());
        b.load().expect("load");
        (t, b, dir)
    }

    fn entry(offset: i64, key: Option<&str>, value: &str) -> (i64, Option<Vec<u8>>, Vec<u8>) {
        (
            offset,
            key.map(|k| k.as_bytes().to_vec()),
            value.as_bytes().to_vec(),
        )
    }

    fn entries(r: Reply) -> Vec<(i64, Option<Vec<u8>>, Vec<u8>)> {
        let Reply::Array(items) = r else {
            panic!("not an array: {r:?}")
        };
        items
            .into_iter()
            .map(|e| match e {
                Reply::Array(f) => match &f[..] {
                    [Reply::Int(o), k, Reply::Bulk(v), Reply::Int(_)] => (
                        *o,
                        match k {
                            Reply::Bulk(k) => Some(k.to_vec()),
                            _ => None,
                        },
                        v.to_vec(),
                    ),
                    other => panic!("bad entry {other:?}"),
                },
                other => panic!("bad entry {other:?}"),
            })
            .collect()
    }

    #[test]
    fn create_produce_fetch_round_trip() {
        let (mut t, _b, _d) = setup();
        assert_eq!(t.resp(&["TCREATE", "t1", "PARTITIONS", "2"]), "+OK\r\n");
        assert_eq!(t.resp(&["TCREATE", "t1"]), "-ERR topic already exists\r\n");
        assert_eq!(
            t.resp(&["TPRODUCE", "t1", "PARTITION", "1", "a", "b"]),
            ":0\r\n"
        );
        assert_eq!(
            t.resp(&["TPRODUCE", "t1", "PARTITION", "1", "KEY", "k", "c"]),
            ":2\r\n"
        );
        assert_eq!(
            entries(t.run(&["TFETCH", "t1", "1", "0"])),
            [
                entry(0, None, "a"),
                entry(1, None, "b"),
                entry(2, Some("k"), "c")
            ]
        );
        // From the middle of a batch, and COUNT.
        assert_eq!(
            entries(t.run(&["TFETCH", "t1", "1", "1", "COUNT", "1"])),
            [entry(1, None, "b")]
        );
        assert_eq!(t.resp(&["TFETCH", "t1", "1", "3"]), "*0\r\n");
        assert_eq!(t.resp(&["TOFFSETS", "t1", "1"]), "*2\r\n:0\r\n:3\r\n");
        assert_eq!(t.resp(&["TOFFSETS", "t1", "0"]), "*2\r\n:0\r\n:0\r\n");
    }

    #[test]
    fn errors() {
        let (mut t, _b, _d) = setup();
        // auto.create.topics.enable (default yes) creates a topic TPRODUCE names.
        assert_eq!(t.resp(&["TPRODUCE", "auto", "v"]), ":0\r\n");
        assert_eq!(t.resp(&["TOFFSETS", "auto", "0"]), "*2\r\n:0\r\n:1\r\n");
        t.run(&["CONFIG", "SET", "auto.create.topics.enable", "no"]);
        assert_eq!(t.resp(&["TPRODUCE", "nope", "v"]), "-ERR no such topic\r\n");
        assert_eq!(
            t.resp(&["TFETCH", "nope", "0", "0"]),
            "-ERR no such topic\r\n"
        );
        assert_eq!(t.resp(&["TINFO", "nope"]), "-ERR no such topic\r\n");
        assert!(t
            .resp(&["TCREATE", "bad/name"])
            .starts_with("-ERR invalid topic name"));
        assert_eq!(
            t.resp(&["TCREATE", "t", "PARTITIONS"]),
            "-ERR syntax error\r\n"
        );
        assert!(t
            .resp(&["TCREATE", "t", "PARTITIONS", "0"])
            .starts_with("-ERR PARTITIONS must be"));
        assert_eq!(t.resp(&["TCREATE", "t"]), "+OK\r\n");
        assert_eq!(
            t.resp(&["TPRODUCE", "t", "PARTITION", "5", "v"]),
            "-ERR no such partition\r\n"
        );
        assert_eq!(
            t.resp(&["TPRODUCE", "t", "KEY", "k"]),
            "-ERR syntax error\r\n"
        );
        assert!(t
            .resp(&["TFETCH", "t", "0", "7"])
            .starts_with("-ERR offset out of range"));
        assert_eq!(
            t.resp(&["TFETCH", "t", "0", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.resp(&["TFETCH", "t", "0", "0", "COUNT"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.resp(&["TFETCH", "t", "0", "0", "BLOCK", "-1"]),
            "-ERR timeout is negative\r\n"
        );
        assert_eq!(
            t.resp(&["TFETCH", "t", "0", "0", "BLOCK", "1.5"]),
            "-ERR timeout is not an integer or out of range\r\n"
        );
        assert_eq!(
            t.resp(&["TOFFSETS", "t"]),
            "-ERR wrong number of arguments for 'toffsets' command\r\n"
        );
    }

    fn args(a: &[&str]) -> Vec<Bytes> {
        a.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn tfetch_options_parse_like_xread() {
        let opts = |a: &[&str]| fetch_opts(&args(a));
        assert_eq!(
            opts(&[]),
            Ok(FetchOpts {
                count: DEFAULT_COUNT,
                block_ms: None
            })
        );
        assert_eq!(
            opts(&["block", "0", "COUNT", "3"]),
            Ok(FetchOpts {
                count: 3,
                block_ms: Some(0)
            })
        );
        // The last of a repeated option wins.
        assert_eq!(
            opts(&["BLOCK", "5", "BLOCK", "250"]).map(|o| o.block_ms),
            Ok(Some(250))
        );
        let neg = Err(CmdError::err("timeout is negative"));
        assert_eq!(opts(&["BLOCK", "-1"]), neg);
        let bad = Err(CmdError::err("timeout is not an integer or out of range"));
        for t in ["1.5", "abc", "", "-0", "+5", " 1", "99999999999999999999"] {
            assert_eq!(opts(&["BLOCK", t]), bad, "{t:?}");
        }
        assert_eq!(opts(&["BLOCK"]), Err(CmdError::Syntax));
        assert_eq!(opts(&["BLOCK", "1", "COUNT"]), Err(CmdError::Syntax));
        assert_eq!(opts(&["WAIT", "1"]), Err(CmdError::Syntax));
        assert_eq!(fetch_offset(b"$"), Ok(None));
        assert_eq!(fetch_offset(b"17"), Ok(Some(17)));
        assert_eq!(fetch_offset(b"$$"), Err(CmdError::NotInteger));
    }

    #[test]
    fn tfetch_block_answers_at_once_when_records_are_readable_or_in_multi() {
        let (mut t, _b, _d) = setup();
        t.run(&["TCREATE", "t", "PARTITIONS", "1"]);
        t.run(&["TPRODUCE", "t", "a"]);
        assert_eq!(
            entries(t.run(&["TFETCH", "t", "0", "0", "BLOCK", "0"])),
            [entry(0, None, "a")]
        );
        assert!(t.client.blocked.is_none());
        // `$` without BLOCK: nothing after the hw yet.
        assert_eq!(t.resp(&["TFETCH", "t", "0", "$"]), "*0\r\n");
        // Inside MULTI, BLOCK does not wait: a null array, as XREAD.
        t.run(&["MULTI"]);
        t.run(&["TFETCH", "t", "0", "$", "BLOCK", "0"]);
        t.run(&["TFETCH", "t", "0", "0", "BLOCK", "0"]);
        let Reply::Array(r) = t.run(&["EXEC"]) else {
            panic!("EXEC array")
        };
        assert_eq!(r[0], Reply::NullArray);
        assert_eq!(entries(r[1].clone()), [entry(0, None, "a")]);
        assert!(t.client.blocked.is_none());
    }

    #[test]
    fn tfetch_block_parks_with_the_concrete_offset() {
        let (mut t, _b, _d) = setup();
        t.run(&["TCREATE", "t", "PARTITIONS", "1"]);
        t.run(&["TPRODUCE", "t", "a", "b"]);
        t.run(&["TFETCH", "t", "0", "$", "COUNT", "5", "BLOCK", "100"]);
        let b = t.client.blocked.take().expect("blocked");
        assert_eq!(b.kind, crate::blocking::BlockKind::Topic);
        assert_eq!(b.timeout_reply, Reply::NullArray);
        assert_eq!(b.deadline_ms, Some(t.now_ms + 100));
        assert_eq!(
            b.retry_argv,
            Some(args(&[
                "TFETCH", "t", "0", "2", "COUNT", "5", "BLOCK", "100"
            ]))
        );
        // BLOCK 0 waits forever; an offset past the hw is still an error.
        t.run(&["TFETCH", "t", "0", "2", "BLOCK", "0"]);
        assert_eq!(t.client.blocked.take().map(|b| b.deadline_ms), Some(None));
        assert!(t
            .resp(&["TFETCH", "t", "0", "3", "BLOCK", "0"])
            .starts_with("-ERR offset out of range"));
        assert!(t.client.blocked.is_none());
    }

    #[test]
    fn commit_and_committed_share_the_coordinator() {
        let (mut t, b, _d) = setup();
        assert_eq!(t.resp(&["TCREATE", "t", "PARTITIONS", "1"]), "+OK\r\n");
        assert_eq!(t.resp(&["TCOMMITTED", "g", "t", "0"]), "$-1\r\n");
        assert_eq!(t.resp(&["TCOMMIT", "g", "t", "0", "42"]), "+OK\r\n");
        assert_eq!(t.resp(&["TCOMMITTED", "g", "t", "0"]), ":42\r\n");
        let stored = b.groups.lock().offsets.fetch("g", "t", 0).map(|o| o.offset);
        assert_eq!(stored, Some(42));
        assert_eq!(
            t.resp(&["TCOMMIT", "g", "t", "0", "-1"]),
            "-ERR offset must be positive\r\n"
        );
        assert_eq!(
            t.resp(&["TCOMMIT", "g", "t", "3", "1"]),
            "-ERR no such partition\r\n"
        );
    }

    #[test]
    fn only_tcommit_propagates_with_its_timestamp() {
        let (t, _b, _d) = setup();
        let mut t = t.propagating();
        t.now_ms = 1_700_000_000_123;
        t.run(&["TCREATE", "t"]);
        t.run(&["TPRODUCE", "t", "v"]);
        assert!(t.take_propagated().is_empty());
        assert_eq!(t.resp(&["TCOMMIT", "g", "t", "0", "1"]), "+OK\r\n");
        assert_eq!(
            t.take_propagated(),
            ["TCOMMIT g t 0 1 TIMESTAMP 1700000000123"]
        );
        {
            let state = t.shared.state.lock();
            assert_eq!(
                state.store.topic_offsets.get(&("g".into(), "t".into(), 0)),
                Some(&(1, 1_700_000_000_123))
            );
            assert!(state.store.dirty > 0);
        }
        assert_eq!(
            t.resp(&["TCOMMIT", "g", "t", "0", "1", "TIMESTAMP"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.resp(&["TCOMMIT", "g", "t", "0", "1", "TIMESTAMP", "-5"]),
            "-ERR timestamp must be positive\r\n"
        );
    }

    #[test]
    fn replayed_tcommit_is_merged_unless_kafka_committed_later() {
        let (mut t, b, _d) = setup();
        t.run(&["TCREATE", "t", "PARTITIONS", "2"]);
        // A Kafka commit of partition 0 at t=2000, of partition 1 at t=500.
        for (p, ts) in [(0, 2000), (1, 500)] {
            b.groups.lock().offsets.put(
                "g",
                "t",
                p,
                crate::broker::group::CommittedOffset::resp(100, ts),
            );
        }
        t.client.aof_loader = true;
        for p in ["0", "1"] {
            let argv = ["TCOMMIT", "g", "t", p, "7", "TIMESTAMP", "1000"];
            assert_eq!(t.resp(&argv), "+OK\r\n");
        }
        // Replay only fills the keyspace; the topic may even be gone.
        assert_eq!(
            t.resp(&["TCOMMIT", "g", "gone", "3", "9", "TIMESTAMP", "1"]),
            "+OK\r\n"
        );
        assert_eq!(t.shared.state.lock().store.topic_offsets.len(), 3);
        assert_eq!(
            b.groups.lock().offsets.fetch("g", "t", 1).map(|c| c.offset),
            Some(100)
        );
        merge_loaded_offsets(&t.shared);
        let offsets = &b.groups.lock().offsets;
        assert_eq!(offsets.fetch("g", "t", 0).map(|c| c.offset), Some(100));
        assert_eq!(offsets.fetch("g", "t", 1).map(|c| c.offset), Some(7));
        assert_eq!(offsets.fetch("g", "gone", 3).map(|c| c.offset), Some(9));
    }

    #[test]
    fn tinfo_and_info_topics() {
        let (mut t, _b, _d) = setup();
        t.run(&["TCREATE", "t", "PARTITIONS", "2"]);
        t.run(&["TPRODUCE", "t", "PARTITION", "1", "x", "y"]);
        let Reply::Map(m) = t.run(&["TINFO", "t"]) else {
            panic!("map")
        };
        assert_eq!(m[1], (Reply::simple("partitions"), Reply::Int(2)));
        let Reply::Map(parts) = &m[2].1 else {
            panic!("partition map")
        };
        let Reply::Map(p1) = &parts[1].1 else {
            panic!("fields")
        };
        assert_eq!(p1[0], (Reply::simple("leo"), Reply::Int(2)));
        assert_eq!(p1[1], (Reply::simple("hw"), Reply::Int(2)));
        let Reply::Verbatim(_, info) = t.run(&["INFO", "topics"]) else {
            panic!("bulk")
        };
        let info = String::from_utf8_lossy(&info).into_owned();
        assert!(
            info.starts_with("# Topics\r\ntopics:1\r\npartitions:2\r\n"),
            "{info}"
        );
        assert!(
            info.contains("\r\ntopic_t_1:leo=2,hw=2,log_start_offset=0,"),
            "{info}"
        );
        let Reply::Verbatim(_, default) = t.run(&["INFO"]) else {
            panic!("bulk")
        };
        let default = String::from_utf8_lossy(&default).into_owned();
        assert!(default.contains("# Topics\r\ntopics:1\r\n"), "{default}");
        assert!(!default.contains("topic_t_1:"), "{default}");
    }

    #[test]
    fn murmur2_matches_kafka() {
        // Values from Kafka's UtilsTest.testMurmur2.
        assert_eq!(murmur2(b"21"), -973932308);
        assert_eq!(murmur2(b"foobar"), -790332482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985981536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1486304829);
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
            -58897971
        );
        assert_eq!(murmur2(b"abc"), 479470107);
    }
}
