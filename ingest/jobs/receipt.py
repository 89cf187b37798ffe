"""Receiving an ingest job and holding it: encrypted staging, then claims with leases.

The :class:`IngestJob` row is the source of truth. A worker *claims* a job by bumping its
``attempts`` and taking a lease; every later write checks that ``attempts`` still equals its
claim (a fencing token), so a worker that was presumed dead and comes back cannot overwrite
the work of the one that replaced it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.content import seal, unseal
from archive.core import Archive
from archive.crypto import WrappedKey
from archive.db import utcnow
from archive.errors import DomainError
from archive.models import IngestJob, IngestStatus
from ingest.filenames import safe_filename
from ingest.metadata import MetadataError, clean_params, read_sidecar, sidecar_path
from ingest.validate import validate_params

SOURCES = frozenset({"api", "upload", "hotfolder", "bulk", "cli", "transfer"})


class JobError(DomainError):
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
