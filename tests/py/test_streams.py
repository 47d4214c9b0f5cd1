"""Streams through redis-py: entries, trimming, consumer groups, claiming, XINFO."""

import pytest
import redis


def test_xadd_xrange_xlen_xdel_xtrim(r):
    assert r.xadd("s", {"f": "1"}, id="1-1") == "1-1"
    assert r.xadd("s", {"f": "2"}, id="1-2") == "1-2"
    auto = r.xadd("s", {"f": "3"})
    assert auto.count("-") == 1
    assert r.xlen("s") == 3
    assert r.xrange("s", "-", "+", count=2) == [("1-1", {"f": "1"}), ("1-2", {"f": "2"})]
    assert r.xrevrange("s", "+", "-", count=1)[0][0] == auto
    assert r.xrange("s", "(1-1", "+")[0][0] == "1-2"
    assert r.xdel("s", "1-1") == 1
    assert r.xtrim("s", maxlen=1, approximate=False) == 1
    assert r.xlen("s") == 1
    with pytest.raises(redis.ResponseError, match="equal or smaller than the target stream top item"):
        r.xadd("s", {"f": "x"}, id="1-1")
    assert r.xadd("nostream", {"f": "x"}, nomkstream=True) is None


def test_xread_and_consumer_group_flow(r):
    for i in range(5):
        r.xadd("q", {"n": str(i)}, id=f"1-{i + 1}")
    assert [e[0] for e in r.xread({"q": "1-3"})[0][1]] == ["1-4", "1-5"]
    assert r.xgroup_create("q", "g", id="0") is True
    with pytest.raises(redis.ResponseError, match="BUSYGROUP"):
        r.xgroup_create("q", "g", id="0")
    got = r.xreadgroup("g", "alice", {"q": ">"}, count=3)
    assert [e[0] for e in got[0][1]] == ["1-1", "1-2", "1-3"]
    summary = r.xpending("q", "g")
    assert summary["pending"] == 3 and summary["min"] == "1-1" and summary["max"] == "1-3"
    assert summary["consumers"] == [{"name": "alice", "pending": 3}]
    assert r.xack("q", "g", "1-1", "1-2") == 2
    # Re-reading the PEL with an explicit id returns what is still pending.
    again = r.xreadgroup("g", "alice", {"q": "0"})
    assert [e[0] for e in again[0][1]] == ["1-3"]
    claimed = r.xclaim("q", "g", "bob", min_idle_time=0, message_ids=["1-3"], justid=True)
    assert claimed == ["1-3"]
    detail = r.xpending_range("q", "g", min="-", max="+", count=10)
    assert [(p["message_id"], p["consumer"]) for p in detail] == [("1-3", "bob")]
    nxt, entries, deleted = r.xautoclaim("q", "g", "carol", min_idle_time=0, start_id="0-0")
    assert [e[0] for e in entries] == ["1-3"]
    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        r.xreadgroup("nogroup", "c", {"q": ">"})


def test_xinfo(r):
    r.xadd("i", {"a": "1"}, id="5-1")
    r.xgroup_create("i", "g1", id="$")
    info = r.xinfo_stream("i")
    assert info["length"] == 1 and info["groups"] == 1
    assert info["first-entry"][0] == "5-1" and info["last-generated-id"] == "5-1"
    groups = r.xinfo_groups("i")
    assert groups[0]["name"] == "g1" and groups[0]["pending"] == 0
    r.xadd("i", {"a": "2"}, id="5-2")
    r.xreadgroup("g1", "c1", {"i": ">"})
    consumers = r.xinfo_consumers("i", "g1")
    assert [(c["name"], c["pending"]) for c in consumers] == [("c1", 1)]
    full = r.xinfo_stream("i", full=True)
    assert full["length"] == 2 and len(full["groups"]) == 1
