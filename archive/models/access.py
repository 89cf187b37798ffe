"""Access on request: requests, their decisions, grants, and the access log.

A request is routed step by step (the record's department head, or a director; ``external``
adds a director step); each decision is an append-only row. Approval creates a grant, the
only thing besides standing access that lets anyone read content. The access log is a hash
chain of its own (see :mod:`archive.accesslog`), append-only at the database level.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Base, UTCDateTime, utcnow
from archive.models.people import User, enum_column
from archive.models.records import Record


class Scope(enum.StrEnum):
    VIEW = "view"  # in the browser, watermarked
    DOWNLOAD = "download"  # the file, named by its canonical name
    PRINT = "print"
    EXTERNAL = "external"  # 对外提供: for use outside the company; registered


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"  # by its requester, before anyone decided


class Approver(enum.StrEnum):
    HEAD = "head"  # supervisor or director of the record's department
    DIRECTOR = "director"  # any director


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    scope: Mapped[Scope] = mapped_column(enum_column(Scope))
    #: 对外提供: who outside the company receives it (the 利用登记 names it).
    recipient: Mapped[str | None] = mapped_column(String(200))
    days: Mapped[int]
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus), default=RequestStatus.PENDING, index=True
    )
    step: Mapped[int] = mapped_column(default=1)  # the step now waiting for a decision
    steps: Mapped[int] = mapped_column(default=1)  # 2 for external: a director after the head
    approver: Mapped[Approver] = mapped_column(enum_column(Approver))  # who decides this step
    approver_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # this step's deadline
    escalated: Mapped[bool] = mapped_column(default=False)  # moved up for being overdue
    emergency: Mapped[bool] = mapped_column(default=False)  # green channel: approval owed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    record: Mapped[Record] = relationship()


class AccessDecision(Base):
    """One approver's decision on one step (append-only)."""

    __tablename__ = "access_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("access_requests.id"), index=True)
    step: Mapped[int]
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))

    approver: Mapped[User] = relationship()


class Grant(Base):
    """Permission for one user to act on one record within a period."""

    __tablename__ = "grants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), index=True)
    scope: Mapped[Scope] = mapped_column(enum_column(Scope))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("access_requests.id"))
    emergency: Mapped[bool] = mapped_column(default=False)
    justification: Mapped[str] = mapped_column(Text, default="")  # green channel's reason
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    record: Mapped[Record] = relationship()

    def active(self, at: datetime) -> bool:
        return self.revoked_at is None and self.valid_from <= at < self.valid_until


class AccessEvent(Base):
    """One line of the access log: every read, export and refusal, hash-chained."""

    __tablename__ = "access_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # view, download, print, external, ...
    outcome: Mapped[str] = mapped_column(String(16))  # allowed / refused
    reason: Mapped[str] = mapped_column(String(500), default="")
    record_id: Mapped[str | None] = mapped_column(String(64), index=True)
    version_id: Mapped[str | None] = mapped_column(String(64))
    grant_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[str] = mapped_column(Text, default="")  # e.g. the query of a search
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
