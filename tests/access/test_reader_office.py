"""Documents look like documents: an office record opens in the reader as its PDF rendition
under the stamp, download still gives the original, and a plain-text record reads as written."""

from __future__ import annotations

import io
import shutil
import uuid
from urllib.parse import unquote

import pytest
from pypdf import PdfReader

from access.reader import AsWritten
from archive.content import read_content
from archive.models import IngestJob, RenditionRole, Version
from ingest.pipeline import process
from ingest.textfile import SAMPLE_BYTES
from tests.access.conftest import World
from tests.access.test_cli import cli
from tests.access.test_web_pages import Browser
from tests.ingest import office_samples as office

PROJECT = "华东仓储改造项目"


def upload(world: World, who: str, data: bytes, name: str) -> uuid.UUID:
    """Upload as ``who`` and run the job as the worker would; the new version's id."""
    response = world.call(
        "POST",
        who,
        "/api/v1/documents",
        data={"file": (io.BytesIO(data), name), "project": PROJECT, "date": "2026-05"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.json
    job_id = uuid.UUID(response.json["job_id"])  # type: ignore[index]
    process(world.arc, job_id)
    with world.arc.sessions() as session:
        job = session.get_one(IngestJob, job_id)
        assert job.version_id is not None, (job.failed_check, job.reason)
        return job.version_id


def grant_view(world: World, version_id: uuid.UUID) -> None:
    """zhang asks to read the record; wang, head of CG, approves."""
    with world.arc.sessions() as session:
        record_id = session.get_one(Version, version_id).record_id
    asked = world.call(
        "POST",
        "zhang",
        "/api/v1/access-requests",
        json={"record_id": str(record_id), "purpose": "核对验收资料", "scope": "view", "days": 7},
    )
    assert asked.status_code == 201, asked.json
    path = f"/api/v1/access-requests/{asked.json['id']}/approve"  # type: ignore[index]
    assert world.call("POST", "wang", path).json["status"] == "approved"  # type: ignore[index]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="no LibreOffice")
def test_an_approved_reader_sees_the_docx_as_a_stamped_pdf_and_downloads_the_original(
    world: World,
) -> None:
    data = office.report_docx()
    version_id = upload(world, "wang", data, "验收报告.docx")
    content = f"/versions/{version_id}/content"
    assert world.call("GET", "zhang", f"/api/v1{content}?action=view").status_code == 403
    grant_view(world, version_id)

    zhang = Browser(world, "zhang")
    page = zhang.text(f"/reader/{version_id}")
    assert content + "?action=view" in page
    assert "每页都印有您的姓名、IP 地址和时间" in page  # its PDF rendition is stamped
    view = zhang.get(content + "?action=view")
    assert view.status_code == 200  # type: ignore[attr-defined]
    assert view.mimetype == "application/pdf"  # type: ignore[attr-defined]
    disposition = unquote(view.headers["Content-Disposition"])  # type: ignore[attr-defined]
    assert disposition.startswith("inline;")
    assert disposition.endswith(f"{PROJECT}-2026-05-1.0.pdf")
    text = "\n".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(view.get_data())).pages  # type: ignore[attr-defined]
    )
    assert "用户zhang (zhang)  127.0.0.1" in text  # the stamp, like any PDF
    assert "仅供查阅 严禁外传" in text
    body = text[text.index(office.HEADING) :]
    cells = [cell for row in office.TABLE for cell in row]
    at = 0
    for part in [office.SENTENCE, *cells]:  # after the heading, in order, punctuation intact
        at = body.index(part, at) + len(part)

    assert world.call("GET", "zhang", f"/api/v1{content}?action=download").status_code == 403
    download = world.call("GET", "wang", f"/api/v1{content}?action=download")
    assert download.status_code == 200
    assert download.data == data  # the original file, not the rendition
    assert unquote(download.headers["Content-Disposition"]).endswith(".docx")


WRITTEN = "关于仓储改造的说明\r\n\r\n一、工期：自五月起，共九十天。\r\n二、“验收”由采购部负责！\r\n"


def test_a_plain_text_record_reads_as_written_not_as_the_index_text(world: World) -> None:
    data = WRITTEN.encode("gb18030")  # as a Chinese Windows editor saves it
    version_id = upload(world, "wang", data, "说明.txt")
    with world.arc.sessions() as session:
        version = session.get_one(Version, version_id)
        indexed = b"".join(read_content(world.arc, session, version, RenditionRole.TEXT))
    assert indexed.decode() != WRITTEN  # the index's text is normalised (this test's point)
    view = world.call("GET", "wang", f"/api/v1/versions/{version_id}/content?action=view")
    assert view.status_code == 200
    assert view.mimetype == "text/plain"
    stamp, rule, shown = view.get_data(as_text=True).partition("─" * 40 + "\n\n")
    assert rule
    assert "用户wang (wang)  127.0.0.1" in stamp
    assert shown == WRITTEN  # lines, blank line, full-width punctuation and all
    download = world.call("GET", "wang", f"/api/v1/versions/{version_id}/content?action=download")
    assert download.data == data  # in its own encoding


def test_a_long_text_in_a_legacy_encoding_streams_whole_across_cut_characters() -> None:
    """Past WHOLE_TEXT_BYTES the text is decoded as it is sent: pieces of the blob end inside
    a two-byte GB18030 character, and the encoding is chosen from the first MiB alone."""
    written = ("第一行：仓储改造，共九十天。\n" * 60_000) + "最后一行！\n"
    data = written.encode("gb18030")
    assert len(data) > SAMPLE_BYTES
    pieces = iter([data[i : i + 65_537] for i in range(0, len(data), 65_537)])  # odd: cuts
    assert b"".join(AsWritten(pieces)).decode("utf-8") == written


@pytest.mark.skipif(shutil.which("soffice") is None, reason="no LibreOffice")
def test_a_document_without_a_rendition_says_so_and_is_read_as_its_text(world: World) -> None:
    version_id = upload(world, "wang", office.without_part(office.report_docx()), "验收报告.docx")
    with world.arc.sessions() as session:
        record_id = session.get_one(Version, version_id).record_id
    wang = Browser(world, "wang")
    page = wang.text(f"/records/{record_id}")
    assert "本文件未能生成 PDF 版式，阅读时显示其文字内容；原文件完整保存，未作改动。" in page
    view = world.call("GET", "wang", f"/api/v1/versions/{version_id}/content?action=view")
    assert view.mimetype == "text/plain"
    assert office.HEADING in view.get_data(as_text=True)
    shown = wang.text(f"/records/{world.records['CG-internal']}")  # a text record: no note
    assert "未能生成 PDF 版式" not in shown


def test_render_office_says_what_it_did_and_when_it_cannot(archive_env: dict[str, str]) -> None:
    cli(archive_env, "init")
    assert (
        cli(archive_env, "render-office")
        .stdout.strip()
        .endswith("0 rendered, 0 could not be laid out")
    )
    off = cli({**archive_env, "ARCHIVE_OFFICE_RENDITIONS": "off"}, "render-office", expect=None)
    assert off.returncode != 0
    assert "office renditions are off" in off.stderr
