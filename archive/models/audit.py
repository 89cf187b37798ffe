"""The audit trail: append-only, hash-chained events (see :mod:`archive.audit`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.db import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # 1, 2, 3... no gaps
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(64))  # username or "system", kept as written
    ip: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ChainAnchor(Base):
    """Where a chain became keyed: rows up to ``seq`` were hashed with plain SHA-256 before
    the chains were keyed (migration 0011), rows after it carry an HMAC. ``seq`` 0 means
    keyed from the first row. The first signed checkpoint repeats it, so moving it is seen.
    """

    __tablename__ = "chain_anchors"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)  # the chain's table name
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class FixityCheck(Base):
    """One re-read of one stored version: the sweep's memory of what it checked and when.

    Append-only: the rolling sample picks the versions checked longest ago.
    """

    __tablename__ = "fixity_checks"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run: Mapped[str] = mapped_column(String(32), index=True)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ok: Mapped[bool]
    detail: Mapped[str | None] = mapped_column(String(500))
