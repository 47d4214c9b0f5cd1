"""Generic key commands, expiry and SCAN through redis-py."""

import datetime
import time

import pytest
import redis


def test_type_exists_delete(r):
    r.set("str", "v")
    r.rpush("list", "a")
    r.sadd("set", "a")
    r.hset("hash", "f", "v")
    r.zadd("zset", {"a": 1})
    assert [r.type(k) for k in ("str", "list", "set", "hash", "zset", "none")] == [
        "string", "list", "set", "hash", "zset", "none",
    ]
    assert r.exists("str", "list", "none") == 2
    assert r.dbsize() == 5
    assert sorted(r.keys("*")) == ["hash", "list", "set", "str", "zset"]
    assert sorted(r.keys("s*")) == ["set", "str"]
    assert r.delete("str", "list", "none") == 2
    assert r.unlink("set", "hash") == 2
    assert r.dbsize() == 1


def test_expire_ttl_persist(r):
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.ttl("missing") == -2
    assert r.pttl("missing") == -2
    assert r.expire("k", 100) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 500, gt=True) is True
    assert r.pexpire("k", 100000) is True
    assert 99000 <= r.pttl("k") <= 100000
    assert r.persist("k") is True
    assert r.persist("k") is False
    assert r.ttl("k") == -1
    assert r.expire("missing", 10) is False
    when = datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)
    assert r.expireat("k", when) is True
    assert r.expiretime("k") == 4102444800
    assert r.pexpiretime("k") == 4102444800000
    # A time in the past deletes the key at once.
    assert r.expireat("k", 1) is True
    assert r.exists("k") == 0
    r.set("k2", "v", px=1)
    # A 1 ms TTL: poll until it is gone, with a deadline.
    deadline = time.monotonic() + 5
    while r.get("k2") is not None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert r.get("k2") is None
    assert r.exists("k2") == 0


def test_rename_copy_move(r):
    r.set("a", "1")
    assert r.rename("a", "b") is True
    assert r.get("b") == "1"
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        r.rename("missing", "x")
    r.set("c", "3")
    assert r.renamenx("b", "c") is False
    assert r.copy("b", "d") is True
    assert r.copy("b", "d") is False
    assert r.copy("b", "d", replace=True) is True
    assert r.move("d", 1) is True
    assert r.exists("d") == 0
    r.execute_command("SELECT", 1)
    assert r.get("d") == "1"
    r.delete("d")
    r.execute_command("SELECT", 0)


def test_scan_iter(r):
    names = {f"scan:{i}" for i in range(300)}
    p = r.pipeline(transaction=False)
    for n in names:
        p.set(n, "x")
    p.rpush("scan:list", "a")
    p.execute()
    assert set(r.scan_iter()) == names | {"scan:list"}
    assert set(r.scan_iter(match="scan:1*", count=7)) == {n for n in names if n.startswith("scan:1")}
    assert set(r.scan_iter(_type="list")) == {"scan:list"}
    cursor, keys = r.scan(0, count=10)
    assert isinstance(cursor, int)
    assert len(keys) <= 30  # COUNT is a hint, but not wildly off


def test_randomkey_flushdb(r):
    assert r.randomkey() is None
    r.set("only", "v")
    assert r.randomkey() == "only"
    assert r.flushdb() is True
    assert r.dbsize() == 0


def test_object_encoding(r):
    r.set("int", "123")
    r.set("emb", "hello")
    assert r.object("encoding", "int") == "int"
    assert r.object("encoding", "emb") == "embstr"
    r.sadd("iset", 1, 2, 3)
    assert r.object("encoding", "iset") == "intset"
    r.rpush("l", "a")
    # Redis 7.0 keeps even small lists in a quicklist (listpack lists came in 7.2).
    assert r.object("encoding", "l") == "quicklist"
