"""Virus scanning that cannot run is said, not hidden: at a worker's start, on the home page
of those who answer for it, and by ``archive transfer verify``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from archive.config import load_settings
from ingest.checks import scanner_line, scanner_problem
from tests.access.conftest import World, make_world
from tests.access.test_web_pages import Browser

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
