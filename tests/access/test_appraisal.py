"""The appraisal queue (鉴定) in the browser and the API: why each record is due, the
department's opinion beside the records manager's, errors on the form with the input kept,
and nobody else let in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select

from archive.audit import Actor
from archive.models import AuditEvent, Record, RetentionReview
from retention.schedules import seed_default_plan
from retention.status import refresh_dirty
from tests.access.conftest import World, make_world
from tests.access.test_web import BASE
from tests.access.test_web_pages import Browser

MINUTES = "XS-internal"  # becomes 会议纪要 filed in 2010: 10 years from year end, review


@pytest.fixture
def due_minutes(tmp_path) -> Iterator[World]:  # type: ignore[no-untyped-def]
    world = make_world(tmp_path)
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
        record = session.get(Record, world.records[MINUTES])
        assert record is not None
        record.record_type, record.filed_on, record.retention_dirty = (
            "minutes",
            date(2010, 3, 1),
            True,
        )
    refresh_dirty(world.arc)
    yield world
    world.arc.close()


def test_the_queue_says_why_and_the_decision_keeps_both_opinions(due_minutes: World) -> None:
    world = due_minutes
    record_id = world.records[MINUTES]
    sun = Browser(world, "sun")
    swept = sun.post("/retention/lists", {"sweep": "1"}, follow_redirects=True, status=200)
    assert "1 件待鉴定" in swept  # the sweep says where the due record went

    home = sun.text("/")
    assert 'href="/retention/appraisal"' in home
    page = sun.text("/retention/appraisal")
    assert "档案 XS-internal" in page
    assert "会议纪要" in page  # the schedule, by name
    assert "2010-12-31" in page  # counted from the end of the filing year
    assert "保管至 2020-12-31" in page
    assert "2021-01-01" in page  # eligible from the day after
    assert "销售" in page  # the department by name

    # No opinion: refused on the form, in Chinese, with what was typed kept.
    refused = sun.post(
        "/retention/appraisal",
        {
            "record_id": str(record_id),
            "department_opinion": "销售部：项目仍在结算，需继续保存",
            "opinion": "",
            "outcome": "extend",
            "years": "3",
        },
        status=400,
    )
    assert "销售部：项目仍在结算，需继续保存" in refused
    assert 'role="alert"' in refused
    assert "请填写此项。" in refused  # the service's rule, said in Chinese
    no_term = sun.post(
        "/retention/appraisal",
        {"record_id": str(record_id), "opinion": "继续保存", "outcome": "extend"},
        status=400,
    )
    assert "延长保管期须填写保管截止日期或延长年数。" in no_term
    assert "extend needs" not in no_term
    with world.arc.sessions() as session:
        assert session.scalar(select(RetentionReview)) is None

    done = sun.post(
        "/retention/appraisal",
        {
            "record_id": str(record_id),
            "department_opinion": "销售部：项目仍在结算，需继续保存",
            "opinion": "同意部门意见，延长三年",
            "outcome": "extend",
            "years": "3",
        },
        follow_redirects=True,
        status=200,
    )
    assert "没有待鉴定的档案" in done
    with world.arc.sessions() as session:
        row = session.scalars(select(RetentionReview)).one()
        assert row.department_opinion == "销售部：项目仍在结算，需继续保存"
        assert row.opinion == "同意部门意见，延长三年"
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.reviewed")
        ).one()
        assert event.details["department_opinion"] == "销售部：项目仍在结算，需继续保存"
        assert event.actor == "sun"


def test_only_records_managers_see_or_decide(due_minutes: World) -> None:
    world = due_minutes
    record_id = str(world.records[MINUTES])
    for name in ("zhou", "wu", "zhao", "li"):
        browser = Browser(world, name)
        response = browser.get("/retention/appraisal")
        assert response.status_code == 403  # type: ignore[attr-defined]
        assert "XS-internal" not in response.get_data(as_text=True)  # type: ignore[attr-defined]
        browser.post(
            "/retention/appraisal",
            {"record_id": record_id, "opinion": "销毁", "outcome": "destroy"},
            status=403,
        )
    with world.arc.sessions() as session:
        assert session.scalar(select(RetentionReview)) is None


def test_the_api_gives_the_reasons_and_takes_the_department_opinion(due_minutes: World) -> None:
    world = due_minutes
    api = world.app.test_client()
    sun = {"Authorization": f"Bearer {world.tokens['sun']}"}
    queue = api.get("/api/v1/retention/review-queue", headers=sun, base_url=BASE).get_json()
    (waiting,) = queue["records"]
    assert waiting["record_id"] == str(world.records[MINUTES])
    assert (waiting["kept_until"], waiting["eligible_from"]) == ("2020-12-31", "2021-01-01")
    assert waiting["trigger"] == "year_end"
    assert waiting["department"] == "销售"
    li = {"Authorization": f"Bearer {world.tokens['li']}"}
    assert api.get("/api/v1/retention/review-queue", headers=li).status_code == 403

    decided = api.post(
        f"/api/v1/retention/records/{uuid.UUID(waiting['record_id'])}/review",
        json={
            "opinion": "经鉴定无保存价值",
            "department_opinion": "销售部同意销毁",
            "outcome": "destroy",
        },
        headers=sun,
    )
    assert decided.status_code == 201, decided.get_json()
    with world.arc.sessions() as session:
        row = session.scalars(select(RetentionReview)).one()
        assert (row.outcome, row.department_opinion) == ("destroy", "销售部同意销毁")
