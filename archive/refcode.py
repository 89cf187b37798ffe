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
The 门类代码 is the record's schedule's (KJ for accounting classes, say), else the archive's
``ARCHIVE_CATEGORY_CODE``, so each 门类 runs its own series. A class the file plan files by
volume (案卷) is numbered ``…-案卷号-卷内件号`` instead: see :mod:`archive.volumes`.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from archive.audit import SYSTEM, Actor, record_event
from archive.config import Settings
from archive.core import Archive
from archive.db import advisory_xact_lock
from archive.errors import DomainError
from archive.models import (
    FilingUnit,
    Record,
    RecordChange,
    RecordState,
    RetentionSchedule,
    Volume,
)
from archive.volumes import bind, highest_volume, new_volume, volume_for

_CODE = re.compile(
    r"^(?:(?P<fonds>[A-Z0-9]{1,8})-)?(?P<category>[A-Z]{1,4})·(?P<year>\d{4})"
    r"-(?P<retention>Y|D\d{1,3})-(?:(?P<org>[A-Z0-9]{1,16})-)?(?:(?P<volume>\d{4,})-)?"
    r"(?P<item>\d{4,})$"
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
    volume: int | None = None  # 案卷号, for a record filed in a volume (卷内件号 is ``item``)

    @property
    def series(self) -> str:
        """The code without the item: of a volume's record, the volume's own code."""
        head = f"{self.category}·{self.year}-{self.retention}"
        volume = f"{self.volume:04d}" if self.volume is not None else None
        return "-".join(part for part in (self.fonds, head, self.org, volume) if part)

    def __str__(self) -> str:
        return f"{self.series}-{self.item:04d}"


def parse_reference(text: str) -> ReferenceCode:
    """Read a 档号 back. Two numbers after the period are read as 机构代码 and 件号 when the
    机构代码 could be all digits (``WS·2024-D2-0001-0007``), as 案卷号 and 卷内件号 only after
    a 机构代码 (``KJ·2023-D30-CW-0003-0012``): the text alone cannot tell them apart, the
    record's stored series and item always can."""
    match = _CODE.fullmatch(text)
    if match is None:
        raise ReferenceCodeError(
            f"{text!r} is not a 档号 (全宗号-门类代码·年度-保管期限-机构代码-件号, "
            "or …-案卷号-卷内件号 in a volume)"
        )
    return ReferenceCode(
        category=match["category"],
        year=int(match["year"]),
        retention=match["retention"],
        item=int(match["item"]),
        fonds=match["fonds"],
        org=match["org"],
        volume=int(match["volume"]) if match["volume"] else None,
    )


def period_years(code: str) -> float:
    """How long a 保管期限 code keeps: ``Y`` for ever, ``D30`` 30 years; -1 for none."""
    if code == "Y":
        return float("inf")
    years = re.fullmatch(r"D(\d{1,3})", code)
    return float(years[1]) if years else -1.0


def effective_period(schedule_code: str, reference_code: str | None) -> str:
    """The period a record is kept for, as a code: its schedule's, or the one its 档号
    carries when that is longer (a numbered record is never kept shorter than its number
    says: ``retention.status.at_least_as_numbered``). What search's 保管期限 facet and the
    per-code report count."""
    numbered = ""
    if reference_code:
        try:
            numbered = parse_reference(reference_code).retention
        except ReferenceCodeError:
            numbered = ""
    return max(schedule_code, numbered, key=period_years)


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
        category=schedule.category or settings.category_code,
        year=int(record.name_date[:4]),
        retention=schedule.code,
        item=0,
        fonds=settings.fonds_code,
        org=department.code if department else None,
    ).series


def _next_entry(session: Session, series: str) -> int:
    """The highest entry of ``series`` so far: its items and its volumes share one sequence."""
    item = session.scalar(
        select(func.max(Record.reference_item)).where(Record.reference_series == series)
    )
    return max(item or 0, highest_volume(session, series))


def _take(
    session: Session,
    actor: Actor,
    series: str,
    entries: Sequence[tuple[Record, RetentionSchedule]],
) -> None:
    """Give the records of ``entries`` the next items of ``series``, in order; a record of a
    class filed by volume joins its volume (opened as the series' next entry if need be).

    The caller holds the records' row locks already; the series lock is taken after them.
    Every numberer keeps that order (rows, then series), so none waits on another in a cycle,
    and the lock makes the highest item read here the highest committed one. A volume's
    records are numbered only under its series' lock, so that lock serialises them too.
    """
    advisory_xact_lock(session, f"reference-series:{series}")
    entry = _next_entry(session, series)
    for record, schedule in entries:
        volume: Volume | None = None
        if schedule.filing == FilingUnit.VOLUME:
            volume = volume_for(session, series, record, schedule)
            if volume is None:
                entry += 1
                volume = new_volume(session, series, entry, record, schedule)
            record.reference_series, record.reference_item = (
                volume.code,
                bind(session, volume, record),
            )
        else:
            entry += 1
            record.reference_series, record.reference_item = series, entry
        record.reference_code = f"{record.reference_series}-{record.reference_item:04d}"
        session.add(RecordChange(record_id=record.id))  # the index shows the code
        details = {"code": record.reference_code}
        if volume is not None:
            session.flush()  # the next bind() into this volume reads this record's item
            details["volume"] = volume.code
        record_event(session, actor, "record.numbered", "record", record.id, details)


def _ready(session: Session, record: Record) -> RetentionSchedule | None:
    """The schedule of a record ready for its 档号: unnumbered, active, its class settled."""
    settled = record.state == RecordState.ACTIVE and not record.needs_review
    if record.schedule_id is None or record.reference_code is not None or not settled:
        return None
    return session.get(RetentionSchedule, record.schedule_id)


def number_record(
    session: Session, settings: Settings, record: Record, actor: Actor = SYSTEM
) -> bool:
    """Number one record inside the caller's transaction if it is ready (its row locked
    first: see :func:`_take`); returns whether it was numbered."""
    schedule = _ready(session, record)
    if schedule is None:
        return False
    _take(session, actor, _series_of(settings, record, schedule), [(record, schedule)])
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
                entries = []
                for record in records:
                    # Its class may have changed since it was picked: a later pass takes it.
                    current = _ready(session, record)
                    if current and _series_of(arc.settings, record, current) == series:
                        entries.append((record, current))
                _take(session, actor, series, entries)
                numbered += len(entries)
        if len(found) < batch:
            return numbered


@dataclass(frozen=True)
class SeriesGap:
    series: str
    count: int
    highest: int


def series_gaps(session: Session, series: Iterable[str] | None = None) -> list[SeriesGap]:
    """Series whose entries (items, and volumes opened in it) do not run 1..n without a gap
    (四性: integrity). A volume's records are a series of their own: the volume's code."""
    entries = union_all(
        select(Record.reference_series.label("series"), Record.reference_item.label("n")).where(
            Record.reference_series.is_not(None)
        ),
        select(Volume.series.label("series"), Volume.number.label("n")),
    ).subquery()
    query = select(entries.c.series, func.count(), func.max(entries.c.n)).group_by(entries.c.series)
    if series is not None:
        query = query.where(entries.c.series.in_(list(series)))
    return [
        SeriesGap(name, count, highest or 0)
        for name, count, highest in session.execute(query)
        if name is not None and count != highest
    ]
