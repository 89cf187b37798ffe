"""The search page reads well: before any words it lists every record the person may see,
newest first, with the facets (never "找到 0 件档案"); a hit's snippet is a few lines with
the Chinese words of the query marked."""

from __future__ import annotations

import re

from sqlalchemy import select

from archive.models import AccessEvent
from search.indexer import flush
from tests.access.conftest import World
from tests.access.test_web_pages import Browser

TITLES = re.compile(r'<a class="title" href="/records/[^"]+">([^<]+)</a>')
SNIPPETS = re.compile(r'<p class="snippet">(.*?)</p>', re.DOTALL)
CLAUSE = "第二条 付款方式。甲方应在验收合格后三十日内支付合同价款的百分之九十五。"


def test_before_any_words_the_records_one_may_see_newest_first(world: World) -> None:
    flush(world.arc)
    zhang = Browser(world, "zhang")  # a CG specialist: public and internal, CG's confidential
    page = zhang.text("/search")
    assert "找到 0" not in page
    assert "找到" not in page
    assert "您可查看的档案共 5 件，最新的在前" in page
    seen = ["CG-public", "CG-internal", "CG-confidential", "XS-public", "XS-internal"]
    assert TITLES.findall(page) == [f"档案 {key}" for key in reversed(seen)]
    assert '<aside class="facets"' in page
    assert "<h2>部门</h2>" in page
    assert 'name="record"' in page  # each row can be ticked
    # Browsing shows no text, so it reads nothing: no snippet line in the access log.
    with world.arc.sessions() as session:
        snippets = session.scalars(select(AccessEvent).where(AccessEvent.action == "snippet"))
        assert list(snippets) == []
    # A record filed now comes first; a facet narrows the browsing.
    world.add_record("CG-new", "CG", "internal", b"x", "new.txt", "text/plain", text="新的")
    flush(world.arc)
    assert TITLES.findall(zhang.text("/search"))[0] == "档案 CG-new"
    narrowed = TITLES.findall(zhang.text("/search?sensitivity=confidential"))
    assert narrowed == ["档案 CG-confidential"]


def test_a_snippet_is_a_few_lines_with_the_chinese_words_marked(world: World) -> None:
    text = (
        "华东仓储改造项目合同。"
        + "第一条 工程概况。本合同所称仓储设施位于浦东。" * 20
        + CLAUSE * 20
    )
    world.add_record("CG-long", "CG", "internal", b"x", "long.txt", "text/plain", text=text)
    flush(world.arc)
    wang = Browser(world, "wang")  # heads CG: reads its snippets
    page = wang.text("/search?q=付款方式")
    (snippet,) = SNIPPETS.findall(page)
    assert "<mark>付款方式</mark>" in snippet  # jieba's word, marked whole
    shown = re.sub(r"<[^>]+>", "", snippet)
    assert 60 <= len(shown) <= 190  # two or three lines, not the document
    assert "找到 1 件档案" in page
    # A specialist who may not read it finds it by its description, never by words in its
    # text (they would test the text word by word), and sees no snippet.
    zhang = Browser(world, "zhang")
    nothing = zhang.text("/search?q=付款方式")
    assert "档案 CG-long" not in nothing
    assert "正文中的词只能检索到您有权阅读的档案" in nothing  # and says where else to look
    assert "在档案页申请利用" in nothing
    listed = zhang.text("/search?q=CG-long")
    assert "档案 CG-long" in listed
    assert SNIPPETS.findall(listed) == []


def test_a_search_that_cannot_run_comes_back_on_the_search_page_with_the_words_kept(
    world: World,
) -> None:
    zhang = Browser(world, "zhang")
    brackets = zhang.text("/search?q=((", status=400)
    assert 'name="q" value="(("' in brackets
    assert "无法按这些词检索" in brackets
    assert 'aria-invalid="true" aria-describedby="problem-q"' in brackets
    date = zhang.text("/search?q=仓储&from=2026-02-30", status=400)
    assert 'name="q" value="仓储"' in date
    assert "“2026-02-30”不是有效日期" in date
    assert 'aria-describedby="problem-from"' in date
    assert "must be" not in brackets + date
    # A stale or typed link: each problem said in words, never the parameter's English.
    for path, said in (
        ("/search?q=仓储&page=abc", "页码从 1 起"),
        ("/search?q=仓储&sort=foo", "按相关度或日期排序"),
        ("/search?q=仓储&page=999", "只能翻阅前 10000 条结果"),
    ):
        page = zhang.text(path, status=400)
        assert said in page, path
        assert "must be" not in page
        assert "引号" not in page  # not the message for unbalanced quotes
    flush(world.arc)
    past = zhang.text("/search?page=99")
    assert "已超过最后一页" in past
    assert "还没有您可查看的档案" not in past
