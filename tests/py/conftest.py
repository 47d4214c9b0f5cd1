"""Fixtures for the redis-py tests.

The server under test listens on 127.0.0.1:$RILL_PORT (tests/it/clients.rs starts Rill and
sets it). Point RILL_PORT at a real redis-server 7.0 to check a test against the oracle:

    redis-server --port 6390 --save '' &
    RILL_PORT=6390 python3 -m pytest -q tests/py
"""

import os

import pytest
import redis

PORT = int(os.environ.get("RILL_PORT", "6379"))


def _client(**kw):
    c = redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=10, **kw)
    c.flushall()
    return c


@pytest.fixture
def r():
    """RESP2, str replies."""
    c = _client(decode_responses=True)
    yield c
    c.close()


@pytest.fixture
def rb():
    """RESP2, bytes replies."""
    c = _client()
    yield c
    c.close()


@pytest.fixture
def r3():
    """RESP3 (HELLO 3 on connect), str replies."""
    c = _client(decode_responses=True, protocol=3)
    yield c
    c.close()
