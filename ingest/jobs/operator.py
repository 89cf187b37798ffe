"""What a records manager does to a quarantined job: release it despite a failed check, or
retry it (optionally with a fixed file and corrected metadata). Both are audited.
"""

from __future__ import annotations

import uuid
from typing import IO, Any

from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.content import Sealed, seal, staging_binding
from archive.core import Archive
from archive.models import IngestJob, IngestStatus
from ingest.checks import NOT_RELEASABLE
from ingest.filenames import safe_filename
from ingest.jobs.receipt import JobError
from ingest.metadata import MetadataError, clean_params
from ingest.validate import validate_params


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
    filename: str | None = None,
) -> None:
    """Queue a quarantined job again, optionally with a fixed file (named ``filename``: its
    own name is what its type is checked against) and corrected metadata."""
    new: Sealed | None = None
    if replacement is not None:
        new = seal(arc, replacement, staging_binding(job_id), arc.settings.max_upload_bytes)
    try:
        with arc.transaction() as session:
            job = _quarantined(session, job_id)
            old_key = job.staging_key
            if params:
                job.params = {**job.params, **clean_params(params)}
                problems = validate_params(session, job.params, job.created_by_id, job.source)
                if problems:  # the job's own uploader, not whoever presses retry
                    raise MetadataError("; ".join(problems))
            if new is not None:
                if filename:  # a scan sent for a mislabelled PDF is judged as the scan
                    job.original_filename = safe_filename(filename)
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
                    "filename": job.original_filename,
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
