"""Key-encryption keys (KEKs): a small JSON file of 256-bit keys by id, one of them active.

Data keys are wrapped (AES-256-GCM) under the active KEK with the owner's id bound in the
associated data, so a wrapped key moved onto another version does not unwrap. Rotation adds
a KEK and re-wraps data keys; blobs are never touched. The file is written atomically with
mode 0600 and must be backed up apart from the data it protects.

The file also keeps the shred register: the ids of versions whose data keys were destroyed.
A backup made before a destruction still holds those wrapped keys; restoring it with the
current keyring leaves them unusable, because unwrap refuses a shredded owner and restore
destroys them again. Writers hold a lock on ``<keyring>.lock`` and merge the register from
disk, so two processes never lose each other's entries.

Beside the KEKs it holds one secret per purpose (:data:`PURPOSES`): the key of the hash
chains, the key that signs their checkpoints, the key of the index terms. They live here,
not in the database, so a database writer cannot forge what they protect; they are never
rotated with the KEKs (rotating one means re-keying what it protects).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from archive.errors import DomainError, ErrorKind
from archive.fsutil import atomic_write_bytes

KEYRING_FORMAT = 1
WRAP_NONCE_SIZE = 12
#: Secrets by purpose, each 256 bits, created by ``archive init`` (or on first use).
CHAIN_PURPOSE = "chain-hmac"  # keys the audit chain and the access log (HMAC-SHA256)
CHECKPOINT_PURPOSE = "checkpoint-ed25519"  # the seed of the key that signs chain checkpoints
INDEX_PURPOSE = "index-terms"  # keys the hashes the search index holds instead of words
RECEIPT_PURPOSE = "receipt-ed25519"  # the seed of the key that signs transfer receipts
BACKUP_PURPOSE = "backup-hmac"  # keys the seal over a backup bag's manifests
PURPOSES = (CHAIN_PURPOSE, CHECKPOINT_PURPOSE, INDEX_PURPOSE, RECEIPT_PURPOSE, BACKUP_PURPOSE)


class KeyringError(DomainError):
    """The keyring file is missing, unreadable, or lacks the key asked for."""

    kind = ErrorKind.UNAVAILABLE


@dataclass(frozen=True)
class WrappedKey:
    kek_id: str
    wrapped: bytes


def _wrap_aad(kek_id: str, owner: str) -> bytes:
    return f"archive-dek/v1|{kek_id}|{owner}".encode()


class Keyring:
    """Holds KEKs in memory; never logs or prints key material."""

    def __init__(
        self,
        path: Path,
        keys: dict[str, bytes],
        active_id: str,
        shredded: Iterable[str] = (),
        secrets_by_purpose: dict[str, bytes] | None = None,
        anchors: dict[str, tuple[int, str]] | None = None,
    ) -> None:
        if active_id not in keys:
            raise KeyringError(f"active key {active_id!r} is not in the keyring")
        self.path = path
        self._keys = keys
        self.active_id = active_id
        self.shredded: set[str] = set(shredded)  # version ids whose keys were destroyed
        self._secrets: dict[str, bytes] = dict(secrets_by_purpose or {})
        #: Where each hash chain's keyed part begins, as first seen: kept here, beside the
        #: chain key, so a database writer cannot move it and pass rows off as unkeyed.
        self.anchors: dict[str, tuple[int, str]] = dict(anchors or {})
        #: KEKs taken out for good (:meth:`retire`): never written back by any process.
        self.retired: set[str] = set()
        self._activated = False  # this process made the active key (add_key): it wins
        self._seen = self._stamp()

    def __repr__(self) -> str:
        return f"Keyring(path={str(self.path)!r}, ids={self.key_ids}, active={self.active_id!r})"

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    @classmethod
    def load(cls, path: Path) -> Keyring:
        raw = cls._read(path)
        keys = {entry["id"]: base64.b64decode(entry["key"]) for entry in raw["keys"]}
        if any(len(k) != 32 for k in keys.values()):
            raise KeyringError(f"keyring {path} holds a key that is not 256 bits")
        retired = set(raw.get("retired", ()))
        keys = {key_id: key for key_id, key in keys.items() if key_id not in retired}
        ring = cls(
            path, keys, raw["active"], raw.get("shredded", ()), _purposes(raw), _anchors(raw)
        )
        ring.retired = retired
        return ring

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyringError(
                f"keyring {path} does not exist; run 'archive init' to create it, "
                "or point ARCHIVE_KEYRING at your backed-up copy"
            ) from None
        except (OSError, ValueError) as exc:
            raise KeyringError(f"keyring {path} cannot be read: {exc}") from None
        if raw.get("format") != KEYRING_FORMAT:
            raise KeyringError(f"keyring {path} has unsupported format {raw.get('format')!r}")
        return raw

    @classmethod
    def create(cls, path: Path) -> Keyring:
        """Create a keyring with one fresh key; refuse to overwrite an existing one."""
        if path.exists():
            raise KeyringError(f"keyring {path} already exists")
        key_id = _new_key_id()
        fresh = {purpose: secrets.token_bytes(32) for purpose in PURPOSES}
        ring = cls(path, {key_id: AESGCM.generate_key(bit_length=256)}, key_id, (), fresh)
        ring.save()
        return ring

    @classmethod
    def load_or_create(cls, path: Path) -> tuple[Keyring, bool]:
        if path.exists():
            return cls.load(path), False
        return cls.create(path), True

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def save(self) -> None:
        with self._locked():
            self._save_locked()

    def _save_locked(self) -> None:
        if self.path.exists():  # keep what other processes added meanwhile
            on_disk = self._read(self.path)
            self._merge(on_disk)
            self._secrets.update(_purposes(on_disk))  # the first one written stays
            self.anchors.update(_anchors(on_disk))
        self._activated = False
        body = {
            "format": KEYRING_FORMAT,
            "active": self.active_id,
            "keys": [
                {"id": key_id, "key": base64.b64encode(key).decode()}
                for key_id, key in self._keys.items()
            ],
            "shredded": sorted(self.shredded),
            "retired": sorted(self.retired),
            "chain_anchors": {chain: list(anchor) for chain, anchor in self.anchors.items()},
            "purposes": {
                purpose: base64.b64encode(key).decode() for purpose, key in self._secrets.items()
            },
        }
        atomic_write_bytes(self.path, json.dumps(body, indent=2).encode(), mode=0o600)
        self._seen = self._stamp()

    def _merge(self, on_disk: dict[str, Any]) -> None:
        """Take in what other processes wrote: keys, the active key (unless this process just
        made one), shredded versions and retired keys, which no process brings back."""
        self.shredded |= set(on_disk.get("shredded", ()))
        self.retired |= set(on_disk.get("retired", ()))
        for entry in on_disk["keys"]:
            if entry["id"] not in self.retired:
                self._keys.setdefault(entry["id"], base64.b64decode(entry["key"]))
        if not self._activated and on_disk.get("active") in self._keys:
            self.active_id = on_disk["active"]
        for key_id in self.retired - {self.active_id}:
            self._keys.pop(key_id, None)

    def _stamp(self) -> tuple[int, int] | None:
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return None
        return found.st_mtime_ns, found.st_size

    def _refresh(self) -> None:
        """Follow a rotation or retirement made by another process (a stat per call)."""
        stamp = self._stamp()
        if stamp is not None and stamp != self._seen:
            with self._locked():
                self._merge(self._read(self.path))
                self._seen = stamp

    def forget(self, version_ids: Iterable[object]) -> None:
        """Add versions to the shred register: their wrapped keys never unwrap again."""
        new = {str(v) for v in version_ids} - self.shredded
        if new:
            self.shredded |= new
            self.save()

    def secret(self, purpose: str) -> bytes:
        """The 256-bit secret for ``purpose`` (one of :data:`PURPOSES`), made once, then kept.

        A keyring from before purposes existed gets it on first use, under the file lock, so
        two processes asking at once agree on one secret."""
        if purpose not in PURPOSES:
            raise KeyringError(f"no such key purpose: {purpose!r}")
        if purpose not in self._secrets:
            with self._locked():
                if self.path.exists():
                    self._secrets.update(_purposes(self._read(self.path)))
                if purpose not in self._secrets:
                    self._secrets[purpose] = secrets.token_bytes(32)
                    self._save_locked()
        return self._secrets[purpose]

    def has_secret(self, purpose: str) -> bool:
        """Whether the secret for ``purpose`` exists (asking :meth:`secret` would make one);
        another process may have made it since this one read the file."""
        if purpose not in self._secrets and self.path.exists():
            self._secrets.update(_purposes(self._read(self.path)))
        return purpose in self._secrets

    def ensure_purposes(self) -> list[str]:
        """Create the purpose secrets an older keyring lacks; return the purposes created."""
        missing = [purpose for purpose in PURPOSES if purpose not in self._secrets]
        for purpose in missing:
            self.secret(purpose)
        return missing

    def remember_anchors(self, found: dict[str, tuple[int, str]]) -> list[str]:
        """Record the chains' anchors the keyring does not know yet (never replace one);
        return the chains recorded."""
        with self._locked():
            if self.path.exists():
                self.anchors.update(_anchors(self._read(self.path)))
            new = [chain for chain in found if chain not in self.anchors]
            if new:
                self.anchors.update({chain: found[chain] for chain in new})
                self._save_locked()
        return new

    def is_shredded(self, owner: str) -> bool:
        """Whether ``owner`` (``<version id>/<role>``) belongs to a shredded version."""
        return owner.split("/", 1)[0] in self.shredded

    def add_key(self) -> str:
        """Add a fresh KEK, make it active, persist, and return its id."""
        key_id = _new_key_id()
        self._keys[key_id] = AESGCM.generate_key(bit_length=256)
        self.active_id, self._activated = key_id, True
        self.save()
        return key_id

    def retire(self, key_ids: Iterable[str]) -> list[str]:
        """Take KEKs out of the keyring for good (never the active one): every data key
        still wrapped under them, in any copy of the database, can no longer be opened."""
        gone = sorted({k for k in key_ids if k in self._keys and k != self.active_id})
        with self._locked():
            self.retired |= set(gone)
            self._save_locked()
        return gone

    def wrap(self, data_key: bytes, owner: str) -> WrappedKey:
        self._refresh()  # never wrap under a key another process rotated out
        nonce = os.urandom(WRAP_NONCE_SIZE)
        aead = AESGCM(self._keys[self.active_id])
        wrapped = nonce + aead.encrypt(nonce, data_key, _wrap_aad(self.active_id, owner))
        return WrappedKey(self.active_id, wrapped)

    def unwrap(self, wrapped: WrappedKey, owner: str) -> bytes:
        self._refresh()
        if self.is_shredded(owner):
            raise KeyringError(f"the data key of {owner} was destroyed (shred register)")
        kek = self._keys.get(wrapped.kek_id)
        if kek is None:
            raise KeyringError(f"key-encryption key {wrapped.kek_id!r} is not in the keyring")
        nonce, body = wrapped.wrapped[:WRAP_NONCE_SIZE], wrapped.wrapped[WRAP_NONCE_SIZE:]
        try:
            return AESGCM(kek).decrypt(nonce, body, _wrap_aad(wrapped.kek_id, owner))
        except InvalidTag:
            raise KeyringError(
                f"wrapped data key for {owner} does not unwrap under {wrapped.kek_id!r}"
            ) from None


def _purposes(raw: dict[str, Any]) -> dict[str, bytes]:
    found = {purpose: base64.b64decode(key) for purpose, key in raw.get("purposes", {}).items()}
    if any(len(key) != 32 for key in found.values()):
        raise KeyringError("the keyring holds a purpose key that is not 256 bits")
    return found


def _anchors(raw: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {
        chain: (int(anchor[0]), str(anchor[1]))
        for chain, anchor in raw.get("chain_anchors", {}).items()
    }


def _new_key_id() -> str:
    return f"kek-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"
