"""Data-key operations: rotation under a new KEK, and crypto-shredding a version.

Both touch only the ``data_keys`` table (and, for shredding, delete blobs afterwards):
version rows never change and blobs are never rewritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.content import ContentError, content_binding, staging_binding
from archive.core import Archive
from archive.crypto import Keyring, WrappedKey
from archive.db import erase_freed, utcnow
from archive.models import DataKey, IngestJob, RecordChange, Version
from archive.signals import version_destroyed

Row = TypeVar("Row", DataKey, IngestJob)


def rotate_keys(arc: Archive, actor: Actor, batch: int = 500) -> tuple[str, int]:
    """Add a new KEK and re-wrap every live data key under it; blobs are not touched.

    Re-wrapping commits in batches and only selects keys not yet under the active KEK, so
    an interrupted rotation is finished by running it again.
    """
    new_id = arc.keyring.add_key()
    rewrapped = _rewrap_stale(
        arc,
        select(DataKey).where(DataKey.wrapped.is_not(None), DataKey.kek_id != new_id),
        _rewrap_data_key,
        batch,
    )
    staged = _rewrap_stale(
        arc,
        select(IngestJob).where(
            IngestJob.staging_wrapped.is_not(None), IngestJob.staging_kek_id != new_id
        ),
        _rewrap_staged_upload,
        batch,
    )
    with arc.transaction() as session:
        record_event(
            session,
            actor,
            "keys.rotated",
            "keyring",
            new_id,
            {"active": new_id, "rewrapped": rewrapped, "staged": staged},
        )
    return new_id, rewrapped


def _rewrap_stale(
    arc: Archive, stale: Select[Row], rewrap: Callable[[Keyring, Row], None], batch: int
) -> int:
    """Re-wrap, in committed batches, every row ``stale`` selects (rows not yet under the
    new KEK): a rotation cut short is finished by running it again."""
    rewrapped = 0
    while True:
        with arc.transaction() as session:
            rows = session.scalars(stale.limit(batch)).all()
            for row in rows:
                rewrap(arc.keyring, row)
            rewrapped += len(rows)
        if len(rows) < batch:
            return rewrapped


def _rewrap_data_key(keyring: Keyring, row: DataKey) -> None:
    if row.kek_id is None or row.wrapped is None:
        return  # destroyed meanwhile; the query excludes these anyway
    binding = content_binding(row.version_id, row.role).decode()
    wrapped = keyring.wrap(keyring.unwrap(WrappedKey(row.kek_id, row.wrapped), binding), binding)
    row.kek_id, row.wrapped = wrapped.kek_id, wrapped.wrapped


def _rewrap_staged_upload(keyring: Keyring, job: IngestJob) -> None:
    """Staged uploads (queued, in progress, quarantined) too: a quarantined file waits for
    a person for days, and must open after a rotation."""
    if job.staging_kek_id is None or job.staging_wrapped is None:
        return
    binding = staging_binding(job.id)
    old = WrappedKey(job.staging_kek_id, job.staging_wrapped)
    wrapped = keyring.wrap(keyring.unwrap(old, binding), binding)
    job.staging_kek_id, job.staging_wrapped = wrapped.kek_id, wrapped.wrapped


def shred_keys(session: Session, version_ids: Sequence[uuid.UUID]) -> list[str]:
    """Destroy the wrapped data keys of these versions (originals and renditions) inside the
    caller's transaction; returns the object keys whose blobs to delete after the commit."""
    rows = session.scalars(
        select(DataKey).where(DataKey.version_id.in_(version_ids), DataKey.wrapped.is_not(None))
    ).all()
    now = utcnow()
    for row in rows:
        row.wrapped, row.kek_id, row.destroyed_at = None, None, now
    session.flush()
    return [row.object_key for row in rows]


def retire_old_keys(arc: Archive, actor: Actor) -> list[str]:
    """After :func:`rotate_keys`: take out of the keyring every KEK that no data key in the
    database is wrapped under. A backup made before (and the wrapped keys it kept of
    versions destroyed since) then opens nothing with this keyring: destruction holds
    against older backups too. Take a new backup at once; older ones cannot be restored."""
    keyring = arc.keyring
    with arc.transaction() as session:
        used = set(
            session.scalars(select(DataKey.kek_id).where(DataKey.wrapped.is_not(None)).distinct())
        ) | set(
            session.scalars(
                select(IngestJob.staging_kek_id)
                .where(IngestJob.staging_wrapped.is_not(None))
                .distinct()
            )
        )
        unused = [k for k in keyring.key_ids if k not in used and k != keyring.active_id]
        gone = keyring.retire(unused)
        if gone:
            record_event(
                session, actor, "keys.retired", "keyring", keyring.active_id, {"retired": gone}
            )
    return gone


def destroy_version_content(
    arc: Archive,
    actor: Actor,
    version_id: uuid.UUID,
    reason: str,
    check: Callable[[Session, Version], None] | None = None,
) -> int:
    """Crypto-shred a version: destroy its wrapped data keys, then delete its blobs.

    Once the keys are gone no copy of the ciphertext (a replica, a backup) can be decrypted:
    the keyring's shred register refuses them even where a backup kept the wrapped key.
    Returns the number of keys destroyed. Holds are retention's to check: ``check`` runs
    inside the transaction and may raise to refuse.
    """
    if not reason.strip():
        raise ContentError("destroying content needs a reason")
    with arc.transaction() as session:
        version = session.get(Version, version_id)
        if version is None:
            raise ContentError(f"no version {version_id}")
        if check is not None:
            check(session, version)
        object_keys = shred_keys(session, [version_id])
        session.add(RecordChange(record_id=version.record_id))  # its text leaves the index
        record_event(
            session,
            actor,
            "version.content_destroyed",
            "version",
            version_id,
            {"name": version.name, "keys": len(object_keys), "reason": reason},
        )
    arc.keyring.forget([version_id])  # a backup restored later cannot revive it
    erase_freed(arc.engine)  # nor a copy of the database file as it now lies
    for object_key in object_keys:
        arc.blobs.delete(object_key)
    version_destroyed.send(arc, version_id=version_id)
    return len(object_keys)
