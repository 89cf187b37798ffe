"""三员分立 (GB/T 22239): privileged changes to people take two people.

An administrator asks; a different person holding the security administrator's role approves
(or rejects, with a reason); only then does the change take effect, through the same
services as any change to a person (so their sessions and tokens end as always). Both steps
are audited with who, what, and the person before and after. Privileged:

- granting any role but specialist (heads, directors, records managers, auditors, and both
  administrators' roles), or a clearance above internal;
- moving a department head (what they read by standing) to another department;
- creating a user with any of these;
- resetting the password of, or letting sign in again, anyone who holds one of them or an
  active grant to a record above internal.

Taking rights away (a lower role or clearance, blocking sign-in) stays immediate: an
incident cannot wait for a second person. Passwords never pass through the requester: a
privileged reset carries none, and when it is approved, or when an account first becomes
privileged or is created so, the system makes a one-time password, shown once to the
approver, which its owner must replace at the first sign-in. Whatever password an
administrator set earlier no longer opens the account once it is privileged.

The console CLI does not come here: whoever runs it holds the server and is the root of
trust for bootstrapping (it makes the first security administrator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.db import utcnow
from archive.errors import ErrorKind
from archive.models import (
    Department,
    Grant,
    PrivilegeChange,
    PrivilegeKind,
    PrivilegeStatus,
    Record,
    Role,
    Sensitivity,
    User,
)
from archive.passwords import one_time_password
from archive.people import (
    PeopleError,
    change_user,
    check_new_user,
    create_user,
    find_department,
    set_active,
    set_password,
)
from archive.roles import ADMINISTRATORS, DEPARTMENT_HEADS, PRIVILEGED


class PrivilegeError(PeopleError):
    """A privileged change was refused; ``code`` names the rule, for a translated message."""

    def __init__(self, code: str, message: str, kind: ErrorKind = ErrorKind.INVALID) -> None:
        super().__init__(message, kind, code)


@dataclass(frozen=True)
class Wanted:
    """What an administrator asks for one person; ``None``: leave it as it is."""

    role: Role | None = None
    department: Department | None = None
    clearance: Sensitivity | None = None
    active: bool | None = None
    reset_password: bool = False


@dataclass
class Outcome:
    """What a submission or an approval did: the fields changed at once, the request left
    waiting, and a one-time password to show once (never stored, never audited)."""

    applied: list[str] = field(default_factory=list)
    request: PrivilegeChange | None = None
    user: User | None = None
    password: str | None = field(default=None, repr=False)


def privileged_standing(role: Role, clearance: Sensitivity) -> bool:
    """A role beyond a specialist's, or a clearance above internal."""
    return role in PRIVILEGED or clearance.rank > Sensitivity.INTERNAL.rank


def holds_privilege(session: Session, user: User) -> bool:
    """Whether taking over ``user``'s account would open more than internal records (or a
    privileged role): their standing, or a grant above internal not yet ended."""
    if privileged_standing(user.role, user.clearance):
        return True
    now = utcnow()
    grants = session.scalars(
        select(Grant)
        .join(Record, Grant.record_id == Record.id)
        .where(
            Grant.user_id == user.id,
            Grant.revoked_at.is_(None),
            Record.sensitivity.in_((Sensitivity.CONFIDENTIAL, Sensitivity.RESTRICTED)),
        )
    )
    return any(g.valid_until > now for g in grants)


def state_of(user: User) -> dict[str, Any]:
    """The person as a privileged change sees them (asked against, checked at approval)."""
    return {
        "role": user.role.value,
        "department": user.department.code if user.department else None,
        "clearance": user.clearance.value,
        "active": user.active,
    }


def split(session: Session, person: User, wanted: Wanted) -> tuple[dict[str, Any], dict[str, Any]]:
    """``wanted`` as (what takes effect now, what needs approval), each as stored JSON."""
    now: dict[str, Any] = {}
    later: dict[str, Any] = {}
    if wanted.role is not None and wanted.role != person.role:
        (later if wanted.role in PRIVILEGED else now)["role"] = wanted.role.value
    if wanted.clearance is not None and wanted.clearance != person.clearance:
        high = wanted.clearance.rank > Sensitivity.INTERNAL.rank
        (later if high else now)["clearance"] = wanted.clearance.value
    if wanted.department is not None and wanted.department.id != person.department_id:
        # A head until an approval (or after one) decides for the department they are in:
        # only an immediate step down to specialist makes the move ordinary.
        role_meanwhile = wanted.role if "role" in now else person.role
        head = role_meanwhile in DEPARTMENT_HEADS or wanted.role in DEPARTMENT_HEADS
        (later if head else now)["department"] = wanted.department.code
    privileged = holds_privilege(session, person)
    if wanted.active is not None and wanted.active != person.active:
        (later if wanted.active and privileged else now)["active"] = wanted.active
    if wanted.reset_password:
        (later if privileged else now)["reset_password"] = True
    return now, later


