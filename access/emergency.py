"""The green channel (MISSION rule 5): a department head or director opens access at once,
flagged, and a director approves it afterwards within ``ARCHIVE_EMERGENCY_APPROVAL_HOURS``;
refused afterwards, the grant ends. It keeps standing access's ceilings."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.asking import required_text
from access.policy import Permission, may, may_open_emergency
from access.requests import AccessError, known_record, still_held
from archive.audit import Actor, record_event
from archive.config import AccessSettings
from archive.db import utcnow
from archive.errors import InvalidInput
from archive.models import AccessRequest, Approver, Grant, Role, Scope, User


def emergency(
    session: Session,
    settings: AccessSettings,
    user: User,
    actor: Actor,
    record_id: uuid.UUID,
    justification: str,
    scope: str = "view",
    hours: int | None = None,
) -> Grant:
    """The green channel: a head opens access at once, flagged, approval owed afterwards."""
    if not may(user.role, Permission.DECIDE_REQUESTS):
        raise AccessError(
            "only supervisors and directors may open emergency access", code="emergency_role"
        )
    record = still_held(known_record(session, user, record_id))
    if not may_open_emergency(user, record):
        raise AccessError(
            "the green channel opens nothing above your clearance",
            code="emergency_clearance",
            field="record",
        )
    try:
        wanted = Scope(scope)
    except ValueError:
        raise InvalidInput(
            "scope must be view, download or print", code="scope", field="scope"
        ) from None
    if wanted == Scope.EXTERNAL:
        raise InvalidInput(
            "external use is never opened by the green channel",
            code="emergency_external",
            field="scope",
        )
    if hours is None:
        hours = settings.emergency_max_hours
    if not 1 <= hours <= settings.emergency_max_hours:
        raise InvalidInput(
            f"hours must be between 1 and {settings.emergency_max_hours}",
            code="hours_range",
            field="hours",
            params={"n": settings.emergency_max_hours},
        )
    why = required_text(justification, "written justification", "justification")
    now = utcnow()
    request = AccessRequest(
        requester_id=user.id,
        record_id=record.id,
        purpose=why,
        scope=wanted,
        days=1,
        approver=Approver.DIRECTOR,
        due_at=now + timedelta(hours=settings.emergency_approval_hours),
        emergency=True,
    )
    session.add(request)
    session.flush()
    grant = Grant(
        user_id=user.id,
        record_id=record.id,
        scope=wanted,
        valid_from=now,
        valid_until=now + timedelta(hours=hours),
        request_id=request.id,
        emergency=True,
        justification=why,
    )
    session.add(grant)
    session.flush()
    record_event(
        session,
        actor,
        "access.emergency",
        "grant",
        grant.id,
        {"record": str(record.id), "scope": wanted.value, "hours": hours, "why": why},
    )
    return grant


def emergency_approvers(session: Session, user: User) -> list[User]:
    """Who could approve a green-channel opening by ``user`` afterwards: any other active
    director (nobody decides their own); empty means nobody could, which the form says."""
    rows = session.scalars(
        select(User)
        .where(User.role == Role.DIRECTOR, User.active.is_(True), User.id != user.id)
        .order_by(User.username)
    )
    return list(rows)
