"""档号, the archival reference code (after DA/T 22-2015):
``全宗号-门类代码·年度-保管期限-机构代码-件号``, e.g. ``Z109-WS·2023-D30-CW-0001``.

A record is numbered once, when its class is settled (not waiting for review) and a schedule
gives it a 保管期限. Its series is the code without the item number; items run 0001, 0002…
in filing order with no gaps, because numbering a series is serialised by a lock and records
are never deleted (destruction leaves a tombstone that keeps its code). The code never changes
afterwards, even if a later review lengthens the period: the item stays where it was filed.

The fonds (全宗号) is the archive's ``ARCHIVE_FONDS_CODE``; a company without one assigned
by an archives bureau may leave it out, as the standard allows. The 机构代码 is the record's
department (or its project's); a record with neither is numbered without that segment.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.audit import SYSTEM, Actor, record_event
from archive.config import Settings
from archive.core import Archive
from archive.db import advisory_xact_lock
from archive.errors import DomainError
from archive.models import Record, RecordChange, RecordState, RetentionSchedule

_CODE = re.compile(
    r"^(?:(?P<fonds>[A-Z0-9]{1,8})-)?(?P<category>[A-Z]{1,4})·(?P<year>\d{4})"
    r"-(?P<retention>Y|D\d{1,3})-(?:(?P<org>[A-Z0-9]{1,16})-)?(?P<item>\d{4,})$"
)
BATCH = 500


class ReferenceCodeError(DomainError, ValueError):
    """A text is not a 档号 of this archive's format."""


@dataclass(frozen=True)
class ReferenceCode:
    category: str  # 门类代码: WS 文书
    year: int  # 年度: the year the record was formed (its name's date)
    retention: str  # 保管期限: Y, D30, D10…
    item: int  # 件号
    fonds: str | None = None  # 全宗号
    org: str | None = None  # 机构(问题)代码

    @property
    def series(self) -> str:
        head = f"{self.category}·{self.year}-{self.retention}"
        return "-".join(part for part in (self.fonds, head, self.org) if part)

    def __str__(self) -> str:
        return f"{self.series}-{self.item:04d}"


def parse_reference(text: str) -> ReferenceCode:
    match = _CODE.fullmatch(text)
    if match is None:
        raise ReferenceCodeError(
            f"{text!r} is not a 档号 (全宗号-门类代码·年度-保管期限-机构代码-件号)"
        )
    return ReferenceCode(
        category=match["category"],
        year=int(match["year"]),
        retention=match["retention"],
        item=int(match["item"]),
        fonds=match["fonds"],
        org=match["org"],
    )


def _candidates(session: Session, limit: int) -> list[tuple[Record, RetentionSchedule]]:
    query = (
        select(Record, RetentionSchedule)
        .join(RetentionSchedule, Record.schedule_id == RetentionSchedule.id)
        .where(
            Record.reference_code.is_(None),
            Record.state == RecordState.ACTIVE,
            Record.needs_review.is_(False),
        )
        .order_by(Record.filed_on, Record.created_at, Record.id)
        .limit(limit)
    )
    return [(record, schedule) for record, schedule in session.execute(query)]


def _series_of(settings: Settings, record: Record, schedule: RetentionSchedule) -> str:
    department = record.department or record.project.department
    return ReferenceCode(
        category=settings.category_code,
        year=int(record.name_date[:4]),
        retention=schedule.code,
        item=0,
        fonds=settings.fonds_code,
        org=department.code if department else None,
    ).series


def _take(session: Session, actor: Actor, series: str, records: Sequence[Record]) -> None:
    """Give ``records`` the next items of ``series``, in order.

    The caller holds the records' row locks already; the series lock is taken after them.
    Every numberer keeps that order (rows, then series), so none waits on another in a cycle,
    and the lock makes the highest item read here the highest committed one.
    """
    advisory_xact_lock(session, f"reference-series:{series}")
    item = (
        session.scalar(
            select(func.max(Record.reference_item)).where(Record.reference_series == series)
        )
        or 0
    )
    for record in records:
        item += 1
        record.reference_code = f"{series}-{item:04d}"
        record.reference_series, record.reference_item = series, item
        session.add(RecordChange(record_id=record.id))  # the index shows the code
        record_event(
            session, actor, "record.numbered", "record", record.id, {"code": record.reference_code}
        )


def number_record(
    session: Session, settings: Settings, record: Record, actor: Actor = SYSTEM
) -> bool:
    """Number one record inside the caller's transaction if it is ready (its row locked
    first: see :func:`_take`); returns whether it was numbered."""
    schedule = session.get(RetentionSchedule, record.schedule_id) if record.schedule_id else None
    settled = record.state == RecordState.ACTIVE and not record.needs_review
    if schedule is None or record.reference_code is not None or not settled:
        return False
    _take(session, actor, _series_of(settings, record, schedule), [record])
    return True


def number_pending(arc: Archive, actor: Actor = SYSTEM, batch: int = BATCH) -> int:
    """Give a 档号 to every record ready for one, a transaction per series; returns how many.

    Each transaction locks its records (skipping any numbered meanwhile), then the series,
    and numbers them in filing order.
    """
    numbered = 0
    while True:
        with arc.sessions() as session:
            by_series: dict[str, list[uuid.UUID]] = defaultdict(list)
            found = _candidates(session, batch)
            for record, schedule in found:
                by_series[_series_of(arc.settings, record, schedule)].append(record.id)
        for series in sorted(by_series):
            with arc.transaction() as session:
                # Rows are locked in primary-key order, the order in which the ORM flushes
                # the retention refresh's updates, so the two never lock them crosswise.
                locked = session.scalars(
                    select(Record)
                    .where(Record.id.in_(by_series[series]), Record.reference_code.is_(None))
                    .order_by(Record.id)
                    .with_for_update()
                ).all()
                records = sorted(locked, key=lambda r: (r.filed_on, r.created_at, r.id))
                _take(session, actor, series, records)
                numbered += len(records)
        if len(found) < batch:
            return numbered


@dataclass(frozen=True)
class SeriesGap:
    series: str
    count: int
    highest: int


def series_gaps(session: Session, series: Iterable[str] | None = None) -> list[SeriesGap]:
    """Series whose item numbers do not run 1..n without a gap (四性: integrity)."""
    query = (
        select(Record.reference_series, func.count(), func.max(Record.reference_item))
        .where(Record.reference_series.is_not(None))
        .group_by(Record.reference_series)
    )
    if series is not None:
        query = query.where(Record.reference_series.in_(list(series)))
    return [
        SeriesGap(name, count, highest or 0)
        for name, count, highest in session.execute(query)
        if name is not None and count != highest
    ]
