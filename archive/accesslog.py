"""The access log: who read, downloaded, printed or exported what, from where, and when.

A hash chain of its own, built like the audit chain (:mod:`archive.audit`): each line's hash
is an HMAC under the chain key over its fields and the previous line's hash, appends are
serialised, and the table refuses UPDATE and DELETE. ``archive audit verify`` walks both
chains and the signed checkpoints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from archive.audit import (
    SESSION_KEY,
    ChainReport,
    chain_key,
    link_hash,
    next_link,
    verify_chain,
)
from archive.db import utcnow
from archive.models import AccessEvent, User

ALLOWED = "allowed"
REFUSED = "refused"


@dataclass(frozen=True)
class Client:
    """Where a request came from: the socket's address (or the trusted proxy's word)."""

    ip: str | None
    user_agent: str = ""


#: The columns a line is inserted with: all but the row id, which the database gives.
_COLUMNS = tuple(c.key for c in AccessEvent.__table__.columns if not c.primary_key)
_INSERT = insert(AccessEvent.__table__)  # type: ignore[arg-type]


def access_payload(event: AccessEvent) -> bytes:
    body = {
        "seq": event.seq,
        "at": event.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "user_id": event.user_id,
        "username": event.username,
        "action": event.action,
        "outcome": event.outcome,
        "reason": event.reason,
        "record_id": event.record_id,
        "version_id": event.version_id,
        "grant_id": event.grant_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def access_hash(event: AccessEvent, key: bytes | None) -> str:
    return link_hash(access_payload(event), key)


def log_access(
    session: Session,
    user: User | None,
    client: Client,
    action: str,
    outcome: str,
    *,
    record_id: object = None,
    version_id: object = None,
    grant_id: object = None,
    reason: str = "",
    details: str = "",
    at: datetime | None = None,
    after: AccessEvent | None = None,
    named: str | None = None,
) -> AccessEvent:
    """Append one line inside the caller's transaction; ``after``: the line this one follows,
    appended just before in the same transaction (the chain's head is then not looked up);
    ``named``: who, when no user is (the console's operator), instead of ``anonymous``."""
    seq, prev_hash = (after.seq + 1, after.hash) if after else next_link(session, AccessEvent)
    event = AccessEvent(
        seq=seq,
        at=at or utcnow(),
        user_id=user.id if user else None,
        username=user.username if user else (named or "anonymous"),
        action=action,
        outcome=outcome,
        reason=reason[:500],
        record_id=str(record_id) if record_id else None,
        version_id=str(version_id) if version_id else None,
        grant_id=str(grant_id) if grant_id else None,
        ip=client.ip,
        user_agent=client.user_agent[:300],
        details=details[:2000],
        prev_hash=prev_hash,
    )
    event.hash = access_hash(event, chain_key(session))
    # A plain INSERT, not session.add(): the line is never changed again (the table refuses
    # it), so the unit of work's bookkeeping would only cost every read its time.
    session.execute(_INSERT, {name: getattr(event, name) for name in _COLUMNS})
    return event


def verify_access_log(
    session: Session,
    key: bytes | None = SESSION_KEY,
    checkpoints: Mapping[int, str] | None = None,
) -> ChainReport:
    return verify_chain(
        session, model=AccessEvent, payload=access_payload, key=key, checkpoints=checkpoints
    )
