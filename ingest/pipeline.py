"""One ingest job from staged bytes to a committed, announced version.

Stages: fetch (decrypt staging, verify digest) → sniff → scan → extract in the sandbox (OCR
for scans) → normalise → resolve metadata → classify → check → de-duplicate → name, version,
encrypt and store (with the job's state in the same transaction) → announce. Every stage is
a plain function; ``process`` only sequences them, so a redelivered message re-runs the
whole chain harmlessly: nothing is visible until the final commit, and the claim's fencing
token lets exactly one attempt commit. The stages before the store are in
:mod:`ingest.stages`; this module runs them and stores.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.content import NewRecord, RenditionSource, VersionFacts, store
from archive.core import Archive
from archive.description import change_description
from archive.models import (
    IngestJob,
    IngestStatus,
    Project,
    Record,
    RenditionRole,
    Sensitivity,
    User,
    Version,
)
from archive.naming import clean_project_name
from archive.storage import StorageError
from ingest import sniff
from ingest.checks import (
    NOT_RELEASABLE,
    WRITE_CHECK,
)
from ingest.classify import Decision
from ingest.jobs import (
    JobError,
    Superseded,
    claim,
    drop_staging,
    fenced,
    finish_job,
    quarantine,
    release_claim,
    set_stage,
    workdir_root,
)
from ingest.metadata import Resolved
from ingest.stages import (
    Quarantine,
    Work,
    describe,
    extract_text,
    fetch,
    inspect,
    operator_department,
)
from ingest.validate import (
    being_signed,
    may_add_version,
    may_name_duplicate,
    write_problem,
)

#: Failures of the machinery, not of the file: the job is retried, never quarantined.
TRANSIENT = (StorageError, DBAPIError, OSError)


def process(arc: Archive, job_id: uuid.UUID) -> IngestStatus:
    """Run the job if it is ours to run; return its status afterwards."""
    attempt = claim(arc, job_id)
    if attempt is not None:
        workdir = workdir_root(arc) / str(job_id)
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True, mode=0o700)
        try:
            _run(arc, job_id, attempt, workdir)
        except Superseded:
            pass  # another attempt owns the job now; its result stands
        except TRANSIENT as exc:
            with contextlib.suppress(Exception):  # if this fails too, the lease runs out
                release_claim(arc, job_id, attempt, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    with arc.sessions() as session:
        job = session.get(IngestJob, job_id)
        if job is None:
            raise JobError(f"no ingest job {job_id}")
        return job.status


def _run(arc: Archive, job_id: uuid.UUID, attempt: int, workdir: Path) -> None:
    with arc.sessions() as session:
        job = session.get(IngestJob, job_id)
    if job is None:
        raise JobError(f"no ingest job {job_id}")
    work = Work(job=job, attempt=attempt, path=workdir / "original")
    try:
        fetch(arc, work)
        inspect(arc, work)
        extract_text(arc, work)
    except Quarantine as failed:
        work.report.failed(failed.check, str(failed))
        if work.released is None or failed.check in NOT_RELEASABLE:
            quarantine(arc, job_id, attempt, failed.check, str(failed), work.report.as_dict())
            return
    describe(arc, work)
    failure = work.report.first_failure(NOT_RELEASABLE) or (
        work.report.first_failure() if work.released is None else None
    )
    if failure is not None:
        quarantine(arc, job_id, attempt, *failure, work.report.as_dict())
        return
    try:
        commit(arc, work)
    except Quarantine as refused:  # the right to write, checked again where it is used
        work.report.failed(refused.check, str(refused))
        quarantine(arc, job_id, attempt, refused.check, str(refused), work.report.as_dict())
        return
    drop_staging(arc, job_id)


def _existing_record(session: Session, meta: Resolved, job: IngestJob) -> Record | None:
    """The record this upload becomes a version of: the one named (checked already), or the
    newest of the same project and title that the uploader may write; otherwise None, a new
    record (never a silent version of someone else's)."""
    department = operator_department(job, meta)
    if meta.record_id is not None:  # again, in the storing step: a release skips no right
        refusal = write_problem(session, meta.record_id, job.created_by_id, job.source, department)
        if refusal:
            raise Quarantine(WRITE_CHECK, refusal)
        return session.get(Record, meta.record_id)
    if meta.new_record:  # one of several files sent together, sharing a typed title
        return None
    candidates = session.scalars(
        select(Record)
        .join(Project)
        .where(Project.name == clean_project_name(meta.project), Record.title == meta.title)
        .order_by(Record.created_at.desc())
    )
    found = next(
        (
            record
            for record in candidates
            if may_add_version(session, record, job.created_by_id, job.source, department)
        ),
        None,
    )
    refusal = being_signed(session, found) if found is not None else None
    if refusal:
        raise Quarantine(WRITE_CHECK, refusal)
    return found


def commit(arc: Archive, work: Work) -> None:
    """Name, version, encrypt and store; or record a duplicate. One transaction either way."""
    meta, decision = work.meta, work.decision
    if meta is None or decision is None:
        raise RuntimeError("commit() before describe()")
    job = work.job
    set_stage(arc, job.id, work.attempt, "storing")
    with arc.sessions() as session:
        record = _existing_record(session, meta, job)
        department = operator_department(job, meta)
        same = [  # a duplicate is named only to someone who may know its record
            version
            for version in session.scalars(select(Version).where(Version.sha256 == job.sha256))
            if (record is not None and version.record_id == record.id)
            or may_name_duplicate(
                session, version.record, job.created_by_id, job.source, department
            )
        ]
        creator = session.get(User, job.created_by_id) if job.created_by_id else None
    actor = Actor(creator.username if creator else f"ingest:{job.source}", job.created_by_id)
    if record is not None:
        for version in same:
            if version.record_id == record.id:
                _finish_duplicate(arc, work, record.id, version.id, actor)
                return
    elsewhere = next((v for v in same if record is None or v.record_id != record.id), None)
    if elsewhere is not None:
        work.report.results["authenticity.metadata_valid"]["duplicate_of"] = elsewhere.name
    threshold = arc.settings.ingest.classify_threshold
    classification = decision.explain(threshold)
    if meta.description:  # where each described value came from (given, or the text)
        classification["described"] = {k: meta.sources[k] for k in meta.description}
    if work.released:
        work.report.results["released"] = {"ok": True, "detail": work.released}
    judged = _judged_sensitivity(meta, decision)
    facts = VersionFacts(
        page_count=work.page_count,
        ocr=work.ocr_pdf is not None,
        text_stats=_text_stats(work),
        checks=work.report.as_dict(),
        sensitivity=judged,
    )
    new_record = None
    if record is None:
        sensitivity = judged or Sensitivity.INTERNAL
        new_record = NewRecord(
            project=meta.project,
            title=meta.title,
            when=meta.date,
            department=meta.department,
            sensitivity=sensitivity,
            process=decision.process,
            stage=decision.stage,
            record_type=decision.record_type,
            classification=classification,
            needs_review=decision.confidence < threshold,
            description=dict(meta.description),
        )
    renditions = [
        RenditionSource(RenditionRole.TEXT, "text/plain; charset=utf-8", _text_stream(work.text))
    ]
    if work.ocr_pdf is not None:
        renditions.append(
            RenditionSource(RenditionRole.OCR_PDF, sniff.PDF, work.ocr_pdf.open("rb"))
        )
    if work.office_pdf is not None:
        renditions.append(
            RenditionSource(RenditionRole.OFFICE_PDF, sniff.PDF, work.office_pdf.open("rb"))
        )

    def finish(session: Session, version: Version) -> None:
        locked = fenced(session, job.id, work.attempt)
        finish_job(locked, IngestStatus.STORED, facts.checks)
        locked.record_id, locked.version_id = version.record_id, version.id
        locked.duplicate_of_id = elsewhere.id if elsewhere is not None else None
        locked.media_type, locked.reason = work.media_type, None
        if record is not None:  # a new version fills what its record lacks, never replaces
            target = session.get_one(Record, version.record_id)
            empty = {k: v for k, v in meta.description.items() if not getattr(target, k)}
            change_description(session, actor, target, empty, why=f"ingest of {version.name}")

    original = work.path.open("rb")
    try:
        store(
            arc,
            original,
            actor=actor,
            original_filename=job.original_filename,
            media_type=work.media_type,
            new_record=new_record,
            record_id=record.id if record is not None else None,
            major_revision=meta.major,
            facts=facts,
            renditions=renditions,
            in_transaction=finish,
        )
    finally:
        original.close()
        for rendition in renditions:
            rendition.source.close()


def _finish_duplicate(
    arc: Archive, work: Work, record_id: uuid.UUID, version_id: uuid.UUID, actor: Actor
) -> None:
    with arc.transaction() as session:
        job = fenced(session, work.job.id, work.attempt)
        finish_job(job, IngestStatus.DUPLICATE, work.report.as_dict())
        job.record_id, job.duplicate_of_id = record_id, version_id
        job.media_type = work.media_type
        record_event(
            session,
            actor,
            "ingest.duplicate",
            "ingest_job",
            job.id,
            {"record_id": str(record_id), "same_as_version": str(version_id)},
        )
    drop_staging(arc, work.job.id)


def _judged_sensitivity(meta: Resolved, decision: Decision) -> Sensitivity | None:
    """The higher of what the uploader said and what the rules found; None if neither."""
    chosen = [s for s in (meta.sensitivity, decision.sensitivity) if s is not None]
    return max(chosen, key=lambda s: s.rank) if chosen else None


def _text_stats(work: Work) -> dict[str, Any]:
    cjk = sum(1 for ch in work.text if "\u4e00" <= ch <= "\u9fff")
    stats: dict[str, Any] = {
        "characters": len(work.text),
        "cjk_characters": cjk,
        "pages_with_text": sum(1 for page in work.pages if page.strip()),
    }
    if work.scan:
        stats["scan"] = work.scan
    if work.text_cut_at is not None:  # the file is kept whole; its text is searched this far
        stats["text_cut_at_bytes"] = work.text_cut_at
    return stats


def _text_stream(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))
