"""Sorted set commands through redis-py (scores come back as floats)."""

import pytest
import redis


def test_add_score_range(r):
    assert r.zadd("z", {"a": 1, "b": 2, "c": 3}) == 3
    assert r.zadd("z", {"a": 1.5}, ch=True) == 1
    assert r.zadd("z", {"a": 100, "d": 4}, nx=True) == 1
    assert r.zadd("z", {"a": 0}, gt=True, ch=True) == 0
    assert r.zadd("z", {"b": 10}, incr=True) == 12.0
    assert r.zscore("z", "a") == 1.5
    assert r.zscore("z", "missing") is None
    assert r.zmscore("z", ["a", "missing"]) == [1.5, None]
    assert r.zcard("z") == 4
    assert r.zrange("z", 0, -1) == ["a", "c", "d", "b"]
    assert r.zrange("z", 0, 1, withscores=True) == [("a", 1.5), ("c", 3.0)]
    assert r.zrange("z", 0, 0, desc=True, withscores=True) == [("b", 12.0)]
    assert r.zrangebyscore("z", 2, 5) == ["c", "d"]
    assert r.zrevrangebyscore("z", "+inf", "-inf", start=0, num=2) == ["b", "d"]
    assert r.zcount("z", "(1.5", "+inf") == 3
    assert r.zrank("z", "c") == 1
    assert r.zrevrank("z", "c") == 2
    assert r.zincrby("z", 0.5, "a") == 2.0


def test_lex(r):
    r.zadd("lex", {m: 0 for m in "abcdef"})
    assert r.zrangebylex("lex", "[b", "(e") == ["b", "c", "d"]
    assert r.zlexcount("lex", "-", "+") == 6
    assert r.zremrangebylex("lex", "[a", "(c") == 2
    assert r.zrange("lex", 0, -1) == ["c", "d", "e", "f"]


def test_pop_rem(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zpopmin("z") == [("a", 1.0)]
    assert r.zpopmax("z", 2) == [("d", 4.0), ("c", 3.0)]
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zrem("z", "a", "missing") == 1
    assert r.zremrangebyrank("z", 0, 0) == 1
    assert r.zremrangebyscore("z", "-inf", "+inf") == 1
    assert r.exists("z") == 0


def test_algebra(r):
    r.zadd("a", {"x": 1, "y": 2, "z": 3})
    r.zadd("b", {"y": 10, "z": 20, "w": 30})
    assert r.zunionstore("u", ["a", "b"]) == 4
    assert r.zrange("u", 0, -1, withscores=True) == [("x", 1.0), ("y", 12.0), ("z", 23.0), ("w", 30.0)]
    assert r.zinterstore("i", {"a": 2, "b": 0.5}, aggregate="MAX") == 2
    assert r.zrange("i", 0, -1, withscores=True) == [("y", 5.0), ("z", 10.0)]
    # redis-py 5 leaves ZDIFF WITHSCORES as the flat RESP2 array.
    assert r.zdiff(["a", "b"], withscores=True) == ["x", "1"]
    assert r.zunion(["a", "b"]) == ["x", "y", "z", "w"]


def test_scores_and_inf(r):
    r.zadd("f", {"a": 0.1, "b": float("inf"), "c": float("-inf"), "d": 1e20})
    assert r.zscore("f", "a") == 0.1
    assert r.zscore("f", "b") == float("inf")
    assert r.zscore("f", "c") == float("-inf")
    assert r.zrange("f", 0, -1) == ["c", "a", "d", "b"]
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.zadd("f", {"x": "abc"})


def test_zscan_iter(r):
    members = {f"m{i}": float(i) for i in range(200)}
    r.zadd("big", members)
    assert dict(r.zscan_iter("big")) == members


def test_resp3_scores(r3):
    r3.zadd("z", {"a": 1.5, "b": 2})
    assert r3.zscore("z", "a") == 1.5
    # RESP3: [member, score] pairs with scores as doubles; ZPOPMIN without count is flat.
    assert r3.zrange("z", 0, -1, withscores=True) == [["a", 1.5], ["b", 2.0]]
    assert r3.zpopmin("z") == ["a", 1.5]
    assert r3.zpopmin("z", 1) == [["b", 2.0]]


def test_wrong_type(r):
    r.set("str", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.zadd("str", {"a": 1})
