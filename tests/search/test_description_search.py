"""责任者 and 文号 in the index: filters (a 文号 however its brackets are written), a 文号
typed as a search is that number only, and the description's words are found."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.index import FILTERS, SearchIndex, Visibility
from tests.search.test_index import EVERYTHING, KEY, doc


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    ix = SearchIndex(tmp_path / "index", KEY)
    ix.write(
        [
            doc(
                "twelve",
                "安全检查通知",
                "各仓库开展安全检查",
                author="上海市仓储管理局",
                doc_number="沪仓发〔2025〕12号",
                remarks="原件存行政部",
            ),
            doc(
                "thirteen",
                "消防通知",
                "各仓库开展消防演练 2025 12 号",  # the number's words, not the number
                author="上海市仓储管理局",
                doc_number="沪仓发〔2025〕13号",
            ),
            doc(
                "secret",
                "人事通知",
                "薪酬",
                sensitivity="confidential",
                department="RL",
                author="人力资源部",
                doc_number="人发〔2025〕1号",
            ),
            doc("plain", "会议纪要", "无文号的纪要"),
        ]
    )
    return ix


def ids(
    index: SearchIndex, text: str, visibility: Visibility = EVERYTHING, **filters: str
) -> set[str]:
    return {hit.record_id for hit in index.search(text, visibility, filters).hits}


def test_the_description_fields_are_filters() -> None:
    assert {"author", "doc_number"} <= set(FILTERS)


@pytest.mark.parametrize(
    "written", ["沪仓发〔2025〕12号", "沪仓发[2025]12号", "沪仓发［2025］12号"]
)
def test_a_doc_number_filter_matches_however_the_brackets_are_written(
    index: SearchIndex, written: str
) -> None:
    assert ids(index, "", doc_number=written) == {"twelve"}
    assert ids(index, "通知", doc_number=written) == {"twelve"}
    assert ids(index, "消防", doc_number=written) == set()


def test_an_author_filter_is_exact(index: SearchIndex) -> None:
    assert ids(index, "", author="上海市仓储管理局") == {"twelve", "thirteen"}
    assert ids(index, "", author="上海市仓储") == set()
    hits = index.search("", EVERYTHING, {"author": "上海市仓储管理局"}).hits
    assert {(h.author, h.doc_number) for h in hits} == {
        ("上海市仓储管理局", "沪仓发〔2025〕12号"),
        ("上海市仓储管理局", "沪仓发〔2025〕13号"),
    }


def test_a_doc_number_typed_as_a_search_finds_that_number_only(index: SearchIndex) -> None:
    assert ids(index, "沪仓发〔2025〕12号") == {"twelve"}
    assert ids(index, "沪仓发[2025]13号") == {"thirteen"}


def test_the_description_words_are_searched(index: SearchIndex) -> None:
    assert ids(index, "行政部 原件") == {"twelve"}  # 备注
    assert ids(index, "仓储管理局") == {"twelve", "thirteen"}  # 责任者


def test_filters_keep_to_what_the_caller_may_know(index: SearchIndex) -> None:
    staff = Visibility(everywhere=frozenset({"public", "internal"}))
    assert ids(index, "", staff, author="人力资源部") == set()
    assert ids(index, "", staff, doc_number="人发〔2025〕1号") == set()
    results = index.search("", staff, {"author": "人力资源部"})
    assert results.total == 0
    assert all(not counts for counts in results.facets.values())


def test_each_part_of_the_description_is_found_whatever_it_ends_or_starts_with(
    tmp_path: Path,
) -> None:
    """Run together, "销售部综合组 沪销发〔2026〕5号" segmented as "…综合 组沪销 发…", so neither
    the 责任者's last word nor the 文号 was found (found by a security review, on uploads)."""
    ix = SearchIndex(tmp_path / "index", KEY)
    ix.write(
        [
            doc(
                "sales",
                "dn",
                "关于培训安排的通知",
                author="销售部综合组",
                doc_number="沪销发〔2026〕5号",
            )
        ]
    )
    assert ids(ix, "综合组") == {"sales"}
    assert ids(ix, "销售部综合组") == {"sales"}
    assert ids(ix, "沪销发〔2026〕5号") == {"sales"}
