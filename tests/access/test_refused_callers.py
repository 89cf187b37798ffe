"""A read refused before anyone is signed in is still in the access log: a spent token names
its owner; a caller nobody can name is logged as anonymous, a bounded number of times per
address, so nobody can grow the hash-chained log at will."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from access import refused_callers
from archive.audit import Actor
from archive.db import utcnow
from archive.models import AccessEvent, ApiToken, User
from archive.people import find_user, set_active
from tests.access.conftest import World


@pytest.fixture(autouse=True)
def fresh_counts() -> Iterator[None]:
    refused_callers._seen.clear()
    yield
    refused_callers._seen.clear()


def lines(world: World) -> list[AccessEvent]:
    with world.arc.sessions() as session:
        return list(session.scalars(select(AccessEvent).order_by(AccessEvent.seq)))


def read(world: World, headers: dict[str, str], action: str = "view") -> int:
    path = f"/api/v1/versions/{world.versions['CG-internal']}/content?action={action}"
    return world.app.test_client().get(path, headers=headers).status_code


def test_spent_tokens_name_their_owner_in_the_log(world: World) -> None:
    zhang = world.headers("zhang")
    with world.arc.transaction() as session:
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert read(world, zhang, "download") == 401
    with world.arc.transaction() as session:
        session.execute(update(ApiToken).values(revoked_at=utcnow()))
    assert read(world, zhang) == 401
    with world.arc.transaction() as session:
        set_active(session, Actor.cli(), find_user(session, "zhang"), False)
    assert read(world, zhang) == 401
    logged = [(e.username, e.action, e.outcome, e.reason) for e in lines(world)]
    assert logged == [
        ("zhang", "download", "refused", "the API token has expired"),
        ("zhang", "view", "refused", "the API token was revoked"),
        ("zhang", "view", "refused", "the account is disabled"),
    ]
    first = lines(world)[0]
    assert first.ip == "127.0.0.1"
    assert first.version_id == str(world.versions["CG-internal"])
    assert first.record_id == str(world.records["CG-internal"])  # named like any other line
    with world.arc.sessions() as session:
        assert first.user_id == session.scalar(select(User.id).where(User.username == "zhang"))


def test_an_unnamed_caller_is_logged_a_bounded_number_of_times(world: World) -> None:
    made_up = {"Authorization": "Bearer arc_" + "x" * 43}
    attempts = refused_callers.ANONYMOUS_LINES + 5
    for n in range(attempts):
        assert read(world, made_up if n % 2 else {}) == 401
    logged = lines(world)
    assert len(logged) == refused_callers.ANONYMOUS_LINES
    assert {(e.username, e.user_id, e.reason) for e in logged} == {
        ("anonymous", None, "no valid API token")
    }
    # Pages other than content hand nothing out: their 401 is not a refused read.
    assert world.app.test_client().get("/api/v1/grants").status_code == 401
    assert len(lines(world)) == refused_callers.ANONYMOUS_LINES


def test_an_ended_token_replayed_is_bounded_too(world: World) -> None:
    zhang = world.headers("zhang")
    with world.arc.transaction() as session:
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    for _ in range(refused_callers.ANONYMOUS_LINES + 5):
        assert read(world, zhang) == 401
    logged = lines(world)
    assert len(logged) == refused_callers.ANONYMOUS_LINES
    assert {e.username for e in logged} == {"zhang"}


def test_the_bound_is_per_address_and_per_window() -> None:
    allowed = refused_callers._line_allowed
    start = 1_000.0
    for _ in range(refused_callers.ANONYMOUS_LINES):
        assert allowed("192.0.2.1", start)
    assert not allowed("192.0.2.1", start + 1)
    assert allowed("192.0.2.2", start + 1)  # another address has its own count
    assert allowed("192.0.2.1", start + refused_callers.ANONYMOUS_WINDOW)  # a new window
