"""Ingest jobs and the classification rules records managers edit."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from archive.db import Base, UTCDateTime, utcnow
from archive.models.people import Sensitivity, enum_column


class IngestStatus(enum.StrEnum):
    QUEUED = "queued"  # received into staging; waiting for a worker
    PROCESSING = "processing"  # a worker holds the lease
    STORED = "stored"  # a new version was committed
    DUPLICATE = "duplicate"  # same content as the record's existing version: nothing new
    QUARANTINED = "quarantined"  # a check failed; the staged file is kept, encrypted

    @property
    def finished(self) -> bool:
        return self in (IngestStatus.STORED, IngestStatus.DUPLICATE, IngestStatus.QUARANTINED)


class IngestJob(Base):
    """Durable state of one ingestion; the row, not the broker message, is the truth.

    The staged file lives encrypted in the blob store (so any worker host can fetch it) under
    ``staging_key``, its data key wrapped in ``staging_kek_id``/``staging_wrapped``. A
    quarantined job keeps it until released or retried; a stored one has it deleted.
    """

    __tablename__ = "ingest_jobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    source: Mapped[str] = mapped_column(String(16))  # api, upload, hotfolder, bulk, cli, transfer
    status: Mapped[IngestStatus] = mapped_column(
        enum_column(IngestStatus), default=IngestStatus.QUEUED, index=True
    )
    stage: Mapped[str] = mapped_column(String(32), default="received")
    original_filename: Mapped[str] = mapped_column(String(1000))  # data, never a path
    source_path: Mapped[str | None] = mapped_column(String(2000), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # metadata given
    staging_key: Mapped[str | None] = mapped_column(String(128))
    staging_kek_id: Mapped[str | None] = mapped_column(String(64))
    staging_wrapped: Mapped[bytes | None]
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    media_type: Mapped[str | None] = mapped_column(String(255))
    failed_check: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(2000))
    checks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    record_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.id"))
    version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("versions.id"))
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("versions.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ClassificationRule(Base):
    """One rule: its conditions (all given ones must hold) and the class it assigns.

    ``keywords`` match if any one occurs; Chinese keywords match as substrings of the
    normalised, simplified text, Latin ones as whole words (``\\b`` is meaningless in Chinese).
    """

    __tablename__ = "classification_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    priority: Mapped[int] = mapped_column(default=100)  # lower runs first
    enabled: Mapped[bool] = mapped_column(default=True)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    pattern: Mapped[str | None] = mapped_column(String(500))  # a regular expression
    filename_glob: Mapped[str | None] = mapped_column(String(200))
    folder_glob: Mapped[str | None] = mapped_column(String(200))
    process: Mapped[str | None] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(32))
    record_type: Mapped[str | None] = mapped_column(String(32))
    sensitivity: Mapped[Sensitivity | None] = mapped_column(enum_column(Sensitivity))
    confidence: Mapped[float] = mapped_column(default=0.8)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
