"""List commands through redis-py."""

import pytest
import redis


def test_push_pop_range(r):
    assert r.lpush("l", "a", "b", "c") == 3
    assert r.rpush("l", "x", "y") == 5
    assert r.lrange("l", 0, -1) == ["c", "b", "a", "x", "y"]
    assert r.llen("l") == 5
    assert r.lpop("l") == "c"
    assert r.rpop("l") == "y"
    assert r.lpop("l", 2) == ["b", "a"]
    assert r.rpop("l", 5) == ["x"]
    assert r.exists("l") == 0
    assert r.lpop("l") is None
    assert r.lpop("l", 2) is None
    assert r.lpushx("l", "a") == 0
    assert r.rpushx("l", "a") == 0


def test_index_set_insert_rem_trim_pos(r):
    r.rpush("l", *"abcabc")
    assert r.lindex("l", 0) == "a"
    assert r.lindex("l", -1) == "c"
    assert r.lindex("l", 100) is None
    assert r.lset("l", 0, "A") is True
    with pytest.raises(redis.ResponseError, match="^index out of range$"):
        r.lset("l", 100, "x")
    assert r.linsert("l", "BEFORE", "b", "X") == 7
    assert r.linsert("l", "AFTER", "nomember", "X") == -1
    assert r.lrange("l", 0, -1) == ["A", "X", "b", "c", "a", "b", "c"]
    assert r.lrem("l", 0, "b") == 2
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "c", count=0) == [2, 4]
    assert r.lpos("l", "c", rank=-1) == 4
    assert r.ltrim("l", 1, -2) is True
    assert r.lrange("l", 0, -1) == ["X", "c", "a"]


def test_move(r):
    r.rpush("src", "1", "2", "3")
    assert r.rpoplpush("src", "dst") == "3"
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == "1"
    assert r.lrange("dst", 0, -1) == ["3", "1"]
    assert r.lmpop(2, "nokey", "dst", direction="LEFT") == ["dst", ["3"]]
    assert r.lmpop(1, "nokey", direction="LEFT") is None


def test_wrong_type(r):
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.lpush("s", "a")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.lrange("s", 0, -1)
