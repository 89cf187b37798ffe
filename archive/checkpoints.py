"""Signed checkpoints of both chains' heads, kept outside the database.

The chains are keyed (:mod:`archive.audit`), so a database writer cannot forge a link; but
they can still delete the newest rows, or move a chain's anchor and re-hash the old part.
A checkpoint is one JSON line appended to a file outside the database (and e-mailed with
the alerts when SMTP is set): each chain's head and anchor, the hash of the line before,
and an Ed25519 signature by a key from the keyring. ``archive audit verify`` checks every
line's signature and link, that every checkpointed row is still there unchanged, and that
the anchors are the ones the first checkpoint saw.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archive.accesslog import access_payload
from archive.audit import (
    GENESIS,
    ChainReport,
    Payload,
    anchor_of,
    canonical_payload,
    verify_chain,
)
from archive.crypto import Keyring
from archive.crypto.keyring import CHAIN_PURPOSE, CHECKPOINT_PURPOSE
from archive.db import utcnow
from archive.models import AccessEvent, AuditEvent

CHAINS: dict[str, type[AuditEvent] | type[AccessEvent]] = {
    "audit_events": AuditEvent,
    "access_events": AccessEvent,
}
LABELS = {"audit_events": "audit chain", "access_events": "access log"}
PAYLOADS: dict[str, Payload] = {
    "audit_events": canonical_payload,
    "access_events": access_payload,
}


def signing_key(keyring: Keyring) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(keyring.secret(CHECKPOINT_PURPOSE))


def public_key_text(keyring: Keyring) -> str:
    """The verifying key, safe to print and hand to whoever keeps the e-mailed copies."""
    raw = signing_key(keyring).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def heads(session: Session) -> dict[str, dict[str, Any]]:
    """Each chain's newest committed row and its anchor, as a checkpoint records them."""
    found: dict[str, dict[str, Any]] = {}
    for name, model in CHAINS.items():
        head = session.execute(
            select(model.seq, model.hash).order_by(model.seq.desc()).limit(1)
        ).first()
        anchor_seq, anchor_hash = anchor_of(session, model)
        found[name] = {
            "seq": int(head[0]) if head else 0,
            "hash": str(head[1]) if head else GENESIS,
            "anchor_seq": anchor_seq,
            "anchor_hash": anchor_hash,
        }
    return found


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _last_line(path: Path) -> bytes | None:
    if not path.exists():
        return None
    last = None
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                last = line.rstrip(b"\n")
    return last


