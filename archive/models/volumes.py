"""Volumes (案卷): the records of a class filed by volume, bound by period (e.g. vouchers
bound by month), with their own 案卷号 and 档号. See :mod:`archive.volumes`."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive.db import Base, UTCDateTime, utcnow


class FilingUnit(enum.StrEnum):
    """What a class is filed as: each record an item (件, the default since DA/T 22-2015),
    or records bound into volumes (案卷)."""

    ITEM = "item"
    VOLUME = "volume"


class VolumePeriod(enum.StrEnum):
    """How the records of a volume-filed class are grouped, by their own date."""

    MONTH = "month"
    YEAR = "year"


class Volume(Base):
    """One 案卷. Its ``code`` is an entry of ``series`` (numbered in the series' one sequence
    with the items filed there), and the series of the records bound in it: a record in it
    has ``reference_series == code`` and its 卷内件号 as ``reference_item``."""

    __tablename__ = "volumes"
    __table_args__ = (
        UniqueConstraint("series", "number"),
        UniqueConstraint("series", "schedule_key", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(64), index=True)
    number: Mapped[int]  # 案卷号
    code: Mapped[str] = mapped_column(String(64), unique=True)  # 案卷级档号
    schedule_key: Mapped[str] = mapped_column(String(64))  # the class it binds
    period: Mapped[str] = mapped_column(String(7))  # 2023-03 (month) or 2023 (year)
    title: Mapped[str] = mapped_column(String(500))  # 案卷题名
    start_on: Mapped[date] = mapped_column(Date)  # 起止日期: the records' own dates
    end_on: Mapped[date] = mapped_column(Date)
    items: Mapped[int] = mapped_column(default=0)  # 卷内件数
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
