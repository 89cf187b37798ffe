"""A snippet is one window of a few lines around the query's words, the words marked whole:
jieba's overlapping search-mode words (验收报告, 验收, 报告) make one mark, and a document
full of the words still gives about three lines, not fifteen. With no words, the search
browses: every record the caller may know of, newest first, and no text at all."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from search.analysis import chinese_words, fold, spans
from search.index import Hit, SearchIndex, Visibility, one_by_one
from search.snippets import SNIPPET_CHARS, snippet_html, widened
from tests.search.test_index import EVERYTHING, KEY, doc

CLAUSE = "第二条 付款方式。甲方应在验收合格后三十日内支付合同价款的百分之九十五。"
TEXT = (
    "华东仓储改造项目合同。\n"
    + "第一条 工程概况。本合同所称仓储设施位于浦东。\n" * 30
    + CLAUSE * 30
)
PLAIN = re.compile(r"<[^>]+>")


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    ix = SearchIndex(tmp_path / "index", KEY)
    ix.write(
        [
            doc("long", "仓储合同", TEXT, days=1),
            doc("report", "验收报告", "经检查，验收报告已签署 <b>粗体</b> & 附件", days=3),
            doc("secret", "人事档案", "员工薪酬调整", department="RL", sensitivity="confidential"),
        ]
    )
    return ix


def snippet(index: SearchIndex, text: str, record: str) -> str:
    results = index.search(
        text,
        EVERYTHING,
        snippets=one_by_one(
            lambda hit, block: (
                TEXT if hit.record_id == "long" else "经检查，验收报告已签署 <b>粗体</b> & 附件"
            )
        ),
    )
    found = next(hit.snippet for hit in results.hits if hit.record_id == record)
    assert found is not None
    return found


def marked(fragment: str) -> list[str]:
    return re.findall(r'<mark class="match term\d+">([^<]+)</mark>', fragment)


@pytest.mark.parametrize("query", ["付款方式", "合同 付款", "验收合格", "仓储"])
def test_a_snippet_is_a_few_lines_however_often_the_words_occur(
    index: SearchIndex, query: str
) -> None:
    fragment = snippet(index, query, "long")
    shown = PLAIN.sub("", fragment)
    assert len(shown) <= SNIPPET_CHARS + 2 + 4  # the window, two "…", a word not cut
    assert len(shown) >= 60  # context, not the word alone
    assert "\n" not in fragment
    assert marked(fragment)


def test_both_words_of_a_query_are_in_the_window_chosen(index: SearchIndex) -> None:
    fragment = snippet(index, "工程概况 付款方式", "long")
    assert set(marked(fragment)) == {"工程概况", "付款方式"}  # where the two meet


def test_a_chinese_word_jieba_cuts_in_pieces_is_marked_whole(index: SearchIndex) -> None:
    assert marked(snippet(index, "付款方式", "long"))[0] == "付款方式"
    assert marked(snippet(index, "验收报告", "report")) == ["验收报告"]  # not 验收, 报告 apart


def test_the_documents_text_is_escaped_only_the_marks_are_tags(index: SearchIndex) -> None:
    fragment = snippet(index, "验收报告", "report")
    assert "&lt;b&gt;粗体&lt;/b&gt; &amp; 附件" in fragment
    assert "<b>" not in fragment


def test_no_words_browses_newest_first_with_no_text(index: SearchIndex) -> None:
    read: list[str] = []

    def source(hit, block):  # type: ignore[no-untyped-def]
        read.append(hit.record_id)
        return TEXT

    results = index.search("", EVERYTHING, snippets=one_by_one(source))
    assert [hit.record_id for hit in results.hits] == ["report", "long", "secret"]
    assert results.total == 3
    assert results.facets["department"] == {"XS": 2, "RL": 1}
    assert all(hit.snippet is None for hit in results.hits)
    assert read == []
    staff = Visibility(everywhere=frozenset({"internal"}))
    assert [hit.record_id for hit in index.search("  ", staff).hits] == ["report", "long"]


def test_english_words_are_not_cut_at_the_window_edges(tmp_path: Path) -> None:
    text = " ".join(["warehouse"] * 40 + ["acceptance", "report"] + ["inventory"] * 40)
    ix = SearchIndex(tmp_path / "index", KEY)
    ix.write([doc("en", "Report", text)])
    (hit,) = ix.search("acceptance", EVERYTHING, snippets=one_by_one(lambda hit, block: text)).hits
    assert hit.snippet is not None
    shown = PLAIN.sub("", hit.snippet).strip("…")
    words = shown.split(" ")
    assert set(words) <= {"warehouse", "acceptance", "report", "inventory"}
    assert marked(hit.snippet) == ["acceptance"]


def test_folded_punctuation_beside_chinese_is_given_back_its_width() -> None:
    folded = "经检查,验收报告(第3版)已签署:合格;English, (kept) as is: yes"
    assert widened(folded) == "经检查，验收报告（第3版）已签署：合格；English, (kept) as is: yes"
    assert len(widened(folded)) == len(folded)  # one for one: the marks' offsets hold
    shown = snippet_html(
        "甲方,乙方应在验收合格后付款:百分之九十五。",
        frozenset({"验收"}),
        lambda text: [("验收", text.index("验收"), text.index("验收") + 2)],
    )
    assert shown == '甲方，乙方应在<mark class="match term0">验收</mark>合格后付款：百分之九十五。'


@pytest.mark.parametrize(
    "query",
    ["付款方式", "验收 合同", "合同價款", "浦东 supplier", "仓储改造 AND 第一条", "百分之九十五"],
)
def test_marking_only_the_runs_that_hold_a_query_word_marks_the_same(query: str) -> None:
    """Runs of Chinese without any of the query's words are not segmented when a snippet is
    marked: every word jieba finds is a piece of its run, so the marks are the same."""
    text = fold(TEXT + "供应商 supplier 验收报告")
    wanted = set(fold(query).split()) | chinese_words(query)
    every = [span for span in spans(text, folded=True) if span[0] in wanted]
    only = list(spans(text, folded=True, only=chinese_words(query)))
    assert every  # the query's words are in the text
    assert [span for span in only if span[0] in wanted] == every
    assert len(only) < len(list(spans(text, folded=True)))  # less was segmented


def test_a_search_waiting_for_its_snippets_does_not_hold_up_another(index: SearchIndex) -> None:
    """Snippets are read (on S3, a ranged GET each) and marked outside the index's lock, so
    the other threads of a web worker search meanwhile."""
    entered, release = threading.Event(), threading.Event()

    def slow_store(hit: Hit, block: int | None) -> str:
        entered.set()
        release.wait(10)
        return TEXT

    first = threading.Thread(
        target=lambda: index.search("合同", EVERYTHING, snippets=one_by_one(slow_store))
    )
    first.start()
    try:
        assert entered.wait(10)
        found: list[int] = []
        second = threading.Thread(
            target=lambda: found.append(index.search("验收报告", EVERYTHING).total)
        )
        second.start()
        second.join(5)
        assert found == [1], "the second search waited for the first one's snippets"
    finally:
        release.set()
        first.join(10)
