"""Blob store in a local directory, sharded by key prefix, with atomic durable writes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from archive.fsutil import atomic_write_chunks
from archive.storage.base import (
    BlobNotFound,
    BlobRange,
    StorageError,
    StoredBlob,
    check_key,
    is_key,
)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def check(self) -> None:
        if not self.root.is_dir():
            raise StorageError(f"blob directory {self.root} does not exist")

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return atomic_write_chunks(path, chunks, mode=0o600)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(f"no object {key} in {self.url}") from None

    def read_range(self, key: str, start: int, length: int) -> BlobRange:
        if start < 0 or length < 0:
            raise ValueError("a range starts at 0 or later and has a length of 0 or more")
        with self.open(key) as blob:
            size = os.fstat(blob.fileno()).st_size
            blob.seek(start)
            return BlobRange(blob.read(length) if start < size else b"", size)

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def listing(self) -> Iterator[StoredBlob]:
        for path in self.root.glob("??/??/*"):
            if not is_key(path.name):  # e.g. a write's temporary file
                continue
            with contextlib.suppress(FileNotFoundError):  # deleted while listed
                facts = path.stat()
                modified = datetime.fromtimestamp(facts.st_mtime, UTC)
                yield StoredBlob(path.name, modified, facts.st_size)
