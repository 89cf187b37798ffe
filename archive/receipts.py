"""Signed transfer receipts (移交接收回执): what a receiving archive took in from a package,
signed with its Ed25519 receipt key, for the sending archive to record against its list.

A receipt binds the package by the SHA-256 of its BagIt manifest (which names every file's
digest), so it proves which bytes were received, not just that something was. The signature
is checked against the public key the receipt carries; its fingerprint is recorded, so the
sending side can compare it with one the receiving archive gave it by another way.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from archive.crypto import Keyring
from archive.crypto.keyring import RECEIPT_PURPOSE
from archive.errors import DomainError

KIND = "移交接收回执 transfer receipt"


class ReceiptError(DomainError):
    """A receipt that is malformed, altered, or not for this package or list."""


def manifest_digest(package: Path) -> str:
    """The SHA-256 of a bag's ``manifest-sha256.txt``: every payload file's digest at once."""
    manifest = package / "manifest-sha256.txt"
    if not manifest.is_file():
        raise ReceiptError(f"{package} has no manifest-sha256.txt")
    return hashlib.sha256(manifest.read_bytes()).hexdigest()


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _key(keyring: Keyring) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(keyring.secret(RECEIPT_PURPOSE))


def fingerprint(public_key: bytes) -> str:
    """How people compare keys: the SHA-256 of the raw public key, in groups of four."""
    digest = hashlib.sha256(public_key).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def sign_receipt(keyring: Keyring, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with the receiving archive's public key and its signature over the rest."""
    key = _key(keyring)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    unsigned = {**body, "kind": KIND, "public_key": base64.b64encode(public).decode()}
    signature = key.sign(_canonical(unsigned))
    return {**unsigned, "signature": base64.b64encode(signature).decode()}


def verify_receipt(receipt: dict[str, Any]) -> str:
    """Check the signature; returns the signing key's fingerprint, or raises ReceiptError."""
    if not isinstance(receipt, dict) or receipt.get("kind") != KIND:
        raise ReceiptError("not a transfer receipt")
    try:
        public = base64.b64decode(str(receipt["public_key"]), validate=True)
        signature = base64.b64decode(str(receipt["signature"]), validate=True)
        unsigned = {k: v for k, v in receipt.items() if k != "signature"}
        Ed25519PublicKey.from_public_bytes(public).verify(signature, _canonical(unsigned))
    except (KeyError, ValueError, InvalidSignature):
        raise ReceiptError("the receipt's signature does not match its content") from None
    return fingerprint(public)
