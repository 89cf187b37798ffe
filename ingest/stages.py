"""The stages of an ingest job before anything is stored: fetch the staged bytes, inspect
them (sniff, scan, allowed formats), extract text (OCR and office layout in the sandbox)
and describe (metadata, classification). Each learns into :class:`Work` and refuses a file
by raising :class:`Quarantine` with the 四性 check it failed."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from archive.core import Archive
from archive.models import (
    IngestJob,
    User,
)
from archive.text import normalize_for_index
from ingest import sniff
from ingest.checks import (
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
    set_stage,
    staged_content,
)
from ingest.metadata import Resolved, resolve
from ingest.ocr import ocr
from ingest.office import RENDITION, render
from ingest.rules import load_rules
from ingest.sandbox import SandboxError, run_limited
from ingest.validate import (
    validate_metadata,
    write_problem,
)


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
    if scan.ok is False or (scan.ok is None and settings.clamav == "required"):
        raise Quarantine("security.virus_scan", scan.detail)  # retry once ClamAV can scan
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
