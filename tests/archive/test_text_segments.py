"""Text renditions are sealed in small segments, and a range of any stored object can be read
back verified by decrypting only the segments holding it (local directory and S3)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import NewRecord, RenditionSource, store
from archive.content.read import read_content, read_content_range
from archive.content.seal import READ_AHEAD, TEXT_SEGMENT_SIZE
from archive.core import Archive
from archive.crypto import ContentIntegrityError
from archive.crypto.stream import HEADER_SIZE, SEGMENT_SIZE, read_header
from archive.models import Rendition, RenditionRole, Version
from tests.archive.counting import CountingStore
from tests.conftest import make_environ


@pytest.fixture(params=["local", "s3"])
def counted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Archive]:
    endpoint = request.getfixturevalue("s3_endpoint") if request.param == "s3" else None
    arc = Archive(load_settings(make_environ(tmp_path / "home", "sqlite", request.param, endpoint)))
    initialize(arc, Actor.cli())
    arc.blobs = CountingStore(arc.blobs)  # type: ignore[misc]
    yield arc
    arc.close()


TEXT = "".join(f"第{n}段 验收报告 line {n}; " for n in range(40_000)).encode()  # ~1 MB


def stored(arc: Archive) -> uuid.UUID:
    return store(
        arc,
        io.BytesIO(b"%PDF- not really"),
        actor=Actor.cli(),
        original_filename="a.pdf",
        media_type="application/pdf",
        new_record=NewRecord(project="P", title="T", when="2026-05"),
        renditions=[RenditionSource(RenditionRole.TEXT, "text/plain", io.BytesIO(TEXT))],
    ).version_id


def test_text_renditions_have_small_segments_others_keep_1_mib(counted: Archive) -> None:
    version_id = stored(counted)
    with counted.sessions() as session:
        version = session.get_one(Version, version_id)
        text_key = session.scalar(
            select(Rendition.object_key).where(Rendition.version_id == version_id)
        )
        assert text_key is not None
        sizes = {
            role: read_header(counted.blobs.read_range(key, 0, HEADER_SIZE).data).segment_size
            for role, key in (("original", version.object_key), ("text", text_key))
        }
        assert sizes == {"original": SEGMENT_SIZE, "text": TEXT_SEGMENT_SIZE}
        assert b"".join(read_content(counted, session, version, RenditionRole.TEXT)) == TEXT


def test_a_range_decrypts_only_the_segments_holding_it(counted: Archive) -> None:
    version_id = stored(counted)
    blobs = counted.blobs
    assert isinstance(blobs, CountingStore)
    with counted.sessions() as session:
        version = session.get_one(Version, version_id)
        middle = len(TEXT) // 2 + 1000  # straddles a segment boundary: two segments
        for start, length in ((middle, 100), (middle, TEXT_SEGMENT_SIZE), (0, 10)):
            blobs.reset()
            read = read_content_range(counted, session, version, "text", start, length)
            assert read.size == len(TEXT)
            assert read.start <= start
            assert read.start % TEXT_SEGMENT_SIZE == 0
            assert read.data == TEXT[read.start : read.start + len(read.data)]
            assert read.start + len(read.data) >= start + length
            assert blobs.whole_reads == 0
            # The header and what follows it, then (further on) the segments: a bounded read.
            assert blobs.ranged_reads == (1 if start == 0 else 2)
            assert blobs.bytes_read <= HEADER_SIZE + READ_AHEAD + 2 * (TEXT_SEGMENT_SIZE + 16)
        end = read_content_range(counted, session, version, "text", len(TEXT) - 5, 100)
        assert end.data.endswith(TEXT[-5:])
        assert end.size == len(TEXT)
        past = read_content_range(counted, session, version, "text", len(TEXT) + 5, 100)
        assert (past.data, past.size) == (b"", len(TEXT))


def test_a_tampered_segment_fails_the_range_read(tmp_path: Path) -> None:
    arc = Archive(load_settings(make_environ(tmp_path / "home", "sqlite", "local")))
    initialize(arc, Actor.cli())
    try:
        version_id = stored(arc)
        with arc.sessions() as session:
            version = session.get_one(Version, version_id)
            key = session.scalar(
                select(Rendition.object_key).where(Rendition.version_id == version_id)
            )
            assert key is not None
            path = next(p for p in (tmp_path / "home").rglob(key))
            blob = bytearray(path.read_bytes())
            blob[HEADER_SIZE + 5 * (TEXT_SEGMENT_SIZE + 16) + 7] ^= 1  # segment 5
            path.write_bytes(bytes(blob))
            fine = read_content_range(arc, session, version, "text", 0, 100)
            assert fine.data.startswith(TEXT[:100])
            with pytest.raises(ContentIntegrityError, match="segment 5"):
                read_content_range(arc, session, version, "text", 5 * TEXT_SEGMENT_SIZE, 10)
    finally:
        arc.close()
