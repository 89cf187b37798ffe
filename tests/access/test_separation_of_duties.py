"""三员分立 through the web: an administrator alone cannot make anyone a reader of
restricted or confidential records, nor take over the account of someone who is one. Each
attack is what an administrator did on the first version (issue 18 §6): it must end with
nothing read."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from archive.audit import Actor, record_event
from archive.models import Role, User
from tests.access.conftest import World
from tests.access.test_web import BASE, SAME_SITE, csrf_token, give_password, login
from tests.access.test_web_pages import Browser

PASSWORD = "correct horse battery"
CHOSEN = "the administrator's own choice"


def admin(world: World, username: str = "wu") -> tuple[FlaskClient, str]:
    give_password(world, username, PASSWORD)
    browser = world.app.test_client()
    assert login(browser, username, PASSWORD) == 302
    return browser, csrf_token(browser.get("/admin/users", base_url=BASE).data)


def post(browser: FlaskClient, token: str, data: dict[str, str], path: str = "/admin/users") -> int:
    response = browser.post(
        path, data={**data, "csrf_token": token}, base_url=BASE, headers=SAME_SITE
    )
    return response.status_code


def reads(world: World, username: str, password: str, key: str) -> bool:
    """Whether ``username`` signs in with ``password`` and reads the record ``key``."""
    browser = world.app.test_client()
    if login(browser, username, password) != 302:
        return False
    version = world.versions[key]
    page = browser.get(f"/versions/{version}/content?action=view", base_url=BASE)
    return page.status_code == 200 and f"正文 {key}".encode() in page.data


def test_an_administrator_alone_cannot_make_a_director_and_read_a_contract(
    world: World,
) -> None:
    wu, token = admin(world)
    for password in (CHOSEN, ""):  # with a password of their choosing, or without
        post(
            wu,
            token,
            {
                "username": "liu",
                "display_name": "刘总",
                "role": "director",
                "department": "XS",
                "clearance": "restricted",
                "password": password,
                "confirm_password": PASSWORD,
            },
        )
    assert not reads(world, "liu", CHOSEN, "XS-restricted")
    with world.arc.sessions() as db:
        assert db.scalar(select(User).where(User.username == "liu")) is None


def test_an_administrator_alone_cannot_reset_a_directors_password(world: World) -> None:
    wu, token = admin(world)
    post(
        wu,
        token,
        {
            "username_existing": "qian",
            "role": "director",
            "department": "CG",
            "clearance": "confidential",
            "active": "on",
            "password": CHOSEN,
            "confirm_password": PASSWORD,
        },
    )
    assert not reads(world, "qian", CHOSEN, "XS-restricted")


def test_an_administrator_alone_cannot_promote_or_clear_someone_whose_password_they_set(
    world: World,
) -> None:
    """zhang is a specialist: setting a password is the administrator's to do alone, but the
    promotion and the higher clearance are not, so the password opens nothing more."""
    wu, token = admin(world)
    base = {"username_existing": "zhang", "department": "CG", "active": "on"}
    post(wu, token, {**base, "role": "specialist", "clearance": "internal", "password": CHOSEN})
    post(
        wu,
        token,
        {**base, "role": "supervisor", "clearance": "confidential", "confirm_password": PASSWORD},
    )
    post(wu, token, {**base, "role": "director", "confirm_password": PASSWORD})
    assert not reads(world, "zhang", CHOSEN, "CG-confidential")
    assert not reads(world, "zhang", CHOSEN, "XS-restricted")
    with world.arc.sessions() as db:
        zhang = db.scalar(select(User).where(User.username == "zhang"))
        assert zhang is not None
        assert zhang.role == Role.SPECIALIST


def signed_in(world: World, username: str) -> tuple[FlaskClient, str]:
    give_password(world, username, PASSWORD)
    browser = world.app.test_client()
    assert login(browser, username, PASSWORD) == 302
    return browser, csrf_token(browser.get("/", base_url=BASE).data)


def waiting(browser: FlaskClient) -> list[str]:
    """The ids of the changes this browser's page offers to approve."""
    page = browser.get("/admin/privileges", base_url=BASE).get_data(as_text=True)
    return re.findall(r"/admin/privileges/(\d+)/approve", page)


def one_time_password(page: str) -> str:
    found = re.search(r'class="mono otp"><strong>([^<]+)</strong>', page)
    assert found, page[-800:]
    return found[1]


