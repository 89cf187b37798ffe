"""Holds (legal or audit holds): while any covers a record, nothing may destroy, delete,
transfer or cut it off.

A hold names records, a project (its records now and later), or a metadata query (the
records it matched when placed stay held, and records that come to match it later are held
too). Releasing one hold leaves the others. Every action a hold blocks is refused with the
holds named, and the refusal is audited in its own transaction, so it survives the rollback
of the action.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from archive.audit import Actor, authentic, record_event
from archive.core import Archive
from archive.db import advisory_xact_lock, utcnow
from archive.errors import DomainError, Problems
from archive.models import (
    AuditEvent,
    Department,
    Hold,
    HoldItem,
    HoldScope,
    Project,
    Record,
    RecordState,
    RetentionSchedule,
    Sensitivity,
)
from archive.vocabulary import PROCESSES, RECORD_TYPES
from retention.errors import Conflict, Held, NotFound, RetentionError

QUERY_FIELDS = (
    "project",
    "department",
    "process",
    "stage",
    "record_type",
    "sensitivity",
    "filed_from",
    "filed_to",
    "title",
)
HOLD_LOCK = "retention:holds"


def normalize_query(query: dict[str, Any]) -> dict[str, str]:
    """Check a hold's query: known fields, valid dates and sensitivity, at least one field."""
    unknown = set(query) - set(QUERY_FIELDS)
    if unknown:
        raise RetentionError(
            f"unknown query fields {', '.join(sorted(unknown))}; use {', '.join(QUERY_FIELDS)}"
        )
    clean = {k: str(v).strip() for k, v in query.items() if v is not None and str(v).strip()}
    if not clean:
        raise RetentionError(
            "a query hold needs at least one condition", code="hold_query", field="title"
        )
    for name in ("filed_from", "filed_to"):
        if name in clean:
            try:
                date.fromisoformat(clean[name])
            except ValueError:
                raise RetentionError(
                    f"{name} must be a date YYYY-MM-DD", code="date", field=name
                ) from None
    if "sensitivity" in clean and clean["sensitivity"] not in {s.value for s in Sensitivity}:
        raise RetentionError(f"unknown sensitivity {clean['sensitivity']!r}")
    return clean


def query_conditions(query: dict[str, str]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for name, value in query.items():
        if name == "project":
            conditions.append(
                Record.project_id.in_(select(Project.id).where(Project.name == value))
            )
        elif name == "department":
            departments = select(Department.id).where(
                or_(Department.code == value, Department.name == value)
            )
            conditions.append(Record.department_id.in_(departments))
        elif name in ("process", "stage", "record_type"):
            conditions.append(getattr(Record, name) == value)
        elif name == "sensitivity":
            conditions.append(Record.sensitivity == Sensitivity(value))
        elif name == "filed_from":
            conditions.append(Record.filed_on >= date.fromisoformat(value))
        elif name == "filed_to":
            conditions.append(Record.filed_on <= date.fromisoformat(value))
        elif name == "title":
            conditions.append(Record.title.contains(value, autoescape=True))
    return conditions


def _active_records(session: Session, record_ids: Sequence[uuid.UUID], field: str) -> None:
    """Refuse a hold naming a record that is not in the archive, or no longer kept in it
    (destroyed, transferred): there is nothing left to hold."""
    found = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(record_ids)))}
    missing = [str(i) for i in record_ids if i not in found]
    if missing:
        raise NotFound(f"no records {', '.join(missing)}", code="no_record", field=field)
    for record in found.values():
        if record.state != RecordState.ACTIVE:
            raise Conflict(
                f"record {record.name_stem} is {record.state.value}: nothing is left to hold",
                code="record_not_kept",
                field=field,
                params={"name": record.name_stem, "state": record.state.value},
            )


def _check_choices(session: Session, query: dict[str, str]) -> None:
    """A department, 业务流程 or 文件类型 a hold names is one that exists: a label or a typo
    would otherwise place a hold that covers nothing, and look like one that does."""
    known: dict[str, set[str]] = {}
    if "department" in query:
        rows = session.execute(select(Department.code, Department.name)).all()
        known["department"] = {value for row in rows for value in row}
    if "process" in query:
        known["process"] = set(PROCESSES)
    if "record_type" in query:
        planned = session.scalars(
            select(RetentionSchedule.record_type).where(RetentionSchedule.record_type.is_not(None))
        )
        known["record_type"] = {*RECORD_TYPES, *(t for t in planned if t)}
    for name, values in known.items():
        if query[name] not in values:
            raise RetentionError(
                f"{name} {query[name]!r} is not one of the choices",
                code="schedule_choice",
                field=name,
                params={"value": query[name]},
            )


def _active(session: Session) -> list[Hold]:
    """The holds in force: not released, or released only in the database. A release counts
    when the keyed audit trail has it (``retention.hold_released``, authentic): someone who
    can write the database and sets ``released_at`` by hand frees nothing."""
    holds = list(session.scalars(select(Hold).order_by(Hold.id)))
    released = releases_on_trail(session, [h.id for h in holds if h.released_at is not None])
    return [hold for hold in holds if hold.released_at is None or hold.id not in released]


