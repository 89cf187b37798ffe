"""Filing by volume (案卷): where the file plan says a class is bound into volumes (e.g.
accounting vouchers bound by month), its records join the volume of their series, class and
period, and are numbered inside it.

The form chosen, after DA/T 13 (档号编制规则: 案卷号 orders the volumes, 件号 the items, and
the 1994 edition's structures end ``案卷号-件号``):

- 案卷级档号: ``全宗号-门类代码·年度-保管期限-机构(问题)代码-案卷号``, e.g.
  ``Z109-KJ·2023-D30-CW-0003``: a volume stands where an item filed by item would;
- 卷内文件: that code, ``-`` and the 卷内件号, e.g. ``Z109-KJ·2023-D30-CW-0003-0012``.

Why one sequence for a series' volumes and items: a series may hold both (ledgers filed by
item beside vouchers bound by month, both KJ and D30), and DA/T 13's uniqueness principle
(一个代码只表示一个编号对象) forbids ``…-CW-0003`` naming a ledger and a volume at once. So a
new volume takes the series' next number, the series stays gapless over both kinds, and
:func:`archive.refcode.series_gaps` counts both. A ``V`` marker (``…-CW-V003-0012``) would
have kept two sequences apart but is in no standard. Both numbers are four digits, like
items; some archives use three for 案卷号 by local rule.

Everything here runs under the series lock of :func:`archive.refcode._take`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.models import Record, RetentionSchedule, Volume, VolumePeriod


def period_of(record: Record, by: VolumePeriod | None) -> str:
    """The record's volume period from its own date (the name's 日期, as its 年度 is)."""
    return record.name_date[:4] if by == VolumePeriod.YEAR else record.name_date[:7]


def highest_volume(session: Session, series: str) -> int:
    return session.scalar(select(func.max(Volume.number)).where(Volume.series == series)) or 0


def volume_for(
    session: Session, series: str, record: Record, schedule: RetentionSchedule
) -> Volume | None:
    """The open volume of the record's series, class and period, if it has one yet."""
    return session.scalar(
        select(Volume)
        .where(
            Volume.series == series,
            Volume.schedule_key == schedule.key,
            Volume.period == period_of(record, schedule.volume_by),
        )
        .execution_options(populate_existing=True)
    )


def new_volume(
    session: Session, series: str, number: int, record: Record, schedule: RetentionSchedule
) -> Volume:
    period = period_of(record, schedule.volume_by)
    volume = Volume(
        series=series,
        number=number,
        code=f"{series}-{number:04d}",
        schedule_key=schedule.key,
        period=period,
        title=f"{schedule.name} {period}"[:500],
        start_on=record.filed_on,
        end_on=record.filed_on,
        items=0,
    )
    session.add(volume)
    session.flush()
    return volume


def bind(session: Session, volume: Volume, record: Record) -> int:
    """Put ``record`` into ``volume`` as its next item; returns the 卷内件号."""
    highest = session.scalar(
        select(func.max(Record.reference_item)).where(Record.reference_series == volume.code)
    )
    item = (highest or 0) + 1
    volume.items = item
    volume.start_on = min(volume.start_on, record.filed_on)
    volume.end_on = max(volume.end_on, record.filed_on)
    return item


def volume_json(volume: Volume) -> dict[str, Any]:
    return {
        "code": volume.code,
        "series": volume.series,
        "number": volume.number,
        "schedule": volume.schedule_key,
        "period": volume.period,
        "title": volume.title,
        "start_on": volume.start_on.isoformat(),
        "end_on": volume.end_on.isoformat(),
        "items": volume.items,
    }


def volume_of(session: Session, record: Record) -> Volume | None:
    """The volume a record is bound in, if its class is filed by volume."""
    if record.reference_series is None:
        return None
    return session.scalar(select(Volume).where(Volume.code == record.reference_series))


def list_volumes(session: Session, series: str | None = None, limit: int = 500) -> list[Volume]:
    query = select(Volume).order_by(Volume.series, Volume.number).limit(limit)
    if series:
        query = query.where(Volume.series.startswith(series, autoescape=True))
    return list(session.scalars(query))
