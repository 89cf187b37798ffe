"""A destroyed record keeps its page as a tombstone: what it was, when and how it went; no
request, grant, hold or list can be made for content that no longer exists."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive.audit import Actor
from archive.models import AccessEvent, HoldScope
from archive.people import find_user
from ingest.review import ReviewError, reclassify
from retention.deletion import confirm_deletion, request_deletion
from retention.holds import place_hold
from retention.schedules import seed_default_plan
from tests.access.conftest import DUE_RECORD, World, sign_due_list, submitted_due_list
from tests.access.test_web_pages import Browser


def test_a_destroyed_record_offers_nothing_to_open_and_says_how_it_went(world: World) -> None:
    record_id = world.records["CG-internal"]
    asked = {"record_id": str(record_id), "purpose": "审计抽查", "scope": "view", "days": 3}
    early = world.call("POST", "zhang", "/api/v1/access-requests", json=asked)
    assert early.status_code == 201  # asked before it went: it may still be refused
    before = Browser(world, "sun").text(f"/records/{record_id}")
    assert "/retention/holds?record=" in before
    assert "data-tombstone" not in before
    with world.arc.sessions() as session:
        confirmer = find_user(session, "qian").id
    deletion = request_deletion(world.arc, Actor(name="sun"), record_id, "重复归档 filed twice")
    confirm_deletion(world.arc, Actor(name="qian"), confirmer, deletion.id)

    again = world.call("POST", "li", "/api/v1/access-requests", json={**asked})
    assert again.status_code in (404, 409)  # li may not know of it: told nothing either way
    refused = world.call("POST", "wang", "/api/v1/access-requests", json=asked)
    assert refused.status_code == 409
    assert refused.json["code"] == "record_gone"  # type: ignore[index]
    request_id = early.json["id"]  # type: ignore[index]
    approve = f"/api/v1/access-requests/{request_id}/approve"
    not_granted = world.call("POST", "wang", approve, json={})
    assert not_granted.status_code == 409
    assert not_granted.json["code"] == "record_gone"  # type: ignore[index]
    refuse = f"/api/v1/access-requests/{request_id}/deny"
    assert world.call("POST", "wang", refuse, json={"reason": "档案已销毁"}).status_code == 200

    wang = Browser(world, "wang")  # many at once: told, the others still asked for
    report = wang.post(
        "/search/selected",
        {"action": "request", "purpose": "审计抽查", "scope": "download", "days": "3",
         "record": [str(record_id), str(world.records["CG-confidential"])]},
        status=200,
    )  # fmt: skip
    assert "档案已销毁" in report

    # Nothing left to hold, and no event changes its retention: refused, said in words.
    hold = {"name": "诉讼冻结", "reason": "(2026)沪01民初1号", "scope": "records",
            "record_ids": [str(record_id)]}  # fmt: skip
    held = world.call("POST", "sun", "/api/v1/retention/holds", json=hold)
    assert held.status_code == 409
    assert held.json["code"] == "record_not_kept"  # type: ignore[index]
    event = {"event_type": "contract_terminated", "occurred_on": "2020-01-01",
             "record_id": str(record_id)}  # fmt: skip
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())  # the event types
    recorded = world.call("POST", "sun", "/api/v1/retention/events", json=event)
    assert recorded.status_code == 409, recorded.json
    assert recorded.json["code"] == "record_not_kept"  # type: ignore[index]
    sun = Browser(world, "sun")
    many = sun.post(
        "/search/selected",
        {"action": "hold", "name": "诉讼冻结", "reason": "(2026)沪01民初1号",
         "record": [str(record_id), str(world.records["CG-public"])]},
        status=200,
    )  # fmt: skip
    assert "1 件已办理，1 件未办理" in many
    assert "未保全：该档案已不在本馆保管（已销毁或已移交）" in many
    # Its head read it by standing: now refused as destroyed, not as "no grant".
    content = f"/api/v1/versions/{world.versions['CG-internal']}/content?action=view"
    gone = world.call("GET", "wang", content)
    assert gone.status_code in (403, 404, 410)
    with world.arc.sessions() as session:
        last = session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
        assert last is not None
        assert (last.username, last.reason) == ("wang", "the record was destroyed")
    with pytest.raises(ReviewError, match="not reclassified"):
        reclassify(world.arc, Actor.cli(), record_id, record_type="report")

    page = Browser(world, "sun").text(f"/records/{record_id}")
    assert "data-tombstone" in page
    assert "重复归档 filed twice" in page
    assert "无法申请" in page or "neither asked for nor given" in page
    assert 'action="/records/' not in page  # no request form, no description form
    for gone in ("/retention/holds?record=", "/retention/lists?record=", "/retention/events?"):
        assert gone not in page


def test_a_held_record_is_flagged_on_its_list_before_anyone_executes_it(world: World) -> None:
    list_id = submitted_due_list(world)
    sun = Browser(world, "sun")
    assert "data-held" not in sun.text(f"/retention/lists/{list_id}")
    with world.arc.transaction() as session:
        hold, _ = place_hold(
            session,
            Actor.cli(),
            name="审计调阅冻结",
            reason="审计署调阅",
            scope=HoldScope.RECORDS,
            record_ids=[world.records[DUE_RECORD]],
        )
        hold_id = hold.id
    listed = sun.text(f"/retention/lists/{list_id}")
    assert "data-held" in listed
    assert f"#{hold_id} 审计调阅冻结" in listed
    sign_due_list(world, list_id)
    confirm = sun.text(f"/retention/lists/{list_id}/execute")
    assert "data-held" in confirm
    assert "1 件" in confirm or "1 of them" in confirm
