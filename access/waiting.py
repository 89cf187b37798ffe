"""What waits for a person, for their home page: each kind with a count, where to act on it,
and (for requests) the nearest deadline. Only what the person's role may act on; each count
is one query or a walk over a few open rows (lists being signed, executed lists not closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from access.alerts import alerts
from access.browse import visible_lists
from access.grants import granted_records
from access.policy import Permission, may
from access.requests import mine, violations, waiting_for
from archive.config import Settings
from archive.db import utcnow
from archive.models import (
    DispositionList,
    IngestJob,
    IngestStatus,
    ListStatus,
    Record,
    RequestStatus,
    User,
)
from retention.appraisal import appraisal_queue
from retention.disposition import missing_slots, open_slots_for
from retention.witness import slots_for

#: How long a refused request of one's own is shown on the home page.
REFUSALS_SHOWN = timedelta(days=7)


@dataclass(frozen=True)
class Waiting:
    """``count`` things of ``kind`` wait; ``endpoint`` (with ``args``) is where to act."""

    kind: str
    count: int
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)
    due: datetime | None = None
    urgent: bool = False


def what_waits(session: Session, settings: Settings, person: User) -> list[Waiting]:
    role = person.role
    found: list[Waiting] = []
    if may(role, Permission.DECIDE_REQUESTS):
        decide = waiting_for(session, person)
        due = min((r.due_at for r in decide if r.due_at), default=None)
        found.append(Waiting("decide", len(decide), "web.inbox", due=due, urgent=True))
    if may(role, Permission.SIGN_LISTS):
        signing = [
            lst
            for lst in visible_lists(session, person)
            if lst.status == ListStatus.SIGNING and open_slots_for(settings.retention, lst, person)
        ]
        found.append(Waiting("sign", len(signing), "web.lists", urgent=True))
    if may(role, Permission.WITNESS_DESTRUCTION):
        executed = session.scalars(
            select(DispositionList).where(
                DispositionList.status == ListStatus.EXECUTED,
                DispositionList.closed_at.is_(None),
            )
        ).all()
        count = sum(1 for lst in executed if slots_for(session, settings.retention, lst, person))
        found.append(Waiting("witness", count, "web.witness_page", urgent=True))
    if may(role, Permission.MANAGE_RETENTION):  # records managers carry signed lists out
        ready = [
            lst
            for lst in visible_lists(session, person)
            if lst.status == ListStatus.SIGNING and not missing_slots(settings.retention, lst)
        ]
        found.append(Waiting("execute", len(ready), "web.lists", urgent=True))
    if may(role, Permission.MANAGE_CLASSIFICATION):
        review = select(func.count()).where(Record.needs_review.is_(True))
        found.append(Waiting("classify", session.scalar(review) or 0, "web.class_review"))
    if may(role, Permission.MANAGE_RETENTION):
        found.append(Waiting("appraise", len(appraisal_queue(session)), "web.appraisal"))
    if may(role, Permission.UPLOAD):
        quarantined = select(func.count()).where(IngestJob.status == IngestStatus.QUARANTINED)
        everyones = may(role, Permission.SEE_EVERY_JOB)  # a records manager releases anyone's
        if not everyones:
            quarantined = quarantined.where(IngestJob.created_by_id == person.id)
        found.append(
            Waiting(
                "quarantined_all" if everyones else "quarantined",
                session.scalar(quarantined) or 0,
                "web.jobs",
                {"status": "quarantined"},
                urgent=True,
            )
        )
    if may(role, Permission.READ_ACCESS_LOG):
        count = len(alerts(session, settings.access)) + len(violations(session))
        found.append(Waiting("alerts", count, "web.alerts", urgent=True))
    if may(role, Permission.SEARCH):
        asked = mine(session, person)
        pending = sum(1 for r in asked if r.status == RequestStatus.PENDING)
        found.append(Waiting("mine", pending, "web.my_requests"))
        lately = utcnow() - REFUSALS_SHOWN
        refused = sum(
            1
            for r in asked
            if r.status == RequestStatus.DENIED and r.decided_at and r.decided_at >= lately
        )
        if refused:  # told, with the reason one click away, not only on the requests page
            found.append(Waiting("refused", refused, "web.my_requests", urgent=True))
        readable = len(granted_records(session, person))  # approved: open to read now
        found.append(Waiting("granted", readable, "web.my_requests"))
    return found
