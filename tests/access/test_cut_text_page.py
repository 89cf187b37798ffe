"""A record whose text was longer than ARCHIVE_TEXT_CAP_MB says so on its page, in Chinese."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from archive.audit import Actor
from archive.models import IngestJob, User
from ingest.jobs import receive
from ingest.pipeline import process
from tests.access.conftest import make_world
from tests.access.test_web_pages import Browser


def test_the_record_page_says_only_part_of_the_text_is_searchable(tmp_path: Path) -> None:
    world = make_world(tmp_path, ARCHIVE_TEXT_CAP_MB="1")
    zhang = Browser(world, "zhang")
    text = "第三次项目会议纪要：仓储改造进度。\n" * 40_000  # ~2 MiB
    with world.arc.sessions() as session:  # filed by zhang (the web's upload form spools
        uploader = session.scalars(select(User).where(User.username == "zhang")).one()
    job_id = receive(  # a test client's large multipart body to a file it never closes)
        world.arc,
        io.BytesIO(text.encode()),
        filename="长纪要.txt",
        source_kind="upload",
        actor=Actor.of(uploader, "127.0.0.1"),
        params={"project": "华东仓储改造项目"},
    )
    process(world.arc, job_id)
    with world.arc.sessions() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        assert job.record_id is not None
        record_id = job.record_id
    page = zhang.text(f"/records/{record_id}")
    assert "只有前 1.0 MB 的文字可供检索，文件本身完整保存。" in page
    world.arc.close()