def test_a_security_administrator_approves_and_only_then_it_takes_effect(world: World) -> None:
    wu, token = admin(world)
    new_director = {
        "username": "liu",
        "display_name": "刘总",
        "role": "director",
        "department": "XS",
        "clearance": "restricted",
        "confirm_password": PASSWORD,
    }
    assert post(wu, token, new_director) == 302
    assert "已送审" in wu.get("/admin/users", base_url=BASE).get_data(as_text=True)
    assert waiting(wu) == []  # the requester sees it, with a cancel button only
    assert "刘总" in wu.get("/admin/privileges", base_url=BASE).get_data(as_text=True)
    assert post(wu, token, {"confirm_password": PASSWORD}, "/admin/privileges/1/approve") == 403

    zhou, zhou_token = signed_in(world, "zhou")  # the auditor reads, never decides
    assert "刘总" in zhou.get("/admin/privileges", base_url=BASE).get_data(as_text=True)
    assert post(zhou, zhou_token, {}, "/admin/privileges/1/approve") == 403

    zheng, zheng_token = signed_in(world, "zheng")
    (change,) = waiting(zheng)
    path = f"/admin/privileges/{change}/approve"
    assert post(zheng, zheng_token, {}, path) == 403  # the password again
    assert not reads(world, "liu", PASSWORD, "XS-restricted")
    approved = zheng.post(
        path,
        data={"confirm_password": PASSWORD, "csrf_token": zheng_token},
        base_url=BASE,
        headers=SAME_SITE,
    )
    assert approved.status_code == 200
    assert approved.headers["Cache-Control"] == "no-store"
    password = one_time_password(approved.get_data(as_text=True))

    # liu signs in with it, must choose a password first, then reads contracts.
    liu = world.app.test_client()
    assert login(liu, "liu", password) == 302
    version = world.versions["XS-restricted"]
    gated = liu.get(f"/versions/{version}/content?action=view", base_url=BASE)
    assert gated.status_code == 302
    assert gated.headers["Location"].endswith("/account/password")
    liu_token = csrf_token(liu.get("/account/password", base_url=BASE).data)
    own = "刘总自己的新密码 2026"
    answer = {"confirm_password": password, "new_password": own, "new_password_again": own}
    assert (
        post(liu, liu_token, {**answer, "new_password_again": "x" * 14}, "/account/password") == 400
    )
    assert post(liu, liu_token, answer, "/account/password") == 302
    assert liu.get(f"/versions/{version}/content?action=view", base_url=BASE).status_code == 200
    assert reads(world, "liu", own, "XS-restricted")

    # Both steps, and the administrator's own actions, are in what the auditor reads.
    changes = zhou.get("/admin/changes", base_url=BASE).get_data(as_text=True)
    for action in ("privilege.requested", "privilege.approved", "user.created", "login"):
        assert action in changes
    assert password not in changes
    assert own not in changes
    mine = zhou.get("/admin/changes?actor=wu", base_url=BASE).get_data(as_text=True)
    assert "privilege.requested" in mine
    assert "privilege.approved" not in mine  # zheng's


def test_neither_the_requester_nor_the_target_approves(world: World) -> None:
    world.add_user("feng", Role.SECURITY_ADMIN)
    wu, token = admin(world)
    reset = {
        "username_existing": "zheng",
        "role": "security_admin",
        "department": "CG",
        "clearance": "confidential",
        "active": "on",
        "reset_password": "on",
        "confirm_password": PASSWORD,
    }
    assert post(wu, token, reset) == 302
    zheng, zheng_token = signed_in(world, "zheng")
    assert waiting(zheng) == []  # no approve button on a change to oneself
    (change,) = waiting(signed_in(world, "feng")[0])
    refused = zheng.post(
        f"/admin/privileges/{change}/approve",
        data={"confirm_password": PASSWORD, "csrf_token": zheng_token},
        base_url=BASE,
        headers=SAME_SITE,
    )
    assert refused.status_code == 403
    assert "任何人都不能审批针对自己账号的变更" in refused.get_data(as_text=True)
    feng, feng_token = signed_in(world, "feng")
    rejected = feng.post(
        f"/admin/privileges/{change}/reject",
        data={"reason": "", "csrf_token": feng_token},
        base_url=BASE,
        headers=SAME_SITE,
    )
    assert rejected.status_code == 400
    assert "驳回须填写理由" in rejected.get_data(as_text=True)
    reason = {"reason": "本人未提出申请"}
    assert post(feng, feng_token, reason, f"/admin/privileges/{change}/reject") == 302
    page = wu.get("/admin/privileges", base_url=BASE).get_data(as_text=True)
    assert "本人未提出申请" in page
    assert "已驳回" in page
    assert login(world.app.test_client(), "zheng", PASSWORD) == 302  # nothing changed


