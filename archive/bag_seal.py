"""A backup bag's seal: an HMAC, under a keyring secret, of its tag manifest (which holds
the hash of the manifest, which holds the hash of every file). BagIt's own manifests are
plain SHA-256: whoever edits a table in a bag can rewrite them, and the bag then verifies
and restores (a specialist made a director, past the 三员分立 approval). The keyring is
kept apart from the bags, so an edited bag cannot be sealed again."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from archive.crypto import Keyring
from archive.crypto.keyring import BACKUP_PURPOSE

SEAL_FILE = "archive-seal.txt"
_SEALED = "tagmanifest-sha256.txt"


def _mac(folder: Path, keyring: Keyring) -> str:
    tags = (folder / _SEALED).read_bytes()
    return hmac.new(keyring.secret(BACKUP_PURPOSE), tags, hashlib.sha256).hexdigest()


def seal_bag(folder: Path, keyring: Keyring) -> None:
    """Write the seal of the bag made in ``folder`` (after its manifests)."""
    (folder / SEAL_FILE).write_text(f"HMAC-SHA256 {_SEALED} {_mac(folder, keyring)}\n", "ascii")


def is_sealed(folder: Path) -> bool:
    return (folder / SEAL_FILE).is_file()


def seal_problem(folder: Path, keyring: Keyring) -> str | None:
    """Why the bag's seal does not hold under ``keyring`` (None: it does)."""
    try:
        algorithm, sealed, mac = (folder / SEAL_FILE).read_text("ascii").split()
    except (OSError, ValueError, UnicodeDecodeError):
        return f"{SEAL_FILE}: missing or unreadable: the bag's manifests are not sealed"
    if (algorithm, sealed) != ("HMAC-SHA256", _SEALED):
        return f"{SEAL_FILE}: not a seal this archive writes"
    if not keyring.has_secret(BACKUP_PURPOSE):  # never made up here: it would not match
        return (
            f"{SEAL_FILE}: this keyring has no backup seal key: use the keyring backed up "
            "after the backup was made"
        )
    try:
        expected = _mac(folder, keyring)
    except OSError:
        return f"{_SEALED} is missing: nothing the seal covers"
    if not hmac.compare_digest(mac, expected):
        return (
            f"{SEAL_FILE}: the manifests were changed after the backup was made (or it was "
            "sealed under another keyring)"
        )
    return None
