"""Rows changed by someone who can write the database, with no event on the trail: a person
made a director, a hold marked released. ``archive audit verify`` names each, and a hold
released by hand still holds."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from access.cli import main
from archive.audit import Actor
from archive.db import utcnow
from archive.models import Hold, HoldScope, Role, User
from archive.reconcile import people_not_as_vouched
from retention.errors import Held
from retention.holds import ensure_free, place_hold, release_hold, releases_not_on_trail
from tests.access.conftest import World


def _verify(world: World) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["audit", "verify"], env={"ARCHIVE_HOME": str(world.arc.settings.home)}
    )
    return result.exit_code, result.output


def test_rows_changed_behind_the_trail_are_named_and_a_hand_release_still_holds(
    world: World,
) -> None:
    code, said = _verify(world)
    assert code == 0, said
    assert "people and holds are as the audit trail set them" in said
    record = world.records["CG-internal"]
    with world.arc.transaction() as session:
        hold, _ = place_hold(
            session, Actor.cli(), name="诉讼", reason="(2026)沪01民初1号",
            scope=HoldScope.RECORDS, record_ids=[record],
        )  # fmt: skip
        hold_id = hold.id
        # A properly released hold stays released; the other is "released" by hand.
        other, _ = place_hold(
            session, Actor.cli(), name="稽查", reason="2026 稽查",
            scope=HoldScope.RECORDS, record_ids=[world.records["XS-public"]],
        )  # fmt: skip
        release_hold(session, Actor.cli(), other.id, "稽查结束")
    with world.arc.transaction() as session:  # what a database writer does, with no event
        session.execute(
            update(Hold)
            .where(Hold.id == hold_id)
            .values(released_at=utcnow(), released_by="x", release_reason="x")
        )
        session.execute(update(User).where(User.username == "zhang").values(role=Role.DIRECTOR))

    with world.arc.transaction() as session:
        with pytest.raises(Held) as refused:  # released only in the database: still holds
            ensure_free(session, record, "destroy")
        assert refused.value.holds == [{"id": hold_id, "name": "诉讼"}]
        ensure_free(session, world.records["XS-public"], "destroy")  # released on the trail
        assert people_not_as_vouched(session) == [
            "user zhang: role is 'director' in the database, but the audit trail last set it "
            "to 'specialist'"
        ]
        assert len(releases_not_on_trail(session)) == 1
    code, said = _verify(world)
    assert code == 1
    assert "NOT AS AUDITED user zhang: role is 'director'" in said
    assert f"NOT AS AUDITED hold #{hold_id} 诉讼: released in the database" in said
