"""Reports for records managers and auditors: what falls due when, how many records each
retention code keeps, and the certificate of a disposition list (CSV and PDF, in
:mod:`retention.certificate`).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db import local_today
from archive.models import (
    AuditEvent,
    Department,
    Disposal,
    DispositionItem,
    DispositionList,
    ListStatus,
    Record,
    RecordState,
    RetentionSchedule,
    Trigger,
)
from archive.refcode import effective_period
from retention.certificate import certificate_csv as certificate_csv
from retention.certificate import certificate_pdf as certificate_pdf
from retention.holds import held_clause


def due_report(session: Session, months: int, today: date | None = None) -> dict[str, Any]:
    """Active records due by the end of the next ``months`` months (overdue ones included),
    counted by department, class and month."""
    today = today or local_today()
    horizon = (today + relativedelta(months=months)).replace(day=1) + relativedelta(days=-1)
    horizon = max(horizon, today)
    due = (Record.state == RecordState.ACTIVE, Record.due_on <= horizon)
    held = session.scalar(select(func.count()).where(*due, held_clause(session)))
    rows = session.execute(
        select(
            Department.code,
            Department.name,
            Record.process,
            Record.record_type,
            Record.due_on,
        )
        .outerjoin(Department, Record.department_id == Department.id)
        .where(*due)
    ).all()
    groups: Counter[tuple[str, str, str, str, str]] = Counter()
    by_month: Counter[str] = Counter()
    for code, name, process, record_type, due_on in rows:
        if due_on is None:  # excluded by the query; for the type checker
            continue
        month = due_on.strftime("%Y-%m")
        groups[(code or "", name or "", process or "", record_type or "", month)] += 1
        by_month["overdue" if due_on < today else month] += 1
    return {
        "from": today.isoformat(),
        "to": horizon.isoformat(),
        "total": len(rows),
        "held": held or 0,
        "by_month": dict(sorted(by_month.items())),
        "rows": [
            {
                "department": k[0],
                "department_name": k[1],
                "process": k[2],
                "record_type": k[3],
                "month": k[4],
                "overdue": k[4] < today.strftime("%Y-%m"),
                "count": n,
            }
            for k, n in sorted(groups.items(), key=lambda item: (item[0][4], item[0][:4]))
        ],
    }


def codes_report(session: Session) -> dict[str, Any]:
    """Active records per retention code, and those waiting for an event or unscheduled."""
    rows = session.execute(
        select(
            RetentionSchedule.years,
            RetentionSchedule.trigger,
            Record.retention_from.is_(None),
            Record.reference_code,  # a 档号 whose period is longer counts under it
            func.count(),
        )
        .select_from(Record)
        .outerjoin(RetentionSchedule, Record.schedule_id == RetentionSchedule.id)
        .where(Record.state == RecordState.ACTIVE)
        .group_by(
            RetentionSchedule.years,
            RetentionSchedule.trigger,
            Record.retention_from.is_(None),
            Record.reference_code,
        )
    ).all()
    codes: Counter[str] = Counter()
    waiting = unscheduled = 0
    for years, trigger, not_started, reference_code, count in rows:
        if trigger is None:
            unscheduled += count
            continue
        codes[effective_period("Y" if years is None else f"D{years}", reference_code)] += count
        if trigger == Trigger.EVENT and not_started:
            waiting += count
    states = {
        state: count
        for state, count in session.execute(
            select(Record.state, func.count()).group_by(Record.state)
        )
    }
    return {
        "codes": dict(sorted(codes.items(), key=lambda kv: (kv[0] != "Y", len(kv[0]), kv[0]))),
        "waiting_for_event": waiting,
        "unscheduled": unscheduled,
        "states": {state.value: count for state, count in states.items()},
    }


def destructions_readable_in_backups(session: Session) -> int:
    """Destruction lists carried out since key-encryption keys were last retired: backups
    made before each still hold its records' wrapped keys, readable with the keyring, until
    ``archive keys rotate --retire`` runs (the 销毁清册's 备份说明 says the same)."""
    retired = session.scalar(
        select(func.max(AuditEvent.at)).where(AuditEvent.action == "keys.retired")
    )
    executed = select(func.count()).where(
        DispositionList.action == Disposal.DESTROY,
        DispositionList.status == ListStatus.EXECUTED,
        DispositionList.items.any(DispositionItem.outcome == "destroyed"),
    )
    if retired is not None:
        executed = executed.where(DispositionList.executed_at > retired)
    return session.scalar(executed) or 0
