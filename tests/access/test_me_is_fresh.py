"""A request's idea of its caller is re-read, never written back: a role changed while the
request was on its way counts, and is not undone by the copy made when it signed in."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from archive.models import Role, User
from tests.access.conftest import World


def test_a_demotion_during_a_web_request_is_not_undone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from access.web import core

    with world.arc.sessions() as session:  # the copy Flask-Login hands the view
        stale = session.scalars(select(User).where(User.username == "sun")).one()
        session.expunge(stale)
    with world.arc.transaction() as session:  # demoted in the meantime
        session.execute(update(User).where(User.id == stale.id).values(role=Role.SPECIALIST))
    monkeypatch.setattr(core, "current_user", SimpleNamespace(user=stale))
    with world.app.test_request_context("/"), world.arc.transaction() as db:
        assert core.me(db).role == Role.SPECIALIST  # decided on the row as it is
    with world.arc.sessions() as session:
        assert session.get_one(User, stale.id).role == Role.SPECIALIST  # and not written back


def test_a_demotion_during_an_api_request_is_not_undone(world: World) -> None:
    from flask import g

    from access.api.common import me

    with world.arc.sessions() as session:
        stale = session.scalars(select(User).where(User.username == "sun")).one()
        session.expunge(stale)
    with world.arc.transaction() as session:
        session.execute(update(User).where(User.id == stale.id).values(role=Role.SPECIALIST))
    with world.app.test_request_context("/api/v1/records"), world.arc.transaction() as db:
        g.user = stale
        assert me(db).role == Role.SPECIALIST
    with world.arc.sessions() as session:
        assert session.get_one(User, stale.id).role == Role.SPECIALIST
