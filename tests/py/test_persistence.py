"""Persistence commands through redis-py (checked against redis-server 7.0.15 first)."""
import time


def test_lastsave(r):
    assert r.lastsave().year >= 1970


def test_save_moves_lastsave_and_clears_changes(r):
    r.set("k", "v")
    assert r.info("persistence")["rdb_changes_since_last_save"] >= 1
    assert r.save() is True
    assert r.info("persistence")["rdb_changes_since_last_save"] == 0
    assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"


def test_bgsave_completes(r):
    r.set("k", "v")
    r.bgsave()
    deadline = time.time() + 10
    while r.info("persistence")["rdb_bgsave_in_progress"] and time.time() < deadline:
        time.sleep(0.05)
    info = r.info("persistence")
    assert info["rdb_bgsave_in_progress"] == 0
    assert info["rdb_last_bgsave_status"] == "ok"


def test_dump_restore_round_trip(r):
    r.delete("src", "dst")
    r.rpush("src", "a", "b", "c")
    payload = r.dump("src")
    r.restore("dst", 0, payload)
    assert r.lrange("dst", 0, -1) == ["a", "b", "c"]
