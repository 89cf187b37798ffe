"""Reading a few segments of an encrypted object on their own (what a search snippet does):
each verified exactly as the whole stream would be, tampering and truncation included."""

from __future__ import annotations

import io
import os

import pytest

from archive.crypto import ContentIntegrityError, encrypt_stream, new_data_key
from archive.crypto.stream import HEADER_SIZE, MIN_SEGMENT_SIZE, decrypt_segments, read_header

SEG = MIN_SEGMENT_SIZE
AAD = b"version-1/text"


def sealed(data: bytes, key: bytes) -> bytes:
    return b"".join(encrypt_stream(key, io.BytesIO(data), AAD, segment_size=SEG))


def segments(blob: bytes, key: bytes, first: int, count: int, size: int | None = None) -> bytes:
    layout = read_header(blob[:HEADER_SIZE])
    part = blob[layout.offset(first) : layout.offset(first + count)]
    return b"".join(decrypt_segments(key, layout, AAD, first, part, size or len(blob)))


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 3 * SEG + 17])
def test_each_segment_alone_and_runs_of_them(size: int) -> None:
    key, data = new_data_key(), os.urandom(size)
    blob = sealed(data, key)
    layout = read_header(blob[:HEADER_SIZE])
    count = layout.segments(len(blob))
    assert layout.plaintext_size(len(blob)) == size
    for first in range(count):
        assert segments(blob, key, first, 1) == data[first * SEG : (first + 1) * SEG]
        assert segments(blob, key, first, count) == data[first * SEG :]


def test_a_flipped_byte_in_the_segment_read_fails() -> None:
    key, data = new_data_key(), os.urandom(3 * SEG)
    blob = bytearray(sealed(data, key))
    blob[HEADER_SIZE + SEG + 16 + 5] ^= 1  # inside segment 1
    assert segments(bytes(blob), key, 0, 1) == data[:SEG]  # the others are still authentic
    with pytest.raises(ContentIntegrityError, match="segment 1"):
        segments(bytes(blob), key, 1, 1)


def test_an_object_cut_at_a_segment_boundary_fails_at_its_new_last_segment() -> None:
    key, data = new_data_key(), os.urandom(3 * SEG)
    blob = sealed(data, key)
    layout = read_header(blob[:HEADER_SIZE])
    cut = blob[: layout.offset(2)]  # segment 2, the real last one, dropped
    assert segments(cut, key, 0, 1) == data[:SEG]
    with pytest.raises(ContentIntegrityError, match="segment 1"):
        segments(cut, key, 1, 1)  # sealed as "not last", now read as the last


def test_segments_moved_or_from_another_object_fail() -> None:
    key, data = new_data_key(), os.urandom(3 * SEG)
    blob = sealed(data, key)
    layout = read_header(blob[:HEADER_SIZE])
    second = blob[layout.offset(1) : layout.offset(2)]
    with pytest.raises(ContentIntegrityError):  # segment 1's ciphertext read as segment 0
        decrypt_segments(key, layout, AAD, 0, second, len(blob))
    other = sealed(data, key)
    with pytest.raises(ContentIntegrityError):  # another object's header (nonce prefix)
        decrypt_segments(key, read_header(other[:HEADER_SIZE]), AAD, 1, second, len(blob))
    with pytest.raises(ContentIntegrityError):  # bound to another version
        decrypt_segments(key, layout, b"version-2/text", 1, second, len(blob))


def test_a_short_read_or_an_impossible_size_fails() -> None:
    key, data = new_data_key(), os.urandom(3 * SEG)
    blob = sealed(data, key)
    layout = read_header(blob[:HEADER_SIZE])
    part = blob[layout.offset(1) : layout.offset(2)]
    with pytest.raises(ContentIntegrityError, match="cut short"):
        decrypt_segments(key, layout, AAD, 1, part[:-1], len(blob))
    with pytest.raises(ContentIntegrityError, match="does not fit"):
        layout.segments(layout.offset(2) + 3)  # a last segment shorter than its tag
    with pytest.raises(ContentIntegrityError, match="more ciphertext"):
        decrypt_segments(key, layout, AAD, 2, blob[layout.offset(2) :] + part, len(blob))
    with pytest.raises(ValueError, match="outside"):
        decrypt_segments(key, layout, AAD, 3, b"", len(blob))
    with pytest.raises(ContentIntegrityError, match="header"):
        read_header(blob[:5])
