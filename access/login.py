"""Password login with lock-out: after too many failures for a user name (or from one
address) within a window, further attempts are refused without checking the password, until
the window has passed. Every attempt is counted; failures and lock-outs are audited.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.db import utcnow
from archive.models import LoginAttempt, User
from archive.people import check_password

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20


LOCKED = "too many failed attempts: try again in 15 minutes"
WRONG = "wrong user name or password"  # never says whether the user name exists


def _failures(session: Session, *condition: object) -> int:
    since = utcnow() - WINDOW
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.ok.is_(False), LoginAttempt.at >= since, *condition)  # type: ignore[arg-type]
        )
        or 0
    )


def attempt_login(session: Session, username: str, password: str, ip: str | None) -> User | str:
    """The user, if the password is right and neither the name nor the address is locked;
    else the reason to show. Returns rather than raises: the attempt must be committed."""
    username = username.strip()[:64]
    if (
        _failures(session, LoginAttempt.username == username) >= MAX_FAILURES_PER_USER
        or _failures(session, LoginAttempt.ip == ip) >= MAX_FAILURES_PER_ADDRESS
    ):
        record_event(session, Actor(name=username or "?", ip=ip), "login.locked", "user", username)
        return LOCKED
    user = session.scalar(select(User).where(User.username == username))
    ok = user is not None and check_password(user, password)
    session.add(LoginAttempt(username=username, ip=ip, ok=ok))
    if not ok or user is None:
        record_event(session, Actor(name=username or "?", ip=ip), "login.failed", "user", username)
        return WRONG
    record_event(session, Actor.of(user, ip), "login", "user", user.id)
    return user
