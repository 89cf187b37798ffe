"""The record picker: people find a record by what they know of it (档号, title, 文号, name)
among the records they may know of, and never learn a title they may not; the API and the
access-log filter take the 档号 wherever they took an id."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from access.grants import grants_of
from access.pick import pick
from archive.accesslog import Client, log_access
from archive.db import utcnow
from archive.description import doc_number_key
from archive.models import (
    AccessEvent,
    AccessRequest,
    DispositionList,
    Grant,
    HoldItem,
    Record,
    RetentionEvent,
    Scope,
    User,
    Version,
)
from archive.record_rules import may_know
from tests.access.conftest import PEOPLE, World
from tests.access.test_reference_codes_in_forms import numbered
from tests.access.test_web_pages import Browser


def picked(browser: Browser, q: str, purpose: str = "") -> list[dict[str, Any]]:
    response: Any = browser.get("/records/pick", query_string={"q": q, "for": purpose})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    records: list[dict[str, Any]] = response.get_json()["records"]
    return records


def titles(records: list[dict[str, Any]]) -> set[str]:
    return {r["title"] for r in records}


def test_a_specialist_picks_a_visible_record_by_code_title_doc_number_and_name(
    world: World,
) -> None:
    code = numbered(world, "XS-internal")
    with world.arc.transaction() as session:
        record = session.get_one(Record, world.records["XS-internal"])
        record.doc_number, record.doc_number_key = (
            "沪销发〔2026〕7号",
            doc_number_key("沪销发〔2026〕7号"),
        )
        name = session.scalars(select(Version.name).where(Version.record_id == record.id)).one()
    li = Browser(world, "li")

    by_code = picked(li, code[:-2])  # the 档号 as far as people remember it
    assert "档案 XS-internal" in titles(by_code)
    hit = next(r for r in by_code if r["title"] == "档案 XS-internal")
    assert hit == {
        "id": str(world.records["XS-internal"]),
        "reference_code": code,
        "title": "档案 XS-internal",
        "name": name,
        "date": hit["date"],
        "doc_number": "沪销发〔2026〕7号",
        "value": code,
    }
    assert picked(li, code)[0]["reference_code"] == code  # the exact 档号 comes first
    assert titles(picked(li, "xs-INTERNAL")) == {"档案 XS-internal"}  # a title word, any case
    assert titles(picked(li, "沪销发[2026]7号")) == {"档案 XS-internal"}  # 文号, other brackets
    assert titles(picked(li, "销发")) == {"档案 XS-internal"}  # part of the 文号
    assert titles(picked(li, name)) == {"档案 XS-internal"}  # 项目名称-日期-版本号
    assert picked(li, "%") == []  # LIKE's wildcards are only text
    assert picked(li, "_") == []


def test_nobody_learns_a_title_they_may_not_see(world: World) -> None:
    code = numbered(world, "CG-confidential")
    li = Browser(world, "li")  # a specialist of 销售
    nothing: Any = li.get("/records/pick", query_string={"q": "没有这样的档案"})
    for q in ("CG-confidential", code, "档案 CG-con"):
        answer: Any = li.get("/records/pick", query_string={"q": q})
        assert answer.get_data() == nothing.get_data()  # the same answer as no match
    assert "档案 CG-confidential" not in titles(picked(li, "档案"))
    # A purpose widens nothing for a role that does not see every record's metadata.
    assert "档案 CG-confidential" not in titles(picked(li, "档案", "retention"))
    assert "档案 CG-confidential" not in titles(picked(li, "档案", "audit"))


def test_the_query_keeps_to_the_record_page_rule_for_everyone(world: World) -> None:
    """The picker's SQL and ``may_know`` agree for every person, grants included."""
    with world.arc.transaction() as session:
        li = session.scalars(select(User).where(User.username == "li")).one()
        session.add(_grant(li.id, world.records["CG-confidential"]))
    with world.arc.sessions() as session:
        now = utcnow()
        records = session.scalars(select(Record)).all()
        for username in PEOPLE:
            person = session.scalars(select(User).where(User.username == username)).one()
            grants = grants_of(session, person)
            expected = {r.title for r in records if may_know(person, r, grants, now)}
            assert {p.title for p in pick(session, person, "档案")} == expected, username
        li = session.scalars(select(User).where(User.username == "li")).one()
        assert "档案 CG-confidential" in {p.title for p in pick(session, li, "档案")}


