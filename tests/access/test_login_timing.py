"""Sign-in costs one password-hash verification whoever asks: an unknown name, a user without
a password or a blocked user is checked against a dummy hash of the same cost, so a name
cannot be told to exist by how long the answer takes.

Deterministic rather than timed: the real ``PasswordHasher.verify`` is wrapped and counted.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from access.login import WRONG, attempt_login
from archive.audit import Actor
from archive.models import User
from archive.people import set_active
from tests.access.conftest import World
from tests.access.test_web import give_password, login

PASSWORD = "correct horse battery"


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes the real verifier is asked to check, in order."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def spy(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        calls.append(hash if isinstance(hash, str) else hash.decode())
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    return calls


def _parameters(encoded: str) -> str:
    """``$argon2id$v=19$m=65536,t=3,p=4`` of an encoded hash: what its verification costs."""
    return "$".join(encoded.split("$")[:4])


def test_unknown_names_and_wrong_passwords_cost_one_verification_each(
    world: World, verified: list[str]
) -> None:
    give_password(world, "wang", PASSWORD)
    give_password(world, "li", PASSWORD)
    with world.arc.transaction() as session:
        li = session.scalars(select(User).where(User.username == "li")).one()
        set_active(session, Actor.cli(), li, False)
        real_hash = session.scalars(select(User.password_hash).where(User.username == "wang")).one()
    assert real_hash
    cases = {
        "unknown name": ("nobody", PASSWORD),
        "no password": ("zhao", PASSWORD),  # created without one
        "blocked user": ("li", PASSWORD),
        "wrong password": ("wang", "wrong password"),
        "right password": ("wang", PASSWORD),
    }
    for number, (case, (username, password)) in enumerate(cases.items()):
        verified.clear()
        with world.arc.transaction() as session:
            outcome = attempt_login(session, username, password, f"10.0.0.{number}")
        assert verified, f"{case}: no hash was verified"
        assert len(verified) == 1, f"{case}: {len(verified)} verifications"
        assert _parameters(verified[0]) == _parameters(real_hash), case  # the same cost
        if case == "right password":
            assert isinstance(outcome, User)
        else:
            assert outcome == WRONG, case


def test_the_sign_in_page_verifies_once_for_an_unknown_name(
    world: World, verified: list[str]
) -> None:
    give_password(world, "wang", PASSWORD)
    browser = world.app.test_client()
    assert login(browser, "nobody", PASSWORD) == 401
    assert len(verified) == 1
    assert login(browser, "wang", "wrong password") == 401
    assert len(verified) == 2
