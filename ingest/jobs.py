"""Ingest job state: receipt into encrypted staging, claims with leases, and the sweeper.

The :class:`IngestJob` row is the source of truth. A worker *claims* a job by bumping its
``attempts`` and taking a lease; every later write checks that ``attempts`` still equals its
claim (a fencing token), so a worker that was presumed dead and comes back cannot overwrite
the work of the one that replaced it. The sweeper re-enqueues what a lost message or a
killed worker left behind.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.content import Sealed, seal, unseal
from archive.core import Archive
from archive.crypto import WrappedKey
from archive.db import utcnow
from archive.models import IngestJob, IngestStatus
from ingest.filenames import safe_filename
from ingest.metadata import MetadataError, clean_params, read_sidecar, sidecar_path
from ingest.validate import validate_params

SOURCES = frozenset({"api", "upload", "hotfolder", "bulk", "cli", "transfer"})


class JobError(Exception):
    """A request about a job cannot be done; the message says why."""


class Superseded(Exception):
    """This worker's claim is no longer current: another attempt owns the job."""


def staging_binding(job_id: uuid.UUID) -> str:
    return f"staging/{job_id}"


def receive(
    arc: Archive,
    source: IO[bytes],
    *,
    filename: str,
    source_kind: str,
    actor: Actor,
    params: dict[str, Any] | None = None,
    source_path: str | None = None,
) -> uuid.UUID:
    """Stream ``source`` into encrypted staging and commit a queued job; return its id.

    The caller enqueues the job *after* this returns (after the commit). Raises
    :class:`~archive.content.ContentTooLarge`, or :class:`MetadataError` for explicit
    metadata that is invalid (an unknown department, a bad date), before anything is kept.
    """
    if source_kind not in SOURCES:
        raise JobError(f"unknown source {source_kind!r}")
    clean = clean_params(params or {})
    with arc.sessions() as session:
        problems = validate_params(session, clean)
    if problems:
        raise MetadataError("; ".join(problems))
    sidecar = (params or {}).get("sidecar")
    if isinstance(sidecar, dict):
        clean["sidecar"] = sidecar
    job_id = uuid.uuid4()
    sealed = seal(arc, source, staging_binding(job_id), limit=arc.settings.max_upload_bytes)
    name = safe_filename(filename)
    try:
        with arc.transaction() as session:
            session.add(
                IngestJob(
                    id=job_id,
                    source=source_kind,
                    original_filename=name,
                    source_path=source_path,
                    params=clean,
                    staging_key=sealed.object_key,
                    staging_kek_id=sealed.wrapped.kek_id,
                    staging_wrapped=sealed.wrapped.wrapped,
                    size=sealed.size,
                    sha256=sealed.sha256,
                    created_by_id=actor.user_id,
                )
            )
            session.flush()
            record_event(
                session,
                actor,
                "ingest.received",
                "ingest_job",
                job_id,
                {
                    "source": source_kind,
                    "filename": name,
                    "given_filename": filename[:300] if name != filename else None,
                    "size": sealed.size,
                    "sha256": sealed.sha256,
                    "source_path": source_path,
                },
            )
    except BaseException:
        arc.blobs.delete(sealed.object_key)
        raise
    return job_id


def receive_file(
    arc: Archive,
    path: Path,
    *,
    relative: str,
    source_kind: str,
    actor: Actor,
    params: dict[str, Any] | None = None,
) -> uuid.UUID:
    """:func:`receive` a file from disk, with the metadata of its sidecar if it has one."""
    sidecar_file = sidecar_path(path)
    sidecar = read_sidecar(sidecar_file) if sidecar_file.exists() else None
    with path.open("rb") as source:
        return receive(
            arc,
            source,
            filename=path.name,
            source_kind=source_kind,
            actor=actor,
            params={**(params or {}), **({"sidecar": sidecar} if sidecar else {})},
            source_path=relative,
        )


def staged_content(arc: Archive, job: IngestJob) -> Iterator[bytes]:
    if job.staging_key is None or job.staging_kek_id is None or job.staging_wrapped is None:
        raise JobError(f"job {job.id} has no staged file")
    wrapped = WrappedKey(job.staging_kek_id, job.staging_wrapped)
    return unseal(arc, job.staging_key, wrapped, staging_binding(job.id))


def fenced(session: Session, job_id: uuid.UUID, attempt: int) -> IngestJob:
    """The job, locked, if ``attempt`` still owns it; else :class:`Superseded`."""
    job = session.get(IngestJob, job_id, with_for_update=True)
    if job is None or job.attempts != attempt or job.status != IngestStatus.PROCESSING:
        raise Superseded(f"job {job_id}: attempt {attempt} no longer owns it")
    return job


def claim(arc: Archive, job_id: uuid.UUID) -> int | None:
    """Take the job for processing; return the attempt number, or None if not ours to do."""
    settings = arc.settings.ingest
    with arc.transaction() as session:
        job = session.get(IngestJob, job_id, with_for_update=True)
        if job is None:
            raise JobError(f"no ingest job {job_id}")
        now = utcnow()
        if job.status.finished:
            return None
        if job.status == IngestStatus.PROCESSING and job.lease_until and job.lease_until > now:
            return None  # another worker holds a live lease
        if job.attempts >= settings.max_attempts:
            _finish_quarantined(
                session,
                job,
                "ingest.attempts",
                f"gave up after {job.attempts} attempts; last error: {job.reason or 'none'}",
            )
            return None
        job.status = IngestStatus.PROCESSING
        job.attempts += 1
        job.lease_until = now + timedelta(seconds=settings.lease_seconds)
        return job.attempts


