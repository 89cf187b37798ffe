"""Where each record stands: its schedule, when its clock started, when it falls due.

Inputs change in many places (a filing, a correction of class, an event, a schedule edit, a
review); each marks the record ``retention_dirty`` in its own transaction, and
:func:`refresh_dirty` recomputes those. The listeners run it right after a filing commits;
the scheduler runs it every minute, so a crash in between only delays it.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.config import RetentionSettings
from archive.core import Archive
from archive.db import local_today, utcnow
from archive.models import (
    EventType,
    Project,
    ProjectStatus,
    Record,
    RecordChange,
    RecordState,
    RetentionEvent,
    RetentionSchedule,
)
from archive.refcode import ReferenceCodeError, number_pending, number_record, parse_reference
from retention.clock import Clock, Rule, add_years, compute, eligible_from, is_eligible
from retention.errors import Conflict, NotFound, RetentionError
from retention.holds import hold_json, holds_on
from retention.schedules import choose, current_schedules, spec_of

BATCH = 500


def _event_dates(session: Session, records: Sequence[Record]) -> dict[uuid.UUID, dict[str, date]]:
    """For each record, the earliest date of each event type recorded on it or its project."""
    ids = [r.id for r in records]
    projects = {r.project_id for r in records}
    rows = session.execute(
        select(
            RetentionEvent.event_type,
            RetentionEvent.occurred_on,
            RetentionEvent.record_id,
            RetentionEvent.project_id,
        ).where(
            RetentionEvent.voided_at.is_(None),
            or_(RetentionEvent.record_id.in_(ids), RetentionEvent.project_id.in_(projects)),
        )
    ).all()
    by_record: dict[uuid.UUID, list[tuple[str, date]]] = defaultdict(list)
    by_project: dict[int, list[tuple[str, date]]] = defaultdict(list)
    for event_type, occurred, record_id, project_id in rows:
        if record_id is not None:
            by_record[record_id].append((event_type, occurred))
        if project_id is not None:
            by_project[project_id].append((event_type, occurred))
    result: dict[uuid.UUID, dict[str, date]] = {}
    for record in records:
        earliest: dict[str, date] = {}
        for event_type, occurred in by_record[record.id] + by_project[record.project_id]:
            if event_type not in earliest or occurred < earliest[event_type]:
                earliest[event_type] = occurred
        result[record.id] = earliest
    return result


def _schedule_for(
    record: Record, schedules: list[RetentionSchedule], by_id: dict[int, RetentionSchedule]
) -> RetentionSchedule | None:
    if record.schedule_pinned and record.schedule_id in by_id:
        pinned_key = by_id[record.schedule_id].key  # follow the pinned key's newest version
        current = next((s for s in schedules if s.key == pinned_key), None)
        if current is not None:
            return current
    return choose(schedules, record.process, record.stage, record.record_type)


def clock_of(
    record: Record, schedule: RetentionSchedule, events: dict[str, date], fiscal: tuple[int, int]
) -> Clock:
    spec = spec_of(schedule)
    rule = Rule(spec.years, spec.trigger, spec.events, spec.event_mode)
    return compute(rule, record.cut_off_on or record.filed_on, events, fiscal)


def at_least_as_numbered(record: Record, starts: date | None, due: date | None) -> date | None:
    """``due``, or later: a numbered record is kept at least as long as the 保管期限 its 档号
    carries. Its class changed since (a 30-year voucher reclassified as a 10-year form by
    one person) would otherwise shorten the period the number shows, with no appraisal."""
    if record.reference_code is None or starts is None or due is None:
        return due
    try:
        period = parse_reference(record.reference_code).retention
    except ReferenceCodeError:
        return due
    if period == "Y":
        return None  # 永久 stays permanent
    years = re.fullmatch(r"D(\d+)", period)
    return max(due, add_years(starts, int(years[1]))) if years else due


def recompute(session: Session, settings: RetentionSettings, records: Sequence[Record]) -> int:
    """Choose each record's schedule and set its clock; returns how many due dates moved."""
    schedules = current_schedules(session)
    by_id = {row.id: row for row in schedules}
    pinned = {r.schedule_id for r in records if r.schedule_pinned and r.schedule_id}
    for row in session.scalars(select(RetentionSchedule).where(RetentionSchedule.id.in_(pinned))):
        by_id[row.id] = row
    events = _event_dates(session, records)
    moved = 0
    for record in records:
        record.retention_dirty = False
        if record.state != RecordState.ACTIVE:
            continue
        schedule = _schedule_for(record, schedules, by_id)
        before, before_schedule = record.due_on, record.schedule_id
        if schedule is None:
            record.schedule_id, record.retention_from, record.due_on = None, None, None
        else:
            clock = clock_of(record, schedule, events[record.id], settings.fiscal_year_end)
            record.schedule_id, record.retention_from = schedule.id, clock.starts
            due = clock.due
            if due is not None and record.extended_to is not None:
                due = max(due, record.extended_to)  # a review's extension is never shortened
            record.due_on = at_least_as_numbered(record, clock.starts, due)
        moved += record.due_on != before
        if record.schedule_id != before_schedule:  # the index's 保管期限 facet follows
            session.add(RecordChange(record_id=record.id))
    return moved


