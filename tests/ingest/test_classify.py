from __future__ import annotations

import pytest

from archive.models import Sensitivity
from ingest.classify import Document, RuleError, RuleSpec, classify, keyword_matches, validate
from ingest.rules import default_rules, spec_from_dict

BOOK = [spec_from_dict(rule) for rule in default_rules()]


def test_chinese_keywords_match_inside_runs_of_chinese() -> None:
    # No spaces or word boundaries in Chinese: a substring match is the only sensible one.
    assert keyword_matches("会议纪要", "本次项目会议纪要如下")
    assert not keyword_matches("会议纪要", "会议 纪要")


def test_latin_keywords_match_whole_words_only() -> None:
    assert keyword_matches("contract", "This Contract is made")
    assert keyword_matches("contract", "采购contract副本")
    assert not keyword_matches("contract", "the contractor shall")


@pytest.mark.parametrize(
    ("text", "filename", "expected"),
    [
        ("采购合同 甲方：华东公司 乙方：供应商", "a.pdf", ("procurement", "execution", "contract")),
        ("项目验收报告：同意通过验收", "b.pdf", (None, "acceptance", "acceptance_report")),
        ("记账凭证 第12号 财务部", "c.pdf", ("finance", "execution", "voucher")),
        ("第三次项目会议纪要：研发进度", "d.pdf", ("rnd", None, "minutes")),
        ("Meeting minutes: procurement of servers", "e.pdf", ("procurement", None, "minutes")),
    ],
)
def test_the_shipped_rule_book_classifies_common_records(
    text: str, filename: str, expected: tuple[str | None, ...]
) -> None:
    decision = classify(BOOK, Document(text, filename))
    assert (decision.process, decision.stage, decision.record_type) == expected
    assert decision.reasons, "every decision names the rules behind it"


def test_contracts_are_restricted_even_when_the_rule_says_less() -> None:
    rule = RuleSpec(
        "lax", keywords=("合同",), record_type="contract", sensitivity=Sensitivity.INTERNAL
    )
    decision = classify([rule], Document("租赁合同", "x.pdf"))
    assert decision.sensitivity == Sensitivity.RESTRICTED
    assert decision.reasons[-1]["rule"] == "contracts are restricted"


def test_priority_decides_and_later_rules_fill_only_what_is_left() -> None:
    first = RuleSpec("first", priority=1, keywords=("报告",), record_type="report", confidence=0.9)
    second = RuleSpec(
        "second",
        priority=2,
        keywords=("报告",),
        record_type="minutes",
        process="hr",
        confidence=0.9,
    )
    decision = classify([second, first], Document("人事报告", "x.pdf"))
    assert decision.record_type == "report"
    assert decision.process == "hr"
    assert [r["rule"] for r in decision.reasons] == ["first", "second"]


def test_every_condition_of_a_rule_must_hold() -> None:
    rule = RuleSpec(
        "scans", keywords=("发票",), filename_glob="*.png", folder_glob="CW/*", process="finance"
    )
    assert classify([rule], Document("发票", "a.png", "CW/2026")).process == "finance"
    assert classify([rule], Document("发票", "a.pdf", "CW/2026")).process is None
    assert classify([rule], Document("发票", "a.png", "XS/2026")).process is None


def test_unknown_documents_get_zero_confidence_and_partial_answers_less() -> None:
    assert classify(BOOK, Document("lorem ipsum", "x.txt")).confidence == 0.0
    partial = classify(BOOK, Document("一份报告", "x.txt"))
    full = classify(BOOK, Document("采购合同 甲方 乙方", "x.txt"))
    assert 0 < partial.confidence < full.confidence


@pytest.mark.parametrize(
    "rule",
    [
        RuleSpec("no condition", record_type="report"),
        RuleSpec("sets nothing", keywords=("x",)),
        RuleSpec("bad regex", pattern="([", record_type="report"),
        RuleSpec("bad confidence", keywords=("x",), record_type="report", confidence=1.5),
    ],
)
def test_unusable_rules_are_refused(rule: RuleSpec) -> None:
    with pytest.raises(RuleError):
        validate(rule)
