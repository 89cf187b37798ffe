"""Executing a fully signed list: destruction by crypto-shredding (one record per
transaction, so a crash resumes where it stopped), or transfer as a package.

Destroying a record destroys every data key of every version and rendition, deletes the
blobs after the commit, revokes its grants, queues its removal from the index and leaves a
tombstone with its description and digests. The version rows, the list, its signatures and
the audit trail stay.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import SYSTEM, Actor, record_event
from archive.checkpoints import write_checkpoint
from archive.core import Archive
from archive.db import erase_freed, local_today, utcnow
from archive.keys import shred_keys
from archive.models import (
    Disposal,
    DispositionItem,
    DispositionList,
    Grant,
    ListStatus,
    Record,
    RecordChange,
    RecordState,
    Tombstone,
    Version,
)
from archive.record_facts import describe
from archive.signals import version_destroyed
from retention.clock import is_eligible
from retention.disposition import get_list, missing_slots, require
from retention.errors import NOT_DUE, Conflict, Held, already, held_note
from retention.handover import remember_package
from retention.holds import ensure_free, refusals_audited
from retention.registers import file_closed_register
from retention.signed import still_as_signed
from retention.transfer import FolderCheck, transfer_list
from retention.witness import close_if_unwitnessed


@dataclass(frozen=True)
class Execution:
    number: str
    done: int
    skipped: list[tuple[str, str]]  # record name, why
    package: str | None = None


def _ready(arc: Archive, list_id: int) -> DispositionList:
    with arc.sessions() as session:
        lst = get_list(session, list_id)
        require(lst, ListStatus.SIGNING)
        missing = missing_slots(arc.settings.retention, lst)
        if missing:
            names = ", ".join(
                slot.role.value
                + (f" (department {slot.department_id})" if slot.department_id else "")
                for slot in missing
            )
            raise Conflict(f"list {lst.number} is not fully signed: missing {names}")
        if not still_as_signed(lst):
            raise Conflict(
                f"list {lst.number} is not what was signed: its content changed after it was "
                "submitted; nothing is carried out (see the audit trail, and send it back)",
                code="list_altered",
                params={"list": lst.number},
            )
        for item in lst.items:
            _ = item.record  # load while the session is open
        return lst


def _skip(session: Session, item: DispositionItem, why: str) -> None:
    item.outcome, item.note, item.done_at = "skipped", why, utcnow()


def shred_record(
    session: Session,
    actor: Actor,
    record: Record,
    reason: str,
    lst: DispositionList | None = None,
    description: dict[str, Any] | None = None,
) -> tuple[list[uuid.UUID], list[str]]:
    """Destroy every data key of the record, revoke its grants, mark it disposed, queue its
    removal from the index and leave a tombstone, in the caller's transaction. Returns the
    versions and the blobs to delete once that commits (:func:`discard_blobs`)."""
    version_ids = list(session.scalars(select(Version.id).where(Version.record_id == record.id)))
    object_keys = shred_keys(session, version_ids)
    now = utcnow()
    for grant in session.scalars(
        select(Grant).where(Grant.record_id == record.id, Grant.revoked_at.is_(None))
    ):
        grant.revoked_at, grant.revoke_reason = now, reason
    record.state = RecordState.DISPOSED
    session.add(RecordChange(record_id=record.id))  # the index forgets it
    session.add(
        Tombstone(
            record_id=record.id,
            kind="destroyed" if lst is not None else "deleted",
            list_id=lst.id if lst is not None else None,
            reason=reason,
            description=description or describe(session, record),
            by=actor.name,
        )
    )
    record_event(
        session,
        actor,
        "record.destroyed" if lst else "record.deleted",
        "record",
        record.id,
        {
            "list": lst.number if lst else None,
            "reason": reason,
            "digest": lst.digest if lst else None,
            "keys": len(object_keys),
            "versions": [str(v) for v in version_ids],
        },
    )
    return version_ids, object_keys


def discard_blobs(arc: Archive, version_ids: list[uuid.UUID], object_keys: list[str]) -> None:
    """After the commit: enter the versions in the keyring's shred register (so a restored
    backup cannot revive them), then delete the blobs (best effort: they are unreadable)."""
    arc.keyring.forget(version_ids)
    for object_key in object_keys:
        with contextlib.suppress(Exception):
            arc.blobs.delete(object_key)
    for version_id in version_ids:
        version_destroyed.send(arc, version_id=version_id)


def _destroy_one(arc: Archive, actor: Actor, lst: DispositionList, item_id: int) -> str | None:
    """Shred one record in its own transaction; returns why it was skipped, if it was."""
    with refusals_audited(arc, actor), arc.transaction() as session:
        item = session.get(DispositionItem, item_id, with_for_update=True)
        assert item is not None  # noqa: S101
        if item.outcome is not None:
            return None
        record = session.get(Record, item.record_id, with_for_update=True)
        assert record is not None  # noqa: S101
        if record.state != RecordState.ACTIVE:
            _skip(session, item, already(record))
            return item.note
        if not is_eligible(record.due_on, local_today()):
            _skip(session, item, NOT_DUE)
            return item.note
        ensure_free(session, record.id, f"destroy (list {lst.number})")
        version_ids, object_keys = shred_record(
            session, actor, record, f"destroyed by list {lst.number}", lst, item.snapshot
        )
        item.outcome, item.done_at = "destroyed", utcnow()
    discard_blobs(arc, version_ids, object_keys)
    return None


def execute(arc: Archive, actor: Actor, list_id: int, check_folder: FolderCheck) -> Execution:
    """Carry out a fully signed list. Held or no-longer-due records are skipped (and the
    refusal audited); running it again after a crash continues where it stopped.

    ``check_folder`` is the 四性 check of each record folder of a transfer package (see
    :data:`~retention.transfer.FolderCheck`); a destroy list does not use it."""
    lst = _ready(arc, list_id)
    skipped: list[tuple[str, str]] = []
    package = None
    if lst.action == Disposal.DESTROY:
        for item in lst.items:
            try:
                why = _destroy_one(arc, actor, lst, item.id)
            except Conflict as refusal:  # Held: audited by refusals_audited
                why = held_note(refusal) if isinstance(refusal, Held) else str(refusal)
                with arc.transaction() as session:
                    failed = session.get(DispositionItem, item.id)
                    assert failed is not None  # noqa: S101
                    _skip(session, failed, why)
            if why:
                skipped.append((item.record.name_stem, why))
    else:
        package, skipped = transfer_list(arc, actor, lst, check_folder)
    with arc.transaction() as session:
        row = get_list(session, list_id, lock=True)
        done = sum(1 for item in row.items if item.outcome in ("destroyed", "transferred"))
        row.status, row.executed_at, row.executed_by = ListStatus.EXECUTED, utcnow(), actor.name
        row.result = {"done": done, "skipped": len(skipped), "package": package}
        if package:
            remember_package(arc, row)
        record_event(
            session,
            actor,
            "disposition.executed",
            "disposition_list",
            row.number,
            {"digest": row.digest, **row.result},
        )
        close_if_unwitnessed(session, arc.settings.retention, row)
        closed = row.closed_at is not None
    if closed:  # nobody to witness it: its register is final now
        file_closed_register(arc, SYSTEM, list_id)  # the archive files it, not the signer
    checkpoint_now(arc)
    return Execution(lst.number, done, skipped, package)


def checkpoint_now(arc: Archive) -> None:
    """After a destruction: erase the destroyed keys' earlier copies from the database's
    files, and sign the chains' heads at once, not at the next hourly checkpoint, so that
    deleting its events from the database afterwards is caught."""
    erase_freed(arc.engine)
    with arc.sessions() as session:
        write_checkpoint(session, arc.keyring, arc.settings.checkpoint_path)