def refresh_dirty(arc: Archive, batch: int = BATCH) -> int:
    """Recompute every record marked dirty, a batch per transaction, then number those that
    now have a schedule (档号); returns how many were recomputed."""
    total = 0
    while True:
        with arc.transaction() as session:
            records = list(
                session.scalars(
                    select(Record)
                    .where(Record.retention_dirty.is_(True))
                    .order_by(Record.created_at)
                    .limit(batch)
                )
            )
            recompute(session, arc.settings.retention, records)
        total += len(records)
        if len(records) < batch:
            break
    number_pending(arc)
    return total


def refresh_record(arc: Archive, record_id: uuid.UUID) -> None:
    """Recompute one record's clock and, if that settles it, number it: one transaction."""
    with arc.transaction() as session:
        record = session.get(Record, record_id, with_for_update=True)  # the row before the series
        if record is not None:
            recompute(session, arc.settings.retention, [record])
            number_record(session, arc.settings, record)


def _mark_dirty(session: Session, project_id: int | None, record_id: uuid.UUID | None) -> None:
    condition = Record.id == record_id if record_id is not None else Record.project_id == project_id
    session.execute(update(Record).where(condition).values(retention_dirty=True))


def record_occurrence(
    session: Session,
    actor: Actor,
    event_type: str,
    occurred_on: date,
    *,
    project: str | None = None,
    record_id: uuid.UUID | None = None,
    note: str = "",
) -> RetentionEvent:
    """Record that an event happened to a project or a record; the clocks waiting for it
    start at the next refresh (the callers run one at once)."""
    if session.get(EventType, event_type) is None:
        raise RetentionError(
            f"unknown event type {event_type!r}; add it to the file plan first",
            code="event_type",
            field="event_type",
        )
    if project is None and record_id is None:
        raise RetentionError(
            "an event belongs to a project or a record: name one",
            code="event_no_target",
            field="project",
        )
    if project is not None and record_id is not None:
        raise RetentionError(
            "an event belongs to either a project or a record", code="event_target"
        )
    if occurred_on > local_today():
        raise RetentionError(
            f"an event cannot be recorded before it happens ({occurred_on})",
            code="event_future",
            field="occurred_on",
        )
    project_row = None
    if project is not None:
        project_row = session.scalar(select(Project).where(Project.name == project.strip()))
        if project_row is None:
            raise NotFound(
                f"no project {project!r}",
                code="no_project",
                field="project",
                params={"name": project},
            )
        if event_type == "project_accepted":
            project_row.status = ProjectStatus.ACCEPTED
    else:
        record = session.get(Record, record_id)
        if record is None:
            raise NotFound(f"no record {record_id}", code="no_record", field="record")
        if record.state != RecordState.ACTIVE:  # its retention has run its course
            raise Conflict(
                f"record {record.name_stem} is {record.state.value}: no event changes it now",
                code="record_not_kept",
                field="record",
                params={"name": record.name_stem, "state": record.state.value},
            )
    row = RetentionEvent(
        event_type=event_type,
        project_id=project_row.id if project_row else None,
        record_id=record_id,
        occurred_on=occurred_on,
        note=note.strip(),
        recorded_by=actor.name,
    )
    session.add(row)
    session.flush()
    _mark_dirty(session, row.project_id, record_id)
    record_event(
        session, actor, "retention.event_recorded", "retention_event", row.id, event_json(row)
    )
    return row


