"""The audit chain: every state change is an event carrying the hash of the one before.

``hash = HMAC-SHA256(chain key, canonical JSON of the event's fields, with seq and
prev_hash)``. The chain key lives in the keyring, never in the database, so someone who can
write the database can edit a row but cannot compute the hashes that would hide it. Rows
written before the chains were keyed keep their plain SHA-256 links up to the chain's anchor
(``chain_anchors``, migration 0011). Editing, deleting or reordering any row breaks the
chain at that row, and :func:`verify_chain` names it. Deleting the newest rows leaves a
shorter chain: the signed checkpoints outside the database (:mod:`archive.checkpoints`)
catch that, and a moved anchor. Appends are serialised: on PostgreSQL by a
transaction-scoped advisory lock, on SQLite by the write lock ``BEGIN IMMEDIATE`` already
holds; a unique ``seq`` is the last line of defence. The database also refuses UPDATE and
DELETE on the table (a trigger).
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import socket
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarResult, select
from sqlalchemy.orm import Session

from archive.db import advisory_xact_lock, utcnow
from archive.models import AccessEvent, AuditEvent, ChainAnchor, User

GENESIS = "0" * 64
#: ``Session.info`` key of a callable returning the chain key (the Archive's sessions set it).
CHAIN_KEY_SOURCE = "archive.chain_key"


class ChainKeyMissing(RuntimeError):
    """A chain was appended to through a session that does not carry the chain key."""


def chain_key(session: Session) -> bytes:
    """The key that links the chains, from the keyring (through the session's Archive)."""
    source = session.info.get(CHAIN_KEY_SOURCE)
    if source is None:
        raise ChainKeyMissing("open sessions through Archive: this one has no chain key")
    key: bytes = source()
    return key


def link_hash(payload: bytes, key: bytes | None) -> str:
    """A row's hash: HMAC-SHA256 under the chain key, or plain SHA-256 before the anchor."""
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who did something and from where: a user, the CLI operator, or the system itself."""

    name: str
    user_id: int | None = None
    ip: str | None = None

    @classmethod
    def of(cls, user: User, ip: str | None = None) -> Actor:
        return cls(name=user.username, user_id=user.id, ip=ip)

    @classmethod
    def cli(cls) -> Actor:
        return cls(name=f"cli:{getpass.getuser()}@{socket.gethostname()}"[:64])


SYSTEM = Actor(name="system")


def _timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_payload(event: AuditEvent) -> bytes:
    body = {
        "seq": event.seq,
        "at": _timestamp(event.at),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "ip": event.ip,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(event: AuditEvent, key: bytes | None) -> str:
    return link_hash(canonical_payload(event), key)


def authentic(session: Session, event: AuditEvent) -> bool:
    """Whether ``event`` was written by the archive: its hash is the keyed one of what it
    says now. Someone who can write the database cannot make one (the key is the keyring's),
    so a row inserted or edited there is not authentic, without walking the whole chain."""
    return hmac.compare_digest(event.hash, event_hash(event, chain_key(session)))


def next_link(session: Session, model: type[AuditEvent] | type[AccessEvent]) -> tuple[int, str]:
    """The next sequence number and the hash to link to, with appends serialised."""
    advisory_xact_lock(session, "chain:" + model.__tablename__)
    head = session.execute(
        select(model.seq, model.hash).order_by(model.seq.desc()).limit(1)
    ).first()
    return (head[0] + 1, head[1]) if head else (1, GENESIS)


def record_event(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    seq, prev_hash = next_link(session, AuditEvent)
    # Round-trip the details through JSON so what is hashed is exactly what is stored.
    stored_details = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    event = AuditEvent(
        seq=seq,
        at=utcnow(),
        actor_id=actor.user_id,
        actor=actor.name,
        ip=actor.ip,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=stored_details,
        prev_hash=prev_hash,
    )
    event.hash = event_hash(event, chain_key(session))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    head_seq: int
    head_hash: str
    problem: str | None = None
    bad_seq: int | None = None
    anchor_seq: int = 0  # rows up to here are plain SHA-256 (written before keying)
    keyed: bool = True  # False: the HMACs were not checked (no key given), links only


Link = AuditEvent | AccessEvent
Payload = Callable[[Any], bytes]


def anchor_of(session: Session, model: type[Link]) -> tuple[int, str]:
    """Where the chain's keyed part begins; a missing anchor means keyed from the start."""
    anchor = session.get(ChainAnchor, model.__tablename__)
    return (anchor.seq, anchor.hash) if anchor else (0, GENESIS)


def _misfit(event: Link, expected_seq: int, prev_hash: str, digest: str | None) -> str | None:
    """Why ``event`` does not fit where the chain expects event ``expected_seq``, if it does not."""
    if event.seq != expected_seq:
        return (
            f"event #{expected_seq} is missing (the next one is #{event.seq}): "
            "a row was deleted or renumbered"
        )
    if event.prev_hash != prev_hash:
        return (
            f"event #{event.seq} (id {event.id}) does not link to #{event.seq - 1}: "
            "the event before it was edited, deleted or reordered"
        )
    if digest is not None and digest != event.hash:
        return (
            f"event #{event.seq} (id {event.id}, {event.action}) was altered: "
            "its content no longer matches its hash"
        )
    return None


class _UseSessionKey:
    pass


SESSION_KEY: Any = _UseSessionKey()


def verify_chain(
    session: Session,
    batch: int = 1000,
    model: type[Link] = AuditEvent,
    payload: Payload = canonical_payload,
    key: bytes | None = SESSION_KEY,
    checkpoints: Mapping[int, str] | None = None,
    anchor: tuple[int, str] | None = None,
) -> ChainReport:
    """Walk the chain in order; stop at the first event that does not fit.

    ``key`` None checks links and the plain part only (a backup verified without its
    keyring). ``checkpoints`` (seq → hash, from signed checkpoints) must all be found: a
    checkpointed row that differs, or lies beyond the end, means rewriting or truncation.
    ``anchor``: where the keyed part begins as the keyring recorded it (else the database's
    word, which a database writer could move)."""
    if isinstance(key, _UseSessionKey):
        key = chain_key(session)
    anchor_seq, anchor_hash = anchor or anchor_of(session, model)
    expected = dict(checkpoints or {})
    expected_seq, prev_hash, count = 1, GENESIS, 0

    def broken(problem: str, at: int) -> ChainReport:
        return ChainReport(
            False, count, expected_seq - 1, prev_hash, problem, at, anchor_seq, key is not None
        )

    rows: ScalarResult[Link] = session.execute(  # type: ignore[assignment]
        select(model).order_by(model.seq).execution_options(yield_per=batch)
    ).scalars()
    with closing(rows):  # a server-side cursor on PostgreSQL: close it on early return
        for event in rows:
            plain = event.seq <= anchor_seq
            digest = (
                None
                if key is None and not plain
                else link_hash(payload(event), None if plain else key)
            )
            problem = _misfit(event, expected_seq, prev_hash, digest)
            if problem is None and event.seq == anchor_seq and event.hash != anchor_hash:
                problem = f"event #{event.seq} is not the chain's recorded anchor"
            if problem is None and expected.pop(event.seq, event.hash) != event.hash:
                problem = (
                    f"event #{event.seq} differs from the signed checkpoint of it: "
                    "the chain was rewritten"
                )
            if problem:
                return broken(problem, expected_seq)
            prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
            session.expunge(event)
    if anchor_seq > count:
        return broken(f"the chain's anchor is event #{anchor_seq}, beyond its end", count + 1)
    if expected:
        lost = min(expected)
        return broken(
            f"a signed checkpoint saw event #{lost}, but the chain ends at #{count}: "
            "newer events were deleted",
            lost,
        )
    return ChainReport(
        True, count, expected_seq - 1, prev_hash, None, None, anchor_seq, key is not None
    )
