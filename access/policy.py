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
