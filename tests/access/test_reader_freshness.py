"""The reader decides on the caller as the database has them when the read is logged, not
on the copy made at sign-in a moment earlier, and never writes that copy back."""

from __future__ import annotations

from sqlalchemy import select, update

from access.http import read_content_for
from access.reader import Refused
from archive.models import AccessEvent, Role, User
from tests.access.conftest import World


def test_a_role_changed_since_sign_in_counts_and_is_not_undone(world: World) -> None:
    version_id = world.versions["CG-internal"]
    with world.arc.sessions() as session:  # what token or cookie sign-in handed the view
        signed_in = session.scalars(select(User).where(User.username == "wang")).one()
        session.expunge(signed_in)
    with world.arc.transaction() as session:  # the head of CG is demoted meanwhile
        session.execute(update(User).where(User.id == signed_in.id).values(role=Role.SPECIALIST))
    path = f"/api/v1/versions/{version_id}/content?action=download"
    with world.app.test_request_context(path):
        outcome = read_content_for(signed_in, version_id)
    assert isinstance(outcome, Refused)  # a specialist has no standing access
    assert outcome.status == 403
    with world.arc.sessions() as session:
        assert session.get_one(User, signed_in.id).role == Role.SPECIALIST
        line = session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
    assert line is not None
    assert (line.username, line.outcome) == ("wang", "refused")
