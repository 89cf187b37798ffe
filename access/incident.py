"""Incident response to a data leak: freeze a person at once, then list everything they read.

Freezing blocks sign-in (sessions end on their next request), revokes every API token and
every live grant, and refuses their pending requests, all in one audited transaction. The
export reads the access log, the hash-chained record of every content attempt, so it shows
what was read, what was refused, from which address and when.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.csvsafe import csv_lines
from archive.db import LOCAL_TIME, utcnow
from archive.models import AccessEvent, AccessRequest, ApiToken, Grant, RequestStatus, User
from archive.people import PeopleError, set_active


@dataclass(frozen=True)
class FreezeReport:
    username: str
    grants_revoked: int
    tokens_revoked: int
    requests_cancelled: int


def freeze_user(session: Session, actor: Actor, user: User, reason: str) -> FreezeReport:
    """Block the user and take back every access they hold, in the caller's transaction."""
    why = reason.strip()
    if not why:
        raise PeopleError("freezing a user needs a reason (the incident number, say)")
    if actor.user_id == user.id:
        raise PeopleError("nobody may freeze themselves")
    now = utcnow()
    # The live tokens are listed before blocking the user, which may revoke them itself.
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    set_active(session, actor, user, False)
    grants = session.scalars(
        select(Grant).where(Grant.user_id == user.id, Grant.revoked_at.is_(None))
    ).all()
    for grant in grants:
        grant.revoked_at, grant.revoked_by_id = now, actor.user_id
        grant.revoke_reason = f"frozen: {why}"[:500]
    for token in tokens:
        token.revoked_at = now
    pending = session.scalars(
        select(AccessRequest).where(
            AccessRequest.requester_id == user.id, AccessRequest.status == RequestStatus.PENDING
        )
    ).all()
    for item in pending:  # refused without an approver: the freeze event says why
        item.status, item.decided_at = RequestStatus.DENIED, now
    report = FreezeReport(user.username, len(grants), len(tokens), len(pending))
    record_event(
        session,
        actor,
        "user.frozen",
        "user",
        user.id,
        {
            "username": user.username,
            "reason": why,
            "grants": [str(g.id) for g in grants],
            "tokens": len(tokens),
            "requests": [str(r.id) for r in pending],
        },
    )
    return report


EXPORT_COLUMNS = (
    "seq",
    "北京时间 / local time",
    "UTC",
    "action",
    "outcome",
    "reason",
    "record_id",
    "version_id",
    "grant_id",
    "ip",
    "user_agent",
)


def reads_of(
    session: Session, username: str, since: datetime | None = None
) -> Iterator[AccessEvent]:
    """Every access-log line of ``username``, oldest first (allowed and refused)."""
    query = select(AccessEvent).where(AccessEvent.username == username)
    if since is not None:
        query = query.where(AccessEvent.at >= since)
    yield from session.scalars(query.order_by(AccessEvent.seq).execution_options(yield_per=500))


def reads_csv(session: Session, username: str, since: datetime | None = None) -> Iterator[str]:
    """The export as CSV lines (UTF-8 with a BOM so spreadsheet programs read the Chinese;
    every text cell made inert for them: the user agent, say, is the reader's own text)."""

    def rows() -> Iterator[list[object]]:
        yield list(EXPORT_COLUMNS)
        for event in reads_of(session, username, since):
            yield [
                event.seq,
                event.at.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S"),
                event.at.isoformat(),
                event.action,
                event.outcome,
                event.reason,
                event.record_id,
                event.version_id,
                event.grant_id,
                event.ip,
                event.user_agent,
            ]

    return csv_lines(rows())
