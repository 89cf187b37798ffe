"""Segmented AES-256-GCM streaming encryption (after Tink's streaming AEAD).

Layout of an encrypted object::

    header  = MAGIC(4) | FORMAT(1) | segment size(4, big-endian) | nonce prefix(7)
    segment = AES-GCM(key, nonce, plaintext[i], aad) = ciphertext | tag(16)
    nonce   = nonce prefix(7) | segment counter(4, big-endian) | last-segment flag(1)
    aad     = header | associated data (the version id)

Each segment is authenticated on its own, so memory stays at about two segments whatever
the object size, and no single GCM call comes near its 64 GiB limit. The counter in the
nonce catches reordered or dropped segments, the last-segment flag catches truncation at a
segment boundary, and the associated data binds the ciphertext to its version, so swapping
two objects fails too. The data key never appears in the object: it is wrapped separately
(see :mod:`archive.crypto.keyring`), which is what makes crypto-shredding work on copies.

Segments can also be read one at a time (:func:`decrypt_segments`): segment ``i`` sits at a
known offset, and the object's size says which segment is the last, so a ranged read of a
few segments is verified exactly as the whole stream would be (an object cut short at a
segment boundary fails when its new last segment is read, since it was not sealed as last).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"ARCE"
FORMAT_VERSION = 1
SEGMENT_SIZE = 1 << 20  # 1 MiB of plaintext per segment
TAG_SIZE = 16
NONCE_PREFIX_SIZE = 7
HEADER = struct.Struct(">4sBI7s")
HEADER_SIZE = HEADER.size
MIN_SEGMENT_SIZE = 4096
MAX_SEGMENT_SIZE = 64 << 20
MAX_SEGMENTS = 2**32
KEY_SIZE = 32


class ContentIntegrityError(Exception):
    """The ciphertext was altered, truncated, reordered or belongs to another object."""


def new_data_key() -> bytes:
    """A fresh random 256-bit data key (one per stored object)."""
    return AESGCM.generate_key(bit_length=KEY_SIZE * 8)


def read_full(stream: BinaryIO, size: int) -> bytes:
    """Read exactly ``size`` bytes unless the stream ends first (pipes return short reads)."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= MAX_SEGMENTS:
        raise ValueError("object too large for the segment counter")
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def encrypt_stream(
    key: bytes,
    plaintext: BinaryIO,
    associated_data: bytes,
    segment_size: int = SEGMENT_SIZE,
) -> Iterator[bytes]:
    """Yield the header, then one encrypted segment per ``segment_size`` bytes of input.

    An empty input still yields one (empty, final) segment, so "no content" is authenticated
    as well and cannot be confused with a truncated object.
    """
    if len(key) != KEY_SIZE:
        raise ValueError("data key must be 32 bytes")
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise ValueError(f"segment size must be within {MIN_SEGMENT_SIZE}..{MAX_SEGMENT_SIZE}")
    aead = AESGCM(key)
    prefix = os.urandom(NONCE_PREFIX_SIZE)
    header = HEADER.pack(MAGIC, FORMAT_VERSION, segment_size, prefix)
    aad = header + associated_data
    yield header

    counter = 0
    current = read_full(plaintext, segment_size)
    while True:
        following = read_full(plaintext, segment_size)
        last = not following
        yield aead.encrypt(_nonce(prefix, counter, last), current, aad)
        if last:
            return
        counter += 1
        current = following