def set_stage(arc: Archive, job_id: uuid.UUID, attempt: int, stage: str, **fields: Any) -> None:
    """Record progress (shown live to the uploader) and renew the lease."""
    with arc.transaction() as session:
        job = fenced(session, job_id, attempt)
        job.stage = stage
        job.lease_until = utcnow() + timedelta(seconds=arc.settings.ingest.lease_seconds)
        for name, value in fields.items():
            setattr(job, name, value)


def release_claim(arc: Archive, job_id: uuid.UUID, attempt: int, error: str) -> None:
    """Give a job back after a transient failure (storage or database down): retry later."""
    with arc.transaction() as session:
        try:
            job = fenced(session, job_id, attempt)
        except Superseded:
            return
        job.status = IngestStatus.QUEUED
        job.lease_until = None
        job.reason = f"retrying after: {error}"[:2000]


def finish_job(job: IngestJob, status: IngestStatus, checks: dict[str, Any] | None) -> None:
    """End a job in a final status (stored, duplicate, quarantined): the lease goes too."""
    job.status, job.stage = status, status.value
    job.checks = checks if checks is not None else job.checks
    job.lease_until, job.finished_at = None, utcnow()


def _finish_quarantined(
    session: Session,
    job: IngestJob,
    check: str,
    reason: str,
    report: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> None:
    finish_job(job, IngestStatus.QUARANTINED, report or None)
    job.failed_check = check
    job.reason = reason[:2000]
    record_event(
        session,
        actor or Actor("ingest"),
        "ingest.quarantined",
        "ingest_job",
        job.id,
        {"check": check, "reason": reason[:500], "filename": job.original_filename},
    )


def quarantine(
    arc: Archive,
    job_id: uuid.UUID,
    attempt: int,
    check: str,
    reason: str,
    report: dict[str, Any] | None = None,
) -> None:
    with arc.transaction() as session:
        _finish_quarantined(session, fenced(session, job_id, attempt), check, reason, report)


def drop_staging(arc: Archive, job_id: uuid.UUID) -> None:
    """Delete the staged blob of a finished job (the sweeper repeats this after a crash)."""
    with arc.sessions() as session:
        key = session.scalar(select(IngestJob.staging_key).where(IngestJob.id == job_id))
    if key is None:
        return
    arc.blobs.delete(key)
    with arc.transaction() as session:
        job = session.get(IngestJob, job_id, with_for_update=True)
        if job is not None and job.staging_key == key:
            job.staging_key = job.staging_kek_id = None
            job.staging_wrapped = None


NOT_RELEASABLE = frozenset({"security.virus_scan"})


def release(arc: Archive, actor: Actor, job_id: uuid.UUID, reason: str) -> None:
    """A records manager accepts a quarantined file despite its failed check (audited).

    The job is queued again and stored with the failure and the release in its report.
    Malware is never released.
    """
    if not reason.strip():
        raise JobError("a release needs a reason")
    with arc.transaction() as session:
        job = _quarantined(session, job_id)
        if job.failed_check in NOT_RELEASABLE:
            raise JobError(f"a file that failed {job.failed_check} cannot be released")
        job.params = {**job.params, "release": {"by": actor.name, "reason": reason[:1000]}}
        _requeue(job)
        record_event(
            session,
            actor,
            "ingest.released",
            "ingest_job",
            job_id,
            {"check": job.failed_check, "reason": reason[:1000]},
        )


def retry(
    arc: Archive,
    actor: Actor,
    job_id: uuid.UUID,
    replacement: IO[bytes] | None = None,
    params: dict[str, Any] | None = None,
) -> None:
    """Queue a quarantined job again, optionally with a fixed file and corrected metadata."""
    new: Sealed | None = None
    if replacement is not None:
        new = seal(arc, replacement, staging_binding(job_id), arc.settings.max_upload_bytes)
    try:
        with arc.transaction() as session:
            job = _quarantined(session, job_id)
            old_key = job.staging_key
            if params:
                job.params = {**job.params, **clean_params(params)}
            if new is not None:
                job.staging_key, job.size, job.sha256 = new.object_key, new.size, new.sha256
                job.staging_kek_id, job.staging_wrapped = new.wrapped.kek_id, new.wrapped.wrapped
            _requeue(job)
            record_event(
                session,
                actor,
                "ingest.retried",
                "ingest_job",
                job_id,
                {
                    "replaced_file": new is not None,
                    "sha256": job.sha256,
                    "params": clean_params(params or {}),
                },
            )
    except BaseException:
        if new is not None:
            arc.blobs.delete(new.object_key)
        raise
    if new is not None and old_key is not None:
        arc.blobs.delete(old_key)


def _quarantined(session: Session, job_id: uuid.UUID) -> IngestJob:
    job = session.get(IngestJob, job_id, with_for_update=True)
    if job is None:
        raise JobError(f"no ingest job {job_id}")
    if job.status != IngestStatus.QUARANTINED:
        raise JobError(f"job {job_id} is {job.status.value}, not quarantined")
    if job.staging_key is None:
        raise JobError(f"job {job_id} has no staged file left to process")
    return job


def _requeue(job: IngestJob) -> None:
    job.status = IngestStatus.QUEUED
    job.stage = "received"
    job.attempts = 0
    job.failed_check = None
    job.finished_at = None
    job.lease_until = None


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
