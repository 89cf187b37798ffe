"""Authentication reads; it does not write on every request. A token's last use is written
at most once a minute, after the response, so readers never queue behind writers for it."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta

from sqlalchemy import select, update

from archive.models import ApiToken, User
from tests.access.conftest import World


def last_use(world: World, username: str) -> object:
    with world.arc.sessions() as session:
        return session.scalar(
            select(ApiToken.last_used_at).join(User).where(User.username == username)
        )


def grants(world: World) -> int:
    """One request, closed as a WSGI server closes it (the last use is written then)."""
    response = world.call("GET", "zhang", "/api/v1/grants")
    response.close()
    return response.status_code


def test_a_tokens_use_is_written_once_a_minute(world: World) -> None:
    assert grants(world) == 200
    first = last_use(world, "zhang")
    assert first is not None
    for _ in range(3):
        assert grants(world) == 200
    assert last_use(world, "zhang") == first  # no write for each request
    with world.arc.transaction() as session:
        session.execute(update(ApiToken).values(last_used_at=first - timedelta(minutes=2)))  # type: ignore[operator]
    grants(world)
    assert last_use(world, "zhang") > first  # type: ignore[operator]


def test_an_api_read_does_not_wait_for_a_writer(world: World) -> None:
    """Another process holds SQLite's write lock: a read with a token still answers at once
    (before, authentication took the write lock and waited up to 30 s, then failed)."""
    grants(world)  # its use is fresh now: nothing to write
    database = world.arc.settings.database_url.removeprefix("sqlite:///")
    writer = sqlite3.connect(database, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = world.call("GET", "zhang", "/api/v1/grants")
        elapsed = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert response.status_code == 200
    assert elapsed < 5, f"the read waited {elapsed:.1f} s for the writer"
