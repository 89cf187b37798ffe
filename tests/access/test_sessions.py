"""Sessions end when they should, on the server: a copied session cookie stops working at
sign-out, a password reset, a role, department or clearance change, a deactivation (and
stays dead after re-activation) and an incident freeze; API tokens end with the same
changes; idle and absolute lifetimes end a session that nobody signed out."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from access.incident import freeze_user
from archive.audit import Actor
from archive.db import utcnow
from archive.models import ApiToken, Role, Sensitivity, User
from archive.people import change_user, find_department, find_user, set_active, set_password
from tests.access.conftest import World
from tests.access.test_web import BASE, SAME_SITE, client, csrf_token, give_password, login

PASSWORD = "correct horse battery"


def signed_in(world: World, username: str) -> tuple[FlaskClient, FlaskClient]:
    """A signed-in browser and a thief's browser holding a copy of its session cookie."""
    browser = client(world)
    assert login(browser, username, PASSWORD) == 302
    cookie = browser.get_cookie("session", domain="archive.example")
    assert cookie is not None
    thief = client(world)
    thief.set_cookie("session", cookie.value, domain="archive.example", secure=True)
    assert thief.get("/requests", base_url=BASE).status_code == 200
    return browser, thief


def out(browser: FlaskClient) -> bool:
    response = browser.get("/requests", base_url=BASE)
    return response.status_code == 302 and "/login" in response.headers["Location"]


def api(world: World, username: str) -> int:
    return world.call("GET", username, "/api/v1/grants").status_code


def test_a_copied_cookie_dies_with_sign_out(world: World) -> None:
    give_password(world, "zhang", PASSWORD)
    browser, thief = signed_in(world, "zhang")
    token = csrf_token(browser.get("/", base_url=BASE).data)
    response = browser.post("/logout", data={"csrf_token": token}, base_url=BASE, headers=SAME_SITE)
    assert response.status_code == 302
    assert out(thief)
    assert out(browser)
    assert api(world, "zhang") == 200  # signing out of a browser leaves scripts' tokens
    assert login(browser, "zhang", PASSWORD) == 302  # and a new sign-in works
    assert not out(browser)


CHANGES = {
    "password reset": lambda s, u: set_password(s, Actor.cli(), u, "another long password"),
    "role": lambda s, u: change_user(s, Actor.cli(), u, role=Role.SUPERVISOR),
    "department": lambda s, u: change_user(s, Actor.cli(), u, department=find_department(s, "XS")),
    "clearance": lambda s, u: change_user(s, Actor.cli(), u, clearance=Sensitivity.PUBLIC),
    "deactivation": lambda s, u: set_active(s, Actor.cli(), u, False),
    "freeze": lambda s, u: freeze_user(s, Actor("security", None), u, "INC-7"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_to_the_person_ends_every_session_and_token(world: World, change: str) -> None:
    give_password(world, "zhang", PASSWORD)
    browser, thief = signed_in(world, "zhang")
    assert api(world, "zhang") == 200
    with world.arc.transaction() as session:
        CHANGES[change](session, find_user(session, "zhang"))
    assert out(thief)
    assert out(browser)
    assert api(world, "zhang") == 401
    if change in ("deactivation", "freeze"):  # and re-enabling brings none of them back
        with world.arc.transaction() as session:
            set_active(session, Actor.cli(), find_user(session, "zhang"), True)
        assert out(thief)
        assert api(world, "zhang") == 401


def test_an_unchanged_setting_ends_nothing(world: World) -> None:
    give_password(world, "zhang", PASSWORD)
    browser, _thief = signed_in(world, "zhang")
    with world.arc.transaction() as session:
        change_user(session, Actor.cli(), find_user(session, "zhang"), role=Role.SPECIALIST)
    assert not out(browser)
    assert api(world, "zhang") == 200


@pytest.mark.parametrize(
    ("clock", "seconds_ago", "ended"),
    [
        ("seen_at", 29 * 60, False),
        ("seen_at", 31 * 60, True),  # idle for longer than ARCHIVE_SESSION_IDLE_MINUTES
        ("signed_in_at", 11 * 3600, False),
        ("signed_in_at", 13 * 3600, True),  # older than ARCHIVE_SESSION_MAX_HOURS
    ],
)
def test_idle_and_absolute_lifetimes(
    world: World, clock: str, seconds_ago: int, ended: bool
) -> None:
    give_password(world, "zhang", PASSWORD)
    browser, _thief = signed_in(world, "zhang")
    with browser.session_transaction(base_url=BASE) as cookie:
        cookie[clock] = int(time.time()) - seconds_ago
    assert out(browser) == ended


def test_an_api_token_ends_when_its_days_are_over(world: World) -> None:
    """A bearer token can be copied: like a session, it has an end (ARCHIVE_TOKEN_DAYS), and
    a token that has ended is refused as one that never existed."""
    with world.arc.transaction() as session:
        token = session.scalar(select(ApiToken).join(ApiToken.user).where(User.username == "zhang"))
        assert token is not None
        lifetime = token.expires_at - token.created_at
        assert timedelta(days=89) < lifetime <= timedelta(days=90, seconds=1)
    assert api(world, "zhang") == 200
    with world.arc.transaction() as session:
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    ended = world.call("GET", "zhang", "/api/v1/grants")
    assert ended.status_code == 401
    unknown = world.app.test_client().get(
        "/api/v1/grants", headers={"Authorization": "Bearer arc_" + "x" * 43}
    )
    assert ended.get_json() == unknown.get_json()
