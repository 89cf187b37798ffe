"""Office documents through the real pipeline: kept as they came, laid out as PDF by
LibreOffice in the sandbox for reading, and never lost when LibreOffice cannot lay them out.

soffice takes a few seconds a document, so each sample is ingested once per module."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import ConfigError, load_settings
from archive.content import NewRecord, read_content, store
from archive.core import Archive
from archive.models import AuditEvent, IngestJob, IngestStatus, Rendition, RenditionRole, Version
from ingest import sniff
from ingest.backfill import missing_renditions, render_missing
from ingest.office import RENDITION, status_line
from ingest.rules import seed_default_rules
from tests.conftest import make_environ
from tests.ingest import office_samples as office
from tests.ingest.conftest import ingest_env, run_ingest

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="no LibreOffice")


@pytest.fixture(scope="module")
def report_job(oarc: Archive) -> IngestJob:
    return run_ingest(oarc, office.report_docx(), "验收报告.docx", project="华东仓储改造项目")


def stored(arc: Archive, job: IngestJob) -> tuple[Version, dict[str, bytes]]:
    """The version and each of its objects' plaintext by role."""
    assert job.status == IngestStatus.STORED, (job.failed_check, job.reason)
    with arc.sessions() as session:
        version = session.get_one(Version, job.version_id)
        roles = session.scalars(select(Rendition.role).where(Rendition.version_id == version.id))
        objects = {
            role: b"".join(read_content(arc, session, version, role))
            for role in [RenditionRole.ORIGINAL, *roles]
        }
    return version, objects


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def in_order(text: str, parts: list[str]) -> bool:
    """Whether each of ``parts`` comes in ``text`` after the one before it."""
    at = 0
    for part in parts:
        at = text.find(part, at)
        if at < 0:
            return False
        at += len(part)
    return True


@needs_soffice
def test_a_docx_is_kept_whole_and_laid_out_as_pdf_in_reading_order(
    oarc: Archive, report_job: IngestJob
) -> None:
    version, objects = stored(oarc, report_job)
    assert version.media_type == sniff.DOCX
    assert version.page_count == 1  # python-docx saves no count: the laid-out PDF's
    assert objects[RenditionRole.ORIGINAL] == office.report_docx()  # the original, unchanged
    laid_out = objects[RenditionRole.OFFICE_PDF]
    assert laid_out.startswith(b"%PDF-")
    text = pdf_text(laid_out)
    assert office.SENTENCE in text  # “” ，。； as written, nothing turned into ASCII
    cells = [cell for row in office.TABLE for cell in row]
    assert in_order(text, [office.HEADING, office.SENTENCE, *cells])  # the table row by row
    check = (version.checks or {})[RENDITION]
    assert check["ok"] is True
    assert check["detail"].startswith("rendered to PDF by LibreOffice: 1 page(s)")
    # The index still gets the DOCX's own text.
    assert office.HEADING in objects[RenditionRole.TEXT].decode()


@needs_soffice
def test_a_spreadsheet_is_accepted_laid_out_and_searchable_by_its_cells(oarc: Archive) -> None:
    for data, name, media_type in [
        (office.ledger_xlsx(), "差旅费明细.xlsx", sniff.XLSX),
        (office.converted(office.ledger_xlsx(), ".xlsx", "ods"), "差旅费明细.ods", sniff.ODS),
    ]:
        job = run_ingest(oarc, data, name, project="差旅费报销", title=name)
        version, objects = stored(oarc, job)
        assert version.media_type == media_type
        assert version.page_count == 1  # the rendition's
        laid_out = pdf_text(objects[RenditionRole.OFFICE_PDF])
        assert in_order(laid_out, ["科目", "金额", "差旅费", "1200", "招待费", "800"])
        # No extractor of its own: the index gets the text of the PDF.
        indexed = objects[RenditionRole.TEXT].decode()
        assert "差旅费" in indexed
        assert "1200" in indexed


@needs_soffice
def test_a_presentation_is_laid_out_slide_by_slide(oarc: Archive) -> None:
    for data, name, media_type in [
        (office.slides_pptx(), "季度汇报.pptx", sniff.PPTX),
        (office.converted(office.slides_pptx(), ".pptx", "odp"), "季度汇报.odp", sniff.ODP),
    ]:
        job = run_ingest(oarc, data, name, project="仓储汇报", title=name)
        version, objects = stored(oarc, job)
        assert version.media_type == media_type
        assert version.page_count == 1  # one slide, one page
        laid_out = pdf_text(objects[RenditionRole.OFFICE_PDF])
        assert in_order(laid_out, [office.SLIDE_TITLE, *office.SLIDE_POINTS])
        assert office.SLIDE_POINTS[1] in objects[RenditionRole.TEXT].decode()