def releases_not_on_trail(session: Session) -> list[str]:
    """Holds marked released in the database with no release on the trail, one line each
    (they still hold: see :func:`_active`), for ``archive audit verify``."""
    released = list(session.scalars(select(Hold).where(Hold.released_at.is_not(None))))
    backed = releases_on_trail(session, [hold.id for hold in released])
    return [
        f"hold #{hold.id} {hold.name}: released in the database, but the audit trail has no "
        "authentic release (it still holds)"
        for hold in released
        if hold.id not in backed
    ]


_RELEASES = "retention:hold-releases-on-trail"


def releases_on_trail(session: Session, hold_ids: Sequence[int]) -> set[int]:
    """Which of ``hold_ids`` the trail shows released, each looked up (and its event's HMAC
    checked) once per session: only found releases are remembered, so a release made
    later in the same session is found then."""
    known: set[int] = session.info.setdefault(_RELEASES, set())
    wanted = [str(i) for i in hold_ids if i not in known]
    if wanted:
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "retention.hold_released",
                AuditEvent.object_type == "hold",
                AuditEvent.object_id.in_(wanted),
            )
        )
        known |= {int(event.object_id) for event in events if authentic(session, event)}
    return {i for i in hold_ids if i in known}


def _covers(hold: Hold) -> ColumnElement[bool]:
    """SQL that is true for the records ``hold`` covers."""
    named = Record.id.in_(select(HoldItem.record_id).where(HoldItem.hold_id == hold.id))
    if hold.scope == HoldScope.PROJECT:
        return or_(named, Record.project_id == hold.project_id)
    if hold.scope == HoldScope.QUERY and hold.query:
        return or_(named, and_(*query_conditions(hold.query)))
    return named


def held_clause(session: Session) -> ColumnElement[bool]:
    """SQL that is true for every record some active hold covers, and false (never SQL's
    unknown) for every other: a hold on a field a record leaves empty must not make that
    record drop out of both "held" and "not held" (the sweep, the due counts)."""
    holds = _active(session)
    return or_(*(_covers(hold) for hold in holds)).is_(True) if holds else false()


def hold_json(hold: Hold, count: int | None = None) -> dict[str, Any]:
    return {
        "id": hold.id,
        "name": hold.name,
        "reason": hold.reason,
        "scope": hold.scope.value,
        "project": hold.project.name if hold.project else None,
        "query": hold.query,
        "placed_by": hold.placed_by,
        "placed_at": hold.placed_at.isoformat(),
        "released_at": hold.released_at.isoformat() if hold.released_at else None,
        "released_by": hold.released_by,
        "release_reason": hold.release_reason,
        **({"records": count} if count is not None else {}),
    }


def holds_on(session: Session, record_id: uuid.UUID) -> list[Hold]:
    """The active holds covering one record."""
    return [
        hold
        for hold in _active(session)
        if session.scalar(select(Record.id).where(Record.id == record_id, _covers(hold)))
    ]


def ensure_free(session: Session, record_id: uuid.UUID, action: str) -> None:
    """Raise :class:`Held` if a hold covers the record. Serialised with placing holds, so a
    hold placed concurrently either is seen here or waits for this transaction."""
    advisory_xact_lock(session, HOLD_LOCK)
    holds = holds_on(session, record_id)
    if holds:
        record = session.get(Record, record_id)
        name = (record.reference_code or record.name_stem) if record is not None else ""
        raise Held(record_id, action, [{"id": h.id, "name": h.name} for h in holds], name)


@contextmanager
def refusals_audited(arc: Archive, actor: Actor) -> Iterator[None]:
    """Audit every :class:`Held` refusal raised inside (alone or among several problems),
    then let it propagate."""
    try:
        yield
    except DomainError as raised:
        found = raised.problems if isinstance(raised, Problems) else [raised]
        refusals = [problem for problem in found if isinstance(problem, Held)]
        if refusals:
            with arc.transaction() as session:
                for refusal in refusals:
                    record_event(
                        session,
                        actor,
                        "retention.refused",
                        "record",
                        refusal.record_id,
                        {"action": refusal.action, "holds": refusal.holds},
                    )
        raise


