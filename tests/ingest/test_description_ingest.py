"""The description at ingest: 文号 and 责任者 from the text unless given (upload, API,
sidecar), where each came from, page counts per format, and later versions filling only
what their record lacks."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.core import Archive
from archive.models import AuditEvent, IngestStatus, Record, Version
from ingest.metadata import MetadataError
from ingest.review import reclassify
from tests.ingest import samples
from tests.ingest.conftest import ACTOR, run_ingest
from tests.ingest.test_sources import inline_folder

NOTICE_PAGES = [
    "上海市仓储管理局文件\n沪仓发〔2025〕12号\n关于开展仓库安全检查的通知\n各仓库：",
    "请按要求执行。\n上海市仓储管理局\n2025年3月12日",
]


def stored(arc: Archive, version_id: object) -> tuple[Record, Version]:
    with arc.sessions() as session:
        version = session.get_one(Version, version_id)
        session.refresh(version, ["record"])
        return version.record, version


def test_the_text_gives_doc_number_and_author_with_their_source(any_arc: Archive) -> None:
    job = run_ingest(any_arc, samples.pdf(NOTICE_PAGES), "通知.pdf", project="安全检查")
    assert job.status == IngestStatus.STORED, job.reason
    record, version = stored(any_arc, job.version_id)
    assert (record.doc_number, record.author, record.remarks) == (
        "沪仓发〔2025〕12号",
        "上海市仓储管理局",
        None,
    )
    assert record.doc_number_key == "沪仓发〔2025〕12号"
    assert version.page_count == 2
    assert (record.classification or {})["described"] == {
        "doc_number": "text:number_line",
        "author": "text:issuer_mark",
    }
    with any_arc.sessions() as session:
        created = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "record.created", AuditEvent.object_id == str(record.id)
            )
        )
        assert created is not None
        assert created.details["description"]["doc_number"] == "沪仓发〔2025〕12号"


def test_given_values_win_over_the_text(iarc: Archive) -> None:
    job = run_ingest(
        iarc,
        samples.pdf(NOTICE_PAGES),
        "通知.pdf",
        project="安全检查",
        doc_number="沪仓发〔2025〕99号",
        remarks="原件存行政部",
    )
    record, _ = stored(iarc, job.version_id)
    assert record.doc_number == "沪仓发〔2025〕99号"
    assert record.author == "上海市仓储管理局"  # not given: read from the text
    assert record.remarks == "原件存行政部"
    described = (record.classification or {})["described"]
    assert described["doc_number"] == "explicit"
    assert described["remarks"] == "explicit"


def test_a_sidecar_describes_its_file(iarc: Archive, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    (inbox / "scan.pdf").write_bytes(samples.pdf(NOTICE_PAGES))
    (inbox / "scan.pdf.json").write_text(
        json.dumps({"project": "边车项目", "author": "行政部", "doc_number": "行字[2024]第3号"}),
        encoding="utf-8",
    )
    for _ in range(3):
        folder.scan_once()
    with iarc.sessions() as session:
        record = session.scalars(select(Record)).one()
        assert (record.author, record.doc_number) == ("行政部", "行字[2024]第3号")
        assert record.doc_number_key == "行字〔2024〕第3号"
        assert (record.classification or {})["described"] == {
            "author": "sidecar",
            "doc_number": "sidecar",
        }


def test_a_bad_value_is_refused_before_anything_is_kept(iarc: Archive) -> None:
    with pytest.raises(MetadataError, match="doc_number is longer than 100"):
        run_ingest(iarc, b"text", "a.txt", project="x", doc_number="号" * 101)
    with iarc.sessions() as session:
        assert session.scalars(select(Record)).first() is None


def _docx_with_pages(pages: int) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(samples.docx(["第一页", "正文"]))) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "docProps/app.xml":
                data = data.replace(b"<Pages>1</Pages>", f"<Pages>{pages}</Pages>".encode())
                data = data.replace(b"<Words>0</Words>", b"<Words>2</Words>")
            target.writestr(item, data)
    return out.getvalue()


def test_page_counts_of_docx_and_scans(iarc: Archive) -> None:
    laid_out = run_ingest(iarc, _docx_with_pages(3), "报告.docx", project="页数")
    assert laid_out.status == IngestStatus.STORED, laid_out.reason
    assert stored(iarc, laid_out.version_id)[1].page_count == 3
    # python-docx copies a template's properties (1 page, 0 words): not trusted, so the count
    # is that of the PDF LibreOffice lays it out as.
    generated = run_ingest(iarc, samples.docx(["一些正文"]), "生成.docx", project="页数")
    assert stored(iarc, generated.version_id)[1].page_count == 1
    scan = samples.image("", fmt="TIFF", pages=["第一页", "第二页"])
    scanned = run_ingest(iarc, scan, "扫描.tif", project="页数")
    assert scanned.status == IngestStatus.STORED, scanned.reason
    assert stored(iarc, scanned.version_id)[1].page_count == 2


def test_a_new_version_fills_what_its_record_lacks_and_replaces_nothing(iarc: Archive) -> None:
    first = run_ingest(iarc, b"first draft", "a.txt", project="版本", title="通知")
    record, _ = stored(iarc, first.version_id)
    assert (record.author, record.doc_number) == (None, None)
    second = run_ingest(
        iarc, samples.pdf(NOTICE_PAGES), "b.pdf", record_id=str(record.id), author="财务部"
    )
    assert second.status == IngestStatus.STORED, second.reason
    record, _ = stored(iarc, second.version_id)
    assert (record.author, record.doc_number) == ("财务部", "沪仓发〔2025〕12号")
    third = run_ingest(
        iarc, samples.pdf(["另一个\n国办发〔2024〕3号"]), "c.pdf", record_id=str(record.id)
    )
    assert third.status == IngestStatus.STORED, third.reason
    record, _ = stored(iarc, third.version_id)
    assert (record.author, record.doc_number) == ("财务部", "沪仓发〔2025〕12号")
    with iarc.sessions() as session:
        changes = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == "record.description_changed")
            )
        )
    assert len(changes) == 1
    assert changes[0].details["before"] == {"author": None, "doc_number": None}
    assert changes[0].details["after"] == {"author": "财务部", "doc_number": "沪仓发〔2025〕12号"}


def test_a_class_correction_keeps_where_the_description_came_from(iarc: Archive) -> None:
    job = run_ingest(iarc, samples.pdf(NOTICE_PAGES), "通知.pdf", project="安全检查")
    record, _ = stored(iarc, job.version_id)
    reclassify(iarc, ACTOR, record.id, process="administration", note="行政类")
    record, _ = stored(iarc, job.version_id)
    classification = record.classification or {}
    assert classification["method"] == "person"
    assert classification["described"]["doc_number"] == "text:number_line"