@needs_soffice
def test_a_docx_libreoffice_cannot_open_is_archived_with_its_text_and_a_warning(
    oarc: Archive,
) -> None:
    broken = office.without_part(office.report_docx())
    job = run_ingest(oarc, broken, "损坏的报告.docx", project="华东仓储改造项目", title="损坏")
    version, objects = stored(oarc, job)
    assert RenditionRole.OFFICE_PDF not in objects
    assert objects[RenditionRole.ORIGINAL] == broken
    assert office.HEADING in objects[RenditionRole.TEXT].decode()
    check = (version.checks or {})[RENDITION]
    assert check["ok"] is None  # a warning: nothing quarantined, nothing lost
    assert check["detail"].startswith("not rendered to PDF: LibreOffice could not open it")


@needs_soffice
def test_switched_off_or_misconfigured_renditions_are_said_plainly(tmp_path: Path) -> None:
    base = make_environ(tmp_path / "home", "sqlite", "local")
    off = load_settings({**base, "ARCHIVE_OFFICE_RENDITIONS": "off"}).ingest
    assert status_line(off).startswith("office renditions are off")
    on = load_settings(base).ingest
    assert status_line(on).startswith("office renditions: on (LibreOffice at ")
    assert on.office_timeout == 120
    for name, value in [
        ("ARCHIVE_OFFICE_RENDITIONS", str(tmp_path / "no-soffice")),
        ("ARCHIVE_OFFICE_TIMEOUT", "1"),
    ]:
        with pytest.raises(ConfigError, match=name):
            load_settings({**base, name: value})
    arc = Archive(load_settings({**ingest_env(base, None), "ARCHIVE_OFFICE_RENDITIONS": "off"}))
    try:
        initialize(arc, Actor.cli())
        seed_default_rules(arc, Actor.cli())
        job = run_ingest(arc, office.report_docx(), "验收报告.docx", project="华东仓储改造项目")
        version, objects = stored(arc, job)
    finally:
        arc.close()
    assert RenditionRole.OFFICE_PDF not in objects
    assert (version.checks or {})[RENDITION] == {
        "ok": None,
        "detail": "not rendered to PDF: switched off; read as its text",
    }


@needs_soffice
def test_office_records_archived_without_a_pdf_get_one_afterwards(oarc: Archive) -> None:
    """As a version stored before office renditions existed: ``archive render-office``."""
    data = office.ledger_xlsx()
    before = set(missing_renditions(oarc))
    stored_before = store(
        oarc,
        io.BytesIO(data),
        actor=Actor.cli(),
        original_filename="旧账.xlsx",
        media_type=sniff.XLSX,
        new_record=NewRecord(project="差旅费报销", title="旧账", when="2025-12"),
    )
    assert set(missing_renditions(oarc)) - before == {stored_before.version_id}
    done = render_missing(oarc, Actor.cli())
    assert done.rendered == 1
    for _, why in done.failed:  # the broken DOCX of the test above, if it ran first
        assert why.startswith("not rendered to PDF: LibreOffice could not open it")
    with oarc.sessions() as session:
        version = session.get_one(Version, stored_before.version_id)
        laid_out = b"".join(read_content(oarc, session, version, RenditionRole.OFFICE_PDF))
        original = b"".join(read_content(oarc, session, version))
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "version.rendition_added")
        ).all()
    assert in_order(pdf_text(laid_out), ["科目", "差旅费", "1200"])
    assert original == data
    assert [e.object_id for e in events] == [str(stored_before.version_id)]
    assert stored_before.version_id not in missing_renditions(oarc)
    assert render_missing(oarc, Actor.cli()).rendered == 0  # nothing twice
    assert list((oarc.settings.home / "work").iterdir()) == []  # no plaintext left behind


def test_office_packages_are_told_apart_by_their_parts(tmp_path: Path) -> None:
    """What libmagic calls a plain zip is named by the part that makes it what it is."""
    import zipfile

    cases = {
        "幻灯片.pptx": ({"ppt/presentation.xml": "<p:presentation/>"}, sniff.PPTX),
        "报表.xlsx": ({"xl/workbook.xml": "<workbook/>"}, sniff.XLSX),
        "文稿.odp": (
            {"mimetype": sniff.ODP, "content.xml": "<office:document-content/>"},
            sniff.ODP,
        ),
        "伪装.odt": ({"mimetype": "text/html", "content.xml": "<x/>"}, "application/zip"),
    }
    for name, (parts, expected) in cases.items():
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as package:
            package.writestr("a.txt", "padding first, so libmagic sees a plain zip")
            for part, text in parts.items():
                package.writestr(part, text)
        assert sniff.sniff(path) == expected, name
        assert (expected in sniff.ALLOWED) == (expected != "application/zip")
