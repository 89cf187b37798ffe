"""No dead ends: a form the server refuses comes back on its own page, the reason beside
the field in Chinese, everything typed still there, with a 4xx status (never 无法完成)."""

from __future__ import annotations

import re

from tests.access.conftest import World
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
    assert offered and int(offered.group(1)) == limit  # the form offers what the server allows
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
    empty = li.post(f"/records/{record}/request", {"purpose": " ", "days": "5"}, status=400)
    assert beside(empty, "purpose") == "请填写此项。"


def test_the_green_channel_keeps_its_form_and_says_what_it_opened(world: World) -> None:
    wang = Browser(world, "wang")
    form = wang.text("/emergency")
    assert "赵" in form or "zhao" in form  # who could approve afterwards is named
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
    assert "北京时间" in opened or re.search(r"\d{4}年\d{1,2}月\d{1,2}日", opened)


def test_the_green_channel_warns_the_only_director(world: World) -> None:
    from archive.models import User
    from sqlalchemy import select

    with world.arc.transaction() as session:
        session.scalars(select(User).where(User.username == "qian")).one().active = False
    zhao = Browser(world, "zhao")
    assert "没有其他人能够审批" in zhao.text("/emergency")
    assert "没有其他人能够审批" not in Browser(world, "wang").text("/emergency")
