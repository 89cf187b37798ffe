"""A 1 GiB text is archived whole, with the text kept for the index cut at the cap."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.config import load_settings
from archive.content import read_content
from archive.core import Archive
from archive.models import RenditionRole, Version

ARCHIVE = str(Path(sys.executable).with_name("archive"))
LINE = "第三次项目会议纪要：仓储改造进度、预算与验收安排。Warehouse acceptance.\n".encode()


@pytest.mark.slow
def test_a_one_gib_text_is_stored_whole_with_its_text_capped(tmp_path: Path) -> None:
    source, digest = tmp_path / "大文本.txt", hashlib.sha256()
    block = LINE * 8192
    with source.open("wb") as out:
        first, last = "开头标记词\n".encode(), "末尾标记词\n".encode()
        for part in (first, *([block] * (1 + (1 << 30) // len(block))), last):
            out.write(part)
            digest.update(part)
    env = {**os.environ, "ARCHIVE_HOME": str(tmp_path / "home"), "ARCHIVE_TEXT_CAP_MB": "1"}
    subprocess.run([ARCHIVE, "init"], env=env, check=True, capture_output=True, timeout=120)
    put = subprocess.run(
        [ARCHIVE, "put", str(source), "--project", "大文件项目"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert put.returncode == 0, put.stderr
    stored = json.loads(put.stdout)
    assert stored["status"] == "stored"
    assert stored["sha256"] == digest.hexdigest()
    assert stored["size"] == source.stat().st_size > 1 << 30
    arc = Archive(load_settings({"ARCHIVE_HOME": env["ARCHIVE_HOME"]}))
    try:
        with arc.sessions() as session:
            version = session.scalars(select(Version)).one()
            assert (version.text_stats or {})["text_cut_at_bytes"] == 1 << 20
            text = b"".join(read_content(arc, session, version, RenditionRole.TEXT))
            check = (version.checks or {})["usability.opens"]["detail"]
    finally:
        arc.close()
    assert len(text) <= 1 << 20
    assert text.decode().startswith("开头标记词")
    assert "末尾标记词".encode() not in text
    assert "not indexed (the file is kept whole)" in check
