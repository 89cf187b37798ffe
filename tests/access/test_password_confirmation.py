"""A password typed again to confirm an irreversible action is recorded as that, not as a
sign-in, and the changes page says so in words; a wrong one still counts as a failure."""

from __future__ import annotations

from sqlalchemy import select

from archive.models import AuditEvent, LoginAttempt
from tests.access.conftest import World
from tests.access.test_web_pages import PASSWORD, Browser

PROMOTION = {"username_existing": "li", "role": "supervisor", "department": "XS"}


def _actions(world: World, actor: str) -> list[str]:
    with world.arc.sessions() as db:
        return list(
            db.scalars(
                select(AuditEvent.action).where(AuditEvent.actor == actor).order_by(AuditEvent.seq)
            )
        )


def test_a_confirmation_is_not_a_sign_in(world: World) -> None:
    wu = Browser(world, "wu")
    signed_in = _actions(world, "wu")
    assert signed_in.count("login") == 1
    wu.post("/admin/users", {**PROMOTION, "confirm_password": PASSWORD})
    after = _actions(world, "wu")[len(signed_in) :]
    assert "password.confirmed" in after
    assert "login" not in after
    wu.post("/admin/users", {**PROMOTION, "confirm_password": "wrong"}, status=403)
    with world.arc.sessions() as db:
        failed = db.scalars(select(AuditEvent.action).where(AuditEvent.actor == "wu")).all()
        assert "password.confirm_failed" in failed
        assert "login.failed" not in failed
        assert db.scalar(select(LoginAttempt).where(LoginAttempt.ok.is_(False))) is not None
    changes = Browser(world, "zhou").text("/admin/changes")
    assert "再次输入密码确认操作" in changes
    assert "确认操作的密码错误" in changes
