"""Who may know that a record exists (MISSION.md, "Access on request").

Public and internal records: all staff. Confidential: the record's department (and holders
of a grant, from the access issue). Restricted (contracts): directors (and grant holders).
Administrators, auditors and records managers have no wider view by role.
"""

from __future__ import annotations

from archive.models import Role, Sensitivity, User
from search.index import Visibility

ALL_STAFF = frozenset({Sensitivity.PUBLIC.value, Sensitivity.INTERNAL.value})


def visibility_for(user: User, granted: frozenset[str] = frozenset()) -> Visibility:
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


HEADS = frozenset({Role.SUPERVISOR, Role.DIRECTOR})


def reads_by_standing(user: User, department: str | None, sensitivity: str) -> bool:
    """Standing access to content, no grant needed (the access issue adds grants).

    A department head (supervisor or director) reads their department's records up to their
    clearance; a director reads restricted records (contracts) of any department. Nobody
    else reads by role: administrators, auditors and records managers included.
    """
    level = Sensitivity(sensitivity)
    if user.role == Role.DIRECTOR and level == Sensitivity.RESTRICTED:
        return True
    own = user.department is not None and user.department.code == department
    return user.role in HEADS and own and level.rank <= user.clearance.rank
