"""The disposition sweep (daily, and on demand): bring every clock up to date, then propose
draft lists for what is due and not held, and count what awaits review.

The proposal is only a draft: a records manager reviews it, writes the appraisal opinion
and submits it for signing. Nothing is destroyed without the signatures.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, not_, select
from sqlalchemy.orm import Session

from archive.audit import SYSTEM, Actor, record_event
from archive.core import Archive
from archive.db import local_today
from archive.models import (
    Disposal,
    DispositionItem,
    DispositionList,
    ListStatus,
    Record,
    RecordState,
    RetentionSchedule,
)
from retention.disposition import OPEN, add_records, create_list
from retention.holds import held_clause
from retention.registers import file_pending_registers
from retention.status import refresh_dirty


@dataclass(frozen=True)
class SweepReport:
    refreshed: int
    proposed: dict[str, int]  # disposal → records added to a draft list
    lists: list[str]
    to_review: int
    held: int
    unnumbered: int = 0  # due and destroy or transfer, but without a 档号: left off the lists


def due_query(session: Session, today: date, *, held: bool = False) -> Select[uuid.UUID, Disposal]:
    """Active records past their due date (eligible ``today``) on no open list, with their
    disposal; held or not held ones."""
    on_open_list = (
        select(DispositionItem.record_id)
        .join(DispositionList)
        .where(DispositionList.status.in_(OPEN))
    )
    holds = held_clause(session)
    return (
        select(Record.id, RetentionSchedule.disposal)
        .join(RetentionSchedule, Record.schedule_id == RetentionSchedule.id)
        .where(
            Record.state == RecordState.ACTIVE,
            Record.due_on < today,  # the due date is its last day kept
            Record.id.not_in(on_open_list),
            holds if held else not_(holds),
        )
        .order_by(Record.due_on, Record.id)
    )


def _swept_draft(session: Session, actor: Actor, action: Disposal) -> DispositionList:
    existing = session.scalar(
        select(DispositionList).where(
            DispositionList.action == action,
            DispositionList.status == ListStatus.DRAFT,
            DispositionList.proposed_by_sweep.is_(True),
        )
    )
    return existing or create_list(session, actor, action, swept=True)


def sweep(arc: Archive, actor: Actor = SYSTEM) -> SweepReport:
    refreshed = refresh_dirty(arc)
    file_pending_registers(arc, actor)  # registers a closed list could not file at the time
    today = local_today()
    with arc.transaction() as session:
        by_disposal: dict[Disposal, list[uuid.UUID]] = defaultdict(list)
        unnumbered = 0
        due = due_query(session, today).add_columns(Record.reference_code)
        for record_id, disposal, code in session.execute(due):
            if code is None and disposal != Disposal.REVIEW:
                unnumbered += 1  # a list would refuse it (see disposition.ensure_numbered)
            else:
                by_disposal[disposal].append(record_id)
        held = (
            session.scalar(
                select(func.count()).select_from(due_query(session, today, held=True).subquery())
            )
            or 0
        )
        proposed, lists = {}, []
        for action in (Disposal.DESTROY, Disposal.TRANSFER):
            if by_disposal[action]:
                lst = _swept_draft(session, actor, action)
                proposed[action.value] = add_records(session, actor, lst, by_disposal[action])
                lists.append(lst.number)
        report = SweepReport(
            refreshed, proposed, lists, len(by_disposal[Disposal.REVIEW]), held, unnumbered
        )
        record_event(
            session,
            actor,
            "retention.swept",
            "retention",
            today.isoformat(),
            {
                "refreshed": refreshed,
                "proposed": proposed,
                "lists": lists,
                "to_review": report.to_review,
                "held": held,
                "unnumbered": unnumbered,
            },
        )
    return report
