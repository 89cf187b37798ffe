"""The hot folder and bulk import, processed in-process (the worker tests use real workers)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from archive.core import Archive
from archive.models import IngestJob, IngestStatus, Version
from ingest.bulk import import_tree
from ingest.hotfolder import HotFolder
from ingest.pipeline import process
from tests.ingest import samples
from tests.ingest.conftest import ACTOR


def inline_folder(arc: Archive, inbox: Path, settle: float = 0.0) -> HotFolder:
    """A hot folder whose 'queue' processes each job at once, like a worker would."""
    return HotFolder(arc, inbox, lambda job_id: process(arc, job_id), settle_seconds=settle)


def receipts(inbox: Path) -> dict[str, dict[str, Any]]:
    lines = (inbox / "receipts" / "receipts.jsonl").read_text(encoding="utf-8").splitlines()
    return {receipt["name"]: receipt for receipt in map(json.loads, lines)}


def names(arc: Archive) -> list[str]:
    with arc.sessions() as session:
        return sorted(session.scalars(select(Version.name)))


def test_the_hot_folder_files_by_department_and_project(iarc: Archive, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    target = inbox / "CG" / "华东仓储改造项目"
    target.mkdir(parents=True)
    (target / "采购合同.pdf").write_bytes(samples.pdf(["采购合同 甲方 乙方"]))
    folder.scan_once()  # first sighting
    assert (target / "采购合同.pdf").exists()
    folder.scan_once()  # unchanged since: settled, ingested, filed
    folder.scan_once()  # finished jobs leave a receipt; the plaintext goes
    assert not (target / "采购合同.pdf").exists()
    assert not (inbox / "processed").exists()
    assert names(iarc)[0].startswith("华东仓储改造项目-")
    receipt = receipts(inbox)["CG/华东仓储改造项目/采购合同.pdf"]
    assert (receipt["outcome"], receipt["canonical_name"]) == ("stored", names(iarc)[0])
    with iarc.sessions() as session:
        job = session.scalar(select(IngestJob))
        assert job is not None
        assert job.source == "hotfolder"
        assert job.source_path == "CG/华东仓储改造项目/采购合同.pdf"
        record = session.get(Version, job.version_id).record  # type: ignore[union-attr]
        assert record.department is not None
        assert record.department.code == "CG"


def test_a_file_still_being_written_waits(iarc: Archive, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox, settle=3600)
    (inbox / "scan.png").write_bytes(samples.image("x"))
    folder.scan_once()
    folder.scan_once()
    assert (inbox / "scan.png").exists()
    with iarc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IngestJob)) == 0


def test_a_sidecar_gives_metadata_and_travels_with_its_file(iarc: Archive, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    (inbox / "scan.txt").write_text("内容", encoding="utf-8")
    (inbox / "scan.txt.json").write_text(
        json.dumps({"project": "边车项目", "date": "2025-12", "title": "季度报告"}),
        encoding="utf-8",
    )
    for _ in range(3):
        folder.scan_once()
    assert names(iarc) == ["边车项目-2025-12-1.0"]
    assert not (inbox / "scan.txt.json").exists()  # gone with its file, not ingested alone
    assert not any(p.is_file() for p in (inbox / ".pending").rglob("*"))


def test_failures_get_a_receipt_with_the_reason(iarc: Archive, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    (inbox / "broken.pdf").write_bytes(samples.pdf(["x" * 40])[:-300])
    (inbox / "bad.txt").write_text("x", encoding="utf-8")
    (inbox / "bad.txt.json").write_text("{not json", encoding="utf-8")
    for _ in range(3):
        folder.scan_once()
    quarantined = receipts(inbox)["broken.pdf"]
    assert quarantined["outcome"] == "quarantined"
    assert "usability.opens" in quarantined["reason"]
    assert "truncated" in quarantined["reason"]
    assert not (inbox / "failed" / "broken.pdf").exists()  # kept encrypted, not in plaintext
    refused = receipts(inbox)["bad.txt"]  # no job: never ingested, kept for a fix
    assert (refused["outcome"], refused["job"]) == ("refused", None)
    assert "not valid UTF-8 JSON" in refused["reason"]
    assert refused["original"] == "failed/bad.txt"
    assert (inbox / "failed" / "bad.txt").exists()
    assert (inbox / "failed" / "bad.txt.json").exists()
    assert not any(p.is_file() for p in (inbox / ".pending").rglob("*"))


def test_the_watcher_resumes_files_whose_jobs_ended_while_it_was_down(
    iarc: Archive, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    queued: list[uuid.UUID] = []
    folder = HotFolder(iarc, inbox, queued.append, settle_seconds=0)
    (inbox / "a.txt").write_text("hello", encoding="utf-8")
    folder.scan_once()
    folder.scan_once()
    assert len(queued) == 1
    assert (inbox / ".pending" / str(queued[0]) / "a.txt").exists()  # committed, not deleted
    process(iarc, queued[0])  # a worker did it while the watcher was stopped
    inline_folder(iarc, inbox).scan_once()  # a new watcher process
    assert receipts(inbox)["a.txt"]["job"] == str(queued[0])
    assert not (inbox / ".pending" / str(queued[0])).exists()


def test_bulk_import_summarises_and_a_rerun_skips_what_is_in(iarc: Archive, tmp_path: Path) -> None:
    tree = tmp_path / "old-share"
    (tree / "2024").mkdir(parents=True)
    (tree / "2024" / "会议纪要.docx").write_bytes(samples.docx(["第一次会议纪要"]))
    (tree / "2024" / "copy-of-minutes.docx").write_bytes(samples.docx(["第一次会议纪要"]))
    (tree / "report.txt").write_text("月度报表", encoding="utf-8")
    (tree / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else")
    params = {"project": "旧档案"}
    first = import_tree(iarc, tree, ACTOR, params)
    assert (first.stored, first.duplicates, len(first.quarantined)) == (3, 0, 1)
    assert first.quarantined[0][0] == "broken.pdf"
    second = import_tree(iarc, tree, ACTOR, params)
    assert (second.stored, second.skipped, len(second.quarantined)) == (0, 3, 1)
    assert "earlier run" in second.quarantined[0][1]
    with iarc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Version)) == 3
        flagged = session.scalar(
            select(func.count())
            .select_from(IngestJob)
            .where(IngestJob.duplicate_of_id.is_not(None), IngestJob.status == IngestStatus.STORED)
        )
        assert flagged == 1  # the copy: same content, another record, flagged