def test_a_refused_form_comes_back_with_the_reason_and_what_was_typed(world: World) -> None:
    wu, token = admin(world)
    page = wu.post(
        "/admin/users",
        data={
            "username": "liu",
            "display_name": "刘总",
            "role": "director",
            "department": "XS",
            "clearance": "restricted",
            "password": CHOSEN,
            "confirm_password": PASSWORD,
            "csrf_token": token,
        },
        base_url=BASE,
        headers=SAME_SITE,
    )
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "特权账号在审批通过时获得一次性密码" in text
    assert 'value="liu"' in text
    assert 'value="刘总"' in text
    assert CHOSEN not in text


def test_demoting_resetting_and_promoting_again_leaves_the_administrator_nothing(
    world: World,
) -> None:
    """Taking rights away is immediate, and so is a specialist's password; but the way back
    is approved, and it comes with a one-time password the administrator never sees."""
    wu, token = admin(world)
    base = {"username_existing": "qian", "department": "CG", "active": "on"}
    demoted = {**base, "role": "specialist", "clearance": "internal"}
    assert post(wu, token, {**demoted, "password": CHOSEN}) == 400  # a director's, still
    assert post(wu, token, demoted) == 302
    assert post(wu, token, {**demoted, "password": CHOSEN}) == 302
    promote = {**base, "role": "director", "clearance": "confidential"}
    assert post(wu, token, {**promote, "confirm_password": PASSWORD}) == 302
    zheng, zheng_token = signed_in(world, "zheng")
    (change,) = waiting(zheng)
    path = f"/admin/privileges/{change}/approve"
    assert post(zheng, zheng_token, {"confirm_password": PASSWORD}, path) == 200
    with world.arc.sessions() as db:
        qian = db.scalar(select(User).where(User.username == "qian"))
        assert qian is not None
        assert qian.role == Role.DIRECTOR
    assert not reads(world, "qian", CHOSEN, "XS-restricted")


def test_an_administrator_alone_cannot_move_a_head_into_another_department(
    world: World,
) -> None:
    """A move with a privileged role change asked beside it: the move waits with the role (a
    head decides for the department they are in), and cancelling leaves nothing moved."""
    wu, token = admin(world)
    for role in ("records_manager", "supervisor"):
        post(
            wu,
            token,
            {
                "username_existing": "wang", "role": role, "department": "XS",
                "clearance": "confidential", "active": "on", "confirm_password": PASSWORD,
            },
        )  # fmt: skip
        with world.arc.sessions() as db:
            wang = db.scalars(select(User).where(User.username == "wang")).one()
            assert (wang.role, wang.department.code if wang.department else None) == (
                Role.SUPERVISOR,
                "CG",
            ), role
        for change in re.findall(
            r"/admin/privileges/(\d+)/cancel",
            wu.get("/admin/privileges", base_url=BASE).get_data(as_text=True),
        ):
            post(wu, token, {}, f"/admin/privileges/{change}/cancel")
    assert not reads(world, "wang", PASSWORD, "XS-confidential")


def test_administrators_search_and_read_nothing_through_the_api_either(world: World) -> None:
    record, version = world.records["CG-internal"], world.versions["CG-internal"]
    for who in ("wu", "zheng"):
        # A record is beyond them as if it did not exist, and the refusal is logged.
        assert world.call("GET", who, f"/api/v1/records/{record}").status_code == 404
        assert world.call("GET", who, f"/api/v1/versions/{version}/content").status_code == 404
        for method, path, body in (
            ("GET", "/api/v1/search?q=正文", None),
            ("GET", "/api/v1/grants", None),
            ("GET", "/api/v1/access-requests", None),
            ("POST", "/api/v1/access-requests",
             {"record_id": str(record), "purpose": "核对", "scope": "view", "days": 1}),
        ):  # fmt: skip
            answer = world.call(method, who, path, json=body)
            assert answer.status_code == 403, (who, path, answer.status_code)
            assert "reads no records" in answer.json["error"]  # type: ignore[index]


def test_the_administrators_page_leaves_the_consoles_work_on_records_to_the_auditor(
    world: World,
) -> None:
    """The console reclassified a record (its 密级 before and after) and imported packages
    (file names, digests): that showed on /admin/changes to 系统管理员 and 安全保密管理员."""
    with world.arc.transaction() as session:
        record_event(
            session, Actor.cli(), "record.reclassified", "record",
            world.records["XS-restricted"], {"sensitivity": {"from": "restricted", "to": "public"}},
        )  # fmt: skip
        record_event(session, Actor.cli(), "keys.rotated", "keyring", "k2", {"rewrapped": 8})
    for who, sees_records in (("wu", False), ("zheng", False), ("zhou", True)):
        page = Browser(world, who).text("/admin/changes")
        assert ("record.reclassified" in page) is sees_records, who
        assert "keys.rotated" in page, who  # the console's work on keys stays in view
