"""The audit chain: every state change is an event carrying the hash of the one before.

``hash = SHA-256(canonical JSON of the event's fields, including seq and prev_hash)``.
Editing, deleting or reordering any row breaks the chain at that row, and
:func:`verify_chain` names it. Appends are serialised: on PostgreSQL by a transaction-scoped
advisory lock, on SQLite by the write lock ``BEGIN IMMEDIATE`` already holds; a unique
``seq`` is the last line of defence. The database also refuses UPDATE and DELETE on the
table (a trigger), so only someone who disables triggers can try, and the chain shows it.
Deleting the newest rows leaves a shorter valid chain: compare the head that
``archive audit verify`` prints against one recorded elsewhere to catch that.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarResult, select
from sqlalchemy.orm import Session

from archive.db import advisory_xact_lock, utcnow
from archive.models import AccessEvent, AuditEvent, User

GENESIS = "0" * 64


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


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_payload(event)).hexdigest()


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
    event.hash = event_hash(event)
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


Link = AuditEvent | AccessEvent


def _misfit(
    event: Link, expected_seq: int, prev_hash: str, hasher: Callable[[Any], str]
) -> str | None:
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
    if hasher(event) != event.hash:
        return (
            f"event #{event.seq} (id {event.id}, {event.action}) was altered: "
            "its content no longer matches its hash"
        )
    return None


def verify_chain(
    session: Session,
    batch: int = 1000,
    model: type[AuditEvent] | type[AccessEvent] = AuditEvent,
    hasher: Callable[[Any], str] = event_hash,
) -> ChainReport:
    """Walk the chain in order; stop at the first event that does not fit."""
    expected_seq, prev_hash, count = 1, GENESIS, 0
    rows: ScalarResult[Link] = session.execute(  # type: ignore[assignment]
        select(model).order_by(model.seq).execution_options(yield_per=batch)
    ).scalars()
    with closing(rows):  # a server-side cursor on PostgreSQL: close it on early return
        for event in rows:
            problem = _misfit(event, expected_seq, prev_hash, hasher)
            if problem:
                return ChainReport(False, count, expected_seq - 1, prev_hash, problem, expected_seq)
            prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
            session.expunge(event)
    return ChainReport(True, count, expected_seq - 1, prev_hash)
