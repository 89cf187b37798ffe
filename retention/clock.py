"""When a retention period starts and ends, and when a record may go: plain date arithmetic.

After 民法典 第二百零二条, a period in years ends on the corresponding day of its last year, and
only where that day does not exist, on the last day of the month: 2022-02-28 plus ten years
is 2032-02-28, 2024-02-29 plus ten years is 2034-02-28 (``relativedelta`` does exactly this).
The due date so found is the last day the record must still be kept; after 第二百零三条 the
period ends with that day, so the record becomes eligible for destruction or transfer the day
after (:func:`eligible_from`), counted in Beijing time (``archive.db.local_today``).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from archive.models import Trigger


@dataclass(frozen=True)
class Rule:
    """The parts of a schedule the clock needs."""

    years: int | None  # None: permanent
    trigger: Trigger
    events: Sequence[str] = ()
    event_mode: str = "any"  # any: the first listed event starts it; all: the last of them


@dataclass(frozen=True)
class Clock:
    """Where a record's clock stands: from when it counts and when it falls due.

    ``starts`` is None while the events it waits for have not happened; ``due`` is None then,
    and for permanent records.
    """

    starts: date | None
    due: date | None
    waiting_for: tuple[str, ...] = ()


def fiscal_year_end(on_or_after: date, end: tuple[int, int]) -> date:
    """The end of the fiscal year that contains ``on_or_after``.

    ``end`` is (month, day); a day at or past the month's last (e.g. 02-28) means the last.
    """
    month, day = end

    def in_year(year: int) -> date:
        last = calendar.monthrange(year, month)[1]
        month_end = day >= calendar.monthrange(2023, month)[1]  # 02-28 is February's end
        return date(year, month, last if month_end else min(day, last))

    candidate = in_year(on_or_after.year)
    return candidate if candidate >= on_or_after else in_year(on_or_after.year + 1)


def add_years(start: date, years: int) -> date:
    """``start`` plus whole years: the corresponding day, or the month's last day where that
    day does not exist (民法典 第二百零二条)."""
    try:
        return start + relativedelta(years=years)
    except (OverflowError, ValueError):  # past year 9999: kept as long as a date can say
        return date.max


def eligible_from(due: date) -> date:
    """The first day a record kept until ``due`` may be destroyed or transferred."""
    return due if due == date.max else due + timedelta(days=1)


def is_eligible(due: date | None, today: date) -> bool:
    """Whether a record kept until ``due`` may go ``today`` (never while ``due`` is None)."""
    return due is not None and due < today


def clock_start(
    rule: Rule,
    base: date,
    events: Mapping[str, date],
    fiscal_end: tuple[int, int] = (12, 31),
) -> tuple[date | None, tuple[str, ...]]:
    """The date the period counts from, or None and the events still awaited.

    ``base`` is the filing date (or the cut-off date); ``events`` maps each event type that
    has happened to the record (or its project) to its earliest date. A clock counting from
    events starts on the later of the event and ``base``.
    """
    if rule.trigger == Trigger.FILED:
        return base, ()
    if rule.trigger == Trigger.YEAR_END:
        return date(base.year, 12, 31), ()
    if rule.trigger == Trigger.FISCAL_YEAR_END:
        return fiscal_year_end(base, fiscal_end), ()
    happened = [events[name] for name in rule.events if name in events]
    missing = tuple(name for name in rule.events if name not in events)
    # An event never starts the clock before the document's own date: one recorded for the
    # project before this record was written (a contract terminated in 2015 on a record of
    # 2017) would otherwise keep it shorter than its period.
    if rule.event_mode == "all":
        return (max(*happened, base), ()) if not missing else (None, missing)
    return (max(min(happened), base), ()) if happened else (None, tuple(rule.events))


def compute(
    rule: Rule,
    base: date,
    events: Mapping[str, date],
    fiscal_end: tuple[int, int] = (12, 31),
) -> Clock:
    starts, waiting = clock_start(rule, base, events, fiscal_end)
    if starts is None:
        return Clock(None, None, waiting)
    if rule.years is None:
        return Clock(starts, None)
    return Clock(starts, add_years(starts, rule.years))
