"""Hash commands through redis-py."""

import pytest
import redis


def test_basics(r):
    assert r.hset("h", mapping={"f1": "v1", "f2": "v2"}) == 2
    assert r.hset("h", "f1", "new") == 0
    assert r.hget("h", "f1") == "new"
    assert r.hget("h", "missing") is None
    assert r.hmget("h", ["f1", "missing", "f2"]) == ["new", None, "v2"]
    assert r.hgetall("h") == {"f1": "new", "f2": "v2"}
    assert r.hgetall("missing") == {}
    assert sorted(r.hkeys("h")) == ["f1", "f2"]
    assert sorted(r.hvals("h")) == ["new", "v2"]
    assert r.hlen("h") == 2
    assert r.hexists("h", "f1") is True
    assert r.hstrlen("h", "f1") == 3
    assert r.hsetnx("h", "f1", "x") == 0
    assert r.hsetnx("h", "f3", "x") == 1
    assert r.hdel("h", "f1", "missing") == 1


def test_counters(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -10) == -5
    assert r.hincrbyfloat("h", "f", 1.5) == 1.5
    assert r.hincrbyfloat("h", "f", 0.1) == pytest.approx(1.6)
    assert r.hget("h", "f") == "1.6"
    r.hset("h", "s", "abc")
    with pytest.raises(redis.ResponseError, match="^hash value is not an integer$"):
        r.hincrby("h", "s", 1)


def test_hscan_iter_and_random(r):
    fields = {f"f{i}": str(i) for i in range(300)}
    r.hset("big", mapping=fields)
    assert dict(r.hscan_iter("big")) == fields
    assert dict(r.hscan_iter("big", match="f1*", count=10)) == {k: v for k, v in fields.items() if k.startswith("f1")}
    assert r.hrandfield("big") in fields
    got = r.hrandfield("big", 5, withvalues=True)
    assert len(got) == 10
    for f, v in zip(got[::2], got[1::2]):
        assert fields[f] == v


def test_resp3_map(r3):
    r3.hset("h", mapping={"a": "1", "b": "2"})
    assert r3.hgetall("h") == {"a": "1", "b": "2"}


def test_wrong_type(r):
    r.set("str", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.hset("str", "f", "v")
