"""Transactions through redis-py: MULTI/EXEC pipelines, WATCH with WatchError,
r.transaction(), and the error cases. Checked against redis-server 7.0.15."""

import pytest
import redis

from conftest import PORT


def other():
    return redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=10, decode_responses=True)


def test_pipeline_transaction(r):
    p = r.pipeline(transaction=True)
    p.set("a", "1").incr("a").incrby("a", 10).get("a")
    assert p.execute() == [True, 2, 12, "12"]
    assert r.get("a") == "12"


def test_runtime_error_in_place_no_rollback(r):
    p = r.pipeline(transaction=True)
    p.set("a", "1").lpush("a", "x").incr("a")
    res = p.execute(raise_on_error=False)
    assert res[0] is True
    assert isinstance(res[1], redis.ResponseError)
    assert str(res[1]).startswith("WRONGTYPE")
    assert res[2] == 2
    p = r.pipeline(transaction=True)
    p.lpush("a", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        p.execute()


def test_queue_error_aborts(r):
    p = r.pipeline(transaction=True)
    p.set("b", "1")
    p.execute_command("NOSUCHCOMMAND", "x")
    with pytest.raises(redis.ResponseError) as e:
        p.execute()
    assert "unknown command" in str(e.value) or "EXECABORT" in str(e.value)
    assert r.exists("b") == 0


def test_watch_error_when_other_client_writes(r):
    r.set("k", "1")
    with r.pipeline() as p:
        p.watch("k")
        assert p.get("k") == "1"
        other().set("k", "2")
        p.multi()
        p.set("k", "3")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("k") == "2"


def test_watch_succeeds_without_changes(r):
    r.set("k", "1")
    with r.pipeline() as p:
        p.watch("k")
        v = int(p.get("k"))
        p.multi()
        p.set("k", v + 1)
        assert p.execute() == [True]
    assert r.get("k") == "2"


def test_transaction_helper_retries(r):
    r.set("n", "0")
    calls = []

    def incr(pipe):
        v = int(pipe.get("n"))
        if not calls:
            # The first attempt is invalidated by another client.
            other().set("n", "100")
        calls.append(v)
        pipe.multi()
        pipe.set("n", v + 1)

    assert r.transaction(incr, "n") == [True]
    assert calls == [0, 100]
    assert r.get("n") == "101"


def test_unwatch_and_expiry(r):
    r.set("k", "1")
    with r.pipeline() as p:
        p.watch("k")
        other().set("k", "2")
        p.unwatch()
        p.multi()
        p.get("k")
        assert p.execute() == ["2"]
    r.set("e", "v", px=200)
    with r.pipeline() as p:
        p.watch("e")
        p.multi()
        p.get("e")
        # Redis 7.0 fails EXEC when a watched key expired since WATCH.
        import time
        time.sleep(0.3)
        with pytest.raises(redis.WatchError):
            p.execute()


def test_errors_outside_multi(r):
    with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
        r.execute_command("EXEC")
    with pytest.raises(redis.ResponseError, match="DISCARD without MULTI"):
        r.execute_command("DISCARD")


def test_resp3_transaction(r3):
    p = r3.pipeline(transaction=True)
    p.hset("h", "f", "v").hgetall("h")
    assert p.execute() == [1, {"f": "v"}]
