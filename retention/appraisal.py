"""The appraisal queue (鉴定): due records whose schedule asks for a review first, each with
why it is due, for the records manager to decide with the department's opinion.

The decision itself is :func:`retention.review.review` (extend, reschedule, or put on a
destroy or transfer list); this module only says what waits and why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db import local_today
from archive.models import Department, Disposal, Project, Record, RetentionSchedule, Trigger
from retention.clock import eligible_from
from retention.sweep import due_query

LIMIT = 500


@dataclass(frozen=True)
class Waiting:
    """One record in the queue, and why it is due."""

    record_id: uuid.UUID
    title: str
    name: str  # 项目名称-日期
    reference_code: str | None  # 档号
    department: str | None  # its name, for people
    department_code: str | None
    schedule_key: str
    schedule_name: str
    retention_code: str  # Y, D10, D30…
    trigger: Trigger  # what the period counts from
    basis: str  # the rule behind the schedule
    counts_from: date | None
    kept_until: date  # the last day of the period
    extended_to: date | None  # a previous review's extension, if any
    eligible_from: date
    days_past: int  # days since it became eligible (0: today)

    def as_dict(self) -> dict[str, object]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {
            key: str(value) if isinstance(value, uuid.UUID | date) else value
            for key, value in data.items()
        }


def appraisal_queue(
    session: Session, today: date | None = None, limit: int = LIMIT
) -> list[Waiting]:
    """Due, unheld records on no open list whose disposal is a review, oldest due first."""
    today = today or local_today()
    ids = [
        record_id
        for record_id, disposal in session.execute(due_query(session, today))
        if disposal == Disposal.REVIEW
    ][:limit]
    if not ids:
        return []
    rows = session.execute(
        select(Record, RetentionSchedule, Department)
        .join(RetentionSchedule, Record.schedule_id == RetentionSchedule.id)
        .join(Project, Record.project_id == Project.id)
        .outerjoin(  # the record's department, else its project's (as the 档号 takes it)
            Department, Department.id == func.coalesce(Record.department_id, Project.department_id)
        )
        .where(Record.id.in_(ids))
    ).all()
    by_id = {record.id: (record, schedule, department) for record, schedule, department in rows}
    waiting = []
    for record_id in ids:
        record, schedule, department = by_id[record_id]
        assert record.due_on is not None  # noqa: S101 - due_query selects due records only
        starts = eligible_from(record.due_on)
        waiting.append(
            Waiting(
                record_id=record.id,
                title=record.title,
                name=record.name_stem,
                reference_code=record.reference_code,
                department=department.name if department else None,
                department_code=department.code if department else None,
                schedule_key=schedule.key,
                schedule_name=schedule.name,
                retention_code=schedule.code,
                trigger=schedule.trigger,
                basis=schedule.basis,
                counts_from=record.retention_from,
                kept_until=record.due_on,
                extended_to=record.extended_to,
                eligible_from=starts,
                days_past=(today - starts).days,
            )
        )
    return waiting