@dataclass(frozen=True)
class Layout:
    """What an object's header says: its segment size and nonce prefix."""

    header: bytes
    segment_size: int
    prefix: bytes

    @property
    def sealed_size(self) -> int:
        """Bytes of one full encrypted segment (plaintext and tag)."""
        return self.segment_size + TAG_SIZE

    def offset(self, index: int) -> int:
        """Where segment ``index`` starts in the object."""
        return HEADER_SIZE + index * self.sealed_size

    def segments(self, object_size: int) -> int:
        """How many segments an object of ``object_size`` bytes holds; raise if no whole
        number of segments fits (cut inside a segment's tag, or no segment at all)."""
        body = object_size - HEADER_SIZE
        count = max(1, -(-body // self.sealed_size))
        if body < TAG_SIZE or body - (count - 1) * self.sealed_size < TAG_SIZE:
            raise ContentIntegrityError("object size does not fit its segments (truncated)")
        return count

    def plaintext_size(self, object_size: int) -> int:
        """The plaintext length of an object of ``object_size`` bytes."""
        return object_size - HEADER_SIZE - self.segments(object_size) * TAG_SIZE


def read_header(header: bytes) -> Layout:
    """Parse and check an object's header; raise :class:`ContentIntegrityError` if it is not
    one this module wrote."""
    if len(header) != HEADER_SIZE:
        raise ContentIntegrityError("object is shorter than its header")
    magic, version, segment_size, prefix = HEADER.unpack(header)
    if magic != MAGIC:
        raise ContentIntegrityError("not an encrypted archive object (bad magic)")
    if version != FORMAT_VERSION:
        raise ContentIntegrityError(f"unsupported encryption format version {version}")
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise ContentIntegrityError(f"implausible segment size {segment_size}")
    return Layout(header, segment_size, prefix)


def _open_segment(
    aead: AESGCM, layout: Layout, counter: int, last: bool, sealed: bytes, aad: bytes
) -> bytes:
    try:
        return aead.decrypt(_nonce(layout.prefix, counter, last), sealed, aad)
    except InvalidTag:
        raise ContentIntegrityError(
            f"segment {counter} failed authentication (altered, reordered, truncated, "
            "or not this object's content)"
        ) from None


def decrypt_segments(
    key: bytes,
    layout: Layout,
    associated_data: bytes,
    first: int,
    sealed: bytes,
    object_size: int,
) -> list[bytes]:
    """The verified plaintext of consecutive segments ``first``, ``first + 1``… whose
    ciphertext is ``sealed`` (read from ``layout.offset(first)``), in an object of
    ``object_size`` bytes. Raise :class:`ContentIntegrityError` on any tampering, including
    a read that returned fewer bytes than the object's size promises."""
    count = layout.segments(object_size)
    if not 0 <= first < count:
        raise ValueError(f"segment {first} is outside the object's {count} segments")
    expected_end = min(object_size, layout.offset(count))
    aead = AESGCM(key)
    aad = layout.header + associated_data
    plain: list[bytes] = []
    at, index = 0, first
    while at < len(sealed):
        if index >= count:
            raise ContentIntegrityError("more ciphertext than the object's size allows")
        piece = sealed[at : at + layout.sealed_size]
        needed = min(layout.sealed_size, expected_end - layout.offset(index))
        if len(piece) != needed:
            raise ContentIntegrityError(f"segment {index} is cut short")
        plain.append(_open_segment(aead, layout, index, index == count - 1, piece, aad))
        at += len(piece)
        index += 1
    return plain


def decrypt_stream(key: bytes, ciphertext: BinaryIO, associated_data: bytes) -> Iterator[bytes]:
    """Yield verified plaintext segment by segment; raise on any tampering.

    Each yielded chunk is authentic. Truncation at a segment boundary is detected when the
    stream ends without a final segment, so consumers must treat the read as failed if the
    iterator raises, even after some chunks were delivered.
    """
    layout = read_header(read_full(ciphertext, HEADER_SIZE))
    aead = AESGCM(key)
    aad = layout.header + associated_data
    sealed_size = layout.sealed_size
    counter = 0
    current = read_full(ciphertext, sealed_size)
    if not current:
        raise ContentIntegrityError("object has no segments (truncated)")
    while True:
        following = read_full(ciphertext, sealed_size)
        last = not following
        yield _open_segment(aead, layout, counter, last, current, aad)
        if last:
            return
        counter += 1
        current = following


def ciphertext_size(plaintext_size: int, segment_size: int = SEGMENT_SIZE) -> int:
    """Exact size of the encrypted object for a plaintext of ``plaintext_size`` bytes."""
    segments = max(1, -(-plaintext_size // segment_size))
    return HEADER_SIZE + plaintext_size + segments * TAG_SIZE
