"""Sealing and unsealing streams: the encryption every stored byte goes through.

A stream is hashed and encrypted into a new blob under a fresh data key whose wrapping is
bound to one owner (a version's role, a staged ingest job); unsealing verifies it back.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO

from archive.core import Archive
from archive.crypto import (
    KeyringError,
    WrappedKey,
    decrypt_stream,
    encrypt_stream,
    new_data_key,
)
from archive.errors import DomainError, ErrorKind
from archive.models import RenditionRole
from archive.storage import new_object_key


class ContentError(DomainError):
    """A version cannot be stored or read; the message says why."""


class ContentDestroyed(ContentError):
    """The version's data key was destroyed (crypto-shredded): its content is gone for good."""

    kind = ErrorKind.NOT_FOUND


class ContentTooLarge(ContentError):
    """The stream is longer than the limit; nothing of it was kept."""

    kind = ErrorKind.TOO_LARGE


class _HashingReader:
    """Counts and hashes the plaintext as the cipher pulls it through; enforces a limit."""

    def __init__(self, source: IO[bytes], limit: int | None = None) -> None:
        self._source = source
        self._digest = hashlib.sha256()
        self._limit = limit
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self._digest.update(chunk)
        self.size += len(chunk)
        if self._limit is not None and self.size > self._limit:
            raise ContentTooLarge(f"the file is larger than the limit of {self._limit} bytes")
        return chunk

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


def content_binding(version_id: uuid.UUID, role: str) -> bytes:
    """Associated data binding a ciphertext (and its wrapped key) to one version and role."""
    return f"{version_id}/{role}".encode()


@dataclass(frozen=True)
class Sealed:
    """A stream encrypted into the blob store under a fresh data key bound to ``binding``."""

    object_key: str
    wrapped: WrappedKey
    size: int
    sha256: str


def seal(arc: Archive, source: IO[bytes], binding: str, limit: int | None = None) -> Sealed:
    """Encrypt ``source`` into a new blob; on any failure no blob is left behind."""
    data_key = new_data_key()
    object_key = new_object_key()
    reader = _HashingReader(source, limit)
    try:
        arc.blobs.put(object_key, encrypt_stream(data_key, reader, binding.encode()))  # type: ignore[arg-type]
    except BaseException:
        with contextlib.suppress(Exception):  # best effort: the store may be what failed
            arc.blobs.delete(object_key)
        raise
    return Sealed(object_key, arc.keyring.wrap(data_key, binding), reader.size, reader.sha256)


def unseal(arc: Archive, object_key: str, wrapped: WrappedKey, binding: str) -> Iterator[bytes]:
    """The verified plaintext of a blob written by :func:`seal`."""
    try:
        key = arc.keyring.unwrap(wrapped, binding)
    except KeyringError as exc:
        raise ContentError(str(exc)) from None

    def chunks() -> Iterator[bytes]:
        with arc.blobs.open(object_key) as blob:
            yield from decrypt_stream(key, blob, binding.encode())

    return chunks()


@dataclass(frozen=True)
class Uploaded:
    """An encrypted blob already in the store, waiting for its database rows."""

    role: RenditionRole
    object_key: str
    wrapped: WrappedKey
    size: int
    sha256: str
    media_type: str = ""


def upload(arc: Archive, source: BinaryIO, version_id: uuid.UUID, role: RenditionRole) -> Uploaded:
    """Seal one object of a version (its original or a rendition) bound to that role."""
    sealed = seal(arc, source, content_binding(version_id, role).decode())
    return Uploaded(role, sealed.object_key, sealed.wrapped, sealed.size, sealed.sha256)
