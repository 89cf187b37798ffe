"""The request-and-approve workflow, the green channel, IDOR, and where the log's IP comes from."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from access.requests import escalate_overdue
from archive.audit import SYSTEM, Actor
from archive.db import utcnow
from archive.models import (
    AccessEvent,
    AccessRequest,
    AuditEvent,
    Grant,
    Record,
    Role,
    Sensitivity,
    Version,
)
from archive.people import change_user, find_user, issue_token
from tests.access.conftest import World, make_world
from tests.access.test_web import BASE, give_password, login
from tests.access.test_web_pages import Browser


def ask(world: World, who: str, key: str, scope: str = "view", days: int = 7) -> dict:  # type: ignore[type-arg]
    response = world.call(
        "POST",
        who,
        "/api/v1/access-requests",
        json={
            "record_id": str(world.records[key]),
            "purpose": "核对验收资料",
            "scope": scope,
            "days": days,
            **({"recipient": "上海立信会计师事务所"} if scope == "external" else {}),
        },
    )
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[return-value]


def read(world: World, who: str, key: str, action: str = "view", **kwargs: object) -> int:
    path = f"/api/v1/versions/{world.versions[key]}/content?action={action}"
    return world.call("GET", who, path, **kwargs).status_code


def log_lines(world: World) -> list[AccessEvent]:
    with world.arc.sessions() as session:
        return list(session.scalars(select(AccessEvent).order_by(AccessEvent.seq)))


def test_request_approve_read_within_the_period_and_not_after(world: World) -> None:
    assert read(world, "zhang", "CG-internal") == 403  # a specialist needs a grant
    request = ask(world, "zhang", "CG-internal", days=3)
    assert request["approver"] == "head"
    assert request["status"] == "pending"
    # It waits for wang (head of CG), not for another department's director or the auditor.
    waiting = world.call("GET", "wang", "/api/v1/access-requests").json["waiting"]  # type: ignore[index]
    assert [r["id"] for r in waiting] == [request["id"]]
    assert world.call("GET", "zhao", "/api/v1/access-requests").json["waiting"] == []  # type: ignore[index]
    assert (
        world.call("POST", "zhou", f"/api/v1/access-requests/{request['id']}/approve").status_code
        == 404
    )
    approved = world.call("POST", "wang", f"/api/v1/access-requests/{request['id']}/approve")
    assert approved.json["status"] == "approved"  # type: ignore[index]
    assert read(world, "zhang", "CG-internal") == 200
    assert read(world, "zhang", "CG-internal", "download") == 403  # view only
    # The period ends (moved into the past here, as the clock would).
    with world.arc.transaction() as session:
        session.execute(update(Grant).values(valid_until=utcnow() - timedelta(seconds=1)))
    assert read(world, "zhang", "CG-internal") == 403
    lines = log_lines(world)
    assert [(e.username, e.action, e.outcome) for e in lines] == [
        ("zhang", "view", "refused"),
        ("zhang", "view", "allowed"),
        ("zhang", "download", "refused"),
        ("zhang", "view", "refused"),
    ]
    assert all(e.ip == "127.0.0.1" and e.at is not None for e in lines)
    assert lines[1].grant_id is not None
    assert lines[3].reason == "the grant has expired"
    # The 利用 register says what each read under a grant was for.
    exported = world.call("GET", "zhou", "/api/v1/access-log?format=csv")
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    allowed = [r for r in rows if r["用户"] == "zhang" and r["结果"] == "允许"]
    assert [r["利用目的"] for r in allowed] == ["核对验收资料"]
    assert {r["利用目的"] for r in rows if r["结果"] == "已拒绝"} == {""}
    with world.arc.sessions() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"access.request", "access.approve", "grant.create"} <= actions


def test_refusal_needs_a_reason_and_nobody_approves_their_own(world: World) -> None:
    request = ask(world, "zhang", "CG-internal")
    path = f"/api/v1/access-requests/{request['id']}"
    assert world.call("POST", "zhang", path + "/approve").status_code == 403
    assert world.call("POST", "wang", path + "/deny", json={"reason": " "}).status_code == 400
    denied = world.call("POST", "wang", path + "/deny", json={"reason": "与工作无关"})
    assert denied.json["status"] == "denied"  # type: ignore[index]
    assert world.call("POST", "wang", path + "/approve").status_code == 409
    assert read(world, "zhang", "CG-internal") == 403
    # A director's own request for a contract waits for another director.
    own = ask(world, "qian", "XS-restricted", scope="external")
    assert (
        world.call("POST", "qian", f"/api/v1/access-requests/{own['id']}/approve").status_code
        == 403
    )


def test_external_use_needs_the_head_then_a_director(world: World) -> None:
    request = ask(world, "zhang", "CG-internal", scope="external")
    path = f"/api/v1/access-requests/{request['id']}/approve"
    step = world.call("POST", "wang", path).json
    assert (step["status"], step["step"], step["approver"]) == ("pending", 2, "director")  # type: ignore[index]
    assert world.call("POST", "wang", path).status_code == 403  # not twice by the same person
    assert read(world, "zhang", "CG-internal", "external") == 403
    assert world.call("POST", "zhao", path).json["status"] == "approved"  # type: ignore[index]
    assert read(world, "zhang", "CG-internal", "external") == 200
    # The 利用登记 says whom it was given to.
    exported = world.call("GET", "zhou", "/api/v1/access-log?format=csv")
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    given = [r for r in rows if r["操作"] == "对外提供" and r["结果"] == "允许"]
    assert [(r["利用目的"], r["提供对象"]) for r in given] == [
        ("核对验收资料", "上海立信会计师事务所")
    ]
    events = world.call("GET", "zhou", "/api/v1/access-log?action=external").json["events"]  # type: ignore[index]
    allowed = [e for e in events if e["outcome"] == "allowed"]
    assert [(e["purpose"], e["recipient"]) for e in allowed] == [
        ("核对验收资料", "上海立信会计师事务所")
    ]
    assert allowed[0]["reference_code"] == given[0]["档号或名称"] != ""


def test_a_requester_withdraws_a_waiting_request_and_nobody_else_can(world: World) -> None:
    """A request asked by mistake waited for its approver with no way back: its requester
    withdraws it (the approver's inbox no longer shows it, and it can no longer be decided);
    anyone else is told there is no such request, and a decided one stays as decided."""
    request = ask(world, "zhang", "CG-internal")
    path = f"/api/v1/access-requests/{request['id']}"
    for other in ("li", "wang", "zhou"):
        refused = world.call("POST", other, path + "/withdraw")
        assert refused.status_code == 404, other
    done = world.call("POST", "zhang", path + "/withdraw")
    assert (done.status_code, done.json["status"]) == (200, "withdrawn")  # type: ignore[index]
    assert world.call("GET", "wang", "/api/v1/access-requests").json["waiting"] == []  # type: ignore[index]
    assert world.call("POST", "wang", path + "/approve").status_code == 409  # not decided
    assert world.call("POST", "zhang", path + "/withdraw").status_code == 409
    decided = ask(world, "zhang", "CG-internal", scope="download")
    world.call("POST", "wang", f"/api/v1/access-requests/{decided['id']}/approve")
    again = world.call("POST", "zhang", f"/api/v1/access-requests/{decided['id']}/withdraw")
    assert again.status_code == 409
    page = Browser(world, "zhang").text("/requests")
    assert "已撤回" in page
    with world.arc.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    assert actions.count("access.withdrawn") == 1


def test_external_use_names_whom_it_is_given_to(world: World) -> None:
    """对外提供 without a receiving party is refused with the other problems, naming the
    field; a party given for another scope is not kept."""
    asked = {"record_id": str(world.records["CG-internal"]), "purpose": "审计", "days": 3}
    missing = world.call(
        "POST", "zhang", "/api/v1/access-requests", json={**asked, "scope": "external"}
    )
    assert missing.status_code == 400
    assert (missing.json["code"], missing.json["field"]) == ("required", "recipient")  # type: ignore[index]
    blank = world.call(
        "POST",
        "zhang",
        "/api/v1/access-requests",
        json={**asked, "scope": "external", "recipient": " \u200b "},
    )
    assert blank.status_code == 400
    too_long = world.call(
        "POST",
        "zhang",
        "/api/v1/access-requests",
        json={**asked, "scope": "external", "recipient": "所" * 201},
    )
    assert too_long.status_code == 400
    viewing = world.call(
        "POST",
        "zhang",
        "/api/v1/access-requests",
        json={**asked, "scope": "view", "recipient": "某公司"},
    )
    assert viewing.status_code == 201
    assert viewing.json["recipient"] is None  # type: ignore[index]
    given = world.call(
        "POST",
        "zhang",
        "/api/v1/access-requests",
        json={**asked, "scope": "external", "recipient": "  上海  立信 "},
    )
    assert given.status_code == 201
    assert given.json["recipient"] == "上海 立信"  # type: ignore[index]
    waiting = world.call("GET", "wang", "/api/v1/access-requests").json["waiting"]  # type: ignore[index]
    assert {r["recipient"] for r in waiting} == {None, "上海 立信"}


def test_restricted_records_go_to_directors_and_stay_invisible(world: World) -> None:
    # A contract: nobody but directors and grant holders learns it exists.
    for who in ("zhang", "wang", "sun", "zhou", "wu"):
        assert (
            world.call("GET", who, f"/api/v1/records/{world.records['CG-restricted']}").status_code
            == 404
        )
    assert (
        world.call("GET", "zhao", f"/api/v1/records/{world.records['CG-restricted']}").status_code
        == 200
    )
    # Asking for it is asking about something unknown: 404, like a random id.
    response = world.call(
        "POST",
        "zhang",
        "/api/v1/access-requests",
        json={
            "record_id": str(world.records["CG-restricted"]),
            "purpose": "x",
            "scope": "view",
            "days": 1,
        },
    )
    assert response.status_code == 404
    unknown = world.call("GET", "zhang", f"/api/v1/records/{uuid.uuid4()}")
    assert (
        unknown.json
        == world.call("GET", "zhang", f"/api/v1/records/{world.records['CG-restricted']}").json
    )


def test_other_peoples_requests_are_not_found(world: World) -> None:
    request = ask(world, "zhang", "CG-internal")
    for who in ("li", "zhou", "wu", "sun"):
        assert world.call("GET", who, f"/api/v1/access-requests/{request['id']}").status_code == 404
        assert (
            world.call("POST", who, f"/api/v1/access-requests/{request['id']}/approve").status_code
            == 404
        )
    assert world.call("GET", "wang", f"/api/v1/access-requests/{request['id']}").status_code == 200


def test_overdue_requests_escalate_to_the_directors(world: World) -> None:
    request = ask(world, "zhang", "CG-internal")
    with world.arc.transaction() as session:
        session.execute(update(AccessRequest).values(due_at=utcnow() - timedelta(minutes=1)))
        assert escalate_overdue(session, world.arc.settings.access, SYSTEM) == 1
    item = world.call("GET", "zhang", f"/api/v1/access-requests/{request['id']}").json
    assert (item["approver"], item["escalated"]) == ("director", True)  # type: ignore[index]
    assert [
        r["id"] for r in world.call("GET", "zhao", "/api/v1/access-requests").json["waiting"]
    ] == [request["id"]]  # type: ignore[index]
    assert (
        world.call("POST", "zhao", f"/api/v1/access-requests/{request['id']}/approve").status_code
        == 200
    )


def test_green_channel_opens_at_once_and_is_a_violation_until_approved(world: World) -> None:
    body = {
        "record_id": str(world.records["CG-confidential"]),
        "justification": "仓库事故 紧急调阅",
        "hours": 4,
    }
    assert world.call("POST", "zhang", "/api/v1/emergency-access", json=body).status_code == 403
    assert (
        world.call(
            "POST", "wang", "/api/v1/emergency-access", json={**body, "hours": 25}
        ).status_code
        == 400
    )
    assert (
        world.call(
            "POST", "wang", "/api/v1/emergency-access", json={**body, "justification": ""}
        ).status_code
        == 400
    )
    # wang, head of CG, needs a record of another department to have no standing access.
    xs = {**body, "record_id": str(world.records["XS-internal"])}
    opened = world.call("POST", "wang", "/api/v1/emergency-access", json=xs)
    assert opened.status_code == 201
    assert opened.json["emergency"] is True  # type: ignore[index]
    assert read(world, "wang", "XS-internal") == 200
    alerts = world.call("GET", "zhou", "/api/v1/access-alerts").json
    assert alerts["violations"] == []  # type: ignore[index]
    # Nobody approved it within the deadline: a violation for the auditors.
    with world.arc.transaction() as session:
        session.execute(update(AccessRequest).values(due_at=utcnow() - timedelta(minutes=1)))
    violations = world.call("GET", "zhou", "/api/v1/access-alerts").json["violations"]  # type: ignore[index]
    assert [v["emergency"] for v in violations] == [True]
    # The director sees it waiting and approves it afterwards.
    assert [
        r["emergency"] for r in world.call("GET", "zhao", "/api/v1/access-requests").json["waiting"]
    ] == [True]  # type: ignore[index]
    assert (
        world.call(
            "POST", "zhao", f"/api/v1/access-requests/{violations[0]['id']}/approve"
        ).status_code
        == 200
    )
    assert world.call("GET", "zhou", "/api/v1/access-alerts").json["violations"] == []  # type: ignore[index]


def test_the_green_channel_keeps_the_ceilings_of_standing_access(world: World) -> None:
    """A supervisor cleared for internal opened a confidential record of their own
    department through the green channel and downloaded it; a period of 0 hours became 24."""
    world.add_user("ma", Role.SUPERVISOR, "CG", clearance="internal")
    body = {
        "record_id": str(world.records["CG-confidential"]),
        "justification": "客户投诉 紧急核查",
        "scope": "download",
        "hours": 4,
    }

    def emergency(who: str, payload: dict[str, object]) -> int:
        return world.call("POST", who, "/api/v1/emergency-access", json=payload).status_code

    assert emergency("ma", body) == 403
    assert read(world, "ma", "CG-confidential", "download") == 403
    with world.arc.sessions() as session:
        assert session.scalars(select(Grant)).all() == []
    # Within the clearance it opens, but never for 0 hours (or any period out of range).
    internal = {**body, "record_id": str(world.records["XS-internal"])}
    for hours in (0, -1, "0", 25):
        assert emergency("ma", {**internal, "hours": hours}) == 400, hours
    assert emergency("ma", internal) == 201
    # Only a director opens a restricted record, whatever a supervisor's clearance (to
    # whom it does not even exist).
    world.add_user("he", Role.SUPERVISOR, "CG", clearance="restricted")
    restricted = {**body, "record_id": str(world.records["CG-restricted"])}
    assert emergency("he", restricted) == 404
    assert emergency("qian", restricted) == 201


def test_revoked_grants_stop_reading(world: World) -> None:
    request = ask(world, "zhang", "CG-internal", scope="download")
    world.call("POST", "wang", f"/api/v1/access-requests/{request['id']}/approve")
    grant = world.call("GET", "zhang", "/api/v1/grants").json["grants"][0]  # type: ignore[index]
    assert (
        world.call(
            "POST", "li", f"/api/v1/grants/{grant['id']}/revoke", json={"reason": "x"}
        ).status_code
        == 404
    )
    assert world.call("POST", "wang", f"/api/v1/grants/{grant['id']}/revoke").status_code == 400
    revoked = world.call(
        "POST", "wang", f"/api/v1/grants/{grant['id']}/revoke", json={"reason": "项目结束"}
    )
    assert revoked.json["revoked_at"] is not None  # type: ignore[index]
    assert read(world, "zhang", "CG-internal", "download") == 403
    assert log_lines(world)[-1].reason == "the grant was revoked"


def test_a_forged_forwarded_for_is_never_the_logged_address(world: World, tmp_path: Path) -> None:
    assert read(world, "wang", "CG-internal", headers={"X-Forwarded-For": "6.6.6.6"}) == 200
    assert log_lines(world)[-1].ip == "127.0.0.1"
    # Behind one trusted proxy, the proxy's own entry counts, not what the client forged.
    proxied = make_world(tmp_path / "proxied", ARCHIVE_TRUSTED_PROXIES="1")
    status = read(
        proxied,
        "wang",
        "CG-internal",
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert status == 200
    assert log_lines(proxied)[-1].ip == "203.0.113.9"
    proxied.arc.close()


def _lower_clearance(world: World, username: str, clearance: str) -> None:
    """As a security administrator's change would: audited, and the person's tokens end."""
    with world.arc.transaction() as session:
        person = find_user(session, username)
        change_user(session, Actor.cli(), person, clearance=Sensitivity(clearance))
        world.tokens[username] = issue_token(session, Actor.cli(), person)


def test_no_grant_opens_a_record_above_its_holders_clearance(world: World) -> None:
    """A clearance (密级许可) is approved by a security administrator; a department head's
    approval must not go around it: nobody asks above it, nobody approves above it, and a
    grant held when it is lowered opens nothing."""
    world.add_user("xiao", Role.SPECIALIST, "CG", clearance="internal")
    confidential = str(world.records["CG-confidential"])
    refused = world.call(
        "POST",
        "xiao",
        "/api/v1/access-requests",
        json={"record_id": confidential, "purpose": "核对", "scope": "view", "days": 7},
    )
    assert refused.status_code == 403
    assert "clearance" in refused.json["error"]  # type: ignore[index]
    ask(world, "xiao", "CG-internal")  # within it, the same person asks as usual
    # Asked within the clearance; the clearance is lowered before the head decides.
    pending = ask(world, "zhang", "CG-confidential")
    _lower_clearance(world, "zhang", "internal")
    path = f"/api/v1/access-requests/{pending['id']}"
    assert world.call("POST", "wang", f"{path}/approve").status_code == 403
    with world.arc.sessions() as session:
        assert session.scalars(select(Grant)).all() == []
    inbox = Browser(world, "wang").text("/inbox")  # only a refusal is offered
    assert f"/inbox/{pending['id']}/approve" not in inbox
    assert f"/inbox/{pending['id']}/deny" in inbox
    assert "高于申请人的密级许可（内部）：此申请只能驳回" in inbox
    refusal = world.call("POST", "wang", f"{path}/deny", json={"reason": "密级许可不足"})
    assert refusal.json["status"] == "denied"  # type: ignore[index]
    # A grant approved within the clearance stops opening when the clearance is lowered.
    world.add_user("qin", Role.SPECIALIST, "CG", clearance="confidential")
    granted = ask(world, "qin", "CG-confidential")
    world.call("POST", "wang", f"/api/v1/access-requests/{granted['id']}/approve")
    assert read(world, "qin", "CG-confidential") == 200
    _lower_clearance(world, "qin", "internal")
    assert read(world, "qin", "CG-confidential") == 403
    assert log_lines(world)[-1].reason == "the record is above your clearance"
    # The record page says why, in Chinese, instead of a form no approver could grant.
    give_password(world, "xiao", "correct horse battery")
    browser = world.app.test_client()
    assert login(browser, "xiao", "correct horse battery") == 302
    page = browser.get(f"/records/{confidential}", base_url=BASE).get_data(as_text=True)
    assert "高于您的密级许可" in page
    assert f'action="/records/{confidential}/request"' not in page


def test_api_errors_say_their_kind_code_and_field_for_a_program(world: World) -> None:
    """Every error has one shape; several problems at once are each named with its field."""
    wrong = world.call(
        "POST",
        "zhang",
        "/api/v1/access-requests",
        json={
            "record_id": str(world.records["CG-internal"]),
            "purpose": " ",
            "scope": "x",
            "days": 0,
        },
    )
    assert wrong.status_code == 400
    body = wrong.json
    assert body["kind"] == "invalid"  # type: ignore[index]
    assert [(p["code"], p["field"]) for p in body["problems"]] == [  # type: ignore[index]
        ("required", "purpose"),
        ("scope", "scope"),
        ("days_range", "days"),
    ]
    assert (body["code"], body["field"]) == ("required", "purpose")  # type: ignore[index]
    refused = world.call(
        "GET", "zhang", f"/api/v1/versions/{world.versions['CG-internal']}/content"
    )
    assert refused.status_code == 403
    assert refused.json["kind"] == "forbidden"  # type: ignore[index]
    assert refused.json["record_id"] == str(world.records["CG-internal"])  # type: ignore[index]
    # Beyond view and made up: the same answer, naming nothing.
    hidden = world.call(
        "GET", "zhang", f"/api/v1/versions/{world.versions['XS-restricted']}/content"
    )
    made_up = world.call("GET", "zhang", f"/api/v1/versions/{uuid.uuid4()}/content")
    assert hidden.status_code == made_up.status_code == 404
    assert hidden.json == made_up.json == {"error": "no such version", "kind": "not_found"}
    unsigned = world.app.test_client().get("/api/v1/access-requests")
    assert unsigned.status_code == 401
    assert unsigned.json["kind"] == "unauthenticated"  # type: ignore[index]


def test_the_director_step_is_for_a_director_cleared_for_the_record(world: World) -> None:
    """A director cleared only for 内部, of another department (who may not know a CG 秘密
    record: its page is a 404 to them), saw its external request waiting and approved it."""
    world.add_user("ma", Role.DIRECTOR, "XS", clearance="internal")
    request = ask(world, "zhang", "CG-confidential", scope="external")
    path = f"/api/v1/access-requests/{request['id']}"
    assert world.call("POST", "wang", f"{path}/approve").json["step"] == 2  # type: ignore[index]
    waiting = world.call("GET", "ma", "/api/v1/access-requests").json["waiting"]  # type: ignore[index]
    assert request["id"] not in [r["id"] for r in waiting]
    assert world.call("POST", "ma", f"{path}/approve").status_code in (403, 404)
    assert (
        world.call("GET", "ma", f"/api/v1/records/{world.records['CG-confidential']}").status_code
        == 404
    )
    # A director cleared for 秘密 decides it, though of another department.
    assert world.call("POST", "zhao", f"{path}/approve").json["status"] == "approved"  # type: ignore[index]


def test_a_record_page_gives_its_digests_only_to_those_who_may_read_or_check_it(
    world: World,
) -> None:
    """A SHA-256 of a short or templated text gives the text away to whoever hashes guesses:
    a specialist who may know a record but not read it sees none."""
    path = f"/api/v1/records/{world.records['CG-internal']}"
    for who, shown in (("zhang", False), ("wang", True), ("sun", True), ("zhou", True)):
        versions = world.call("GET", who, path).json["versions"]  # type: ignore[index]
        assert (versions[0]["sha256"] is not None) is shown, who
    page = Browser(world, "zhang").text(f"/records/{world.records['CG-internal']}")
    with world.arc.sessions() as session:
        digest = session.scalars(
            select(Version.sha256).where(Version.record_id == world.records["CG-internal"])
        ).one()
    assert digest[:16] not in page
    request = ask(world, "zhang", "CG-internal")
    world.call("POST", "wang", f"/api/v1/access-requests/{request['id']}/approve")
    assert world.call("GET", "zhang", path).json["versions"][0]["sha256"] == digest  # type: ignore[index]


def test_my_requests_name_a_record_raised_above_me_by_its_number_alone(world: World) -> None:
    request = ask(world, "li", "XS-internal")
    world.call("POST", "zhao", f"/api/v1/access-requests/{request['id']}/deny",
               json={"reason": "与工作无关"})  # fmt: skip
    assert "档案 XS-internal" in Browser(world, "li").text("/requests")
    with world.arc.transaction() as session:  # raised to 机密 since: li may not know it now
        session.get_one(Record, world.records["XS-internal"]).sensitivity = Sensitivity.RESTRICTED
        code = session.get_one(Record, world.records["XS-internal"]).reference_code
    page = Browser(world, "li").text("/requests")
    assert "档案 XS-internal" not in page
    assert (code or "（您已无权知悉的档案）") in page


def test_the_request_form_says_external_use_takes_a_director_too(world: World) -> None:
    page = Browser(world, "zhang").text(f"/records/{world.records['CG-internal']}")
    assert "对外提供还须再经总监审批" in page
