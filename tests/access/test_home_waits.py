"""The home page says what waits for each role, with a count and a link that leads to the
item; a request sent shows as pending on the record page and cannot be sent twice; the
classification review offers the plan's record types and refuses any other."""

from __future__ import annotations

import io
import re
import uuid

from sqlalchemy import select

from archive.audit import Actor
from archive.models import DispositionList, Record
from ingest.pipeline import process
from retention.schedules import seed_default_plan
from tests.access.conftest import World, due_and_under_review, sign_due_list, submitted_due_list
from tests.access.test_web_pages import Browser


def tiles(page: str) -> dict[str, tuple[int, str]]:
    """kind → (count, link) of the home page's waiting tiles."""
    found = re.findall(r'data-kind="(\w+)" href="([^"]+)"><strong>(\d+)</strong>', page)
    return {kind: (int(count), href.replace("&amp;", "&")) for kind, href, count in found}


def test_each_role_sees_what_waits_and_follows_the_link(world: World) -> None:
    people = {n: Browser(world, n) for n in ("zhang", "wang", "qian", "sun", "zhou", "wu")}
    zhang, wang, sun = people["zhang"], people["wang"], people["sun"]
    record = world.records["CG-confidential"]
    zhang.post(f"/records/{record}/request", {"purpose": "审计抽查", "scope": "view", "days": 3})
    job = zhang.post(
        "/upload",
        {"files": [(io.BytesIO(b"\x00\x01 not a document"), "broken.pdf")], "project": "P"},
        status=202,
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    process(world.arc, uuid.UUID(re.findall(r"[0-9a-f-]{36}", job)[0]))
    due_and_under_review(world)
    sun.post(
        "/retention/lists",
        {"action": "destroy", "record_ids": str(world.records["CG-public"]), "opinion": "无价值"},
    )
    with world.arc.sessions() as db:
        list_id = db.scalar(select(DispositionList.id))
    sun.post(f"/retention/lists/{list_id}/submit", {})

    mine = tiles(zhang.text("/"))
    assert mine["mine"][0] == 1
    assert mine["quarantined"][0] == 1
    assert "decide" not in mine
    assert "sign" not in mine
    assert "alerts" not in mine
    assert "审计抽查" in zhang.text(mine["mine"][1])
    assert "broken.pdf" in zhang.text(mine["quarantined"][1])

    head = wang.text("/")
    assert "最近截止" in head
    decide = tiles(head)["decide"]
    assert decide[0] == 1
    assert "审计抽查" in wang.text(decide[1])
    assert tiles(head)["sign"][0] == 1
    assert f"/retention/lists/{list_id}" in wang.text(tiles(head)["sign"][1])

    manager_home = sun.text("/")
    manager = tiles(manager_home)
    assert manager["classify"][0] == 1
    # A records manager releases anyone's quarantined files: said as everyone's, not "yours".
    assert manager["quarantined_all"][0] == 1
    assert "quarantined" not in manager
    assert "个文件被隔离，待放行或修正" in manager_home
    assert "您提交的文件" not in manager_home
    assert "broken.pdf" in sun.text(manager["quarantined_all"][1])
    assert "档案 XS-public" in sun.text(manager["classify"][1])
    assert manager["sign"][0] == 1
    assert manager["execute"][0] == 0  # not every signature yet
    assert "decide" not in manager

    auditor = tiles(people["zhou"].text("/"))
    assert set(auditor) == {"alerts", "mine", "granted"}
    assert people["zhou"].get(auditor["alerts"][1]).status_code == 200  # type: ignore[attr-defined]
    assert set(tiles(people["wu"].text("/"))) == {"witness"}  # the IT slot of 监销, no more


def test_a_pending_request_shows_and_is_not_offered_again(world: World) -> None:
    zhang = Browser(world, "zhang")
    record = world.records["CG-confidential"]
    page = zhang.text(f"/records/{record}")
    assert 'name="scope"' in page
    assert '<option value="view"' in page
    zhang.post(f"/records/{record}/request", {"purpose": "审计抽查", "scope": "view", "days": 3})
    page = zhang.text(f"/records/{record}")
    assert re.search(r"您于 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 提交的查看申请：待审批", page), page
    assert '<option value="view"' not in page  # not offered twice
    assert '<option value="download"' in page  # another kind still may be
    again = zhang.post(
        f"/records/{record}/request", {"purpose": "再次", "scope": "view", "days": 3}, status=409
    )
    assert "提交过同样的申请" in again
    with world.arc.sessions() as db:
        from archive.models import AccessRequest

        assert len(db.scalars(select(AccessRequest)).all()) == 1


def test_a_refusal_is_told_on_the_home_page(world: World) -> None:
    """A refused request showed only on the requests page; the home page kept saying one
    was pending. It now says one was refused, linking to the reason."""
    zhang, wang = Browser(world, "zhang"), Browser(world, "wang")
    record = world.records["CG-internal"]
    zhang.post(f"/records/{record}/request", {"purpose": "核对", "scope": "view", "days": 3})
    assert "refused" not in tiles(zhang.text("/"))
    with world.arc.sessions() as db:
        from archive.models import AccessRequest

        asked = db.scalars(select(AccessRequest)).one().id
    wang.post(f"/inbox/{asked}/deny", {"reason": "与工作无关"})
    shown = tiles(zhang.text("/"))
    assert shown["refused"] == (1, "/requests")
    assert shown["mine"][0] == 0
    assert "本周被拒绝" in zhang.text("/")


def test_the_review_offers_the_plan_and_refuses_a_type_outside_it(world: World) -> None:
    sun = Browser(world, "sun")
    target = world.records["XS-internal"]
    with world.arc.transaction() as db:
        seed_default_plan(db, Actor.cli())
        db.get_one(Record, target).needs_review = True
    page = sun.text("/classification-review")
    assert '<select name="record_type"' in page
    assert ">记账凭证</option>" in page
    assert 'name="record_type" value=' not in page  # no free typing
    refused = sun.post(
        "/classification-review",
        {"record_id": str(target), "process": "administration", "record_type": "通知"},
        status=400,
    )
    assert "“通知”不是保管期限表中的文件类型" in refused
    with world.arc.sessions() as db:
        kept = db.get_one(Record, target)
        assert kept.needs_review
        assert kept.record_type != "通知"
    sun.post(
        "/classification-review",
        {"record_id": str(target), "process": "finance", "record_type": "voucher"},
    )
    with world.arc.sessions() as db:
        settled = db.get_one(Record, target)
        assert (settled.record_type, settled.needs_review) == ("voucher", False)


def test_an_executed_list_waits_for_its_witnesses(executed: tuple[World, int]) -> None:
    world, list_id = executed
    with world.arc.sessions() as db:
        number = db.get_one(DispositionList, list_id).number
    for name in ("sun", "zhang"):  # the records manager's slot and CG's representative
        browser = Browser(world, name)
        witness = tiles(browser.text("/"))["witness"]
        assert witness[0] == 1
        assert number in browser.text(witness[1])
    assert tiles(Browser(world, "li").text("/"))["witness"][0] == 0  # no XS record on it
    assert "witness" not in tiles(Browser(world, "zhou").text("/"))  # an auditor never does


def test_a_fully_signed_list_waits_to_be_carried_out_and_says_so(world: World) -> None:
    """Every signature given, the list said 签字中 still and the home page nothing."""
    list_id = submitted_due_list(world)
    sun = Browser(world, "sun")
    assert tiles(sun.text("/"))["execute"][0] == 0
    sign_due_list(world, list_id)
    ready = tiles(sun.text("/"))["execute"]
    assert ready[0] == 1
    assert "已签齐，待执行" in sun.text(ready[1])
    assert "已签齐，待执行" in sun.text(f"/retention/lists/{list_id}")
