"""The BlobStore protocol, identically on a local directory and on S3 over HTTP."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.storage import (
    BlobNotFound,
    BlobStore,
    LocalBlobStore,
    new_object_key,
    open_blob_store,
)
from archive.storage.s3 import S3BlobStore


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        blobs: BlobStore = LocalBlobStore(tmp_path / "blobs")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        blobs = open_blob_store(f"s3://store-test/{new_object_key()[:6]}", endpoint)
    blobs.prepare()
    blobs.prepare()  # idempotent
    return blobs


def chunks_of(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_put_open_delete(store: BlobStore) -> None:
    key = new_object_key()
    data = os.urandom(300_000)
    assert not store.exists(key)
    assert store.put(key, chunks_of(data)) == len(data)
    assert store.exists(key)
    with store.open(key) as blob:
        assert blob.read() == data
    store.delete(key)
    store.delete(key)  # deleting an absent object is not an error
    assert not store.exists(key)


def test_missing_key_is_a_clear_error(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound, match="no object"):
        store.open(new_object_key())


def test_multipart_upload_of_a_large_object(store: BlobStore) -> None:
    key = new_object_key()
    data = os.urandom(21 * 1024 * 1024)  # above the 8 MiB part size on S3: three parts
    store.put(key, chunks_of(data, 1024 * 1024))
    with store.open(key) as blob:
        digest = hashlib.sha256()
        while chunk := blob.read(1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/b", "ABC", "short", "x" * 200, ""])
def test_keys_that_could_escape_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid object key"):
        store.put(key, [b"x"])


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.prepare()
    key = new_object_key()

    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise RuntimeError("source failed mid-stream")

    with pytest.raises(RuntimeError):
        store.put(key, broken())
    assert not store.exists(key)
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []


def test_s3_store_reports_unreachable_endpoint() -> None:
    from archive.storage import StorageError

    store = S3BlobStore("nowhere", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(StorageError, match="not reachable"):
        store.check()


def test_ranged_reads_return_the_bytes_asked_for_and_the_size(store: BlobStore) -> None:
    key = new_object_key()
    data = os.urandom(100_000)
    store.put(key, chunks_of(data))
    middle = store.read_range(key, 40_000, 1000)
    assert (middle.data, middle.size) == (data[40_000:41_000], len(data))
    tail = store.read_range(key, 99_990, 1000)  # fewer at the end
    assert (tail.data, tail.size) == (data[99_990:], len(data))
    assert store.read_range(key, 100_000, 10).data == b""  # from the end: nothing
    assert store.read_range(key, 200_000, 10).data == b""  # past it: nothing
    assert store.read_range(key, 5, 0) == type(middle)(b"", len(data))
    empty = new_object_key()
    store.put(empty, [])
    assert (store.read_range(empty, 0, 16).data, store.read_range(empty, 0, 16).size) == (b"", 0)
    with pytest.raises(BlobNotFound, match="no object"):
        store.read_range(new_object_key(), 0, 16)
    with pytest.raises(ValueError, match="starts at 0"):
        store.read_range(key, -1, 10)