def _grant(user_id: int, record_id: Any) -> Grant:
    now = utcnow()
    return Grant(
        user_id=user_id,
        record_id=record_id,
        scope=Scope.VIEW,
        valid_from=now - timedelta(hours=1),
        valid_until=now + timedelta(days=1),
    )


def test_records_managers_and_auditors_find_any_record_for_their_own_pages(world: World) -> None:
    sun, zhou = Browser(world, "sun"), Browser(world, "zhou")
    assert "档案 XS-confidential" not in titles(picked(sun, "档案"))  # the record page's rule
    assert "档案 XS-confidential" in titles(picked(sun, "档案", "retention"))
    assert "档案 XS-restricted" in titles(picked(zhou, "档案", "audit"))
    assert "档案 XS-restricted" not in titles(picked(sun, "档案", "audit"))


def test_a_director_finds_contracts_and_the_log_says_so(world: World) -> None:
    zhao = Browser(world, "zhao")
    assert titles(picked(zhao, "CG-restricted")) == {"档案 CG-restricted"}
    with world.arc.sessions() as session:
        line = session.scalars(
            select(AccessEvent).where(
                AccessEvent.username == "zhao", AccessEvent.action == "search"
            )
        ).one()
    assert str(world.records["CG-restricted"]) in line.details


def test_the_api_picks_the_same_way(world: World) -> None:
    answer = world.call("GET", "li", "/api/v1/records/pick?q=档案")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    found = {r["title"] for r in answer.get_json()["records"]}
    assert "档案 XS-confidential" in found
    assert "档案 CG-confidential" not in found
    assert world.call("GET", "wu", "/api/v1/records/pick?q=档案").status_code == 403


def test_the_picker_needs_a_signed_in_person_who_may_search(world: World) -> None:
    anonymous = world.app.test_client().get("/records/pick?q=档案")
    assert anonymous.status_code == 401
    assert "档案 CG" not in anonymous.get_data(as_text=True)
    admin: Any = Browser(world, "wu").get("/records/pick?q=档案")
    assert admin.status_code == 403
    assert "档案 CG" not in admin.get_data(as_text=True)


def test_the_api_takes_a_reference_code_for_a_hold_and_a_request(world: World) -> None:
    code = numbered(world, "XS-internal")
    held = world.call(
        "POST",
        "sun",
        "/api/v1/retention/holds",
        json={"name": "审计保全", "reason": "2026 审计", "record_ids": [code]},
    )
    assert held.status_code == 201, held.get_json()
    with world.arc.sessions() as session:
        assert set(session.scalars(select(HoldItem.record_id))) == {world.records["XS-internal"]}
    unknown = world.call(
        "POST",
        "sun",
        "/api/v1/retention/holds",
        json={"name": "另一保全", "reason": "测试", "record_ids": ["WS·1999-X"]},
    )
    assert unknown.status_code == 400
    assert "WS·1999-X" in unknown.get_json()["error"]

    asked = world.call(
        "POST",
        "zhang",
        "/api/v1/access-requests",
        json={"record_id": code, "purpose": "核对合同", "scope": "view", "days": 7},
    )
    assert asked.status_code == 201, asked.get_json()
    assert asked.get_json()["record_id"] == str(world.records["XS-internal"])
    with world.arc.sessions() as session:
        assert (
            session.scalars(select(AccessRequest.record_id)).one() == world.records["XS-internal"]
        )


def test_a_code_beyond_the_callers_view_is_refused_like_one_that_does_not_exist(
    world: World,
) -> None:
    hidden = numbered(world, "CG-confidential")

    def ask(token: str) -> Any:
        body = {"record_id": token, "purpose": "核对", "scope": "view", "days": 7}
        return world.call("POST", "li", "/api/v1/access-requests", json=body)

    beyond, missing = ask(hidden), ask("WS·1999-X")
    assert beyond.status_code == missing.status_code == 400
    assert beyond.get_json()["error"].replace(hidden, "?") == missing.get_json()["error"].replace(
        "WS·1999-X", "?"
    )


