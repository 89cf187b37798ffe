"""Restore a backup bag (:mod:`archive.backup`) onto an empty installation, with the
keyring backed up apart: the rows in one transaction, the blobs as stored, then the versions
shredded since the bag was made destroyed again, with their records' tombstones."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.backup import BATCH, CHECKPOINTS, BackupError, load_tables, open_bag, verify_backup
from archive.bootstrap import ensure_home, start_checkpoints
from archive.checkpoints import write_checkpoint
from archive.core import Archive
from archive.crypto import Keyring, KeyringError
from archive.db import erase_freed
from archive.migrate import upgrade
from archive.models import (
    DataKey,
    Record,
    RecordChange,
    RecordState,
    Tombstone,
    Version,
)
from archive.record_facts import describe

_CHUNK = 1024 * 1024


@dataclass
class RestoreReport:
    tables: dict[str, int]
    blobs: int
    shredded_since: int  # versions destroyed after the bag was made: their keys stay gone


def restore(arc: Archive, actor: Actor, source: Path, unsealed_ok: bool = False) -> RestoreReport:
    """Restore a bag onto an empty installation, with the keyring backed up apart; a bag
    whose seal does not hold is refused (``unsealed_ok``: one made before seals is not)."""
    payload, facts, problems = open_bag(source)
    if problems:
        raise BackupError(f"{source} fails validation: {'; '.join(problems[:5])}")
    try:
        keyring = Keyring.load(arc.settings.keyring_path)
    except KeyringError as exc:
        raise BackupError(
            f"restore needs the keyring that was backed up apart from the data: {exc}"
        ) from None
    missing = sorted(set(facts["kek_ids"]) - set(keyring.key_ids))
    if missing:
        raise BackupError(
            f"the keyring at {arc.settings.keyring_path} lacks {', '.join(missing)}: "
            "point ARCHIVE_KEYRING at the keyring backed up with this archive"
        )
    checked = verify_backup(source, keyring, unsealed_ok)
    if not checked.ok:  # a forged history is not brought back to be signed anew
        raise BackupError(f"{source} fails verification: {'; '.join(checked.problems[:5])}")
    if next(iter(arc.blobs.listing()), None) is not None:
        raise BackupError(
            f"restore needs an empty blob store, but {arc.blobs.url} holds objects: another "
            "installation's store is never written into (or collected from)"
        )
    ensure_home(arc.settings)
    upgrade(arc.engine)
    counts = load_tables(arc.engine, payload / "database")
    arc.blobs.prepare()
    blobs = 0
    for blob in sorted((payload / "blobs").iterdir()):
        with blob.open("rb") as handle:
            arc.blobs.put(blob.name, _chunks(handle))
        blobs += 1
    shredded = _reshred(arc, keyring)
    if (payload / CHECKPOINTS).exists():  # the chains' signed past comes back with them
        arc.settings.checkpoint_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(payload / CHECKPOINTS, arc.settings.checkpoint_path)
    with arc.transaction() as session:
        record_event(
            session,
            actor,
            "backup.restored",
            "backup",
            source.name,
            {
                "source": str(source),
                "rows": sum(counts.values()),
                "blobs": blobs,
                "shredded_since": shredded,
            },
        )
    start_checkpoints(arc, actor)  # a bag without checkpoints starts them
    with arc.sessions() as session:
        write_checkpoint(session, keyring, arc.settings.checkpoint_path)
    return RestoreReport(counts, blobs, shredded)


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(_CHUNK):
        yield chunk


def _reshred(arc: Archive, keyring: Keyring) -> int:
    """Destroy again the keys of versions shredded after the bag was made."""
    with arc.transaction() as session:
        rows = session.execute(
            select(DataKey.object_key, DataKey.version_id).where(DataKey.wrapped.is_not(None))
        ).all()
        doomed = [(key, vid) for key, vid in rows if str(vid) in keyring.shredded]
        if not doomed:
            return 0
        keys = [key for key, _ in doomed]
        for start in range(0, len(keys), BATCH):
            session.execute(
                update(DataKey)
                .where(DataKey.object_key.in_(keys[start : start + BATCH]))
                .values(wrapped=None, kek_id=None, destroyed_at=func.now())
            )
        versions = sorted({str(vid) for _, vid in doomed})
        gone = _tombstone_reshredded(session, keyring)
        record_event(
            session,
            Actor(name="system"),
            "backup.reshredded",
            "keyring",
            "shred-register",
            {"versions": versions, "records": gone},
        )
    erase_freed(arc.engine)  # the restored file's copies of those keys, too
    for key in keys:
        arc.blobs.delete(key)
    return len(versions)


def _tombstone_reshredded(session: Session, keyring: Keyring) -> list[str]:
    """Records every version of which was destroyed after the bag was made are destroyed
    here too, not active records whose content went missing: disposed, out of the index,
    with a tombstone saying so. (The list that destroyed them is not in the bag: its
    certificate and 清册 are kept outside the archive, and in later backups.)"""
    versions: dict[uuid.UUID, list[uuid.UUID]] = {}
    for record_id, version_id in session.execute(
        select(Version.record_id, Version.id)
        .join(Record, Record.id == Version.record_id)
        .where(Record.state == RecordState.ACTIVE)
    ):
        versions.setdefault(record_id, []).append(version_id)
    gone = [
        record_id
        for record_id, ids in versions.items()
        if all(str(version_id) in keyring.shredded for version_id in ids)
    ]
    for record_id in gone:
        record = session.get_one(Record, record_id)
        record.state = RecordState.DISPOSED
        session.add(RecordChange(record_id=record_id))
        session.add(
            Tombstone(
                record_id=record_id,
                kind="destroyed",
                reason="destroyed after this backup was made (the keyring's shred register)",
                description=describe(session, record),
                by="system",
            )
        )
    return [str(record_id) for record_id in gone]
