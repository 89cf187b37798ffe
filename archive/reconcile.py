"""The state the audit trail vouches for, set against the rows: who each person is.

The chains prove the trail was not edited; they say nothing of a ``users`` row changed by
someone who can write the database (a specialist made a director, say), since such a change
writes no event. Each person's role, department, clearance and whether they may sign in are
replayed here from the trail's own events (``user.created``, ``user.*_changed``,
``user.activated``/``deactivated``), each authentic by its HMAC (or written before the chain
was keyed, up to its anchor), and compared with the row. ``archive audit verify`` reports
every difference.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import anchor_of, authentic
from archive.models import AuditEvent, User

#: How each event sets the fields it vouches for.
_CHANGED = {
    "user.role_changed": "role",
    "user.department_changed": "department",
    "user.clearance_changed": "clearance",
}


def vouched_people(session: Session) -> dict[str, dict[str, Any]]:
    """Each person's fields as the trail last set them, by user id (as text)."""
    anchor = anchor_of(session, AuditEvent)[0]
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "user",
            AuditEvent.action.in_(
                ["user.created", "user.activated", "user.deactivated", *_CHANGED]
            ),
        )
        .order_by(AuditEvent.seq)
    )
    people: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.seq > anchor and not authentic(session, event):
            continue  # an inserted row vouches for nothing (the chain check names it)
        details = event.details or {}
        if event.action == "user.created":
            people[event.object_id] = {
                "role": details.get("role"),
                "department": details.get("department"),
                "clearance": details.get("clearance"),
                "active": True,
            }
        elif event.object_id in people:
            person = people[event.object_id]
            if event.action in _CHANGED:
                person[_CHANGED[event.action]] = details.get("to")
            else:
                person["active"] = event.action == "user.activated"
    return people


def people_not_as_vouched(session: Session) -> list[str]:
    """Every person whose row differs from what the trail vouches for, or who has no
    ``user.created`` event at all, one line each."""
    vouched = vouched_people(session)
    problems = []
    for user in session.scalars(select(User).order_by(User.id)):
        trail = vouched.get(str(user.id))
        if trail is None:
            problems.append(f"user {user.username}: no authentic user.created event")
            continue
        now = {
            "role": user.role.value,
            "department": user.department.code if user.department else None,
            "clearance": user.clearance.value,
            "active": user.active,
        }
        for field, value in now.items():
            if trail[field] != value:
                problems.append(
                    f"user {user.username}: {field} is {value!r} in the database, but the "
                    f"audit trail last set it to {trail[field]!r}"
                )
    return problems
