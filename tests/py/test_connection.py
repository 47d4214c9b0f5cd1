"""Connection handling, pipelining and RESP3 through redis-py."""

import threading

import pytest
import redis

from conftest import PORT


def test_ping_echo(r):
    assert r.ping() is True
    assert r.echo("hello world") == "hello world"
    assert r.execute_command("ECHO", "") == ""


def test_set_get_delete_exists(r):
    assert r.set("conn:k", "v") is True
    assert r.get("conn:k") == "v"
    assert r.get("conn:missing") is None
    r.set("conn:k2", "v2")
    assert r.exists("conn:k", "conn:k2", "conn:missing", "conn:k") == 3
    assert r.delete("conn:k", "conn:missing") == 1
    assert r.exists("conn:k") == 0


def test_binary_and_large_values(rb):
    payload = bytes(range(256)) * 4096  # 1 MiB, every byte value
    rb.set(b"conn:\x00bin\xff", payload)
    assert rb.get(b"conn:\x00bin\xff") == payload
    assert rb.get("conn:missing") is None
    rb.set("conn:empty", b"")
    assert rb.get("conn:empty") == b""


def test_pipeline_keeps_order(r):
    p = r.pipeline(transaction=False)
    for i in range(500):
        p.set(f"conn:p{i}", i)
    for i in range(500):
        p.get(f"conn:p{i}")
    res = p.execute()
    assert res[:500] == [True] * 500
    assert res[500:] == [str(i) for i in range(500)]


def test_pipeline_errors_are_returned_in_place(r):
    p = r.pipeline(transaction=False)
    p.set("conn:a", "1")
    p.execute_command("NOSUCHCOMMAND", "x")
    p.get("conn:a")
    res = p.execute(raise_on_error=False)
    assert res[0] is True
    assert isinstance(res[1], redis.ResponseError)
    assert str(res[1]).startswith("unknown command 'NOSUCHCOMMAND'")
    assert res[2] == "1"


def test_errors_raise_response_error(r):
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'get' command"):
        r.execute_command("GET")
    with pytest.raises(redis.ResponseError, match="unknown command"):
        r.execute_command("NOSUCHCOMMAND")
    # The connection is still usable.
    assert r.ping()


def test_select_databases(r):
    r.set("conn:db", "zero")
    r1 = redis.Redis(host="127.0.0.1", port=PORT, db=1, decode_responses=True)
    assert r1.get("conn:db") is None
    r1.set("conn:db", "one")
    assert r.get("conn:db") == "zero"
    assert r1.get("conn:db") == "one"
    assert r1.dbsize() == 1
    r1.delete("conn:db")
    r1.close()
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.execute_command("SELECT", 9999)


def test_resp3(r3):
    assert r3.connection_pool.connection_kwargs["protocol"] == 3
    assert r3.ping() is True
    r3.set("conn:r3", "v")
    assert r3.get("conn:r3") == "v"
    assert r3.get("conn:missing") is None
    assert r3.exists("conn:r3") == 1
    hello = r3.execute_command("HELLO", 3)
    assert hello["proto"] == 3
    assert hello["server"] == "redis"
    assert hello["version"] == "7.0.15"
    assert hello["mode"] == "standalone"
    assert hello["role"] == "master"
    p = r3.pipeline(transaction=False)
    p.set("conn:r3b", 1).get("conn:r3b").get("conn:missing")
    assert p.execute() == [True, "1", None]


def test_hello_2_reply(r):
    flat = r.execute_command("HELLO", 2)
    assert isinstance(flat, list) and len(flat) == 14
    hello = dict(zip(flat[::2], flat[1::2]))
    assert hello["proto"] == 2
    assert hello["version"] == "7.0.15"
    assert isinstance(hello["id"], int)


def test_many_clients_in_parallel():
    errors = []

    def worker(n):
        try:
            c = redis.Redis(host="127.0.0.1", port=PORT, decode_responses=True)
            for i in range(100):
                c.set(f"conn:t{n}:{i}", i)
            for i in range(100):
                assert c.get(f"conn:t{n}:{i}") == str(i)
            c.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert all(not t.is_alive() for t in threads)


def test_connection_pool_reuse(r):
    for i in range(50):
        r.set("conn:pool", i)
    assert r.get("conn:pool") == "49"
    pool = r.connection_pool
    assert len(pool._available_connections) + len(pool._in_use_connections) == 1
