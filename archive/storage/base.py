"""The one storage interface: opaque keys in, ciphertext bytes out."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol

from archive.errors import DomainError, ErrorKind

_KEY = re.compile(r"^[0-9a-z][0-9a-z_-]{7,127}$")


class StorageError(DomainError):
    """The store could not be reached or refused an operation."""

    kind = ErrorKind.UNAVAILABLE


class BlobNotFound(StorageError):
    """No object exists under the key asked for."""


@dataclass(frozen=True)
class StoredBlob:
    """One object as the store lists it (for finding objects no row refers to)."""

    key: str
    modified: datetime  # aware, UTC
    size: int


@dataclass(frozen=True)
class BlobRange:
    """Part of an object: ``data`` from the offset asked for (shorter at the object's end,
    empty past it) and the whole object's ``size``, read in the same request."""

    data: bytes
    size: int


def is_key(name: str) -> bool:
    return _KEY.fullmatch(name) is not None


def new_object_key() -> str:
    """An opaque object key: never derived from names, titles or anything a user typed."""
    return uuid.uuid4().hex


def check_key(key: str) -> str:
    """Refuse keys that could escape the store's namespace (``..``, ``/``, odd characters)."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"invalid object key {key!r}")
    return key


class BlobStore(Protocol):
    """Where encrypted objects live. Only ciphertext is ever handed to a store."""

    url: str

    def prepare(self) -> None:
        """Create the directory or bucket if missing (idempotent)."""

    def check(self) -> None:
        """Raise :class:`StorageError` if the store is not reachable right now."""

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store the object atomically; return the number of bytes written."""

    def open(self, key: str) -> BinaryIO:
        """Open the object for streaming reads; raise :class:`BlobNotFound` if absent."""

    def read_range(self, key: str, start: int, length: int) -> BlobRange:
        """``length`` bytes of the object from ``start`` (fewer at its end) and its size,
        without reading the rest; raise :class:`BlobNotFound` if absent."""

    def delete(self, key: str) -> None:
        """Remove the object; removing an absent object is not an error."""

    def exists(self, key: str) -> bool: ...

    def listing(self) -> Iterator[StoredBlob]:
        """Every object in the store, in no particular order."""
