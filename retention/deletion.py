"""Deleting a record filed in error (the wrong file, a duplicate) outside any disposition
list. Destroying content always takes two people: a records manager asks, with a reason; a
director or the head of the record's department confirms, and only then is the record
crypto-shredded and tombstoned like a destruction. Only within ``ARCHIVE_MISFILE_DAYS`` of
filing: after that a record leaves by a signed disposition list, whatever anyone says.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.config import RetentionSettings
from archive.core import Archive
from archive.db import utcnow
from archive.models import Deletion, Record, Role, Sensitivity, User
from archive.record_rules import grants_on, may_know
from archive.roles import DEPARTMENT_HEADS
from retention.errors import Conflict, NotFound
from retention.execution import checkpoint_now, discard_blobs, shred_record
from retention.holds import ensure_free, refusals_audited, require_reason
from retention.review import active_record


def ensure_misfiled_in_time(settings: RetentionSettings, record: Record) -> None:
    """Outside a list, only a record filed within ARCHIVE_MISFILE_DAYS may be destroyed."""
    if utcnow() - record.created_at > timedelta(days=settings.misfile_days):
        raise Conflict(
            f"{record.name_stem} was filed more than {settings.misfile_days} days ago: only a "
            "signed disposition list destroys it now"
        )


def may_confirm(session: Session, user: User, record: Record) -> bool:
    """A director, or the head of the record's own department, who may know the record and
    is cleared for it (a restricted record: a director)."""
    if not user.active or user.role not in DEPARTMENT_HEADS:
        return False
    if not may_know(user, record, grants_on(session, user, record), utcnow()):
        return False
    if record.sensitivity == Sensitivity.RESTRICTED:
        return user.role == Role.DIRECTOR
    if record.sensitivity.rank > user.clearance.rank:
        return False
    return user.role == Role.DIRECTOR or user.department_id == record.department_id


def request_deletion(arc: Archive, actor: Actor, record_id: uuid.UUID, reason: str) -> Deletion:
    """The first person's step: nothing is destroyed yet."""
    why = require_reason(reason, "deleting a record")
    with refusals_audited(arc, actor), arc.transaction() as session:
        record = active_record(session, record_id)
        ensure_free(session, record.id, "delete")
        ensure_misfiled_in_time(arc.settings.retention, record)
        if session.scalar(
            select(Deletion.id).where(
                Deletion.record_id == record.id, Deletion.confirmed_at.is_(None)
            )
        ):
            raise Conflict(f"a deletion of {record.name_stem} already waits for confirmation")
        deletion = Deletion(
            record_id=record.id,
            reason=why,
            requested_by=actor.name,
            requested_by_id=actor.user_id,
        )
        session.add(deletion)
        session.flush()
        record_event(
            session,
            actor,
            "record.delete_requested",
            "record",
            record.id,
            {"deletion": deletion.id, "reason": why},
        )
        session.expunge(deletion)
    return deletion


def confirm_deletion(arc: Archive, actor: Actor, confirmer_id: int, deletion_id: int) -> int:
    """The second person's step: destroy the record. Returns the data keys destroyed."""
    with refusals_audited(arc, actor), arc.transaction() as session:
        deletion = session.get(Deletion, deletion_id, with_for_update=True)
        confirmer = session.get(User, confirmer_id)
        if (
            deletion is None
            or deletion.confirmed_at is not None
            or confirmer is None
            or not may_confirm(session, confirmer, deletion.record)
        ):  # one answer: nothing about a record the caller may not confirm
            raise NotFound(f"no deletion #{deletion_id} waiting for your confirmation")
        if confirmer.id == deletion.requested_by_id:
            raise Conflict("the person who asked cannot confirm: a second person must")
        record = active_record(session, deletion.record_id)
        ensure_free(session, record.id, "delete")
        ensure_misfiled_in_time(arc.settings.retention, record)
        deletion.confirmed_by, deletion.confirmed_by_id = confirmer.username, confirmer.id
        deletion.confirmed_at = utcnow()
        why = f"filed in error (deletion #{deletion.id}, confirmed by {confirmer.username}): "
        version_ids, object_keys = shred_record(session, actor, record, why + deletion.reason)
    discard_blobs(arc, version_ids, object_keys)
    checkpoint_now(arc)
    return len(object_keys)


def pending_deletions(session: Session) -> list[Deletion]:
    return list(
        session.scalars(
            select(Deletion).where(Deletion.confirmed_at.is_(None)).order_by(Deletion.id)
        )
    )
