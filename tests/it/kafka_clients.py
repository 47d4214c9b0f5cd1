"""Client-library helpers for tests/it/kafka.rs: `python3 kafka_clients.py CMD BOOTSTRAP ...`.

Each command prints one result line (or one line per acknowledged message for
`produce-forever`) and exits non-zero on failure.
"""

import sys
import time


def kafka_python_round_trip(bootstrap, topic, n):
    """kafka-python's default producer (idempotent, acks=all) then a group-less consumer."""
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    p = KafkaProducer(bootstrap_servers=bootstrap)
    futures = [p.send(topic, key=b"k%d" % i, value=b"v%d" % i) for i in range(n)]
    p.flush(30)
    offsets = [f.get(timeout=10).offset for f in futures]
    p.close()
    assert offsets == list(range(n)), offsets
    c = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    got = [(m.offset, m.key, m.value) for m in c]
    assert got == [(i, b"k%d" % i, b"v%d" % i) for i in range(n)], got
    print("ends", c.beginning_offsets([tp])[tp], c.end_offsets([tp])[tp])
    c.close()


def consume_all(bootstrap, topic, n, timeout=20):
    """confluent-kafka Consumer with assign() (no group) and CRC checks; values in order."""
    import confluent_kafka as ck

    c = ck.Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "unused",
            "check.crcs": True,
            "enable.auto.commit": False,
        }
    )
    c.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
    seen = []
    end = time.time() + timeout
    while len(seen) < n and time.time() < end:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            raise RuntimeError(str(m.error()))
        seen.append((m.offset(), m.value()))
    c.close()
    return seen


def confluent_compression(bootstrap, n):
    """Idempotent confluent-kafka producer per codec; every value read back exactly once."""
    import confluent_kafka as ck

    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        topic = "codec-" + codec
        p = ck.Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "compression.type": codec,
                "linger.ms": 5,
            }
        )
        errors = []
        for i in range(n):
            p.produce(
                topic,
                value=b"%s-%d" % (codec.encode(), i),
                on_delivery=lambda e, m: e and errors.append(e),
            )
        assert p.flush(30) == 0, "unflushed"
        assert not errors, errors
        values = [v for _, v in consume_all(bootstrap, topic, n)]
        want = [b"%s-%d" % (codec.encode(), i) for i in range(n)]
        assert values == want, (codec, len(values), len(set(values)))
    print("codecs ok")


def produce_forever(bootstrap, topic):
    """acks=all, one message in flight; prints `offset value` per acknowledged message."""
    import confluent_kafka as ck

    p = ck.Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "message.timeout.ms": 2000,
            "linger.ms": 0,
        }
    )
    i = 0
    while True:
        acked = []
        p.produce(topic, value=b"m%d" % i, on_delivery=lambda e, m: acked.append((e, m)))
        p.flush(5)
        if not acked or acked[0][0] is not None:
            return
        m = acked[0][1]
        print(m.offset(), m.value().decode(), flush=True)
        i += 1


def produce_values(bootstrap, topic, start, count, partitions):
    """confluent-kafka producer: values v<start>..v<start+count-1>, value i to partition
    i % partitions, all acknowledged."""
    import confluent_kafka as ck

    p = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    errors = []
    for i in range(start, start + count):
        p.produce(
            topic,
            value=b"v%d" % i,
            partition=i % partitions,
            on_delivery=lambda e, m: e and errors.append(e),
        )
    assert p.flush(30) == 0, "unflushed"
    assert not errors, errors


def group_consumer(bootstrap, group):
    import confluent_kafka as ck

    return ck.Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "heartbeat.interval.ms": 300,
            "session.timeout.ms": 10000,
        }
    )


def confluent_group_share(bootstrap, topic, n, group):
    """Two confluent-kafka consumers in one group share a 4-partition topic: both get
    partitions, every value is seen exactly once across them (each commits after
    processing), both close, and the committed offsets sum to n."""
    import threading

    import confluent_kafka as ck
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, 4, 1)]).values():
        f.result(15)

    stop = threading.Event()
    seen = {0: [], 1: []}
    assigned = {0: [], 1: []}
    failures = []

    def run(k):
        c = group_consumer(bootstrap, group)

        def on_assign(_c, parts):
            assigned[k] = [p.partition for p in parts]

        def on_revoke(_c, parts):
            assigned[k] = []

        c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        try:
            while not stop.is_set():
                m = c.poll(0.2)
                if m is None:
                    continue
                if m.error():
                    failures.append(str(m.error()))
                    continue
                seen[k].append(m.value())
                c.commit(message=m, asynchronous=False)
        except Exception as e:  # reported by the main thread
            failures.append(repr(e))
        finally:
            c.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    end = time.time() + 30
    while time.time() < end and not (
        assigned[0] and assigned[1] and sorted(assigned[0] + assigned[1]) == [0, 1, 2, 3]
    ):
        time.sleep(0.1)
    split = (list(assigned[0]), list(assigned[1]))
    produce_values(bootstrap, topic, 0, n, 4)
    end = time.time() + 30
    while time.time() < end and len(seen[0]) + len(seen[1]) < n:
        time.sleep(0.1)
    time.sleep(1)  # room for duplicates to show up
    stop.set()
    for t in threads:
        t.join(30)
    assert not failures, failures
    assert split[0] and split[1], split
    got = seen[0] + seen[1]
    assert len(got) == n, (len(seen[0]), len(seen[1]))
    assert sorted(got) == sorted(b"v%d" % i for i in range(n))

    c = group_consumer(bootstrap, group)
    committed = c.committed([ck.TopicPartition(topic, p) for p in range(4)], timeout=15)
    c.close()
    total = sum(tp.offset for tp in committed)
    assert total == n, [(tp.partition, tp.offset) for tp in committed]
    print("shared", split, len(seen[0]), len(seen[1]), "committed", total)


