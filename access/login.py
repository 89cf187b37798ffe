"""Password login, guarded twice.

Per user name, a lock-out: after too many failures for a name within a window, further
attempts at that name are refused without checking the password until the window has
passed (a guess at one account from many addresses stops there).

Per address, a slow-down that never locks anyone out for good: the first failures from an
address are free; after them each further attempt from it must wait a delay that doubles
with every failure, up to a cap, counted from its latest failure. An attempt that comes too
early is refused (429 with ``Retry-After`` on the page) without checking the password, so
waiting is the only way on; it is not a failure, so hammering does not lengthen the wait.
The right password after the wait gets in, and nobody at another address is held up.

Every attempt whose password is checked is counted, and every one verifies exactly one
password hash (a dummy one for an unknown name), so the time taken does not tell whether a
name exists. Failures, lock-outs and slow-downs are audited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.db import utcnow
from archive.models import AuditEvent, LoginAttempt, User
from archive.passwords import check_password

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
#: Failures from one address within the window before it is slowed down.
FREE_FAILURES_PER_ADDRESS = 10
#: The first delay; each further failure doubles it, up to the cap.
FIRST_ADDRESS_DELAY = timedelta(seconds=1)
MAX_ADDRESS_DELAY = timedelta(minutes=5)


LOCKED = "too many failed attempts: try again in 15 minutes"
WRONG = "wrong user name or password"  # never says whether the user name exists


@dataclass(frozen=True)
class Throttled:
    """Too early after the address's failures: try again in ``retry_after`` seconds."""

    retry_after: int


def _failures(session: Session, now: datetime, *condition: object) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.ok.is_(False), LoginAttempt.at >= now - WINDOW, *condition)  # type: ignore[arg-type]
        )
        or 0
    )


def address_delay(failures: int) -> timedelta:
    """How long an address waits after its latest failure, having failed ``failures`` times
    within the window: nothing for the free ones, then 1 s, 2 s, 4 s … up to the cap."""
    if failures < FREE_FAILURES_PER_ADDRESS:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES_PER_ADDRESS, 32)  # 2**32 s is past any cap
    return min(FIRST_ADDRESS_DELAY * (1 << doublings), MAX_ADDRESS_DELAY)


def address_wait(session: Session, ip: str | None, now: datetime) -> timedelta:
    """What is left of the address's delay at ``now`` (zero: it may try)."""
    recent = (LoginAttempt.ip == ip, LoginAttempt.ok.is_(False), LoginAttempt.at >= now - WINDOW)
    failures, latest = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).select_from(LoginAttempt).where(*recent)
    ).one()
    if latest is None:
        return timedelta(0)
    left: timedelta = latest + address_delay(failures) - now
    return max(left, timedelta(0))


#: Sign-ins refused unchecked (a locked name, an address made to wait) put at most this
#: many lines on the audit trail per address in :data:`REFUSAL_NOTE_WINDOW`: they cost the
#: sender nothing, and would otherwise grow the hash-chained trail at will. Beyond it the
#: refusal is still answered.
REFUSAL_NOTES_PER_ADDRESS = 10
REFUSAL_NOTE_WINDOW = timedelta(minutes=10)


def _may_note_refusal(session: Session, ip: str | None, now: datetime) -> bool:
    noted = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action.in_(("login.locked", "login.throttled")),
            AuditEvent.ip.is_(None) if ip is None else AuditEvent.ip == ip,
            AuditEvent.at >= now - REFUSAL_NOTE_WINDOW,
        )
    )
    return (noted or 0) < REFUSAL_NOTES_PER_ADDRESS


def attempt_login(
    session: Session,
    username: str,
    password: str,
    ip: str | None,
    now: datetime | None = None,
    confirming: bool = False,
) -> User | str | Throttled:
    """The user, if the password is right, the name not locked and the address not waiting;
    else the reason to show (or how long to wait). Returns rather than raises: the attempt
    must be committed. ``now`` is for tests; it is the current time otherwise. ``confirming``:
    a signed-in person re-entering their password, recorded as that, not as a sign-in."""
    now = now or utcnow()
    username = username.strip()[:64]
    actor = Actor(name=username or "?", ip=ip)
    if _failures(session, now, LoginAttempt.username == username) >= MAX_FAILURES_PER_USER:
        if _may_note_refusal(session, ip, now):
            record_event(session, actor, "login.locked", "user", username)
        return LOCKED
    wait = address_wait(session, ip, now)
    if wait > timedelta(0):
        seconds = math.ceil(wait.total_seconds())
        if _may_note_refusal(session, ip, now):
            record_event(session, actor, "login.throttled", "user", username, {"wait": seconds})
        return Throttled(seconds)
    user = session.scalar(select(User).where(User.username == username))
    ok = check_password(user, password)  # one hash verified, whether or not the user exists
    session.add(LoginAttempt(username=username, ip=ip, ok=ok, at=now))
    if not ok or user is None:
        record_event(
            session,
            actor,
            "password.confirm_failed" if confirming else "login.failed",
            "user",
            username,
        )
        return WRONG
    done = Actor.of(user, ip)
    record_event(session, done, "password.confirmed" if confirming else "login", "user", user.id)
    return user


def password_refusal(
    session: Session, user: User, password: str, ip: str | None
) -> str | Throttled | None:
    """None if ``password`` is ``user``'s own, asked again before an irreversible action;
    else why not: :data:`WRONG`, :data:`LOCKED` (the right password is not even checked) or
    a wait. A wrong one counts as a failed sign-in (toward the lock-out), like any other."""
    outcome = attempt_login(session, user.username, password, ip, confirming=True)
    if isinstance(outcome, User):
        return None if outcome.id == user.id else WRONG
    return outcome
