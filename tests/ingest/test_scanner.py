"""Virus scanning that cannot run is said, not hidden: at a worker's start, on the home page
of those who answer for it, and by ``archive transfer verify``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.models import IngestStatus
from ingest.checks import scanner_line, scanner_problem
from ingest.jobs import JobError, release, retry
from ingest.pipeline import process
from tests.access.conftest import World, make_world
from tests.access.test_web_pages import Browser
from tests.conftest import make_environ
from tests.ingest.conftest import ACTOR, job_of, run_ingest

needs_clamav = pytest.mark.skipif(shutil.which("clamscan") is None, reason="ClamAV not here")


def _problem(tmp_path: Path, **env: str) -> str | None:
    return scanner_problem(load_settings({"ARCHIVE_HOME": str(tmp_path), **env}).ingest)


@needs_clamav
def test_clamav_without_signatures_is_named_as_such(
    tmp_path: Path, clamav_database: str | None
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _problem(tmp_path, ARCHIVE_CLAMAV="off") == "off"
    assert _problem(tmp_path, ARCHIVE_CLAMAV_DATABASE=str(empty)) == "no_database"
    assert _problem(tmp_path, ARCHIVE_CLAMAV_DATABASE=str(clamav_database)) is None
    settings = load_settings({"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_CLAMAV_DATABASE": str(empty)})
    assert "NOT scanned" in scanner_line(settings.ingest)
    assert "freshclam" in scanner_line(settings.ingest)


def test_those_who_answer_for_scanning_are_told_on_their_home_page(tmp_path: Path) -> None:
    world: World = make_world(tmp_path, ARCHIVE_CLAMAV="off")
    try:
        for username, told in (("wu", True), ("sun", True), ("zhou", True), ("zhang", False)):
            page = Browser(world, username).text("/")
            assert ('id="unscanned"' in page) is told, username
            if told:
                assert "未经病毒检测" in page
                assert "ARCHIVE_CLAMAV=off" in page
    finally:
        world.arc.close()


@needs_clamav
def test_with_scanning_required_a_file_that_cannot_be_scanned_waits_in_quarantine(
    tmp_path: Path, clamav_database: str | None
) -> None:
    """``ARCHIVE_CLAMAV=required``: no signatures, no archiving; once ClamAV can scan, a
    retry archives the same file (never a release: the check cannot be waved through)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {
        **make_environ(tmp_path / "home", "sqlite", "local"),
        "ARCHIVE_CLAMAV": "required",
        "ARCHIVE_CLAMAV_DATABASE": str(empty),
    }
    arc = Archive(load_settings(env))
    initialize(arc, ACTOR)
    try:
        job = run_ingest(arc, "会议纪要 2026 年第 3 次".encode(), "纪要.txt")
        assert (job.status, job.failed_check) == (IngestStatus.QUARANTINED, "security.virus_scan")
        assert "not scanned" in (job.reason or "")
        with pytest.raises(JobError, match="cannot be released"):
            release(arc, ACTOR, job.id, "扫描器坏了，先放行")
    finally:
        arc.close()
    scanning = Archive(load_settings({**env, "ARCHIVE_CLAMAV_DATABASE": str(clamav_database)}))
    try:
        retry(scanning, ACTOR, job.id)
        process(scanning, job.id)
        assert job_of(scanning, job.id).status == IngestStatus.STORED
    finally:
        scanning.close()
