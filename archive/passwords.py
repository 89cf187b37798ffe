"""Passwords: how they are kept (Argon2), checked (in constant work whether or not the
name exists), judged too easy to guess, and made for someone (a one-time password)."""

from __future__ import annotations

import functools
import itertools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from archive.models import User

_hasher = PasswordHasher()
#: What a one-time password is written with: no 0/O, 1/l/I, which a person copies wrongly.
_PLAIN = "23456789abcdefghjkmnpqrstuvwxyz"


def password_hash(password: str) -> str:
    """The Argon2 hash to keep (the caller has checked the password is long enough)."""
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, made by the same hasher (so with the same cost) as every
    stored one, for sign-ins that have no hash to check (made once, on first need)."""
    return _hasher.hash(secrets.token_urlsafe(24))


def check_password(user: User | None, password: str) -> bool:
    """Whether ``user`` may sign in with ``password``. Exactly one hash is verified whatever
    the case: a missing user, a user without a password and a blocked user are checked
    against a dummy hash of the same cost, so the time taken says nothing about the name."""
    stored = user.password_hash if user is not None else None
    matched: bool
    try:
        matched = _hasher.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        matched = False
    return bool(matched and stored and user is not None and user.active)


#: Passwords anyone tries first (their 12-character forms): refused whatever their length.
_COMMON = frozenset(
    {
        "password1234",
        "passwordpassword",
        "qwertyuiop12",
        "1qaz2wsx3edc",
        "abcd1234abcd",
        "woaini13141314",  # 我爱你一生一世, the 12-character rule satisfied
    }
)


def weak_password(password: str, username: str = "") -> bool:
    """Whether a password of the required length is still easy to guess: too few different
    characters (``111111111111``), one run up or down (``123456789012``, ``abcdefghijkl``),
    a common one, or the user name inside it. Length is checked by the caller."""
    folded = password.casefold()
    if len(set(folded)) < 5 or folded in _COMMON:
        return True
    if username and len(username) >= 3 and username.casefold() in folded:
        return True
    steps = {
        (ord(b) - ord(a)) % 10 if a.isdigit() and b.isdigit() else ord(b) - ord(a)
        for a, b in itertools.pairwise(folded)
    }
    return steps <= {1} or steps <= {-1} or steps <= {9}


def one_time_password() -> str:
    """A password nobody chose, for a reset or a new account: shown once, replaced by its
    owner at the first sign-in. Four groups of four from an alphabet without look-alikes
    (``k7m2-p9x4-…``, about 79 bits), so it survives being read out or written down."""
    groups = ("".join(secrets.choice(_PLAIN) for _ in range(4)) for _ in range(4))
    return "-".join(groups)
