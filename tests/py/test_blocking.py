"""Blocking commands through redis-py."""

import threading
import time

import redis

from conftest import PORT


def test_list_blocking(r):
    r.rpush("src", "2")
    r.rpush("dst", "3", "1")
    assert r.blpop(["nokey", "src"], timeout=1) == ("src", "2")
    assert r.blpop(["nokey"], timeout=0.05) is None
    assert r.brpop(["dst"], timeout=1) == ("dst", "1")
    assert r.lrange("dst", 0, -1) == ["3"]


def test_zset_blocking(r):
    r.zadd("z", {"b": 2, "c": 3})
    assert r.bzpopmin(["nokey", "z"], timeout=1) == ("z", "b", 2.0)
    assert r.bzpopmin(["nokey"], timeout=0.05) is None


def _other():
    return redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=10, decode_responses=True)


def _wait_blocked(r, n):
    """Polls INFO until `n` clients are blocked (bounded)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if r.info("clients")["blocked_clients"] == n:
            return
        time.sleep(0.01)
    raise AssertionError(f"never saw {n} blocked clients")


def test_blpop_woken_by_push(r):
    result = {}
    other = _other()
    t = threading.Thread(target=lambda: result.update(v=other.blpop(["q"], timeout=5)))
    t.start()
    _wait_blocked(r, 1)
    assert r.rpush("q", "hello") == 1
    t.join(5)
    other.close()
    assert result["v"] == ("q", "hello")
    assert r.exists("q") == 0
    assert r.info("clients")["blocked_clients"] == 0


def test_blmove_and_xread_woken(r):
    result = {}
    a, b = _other(), _other()
    ta = threading.Thread(target=lambda: result.update(m=a.blmove("src", "dst", 5, "LEFT", "RIGHT")))
    tb = threading.Thread(target=lambda: result.update(x=b.xread({"s": "$"}, block=5000)))
    ta.start()
    tb.start()
    _wait_blocked(r, 2)
    r.rpush("src", "v")
    r.xadd("s", {"f": "1"}, id="5-1")
    ta.join(5)
    tb.join(5)
    a.close()
    b.close()
    assert result["m"] == "v"
    assert r.lrange("dst", 0, -1) == ["v"]
    assert result["x"] == [["s", [("5-1", {"f": "1"})]]]
