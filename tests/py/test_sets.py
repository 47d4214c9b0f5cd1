"""Set commands through redis-py."""

import pytest
import redis


def test_basics(r):
    assert r.sadd("s", "a", "b", "c") == 3
    assert r.sadd("s", "a", "d") == 1
    assert r.smembers("s") == {"a", "b", "c", "d"}
    assert r.scard("s") == 4
    assert r.sismember("s", "a") == 1
    assert r.sismember("s", "z") == 0
    assert r.smismember("s", ["a", "z"]) == [1, 0]
    assert r.srem("s", "a", "z") == 1
    assert r.smembers("missing") == set()


def test_algebra(r):
    r.sadd("s1", "a", "b", "c", "d")
    r.sadd("s2", "c", "d", "e")
    assert r.sinter("s1", "s2") == {"c", "d"}
    assert r.sunion("s1", "s2") == {"a", "b", "c", "d", "e"}
    assert r.sdiff("s1", "s2") == {"a", "b"}
    assert r.sinterstore("out", ["s1", "s2"]) == 2
    assert r.smembers("out") == {"c", "d"}
    assert r.sunionstore("out", ["s1", "s2"]) == 5
    assert r.sdiffstore("out", ["s1", "s2"]) == 2
    assert r.sintercard(2, ["s1", "s2"]) == 2
    assert r.sintercard(2, ["s1", "s2"], limit=1) == 1
    assert r.smove("s1", "s2", "a") is True
    assert r.smove("s1", "s2", "a") is False


def test_random(r):
    r.sadd("s", *range(10))
    members = {str(i) for i in range(10)}
    assert r.srandmember("s") in members
    got = r.srandmember("s", 5)
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= members
    assert len(r.srandmember("s", -20)) == 20
    popped = r.spop("s", 3)
    assert len(popped) == 3 and set(popped) <= members
    assert r.scard("s") == 7
    assert r.spop("missing") is None


def test_sscan_iter(r):
    members = {f"m{i}" for i in range(200)}
    r.sadd("big", *members)
    assert set(r.sscan_iter("big")) == members
    assert set(r.sscan_iter("big", match="m1*", count=5)) == {m for m in members if m.startswith("m1")}


def test_resp3_set_type(r3):
    r3.sadd("s", "a", "b")
    assert r3.smembers("s") == {"a", "b"}


def test_wrong_type(r):
    r.set("str", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.sadd("str", "a")
