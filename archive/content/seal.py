"""Sealing and unsealing streams: the encryption every stored byte goes through.

A stream is hashed and encrypted into a new blob under a fresh data key whose wrapping is
bound to one owner (a version's role, a staged ingest job); unsealing verifies it back.

Extracted text (the ``text`` rendition) is sealed in small segments
(:data:`TEXT_SEGMENT_SIZE`), so a search snippet can decrypt just the few it is cut from
(:func:`unseal_range`) instead of the whole text; every other object keeps 1 MiB segments.
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
from archive.crypto.stream import (
    HEADER_SIZE,
    SEGMENT_SIZE,
    TAG_SIZE,
    decrypt_segments,
    read_header,
)
from archive.errors import DomainError, ErrorKind
from archive.models import RenditionRole
from archive.storage import new_object_key

#: Plaintext bytes per segment of a ``text`` rendition: a snippet decrypts one or two of them
#: (16 bytes of tag each: 0.1 % more ciphertext than 1 MiB segments).
TEXT_SEGMENT_SIZE = 16 * 1024
#: Segment size by role; a role not listed keeps the stream's default (1 MiB).
SEGMENT_SIZES: dict[str, int] = {RenditionRole.TEXT: TEXT_SEGMENT_SIZE}
#: Read with the header by :func:`unseal_range`: a short text, or the start of a longer one,
#: comes in the same request (one round trip to S3 instead of two).
READ_AHEAD = 2 * (TEXT_SEGMENT_SIZE + TAG_SIZE)


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


def staging_binding(job_id: uuid.UUID) -> str:
    """Associated data binding a staged upload (and its wrapped key) to its ingest job."""
    return f"staging/{job_id}"


@dataclass(frozen=True)
class Sealed:
    """A stream encrypted into the blob store under a fresh data key bound to ``binding``."""

    object_key: str
    wrapped: WrappedKey
    size: int
    sha256: str


def seal(
    arc: Archive,
    source: IO[bytes],
    binding: str,
    limit: int | None = None,
    segment_size: int = SEGMENT_SIZE,
) -> Sealed:
    """Encrypt ``source`` into a new blob; on any failure no blob is left behind."""
    data_key = new_data_key()
    object_key = new_object_key()
    reader = _HashingReader(source, limit)
    try:
        chunks = encrypt_stream(data_key, reader, binding.encode(), segment_size)  # type: ignore[arg-type]
        arc.blobs.put(object_key, chunks)
    except BaseException:
        with contextlib.suppress(Exception):  # best effort: the store may be what failed
            arc.blobs.delete(object_key)
        raise
    return Sealed(object_key, arc.keyring.wrap(data_key, binding), reader.size, reader.sha256)


class Plaintext(Iterator[bytes]):
    """The verified plaintext of an open blob, one segment at a time, as :func:`unseal`
    returns it. Each chunk goes on as decrypted (a WSGI server can send it as it is); the
    blob is closed at the end, on an error, or by :meth:`close`, which WSGI servers call even
    when the client went away before the first chunk."""

    def __init__(self, blob: BinaryIO, key: bytes, binding: bytes) -> None:
        self._blob = blob
        self._chunks = decrypt_stream(key, blob, binding)

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._blob.close()

    def __del__(self) -> None:  # dropped unread (a test client, an error): close quietly
        self._blob.close()


def unseal(arc: Archive, object_key: str, wrapped: WrappedKey, binding: str) -> Plaintext:
    """The verified plaintext of a blob written by :func:`seal`. The key is unwrapped and
    the blob opened now, so a destroyed key or a missing or unreachable blob raises here,
    before a caller commits to serving it; the bytes are decrypted as they are read."""
    try:
        key = arc.keyring.unwrap(wrapped, binding)
    except KeyringError as exc:
        raise ContentError(str(exc)) from None
    return Plaintext(arc.blobs.open(object_key), key, binding.encode())


@dataclass(frozen=True)
class PlainRange:
    """Verified plaintext of whole segments: ``data`` starts at plaintext offset ``start``;
    ``size`` is the whole plaintext's length."""

    start: int
    data: bytes
    size: int


def unseal_range(
    arc: Archive, object_key: str, wrapped: WrappedKey, binding: str, start: int, length: int
) -> PlainRange:
    """The verified plaintext of the segments holding bytes ``start`` to ``start + length``
    of a blob written by :func:`seal`, and nothing else: one ranged read (the header and what
    follows it, :data:`READ_AHEAD`), and a second one for segments further on, whatever the
    object's size. Plaintext stays in memory."""
    if start < 0 or length < 0:
        raise ValueError("a range starts at 0 or later and has a length of 0 or more")
    try:
        key = arc.keyring.unwrap(wrapped, binding)
    except KeyringError as exc:
        raise ContentError(str(exc)) from None
    head = arc.blobs.read_range(object_key, 0, HEADER_SIZE + READ_AHEAD)
    layout = read_header(head.data[:HEADER_SIZE])
    size = layout.plaintext_size(head.size)
    if length == 0 or start >= size:
        return PlainRange(min(start, size), b"", size)
    step = layout.segment_size
    first, last = start // step, (min(start + length, size) - 1) // step
    begin, end = layout.offset(first), min(layout.offset(last + 1), head.size)
    if end <= len(head.data):
        sealed = head.data[begin:end]
    else:
        body = arc.blobs.read_range(object_key, begin, end - begin)
        if body.size != head.size:
            raise ContentError("the object changed while it was read")
        sealed = body.data
    plain = decrypt_segments(key, layout, binding.encode(), first, sealed, head.size)
    return PlainRange(first * step, b"".join(plain), size)


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
    """Seal one object of a version (its original or a rendition) bound to that role, in the
    role's segment size (:data:`SEGMENT_SIZES`)."""
    binding = content_binding(version_id, role).decode()
    sealed = seal(arc, source, binding, segment_size=SEGMENT_SIZES.get(role, SEGMENT_SIZE))
    return Uploaded(role, sealed.object_key, sealed.wrapped, sealed.size, sealed.sha256)
