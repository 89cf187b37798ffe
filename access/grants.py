"""What a person holds on records: their grants, and, for the pages that list records, where
each record stands for them (a request waiting, a grant in force). Read-only queries shared by
the workflow (:mod:`access.requests`), the pages, the API and the reader."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import utcnow
from archive.models import AccessRequest, Grant, RequestStatus, User


def grants_of(session: Session, user: User, record_id: uuid.UUID | None = None) -> list[Grant]:
    query = select(Grant).where(Grant.user_id == user.id)
    if record_id is not None:
        query = query.where(Grant.record_id == record_id)
    return list(session.scalars(query))


def granted_records(session: Session, user: User, now: datetime | None = None) -> frozenset[str]:
    """Ids of the records ``user`` holds an active grant for (they may know of them)."""
    now = now or utcnow()
    ids = session.scalars(
        select(Grant.record_id).where(
            Grant.user_id == user.id,
            Grant.revoked_at.is_(None),
            Grant.valid_from <= now,
            Grant.valid_until > now,
        )
    )
    return frozenset(str(i) for i in ids)


@dataclass
class Standing:
    """Where one record stands for one person: the scopes they asked for and wait on, and
    the scopes they hold with when each ends."""

    waiting: list[str] = field(default_factory=list)
    granted: dict[str, datetime] = field(default_factory=dict)


def standing_on(
    session: Session, user: User, record_ids: Collection[uuid.UUID], now: datetime | None = None
) -> dict[str, Standing]:
    """Each listed record the person has asked about or holds a grant on, by id: a list of
    records then says "申请待审批" or "已获准" beside each instead of offering a second request."""
    if not record_ids:
        return {}
    now = now or utcnow()
    found: dict[str, Standing] = defaultdict(Standing)
    waiting = session.execute(
        select(AccessRequest.record_id, AccessRequest.scope).where(
            AccessRequest.requester_id == user.id,
            AccessRequest.status == RequestStatus.PENDING,
            AccessRequest.record_id.in_(record_ids),
        )
    )
    for record_id, scope in waiting:
        found[str(record_id)].waiting.append(str(getattr(scope, "value", scope)))
    held = session.execute(
        select(Grant.record_id, Grant.scope, Grant.valid_until).where(
            Grant.user_id == user.id,
            Grant.revoked_at.is_(None),
            Grant.valid_from <= now,
            Grant.valid_until > now,
            Grant.record_id.in_(record_ids),
        )
    )
    for record_id, scope, until in held:
        shown = found[str(record_id)].granted
        code = str(getattr(scope, "value", scope))
        shown[code] = max(until, shown.get(code, until))
    return dict(found)
