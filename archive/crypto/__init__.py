"""Envelope encryption: per-object data keys, a segmented AES-GCM stream, wrapped by KEKs."""

from archive.crypto.keyring import Keyring, KeyringError, WrappedKey
from archive.crypto.stream import (
    ContentIntegrityError,
    decrypt_stream,
    encrypt_stream,
    new_data_key,
)

__all__ = [
    "ContentIntegrityError",
    "Keyring",
    "KeyringError",
    "WrappedKey",
    "decrypt_stream",
    "encrypt_stream",
    "new_data_key",
]