def apply_changes(
    session: Session, actor: Actor, person: User, changes: dict[str, Any], temporary: str | None
) -> list[str]:
    """Apply stored ``changes`` through the people services; ``temporary``: the password
    to set if the changes reset it."""
    department = changes.get("department")
    applied = change_user(
        session,
        actor,
        person,
        role=Role(changes["role"]) if "role" in changes else None,
        department=find_department(session, department) if department else None,
        clearance=Sensitivity(changes["clearance"]) if "clearance" in changes else None,
    )
    if "active" in changes and set_active(session, actor, person, bool(changes["active"])):
        applied.append("active")
    if temporary is not None:
        set_password(session, actor, person, temporary, temporary=True)
        applied.append("password")
    return applied


def _may_ask(session: Session, requester: User, username: str) -> None:
    """Only an active administrator asks, and one request per person waits at a time (a
    second would be checked against a person the first may have changed)."""
    if requester.role not in ADMINISTRATORS or not requester.active:
        raise PrivilegeError(
            "not_admin", "only an administrator asks for changes to people", ErrorKind.FORBIDDEN
        )
    _not_waiting(session, username)


def _not_waiting(session: Session, username: str) -> None:
    waiting = session.scalar(
        select(PrivilegeChange).where(
            PrivilegeChange.username == username,
            PrivilegeChange.status == PrivilegeStatus.PENDING,
        )
    )
    if waiting is not None:
        raise PrivilegeError(
            "pending",
            f"change #{waiting.id} for {username} waits for approval already: "
            "cancel it or wait for the decision",
            ErrorKind.CONFLICT,
        )


def _ask(
    session: Session,
    actor: Actor,
    requester: User,
    kind: PrivilegeKind,
    username: str,
    target: User | None,
    changes: dict[str, Any],
) -> PrivilegeChange:
    _may_ask(session, requester, username)
    change = PrivilegeChange(
        kind=kind,
        username=username,
        target_id=target.id if target else None,
        changes=changes,
        before=state_of(target) if target else {},
        requested_by=actor.name,
        requested_by_id=requester.id,
    )
    session.add(change)
    session.flush()
    record_event(
        session,
        actor,
        "privilege.requested",
        "privilege_change",
        change.id,
        {"username": username, "kind": kind.value, "changes": changes, "before": change.before},
    )
    return change


def submit_change(
    session: Session,
    actor: Actor,
    requester: User,
    person: User,
    wanted: Wanted,
    password: str | None = None,
) -> Outcome:
    """An administrator's change to ``person``: what is not privileged takes effect now
    (a typed ``password`` only for someone who holds no privilege, and then temporary), the
    rest waits for a security administrator. A non-privileged reset makes a one-time
    password for the administrator to hand over."""
    now, later = split(session, person, wanted)
    if password and (later or holds_privilege(session, person)):
        raise PrivilegeError(
            "password_needs_approval",
            f"{person.username}'s password is reset by approval, not typed: "
            "ask for a reset and the approver receives a one-time password",
        )
    if later:
        _may_ask(session, requester, person.username)  # refused before anything changes
    temporary = one_time_password() if now.pop("reset_password", False) else None
    outcome = Outcome(password=temporary)
    outcome.applied = apply_changes(session, actor, person, now, temporary)
    if password:
        set_password(session, actor, person, password, temporary=True)
        outcome.applied.append("password")
    if later:
        outcome.request = _ask(
            session, actor, requester, PrivilegeKind.CHANGE, person.username, person, later
        )
    return outcome


def submit_new_user(
    session: Session,
    actor: Actor,
    requester: User,
    username: str,
    role: Role,
    department: Department | None,
    clearance: Sensitivity,
    password: str | None = None,
    display_name: str = "",
) -> Outcome:
    """A new user: made now if they hold no privilege (a typed password is temporary), else
    asked for, without a password (the approver receives a one-time one)."""
    if not privileged_standing(role, clearance):
        _not_waiting(session, username)
        user = create_user(
            session,
            actor,
            username,
            role,
            department,
            clearance,
            password,
            display_name,
            temporary=True,
        )
        return Outcome(applied=["created"], user=user)
    if password:
        raise PrivilegeError(
            "password_on_approval",
            f"a {role.value} account gets a one-time password when it is approved: "
            "leave the password empty",
        )
    check_new_user(session, username, role, department)
    changes = {
        "role": role.value,
        "department": department.code if department else None,
        "clearance": clearance.value,
        "display_name": display_name or username,
    }
    return Outcome(
        request=_ask(session, actor, requester, PrivilegeKind.CREATE, username, None, changes)
    )
