"""Projects, records, their immutable versions, data keys, and ingest jobs."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Base, UTCDateTime, utcnow
from archive.models.people import Department, Sensitivity, User, enum_column


class ProjectStatus(enum.StrEnum):
    ACTIVE = "active"
    ACCEPTED = "accepted"  # 验收: may start retention clocks
    CLOSED = "closed"


class RecordState(enum.StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    DISPOSED = "disposed"
    TRANSFERRED = "transferred"


class RenditionRole(enum.StrEnum):
    """What a stored object of a version is (``renditions.role``, ``data_keys.role``).

    The columns stay plain strings: a member compares equal to its value.
    """

    ORIGINAL = "original"  # the version's own bytes
    TEXT = "text"  # the extracted text
    OCR_PDF = "ocr_pdf"  # the OCR'd PDF of a scan
    OFFICE_PDF = "office_pdf"  # an office document laid out as PDF (LibreOffice), for reading


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[ProjectStatus] = mapped_column(
        enum_column(ProjectStatus), default=ProjectStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship()


class Record(Base):
    """The logical document. Its content lives in versions; its name stem is fixed at filing."""

    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("reference_series", "reference_item"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(500))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    # Classification (rule 1): process, business stage, record type, and why it was chosen.
    process: Mapped[str | None] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(32))
    record_type: Mapped[str | None] = mapped_column(String(32))
    classification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sensitivity: Mapped[Sensitivity] = mapped_column(
        enum_column(Sensitivity), default=Sensitivity.INTERNAL
    )
    # Description after DA/T 46 (see archive.description): 责任者, 文号 and 备注. Given at
    # filing, recognised from the text, or set by a records manager (audited).
    author: Mapped[str | None] = mapped_column(String(200), index=True)
    doc_number: Mapped[str | None] = mapped_column(String(100))
    # The 文号 folded for exact lookups: brackets, widths and spaces do not tell two apart.
    doc_number_key: Mapped[str | None] = mapped_column(String(100), index=True)
    remarks: Mapped[str | None] = mapped_column(String(2000))
    # 档号 (see archive.refcode): set once; its series and item number kept apart so a
    # series' next number and its gaps are one indexed query.
    reference_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    reference_series: Mapped[str | None] = mapped_column(String(64), index=True)
    reference_item: Mapped[int | None]
    name_date: Mapped[str] = mapped_column(String(10))  # the 日期 part of the name
    name_stem: Mapped[str] = mapped_column(String(255), unique=True)  # 项目名称-日期
    state: Mapped[RecordState] = mapped_column(enum_column(RecordState), default=RecordState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Low-confidence classification waits here for a person (the review queue).
    needs_review: Mapped[bool] = mapped_column(default=False, index=True)
    # Retention (see retention/): the date its clock may count from, the schedule its class
    # chose (or a review pinned), and the due date that follows. ``retention_dirty`` is set
    # whenever an input changed (filing, class); the retention sweep recomputes those.
    filed_on: Mapped[date] = mapped_column(Date)
    # False: the document gave its month only; filed_on is then the month's last day (the
    # retention clock's start), never shown as the document's own day.
    filed_day_known: Mapped[bool] = mapped_column(default=True)

    @property
    def document_date(self) -> str:
        """The document's own date as given: 2014-06-03, or 2014-06 when only the month was."""
        if self.filed_day_known:
            return self.filed_on.isoformat()
        return self.filed_on.strftime("%Y-%m")

    cut_off_on: Mapped[date | None] = mapped_column(Date)  # closed: no further versions
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("retention_schedules.id"), index=True
    )
    schedule_pinned: Mapped[bool] = mapped_column(default=False)
    retention_from: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    extended_to: Mapped[date | None] = mapped_column(Date)  # set by a review
    retention_dirty: Mapped[bool] = mapped_column(default=True, index=True)

    project: Mapped[Project] = relationship()
    department: Mapped[Department | None] = relationship()
    versions: Mapped[list[Version]] = relationship(
        back_populates="record", order_by=lambda: [Version.major, Version.minor]
    )


class Version(Base):
    """One immutable version. The database refuses UPDATE and DELETE on this table."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("record_id", "major", "minor"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), index=True)
    major: Mapped[int]
    minor: Mapped[int]
    name: Mapped[str] = mapped_column(String(255), unique=True)  # 项目名称-日期-版本号
    original_filename: Mapped[str] = mapped_column(String(1000))  # data, never a path
    media_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))  # of the plaintext
    object_key: Mapped[str] = mapped_column(String(128), unique=True)
    page_count: Mapped[int | None]
    ocr: Mapped[bool] = mapped_column(default=False)
    text_stats: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    checks: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # 四性检测 report
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    record: Mapped[Record] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()

    @property
    def number(self) -> str:
        return f"{self.major}.{self.minor}"


class Rendition(Base):
    """A derived object kept beside a version: the OCR'd PDF, the extracted text.

    Encrypted like the original under its own data key (a ``data_keys`` row with the same
    ``role``), and immutable like the version it belongs to.
    """

    __tablename__ = "renditions"
    __table_args__ = (UniqueConstraint("version_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))  # a RenditionRole other than ORIGINAL
    object_key: Mapped[str] = mapped_column(String(128), unique=True)
    media_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DataKey(Base):
    """The wrapped data key of one stored object (an original or a rendition).

    Kept apart from the version so it can be re-wrapped on rotation and destroyed on
    disposition (crypto-shredding) while the version row itself never changes.
    """

    __tablename__ = "data_keys"

    object_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))  # a RenditionRole
    kek_id: Mapped[str | None] = mapped_column(String(64), index=True)
    wrapped: Mapped[bytes | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecordChange(Base):
    """Outbox: a record whose searchable form changed, written in the changing transaction.

    The index writer consumes these in order and deletes them once indexed, so the index
    catches up after any crash (indexing the same record twice is harmless).
    """

    __tablename__ = "record_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
