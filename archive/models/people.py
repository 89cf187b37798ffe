"""Departments, users, roles, clearances, API tokens, and the privileged changes to people
that wait for a security administrator's approval."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Base, UTCDateTime, utcnow


def enum_column(cls: type[enum.Enum]) -> Enum:
    """Store enums by value as plain strings (readable, and portable across databases)."""
    return Enum(
        cls,
        native_enum=False,
        validate_strings=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Role(enum.StrEnum):
    SPECIALIST = "specialist"  # 专员
    SUPERVISOR = "supervisor"  # 主管
    DIRECTOR = "director"  # 总监
    RECORDS_MANAGER = "records_manager"  # 档案管理员
    AUDITOR = "auditor"  # 安全审计员: sees everyone's actions, administrators' included
    ADMIN = "admin"  # 系统管理员: manages people and keys, never reads content
    SECURITY_ADMIN = "security_admin"  # 安全保密管理员: approves privileged changes to people


class Sensitivity(enum.StrEnum):
    """Record sensitivity and, for users, clearance; ordered from least to most secret."""

    PUBLIC = "public"  # 公开
    INTERNAL = "internal"  # 内部
    CONFIDENTIAL = "confidential"  # 秘密
    RESTRICTED = "restricted"  # 机密

    @property
    def rank(self) -> int:
        return list(Sensitivity).index(self)


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # 机构代码 in the 档号
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    clearance: Mapped[Sensitivity] = mapped_column(
        enum_column(Sensitivity), default=Sensitivity.INTERNAL
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    #: Bumped to end every web session of the user at once (server-side sign-out).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Someone else set the password (an administrator, or a one-time password issued on
    #: approval): the web asks the person to choose their own before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored (tokens carry 256 bits of entropy)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # a copied token ends too

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One web login attempt, kept to lock out guessing (per user name and per address)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(45), index=True)
    ok: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class PrivilegeKind(enum.StrEnum):
    CREATE = "create"  # a new user with a privileged role or a clearance above internal
    CHANGE = "change"  # role, department, clearance, sign-in or password of an existing user


class PrivilegeStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class PrivilegeChange(Base):
    """A privileged change to a person (三员分立): an administrator asks, a different security
    administrator approves, and only then does it take effect. ``changes`` holds what was
    asked (never a password: a reset is ``reset_password: true``); ``before`` what the
    person was when it was asked, checked again at approval."""

    __tablename__ = "privilege_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PrivilegeKind] = mapped_column(enum_column(PrivilegeKind))
    #: The person's user name (for a creation, the name the new user will have).
    username: Mapped[str] = mapped_column(String(64), index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[PrivilegeStatus] = mapped_column(
        enum_column(PrivilegeStatus), default=PrivilegeStatus.PENDING, index=True
    )
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it was rejected or cancelled.
    reason: Mapped[str | None] = mapped_column(Text)
