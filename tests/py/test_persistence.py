"""Persistence commands through redis-py: enabled with the persistence issue."""


def test_lastsave(r):
    assert r.lastsave().year >= 1970
