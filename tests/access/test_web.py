"""Web sign-in: session cookies, CSRF on every form, lock-out after repeated failures."""

from __future__ import annotations

import re
import uuid

from flask.testing import FlaskClient
from sqlalchemy import select

from archive.audit import Actor
from archive.models import AccessEvent, AuditEvent, User
from archive.people import issue_token, set_password
from tests.access.conftest import World

BASE = "https://archive.example"  # the session cookie is Secure
# Over HTTPS Flask-WTF also checks that a form was posted from this site, as browsers say.
SAME_SITE = {"Referer": BASE + "/login"}


def client(world: World) -> FlaskClient:
    return world.app.test_client()


def csrf_token(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        rb'name="csrf_token" value="([^"]+)"', page
    )
    assert found, page
    return found.group(1).decode()


def give_password(world: World, username: str, password: str) -> None:
    """Set the password, and issue the API token again: setting one ends the old tokens."""
    with world.arc.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        set_password(session, Actor.cli(), user, password)
        world.tokens[username] = issue_token(session, Actor.cli(), user)


def login(browser: FlaskClient, username: str, password: str) -> int:
    token = csrf_token(browser.get("/login", base_url=BASE).data)
    response = browser.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        base_url=BASE,
        headers=SAME_SITE,
    )
    return response.status_code


def test_sign_in_read_through_the_web_reader_and_sign_out(world: World) -> None:
    give_password(world, "wang", "correct horse battery")
    browser = client(world)
    assert browser.get("/", base_url=BASE).status_code == 302  # to the login page
    assert login(browser, "wang", "correct horse battery") == 302
    cookie = browser.get_cookie("session", domain="archive.example")
    assert cookie is not None
    assert cookie.secure
    assert cookie.http_only
    home = browser.get("/", base_url=BASE)
    assert "用户wang".encode() in home.data
    page = browser.get(f"/versions/{world.versions['CG-internal']}/content", base_url=BASE)
    assert page.status_code == 200
    assert "正文 CG-internal".encode() in page.data
    assert "用户wang".encode() in page.data  # the viewer's stamp
    # Signing out is a form too: without its CSRF token, or from another site, refused.
    token = csrf_token(home.data)
    assert browser.post("/logout", base_url=BASE, headers=SAME_SITE).status_code == 400
    assert browser.post("/logout", data={"csrf_token": token}, base_url=BASE).status_code == 400
    signed_out = browser.post(
        "/logout", data={"csrf_token": token}, base_url=BASE, headers=SAME_SITE
    )
    assert signed_out.status_code == 302
    assert "您已退出" in browser.get("/login", base_url=BASE).get_data(as_text=True)
    assert browser.get("/", base_url=BASE).status_code == 302
    with world.arc.sessions() as session:
        assert (
            session.scalar(select(AccessEvent.username).order_by(AccessEvent.seq.desc())) == "wang"
        )


def test_a_login_post_without_the_csrf_token_is_refused(world: World) -> None:
    give_password(world, "wang", "correct horse battery")
    response = client(world).post(
        "/login",
        data={"username": "wang", "password": "correct horse battery"},
        base_url=BASE,
        headers=SAME_SITE,
    )
    assert response.status_code == 400


def test_repeated_failures_lock_the_name_out_even_with_the_right_password(world: World) -> None:
    give_password(world, "wang", "correct horse battery")
    browser = client(world)
    assert [login(browser, "wang", f"guess {n}") for n in range(5)] == [401] * 5
    assert login(browser, "wang", "correct horse battery") == 429
    # An unknown name fails exactly like a wrong password: nothing to learn from it.
    assert login(browser, "nobody", "whatever") == 401
    with world.arc.sessions() as session:
        actions = list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("login%")))
        )
    assert actions.count("login.failed") == 6
    assert actions.count("login.locked") == 1
    assert "login" not in actions


def test_the_api_needs_no_csrf_token_but_a_bearer_token(world: World) -> None:
    response = world.call(
        "POST",
        "zhang",
        "/api/v1/access-requests",
        json={
            "record_id": str(world.records["CG-internal"]),
            "purpose": "核对",
            "scope": "view",
            "days": 1,
        },
    )
    assert response.status_code == 201


def test_a_refused_read_says_why_in_chinese_and_where_to_ask(world: World) -> None:
    give_password(world, "zhang", "correct horse battery")
    browser = client(world)
    assert login(browser, "zhang", "correct horse battery") == 302
    known = world.records["CG-internal"]
    page = browser.get(f"/versions/{world.versions['CG-internal']}/content", base_url=BASE)
    assert page.status_code == 403
    assert "无此档案的查阅授权".encode() in page.data
    assert b"no grant" not in page.data
    assert f'href="/records/{known}#ask"'.encode() in page.data
    # Beyond the caller's view: the same answer as a version that does not exist, no link.
    beyond = world.versions["XS-restricted"]
    hidden = browser.get(f"/versions/{beyond}/content", base_url=BASE)
    missing = browser.get(f"/versions/{uuid.uuid4()}/content", base_url=BASE)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.data.replace(str(beyond).encode(), b"") == missing.data.replace(
        str(missing.request.path.split("/")[2]).encode(), b""
    )
    assert str(world.records["XS-restricted"]).encode() not in hidden.data
    assert b"#ask" not in hidden.data
    assert "无此版本".encode() in hidden.data


def test_every_page_names_its_icon_and_the_icon_is_served_to_anyone(world: World) -> None:
    browser = client(world)
    page = browser.get("/login", base_url=BASE).get_data(as_text=True)
    icon = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', page)
    assert icon, "no icon named on the sign-in page"
    served = browser.get(icon[1], base_url=BASE)
    try:
        assert served.status_code == 200
        assert served.mimetype == "image/svg+xml"
        assert b"<svg" in served.get_data()
    finally:
        served.close()  # a static file is sent from an open file


def test_the_language_chosen_before_signing_in_stays_after(world: World) -> None:
    """A fresh session at sign-in (no fixation), but the person's language choice stays."""
    give_password(world, "wang", "correct horse battery")
    browser = client(world)
    assert browser.get("/language/en?next=/login", base_url=BASE).status_code == 302
    assert 'lang="en"' in browser.get("/login", base_url=BASE).get_data(as_text=True)
    assert login(browser, "wang", "correct horse battery") == 302
    home = browser.get("/", base_url=BASE)
    assert 'lang="en"' in home.get_data(as_text=True)