def test_the_access_log_filters_by_reference_code(world: World) -> None:
    code = numbered(world, "XS-internal")
    with world.arc.transaction() as session:
        for key in ("XS-internal", "CG-internal"):
            log_access(
                session,
                None,
                Client("10.0.0.9", "test"),
                "metadata",
                "allowed",
                record_id=world.records[key],
            )
    mine = str(world.records["XS-internal"])
    listed = world.call("GET", "zhou", f"/api/v1/access-log?record={code}")
    assert listed.status_code == 200
    events = listed.get_json()["events"]
    assert events
    assert {e["record_id"] for e in events} == {mine}
    page = Browser(world, "zhou").text(f"/audit/access-log?record={code}")
    assert mine[:8] in page
    assert str(world.records["CG-internal"])[:8] not in page
    assert world.call("GET", "zhou", "/api/v1/access-log?record=WS·1999-X").status_code == 400
    refused: Any = Browser(world, "zhou").get("/audit/access-log?record=WS·1999-X")
    assert "“WS·1999-X”既不是本档案库的档号" in refused.get_data(as_text=True)


def test_forms_offer_the_picker_and_the_record_page_starts_the_actions(world: World) -> None:
    code = numbered(world, "CG-internal")
    sun = Browser(world, "sun")
    page = sun.text(f"/records/{world.records['CG-internal']}")
    assert f"/retention/holds?record={code}" in page.replace("%C2%B7", "·")
    holds = sun.text(f"/retention/holds?record={code}")
    assert "data-record-picker" in holds
    assert 'name="record_ids"' in holds
    assert f'value="{code}"' in holds
    assert "picker.js" in holds
    assert "<script>" not in holds  # the policy allows scripts from files only
    zhang = Browser(world, "zhang").text(f"/records/{world.records['CG-internal']}")
    assert "/retention/holds" not in zhang
    wang = Browser(world, "wang")  # head of 采购: reads its records already, not 销售's
    assert "/emergency?record_id=" not in wang.text(f"/records/{world.records['CG-internal']}")
    assert "/emergency?record_id=" in wang.text(f"/records/{world.records['XS-internal']}")


def test_every_form_that_asks_for_records_offers_the_picker(world: World) -> None:
    forms = {
        "wang": {"/emergency": ["record_id"]},
        "sun": {
            "/retention/holds": ["record_ids"],
            "/retention/events": ["record_id"],
            "/retention/lists": ["record_ids"],
        },
        "zhou": {"/audit/access-log": ["record"], "/audit/trail": ["record"]},
    }
    for username, pages in forms.items():
        browser = Browser(world, username)
        for path, names in pages.items():
            page = browser.text(path)
            for name in names:
                assert f'id="pick-{name}" name="{name}"' in page, (path, name)
    sun = Browser(world, "sun")
    sun.post("/retention/lists", {"action": "destroy", "record_ids": ""})  # an empty draft
    with world.arc.sessions() as session:
        list_id = session.scalars(select(DispositionList.id)).one()
    listed = sun.text(f"/retention/lists/{list_id}")
    assert 'name="add"' in listed
    assert 'name="remove"' in listed
    assert listed.count("data-record-picker") == 2


def test_a_head_cannot_learn_or_start_a_clock_on_a_record_they_may_not_know(
    world: World,
) -> None:
    hidden = numbered(world, "CG-restricted")  # wang's clearance is confidential
    seen = numbered(world, "CG-internal")

    def event_on(token: str) -> Any:
        body = {
            "event_type": "contract_terminated",
            "occurred_on": "2026-01-01",
            "record_id": token,
        }
        return world.call("POST", "wang", "/api/v1/retention/events", json=body)

    beyond, made_up = event_on(hidden), event_on("WS·1999-X")
    assert beyond.status_code == made_up.status_code == 400
    assert beyond.get_json()["error"].replace(hidden, "?") == made_up.get_json()["error"].replace(
        "WS·1999-X", "?"
    )
    by_id, random_id = event_on(str(world.records["CG-restricted"])), event_on(str(uuid.uuid4()))
    assert by_id.status_code == random_id.status_code == 404
    assert by_id.get_json() == random_id.get_json()
    with world.arc.sessions() as session:
        assert session.scalars(select(RetentionEvent)).all() == []  # no clock was started
    assert event_on(seen).status_code == 201  # a record of the department that wang knows


def test_a_search_reaching_contracts_is_logged_in_plain_words(world: World) -> None:
    found = world.call("GET", "zhao", "/api/v1/search?q=正文&sensitivity=restricted")
    assert found.status_code == 200
    with world.arc.sessions() as session:
        line = session.scalars(
            select(AccessEvent).where(
                AccessEvent.username == "zhao", AccessEvent.action == "search"
            )
        ).one()
    assert line.details.startswith("q='正文' sensitivity=restricted total=")  # no Python dict
