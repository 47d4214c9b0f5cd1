"""Blocking commands through redis-py: enabled with the blocking-commands issue."""


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
