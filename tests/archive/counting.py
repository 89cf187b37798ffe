"""A real blob store that counts the ciphertext bytes read out of it (whole or ranged)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import BinaryIO, cast

from archive.storage import BlobStore, StoredBlob
from archive.storage.base import BlobRange


class _CountedReader(io.RawIOBase):
    def __init__(self, inner: BinaryIO, store: CountingStore) -> None:
        self._inner, self._store = inner, store

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self._store.bytes_read += len(data)
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class CountingStore:
    """Wraps the archive's own store: every operation is the real one, reads are counted."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.url = inner.url
        self.bytes_read = 0
        self.ranged_reads = 0
        self.whole_reads = 0

    def prepare(self) -> None:
        self.inner.prepare()

    def check(self) -> None:
        self.inner.check()

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        return self.inner.put(key, chunks)

    def open(self, key: str) -> BinaryIO:
        self.whole_reads += 1
        return cast(BinaryIO, io.BufferedReader(_CountedReader(self.inner.open(key), self)))

    def read_range(self, key: str, start: int, length: int) -> BlobRange:
        found = self.inner.read_range(key, start, length)
        self.ranged_reads += 1
        self.bytes_read += len(found.data)
        return found

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def listing(self) -> Iterator[StoredBlob]:
        return self.inner.listing()

    def reset(self) -> None:
        self.bytes_read = self.ranged_reads = self.whole_reads = 0
