"""One ingest job from staged bytes to a committed, announced version.

Stages: fetch (decrypt staging, verify digest) → sniff → scan → extract in the sandbox (OCR
for scans) → normalise → resolve metadata → classify → check → de-duplicate → name, version,
encrypt and store (with the job's state in the same transaction) → announce. Every stage is
a plain function; ``process`` only sequences them, so a redelivered message re-runs the
whole chain harmlessly: nothing is visible until the final commit, and the claim's fencing
token lets exactly one attempt commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import unicodedata
import uuid
from dataclasses import dataclass, field, replace
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
from archive.text import normalize_for_index
from ingest import sniff
from ingest.checks import (
    NOT_RELEASABLE,
    WRITE_CHECK,
    Report,
    opens_detail,
    opens_facts,
    virus_scan,
)
from ingest.classify import Decision, Document, classify
from ingest.describe import fill_from_text
from ingest.extract import extract
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
    staged_content,
    workdir_root,
)
from ingest.metadata import Resolved, resolve
from ingest.ocr import ocr
from ingest.office import RENDITION, render
from ingest.rules import load_rules
from ingest.sandbox import SandboxError, run_limited
from ingest.validate import (
    may_add_version,
    may_name_duplicate,
    validate_metadata,
    write_problem,
)

#: Failures of the machinery, not of the file: the job is retried, never quarantined.
TRANSIENT = (StorageError, DBAPIError, OSError)


class Quarantine(Exception):
    def __init__(self, check: str, reason: str) -> None:
        super().__init__(reason)
        self.check = check


@dataclass
class Work:
    """What the stages learn about one job's file."""

    job: IngestJob
    attempt: int
    path: Path
    report: Report = field(default_factory=Report)
    media_type: str = "application/octet-stream"
    pages: list[str] = field(default_factory=list)
    page_count: int | None = None
    scan: dict[str, Any] | None = None
    ocr_pdf: Path | None = None
    office_pdf: Path | None = None
    text: str = ""
    simplified: str = ""
    text_cut_at: int | None = None  # bytes of text kept when the rest was cut
    meta: Resolved | None = None
    decision: Decision | None = None

    @property
    def released(self) -> dict[str, Any] | None:
        release = self.job.params.get("release")
        return release if isinstance(release, dict) else None


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


def fetch(arc: Archive, work: Work) -> None:
    """Decrypt the staged file to the private work directory and check its digest."""
    digest = hashlib.sha256()
    with work.path.open("wb") as out:
        for chunk in staged_content(arc, work.job):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != work.job.sha256:
        raise Quarantine(
            "authenticity.digest",
            f"staged content hashes to {digest.hexdigest()}, receipt said {work.job.sha256}",
        )
    work.report.passed("authenticity.digest", f"SHA-256 {work.job.sha256}")


#: What shows nothing: spaces, line breaks, controls and format marks (BOMs, zero widths).
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def _visible(text: str) -> bool:
    """Whether ``text`` has a character that shows; stops at the first one."""
    return any(unicodedata.category(ch) not in _INVISIBLE for ch in text)


def inspect(arc: Archive, work: Work) -> None:
    """Sniff, scan, and refuse what cannot be kept, before any parser sees the bytes."""
    settings = arc.settings.ingest
    if work.job.size == 0:
        raise Quarantine("integrity.content_present", "the file is empty")
    work.report.passed("integrity.content_present", f"{work.job.size} bytes")
    work.media_type = sniff.sniff(work.path)
    scan = virus_scan(work.path, settings)
    if scan.ok is False:
        raise Quarantine("security.virus_scan", scan.detail)
    if scan.ok is None:
        work.report.skipped("security.virus_scan", scan.detail)
    else:
        work.report.passed("security.virus_scan", scan.detail)
    if work.media_type not in sniff.ALLOWED:
        extension = Path(work.job.original_filename).suffix or "no extension"
        raise Quarantine(
            "usability.allowed_format",
            f"{work.media_type} (named {extension}) is not a format allowed for keeping",
        )
    mismatch = sniff.extension_mismatch(work.job.original_filename, work.media_type)
    if mismatch is not None:
        raise Quarantine("usability.allowed_format", mismatch)
    work.report.passed("usability.allowed_format", work.media_type)


