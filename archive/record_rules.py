"""Who may know a record exists and who may write into it (add a version): the two rules the
ingest pipeline needs as much as the access layer, so they live here, below both.
``access.policy`` holds them in its table beside the others; tests walk them there.

- Knowing: public and internal records, all staff; confidential, the record's department
  and grant holders; restricted (contracts), directors and grant holders.
- Writing (adding a version): whoever may know the record, and is a member of its
  department with an uploading role, or a records manager; a restricted record, only
  directors and records managers. People file new records for their own department only
  (records managers for any), so nobody plants a record in another department to catch its
  uploads. A filed (cut-off), transferred or destroyed record takes
  no version at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Grant, Record, RecordState, Role, Sensitivity, User
from archive.roles import RECORDS_MANAGERS, STAFF, UPLOADERS

ALL_STAFF = frozenset({Sensitivity.PUBLIC.value, Sensitivity.INTERNAL.value})


def grants_on(session: Session, user: User, record: Record) -> list[Grant]:
    """``user``'s grants on ``record`` (any state: the rules look at each one's dates)."""
    mine = select(Grant).where(Grant.user_id == user.id, Grant.record_id == record.id)
    return list(session.scalars(mine))


def may_know(user: User, record: Record, grants: list[Grant], now: datetime) -> bool:
    """Whether ``user`` may learn that ``record`` exists (its metadata, a search hit).
    Administrators of either kind never do, whatever grant they were given (三员分立)."""
    if not user.active or user.role not in STAFF:
        return False
    level = record.sensitivity
    if level.value in ALL_STAFF:
        return True
    if any(g.record_id == record.id and g.user_id == user.id and g.active(now) for g in grants):
        return True
    if level == Sensitivity.CONFIDENTIAL:
        return user.department_id is not None and user.department_id == record.department_id
    return user.role == Role.DIRECTOR


def may_write(user: User, record: Record, grants: list[Grant], now: datetime) -> bool:
    """Whether ``user`` may add a version to ``record``."""
    if record.state != RecordState.ACTIVE or record.cut_off_on is not None:
        return False
    if not may_know(user, record, grants, now) or user.role not in UPLOADERS:
        return False
    if record.sensitivity == Sensitivity.RESTRICTED:
        return user.role in RECORDS_MANAGERS or user.role == Role.DIRECTOR
    if user.role in RECORDS_MANAGERS:
        return True
    # Its department's people, the creator included only while they belong to it: a record
    # someone filed for another department is that department's, not theirs to keep.
    return user.department_id is not None and user.department_id == record.department_id


def operator_may_write(record: Record, department_id: int | None) -> bool:
    """A document with no person behind it (the hot folder, a bulk import) joins only an
    active, non-restricted record of the department it was filed for."""
    return (
        record.state == RecordState.ACTIVE
        and record.cut_off_on is None
        and record.sensitivity != Sensitivity.RESTRICTED
        and department_id is not None
        and record.department_id == department_id
    )
