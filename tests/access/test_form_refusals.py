"""No dead ends: a form the server refuses comes back on its own page, the reason beside
the field in Chinese, everything typed still there, with a 4xx status (never 无法完成)."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from archive.audit import Actor
from archive.models import (
    AccessRequest,
    DispositionList,
    IngestJob,
    Record,
    RetentionSchedule,
    User,
)
from archive.passwords import weak_password
from archive.refcode import number_pending
from retention.schedules import current_schedules, seed_default_plan
from retention.status import refresh_dirty
from tests.access.conftest import World, make_world
from tests.access.test_irreversible_confirmed import signing_list
from tests.access.test_web_pages import Browser

DEAD_END = "无法完成"


def beside(page: str, name: str) -> str:
    """The reason shown beside the field ``name``."""
    found = re.search(rf'id="problem-{name}">([^<]*)<', page)
    assert found, f"no reason beside {name}"
    return found.group(1)


def test_an_access_request_over_the_limit_comes_back_with_the_limit(world: World) -> None:
    record = world.records["CG-internal"]
    li = Browser(world, "li")
    page = li.text(f"/records/{record}")
    limit = world.arc.settings.access.max_days
    offered = re.search(r'name="days"[^>]*max="(\d+)"', page)
    assert offered
    assert int(offered.group(1)) == limit  # the form offers what the server allows
    refused = li.post(
        f"/records/{record}/request",
        {"purpose": "核对2025年合同付款", "scope": "download", "days": str(limit + 1)},
        status=400,
    )
    assert DEAD_END not in refused
    assert beside(refused, "days") == f"请申请 1 至 {limit} 天。"
    assert "核对2025年合同付款</textarea>" in refused
    assert re.search(r'<option value="download"\s*selected', refused)
    assert f'value="{limit + 1}"' in refused
    assert 'aria-invalid="true"' in refused
    empty = li.post(
        f"/records/{record}/request", {"purpose": " ", "scope": "view", "days": "5"}, status=400
    )
    assert beside(empty, "purpose") == "请填写此项。"
    both = li.post(
        f"/records/{record}/request",
        {"purpose": " ", "scope": "view", "days": str(limit + 1)},
        status=400,
    )  # every problem at once, each beside its field: not one per attempt
    assert beside(both, "purpose") == "请填写此项。"
    assert beside(both, "days") == f"请申请 1 至 {limit} 天。"
    assert both.count('aria-invalid="true"') == 2
    # The form is far down the record page: the first wrong field takes the focus, so the
    # browser shows it rather than the top of a page that looks as if nothing went wrong.
    assert re.search(r'<textarea name="purpose"[^>]*aria-invalid="true"[^>]*autofocus', both)
    assert both.count("autofocus") == 1


def test_external_use_without_a_receiving_party_comes_back_asking_for_it(
    world: World,
) -> None:
    """对外提供 names who receives the record: the form asks beside the field, keeps what
    was typed, and the approver sees the party the record would go to."""
    record = world.records["CG-internal"]
    li = Browser(world, "li")
    assert 'name="recipient"' in li.text(f"/records/{record}")
    refused = li.post(
        f"/records/{record}/request",
        {"purpose": "年度审计", "scope": "external", "days": "5", "recipient": " "},
        status=400,
    )
    assert beside(refused, "recipient") == "请填写此项。"
    assert "年度审计</textarea>" in refused
    assert re.search(r'<option value="external"\s*selected', refused)
    li.post(
        f"/records/{record}/request",
        {"purpose": "年度审计", "scope": "external", "days": "5", "recipient": "立信会计师事务所"},
    )
    assert "提供给：立信会计师事务所" in Browser(world, "wang").text("/inbox")
    assert "提供给：立信会计师事务所" in li.text("/requests")


def test_the_green_channel_keeps_its_form_and_says_what_it_opened(world: World) -> None:
    wang = Browser(world, "wang")
    form = wang.text("/emergency")
    assert "须在 72 小时内由总监补办审批：用户qian、用户zhao" in form  # who approves, named
    refused = wang.post(
        "/emergency",
        {"record_id": "Z109-不存在", "justification": "客户投诉紧急核查", "scope": "print",
         "hours": "3"},
        status=400,
    )  # fmt: skip
    assert DEAD_END not in refused
    assert "Z109-不存在" in beside(refused, "record_id")
    assert "客户投诉紧急核查</textarea>" in refused
    assert re.search(r'<option value="print"\s*selected', refused)
    too_long = wang.post(
        "/emergency",
        {"record_id": str(world.records["CG-internal"]), "justification": "核查", "hours": "99"},
        status=400,
    )
    assert beside(too_long, "hours") == "请在 1 至 24 小时之间。"
    assert 'value="99"' in too_long

    wang.post(
        "/emergency",
        {"record_id": str(world.records["CG-internal"]), "justification": "核查", "hours": "4"},
    )
    opened = wang.text("/emergency")
    assert "已立即开放访问" in opened
    assert "审批须在" in opened
    assert "（北京时间）前由总监补办：用户qian、用户zhao" in opened


def test_the_green_channel_warns_the_only_director(world: World) -> None:
    with world.arc.transaction() as session:
        session.scalars(select(User).where(User.username == "qian")).one().active = False
    zhao = Browser(world, "zhao")
    assert "没有其他人能够审批" in zhao.text("/emergency")
    assert "没有其他人能够审批" not in Browser(world, "wang").text("/emergency")


def test_holds_and_events_come_back_as_typed(world: World) -> None:
    sun = Browser(world, "sun")
    refused = sun.post(
        "/retention/holds",
        {"name": "2026 税务审计", "reason": "", "scope": "project", "project": "无此项目"},
        status=400,
    )
    assert DEAD_END not in refused
    assert beside(refused, "reason") == "请填写此项。"
    assert 'value="2026 税务审计"' in refused
    assert re.search(r'<option value="project"\s*selected', refused)
    missing = sun.post(
        "/retention/holds",
        {"name": "2026 税务审计", "reason": "审计", "scope": "project", "project": "无此项目"},
        status=404,
    )
    assert beside(missing, "project") == "没有名为 无此项目 的项目。"
    empty = sun.post(
        "/retention/holds",
        {"name": "2026 税务审计", "reason": "审计", "scope": "project", "project": ""},
        status=400,
    )
    assert beside(empty, "project") == "请填写此项。"  # not "没有名为 None 的项目"
    # A query hold chooses department, 业务流程 and 文件类型 from lists; a label or a typo sent
    # anyway is refused beside its field, not placed as a hold that covers nothing.
    page = sun.text("/retention/holds")
    assert re.search(r'<option value="finance"\s*>财务管理</option>', page)
    assert re.search(r'<option value="XS"\s*>销售（XS）</option>', page)
    label = sun.post(
        "/retention/holds",
        {"name": "财务审计", "reason": "2026 审计", "scope": "query", "process": "财务管理"},
        status=400,
    )
    assert beside(label, "process") == "“财务管理”不在可选范围内：请从列表中选择。"
    sun.post(
        "/retention/holds",
        {"name": "财务审计", "reason": "2026 审计", "scope": "query", "department": "销售"},
    )  # a department by its name, as the API takes it
    assert "已对 " in sun.text("/retention/holds")

    future = sun.post(
        "/retention/events",
        {"event_type": "contract_terminated", "occurred_on": "2999-01-01", "project": "",
         "record_id": "", "note": "合同提前终止"},
        status=400,
    )  # fmt: skip
    assert DEAD_END not in future
    assert 'value="合同提前终止"' in future
    assert 'value="2999-01-01"' in future
    assert re.search(r'<button type="submit" class="primary">登记事件</button>', future)


def test_a_new_user_and_an_access_log_filter_come_back_beside_the_field(world: World) -> None:
    wu = Browser(world, "wu")
    taken = wu.post(
        "/admin/users",
        {"username": "zhang", "display_name": "张三丰", "role": "specialist",
         "department": "CG", "clearance": "internal", "password": "a long enough password"},
        status=400,
    )  # fmt: skip
    assert DEAD_END not in taken
    assert beside(taken, "username") == "该用户名已被使用。"
    assert 'value="张三丰"' in taken
    assert "a long enough password" not in taken  # passwords are never sent back
    no_department = wu.post(
        "/admin/users",
        {"username": "newbie", "role": "specialist", "department": "", "clearance": "internal"},
        status=400,
    )
    assert beside(no_department, "department") == "专员、主管和总监须属于某个部门。"

    zhou = Browser(world, "zhou")
    bad = zhou.text("/audit/access-log?user=li&from=31/01/2026", status=400)
    assert DEAD_END not in bad
    assert beside(bad, "from") == "请按 2026-01-31 的格式输入日期。"
    assert 'value="li"' in bad
    unknown = zhou.text("/audit/access-log?record=Z109-不存在", status=400)
    assert "Z109-不存在" in beside(unknown, "record")


def test_a_refusal_without_a_reason_stays_on_the_inbox(world: World) -> None:
    li = Browser(world, "li")
    li.post(
        f"/records/{world.records['XS-internal']}/request",
        {"purpose": "核对销售合同", "scope": "view", "days": "5"},
    )

    with world.arc.sessions() as session:
        request_id = session.scalars(select(AccessRequest.id)).one()
    zhao = Browser(world, "zhao")  # XS's director decides XS requests
    refused = zhao.post(f"/inbox/{request_id}/deny", {"reason": "  "}, status=400)
    assert DEAD_END not in refused
    assert beside(refused, "reason") == "请填写此项。"
    assert "核对销售合同" in refused  # still the inbox, the request still there
    # Someone who may not decide it learns nothing more than that it is not theirs.
    other = Browser(world, "qian").post(f"/inbox/{request_id}/deny", {"reason": "不"}, status=404)
    assert "核对销售合同" not in other


def test_rules_schedules_and_departments_come_back_as_typed(world: World) -> None:
    sun = Browser(world, "sun")
    rule = sun.post(
        "/rules",
        {"action": "save", "name": "合同规则", "keywords": "合同，协议", "pattern": "(",
         "record_type": "contract", "priority": "10", "confidence": "0.9"},
        status=400,
    )  # fmt: skip
    assert DEAD_END not in rule
    assert beside(rule, "pattern").startswith("这不是有效的正则表达式")
    assert 'value="合同规则"' in rule
    assert 'value="合同, 协议"' in rule
    schedule = sun.post(
        "/retention/schedules",
        {"key": "Bad Key", "name": "会计凭证", "code": "D30", "trigger": "year_end",
         "disposal": "review", "basis": "会计档案管理办法"},
        status=400,
    )  # fmt: skip
    assert beside(schedule, "key") == "标识由小写字母、数字和 _ 组成（例如 voucher）。"
    assert 'value="会计档案管理办法"' in schedule
    # Left empty, the key is the record type's code: nothing to type in English.
    sun.post(
        "/retention/schedules",
        {"key": "", "name": "会计凭证", "code": "D30", "trigger": "year_end",
         "disposal": "review", "basis": "会计档案管理办法", "record_type": "voucher"},
    )  # fmt: skip
    with world.arc.sessions() as db:
        keys = set(db.scalars(select(RetentionSchedule.key)))
    assert "voucher" in keys

    wu = Browser(world, "wu")
    taken = wu.post("/admin/departments", {"code": "cg", "name": "采购二部"}, status=400)
    assert beside(taken, "code") == "已有相同代码或名称的部门。"
    assert 'value="采购二部"' in taken


def test_a_password_change_says_which_field_is_wrong(world: World) -> None:
    li = Browser(world, "li")
    refused = li.post(
        "/account/password",
        {"confirm_password": "correct horse battery", "new_password": "a new long password",
         "new_password_again": "another long password"},
        status=400,
    )  # fmt: skip
    assert beside(refused, "new_password_again") == "两次输入的新密码不一致。"
    assert "a new long password" not in refused


def test_a_password_easy_to_guess_is_refused_with_the_rules_shown(world: World) -> None:
    """111111111111 was accepted (only a hidden 12-character minimum): the page states the
    rules, and repeats, runs and the user name are refused beside the field."""
    li = Browser(world, "li")
    assert "至少 12 个字符" in li.text("/account/password")
    for weak in ("111111111111", "123456789012", "abcdefghijkl", "Password1234", "909090909090"):
        refused = li.post(
            "/account/password",
            {"confirm_password": "correct horse battery", "new_password": weak,
             "new_password_again": weak},
            status=400,
        )  # fmt: skip
        assert beside(refused, "new_password").startswith("太容易猜到"), weak
    assert weak_password("wang-archive-2026", "wang")  # the user name inside
    assert weak_password("WoAiNi13141314")  # a common one, in any case
    assert not weak_password("li-archive-2026", "li")  # a name of two letters is no rule
    assert not weak_password("我的档案室在三楼东侧", "li")
    assert not weak_password("correct horse battery")


def test_a_list_refused_for_a_held_record_says_so_in_chinese(world: World) -> None:

    list_id, _number = signing_list(world)
    with world.arc.transaction() as session:  # a second due record, to be held
        record = session.get_one(Record, world.records["XS-public"])
        record.record_type, record.filed_on = "application", date(2010, 3, 1)
        record.retention_dirty = True
    refresh_dirty(world.arc)
    number_pending(world.arc)
    sun = Browser(world, "sun")
    sun.post(f"/retention/lists/{list_id}/send-back", {"reason": "补充鉴定意见"})
    sun.post(
        "/retention/holds",
        {"name": "税务稽查", "reason": "2026 稽查", "scope": "records",
         "record_ids": str(world.records["XS-public"])},
    )  # fmt: skip
    held = sun.post(
        f"/retention/lists/{list_id}/edit",
        {"opinion": "补充后的鉴定意见", "add": str(world.records["XS-public"])},
        status=409,
    )
    assert DEAD_END not in held
    with world.arc.sessions() as session:
        code = session.get_one(Record, world.records["XS-public"]).reference_code
    assert beside(held, "add") == f"档案 {code} 处于保全中（税务稽查）：请先解除保全。"
    assert "补充后的鉴定意见</textarea>" in held
    not_due = sun.post(
        f"/retention/lists/{list_id}/edit", {"add": str(world.records["CG-internal"])}, status=400
    )
    assert "尚未到期" in beside(not_due, "add")

    new = sun.post(
        "/retention/lists",
        {"action": "transfer", "record_ids": "Z109-不存在", "opinion": "移交市档案馆",
         "receiver": "上海市档案馆"},
        status=400,
    )  # fmt: skip
    assert "Z109-不存在" in beside(new, "record_ids")
    typos = sun.post(  # every reference that names nothing, at once
        "/retention/lists",
        {"action": "destroy", "opinion": "到期销毁", "record_ids": "Z109-不存在、Z110-无"},
        status=400,
    )
    assert (
        beside(typos, "record_ids")
        == "“Z109-不存在”、“Z110-无”既不是本档案库的档号，也不是档案 ID。"
    )
    both = sun.post(  # every refused record is named at once, beside the field
        "/retention/lists",
        {"action": "destroy", "opinion": "到期销毁",
         "record_ids": f"{world.records['CG-internal']} {world.records['XS-public']}"},
        status=400,
    )  # fmt: skip
    assert "尚未到期" in beside(both, "record_ids")
    assert f"档案 {code} 处于保全中（税务稽查）" in beside(both, "record_ids")
    with world.arc.sessions() as session:  # nothing made of the refused attempts
        assert session.scalar(select(func.count()).select_from(DispositionList)) == 1
    assert "移交市档案馆</textarea>" in new
    assert 'value="上海市档案馆"' in new
    assert re.search(r'<option value="transfer"\s*selected', new)


def test_a_schedule_code_that_cannot_be_read_comes_back_in_chinese(world: World) -> None:
    sun = Browser(world, "sun")
    refused = sun.post(
        "/retention/schedules",
        {"key": "voucher_x", "name": "会计凭证（新）", "code": "Q9", "trigger": "year_end",
         "disposal": "review"},
        status=400,
    )  # fmt: skip
    assert DEAD_END not in refused
    assert 'value="会计凭证（新）"' in refused
    assert 'value="Q9"' in refused
    assert beside(refused, "code") == "保管期限代码为 Y，或 D 加年数：D10、D30。"


def test_the_request_form_offers_the_configured_limit(tmp_path: Path) -> None:
    world = make_world(tmp_path, ARCHIVE_ACCESS_MAX_DAYS="30")
    try:
        record = world.records["CG-internal"]
        li = Browser(world, "li")
        page = li.text(f"/records/{record}")
        assert re.search(r'name="days"[^>]*max="30"', page)
        assert "最多 30 天" in page
        refused = li.post(
            f"/records/{record}/request",
            {"purpose": "核对", "scope": "view", "days": "31"},
            status=400,
        )
        assert beside(refused, "days") == "请申请 1 至 30 天。"
    finally:
        world.arc.close()


def test_an_upload_with_a_date_that_does_not_exist_is_told_once_beside_the_date(
    world: World,
) -> None:
    zhang = Browser(world, "zhang")
    files = [(io.BytesIO(f"会议纪要 {n}".encode()), f"纪要{n}.txt") for n in range(3)]
    page = zhang.post(
        "/upload",
        {"files": files, "project": "华东仓储改造项目", "date": "2026-13", "title": "三次纪要"},
        status=400,
        content_type="multipart/form-data",
    )
    assert DEAD_END not in page
    assert beside(page, "date").startswith("“2026-13”不是有效日期")
    assert page.count("不是有效日期") == 1  # once for the batch, not once a file
    assert 'value="华东仓储改造项目"' in page
    assert 'value="三次纪要"' in page
    assert "请重新选择文件" in page  # the browser drops the chosen files: said, not silent
    assert "请重新选择文件" not in zhang.text("/upload")
    with world.arc.sessions() as session:
        assert session.scalars(select(IngestJob)).all() == []  # nothing received
    # A date as people write it is taken: 2026年11月3日 is 2026-11-03, 2026/11 is 2026-11.
    written_ways = (
        ("2026年11月3日", "2026-11-03"),
        ("2026/11", "2026-11"),
        ("２０２６年１１月", "2026-11"),  # typed full-width
    )
    for written, kept in written_ways:
        zhang.post(
            "/upload",
            {"files": [(io.BytesIO(f"纪要 {kept}".encode()), "纪要.txt")],
             "project": "华东仓储改造项目", "date": written},
            status=302,
            content_type="multipart/form-data",
        )  # fmt: skip
        with world.arc.sessions() as session:
            newest = session.scalars(select(IngestJob).order_by(IngestJob.created_at.desc()))
            assert newest.first().params["date"] == kept  # type: ignore[union-attr]
    # A typo'd year is refused there and then, not stored to break the retention clock.
    typo = zhang.post(
        "/upload",
        {"files": [(io.BytesIO("纪要".encode()), "纪要.txt")], "date": "9999-12"},
        status=400,
        content_type="multipart/form-data",
    )
    assert beside(typo, "date").startswith("“9999-12”不是有效日期")


def test_a_description_too_long_is_told_beside_its_field_on_upload_and_record(
    world: World,
) -> None:
    zhang = Browser(world, "zhang")
    page = zhang.post(
        "/upload",
        {
            "files": [(io.BytesIO("会议纪要".encode()), "纪要.txt")],
            "doc_number": "号" * 101,
            "author": "综合组",
        },
        status=400,
        content_type="multipart/form-data",
    )
    assert beside(page, "doc_number") == "最多 100 个字符。"
    assert 'value="综合组"' in page
    with world.arc.sessions() as session:
        assert session.scalars(select(IngestJob)).all() == []
    record = world.records["CG-internal"]
    typed = {"author": "新的责任者", "doc_number": "", "remarks": "备" * 2001}
    refused = Browser(world, "sun").post(f"/records/{record}/description", typed, status=400)
    assert beside(refused, "remarks") == "最多 2000 个字符。"
    assert 'value="新的责任者"' in refused


def test_search_dates_the_wrong_way_round_are_said(world: World) -> None:
    page = Browser(world, "zhang").text("/search?from=2026-05-01&to=2026-01-01")
    assert "归档日期的起始日晚于截止日" in page


def test_a_schedule_counting_from_no_event_is_told_beside_the_events(world: World) -> None:
    """Nothing chosen in a multiple select sends nothing: the reason still goes beside it."""
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
    typed = {"key": "warranty", "name": "质保书", "code": "D5", "trigger": "event",
             "disposal": "destroy", "record_type": "warranty", "basis": "公司制度"}  # fmt: skip
    sun = Browser(world, "sun")
    page = sun.post("/retention/schedules", typed, status=400)
    assert beside(page, "events") == "保管期限自事件起算：请选择相应的事件。"
    assert 'value="质保书"' in page
    # An event with neither a project nor a record: said beside the project, not "not both".
    nowhere = sun.post(
        "/retention/events",
        {"event_type": "contract_terminated", "occurred_on": "2026-01-05", "project": "",
         "record_id": "", "note": "合同提前终止"},
        status=400,
    )  # fmt: skip
    assert beside(nowhere, "project") == "请填写发生此事件的项目，或选择一件档案。"


def test_a_schedule_applies_to_classes_chosen_from_the_vocabulary(world: World) -> None:
    """Process and stage are chosen by their names; a made-up one (a crafted form, the API)
    is refused beside its field, and a record type is a code the pages can name."""
    sun = Browser(world, "sun")
    form = sun.text("/retention/schedules")
    assert '<option value="finance">财务管理</option>' in form
    assert '<option value="">不限</option>' in form
    assert '<option value="contract">合同</option>' in form  # the record types offered
    typed = {"key": "warranty", "name": "质保书", "code": "D5", "trigger": "year_end",
             "disposal": "destroy", "record_type": "warranty", "process": "财务",
             "basis": "公司制度"}  # fmt: skip
    page = sun.post("/retention/schedules", typed, status=400)
    assert beside(page, "process") == "“财务”不在可选范围内：请从列表中选择。"
    assert 'value="质保书"' in page
    page = sun.post(
        "/retention/schedules", typed | {"process": "finance", "record_type": "质保书"}, status=400
    )
    assert beside(page, "record_type").startswith("文件类型是由小写字母、数字和 _ 组成的代码")
    with world.arc.sessions() as session:
        assert "warranty" not in {s.key for s in current_schedules(session)}
    sun.post("/retention/schedules", typed | {"process": "finance"}, status=302)
    with world.arc.sessions() as session:
        saved = next(s for s in current_schedules(session) if s.key == "warranty")
    assert (saved.process, saved.record_type) == ("finance", "warranty")


def test_every_problem_with_a_schedule_is_said_at_once_beside_its_field(world: World) -> None:
    typed = {"key": "Bad Key", "name": "", "code": "X9", "category": "1", "trigger": "year_end",
             "disposal": "destroy", "record_type": "质保书", "process": "财务"}  # fmt: skip
    page = Browser(world, "sun").post("/retention/schedules", typed, status=400)
    for field in ("key", "name", "code", "category", "record_type", "process"):
        assert beside(page, field), field
    assert 'value="Bad Key"' in page
