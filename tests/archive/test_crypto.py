"""The segmented AES-GCM stream and the keyring: round trips and every kind of tampering."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from archive.crypto import (
    ContentIntegrityError,
    Keyring,
    KeyringError,
    WrappedKey,
    decrypt_stream,
    encrypt_stream,
    new_data_key,
)
from archive.crypto.stream import HEADER_SIZE, MIN_SEGMENT_SIZE, TAG_SIZE, ciphertext_size

SEG = MIN_SEGMENT_SIZE  # small segments keep multi-segment cases fast
SEALED = SEG + TAG_SIZE
AAD = b"version-1/original"


def seal(data: bytes, key: bytes, aad: bytes = AAD) -> bytes:
    return b"".join(encrypt_stream(key, io.BytesIO(data), aad, segment_size=SEG))


def open_sealed(blob: bytes, key: bytes, aad: bytes = AAD) -> bytes:
    return b"".join(decrypt_stream(key, io.BytesIO(blob), aad))


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 3 * SEG + 17])
def test_round_trip_at_segment_boundaries(size: int) -> None:
    key, data = new_data_key(), os.urandom(size)
    blob = seal(data, key)
    assert len(blob) == ciphertext_size(size, SEG)
    assert open_sealed(blob, key) == data


def test_plaintext_never_appears_in_ciphertext() -> None:
    data = ("合同金额 壹佰万元 " * 500 + "CONFIDENTIAL-MARKER " * 500).encode()
    blob = seal(data, new_data_key())
    assert "合同金额".encode() not in blob
    assert b"CONFIDENTIAL-MARKER" not in blob


def test_each_object_gets_a_fresh_nonce_prefix() -> None:
    key, data = new_data_key(), b"same content"
    assert seal(data, key) != seal(data, key)


@pytest.fixture
def three_segments() -> tuple[bytes, bytes, bytes]:
    key = new_data_key()
    data = os.urandom(3 * SEG - 100)
    return key, data, seal(data, key)


def test_flipped_byte_in_any_segment_is_detected(
    three_segments: tuple[bytes, bytes, bytes],
) -> None:
    key, _, blob = three_segments
    for position in (HEADER_SIZE + 5, HEADER_SIZE + SEALED + 7, len(blob) - 1):
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        with pytest.raises(ContentIntegrityError):
            open_sealed(bytes(tampered), key)


def test_flipped_header_byte_is_detected(three_segments: tuple[bytes, bytes, bytes]) -> None:
    key, _, blob = three_segments
    tampered = bytearray(blob)
    tampered[HEADER_SIZE - 1] ^= 0x80  # inside the nonce prefix
    with pytest.raises(ContentIntegrityError):
        open_sealed(bytes(tampered), key)


def test_dropping_the_last_segment_is_detected(three_segments: tuple[bytes, bytes, bytes]) -> None:
    key, _, blob = three_segments
    truncated = blob[: HEADER_SIZE + 2 * SEALED]
    with pytest.raises(ContentIntegrityError):
        open_sealed(truncated, key)


def test_truncation_inside_a_segment_is_detected(
    three_segments: tuple[bytes, bytes, bytes],
) -> None:
    key, _, blob = three_segments
    with pytest.raises(ContentIntegrityError):
        open_sealed(blob[:-10], key)
    with pytest.raises(ContentIntegrityError):
        open_sealed(blob[:HEADER_SIZE], key)
    with pytest.raises(ContentIntegrityError):
        open_sealed(blob[: HEADER_SIZE - 1], key)


def test_swapped_segments_are_detected(three_segments: tuple[bytes, bytes, bytes]) -> None:
    key, _, blob = three_segments
    header, body = blob[:HEADER_SIZE], blob[HEADER_SIZE:]
    first, second, rest = body[:SEALED], body[SEALED : 2 * SEALED], body[2 * SEALED :]
    with pytest.raises(ContentIntegrityError):
        open_sealed(header + second + first + rest, key)


def test_extra_segment_appended_is_detected(three_segments: tuple[bytes, bytes, bytes]) -> None:
    key, _, blob = three_segments
    with pytest.raises(ContentIntegrityError):
        open_sealed(blob + blob[HEADER_SIZE : HEADER_SIZE + SEALED], key)


def test_wrong_associated_data_or_key_fails(three_segments: tuple[bytes, bytes, bytes]) -> None:
    key, _, blob = three_segments
    with pytest.raises(ContentIntegrityError):
        open_sealed(blob, key, aad=b"version-2/original")
    with pytest.raises(ContentIntegrityError):
        open_sealed(blob, new_data_key())


def test_not_an_archive_object() -> None:
    with pytest.raises(ContentIntegrityError, match="bad magic"):
        open_sealed(b"%PDF-1.7 plaintext that was never encrypted" * 10, new_data_key())


def test_keyring_wraps_binds_owner_and_rotates(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    ring = Keyring.create(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    data_key = new_data_key()
    wrapped = ring.wrap(data_key, "v1/original")
    assert data_key not in wrapped.wrapped
    assert ring.unwrap(wrapped, "v1/original") == data_key
    with pytest.raises(KeyringError, match="does not unwrap"):
        ring.unwrap(wrapped, "v2/original")  # a wrapped key moved to another version

    old_id = ring.active_id
    new_id = ring.add_key()
    reloaded = Keyring.load(path)
    assert reloaded.active_id == new_id != old_id
    assert set(reloaded.key_ids) == {old_id, new_id}
    assert reloaded.unwrap(wrapped, "v1/original") == data_key
    assert reloaded.wrap(data_key, "v1/original").kek_id == new_id
    assert "key" not in repr(reloaded).replace("keyring", "")  # no key material in repr


def test_keyring_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="archive init"):
        Keyring.load(tmp_path / "missing.json")
    ring = Keyring.create(tmp_path / "k.json")
    with pytest.raises(KeyringError, match="already exists"):
        Keyring.create(tmp_path / "k.json")
    with pytest.raises(KeyringError, match="not in the keyring"):
        ring.unwrap(WrappedKey("kek-unknown", b"x" * 60), "v1/original")
    (tmp_path / "bad.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(KeyringError, match="unsupported format"):
        Keyring.load(tmp_path / "bad.json")
