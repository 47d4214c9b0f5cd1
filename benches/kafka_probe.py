#!/usr/bin/env python3
"""Client side of benches/kafka.sh (confluent-kafka / redis-py). One measurement per call,
printed as key=value on one line.

  kafka_probe.py start <port> <log> -- <cmd...>   exec cmd, poll connect() to 127.0.0.1:port
                                                  every 1 ms; prints startup_ms= pid=
                                                  (the server keeps running; caller kills pid)
  kafka_probe.py produce <port> <topic> <n> <size> <acks>   msgs_s= mb_s= (until flush())
  kafka_probe.py consume <port> <topic> <n>                 msgs_s= (assign, from beginning)
  kafka_probe.py group <port> <topic>      one message in topic, new group subscribes:
                                           first_ms= (subscribe() until poll() returns it)
  kafka_probe.py xconsume <port> <stream> <n>   msgs_s= (XRANGE COUNT 10000 loop)
"""
import socket
import subprocess
import sys
import time
import uuid


def start(port, log, cmd):
    out = open(log, "wb")
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    while True:
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            t1 = time.perf_counter()
            s.close()
            break
        except OSError:
            s.close()
            if p.poll() is not None:
                print(f"server exited with {p.returncode}", file=sys.stderr)
                sys.exit(1)
            if time.perf_counter() - t0 > 30:
                p.kill()
                print("server did not accept within 30 s", file=sys.stderr)
                sys.exit(1)
            time.sleep(0.001)
    print(f"startup_ms={(t1 - t0) * 1000:.2f} pid={p.pid}")


def bootstrap(port):
    return f"127.0.0.1:{port}"


def create_topic(port, topic):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": bootstrap(port)})
    fs = a.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    for f in fs.values():
        try:
            f.result(10)
        except Exception as e:  # already exists, or auto-create only
            print(f"create_topics {topic}: {e}", file=sys.stderr)


def produce(port, topic, n, size, acks):
    from confluent_kafka import Producer

    create_topic(port, topic)
    p = Producer({
        "bootstrap.servers": bootstrap(port),
        "linger.ms": 5,
        "acks": acks,
        "queue.buffering.max.messages": 1000000,
        "queue.buffering.max.kbytes": 1048576,
        # Only failed deliveries reach the callback: one Python call per delivered message
        # costs the client more than either broker spends on the message.
        "delivery.report.only.error": True,
    })
    errors = [0]

    def dr(err, _msg):
        if err is not None:
            errors[0] += 1

    payload = b"x" * size
    # connect and fetch metadata before the clock starts
    p.list_topics(topic, timeout=10)
    t0 = time.perf_counter()
    for _ in range(n):
        while True:
            try:
                p.produce(topic, payload, callback=dr)
                break
            except BufferError:
                p.poll(0.001)
    left = p.flush(120)
    dt = time.perf_counter() - t0
    if left or errors[0]:
        print(f"produce: {left} unflushed, {errors[0]} delivery errors", file=sys.stderr)
        sys.exit(1)
    print(f"msgs_s={n / dt:.0f} mb_s={n * size / dt / 1e6:.1f}")


def consume(port, topic, n):
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

    c = Consumer({
        "bootstrap.servers": bootstrap(port),
        "group.id": "bench-assign",
        "enable.auto.commit": False,
        # librdkafka pauses fetching for fetch.queue.backoff.ms (default 1000) whenever its
        # queue passes queued.min.messages; whether a run hits that pause is a race with
        # this loop, which made consume times bimodal (about 120k or 270k msgs/s, for either
        # broker). A short backoff keeps the queue bound without the 1 s stall.
        "fetch.queue.backoff.ms": 10,
    })
    t0 = time.perf_counter()
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = 0
    while got < n:
        # ask for exactly what is left, so the last batch does not wait out the timeout
        msgs = c.consume(num_messages=min(10000, n - got), timeout=0.1)
        for m in msgs:
            if m.error() is None:
                got += 1
        if time.perf_counter() - t0 > 120:
            print(f"consume: only {got}/{n} in 120 s", file=sys.stderr)
            sys.exit(1)
    dt = time.perf_counter() - t0
    c.close()
    print(f"msgs_s={got / dt:.0f}")


def group(port, topic):
    from confluent_kafka import Consumer, Producer

    create_topic(port, topic)
    p = Producer({"bootstrap.servers": bootstrap(port), "acks": "all"})
    p.produce(topic, b"first")
    if p.flush(10):
        print("group: the message was not delivered", file=sys.stderr)
        sys.exit(1)
    c = Consumer({
        "bootstrap.servers": bootstrap(port),
        "group.id": "g-" + uuid.uuid4().hex,
        "auto.offset.reset": "earliest",
    })
    t0 = time.perf_counter()
    c.subscribe([topic])
    while True:
        m = c.poll(0.01)
        if m is not None and m.error() is None:
            break
        if time.perf_counter() - t0 > 90:
            print("group: no message within 90 s", file=sys.stderr)
            sys.exit(1)
    dt = time.perf_counter() - t0
    c.close()
    print(f"first_ms={dt * 1000:.1f}")


def xconsume(port, stream, n):
    import redis

    r = redis.Redis(port=port)
    t0 = time.perf_counter()
    got, start_id = 0, "-"
    while got < n:
        batch = r.xrange(stream, start_id, "+", count=10000)
        if not batch:
            break
        got += len(batch)
        start_id = b"(" + batch[-1][0]
    dt = time.perf_counter() - t0
    if got < n:
        print(f"xconsume: only {got}/{n}", file=sys.stderr)
        sys.exit(1)
    print(f"msgs_s={got / dt:.0f}")


def main():
    a = sys.argv[1:]
    if a[0] == "start":
        start(int(a[1]), a[2], a[a.index("--") + 1:])
    elif a[0] == "produce":
        produce(int(a[1]), a[2], int(a[3]), int(a[4]), a[5])
    elif a[0] == "consume":
        consume(int(a[1]), a[2], int(a[3]))
    elif a[0] == "group":
        group(int(a[1]), a[2])
    elif a[0] == "xconsume":
        xconsume(int(a[1]), a[2], int(a[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
