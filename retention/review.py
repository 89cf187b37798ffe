"""A records manager's decisions on single records: the appraisal review (鉴定) and
cut-off. Each is audited; holds block all but extension. (Deleting a record filed in error
takes two people: :mod:`retention.deletion`.)
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.core import Archive
from archive.db import local_today
from archive.models import (
    Disposal,
    DispositionList,
    ListStatus,
    Record,
    RecordChange,
    RecordState,
    RetentionReview,
)
from archive.text import clean_text
from retention.clock import add_years
from retention.disposition import add_records, create_list
from retention.errors import Conflict, NotFound, RetentionError
from retention.fields import MAX_YEARS
from retention.holds import ensure_free, refusals_audited
from retention.schedules import current_schedule
from retention.status import recompute

OUTCOMES = ("extend", "reschedule", "destroy", "transfer")


def active_record(session: Session, record_id: uuid.UUID) -> Record:
    """The record, locked for the change; refused unless it is still active."""
    record = session.get(Record, record_id, with_for_update=True)
    if record is None:
        raise NotFound(f"no record {record_id}", code="no_record")
    if record.state != RecordState.ACTIVE:
        raise Conflict(
            f"record {record.name_stem} is {record.state.value}",
            code="record_state",
            params={"name": record.name_stem, "state": record.state.value},
        )
    return record


def _draft_list(session: Session, actor: Actor, action: Disposal) -> DispositionList:
    """The newest draft list of this action, or a new one."""
    existing = session.scalar(
        select(DispositionList)
        .where(DispositionList.action == action, DispositionList.status == ListStatus.DRAFT)
        .order_by(DispositionList.id.desc())
        .limit(1)
    )
    return existing or create_list(session, actor, action)


def review(
    arc: Archive,
    actor: Actor,
    record_id: uuid.UUID,
    *,
    opinion: str,
    outcome: str,
    until: date | None = None,
    years: int | None = None,
    schedule: str | None = None,
    department_opinion: str = "",
) -> RetentionReview:
    """Record an appraisal (the records manager's ``opinion``, and the ``department_opinion``
    of the department that formed the record when it gave one) and carry out its outcome:

    - ``extend``: keep until ``until`` (or ``years`` more from today or the due date);
    - ``reschedule``: put the record under schedule ``schedule`` (pinned against class
      changes; a permanent schedule keeps it for good);
    - ``destroy`` / ``transfer``: put it on the current draft list of that action.
    """
    if outcome not in OUTCOMES:
        raise RetentionError(
            f"outcome must be one of {', '.join(OUTCOMES)}", code="choose", field="outcome"
        )
    opinion = clean_text(opinion, "the appraisal opinion", 2000)
    department_opinion = clean_text(department_opinion, "the department's opinion", 2000)
    if not opinion:
        raise RetentionError(
            "a review needs the appraisal opinion", code="required", field="opinion"
        )
    if years is not None and not 1 <= years <= MAX_YEARS:
        raise RetentionError(
            f"years must be 1-{MAX_YEARS}",
            code="years_range",
            field="years",
            params={"n": MAX_YEARS},
        )
    with refusals_audited(arc, actor), arc.transaction() as session:
        record = active_record(session, record_id)
        before = record.due_on
        listed = None
        if outcome == "extend":
            today = local_today()
            if until is None:
                if years is None or years < 1:
                    raise RetentionError(
                        "extend needs a date (until) or a number of years",
                        code="extend_needs",
                        field="until",
                    )
                until = add_years(max(before or today, today), years)
            if until <= today or (before is not None and until <= before):
                raise RetentionError(
                    f"{until} does not extend the record (due {before})",
                    code="not_extended",
                    field="until",
                    params={"until": str(until), "due": str(before)},
                )
            record.extended_to = until
        elif outcome == "reschedule":
            if not schedule:
                raise RetentionError(
                    "reschedule needs the schedule key", code="required", field="schedule"
                )
            row = current_schedule(session, schedule)
            record.schedule_id, record.schedule_pinned, record.extended_to = row.id, True, None
            session.add(RecordChange(record_id=record.id))  # the index's 保管期限 facet follows
        else:
            action = Disposal(outcome)
            ensure_free(session, record.id, outcome)
            lst = _draft_list(session, actor, action)
            add_records(session, actor, lst, [record.id])
            listed = lst.number
        recompute(session, arc.settings.retention, [record])
        row_review = RetentionReview(
            record_id=record.id,
            opinion=opinion.strip(),
            department_opinion=department_opinion.strip(),
            outcome=outcome,
            due_before=before,
            due_after=record.due_on,
            reviewed_by=actor.name,
        )
        session.add(row_review)
        session.flush()
        record_event(
            session,
            actor,
            "retention.reviewed",
            "record",
            record.id,
            {
                "opinion": row_review.opinion,
                "department_opinion": row_review.department_opinion,
                "outcome": outcome,
                "list": listed,
                "due_before": before,
                "due_after": record.due_on,
                "schedule": schedule,
                "extended_to": record.extended_to,
            },
        )
        return row_review


def cut_off(arc: Archive, actor: Actor, record_id: uuid.UUID, on: date | None = None) -> Record:
    """Close a record: no further versions, and its clock counts from the cut-off date."""
    on = on or local_today()
    if on > local_today():
        raise RetentionError("a record cannot be cut off in the future")
    with refusals_audited(arc, actor), arc.transaction() as session:
        record = active_record(session, record_id)
        ensure_free(session, record.id, "cut-off")
        if record.cut_off_on is not None:
            raise Conflict(f"record {record.name_stem} was cut off on {record.cut_off_on}")
        if on < record.filed_on:
            raise RetentionError(f"cut-off {on} is before the filing date {record.filed_on}")
        before = record.due_on
        record.cut_off_on = on
        recompute(session, arc.settings.retention, [record])
        record_event(
            session,
            actor,
            "record.cut_off",
            "record",
            record.id,
            {"on": on, "due_before": before, "due_after": record.due_on},
        )
        return record


def reviews_of(session: Session, record_id: uuid.UUID) -> list[RetentionReview]:
    return list(
        session.scalars(
            select(RetentionReview)
            .where(RetentionReview.record_id == record_id)
            .order_by(RetentionReview.id)
        )
    )