def confluent_group_resume(bootstrap, topic, start, m, group):
    """Produces v<start>.. (m values) to the 4 partitions; a new consumer in `group` reads
    exactly those (nothing before them is re-read), commits and closes."""
    produce_values(bootstrap, topic, start, m, 4)
    c = group_consumer(bootstrap, group)
    c.subscribe([topic])
    got = []
    end = time.time() + 30
    while time.time() < end and len(got) < m:
        msg = c.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            raise RuntimeError(str(msg.error()))
        got.append(msg.value())
    # Anything re-read would arrive around the same time; give it a moment.
    drain = time.time() + 1
    while time.time() < drain:
        msg = c.poll(0.2)
        if msg is not None and not msg.error():
            got.append(msg.value())
    c.commit(asynchronous=False)
    c.close()
    assert sorted(got) == sorted(b"v%d" % i for i in range(start, start + m)), got
    print("resumed", len(got))


def kafka_python_group(bootstrap, topic, group, start, count):
    """kafka-python: produce v<start>.. (count values), then a KafkaConsumer in `group`
    subscribes, reads exactly those values (resuming from the group's commit), commits
    and closes."""
    from kafka import KafkaConsumer, KafkaProducer

    p = KafkaProducer(bootstrap_servers=bootstrap)
    for f in [p.send(topic, value=b"v%d" % i) for i in range(start, start + count)]:
        f.get(timeout=10)
    p.close()
    c = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        heartbeat_interval_ms=300,
    )
    c.subscribe([topic])
    got = []
    end = time.time() + 30
    while time.time() < end and len(got) < count:
        for msgs in c.poll(timeout_ms=200).values():
            got.extend(m.value for m in msgs)
    drain = time.time() + 1
    while time.time() < drain:
        for msgs in c.poll(timeout_ms=200).values():
            got.extend(m.value for m in msgs)
    c.commit()
    c.close()
    assert sorted(got) == sorted(b"v%d" % i for i in range(start, start + count)), got
    print("group read", len(got))


