"""How the gated reader's bytes leave: decided and logged first, then streamed segment by
segment with their length, the blob opened only for an allowed read and always closed."""

from __future__ import annotations

import contextlib
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from archive.crypto.stream import HEADER_SIZE, SEGMENT_SIZE, TAG_SIZE, ContentIntegrityError
from archive.db import utcnow
from archive.models import AccessEvent, ApiToken, User, Version
from archive.storage import LocalBlobStore
from tests.access.conftest import World
from tests.ingest import samples

SIZE = 2 * SEGMENT_SIZE + 12_345  # three segments, the last one short


@pytest.fixture
def big(world: World) -> bytes:
    data = os.urandom(SIZE)
    world.add_record("big", "CG", "internal", data, "数据.bin", "application/octet-stream")
    return data


def url(world: World, key: str, action: str) -> str:
    return f"/api/v1/versions/{world.versions[key]}/content?action={action}"


def last_line(world: World) -> AccessEvent:
    """The newest access-log line, read on a connection of its own."""
    with world.arc.sessions() as session:
        line = session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
    assert line is not None
    return line


def blob_path(world: World, key: str) -> Path:
    with world.arc.sessions() as session:
        object_key = session.get_one(Version, world.versions[key]).object_key
    store = world.arc.blobs
    assert isinstance(store, LocalBlobStore)
    return store.root / object_key[:2] / object_key[2:4] / object_key


def open_blobs(world: World) -> int:
    """How many files under the blob store this process holds open."""
    store = world.arc.blobs
    assert isinstance(store, LocalBlobStore)
    root = str(store.root)
    held = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile (the listing's own descriptor)
            held += os.readlink(f"/proc/self/fd/{fd}").startswith(root)
    return held


def test_a_download_is_logged_then_streamed_segment_by_segment_with_its_length(
    world: World, big: bytes
) -> None:
    response = world.call("GET", "wang", url(world, "big", "download"), buffered=False)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(SIZE)
    assert "Transfer-Encoding" not in response.headers
    # Committed, and seen by another connection, before the first byte exists.
    line = last_line(world)
    assert (line.username, line.action, line.outcome) == ("wang", "download", "allowed")
    assert line.version_id == str(world.versions["big"])
    chunks = list(response.iter_encoded())
    response.close()
    # Each decrypted segment is handed over as it is: not joined, not cut up again.
    assert [len(chunk) for chunk in chunks] == [SEGMENT_SIZE, SEGMENT_SIZE, 12_345]
    assert b"".join(chunks) == big


def test_a_download_never_read_still_closes_its_blob(world: World, big: bytes) -> None:
    before = open_blobs(world)
    response = world.call("GET", "wang", url(world, "big", "download"), buffered=False)
    assert open_blobs(world) == before + 1  # opened for the allowed read, not yet read
    response.close()  # what a WSGI server does when the client goes away
    assert open_blobs(world) == before
    head = world.call("HEAD", "wang", url(world, "big", "download"))
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(SIZE)
    assert head.data == b""
    head.close()  # as the server does after a HEAD: the body it never sends is closed too
    assert open_blobs(world) == before


def test_a_refused_download_opens_nothing(world: World, big: bytes) -> None:
    before = open_blobs(world)
    response = world.call("GET", "li", url(world, "big", "download"), buffered=False)
    assert response.status_code == 403  # another department's specialist, no grant
    assert open_blobs(world) == before
    assert (last_line(world).username, last_line(world).outcome) == ("li", "refused")


def test_a_download_whose_blob_is_gone_is_refused_and_logged(world: World, big: bytes) -> None:
    blob_path(world, "big").unlink()
    response = world.call("GET", "wang", url(world, "big", "download"))
    assert response.status_code == 500
    assert "missing" in response.json["error"]  # type: ignore[index]
    line = last_line(world)
    assert (line.action, line.outcome, line.reason) == ("download", "refused", "content missing")


def test_an_altered_segment_ends_the_download_after_the_authentic_ones(
    world: World, big: bytes
) -> None:
    path = blob_path(world, "big")
    sealed = bytearray(path.read_bytes())
    sealed[HEADER_SIZE + SEGMENT_SIZE + TAG_SIZE + 100] ^= 1  # inside the second segment
    path.write_bytes(bytes(sealed))
    response = world.call("GET", "wang", url(world, "big", "download"), buffered=False)
    chunks = response.iter_encoded()
    assert next(chunks) == big[:SEGMENT_SIZE]
    with pytest.raises(ContentIntegrityError, match="segment 1"):
        next(chunks)  # the server cuts the connection short of its Content-Length
    response.close()


def test_views_carry_their_length(world: World) -> None:
    pdf = samples.pdf(["第一页", "第二页"])
    world.add_record("pdf", "CG", "internal", pdf, "报告.pdf", "application/pdf")
    stamped = world.call("GET", "wang", url(world, "pdf", "view"))
    assert stamped.status_code == 200
    assert stamped.headers["Content-Length"] == str(len(stamped.data))
    assert len(PdfReader(io.BytesIO(stamped.data)).pages) == 2
    text = world.call("GET", "wang", url(world, "CG-internal", "view"))
    assert text.headers["Content-Length"] == str(len(text.data))
    assert text.data.decode().endswith("正文 CG-internal")


def test_a_pdf_that_cannot_be_stamped_is_refused_and_logged(world: World) -> None:
    world.add_record("bad", "CG", "internal", b"%PDF-1.7\nnot really", "坏.pdf", "application/pdf")
    response = world.call("GET", "wang", url(world, "bad", "view"))
    assert response.status_code == 422
    line = last_line(world)
    assert (line.action, line.outcome, line.reason) == ("view", "refused", "cannot stamp")
    download = world.call("GET", "wang", url(world, "bad", "download"))
    assert download.data == b"%PDF-1.7\nnot really"  # the original is still there to download


def test_closing_a_download_still_runs_what_waits_for_the_response(
    world: World, big: bytes
) -> None:
    """The body goes out as it is, yet closing the response still closes it and writes the
    token's stale last use (left for after the response by the token check)."""
    stale = utcnow() - timedelta(hours=1)
    with world.arc.transaction() as session:
        session.execute(update(ApiToken).values(last_used_at=stale))
    before = open_blobs(world)
    response = world.call("GET", "wang", url(world, "big", "download"), buffered=False)
    assert b"".join(response.iter_encoded()) == big
    response.close()
    assert open_blobs(world) == before
    with world.arc.sessions() as session:
        used = session.scalar(
            select(ApiToken.last_used_at).join(User).where(User.username == "wang")
        )
    assert used is not None
    assert used > stale
