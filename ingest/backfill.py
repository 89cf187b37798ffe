"""PDF renditions for office documents archived before they were made at ingest (or while
LibreOffice was missing): ``archive render-office``. Each version's original is decrypted
into a private work directory, laid out in the sandbox as at ingest, and the PDF filed
beside it (archive.content.later); the directory is removed whatever happens. A document
LibreOffice cannot lay out is counted and named, and stays readable as its text."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import exists, select

from archive.audit import Actor
from archive.content import RenditionSource, read_content
from archive.content.later import add_rendition
from archive.core import Archive
from archive.errors import DomainError, ErrorKind
from archive.models import Record, RecordState, Rendition, RenditionRole, Version
from ingest import sniff
from ingest.jobs import workdir_root
from ingest.office import find_soffice, render


@dataclass
class Backfill:
    rendered: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (version name, why)


def missing_renditions(arc: Archive, limit: int | None = None) -> list[uuid.UUID]:
    """Office versions of records still held (not destroyed) that have no PDF rendition."""
    has_pdf = exists().where(
        Rendition.version_id == Version.id, Rendition.role == RenditionRole.OFFICE_PDF
    )
    query = (
        select(Version.id)
        .join(Record, Record.id == Version.record_id)
        .where(
            Version.media_type.in_(sorted(sniff.OFFICE)),
            Record.state != RecordState.DISPOSED,
            ~has_pdf,
        )
        .order_by(Version.created_at)
        .limit(limit)
    )
    with arc.sessions() as session:
        return list(session.scalars(query))


def render_missing(
    arc: Archive,
    actor: Actor,
    limit: int | None = None,
    progress: Callable[[str, bool], None] | None = None,
) -> Backfill:
    """Render and file the PDF of each version :func:`missing_renditions` lists."""
    settings = arc.settings.ingest
    if find_soffice(settings) is None:
        raise DomainError(
            "office renditions are off: LibreOffice (soffice) is not available",
            ErrorKind.UNAVAILABLE,
        )
    done = Backfill()
    for version_id in missing_renditions(arc, limit):
        work = workdir_root(arc) / f"render-{version_id}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, mode=0o700)
        try:
            with arc.sessions() as session:
                version = session.get_one(Version, version_id)
                name, media_type = version.name, version.media_type
                with (work / "original").open("wb") as out:
                    for chunk in read_content(arc, session, version):
                        out.write(chunk)
            pdf = work / "office.pdf"
            rendered = render(settings, work / "original", media_type, pdf, False)
            if rendered.pdf is None:
                done.failed.append((name, rendered.detail))
            else:
                with pdf.open("rb") as source:
                    filed = RenditionSource(RenditionRole.OFFICE_PDF, sniff.PDF, source)
                    if add_rendition(arc, actor, version_id, filed):
                        done.rendered += 1
            if progress is not None:
                progress(name, rendered.pdf is not None)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return done
