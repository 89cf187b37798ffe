"""Deciding privileged changes (三员分立, see :mod:`archive.privileges`): a security
administrator who neither asked for the change nor is the person it changes approves it,
which applies it as asked if the person is still as they were, or rejects it with a
reason; the requester may withdraw it until then. Every step is audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.db import utcnow
from archive.errors import ErrorKind
from archive.models import PrivilegeChange, PrivilegeKind, PrivilegeStatus, Role, Sensitivity, User
from archive.passwords import one_time_password
from archive.people import create_user, find_department
from archive.privileges import (
    Outcome,
    PrivilegeError,
    apply_changes,
    privileged_standing,
    state_of,
)
from archive.roles import ADMINISTRATORS, SECURITY_ADMINS


def _decidable(session: Session, decider: User, change_id: int) -> PrivilegeChange:
    """The pending change ``decider`` may decide: a security administrator, neither its
    requester nor the person it changes."""
    if decider.role not in SECURITY_ADMINS or not decider.active:
        raise PrivilegeError(
            "not_security_admin",
            "only a security administrator decides privileged changes",
            ErrorKind.FORBIDDEN,
        )
    change = session.get(PrivilegeChange, change_id, with_for_update=True)
    if change is None:
        raise PrivilegeError("unknown", f"no privileged change #{change_id}", ErrorKind.NOT_FOUND)
    if change.status != PrivilegeStatus.PENDING:
        raise PrivilegeError(
            "decided", f"change #{change_id} is {change.status.value} already", ErrorKind.CONFLICT
        )
    if decider.id == change.requested_by_id:
        raise PrivilegeError(
            "own_request", "nobody decides a change they asked for", ErrorKind.FORBIDDEN
        )
    if decider.id == change.target_id or decider.username == change.username:
        raise PrivilegeError(
            "own_account", "nobody decides a change to their own account", ErrorKind.FORBIDDEN
        )
    return change


def _close(
    change: PrivilegeChange, actor: Actor, status: PrivilegeStatus, reason: str | None
) -> None:
    change.status = status
    change.decided_by, change.decided_by_id = actor.name, actor.user_id
    change.decided_at = utcnow()
    change.reason = reason


def _create(session: Session, actor: Actor, change: PrivilegeChange, password: str) -> User:
    wanted = change.changes
    department = wanted.get("department")
    person = create_user(
        session,
        actor,
        change.username,
        Role(wanted["role"]),
        find_department(session, department) if department else None,
        Sensitivity(wanted["clearance"]),
        password,
        str(wanted.get("display_name") or ""),
        temporary=True,
    )
    change.target_id = person.id
    return person


def _change(
    session: Session, actor: Actor, change: PrivilegeChange, password: str
) -> tuple[User, list[str]]:
    """Apply a change to an existing person, if they are as they were when it was asked."""
    person = session.get(User, change.target_id) if change.target_id else None
    if person is None or state_of(person) != change.before:
        raise PrivilegeError(
            "changed_since",
            f"{change.username} has changed since the request: reject it and ask again",
            ErrorKind.CONFLICT,
        )
    wanted = change.changes
    was = privileged_standing(person.role, person.clearance)
    becomes = privileged_standing(
        Role(wanted.get("role", person.role.value)),
        Sensitivity(wanted.get("clearance", person.clearance.value)),
    )
    # A password set while the account held no privilege may be an administrator's: it
    # does not survive the account becoming privileged.
    renew = bool(wanted.get("reset_password")) or (becomes and not was)
    return person, apply_changes(session, actor, person, wanted, password if renew else None)


def approve(session: Session, actor: Actor, approver: User, change_id: int) -> Outcome:
    """Apply a pending change as asked, if the person is still as they were when it was
    asked and its requester is still an administrator. A reset, a new account, or an account
    becoming privileged gets a one-time password (in the outcome, shown once)."""
    change = _decidable(session, approver, change_id)
    requester = session.get(User, change.requested_by_id) if change.requested_by_id else None
    if requester is None or requester.role not in ADMINISTRATORS or not requester.active:
        raise PrivilegeError(
            "requester_gone",
            f"{change.requested_by} is no longer an administrator: reject the change",
            ErrorKind.CONFLICT,
        )
    password = one_time_password()
    if change.kind == PrivilegeKind.CREATE:
        person, applied = _create(session, actor, change, password), ["created", "password"]
    else:
        person, applied = _change(session, actor, change, password)
    _close(change, actor, PrivilegeStatus.APPROVED, None)
    record_event(
        session,
        actor,
        "privilege.approved",
        "privilege_change",
        change.id,
        {
            "username": change.username,
            "kind": change.kind.value,
            "requested_by": change.requested_by,
            "changes": change.changes,
            "before": change.before,
            "after": state_of(person),
            "one_time_password": "password" in applied,
        },
    )
    shown = password if "password" in applied else None
    return Outcome(applied=applied, request=change, user=person, password=shown)


def reject(
    session: Session, actor: Actor, approver: User, change_id: int, reason: str
) -> PrivilegeChange:
    """Refuse a pending change; the reason is kept and shown to the requester."""
    reason = reason.strip()
    if not reason:
        raise PrivilegeError("reason", "a rejection needs a reason")
    change = _decidable(session, approver, change_id)
    _close(change, actor, PrivilegeStatus.REJECTED, reason[:2000])
    record_event(
        session,
        actor,
        "privilege.rejected",
        "privilege_change",
        change.id,
        {"username": change.username, "kind": change.kind.value, "reason": change.reason},
    )
    return change


def cancel(session: Session, actor: Actor, requester: User, change_id: int) -> PrivilegeChange:
    """The requester withdraws a change nobody has decided yet."""
    change = session.get(PrivilegeChange, change_id, with_for_update=True)
    if change is None or change.requested_by_id != requester.id:
        raise PrivilegeError("unknown", f"no change #{change_id} of yours", ErrorKind.NOT_FOUND)
    if change.status != PrivilegeStatus.PENDING:
        raise PrivilegeError(
            "decided", f"change #{change_id} is {change.status.value} already", ErrorKind.CONFLICT
        )
    _close(change, actor, PrivilegeStatus.CANCELLED, None)
    record_event(
        session,
        actor,
        "privilege.cancelled",
        "privilege_change",
        change.id,
        {"username": change.username, "kind": change.kind.value},
    )
    return change


def changes(session: Session, limit: int = 100) -> tuple[list[PrivilegeChange], ...]:
    """(pending, oldest first; the latest decided ones, newest first)."""
    pending = select(PrivilegeChange).where(PrivilegeChange.status == PrivilegeStatus.PENDING)
    decided = select(PrivilegeChange).where(PrivilegeChange.status != PrivilegeStatus.PENDING)
    return (
        list(session.scalars(pending.order_by(PrivilegeChange.id))),
        list(session.scalars(decided.order_by(PrivilegeChange.id.desc()).limit(limit))),
    )
