"""Pub/sub through redis-py's PubSub object, RESP2 and RESP3."""

import time

import redis

from conftest import PORT


def next_message(p, timeout=5.0):
    """The next non-None message, polling with a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message within %.1fs" % timeout)


def test_subscribe_publish_unsubscribe(r):
    p = r.pubsub()
    p.subscribe("news")
    assert next_message(p) == {"type": "subscribe", "pattern": None, "channel": "news", "data": 1}
    assert r.publish("news", "hello") == 1
    assert next_message(p) == {"type": "message", "pattern": None, "channel": "news", "data": "hello"}
    assert r.pubsub_numsub("news") == [("news", 1)]
    assert "news" in r.pubsub_channels()
    p.unsubscribe("news")
    assert next_message(p)["type"] == "unsubscribe"
    assert r.publish("news", "again") == 0
    p.close()


def test_pattern_subscription(r):
    p = r.pubsub()
    p.psubscribe("user:*")
    assert next_message(p)["type"] == "psubscribe"
    assert r.pubsub_numpat() == 1
    assert r.publish("user:42", "x") == 1
    m = next_message(p)
    assert (m["type"], m["pattern"], m["channel"], m["data"]) == ("pmessage", "user:*", "user:42", "x")
    assert r.publish("other", "y") == 0
    p.close()


def test_keyspace_notifications(r):
    r.config_set("notify-keyspace-events", "KEA")
    try:
        p = r.pubsub()
        p.psubscribe("__keyevent@0__:*")
        next_message(p)
        r.set("k", "v")
        m = next_message(p)
        assert (m["channel"], m["data"]) == ("__keyevent@0__:set", "k")
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_resp3_push_messages():
    c = redis.Redis(host="127.0.0.1", port=PORT, protocol=3, decode_responses=True, socket_timeout=10)
    p = c.pubsub()
    p.subscribe("ch3")
    assert next_message(p)["type"] == "subscribe"
    assert c.publish("ch3", "v") == 1
    assert next_message(p)["data"] == "v"
    p.close()
    c.close()
