"""INFO, CLIENT and other server commands through redis-py."""

import pytest
import redis


def test_info(r):
    r.set("a", "1")
    r.set("b", "2")
    r.expire("b", 100)
    info = r.info()
    assert info["redis_version"] == "7.0.15"
    assert info["redis_mode"] == "standalone"
    assert info["role"] == "master"
    assert isinstance(info["tcp_port"], int)
    assert info["connected_clients"] >= 1
    assert isinstance(info["used_memory"], int)
    assert info["db0"] == {"keys": 2, "expires": 1, "avg_ttl": info["db0"]["avg_ttl"]}
    assert r.info("keyspace")["db0"]["keys"] == 2
    server = r.info("server")
    assert "redis_version" in server and "used_memory" not in server
    stats = r.info("stats")
    assert stats["total_commands_processed"] > 0
    assert "cmdstat_set" in r.info("commandstats")
    assert r.info("everything")["redis_version"] == "7.0.15"


def test_client_commands(r):
    assert r.client_getname() is None
    assert r.client_setname("py-test") is True
    assert r.client_getname() == "py-test"
    cid = r.client_id()
    assert isinstance(cid, int)
    me = r.client_info()
    assert me["id"] == cid
    assert me["name"] == "py-test"
    assert me["db"] == 0
    clients = r.client_list()
    mine = [c for c in clients if int(c["id"]) == cid]
    assert len(mine) == 1
    c = mine[0]
    for field in ("addr", "laddr", "fd", "age", "idle", "flags", "db", "cmd", "resp"):
        assert field in c, field
    assert c["name"] == "py-test"
    assert c["cmd"] == "client|list"
    assert r.client_list(_type="normal")
    with pytest.raises(redis.ResponseError):
        r.client_setname("has space")


def test_client_kill(r):
    other = redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                        port=r.connection_pool.connection_kwargs["port"], decode_responses=True)
    other_id = other.client_id()
    assert r.client_kill_filter(_id=other_id) == 1
    assert other_id not in [int(c["id"]) for c in r.client_list()]
    other.close()


def test_time_dbsize(r):
    secs, usecs = r.time()
    assert secs > 1_600_000_000 and 0 <= usecs < 1_000_000
    assert r.dbsize() == 0
    r.set("k", "v")
    assert r.dbsize() == 1
