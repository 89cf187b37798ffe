"""Who may know a record exists, who may read it, and who decides (MISSION.md, "Access on
request"). Small on purpose: every rule is here, and ``tests/access/test_policy.py`` walks it
as a table.

- Knowing: public and internal records, all staff; confidential, the record's department and
  grant holders; restricted (contracts), directors and grant holders.
- Reading content: an active grant whose scope covers the action, or standing access (a
  department head for their department's records up to their clearance; a director for
  restricted ones). ``external`` always needs a grant. Administrators, auditors and records
  managers read nothing by role.
- Deciding: a request goes to the head of the record's department, or to a director for
  restricted records; ``external`` adds a director step. Nobody decides their own request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from archive.models import (
    AccessRequest,
    Approver,
    Grant,
    Record,
    Role,
    Scope,
    Sensitivity,
    User,
)
from search.index import Visibility

ALL_STAFF = frozenset({Sensitivity.PUBLIC.value, Sensitivity.INTERNAL.value})
HEADS = frozenset({Role.SUPERVISOR, Role.DIRECTOR})
#: What a grant of each scope lets its holder do.
COVERS: dict[Scope, frozenset[Scope]] = {
    Scope.VIEW: frozenset({Scope.VIEW}),
    Scope.DOWNLOAD: frozenset({Scope.VIEW, Scope.DOWNLOAD}),
    Scope.PRINT: frozenset({Scope.VIEW, Scope.PRINT}),
    Scope.EXTERNAL: frozenset({Scope.VIEW, Scope.DOWNLOAD, Scope.EXTERNAL}),
}


def visibility_for(user: User, granted: frozenset[str] = frozenset()) -> Visibility:
    """The search filter for ``user``; ``granted``: ids of records they hold a grant for."""
    everywhere = set(ALL_STAFF)
    if user.role == Role.DIRECTOR:
        everywhere.add(Sensitivity.RESTRICTED.value)
    department = user.department.code if user.department else None
    return Visibility(
        everywhere=frozenset(everywhere),
        department=department,
        in_department=frozenset({Sensitivity.CONFIDENTIAL.value}) if department else frozenset(),
        records=granted,
    )


def may_know(user: User, record: Record, grants: list[Grant], now: datetime) -> bool:
    """Whether ``user`` may learn that ``record`` exists (its metadata, a search hit)."""
    if not user.active:
        return False
    level = record.sensitivity
    if level.value in ALL_STAFF:
        return True
    if any(g.record_id == record.id and g.user_id == user.id and g.active(now) for g in grants):
        return True
    if level == Sensitivity.CONFIDENTIAL:
        return user.department_id is not None and user.department_id == record.department_id
    return user.role == Role.DIRECTOR


def reads_by_standing(user: User, department: str | None, sensitivity: str) -> bool:
    """Standing access to content, no grant needed (not for ``external``).

    A department head (supervisor or director) reads their department's records up to their
    clearance; a director reads restricted records (contracts) of any department. Nobody
    else reads by role: administrators, auditors and records managers included.
    """
    level = Sensitivity(sensitivity)
    if user.role == Role.DIRECTOR and level == Sensitivity.RESTRICTED:
        return True
    own = user.department is not None and user.department.code == department
    return user.role in HEADS and own and level.rank <= user.clearance.rank


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    grant: Grant | None = None


def may_read(
    user: User, record: Record, action: Scope, grants: list[Grant], now: datetime
) -> Decision:
    """Whether ``user`` may perform ``action`` on ``record``'s content now, and why."""
    if not user.active:
        return Decision(False, "the account is disabled")
    department = record.department.code if record.department else None
    if action != Scope.EXTERNAL and reads_by_standing(user, department, record.sensitivity):
        return Decision(True, "standing access")
    mine = [g for g in grants if g.record_id == record.id and g.user_id == user.id]
    for grant in mine:
        if grant.active(now) and action in COVERS[grant.scope]:
            return Decision(True, "grant", grant)
    if not mine:
        return Decision(False, "no grant for this record")
    if any(g.active(now) for g in mine):
        return Decision(False, f"the grant does not cover {action.value}")
    if all(g.revoked_at is not None for g in mine):
        return Decision(False, "the grant was revoked")
    if any(g.valid_from > now for g in mine):
        return Decision(False, "the grant is not valid yet")
    return Decision(False, "the grant has expired")


def route(record: Record) -> tuple[Approver, int | None]:
    """Who decides the first step of a request for ``record``."""
    if record.sensitivity == Sensitivity.RESTRICTED or record.department_id is None:
        return Approver.DIRECTOR, None
    return Approver.HEAD, record.department_id


def may_decide(user: User, request: AccessRequest, earlier_approvers: set[int]) -> bool:
    """Whether ``user`` may approve or refuse the step ``request`` is waiting at."""
    if not user.active or user.id == request.requester_id or user.id in earlier_approvers:
        return False
    if request.approver == Approver.DIRECTOR:
        return user.role == Role.DIRECTOR
    return (
        user.role in HEADS
        and user.department_id == request.approver_department_id
        and request.record.sensitivity.rank <= user.clearance.rank
    )
