"""The sweeper: re-enqueues what a lost message or a killed worker left behind, and tidies
(finished jobs' staging, stale work directories, the embedded broker's delivered messages).
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from archive.core import Archive
from archive.db import utcnow
from archive.models import IngestJob, IngestStatus
from ingest.jobs.receipt import drop_staging


@dataclass(frozen=True)
class SweepReport:
    requeued: list[uuid.UUID]
    staging_dropped: int
    workdirs_removed: int
    messages_purged: int = 0


#: Delivered messages the embedded broker keeps are deleted once they are this old.
DELIVERED_MESSAGE_DAYS = 1


def purge_delivered_messages(arc: Archive) -> int:
    """The SQLAlchemy transport never deletes delivered messages; keep its table small.

    Safe: a delivered message is never delivered again (the job row is the truth anyway).
    """
    url = arc.settings.broker_url
    if not url.startswith("sqla+"):
        return 0
    from datetime import datetime

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    engine = create_engine(url.removeprefix("sqla+"))
    cutoff = datetime.now() - timedelta(days=DELIVERED_MESSAGE_DAYS)  # kombu stores local time
    try:
        with engine.begin() as connection:
            result = connection.execute(
                text("DELETE FROM kombu_message WHERE visible = :no AND timestamp < :cutoff"),
                {"no": False, "cutoff": cutoff},
            )
            return int(result.rowcount or 0)
    except (OperationalError, ProgrammingError):
        return 0  # no message was ever sent: the table does not exist yet
    finally:
        engine.dispose()


def sweep(arc: Archive) -> SweepReport:
    """Find jobs a lost message or a dead worker left behind; tidy finished jobs' staging.

    Returns the jobs to enqueue again (the caller enqueues them after this commit).
    """
    settings = arc.settings.ingest
    now = utcnow()
    stale_queue = now - timedelta(seconds=settings.queue_deadline_seconds)
    requeued: list[uuid.UUID] = []
    with arc.transaction() as session:
        stuck = session.scalars(
            select(IngestJob)
            .where(
                ((IngestJob.status == IngestStatus.QUEUED) & (IngestJob.updated_at < stale_queue))
                | ((IngestJob.status == IngestStatus.PROCESSING) & (IngestJob.lease_until < now))
            )
            .with_for_update(skip_locked=True)
            .limit(500)
        ).all()
        for job in stuck:
            if job.status == IngestStatus.PROCESSING:
                job.status = IngestStatus.QUEUED
                job.lease_until = None
                job.reason = "the worker's lease expired (worker lost); queued again"
            job.updated_at = now
            requeued.append(job.id)
        done = session.scalars(
            select(IngestJob.id).where(
                IngestJob.status.in_([IngestStatus.STORED, IngestStatus.DUPLICATE]),
                IngestJob.staging_key.is_not(None),
            )
        ).all()
    for job_id in done:
        drop_staging(arc, job_id)
    return SweepReport(
        requeued,
        len(done),
        _remove_stale_workdirs(arc, settings.lease_seconds),
        purge_delivered_messages(arc),
    )


def workdir_root(arc: Archive) -> Path:
    return arc.settings.home / "work"


def _remove_stale_workdirs(arc: Archive, older_than: int) -> int:
    """Remove work directories a killed worker left: its job has ended, or it is old."""
    root = workdir_root(arc)
    if not root.is_dir():
        return 0
    removed = 0
    cutoff = time.time() - older_than
    with arc.sessions() as session:
        for path in root.iterdir():
            try:
                job = session.get(IngestJob, uuid.UUID(path.name))
            except ValueError:
                job = None
            ended = job is None or job.status.finished
            if path.is_dir() and (ended or path.stat().st_mtime < cutoff):
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
    return removed
