"""Retention: schedules by class, the events that start clocks, holds, disposition lists
(销毁清册) with their signatures, reviews (appraisals), and the tombstones left behind.

A schedule is versioned: a change supersedes the current row with a new one, so a record
always points at the exact rule that set its due date. Signatures and tombstones are
append-only at the database level, like the audit chain.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Base, UTCDateTime, utcnow
from archive.models.people import enum_column
from archive.models.records import Project, Record
from archive.models.volumes import FilingUnit, VolumePeriod


class Trigger(enum.StrEnum):
    """What a retention period counts from."""

    FILED = "filed"  # the filing (or cut-off) date itself
    YEAR_END = "year_end"  # 31 December of that year: the Chinese archival default
    FISCAL_YEAR_END = "fiscal_year_end"  # the end of the fiscal year (ARCHIVE_FISCAL_YEAR_END)
    EVENT = "event"  # an event such as contract_terminated


class Disposal(enum.StrEnum):
    """What happens when the period ends."""

    REVIEW = "review"  # appraisal (鉴定) first: the Chinese default
    DESTROY = "destroy"
    TRANSFER = "transfer"  # 移交, e.g. to a state archive


class HoldScope(enum.StrEnum):
    RECORDS = "records"  # the records named
    PROJECT = "project"  # every record of a project, including those filed later
    QUERY = "query"  # records matching a metadata query, now and later


class ListStatus(enum.StrEnum):
    DRAFT = "draft"  # being prepared: items and the appraisal opinion may change
    SIGNING = "signing"  # frozen: its digest is what the signers sign
    EXECUTED = "executed"
    CANCELLED = "cancelled"


class SignerRole(enum.StrEnum):
    RECORDS_MANAGER = "records_manager"
    DEPARTMENT_HEAD = "department_head"  # one per department whose records are on the list
    DIRECTOR = "director"


class RetentionSchedule(Base):
    __tablename__ = "retention_schedules"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)  # stable across versions
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    # The class it governs; None matches anything. The most specific schedule wins.
    process: Mapped[str | None] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(32))
    record_type: Mapped[str | None] = mapped_column(String(32))
    years: Mapped[int | None]  # None: permanent (Y)
    trigger: Mapped[Trigger] = mapped_column(enum_column(Trigger))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    event_mode: Mapped[str] = mapped_column(String(3), default="any")  # any | all
    disposal: Mapped[Disposal] = mapped_column(enum_column(Disposal), default=Disposal.REVIEW)
    basis: Mapped[str] = mapped_column(Text, default="")  # the law or rule behind it
    # 门类代码 of its records' 档号 (KJ 会计…); None: the archive's ARCHIVE_CATEGORY_CODE.
    category: Mapped[str | None] = mapped_column(String(4))
    # Filed by item (件) or bound into volumes (案卷) by the period of the record's date.
    filing: Mapped[FilingUnit] = mapped_column(enum_column(FilingUnit), default=FilingUnit.ITEM)
    volume_by: Mapped[VolumePeriod | None] = mapped_column(enum_column(VolumePeriod))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    @property
    def code(self) -> str:
        """The 保管期限 code of the 档号: Y permanent, else D and the years (D30, D10…)."""
        return "Y" if self.years is None else f"D{self.years}"


class EventType(Base):
    __tablename__ = "retention_event_types"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RetentionEvent(Base):
    """Something that happened to a project or a record and may start retention clocks."""

    __tablename__ = "retention_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(ForeignKey("retention_event_types.code"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    record_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.id"), index=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by: Mapped[str | None] = mapped_column(String(64))
    void_reason: Mapped[str | None] = mapped_column(Text)

    project: Mapped[Project | None] = relationship()


class Hold(Base):
    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    scope: Mapped[HoldScope] = mapped_column(enum_column(HoldScope))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    query: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    released_by: Mapped[str | None] = mapped_column(String(64))
    release_reason: Mapped[str | None] = mapped_column(Text)

    project: Mapped[Project | None] = relationship()


class HoldItem(Base):
    """A record a hold names (records scope) or matched when placed (query scope)."""

    __tablename__ = "hold_items"

    hold_id: Mapped[int] = mapped_column(ForeignKey("holds.id"), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id"), primary_key=True, index=True
    )


class DispositionList(Base):
    """A 销毁清册 (or a transfer list): prepared, frozen, signed, executed."""

    __tablename__ = "disposition_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # XH-2026-0001
    action: Mapped[Disposal] = mapped_column(enum_column(Disposal))  # destroy or transfer
    status: Mapped[ListStatus] = mapped_column(
        enum_column(ListStatus), default=ListStatus.DRAFT, index=True
    )
    opinion: Mapped[str] = mapped_column(Text, default="")  # 鉴定意见: the appraisal opinion
    proposed_by_sweep: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    digest: Mapped[str | None] = mapped_column(String(64))  # of the frozen content
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    executed_by: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # counts, the package
    # A destruction list is closed once its destruction has been witnessed (监销) by every
    # witness the settings require; until then it stays executed and open for their names.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receiver: Mapped[str] = mapped_column(String(200), default="", server_default="")  # 接收方

    items: Mapped[list[DispositionItem]] = relationship(
        back_populates="list", order_by=lambda: DispositionItem.id
    )
    signatures: Mapped[list[Signature]] = relationship(order_by=lambda: Signature.id)
    witnesses: Mapped[list[Witness]] = relationship(order_by=lambda: Witness.id)


class DispositionItem(Base):
    __tablename__ = "disposition_items"
    __table_args__ = (UniqueConstraint("list_id", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("disposition_lists.id"), index=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), index=True)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # frozen on submission
    outcome: Mapped[str | None] = mapped_column(String(32))  # destroyed, transferred, skipped
    note: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    list: Mapped[DispositionList] = relationship(back_populates="items")
    record: Mapped[Record] = relationship()


class Signature(Base):
    """One signer's approval of a frozen list, bound to the list's digest. Append-only."""

    __tablename__ = "disposition_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("disposition_lists.id"), index=True)
    role: Mapped[SignerRole] = mapped_column(enum_column(SignerRole))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    digest: Mapped[str] = mapped_column(String(64))
    opinion: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(45))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Witness(Base):
    """One person's signature that a list's destruction took place as listed (监销), in the
    capacity a slot asks for (the records manager, a department's representative, finance,
    IT). Append-only."""

    __tablename__ = "disposition_witnesses"
    __table_args__ = (UniqueConstraint("list_id", "slot"), UniqueConstraint("list_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("disposition_lists.id"), index=True)
    slot: Mapped[str] = mapped_column(String(48))  # records_manager, department:XS, finance, it
    capacity: Mapped[str] = mapped_column(String(100))  # the slot in words, as printed
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    statement: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(45))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RetentionReview(Base):
    """An appraisal (鉴定) of one record and what it decided. Append-only."""

    __tablename__ = "retention_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), index=True)
    opinion: Mapped[str] = mapped_column(Text)  # the records manager's 鉴定意见
    department_opinion: Mapped[str] = mapped_column(Text, default="", server_default="")
    outcome: Mapped[str] = mapped_column(String(16))  # extend, reschedule, destroy, transfer
    due_before: Mapped[date | None] = mapped_column(Date)
    due_after: Mapped[date | None] = mapped_column(Date)
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tombstone(Base):
    """What remains of a destroyed record, forever: its description, and why and how it went."""

    __tablename__ = "tombstones"

    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # destroyed (by a list) or deleted
    list_id: Mapped[int | None] = mapped_column(ForeignKey("disposition_lists.id"))
    reason: Mapped[str] = mapped_column(Text)
    description: Mapped[dict[str, Any]] = mapped_column(JSON)  # metadata and version digests
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Deletion(Base):
    """A record filed in error, deleted outside any list: a records manager asks, a director
    or the head of the record's department (never the same person) confirms; only then is
    it crypto-shredded. Only within ARCHIVE_MISFILE_DAYS of filing; later, a signed list."""

    __tablename__ = "deletions"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    record: Mapped[Record] = relationship()
