"""String commands as redis-py uses them."""

import pytest
import redis


def test_set_options(r):
    assert r.set("s", "v", nx=True) is True
    assert r.set("s", "v", nx=True) is None
    assert r.set("s", "v2", xx=True) is True
    assert r.set("missing", "v", xx=True) is None
    assert r.set("s", "v3", get=True) == "v2"
    assert r.set("s", "v", ex=100) is True
    assert 99 <= r.ttl("s") <= 100
    assert r.set("s", "v", px=100000) is True
    assert 99000 <= r.pttl("s") <= 100000
    assert r.set("s", "w", keepttl=True) is True
    assert r.ttl("s") > 0
    r.set("s", "x")
    assert r.ttl("s") == -1
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.set("s", "v", ex=0)


def test_getset_getdel_getex(r):
    assert r.getset("g", "1") is None
    assert r.getset("g", "2") == "1"
    assert r.getdel("g") == "2"
    assert r.getdel("g") is None
    r.set("g", "v")
    assert r.getex("g", ex=100) == "v"
    assert r.ttl("g") > 90
    assert r.getex("g", persist=True) == "v"
    assert r.ttl("g") == -1


def test_mset_mget_msetnx(r):
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "missing") == ["1", "2", None]
    assert r.msetnx({"a": "x", "c": "3"}) is False
    assert r.get("c") is None
    assert r.msetnx({"c": "3", "d": "4"}) is True
    assert r.mget(["c", "d"]) == ["3", "4"]


def test_counters(r):
    assert r.incr("n") == 1
    assert r.incr("n", 10) == 11
    assert r.decr("n") == 10
    assert r.decr("n", 5) == 5
    assert r.incrby("n", -10) == -5
    r.set("n", "9223372036854775807")
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.incr("n")
    r.set("n", "abc")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("n")


def test_incrbyfloat(r):
    assert r.incrbyfloat("f", 10.5) == 10.5
    assert r.incrbyfloat("f", 0.1) == pytest.approx(10.6)
    assert r.get("f") == "10.6"
    r.set("f", "5.0e3")
    assert r.incrbyfloat("f", 200) == 5200.0
    assert r.get("f") == "5200"
    r.set("f", "0.1")
    r.incrbyfloat("f", 0.2)
    assert r.get("f") == "0.3"
    with pytest.raises(redis.ResponseError, match="value is not a valid float"):
        r.incrbyfloat("f", "abc")


def test_append_strlen_ranges(r):
    assert r.append("ap", "hello") == 5
    assert r.append("ap", " world") == 11
    assert r.strlen("ap") == 11
    assert r.strlen("missing") == 0
    assert r.getrange("ap", 0, 4) == "hello"
    assert r.getrange("ap", -5, -1) == "world"
    assert r.getrange("ap", 100, 200) == ""
    assert r.setrange("ap", 6, "WORLD") == 11
    assert r.get("ap") == "hello WORLD"
    assert r.setrange("pad", 3, "x") == 4
    assert r.get("pad") == "\x00\x00\x00x"


def test_bits(rb):
    assert rb.setbit("b", 7, 1) == 0
    assert rb.setbit("b", 7, 1) == 1
    assert rb.getbit("b", 7) == 1
    assert rb.getbit("b", 100) == 0
    assert rb.get("b") == b"\x01"
    rb.set("bc", "foobar")
    assert rb.bitcount("bc") == 26
    assert rb.bitcount("bc", 1, 1) == 6
    assert rb.bitcount("bc", 5, 30, "BIT") == 17
    rb.set("bp", b"\xff\xf0\x00")
    assert rb.bitpos("bp", 0) == 12
    assert rb.bitpos("bp", 1, 2) == -1
    rb.set("x", b"\x0f\xf0")
    rb.set("y", b"\xff")
    assert rb.bitop("AND", "dest", "x", "y") == 2
    assert rb.get("dest") == b"\x0f\x00"
    assert rb.bitop("NOT", "dest", "x") == 2
    assert rb.get("dest") == b"\xf0\x0f"


def test_bitfield(r):
    bf = r.bitfield("bf")
    res = bf.set("u8", 0, 255).get("u8", 0).incrby("u8", 0, 10).execute()
    assert res == [0, 255, 9]
    res = r.bitfield("bf").overflow("SAT").incrby("u8", 0, 300).execute()
    assert res == [255]
    res = r.bitfield("bf").overflow("FAIL").incrby("u8", 0, 1).execute()
    assert res == [None]
    assert r.bitfield_ro("bf", "u8", 0) == [255]


def test_lcs(r):
    r.mset({"s1": "ohmytext", "s2": "mynewtext"})
    assert r.lcs("s1", "s2") == "mytext"
    assert r.lcs("s1", "s2", len=True) == 6
    flat = r.lcs("s1", "s2", idx=True, minmatchlen=4, withmatchlen=True)
    res = dict(zip(flat[::2], flat[1::2]))
    assert res["len"] == 6
    assert res["matches"] == [[[4, 7], [5, 8], 4]]


def test_wrong_type(r):
    r.rpush("list", "a")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE Operation against a key holding the wrong kind of value$"):
        r.get("list")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.append("list", "x")