def extract_text(arc: Archive, work: Work) -> None:
    """Extract (and OCR) in the sandbox, then normalise."""
    settings = arc.settings.ingest
    set_stage(arc, work.job.id, work.attempt, "extracting", media_type=work.media_type)
    limits = {
        "max_image_pixels": settings.max_image_pixels,
        "max_inflated_bytes": settings.max_inflated_bytes,
        "text_cap_bytes": settings.text_cap_bytes,
    }
    result = _sandboxed(arc, extract, str(work.path), work.media_type, limits)
    work.pages, work.page_count = result.get("pages", []), result.get("page_count")
    if work.media_type == sniff.TEXT and not any(_visible(page) for page in work.pages):
        raise Quarantine(
            "integrity.content_present", "the file holds no text, only spaces or an encoding mark"
        )
    if result.get("truncated"):
        work.text_cut_at = settings.text_cap_bytes
    work.scan = result.get("scan")
    if result.get("needs_ocr"):
        set_stage(arc, work.job.id, work.attempt, "ocr")
        out = work.path.parent / "ocr.pdf"
        dpi = (work.scan or {}).get("dpi")
        done = _sandboxed(
            arc, ocr, str(work.path), work.media_type, str(out), settings.ocr_languages, dpi
        )
        work.pages, work.page_count, work.ocr_pdf = done["pages"], done["page_count"], out
    if work.media_type in sniff.OFFICE:
        render_office(arc, work, bool(result.get("text_from_rendition")))
    work.report.passed("usability.not_encrypted")
    opened = opens_detail({**result, "page_count": work.page_count})  # OCR's count if OCR'd
    if work.text_cut_at is not None:
        opened += f"; text past {work.text_cut_at >> 20} MiB not indexed (the file is kept whole)"
    work.report.passed("usability.opens", opened, **opens_facts(result))
    normalized = normalize_for_index("\f".join(work.pages))
    work.text, work.simplified = normalized.text, normalized.simplified


def render_office(arc: Archive, work: Work, text_too: bool) -> None:
    """Lay an office document out as PDF for reading; a failure is a warning, never a loss."""
    set_stage(arc, work.job.id, work.attempt, "rendering")
    out = work.path.parent / "office.pdf"
    rendered = render(arc.settings.ingest, work.path, work.media_type, out, text_too)
    work.report.results[RENDITION] = {"ok": rendered.ok, "detail": rendered.detail}
    work.office_pdf = rendered.pdf
    if rendered.pages is not None:  # no extractor of its own: the PDF's text and pages
        work.pages, work.page_count = rendered.pages, rendered.page_count
        if rendered.truncated:
            work.text_cut_at = arc.settings.ingest.text_cap_bytes
    elif work.page_count is None:  # a DOCX keeps the count Word saved; without one, the PDF's
        work.page_count = rendered.page_count


def describe(arc: Archive, work: Work) -> None:
    """Resolve metadata and classify; problems go into the report, nothing raises."""
    settings = arc.settings.ingest
    params = {k: v for k, v in work.job.params.items() if k not in ("sidecar", "release")}
    folder = str(Path(work.job.source_path).parent) if work.job.source_path else ""
    folder = "" if folder == "." else folder
    work.meta = resolve(
        params,
        work.job.original_filename,
        sidecar=work.job.params.get("sidecar"),
        # Only a hot folder's layout is a promise (<department>/<project>/file).
        folder=folder if work.job.source == "hotfolder" else None,
        default_project=settings.default_project,
    )
    # 责任者 and 文号 the text shows fill what nobody gave (read from the lines, before
    # normalisation joins them).
    described, why = fill_from_text(work.meta.description, work.meta.sources, work.pages)
    work.meta = replace(work.meta, description=described, sources={**work.meta.sources, **why})
    with arc.sessions() as session:
        uploader = session.get(User, work.job.created_by_id) if work.job.created_by_id else None
        if uploader is not None and uploader.department and not work.meta.department:
            # A person's document is their department's unless they say otherwise.
            work.meta = replace(work.meta, department=uploader.department.code)
        problems = validate_metadata(session, work.meta, work.job.created_by_id)
        if problems:
            work.report.failed("authenticity.metadata_valid", "; ".join(problems))
        else:
            work.report.passed("authenticity.metadata_valid")
        if work.meta.record_id is not None:
            refusal = write_problem(
                session,
                work.meta.record_id,
                work.job.created_by_id,
                work.job.source,
                operator_department(work.job, work.meta),
            )
            if refusal:  # checked before anything is stored, and never released
                work.report.failed(WRITE_CHECK, refusal)
        rules = load_rules(session)
    work.report.passed(
        "integrity.required_metadata",
        ", ".join(f"{k} from {v}" for k, v in sorted(work.meta.sources.items())),
    )
    document = Document(work.simplified, work.job.original_filename, folder)
    work.decision = classify(rules, document)
    work.report.passed(
        "security.controlled_process",
        f"{work.job.source} by user {work.job.created_by_id or 'cli'} "
        f"at {work.job.created_at:%Y-%m-%dT%H:%M:%SZ}",
    )


def _sandboxed(arc: Archive, func: Any, *args: Any) -> dict[str, Any]:
    settings = arc.settings.ingest
    try:
        result = run_limited(
            func,
            *args,
            timeout=settings.extract_timeout,
            memory_bytes=settings.extract_memory_mb << 20,
        )
    except SandboxError as exc:
        raise Quarantine("usability.opens", str(exc)) from None
    if "failure" in result:
        raise Quarantine(str(result["check"]), str(result["failure"]))
    return result


def operator_department(job: IngestJob, meta: Resolved) -> str | None:
    """The department a document with nobody behind it may write into: for the hot folder,
    the one its path names (a sidecar cannot widen it); else the resolved metadata's."""
    if job.source == "hotfolder" and job.source_path:
        parts = Path(job.source_path).parts
        return parts[0] if len(parts) > 1 else None
    return meta.department


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
    return next(
        (
            record
            for record in candidates
            if may_add_version(session, record, job.created_by_id, job.source, department)
        ),
        None,
    )


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
