"""CONFIG GET/SET through redis-py."""

import pytest
import redis


def test_config_get(r):
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    got = r.config_get("maxmemory*")
    assert {"maxmemory", "maxmemory-policy", "maxmemory-samples"} <= set(got)
    assert r.config_get("databases") == {"databases": "16"}
    assert r.config_get("nosuchparameter") == {}


def test_config_set(r):
    assert r.config_set("maxmemory", "100mb") is True
    assert r.config_get("maxmemory") == {"maxmemory": "104857600"}
    assert r.config_set("maxmemory", 0) is True
    assert r.config_set("maxmemory-policy", "allkeys-lru") is True
    assert r.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
    r.config_set("maxmemory-policy", "noeviction")
    with pytest.raises(redis.ResponseError, match="Unknown option or number of arguments for CONFIG SET"):
        r.config_set("nosuchparameter", "1")
    with pytest.raises(redis.ResponseError, match="argument must be a memory value"):
        r.config_set("maxmemory", "abc")


def test_config_resp3(r3):
    assert r3.config_get("maxmemory") == {"maxmemory": "0"}
