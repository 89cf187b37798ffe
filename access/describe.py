"""Records managers correct a record's description (责任者, 文号, 备注): the one service the
API and the web page share. The permission is the caller's check (``DESCRIBE_RECORDS``);
here, which record and whether it still takes a change."""

from __future__ import annotations

import uuid
from typing import Any

from access.requests import AccessError, known_record
from archive.audit import Actor
from archive.core import Archive
from archive.description import FIELDS, DescriptionError, change_description
from archive.errors import ErrorKind
from archive.models import Record, RecordState, User

#: A destroyed or transferred record's description is what its certificate says, for good.
_FIXED = (RecordState.DISPOSED, RecordState.TRANSFERRED)


def fixed(record: Record) -> bool:
    """Whether the record's description is kept as it was (it left or was destroyed)."""
    return record.state in _FIXED


def describe_record(
    arc: Archive, user_id: int, actor: Actor, record_id: uuid.UUID, changes: dict[str, Any]
) -> dict[str, dict[str, str | None]]:
    """Apply ``changes`` (a subset of :data:`archive.description.FIELDS`; None or "" clears
    a field): audited with before and after, re-indexed. Returns what changed."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise DescriptionError(
            f"unknown fields {', '.join(unknown)}: a description has {', '.join(FIELDS)}"
        )
    with arc.transaction() as session:
        user = session.get_one(User, user_id)
        # Only a record they may know exists: the retention views' wider sight (档号 and
        # title of every record) is not the 责任者, 文号 and 备注 a change would echo back.
        record = known_record(session, user, record_id)
        session.refresh(record, with_for_update=True)
        if record.state in _FIXED:
            raise AccessError(
                f"the record is {record.state.value}: its description is kept as it was",
                ErrorKind.CONFLICT,
            )
        return change_description(
            session, actor, record, changes, why="records manager", source="manual"
        )
