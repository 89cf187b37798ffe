"""Users, departments and API tokens; every change to who may do what is an audit event."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from archive.audit import Actor, record_event
from archive.db import utcnow
from archive.errors import DomainError, ErrorKind
from archive.models import ApiToken, Department, Role, Sensitivity, User
from archive.passwords import password_hash
from archive.roles import DEPARTMENT_STAFF

TOKEN_PREFIX = "arc_"  # noqa: S105 (a marker, not a secret)
_USERNAME = re.compile(r"^[\w.@-]{2,64}$")
_DEPARTMENT_CODE = re.compile(r"^[A-Z0-9]{1,16}$")

# 销售 sales, 采购 procurement, 研发 R&D, 财务 finance, 人力 HR, 行政 administration;
# codes are the pinyin initials used as the 机构代码 in 档号.
DEFAULT_DEPARTMENTS = [
    ("XS", "销售"),
    ("CG", "采购"),
    ("YF", "研发"),
    ("CW", "财务"),
    ("RL", "人力"),
    ("XZ", "行政"),
]


class PeopleError(DomainError, ValueError):
    """A user or department operation was refused; the message says why, and ``code`` (when
    given) names the rule, so a page can say it in the reader's language."""

    def __init__(
        self, message: str = "", kind: ErrorKind | None = None, code: str = "", field: str = ""
    ) -> None:
        super().__init__(message, kind, code, field=field)


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise PeopleError("a password needs at least 10 characters")
    return password_hash(password)


def find_department(session: Session, code_or_name: str) -> Department:
    department = session.scalar(
        select(Department).where(
            (Department.code == code_or_name.upper()) | (Department.name == code_or_name)
        )
    )
    if department is None:
        known = ", ".join(f"{d.code} {d.name}" for d in session.scalars(select(Department)))
        raise PeopleError(f"no department {code_or_name!r} (known: {known or 'none'})")
    return department


def create_department(session: Session, actor: Actor, code: str, name: str) -> Department:
    if not _DEPARTMENT_CODE.fullmatch(code):
        raise PeopleError(
            f"department code {code!r} must be 1-16 capital letters or digits",
            code="department_code",
            field="code",
        )
    if session.scalar(
        select(Department).where((Department.code == code) | (Department.name == name))
    ):
        raise PeopleError(
            f"a department with code {code!r} or name {name!r} exists already",
            code="department_taken",
            field="code",
        )
    department = Department(code=code, name=name.strip())
    session.add(department)
    session.flush()
    record_event(
        session,
        actor,
        "department.created",
        "department",
        department.id,
        {"code": code, "name": department.name},
    )
    return department


def ensure_default_departments(session: Session, actor: Actor) -> int:
    """Create the default departments that do not exist yet; return how many were made."""
    existing = set(session.scalars(select(Department.code)))
    made = 0
    for code, name in DEFAULT_DEPARTMENTS:
        if code not in existing:
            create_department(session, actor, code, name)
            made += 1
    return made


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise PeopleError(f"no user {username!r}")
    return user


def check_new_user(
    session: Session, username: str, role: Role, department: Department | None
) -> None:
    """Refuse a user that :func:`create_user` would refuse (a bad or taken name, a
    department member without a department), before anything is asked or made."""
    if not _USERNAME.fullmatch(username):
        raise PeopleError(
            f"user name {username!r} must be 2-64 letters, digits, or . _ @ -",
            code="username_format",
            field="username",
        )
    if session.scalar(select(User.id).where(User.username == username)):
        raise PeopleError(
            f"user {username!r} exists already", code="username_taken", field="username"
        )
    if role in DEPARTMENT_STAFF and department is None:
        raise PeopleError(
            f"a {role.value} belongs to a department: give --department",
            code="department",
            field="department",
        )


def create_user(
    session: Session,
    actor: Actor,
    username: str,
    role: Role,
    department: Department | None,
    clearance: Sensitivity = Sensitivity.INTERNAL,
    password: str | None = None,
    display_name: str = "",
    temporary: bool = False,
) -> User:
    """A new user; ``temporary``: the password is someone else's choice, so the person
    replaces it at their first sign-in."""
    check_new_user(session, username, role, department)
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        department=department,
        clearance=clearance,
        password_hash=hash_password(password) if password else None,
        must_change_password=bool(password) and temporary,
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        actor,
        "user.created",
        "user",
        user.id,
        {
            "username": username,
            "role": role.value,
            "department": department.code if department else None,
            "clearance": clearance.value,
        },
    )
    return user