def void_occurrence(session: Session, actor: Actor, event_id: int, reason: str) -> RetentionEvent:
    """Withdraw an event recorded in error (kept, marked void); clocks are recomputed."""
    if not reason.strip():
        raise RetentionError("voiding an event needs a reason", code="required", field="reason")
    row = session.get(RetentionEvent, event_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no event {event_id}", code="no_entry")
    if row.voided_at is not None:
        raise RetentionError(f"event {event_id} is already void", code="already_done")
    row.voided_at, row.voided_by, row.void_reason = utcnow(), actor.name, reason
    _mark_dirty(session, row.project_id, row.record_id)
    record_event(
        session, actor, "retention.event_voided", "retention_event", row.id, event_json(row)
    )
    return row


def event_json(row: RetentionEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "event_type": row.event_type,
        "project": row.project.name if row.project else None,
        "record_id": str(row.record_id) if row.record_id else None,
        "occurred_on": row.occurred_on.isoformat(),
        "note": row.note,
        "recorded_by": row.recorded_by,
        "voided": row.voided_at is not None,
        "void_reason": row.void_reason,
    }


@dataclass(frozen=True)
class Standing:
    """A record's retention, as the record page and the API show it."""

    status: str  # permanent, waiting, running, due, held, disposed, transferred, unscheduled
    data: dict[str, Any]


def standing(session: Session, settings: RetentionSettings, record: Record) -> Standing:
    holds = holds_on(session, record.id) if record.state == RecordState.ACTIVE else []
    schedule = session.get(RetentionSchedule, record.schedule_id) if record.schedule_id else None
    data: dict[str, Any] = {
        "schedule": None,
        "code": None,
        "disposal": None,
        "filed_on": record.filed_on.isoformat(),
        "document_date": record.document_date,
        "cut_off_on": record.cut_off_on.isoformat() if record.cut_off_on else None,
        "counts_from": record.retention_from.isoformat() if record.retention_from else None,
        "due_on": record.due_on.isoformat() if record.due_on else None,
        "eligible_from": eligible_from(record.due_on).isoformat() if record.due_on else None,
        "extended_to": record.extended_to.isoformat() if record.extended_to else None,
        "waiting_for": [],
        "holds": [hold_json(hold) for hold in holds],
    }
    if record.state != RecordState.ACTIVE:
        return Standing(record.state.value, data)
    if schedule is None:
        return Standing("held" if holds else "unscheduled", data)
    data.update(
        schedule={"key": schedule.key, "version": schedule.version, "name": schedule.name},
        code=schedule.code,
        disposal=schedule.disposal.value,
    )
    clock = clock_of(
        record, schedule, _event_dates(session, [record])[record.id], settings.fiscal_year_end
    )
    data["waiting_for"] = list(clock.waiting_for)
    if holds:
        status = "held"
    elif clock.waiting_for:
        status = "waiting"
    elif record.due_on is None:
        status = "permanent"
    else:
        status = "due" if is_eligible(record.due_on, local_today()) else "running"
    return Standing(status, data)
