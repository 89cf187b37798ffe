"""The search facade: Chinese and English matching, permissions inside the query, hostility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from search.analysis import words
from search.index import IndexDoc, QueryError, SearchIndex, Visibility

EVERYTHING = Visibility(everything=True)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEY = bytes(range(32))


def doc(
    record: str,
    title: str,
    content: str,
    department: str = "XS",
    sensitivity: str = "internal",
    days: int = 0,
    **extra: Any,  # IndexDoc's other fields
) -> IndexDoc:
    return IndexDoc(
        record,
        f"v-{record}",
        title,
        content,
        f"{record}-2026-01-1.0",
        extra.pop("project", "华东仓储改造项目"),
        department,
        sensitivity,
        T0 + timedelta(days=days),
        **extra,
    )


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    ix = SearchIndex(tmp_path / "index", KEY)
    ix.write(
        [
            doc("green", "应急预案", "开通綠色通道，确保物资运输", days=1),
            doc("ocr", "扫描件", "绿 色 通 道 使 用 记 录", days=2),
            doc("broken", "PDF", "本项目已开通绿色\n通道，详见附件", days=3),
            doc(
                "contract",
                "采购合同",
                "甲方 乙方 The supplier shall deliver servers",
                department="CG",
                sensitivity="restricted",
                record_type="contract",
                days=4,
            ),
            doc(
                "secret",
                "人事档案",
                "员工薪酬调整 salary review",
                department="RL",
                sensitivity="confidential",
                days=5,
            ),
            doc("english", "Annual report", "Reports of the warehouse acceptance", days=6),
        ]
    )
    return ix


def found(index: SearchIndex, text: str, visibility: Visibility = EVERYTHING) -> set[str]:
    return {hit.record_id for hit in index.search(text, visibility).hits}


@pytest.mark.parametrize("text", ["绿色通道", "綠色通道"])
def test_both_scripts_find_both_scripts_and_ocr_and_line_breaks(
    index: SearchIndex, text: str
) -> None:
    assert found(index, text) == {"green", "ocr", "broken"}


def test_phrases_across_line_breaks_and_ocr_spaces(index: SearchIndex) -> None:
    assert found(index, '"绿色通道"') == {"green", "ocr", "broken"}
    assert found(index, '"通道绿色"') == set()


def test_english_is_lower_cased_and_stemmed(index: SearchIndex) -> None:
    assert found(index, "REPORT") == {"english"}
    assert found(index, "delivering") == {"contract"}


def test_mixed_chinese_and_english(index: SearchIndex) -> None:
    assert found(index, "supplier AND 甲方") == {"contract"}
    assert found(index, "salary 薪酬") == {"secret"}


def test_jieba_search_mode_finds_words_inside_compounds() -> None:
    assert {"验收", "报告", "验收报告"} <= set(words("验收报告"))
    assert list(words("華東 Reports")) == ["华东", "reports"]


STAFF = frozenset({"public", "internal"})


@pytest.mark.parametrize(
    ("visibility", "expected"),
    [
        (
            Visibility(
                everywhere=STAFF, department="XS", in_department=frozenset({"confidential"})
            ),
            {"green", "ocr", "broken", "english"},
        ),
        (
            Visibility(
                everywhere=STAFF, department="RL", in_department=frozenset({"confidential"})
            ),
            {"green", "ocr", "broken", "english", "secret"},
        ),
        (
            Visibility(everywhere=STAFF | {"restricted"}, department="XS"),
            {"green", "ocr", "broken", "english", "contract"},
        ),
        (
            Visibility(everywhere=STAFF, records=frozenset({"secret"})),
            {"green", "ocr", "broken", "english", "secret"},
        ),
        (Visibility(), set()),
    ],
    ids=["staff-XS", "staff-RL", "director", "granted", "nobody"],
)
def test_hits_counts_and_facets_only_show_what_the_caller_may_know(
    index: SearchIndex, visibility: Visibility, expected: set[str]
) -> None:
    results = index.search(
        "项目 OR 甲方 OR 员工 OR 绿色 OR report OR 扫描件", visibility, per_page=100
    )
    assert {hit.record_id for hit in results.hits} == expected
    assert results.total == len(expected)
    counted = sum(results.facets["department"].values())
    assert counted == len(expected)
    if "contract" not in expected:
        assert "restricted" not in results.facets["sensitivity"]
        assert "CG" not in results.facets["department"]


def test_words_reach_the_text_only_of_what_the_caller_may_read(tmp_path: Path) -> None:
    """Outside ``readable`` a record is found, and scored, by its description alone: its
    text cannot be tested word by word (an amount, a code name) through the hits, their
    number, their order or a NOT."""
    ix = SearchIndex(tmp_path / "index", KEY)
    ix.write(
        [
            doc("open", "验收报告", "合同金额 伍拾万元 付款方式", department="CG", days=1),
            doc("closed", "验收报告", "合同金额 伍拾万元 付款方式", department="XS", days=2),
            doc("plain", "验收报告", "会议纪要", department="XS", days=3),
        ]
    )
    reads_cg = Visibility(department="CG", in_department=frozenset({"internal"}))

    def hits(text: str) -> list[str]:
        return [h.record_id for h in ix.search(text, EVERYTHING, readable=reads_cg).hits]

    assert hits("伍拾万元") == ["open"]
    assert hits('"合同金额 伍拾万元"') == ["open"]  # a phrase: Whoosh's own matchers
    assert ix.search("伍拾万元 OR 纪要", EVERYTHING, readable=reads_cg).total == 1
    assert set(hits("验收报告 NOT 伍拾万元")) == {"closed", "plain"}  # its text: not there
    # Ranked by the description alone: the closed record's words in its text add nothing,
    # so it ties with the one that lacks them (the newer first), as a phrase and as words.
    for text in ("验收报告 OR 伍拾万元", '"验收报告" OR "合同金额 伍拾万元"'):
        ranked = ix.search(text, EVERYTHING, readable=reads_cg).hits
        assert ranked[0].record_id == "open"
        scores = {h.record_id: h.score for h in ranked}
        assert scores["closed"] == pytest.approx(scores["plain"])
    # Without the restriction (the index alone), the text is searched everywhere.
    assert {h.record_id for h in ix.search("伍拾万元", EVERYTHING).hits} == {"open", "closed"}


def test_scores_say_nothing_of_what_the_caller_may_not_know_or_read(tmp_path: Path) -> None:
    """A hit's score (the API shows it) must not count documents the caller may not know
    of, or whose text they may not read: else a readable record's score for a word tells
    how many hidden documents hold it."""
    ix = SearchIndex(tmp_path / "index", KEY)
    mine = [
        doc("open", "验收报告", "收购 星河公司 的 方案", department="CG", days=1),
        doc("other", "会议纪要", "年度预算 讨论", department="CG", days=2),
    ]
    ix.write(mine)
    knows_cg = Visibility(department="CG", in_department=frozenset({"internal", "secret"}))
    # Reads CG's restricted records by standing but may not know of them (a supervisor
    # cleared above what the role may know): they count neither.
    reads_cg = Visibility(department="CG", in_department=frozenset({"internal", "restricted"}))
    asked = ["星河公司", "星河公司 OR 预算", '"收购 星河公司"']

    def scores() -> list[list[tuple[str, float]]]:
        return [
            [(h.record_id, h.score) for h in ix.search(a, knows_cg, readable=reads_cg).hits]
            for a in asked
        ]

    before = scores()
    assert before[0][0][0] == "open"
    assert before[0][0][1] > 0
    hidden = [  # unknown (another department) and known but not readable (secret)
        *(doc(f"xs{n}", "方案", "星河公司 收购 星河公司", department="XS") for n in range(6)),
        *(
            doc(f"s{n}", "方案", "收购 星河公司", department="CG", sensitivity="secret")
            for n in range(6)
        ),
        *(
            doc(f"r{n}", "方案", "星河公司 " + "填充 " * n, "CG", sensitivity="restricted")
            for n in range(6)
        ),
    ]
    ix.write(hidden)
    assert ix.search("星河公司", Visibility(everything=True)).total == 19  # they are there
    after = scores()
    assert after == before


def test_filters_paging_and_date_sort(index: SearchIndex) -> None:
    page1 = index.search("绿色", EVERYTHING, per_page=2, sort="date")
    page2 = index.search("绿色", EVERYTHING, page=2, per_page=2, sort="date")
    assert [h.record_id for h in page1.hits] == ["broken", "ocr"]
    assert [h.record_id for h in page2.hits] == ["green"]
    assert page1.total == 3
    only_cg = index.search("甲方 OR 绿色", EVERYTHING, filters={"department": "CG"})
    assert [h.record_id for h in only_cg.hits] == ["contract"]


@pytest.mark.parametrize(
    "text",
    [
        '"绿色',
        "AND",
        "OR OR",
        "NOT",
        ")(",
        "内容 AND (",
        "title:绿色",
        "con*",
        "[a TO z]",
        "/x/",
        "\x00\x07绿色",
        "绿色^100",
        "~",
        "*",
        "'",
        "\u202e绿色",
        "　",
        "a" * 999,
        "NOT NOT 绿色",  # Whoosh's parser raised IndexError here: a 500
        "绿色 AND NOT NOT x",
    ],
)
def test_hostile_queries_give_results_or_a_clear_error(index: SearchIndex, text: str) -> None:
    outcome: str
    try:
        outcome = f"{index.search(text, EVERYTHING).total} hits"
    except QueryError as exc:
        outcome = f"refused: {exc}"
    assert outcome.endswith(" hits") or len(outcome) > len("refused: ")


def test_overlong_queries_are_refused_and_empty_ones_browse(index: SearchIndex) -> None:
    with pytest.raises(QueryError, match="longer than"):
        index.search("绿" * 10_000, EVERYTHING)
    browsed = index.search("  \n ", EVERYTHING)  # every record, newest first
    assert [hit.record_id for hit in browsed.hits][:2] == ["english", "secret"]
    assert browsed.total == 6


def test_field_syntax_cannot_probe_other_fields(index: SearchIndex) -> None:
    # "sensitivity:restricted" is just two words, not a query on the sensitivity field.
    assert found(index, "sensitivity:restricted") == set()


def test_update_replaces_and_remove_deletes(index: SearchIndex) -> None:
    index.write([doc("green", "应急预案 第二版", "内容已更新 新增条款")])
    assert found(index, "綠色通道") == {"ocr", "broken"}
    assert found(index, "新增条款") == {"green"}
    index.write(remove=["green", "ocr"])
    assert found(index, "绿色") == {"broken"}
    assert index.doc_count() == 4


def test_another_schema_version_means_a_fresh_index(index: SearchIndex) -> None:
    assert not index.needs_rebuild()
    (index.directory / "schema_version").write_text("0\n")
    assert index.needs_rebuild()
    assert index.doc_count() == 0  # opened as a new, empty index, to be rebuilt


def test_a_hit_carries_its_reference_code(tmp_path: Path) -> None:
    ix = SearchIndex(tmp_path / "index", KEY)
    ix.write([doc("numbered", "验收报告", "正文", reference_code="Z109-WS·2026-D10-XS-0001")])
    ix.write([doc("pending", "验收报告", "正文", days=1)])
    codes = {h.record_id: h.reference_code for h in ix.search("验收报告", EVERYTHING).hits}
    assert codes == {"numbered": "Z109-WS·2026-D10-XS-0001", "pending": ""}