def change_user(
    session: Session,
    actor: Actor,
    user: User,
    *,
    role: Role | None = None,
    department: Department | None = None,
    clearance: Sensitivity | None = None,
) -> list[str]:
    """Apply the changes given; audit each one with its old and new value (rule 7)."""
    changed: list[str] = []

    def audit(field: str, old: str | None, new: str) -> None:
        record_event(
            session,
            actor,
            f"user.{field}_changed",
            "user",
            user.id,
            {"username": user.username, "from": old, "to": new},
        )
        changed.append(field)

    if role is not None and role != user.role:
        audit("role", user.role.value, role.value)
        user.role = role
    if department is not None and department.id != user.department_id:
        audit("department", user.department.code if user.department else None, department.code)
        user.department = department
    if clearance is not None and clearance != user.clearance:
        audit("clearance", user.clearance.value, clearance.value)
        user.clearance = clearance
    if changed:  # what the sessions and tokens were trusted with has changed
        end_sessions(session, actor, user, f"{', '.join(changed)} changed")
    session.flush()
    return changed


def end_sessions(
    session: Session, actor: Actor, user: User, reason: str, tokens: bool = True
) -> int:
    """End every web session of ``user`` on the server (copied cookies included) and, unless
    ``tokens`` is False, revoke every API token; audited. Returns the tokens revoked."""
    user.session_epoch = (user.session_epoch or 0) + 1
    revoked = 0
    if tokens:
        now = utcnow()
        for token in session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        ):
            token.revoked_at = now
            revoked += 1
    record_event(
        session,
        actor,
        "user.sessions_ended",
        "user",
        user.id,
        {"username": user.username, "reason": reason, "tokens_revoked": revoked},
    )
    return revoked


def set_active(session: Session, actor: Actor, user: User, active: bool) -> bool:
    """Block or restore a user's sign-in and tokens (audited); False if nothing changed."""
    if user.active == active:
        return False
    user.active = active
    record_event(
        session,
        actor,
        "user.activated" if active else "user.deactivated",
        "user",
        user.id,
        {"username": user.username},
    )
    if not active:  # nothing issued before survives a later re-activation
        end_sessions(session, actor, user, "deactivated")
    return True


def set_password(
    session: Session, actor: Actor, user: User, password: str, temporary: bool = False
) -> None:
    """Set (or reset) the password; every session and token issued before it ends.
    ``temporary``: someone else chose it, so the person must replace it at their next
    sign-in (audited as such; the password itself never is)."""
    user.password_hash = hash_password(password)
    user.must_change_password = temporary
    record_event(
        session,
        actor,
        "user.password_set",
        "user",
        user.id,
        {"username": user.username, "temporary": temporary},
    )
    end_sessions(session, actor, user, "password set")


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: How long a token lasts unless the settings say otherwise (``ARCHIVE_TOKEN_DAYS``).
TOKEN_DAYS = 90


def issue_token(session: Session, actor: Actor, user: User, days: int = TOKEN_DAYS) -> str:
    """Create an API token that ends after ``days`` and return it; it is shown once and
    only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    until = utcnow() + timedelta(days=days)
    session.add(
        ApiToken(user=user, token_hash=_token_digest(token), prefix=token[:12], expires_at=until)
    )
    record_event(
        session,
        actor,
        "token.issued",
        "user",
        user.id,
        {"username": user.username, "prefix": token[:12], "until": until.isoformat()},
    )
    return token


#: A token's last use is written at most this often: reading must not take the write lock.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


#: Every API request runs it: the token with its user (and their department) in one query,
#: the statement built once (SQLAlchemy skips rebuilding and re-keying a statement reused).
_TOKEN = (
    select(ApiToken)
    .options(joinedload(ApiToken.user))
    .where(ApiToken.token_hash == bindparam("digest"))
)


def token_holder(session: Session, token: str) -> tuple[User, ApiToken] | None:
    """The active user a presented token belongs to, and the token; reads only."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(_TOKEN, {"digest": _token_digest(token)})
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if row.expires_at <= utcnow():
        return None
    return row.user, row


def spent_token_owner(session: Session, token: str) -> tuple[User, str] | None:
    """Whose token ``token`` was, and why it opens nothing now (its account disabled, the
    token revoked or expired); None for a token that never existed (or that is valid)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(_TOKEN, {"digest": _token_digest(token)})
    if row is None:
        return None
    if not row.user.active:
        return row.user, "the account is disabled"
    if row.revoked_at is not None:
        return row.user, "the API token was revoked"
    if row.expires_at <= utcnow():
        return row.user, "the API token has expired"
    return None


def token_use_is_stale(token: ApiToken, now: datetime | None = None) -> bool:
    """Whether the token's recorded last use is older than :data:`TOKEN_USE_RESOLUTION`."""
    now = now or utcnow()
    return token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION


def touch_token(session: Session, token_id: int, now: datetime | None = None) -> None:
    """Record a use (in its own short transaction): only if the last one is stale, so many
    requests at once write once."""
    now = now or utcnow()
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .where(
            (ApiToken.last_used_at.is_(None))
            | (ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION)
        )
        .values(last_used_at=now)
    )


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a presented token belongs to, or None; records when it was used."""
    found = token_holder(session, token)
    if found is None:
        return None
    user, row = found
    if token_use_is_stale(row):
        touch_token(session, row.id)
    return user
