"""Failures from one address slow that address down, with delays that grow and stop growing
at a cap; the right password from another address is never held up, and the right password
from the slowed address succeeds once its wait is over. The per-name lock-out stays.

Time is passed in (``now=``): nothing here sleeps.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher

from access.login import (
    FREE_FAILURES_PER_ADDRESS,
    LOCKED,
    MAX_ADDRESS_DELAY,
    MAX_FAILURES_PER_USER,
    REFUSAL_NOTES_PER_ADDRESS,
    WRONG,
    Throttled,
    attempt_login,
)
from archive.db import utcnow
from archive.models import AuditEvent, LoginAttempt, User
from tests.access.conftest import World
from tests.access.test_web import BASE, SAME_SITE, csrf_token, give_password

PASSWORD = "correct horse battery"
ATTACKER, OFFICE = "203.0.113.7", "198.51.100.20"


def _try(
    world: World, username: str, password: str, ip: str, now: datetime
) -> User | str | Throttled:
    with world.arc.transaction() as session:
        outcome = attempt_login(session, username, password, ip, now=now)
        if isinstance(outcome, User):
            session.expunge(outcome)
        return outcome


def _spray(world: World, ip: str, count: int, now: datetime) -> None:
    """``count`` wrong guesses at as many names (so no single name is locked)."""
    for n in range(count):
        assert _try(world, f"guess{n}", "wrong password", ip, now) == WRONG


def _failed(world: World, ip: str, count: int, at: datetime) -> None:
    """``count`` failed attempts from ``ip`` at ``at``, as the log of attempts keeps them."""
    with world.arc.transaction() as session:
        for n in range(count):
            session.add(LoginAttempt(username=f"guess{n}", ip=ip, ok=False, at=at))


def test_an_address_is_slowed_down_and_a_right_password_elsewhere_is_not(world: World) -> None:
    give_password(world, "wang", PASSWORD)
    now = utcnow()
    _spray(world, ATTACKER, FREE_FAILURES_PER_ADDRESS, now)
    held = _try(world, "wang", PASSWORD, ATTACKER, now)
    assert isinstance(held, Throttled)  # even the right password waits: no oracle
    assert held.retry_after >= 1
    assert isinstance(_try(world, "wang", PASSWORD, OFFICE, now), User)  # another address
    # Once the wait has passed, the right password from the slowed address succeeds.
    later = now + timedelta(seconds=held.retry_after)
    assert isinstance(_try(world, "wang", PASSWORD, ATTACKER, later), User)


def test_the_delays_grow_and_stop_at_the_cap(world: World) -> None:
    give_password(world, "wang", PASSWORD)
    now = utcnow()
    _spray(world, ATTACKER, FREE_FAILURES_PER_ADDRESS, now)
    cap = int(MAX_ADDRESS_DELAY.total_seconds())
    waits: list[int] = []
    while not waits or waits[-1] < cap:
        held = _try(world, "wang", "wrong", ATTACKER, now)
        assert isinstance(held, Throttled)
        waits.append(held.retry_after)
        now += timedelta(seconds=held.retry_after)
        # an attempt after its wait is checked (and this one fails, under another name)
        assert _try(world, f"late{len(waits)}", "wrong password", ATTACKER, now) == WRONG
    assert waits[:4] == [1, 2, 4, 8]  # doubling
    assert all(b == min(2 * a, cap) for a, b in itertools.pairwise(waits))
    held = _try(world, "wang", PASSWORD, ATTACKER, now)
    assert held == Throttled(cap)  # and no further
    # After all that, the right password after the capped wait still gets in.
    now += timedelta(seconds=held.retry_after)
    assert isinstance(_try(world, "wang", PASSWORD, ATTACKER, now), User)


def test_hammering_while_held_neither_checks_a_password_nor_extends_the_wait(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    give_password(world, "wang", PASSWORD)
    now = utcnow()
    _failed(world, ATTACKER, FREE_FAILURES_PER_ADDRESS + 3, now)  # a wait of 8 seconds
    verified: list[object] = []
    real = PasswordHasher.verify
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, h, p: verified.append(h) or real(self, h, p)
    )
    for second in range(8):
        held = _try(world, "wang", PASSWORD, ATTACKER, now + timedelta(seconds=second))
        assert held == Throttled(8 - second)
    assert verified == []  # no password was checked while the address waited
    assert isinstance(_try(world, "wang", PASSWORD, ATTACKER, now + timedelta(seconds=8)), User)
    with world.arc.sessions() as session:
        attempts = session.query(LoginAttempt).filter(LoginAttempt.ip == ATTACKER).count()
        throttled = session.query(AuditEvent).filter(AuditEvent.action == "login.throttled")
        assert attempts == FREE_FAILURES_PER_ADDRESS + 3 + 1  # the held ones are not counted
        assert throttled.count() == 8


def test_refusals_nobody_checked_put_a_bounded_number_of_lines_on_the_trail(
    world: World,
) -> None:
    """Anyone can send sign-ins that are refused unchecked (a held address, a locked name):
    each is still refused, but at most ten such lines per address in ten minutes reach the
    hash-chained trail, which an unsigned-in sender could otherwise grow at will."""
    now = utcnow()
    _failed(world, ATTACKER, FREE_FAILURES_PER_ADDRESS + 8, now)  # held for minutes
    for n in range(REFUSAL_NOTES_PER_ADDRESS + 15):
        assert isinstance(_try(world, f"name{n}", "x", ATTACKER, now), Throttled)
    for _ in range(MAX_FAILURES_PER_USER):
        _try(world, "wang", "wrong", OFFICE, now)
    for _ in range(REFUSAL_NOTES_PER_ADDRESS + 5):
        assert _try(world, "wang", "wrong", OFFICE, now) == LOCKED
    with world.arc.sessions() as session:
        noted = {
            ip: session.query(AuditEvent)
            .filter(AuditEvent.action.in_(("login.throttled", "login.locked")), AuditEvent.ip == ip)
            .count()
            for ip in (ATTACKER, OFFICE)
        }
    assert noted == {ATTACKER: REFUSAL_NOTES_PER_ADDRESS, OFFICE: REFUSAL_NOTES_PER_ADDRESS}


def test_old_failures_stop_counting(world: World) -> None:
    give_password(world, "wang", PASSWORD)
    _failed(world, ATTACKER, 3 * FREE_FAILURES_PER_ADDRESS, utcnow() - timedelta(minutes=16))
    assert isinstance(_try(world, "wang", PASSWORD, ATTACKER, utcnow()), User)


def test_the_per_name_lock_out_stays(world: World) -> None:
    give_password(world, "wang", PASSWORD)
    now = utcnow()
    for n in range(5):  # from five addresses: the slow-down per address never starts
        assert _try(world, "wang", "wrong", f"192.0.2.{n}", now) == WRONG
    assert _try(world, "wang", PASSWORD, OFFICE, now) == LOCKED


def test_the_sign_in_page_answers_429_with_retry_after(world: World) -> None:
    give_password(world, "wang", PASSWORD)
    _failed(world, ATTACKER, FREE_FAILURES_PER_ADDRESS, utcnow())  # the address failed just now

    def post(ip: str) -> tuple[int, str | None, str]:
        browser = world.app.test_client()
        page = browser.get("/login", base_url=BASE, environ_overrides={"REMOTE_ADDR": ip})
        response = browser.post(
            "/login",
            data={"username": "wang", "password": PASSWORD, "csrf_token": csrf_token(page.data)},
            base_url=BASE,
            headers=SAME_SITE,
            environ_overrides={"REMOTE_ADDR": ip},
        )
        return response.status_code, response.headers.get("Retry-After"), response.text

    status, retry_after, page = post(ATTACKER)
    assert status == 429
    assert retry_after is not None
    assert 1 <= int(retry_after) <= MAX_ADDRESS_DELAY.total_seconds()
    assert "秒后再试" in page  # the page says how long, in Chinese by default
    assert post(OFFICE)[0] == 302  # the right password from elsewhere: signed in

    with world.arc.transaction() as session:  # the same failures, long enough ago
        for attempt in session.query(LoginAttempt).filter(LoginAttempt.ip == ATTACKER):
            attempt.at = utcnow() - timedelta(minutes=10)
    assert post(ATTACKER)[0] == 302