def commit_offset(bootstrap, group, topic, offset):
    """kafka-python manual commit with assign() (no group membership)."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.commit({tp: OffsetAndMetadata(offset, "", -1)})
    print(c.committed(tp))
    c.close()


def committed_offset(bootstrap, group, topic):
    """The group's committed offset of partition 0 as kafka-python's OffsetFetch sees it."""
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    print(c.committed(TopicPartition(topic, 0)))
    c.close()

def describe_configs(bootstrap, topic):
    """confluent-kafka and kafka-python AdminClient.describe_configs on `topic` (created
    here), broker 0 and a missing topic; one `client resource name=value source ro` line
    per config."""
    from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result(15)
    wanted = [
        ConfigResource("topic", topic),
        ConfigResource("broker", "0"),
        ConfigResource("topic", "missing-" + topic),
    ]
    for res, f in admin.describe_configs(wanted).items():
        kind = res.restype.name.lower()
        try:
            entries = f.result(15)
        except Exception as e:  # noqa: BLE001 - the error is the result
            err = e.args[0]
            print("ck", kind, "error", err.name(), err.str())
            continue
        for name, e in sorted(entries.items()):
            print(
                "ck", kind, "%s=%s" % (name, e.value), ConfigSource(e.source).name,
                "ro" if e.is_read_only else "rw",
            )

    from kafka.admin import ConfigResource as KCR
    from kafka.admin import ConfigResourceType, KafkaAdminClient

    k = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    got = k.describe_configs(
        [KCR(ConfigResourceType.TOPIC, topic)], config_filter="all"
    )["topic"][topic]
    for name, c in sorted(got.items()):
        print(
            "kp", "topic", "%s=%s" % (name, c["value"]), c["config_source"],
            c["config_type"], "ro" if c["read_only"] else "rw",
        )
    # configuration_keys and synonyms.
    got = k.describe_configs(
        [KCR(ConfigResourceType.TOPIC, topic, {"retention.ms": None})],
        include_synonyms=True,
        config_filter="all",
    )["topic"][topic]
    print("kp keys", sorted(got))
    print("kp synonyms", [(s["name"], s["source"]) for s in got["retention.ms"]["synonyms"]])
    k.close()


def max_timestamp(bootstrap, topic):
    """ListOffsets MAX_TIMESTAMP (-3) through confluent-kafka's AdminClient.list_offsets
    and kafka-python's list_partition_offsets: on the empty topic, then after records
    stamped out of order (the max, 5000, first at offset 1 and again at offset 3)."""
    import confluent_kafka as ck
    from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec
    from kafka.admin import KafkaAdminClient
    from kafka.admin import OffsetSpec as KOffsetSpec

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result(15)
    tp = ck.TopicPartition(topic, 0)
    k = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    ktp = __import__("kafka").TopicPartition(topic, 0)

    def show(label):
        for spec in ["max_timestamp", "latest"]:
            r = admin.list_offsets({tp: getattr(OffsetSpec, spec)()})[tp].result(15)
            print("ck", label, spec, r.offset, r.timestamp)
        r = k.list_partition_offsets({ktp: KOffsetSpec.MAX_TIMESTAMP})[ktp]
        print("kp", label, "max_timestamp", r.offset, r.timestamp)

    show("empty")
    p = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 50})
    for t in [1000, 5000, 3000, 5000, 2000]:
        p.produce(topic, value=b"x", timestamp=t)
    assert p.flush(15) == 0
    p.produce(topic, value=b"y", timestamp=4000)
    assert p.flush(15) == 0
    show("filled")
    k.close()


def transactional(bootstrap):
    """init_transactions() of a confluent-kafka and a kafka-python transactional producer,
    each given 60 s: one `client seconds error-name text` line each."""
    import confluent_kafka as ck
    from kafka import KafkaProducer

    start = time.time()
    p = ck.Producer({"bootstrap.servers": bootstrap, "transactional.id": "tx-ck"})
    try:
        p.init_transactions(60)
        print("ck ok")
    except ck.KafkaException as e:
        err = e.args[0]
        print("ck %.1f %s fatal=%s %s" % (time.time() - start, err.name(), err.fatal(), err.str()))

    start = time.time()
    try:
        k = KafkaProducer(bootstrap_servers=bootstrap, transactional_id="tx-kp", max_block_ms=60000)
        k.init_transactions()
        print("kp ok")
    except Exception as e:  # noqa: BLE001 - the error is the result
        print("kp %.1f %s %s" % (time.time() - start, type(e).__name__, e))


def timestamp_types(bootstrap, topic):
    """Produces two records stamped 1000 and 2000 with confluent-kafka, then reads them
    with a confluent-kafka consumer (CRC checks on) and kafka-python (CRC checks by
    default): `client type timestamp` per record, `ck-delivery type timestamp` per
    delivery report."""
    import confluent_kafka as ck
    from kafka import KafkaConsumer, TopicPartition

    names = {ck.TIMESTAMP_CREATE_TIME: "CreateTime", ck.TIMESTAMP_LOG_APPEND_TIME: "LogAppendTime"}
    p = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    reports = []
    for t in [1000, 2000]:
        p.produce(topic, value=b"v", timestamp=t, on_delivery=lambda e, m: reports.append((e, m)))
    assert p.flush(15) == 0
    for e, m in reports:
        assert e is None, e
        kind, ts = m.timestamp()
        print("ck-delivery", names.get(kind, kind), ts)

    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "ts", "check.crcs": True})
    c.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
    got, end = 0, time.time() + 15
    while got < 2 and time.time() < end:
        m = c.poll(0.5)
        if m is None:
            continue
        assert not m.error(), m.error()
        kind, ts = m.timestamp()
        print("ck", names.get(kind, kind), ts)
        got += 1
    c.close()

    k = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=3000, auto_offset_reset="earliest")
    k.assign([TopicPartition(topic, 0)])
    for m in k:
        print("kp", ["CreateTime", "LogAppendTime"][m.timestamp_type], m.timestamp)
    k.close()


def main():
    cmd, bootstrap = sys.argv[1], sys.argv[2]
    if cmd == "commit":
        commit_offset(bootstrap, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "committed":
        committed_offset(bootstrap, sys.argv[3], sys.argv[4])
    elif cmd == "kafka-python-round-trip":
        kafka_python_round_trip(bootstrap, sys.argv[3], int(sys.argv[4]))
    elif cmd == "confluent-compression":
        confluent_compression(bootstrap, int(sys.argv[3]))
    elif cmd == "produce-forever":
        produce_forever(bootstrap, sys.argv[3])
    elif cmd == "consume-all":
        for offset, value in consume_all(bootstrap, sys.argv[3], int(sys.argv[4])):
            print(offset, value.decode())
    elif cmd == "confluent-group-share":
        confluent_group_share(bootstrap, sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif cmd == "confluent-group-resume":
        confluent_group_resume(
            bootstrap, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
        )
    elif cmd == "kafka-python-group":
        kafka_python_group(
            bootstrap, sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        )
    elif cmd == "describe-configs":
        describe_configs(bootstrap, sys.argv[3])
    elif cmd == "max-timestamp":
        max_timestamp(bootstrap, sys.argv[3])
    elif cmd == "transactional":
        transactional(bootstrap)
    elif cmd == "timestamp-types":
        timestamp_types(bootstrap, sys.argv[3])
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
