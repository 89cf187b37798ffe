"""An OFD e-invoice through the real pipeline: stored with its text rendition and page count
and the 四性 report saying what was checked, or quarantined with its reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import read_content
from archive.core import Archive
from archive.models import AuditEvent, IngestStatus, RenditionRole, Version
from ingest import sniff
from ingest.jobs import retry
from ingest.pipeline import process
from ingest.recheck import recheck_version
from tests.conftest import make_environ
from tests.ingest import ofd_samples as ofd
from tests.ingest.conftest import ACTOR, run_ingest


def stored_version(arc: Archive, version_id: object) -> Version:
    with arc.sessions() as session:
        version = session.get(Version, version_id)
        assert version is not None
        session.refresh(version, ["record"])
        return version


def content_of(arc: Archive, version: Version, role: str) -> bytes:
    with arc.sessions() as session:
        return b"".join(read_content(arc, session, version, role))


def test_an_invoice_is_stored_with_its_text_page_count_and_checks(iarc: Archive) -> None:
    data = ofd.invoice()
    job = run_ingest(iarc, data, "电子发票.ofd", project="华东仓储改造项目", date="2026-05")
    assert job.status == IngestStatus.STORED, (job.failed_check, job.reason)
    version = stored_version(iarc, job.version_id)
    assert version.media_type == sniff.OFD
    assert version.page_count == 2
    assert version.name == "华东仓储改造项目-2026-05-1.0"
    assert content_of(iarc, version, RenditionRole.ORIGINAL) == data
    text = content_of(iarc, version, RenditionRole.TEXT).decode()
    for part in ("发票号码", "购买方名称", "24312000000123456789", "销货清单"):
        assert part in text
    checks = version.checks or {}
    assert checks["usability.allowed_format"] == {"ok": True, "detail": sniff.OFD}
    opened = checks["usability.opens"]
    assert opened["ok"] is True
    assert opened["detail"].startswith("2 page(s); OFD (GB/T 33190): 1 document(s)")
    assert "1 signed (signatures not verified)" in opened["detail"]
    assert opened["ofd"]["info"]["DocID"] == ofd.DOC_ID  # the package's identity, kept
    assert checks["usability.not_encrypted"]["ok"] is True
    assert checks["integrity.content_present"]["ok"] is True
    assert checks["authenticity.digest"]["ok"] is True
    assert (version.text_stats or {})["pages_with_text"] == 2


def test_the_quarterly_recheck_opens_a_kept_ofd_again(iarc: Archive) -> None:
    job = run_ingest(iarc, ofd.invoice(), "电子发票.ofd", project="华东仓储改造项目")
    with iarc.sessions() as session:
        version = session.get(Version, job.version_id)
        assert version is not None
        report = recheck_version(iarc, session, version).as_dict()
    assert report["usability.allowed_format"]["ok"] is True
    assert report["usability.opens"]["ok"] is True
    assert "OFD (GB/T 33190)" in report["usability.opens"]["detail"]


BROKEN = [
    ("Document.xml missing", {"Doc_0/Document.xml": None}, "no part 'Doc_0/Document.xml'"),
    ("malformed page", {ofd.BODY: b"<ofd:Page"}, "not well-formed"),
    (
        "no DocBody",
        {"OFD.xml": ofd.part_xml('<ofd:OFD NS Version="1.0" DocType="OFD"/>')},
        "no DocBody/DocRoot",
    ),
]


@pytest.mark.parametrize(("case", "replaced", "reason"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_ofd_is_quarantined_with_its_reason(
    iarc: Archive, case: str, replaced: dict[str, bytes | None], reason: str
) -> None:
    job = run_ingest(iarc, ofd.changed_parts(replaced), "发票.ofd", project="华东仓储改造项目")
    assert (job.status, job.failed_check) == (IngestStatus.QUARANTINED, "usability.opens"), case
    assert (job.reason or "").startswith("the OFD cannot be opened: ")
    assert reason in (job.reason or "")
    assert job.staging_key is not None  # kept, encrypted, for a retry
    with iarc.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "ingest.quarantined"))
        assert event is not None
        assert event.details["check"] == "usability.opens"
    retry(iarc, ACTOR, job.id, io.BytesIO(ofd.invoice()))
    assert process(iarc, job.id) == IngestStatus.STORED


def test_an_ofd_zip_bomb_is_quarantined(tmp_path: Path) -> None:
    env = make_environ(tmp_path / "home", "sqlite", "local")
    arc = Archive(load_settings({**env, "ARCHIVE_MAX_INFLATED_BYTES": str(16 << 20)}))
    initialize(arc, Actor.cli())
    try:
        job = run_ingest(arc, ofd.bomb(64 << 20), "发票.ofd")
        assert (job.status, job.failed_check) == (IngestStatus.QUARANTINED, "usability.opens")
        assert "zip bomb" in (job.reason or "")
    finally:
        arc.close()