def place_hold(
    session: Session,
    actor: Actor,
    *,
    name: str,
    reason: str,
    scope: HoldScope,
    record_ids: Sequence[uuid.UUID] = (),
    project: str | None = None,
    query: dict[str, Any] | None = None,
) -> tuple[Hold, int]:
    """Place a hold; returns it and the number of records it covers now."""
    name, reason = " ".join(name.split())[:200], reason.strip()
    if not name or not reason:
        raise RetentionError(
            "a hold needs a name and a reason",
            code="required",
            field="name" if not name else "reason",
        )
    advisory_xact_lock(session, HOLD_LOCK)
    hold = Hold(name=name, reason=reason, scope=scope, placed_by=actor.name)
    items: list[uuid.UUID] = []
    if scope == HoldScope.RECORDS:
        if not record_ids:
            raise RetentionError(
                "a records hold names at least one record", code="required", field="records"
            )
        items = list(dict.fromkeys(record_ids))
        _active_records(session, items, "records")
    elif scope == HoldScope.PROJECT:
        if not (project or "").strip():  # said as such, not as "no project named None"
            raise RetentionError(
                "a project hold names its project", code="required", field="project"
            )
        row = session.scalar(select(Project).where(Project.name == (project or "").strip()))
        if row is None:
            raise NotFound(
                f"no project {project!r}",
                code="no_project",
                field="project",
                params={"name": project},
            )
        hold.project = row
    else:
        hold.query = normalize_query(query or {})
        _check_choices(session, hold.query)
        items = list(
            session.scalars(
                select(Record.id).where(
                    Record.state == RecordState.ACTIVE, *query_conditions(hold.query)
                )
            )
        )
    session.add(hold)
    session.flush()
    session.add_all(HoldItem(hold_id=hold.id, record_id=record_id) for record_id in items)
    session.flush()
    count = covered(session, hold)
    record_event(
        session,
        actor,
        "retention.hold_placed",
        "hold",
        hold.id,
        {**hold_json(hold), "records": count, "named": [str(i) for i in items][:1000]},
    )
    return hold, count


#: The shortest reason kept for lifting a hold or deleting a misfiled record, in Chinese
#: characters or else in letters: "结案", "误归档" say something; "x", "ok" do not.
MIN_HANZI, MIN_LETTERS = 2, 5
_HANZI = re.compile(r"[\u3400-\u9fff]")


def require_reason(reason: str, what: str) -> str:
    """``reason`` stripped, or a refusal saying how long it must be."""
    why = "".join(ch for ch in reason if unicodedata.category(ch) != "Cf").strip()  # no ZWSP
    letters = sum(1 for ch in why if ch.isalnum())  # "....." says nothing
    if len(_HANZI.findall(why)) < MIN_HANZI and letters < MIN_LETTERS:
        raise RetentionError(
            f"{what} needs a reason: at least {MIN_HANZI} Chinese characters or "
            f"{MIN_LETTERS} letters",
            code="reason_short",
            field="reason",
            params={"hanzi": MIN_HANZI, "letters": MIN_LETTERS},
        )
    return why


def release_hold(session: Session, actor: Actor, hold_id: int, reason: str) -> Hold:
    """Lift a hold, with a reason of substance (audited; the hold stays listed, released)."""
    reason = require_reason(reason, "releasing a hold")
    hold = session.get(Hold, hold_id, with_for_update=True)
    if hold is None:
        raise NotFound(f"no hold {hold_id}", code="no_entry")
    if hold.released_at is not None:
        raise RetentionError(f"hold {hold_id} was already released", code="already_done")
    hold.released_at, hold.released_by, hold.release_reason = utcnow(), actor.name, reason
    record_event(session, actor, "retention.hold_released", "hold", hold.id, hold_json(hold))
    return hold


def covered(session: Session, hold: Hold) -> int:
    """How many records ``hold`` covers now."""
    kept = Record.state == RecordState.ACTIVE
    return session.scalar(select(func.count()).select_from(Record).where(kept, _covers(hold))) or 0


def list_holds(session: Session, include_released: bool = False) -> list[tuple[Hold, int]]:
    query = select(Hold).order_by(Hold.id.desc())
    if not include_released:
        query = query.where(Hold.released_at.is_(None))
    return [(hold, covered(session, hold)) for hold in session.scalars(query)]


def records_held(session: Session, hold_id: int, limit: int = 1000) -> list[Record]:
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
    return list(
        session.scalars(select(Record).where(_covers(hold)).order_by(Record.filed_on).limit(limit))
    )


def extend_hold(
    session: Session, actor: Actor, hold_id: int, record_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Name more records in an active hold (any scope: named records are held besides what
    its project or query covers); returns those newly named. Audited like placing one."""
    advisory_xact_lock(session, HOLD_LOCK)
    hold = session.get(Hold, hold_id, with_for_update=True)
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
    if hold.released_at is not None:
        raise RetentionError(f"hold {hold_id} was released")
    wanted = list(dict.fromkeys(record_ids))
    _active_records(session, wanted, "record_ids")
    named = set(session.scalars(select(HoldItem.record_id).where(HoldItem.hold_id == hold.id)))
    new = [record_id for record_id in wanted if record_id not in named]
    session.add_all(HoldItem(hold_id=hold.id, record_id=record_id) for record_id in new)
    session.flush()
    if new:
        record_event(
            session,
            actor,
            "retention.hold_extended",
            "hold",
            hold.id,
            {**hold_json(hold), "records": covered(session, hold), "named": [str(i) for i in new]},
        )
    return new
