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


def main():
    cmd, bootstrap = sys.argv[1], sys.argv[2]
    if cmd == "kafka-python-round-trip":
        kafka_python_round_trip(bootstrap, sys.argv[3], int(sys.argv[4]))
    elif cmd == "confluent-compression":
        confluent_compression(bootstrap, int(sys.argv[3]))
    elif cmd == "produce-forever":
        produce_forever(bootstrap, sys.argv[3])
    elif cmd == "consume-all":
        for offset, value in consume_all(bootstrap, sys.argv[3], int(sys.argv[4])):
            print(offset, value.decode())
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