def write_checkpoint(
    session: Session, keyring: Keyring, path: Path, *, force: bool = False
) -> str | None:
    """Append a signed checkpoint when a head moved (or ``force``); return the line written."""
    current = heads(session)
    with _locked(path):
        last = _last_line(path)
        previous = json.loads(last) if last else None
        if previous and not force and previous["chains"] == current:
            return None
        body = {
            "n": previous["n"] + 1 if previous else 1,
            "at": utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "chains": current,
            "prev": hashlib.sha256(last).hexdigest() if last else GENESIS,
        }
        body["sig"] = base64.b64encode(signing_key(keyring).sign(_canonical(body))).decode()
        line = json.dumps(body, ensure_ascii=False, sort_keys=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
    return line


@dataclass
class CheckpointReport:
    """What the checkpoint file says: every line's signature and link checked."""

    path: Path
    count: int = 0
    last_at: str | None = None
    problems: list[str] = field(default_factory=list)
    #: chain → {seq: hash} that every signed checkpoint saw
    seen: dict[str, dict[int, str]] = field(default_factory=dict)
    #: chain → (seq, hash) of the anchor, as the first checkpoint recorded it
    anchors: dict[str, tuple[int, str]] = field(default_factory=dict)


def read_checkpoints(path: Path, keyring: Keyring) -> CheckpointReport:
    report = CheckpointReport(path, seen={name: {} for name in CHAINS})
    if not path.exists():
        report.problems.append(
            f"no checkpoint file at {path}: truncation and re-anchoring cannot be ruled out"
        )
        return report
    verifier: Ed25519PublicKey = signing_key(keyring).public_key()
    prev = GENESIS
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            raw = raw.rstrip(b"\n")
            if not raw.strip():
                continue
            problem = _check_line(raw, number, prev, report.count + 1, verifier, report)
            if problem:
                report.problems.append(problem)
                return report
            prev = hashlib.sha256(raw).hexdigest()
    if report.count == 0:
        report.problems.append(f"the checkpoint file {path} is empty")
    return report


def _check_line(
    raw: bytes,
    number: int,
    prev: str,
    expected_n: int,
    verifier: Ed25519PublicKey,
    report: CheckpointReport,
) -> str | None:
    where = f"checkpoint line {number}"
    try:
        body = json.loads(raw)
        signature = base64.b64decode(body.pop("sig"))
        verifier.verify(signature, _canonical(body))
    except InvalidSignature:
        return f"{where} is not signed by this archive's checkpoint key: it was forged or edited"
    except (ValueError, KeyError, TypeError):
        return f"{where} cannot be read"
    if body.get("prev") != prev or body.get("n") != expected_n:
        return f"{where} does not follow the line before it: checkpoints were removed"
    for name, state in body["chains"].items():
        anchor = (int(state["anchor_seq"]), str(state["anchor_hash"]))
        if report.anchors.setdefault(name, anchor) != anchor:
            return f"{where} records another anchor for the {LABELS.get(name, name)}"
        if state["seq"]:
            report.seen.setdefault(name, {})[int(state["seq"])] = str(state["hash"])
    report.count += 1
    report.last_at = body.get("at")
    return None


@dataclass(frozen=True)
class AuditReport:
    chains: dict[str, ChainReport]
    checkpoints: CheckpointReport

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.chains.values()) and not self.checkpoints.problems

    def problems(self) -> list[str]:
        found = [f"{LABELS[n]}: {r.problem}" for n, r in self.chains.items() if not r.ok]
        return found + [f"checkpoints: {p}" for p in self.checkpoints.problems]


def verify_all(session: Session, keyring: Keyring, path: Path) -> AuditReport:
    """Both chains, every link keyed-checked, from the anchors the keyring recorded, against
    every signed checkpoint."""
    checkpoints = read_checkpoints(path, keyring)
    key = keyring.secret(CHAIN_PURPOSE)
    chains: dict[str, ChainReport] = {}
    for name, model in CHAINS.items():
        recorded = keyring.anchors.get(name)
        in_database = anchor_of(session, model)
        if recorded is not None and recorded != in_database:
            checkpoints.problems.append(
                f"the {LABELS[name]}'s anchor in the database (#{in_database[0]}) is not the "
                f"one the keyring recorded (#{recorded[0]}): it was moved"
            )
        chains[name] = verify_chain(
            session,
            model=model,
            payload=PAYLOADS[name],
            key=key,
            checkpoints=checkpoints.seen.get(name),
            anchor=recorded,
        )
        signed = checkpoints.anchors.get(name)
        if signed is not None and signed != (recorded or in_database):
            checkpoints.problems.append(
                f"the {LABELS[name]}'s anchor is not the one the first checkpoint signed: "
                "it was moved"
            )
        checkpoints.problems += _odd_times(session, model)
    return AuditReport(chains, checkpoints)


def _odd_times(session: Session, model: type[AuditEvent] | type[AccessEvent]) -> list[str]:
    """On SQLite a time is text: one rewritten in another form keeps its hash (the same
    instant) but escapes date filters, so each must be in the one form the archive writes."""
    if session.get_bind().dialect.name != "sqlite":
        return []
    odd = session.execute(
        text(
            f"SELECT seq FROM {model.__tablename__} WHERE at NOT GLOB "  # noqa: S608
            "'[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]."
            "[0-9][0-9][0-9][0-9][0-9][0-9]' ORDER BY seq LIMIT 1"
        )
    ).scalar()
    if odd is None:
        return []
    return [
        f"the {LABELS[model.__tablename__]}'s event #{odd} has its time stored in another "
        "form than the archive writes: it was edited by hand"
    ]
