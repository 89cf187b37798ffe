"""Unusual access, read from the access log: a user reading more than N records within an
hour, reads outside working hours, and repeated refusals. Listed for auditors; computed on
demand over a recent window, so there is no second copy of the log to keep in step.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.accesslog import ALLOWED, REFUSED
from archive.config import AccessSettings
from archive.db import utcnow
from archive.models import AccessEvent, Scope

READS = tuple(scope.value for scope in Scope)
HOUR = timedelta(hours=1)
LOCAL_TIME = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Alert:
    kind: str  # many_reads, after_hours, refusals
    username: str
    at: datetime
    count: int
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "user": self.username,
            "at": self.at.isoformat(),
            "count": self.count,
            "detail": self.detail,
        }


def alerts(
    session: Session, settings: AccessSettings, since: datetime | None = None
) -> list[Alert]:
    """Alerts over the log since ``since`` (default: the last seven days)."""
    since = since or utcnow() - timedelta(days=7)
    events = session.scalars(
        select(AccessEvent)
        .where(AccessEvent.at >= since, AccessEvent.action.in_(READS))
        .order_by(AccessEvent.seq)
    )
    found: list[Alert] = []
    reads: dict[str, deque[tuple[datetime, str]]] = defaultdict(deque)
    refusals: dict[str, deque[datetime]] = defaultdict(deque)
    flagged: set[tuple[str, str]] = set()  # one alert per user and kind per hour window
    start, end = settings.work_hours
    for event in events:
        who = event.username
        if event.outcome == REFUSED:
            window = refusals[who]
            window.append(event.at)
            while window[0] < event.at - HOUR:
                window.popleft()
            key = (who, f"refusals:{window[0]:%Y%m%d%H}")
            if len(window) >= settings.alert_refusals and key not in flagged:
                flagged.add(key)
                found.append(
                    Alert(
                        "refusals",
                        who,
                        window[0],
                        len(window),
                        f"{len(window)} refusals within an hour",
                    )
                )
            continue
        if event.outcome != ALLOWED:
            continue
        local = event.at.astimezone(LOCAL_TIME)
        if not start <= local.hour < end:
            found.append(
                Alert(
                    "after_hours",
                    who,
                    event.at,
                    1,
                    f"{event.action} of record {event.record_id} at {local:%H:%M} 北京时间",
                )
            )
        recent = reads[who]
        recent.append((event.at, event.record_id or ""))
        while recent[0][0] < event.at - HOUR:
            recent.popleft()
        distinct = len({record for _, record in recent})
        key = (who, f"reads:{recent[0][0]:%Y%m%d%H}")
        if distinct > settings.alert_reads_per_hour and key not in flagged:
            flagged.add(key)
            found.append(
                Alert(
                    "many_reads", who, recent[0][0], distinct, f"{distinct} records within an hour"
                )
            )
    return found
