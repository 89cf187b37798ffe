"""Objects in the blob store that no row refers to, found and removed after a grace period.

A worker killed after uploading a version's ciphertext but before its transaction
committed leaves an object nobody can name: the data key that would decrypt it was never
saved, so it is unreadable, but it costs space and muddles audits of the store. Anything
older than the grace period (longer than any job may run) that neither a data key, a version,
a rendition nor an ingest job's staging refers to is deleted, each key checked once more
just before, and the run is audited with what it removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.core import Archive
from archive.db import utcnow
from archive.models import DataKey, IngestJob, Rendition, Version

#: Listed in the audit event; the count and bytes cover every one removed.
NAMED_IN_EVENT = 200


@dataclass
class OrphanReport:
    listed: int = 0
    removed: list[str] = field(default_factory=list)
    removed_bytes: int = 0
    young: int = 0  # unreferenced, but within the grace period: maybe a commit in flight


def _referenced(session: Session) -> set[str]:
    found: set[str] = set()
    for column in (
        DataKey.object_key,
        Version.object_key,
        Rendition.object_key,
        IngestJob.staging_key,
    ):
        found.update(key for key in session.scalars(select(column)) if key)
    return found


def _still_orphaned(session: Session, key: str) -> bool:
    return not session.scalar(
        select(
            or_(
                exists().where(DataKey.object_key == key),
                exists().where(Version.object_key == key),
                exists().where(Rendition.object_key == key),
                exists().where(IngestJob.staging_key == key),
            )
        )
    )


def collect_orphans(
    arc: Archive, actor: Actor, grace: timedelta, *, dry_run: bool = False
) -> OrphanReport:
    """Remove (or with ``dry_run`` only list) unreferenced objects older than ``grace``."""
    report = OrphanReport()
    cutoff = utcnow() - grace
    with arc.sessions() as session:
        referenced = _referenced(session)
    candidates = []
    for blob in arc.blobs.listing():
        report.listed += 1
        if blob.key in referenced:
            continue
        if blob.modified > cutoff:
            report.young += 1
            continue
        candidates.append(blob)
    for blob in candidates:
        with arc.sessions() as session:
            if not _still_orphaned(session, blob.key):
                continue
        if not dry_run:
            arc.blobs.delete(blob.key)
        report.removed.append(blob.key)
        report.removed_bytes += blob.size
    if report.removed and not dry_run:
        with arc.transaction() as session:
            record_event(
                session,
                actor,
                "blobs.orphans_removed",
                "blob_store",
                arc.blobs.url[:64],
                {
                    "count": len(report.removed),
                    "bytes": report.removed_bytes,
                    "grace_hours": grace.total_seconds() / 3600,
                    "keys": report.removed[:NAMED_IN_EVENT],
                },
            )
    return report
