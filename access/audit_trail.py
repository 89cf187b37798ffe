"""The audit trail as auditors read it: who did what to which record or person, when (Beijing
time) and from where, with the values before and after. Read-only.

The filters are what an auditor knows: a user name, an action (exact, or a family such as
``record.``), a record by its 档号 or id, and days in Beijing time. A record's trail includes
what was done to its versions, its access requests and its grants, not only the events
filed under the record itself. The rows come in the viewer's language
(:mod:`archive.vocabulary`); :mod:`access.trail_view` turns details into words.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from access.trail_view import Change, Lookups, describe_details, lookups_for
from archive.db import LOCAL_TIME
from archive.models import AccessRequest, AuditEvent, Grant, Record, User, Version
from archive.vocabulary import action_label, beijing, english, object_label

PER_PAGE = 50
MAX_PER_PAGE = 200
#: An action code, or a family of them ending in a dot (``record.``).
_ACTION = re.compile(r"^[a-z_]+(\.[a-z_]+)*\.?$")

#: Why a filter was not understood (the form says it in the page's language).
INVALID_ACTION = "invalid_action"
INVALID_DATE = "invalid_date"
DATES_REVERSED = "dates_reversed"
UNKNOWN_RECORD = "unknown_record"
INVALID_PAGE = "invalid_page"
PROBLEMS = {
    INVALID_ACTION: "an action is a code such as record.created, or a family such as record.",
    INVALID_DATE: "a date looks like 2026-01-31",
    DATES_REVERSED: "the first day is after the last",
    UNKNOWN_RECORD: "no record has this reference code (档号) or id",
    INVALID_PAGE: "page and per_page are whole numbers",
}


@dataclass(frozen=True)
class TrailFilter:
    actor: str = ""
    action: str = ""
    record: str = ""  # a 档号 or a record id, as typed
    day_from: date | None = None  # Beijing days, both included
    day_to: date | None = None
    page: int = 1
    per_page: int = PER_PAGE


def parse_filter(args: Mapping[str, str]) -> tuple[TrailFilter, dict[str, str]]:
    """The filter from ``?actor=&action=&record=&from=&to=&page=&per_page=``, and what was
    wrong with it (field → problem code); a wrong field is left out of the filter."""
    problems: dict[str, str] = {}
    action = (args.get("action") or "").strip()
    if action and not _ACTION.match(action):
        problems["action"], action = INVALID_ACTION, ""
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        text = (args.get(name) or "").strip()
        try:
            days[name] = date.fromisoformat(text) if text else None
            if days[name] is not None and not 1900 <= days[name].year <= 9998:  # type: ignore[union-attr]
                raise ValueError  # the day after, in UTC, must still be a date
        except ValueError:
            problems[name], days[name] = INVALID_DATE, None
    if days["from"] and days["to"] and days["from"] > days["to"]:
        problems["to"] = DATES_REVERSED
    try:
        page = max(1, int(args.get("page") or 1))
        per_page = max(1, min(int(args.get("per_page") or PER_PAGE), MAX_PER_PAGE))
        if page > MAX_PAGE:
            raise ValueError  # an offset no database takes
    except ValueError:
        problems["page"], page, per_page = INVALID_PAGE, 1, PER_PAGE
    return (
        TrailFilter(
            actor=(args.get("actor") or "").strip(),
            action=action,
            record=(args.get("record") or "").strip(),
            day_from=days["from"],
            day_to=days["to"],
            page=page,
            per_page=per_page,
        ),
        problems,
    )


def find_record(session: Session, typed: str) -> Record | None:
    """A record by its 档号 (what people know) or by its id."""
    try:
        record_id = uuid.UUID(typed)
    except ValueError:
        return session.scalar(select(Record).where(Record.reference_code == typed))
    return session.get(Record, record_id)


#: The furthest page asked for (the offset must fit a 64-bit integer with room to spare).
MAX_PAGE = 10**9


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TIME)


def _about_record(session: Session, record_id: uuid.UUID) -> ColumnElement[bool]:
    """Events filed under the record, its versions, its requests and grants, and those that
    name it in their details (a request, a green channel, a duplicate)."""
    rid = str(record_id)

    def ids(column: Any, owner: Any) -> list[str]:
        return [str(i) for i in session.scalars(select(column).where(owner == record_id))]

    related = {
        "record": [rid],
        "version": ids(Version.id, Version.record_id),
        "access_request": ids(AccessRequest.id, AccessRequest.record_id),
        "grant": ids(Grant.id, Grant.record_id),
    }
    return or_(
        *(
            and_(AuditEvent.object_type == kind, AuditEvent.object_id.in_(values))
            for kind, values in related.items()
            if values
        ),
        and_(
            # a filter of the logs that names the record is not about the record
            AuditEvent.object_type.not_in(("audit_trail", "access_log")),
            or_(
                AuditEvent.details["record"].as_string() == rid,
                AuditEvent.details["record_id"].as_string() == rid,
            ),
        ),
    )


def conditions(
    session: Session, wanted: TrailFilter, problems: dict[str, str]
) -> list[ColumnElement[bool]]:
    """The SQL conditions of ``wanted``; an unknown record is a problem, not an empty page."""
    found: list[ColumnElement[bool]] = []
    if wanted.actor:  # the user name, or the name people know them by
        named = select(User.username).where(User.display_name == wanted.actor)
        found.append(or_(AuditEvent.actor == wanted.actor, AuditEvent.actor.in_(named)))
    if wanted.action.endswith("."):
        escaped = wanted.action.replace("_", r"\_")
        found.append(AuditEvent.action.like(escaped + "%", escape="\\"))
    elif wanted.action:
        found.append(AuditEvent.action == wanted.action)
    if wanted.record:
        record = find_record(session, wanted.record)
        if record is None:
            problems["record"] = UNKNOWN_RECORD
        else:
            found.append(_about_record(session, record.id))
    if wanted.day_from:
        found.append(AuditEvent.at >= _start_of(wanted.day_from))
    if wanted.day_to:
        found.append(AuditEvent.at < _start_of(wanted.day_to + timedelta(days=1)))
    return found


@dataclass(frozen=True)
class TrailRow:
    """One event as a person reads it."""

    seq: int
    at: datetime
    time: str  # Beijing time
    actor: str  # the user name as written
    actor_name: str  # their name, when the actor is a person of this archive
    ip: str
    action: str
    action_label: str
    object_type: str
    object_label: str
    object: str  # a record by 档号 and title, a person by name...
    record_id: str | None
    changes: list[Change] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)

    def changes_text(self, lang: str | None = "zh") -> str:
        return "；".join(c.text(lang) for c in self.changes)

    def details_text(self, lang: str | None = "zh") -> str:
        colon = ": " if english(lang) else "："
        return "；".join(f"{k}{colon}{v}" for k, v in self.details)

    def as_json(self, lang: str | None = "zh") -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "time": self.time,
            "actor": self.actor,
            "actor_name": self.actor_name,
            "ip": self.ip,
            "action": self.action,
            "action_label": self.action_label,
            "object_type": self.object_type,
            "object_label": self.object_label,
            "object": self.object,
            "record_id": self.record_id,
            "changes": [c.as_json(lang) for c in self.changes],
            "details": [{"field": k, "value": v} for k, v in self.details],
        }


def present(session: Session, events: Sequence[AuditEvent], lang: str | None) -> list[TrailRow]:
    """Rows for ``events``, looking up every person and record they name in one go."""
    seen = lookups_for(session, events)
    return [_row(event, seen, lang) for event in events]


def _row(event: AuditEvent, seen: Lookups, lang: str | None) -> TrailRow:
    changes, details = describe_details(event, seen, lang)
    person = seen.people_by_id.get(event.actor_id) if event.actor_id else None
    if person is None and event.actor.startswith("cli:"):
        person = ("Console " if english(lang) else "控制台 ") + event.actor.removeprefix("cli:")
    elif person is None and event.actor == "system":
        person = "System" if english(lang) else "系统"
    return TrailRow(
        seq=event.seq,
        at=event.at,
        time=beijing(event.at),
        actor=event.actor,
        actor_name=person or "",
        ip=event.ip or "",
        action=event.action,
        action_label=action_label(event.action, lang),
        object_type=event.object_type,
        object_label=object_label(event.object_type, lang),
        object=seen.object_text(event, lang),
        record_id=seen.record_of(event),
        changes=changes,
        details=details,
    )


@dataclass(frozen=True)
class TrailPage:
    rows: list[TrailRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def trail_page(
    session: Session, wanted: TrailFilter, where: list[ColumnElement[bool]], lang: str | None
) -> TrailPage:
    """One page of the trail, newest first."""
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    events = session.scalars(
        select(AuditEvent)
        .where(*where)
        .order_by(AuditEvent.seq.desc())
        .offset((wanted.page - 1) * wanted.per_page)
        .limit(wanted.per_page)
    ).all()
    return TrailPage(present(session, events, lang), total, wanted.page, wanted.per_page)


def every_row(
    session: Session, where: list[ColumnElement[bool]], lang: str | None, batch: int = 500
) -> Iterator[TrailRow]:
    """Every matching row, newest first, a batch at a time (an export of years)."""
    below: int | None = None
    while True:
        query = select(AuditEvent).where(*where)
        if below is not None:
            query = query.where(AuditEvent.seq < below)
        events = session.scalars(query.order_by(AuditEvent.seq.desc()).limit(batch)).all()
        if not events:
            return
        yield from present(session, events, lang)
        below = events[-1].seq
        session.expunge_all()


#: The CSV's columns: (heading key, value of a row).
CSV_HEADINGS: list[tuple[str, str]] = [
    ("序号", "Seq"),
    ("时间（北京时间）", "Time (Beijing)"),
    ("操作人", "User"),
    ("姓名", "Name"),
    ("IP地址", "IP address"),
    ("操作", "Action"),
    ("操作代码", "Action code"),
    ("对象类型", "Object type"),
    ("对象", "Object"),
    ("变更（之前 → 之后）", "Changes (before → after)"),
    ("详情", "Details"),
]


def csv_rows(rows: Iterator[TrailRow], lang: str | None) -> Iterator[list[object]]:
    yield [pair[1] if english(lang) else pair[0] for pair in CSV_HEADINGS]
    for row in rows:
        yield [
            row.seq,
            row.time,
            row.actor,
            row.actor_name,
            row.ip,
            row.action_label,
            row.action,
            row.object_label,
            row.object,
            row.changes_text(lang),
            row.details_text(lang),
        ]
