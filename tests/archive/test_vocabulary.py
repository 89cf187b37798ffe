"""The one vocabulary: roles with one word each, media types, who did it, the pipeline's and
the alerts' English put in words, one time format."""

from __future__ import annotations

from datetime import UTC, date, datetime

from archive.models import Role, Sensitivity
from archive.vocabulary import (
    actor_label,
    media_label,
    shown_time,
    term,
    word,
)
from archive.vocabulary_details import as_text, coded_text
from archive.vocabulary_reasons import reason_text


def test_every_role_and_level_has_its_own_word_in_both_languages() -> None:
    for codes in ([r.value for r in Role], [s.value for s in Sensitivity]):
        chinese = [term(c) for c in codes]
        english = [term(c, "en") for c in codes]
        assert len(set(chinese)) == len(codes)
        assert len(set(english)) == len(codes)
        assert not set(chinese) & set(codes)
    assert term("supervisor") == "主管"
    assert term("director") == "总监"
    assert "主管" in term("head")  # the approver a request is routed to: the same person
    assert term("administration") == "行政办公" != term("admin")


def test_media_types_are_named_as_people_call_files() -> None:
    assert media_label("application/pdf") == "PDF 文档"
    assert media_label("text/plain; charset=utf-8") == "纯文本"
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert media_label(docx) == "Word 文档"
    assert media_label(docx, "en") == "Word document"
    assert media_label("image/webp") == "WEBP 文件"
    assert word("application/pdf", "en") == "PDF document"


def test_the_console_and_the_system_are_named() -> None:
    assert actor_label("cli:root@vm") == "系统（命令行）"
    assert actor_label("cli:root@vm", "en") == "System (command line)"
    assert actor_label("system") == "系统"
    assert actor_label("zhang") == "zhang"


def test_known_reasons_and_alert_details_in_words() -> None:
    reason = "application/pdf (named .txt) is not a format allowed for keeping"
    assert reason_text(reason) == "PDF 文档（文件后缀 .txt）不是允许长期保存的格式"
    assert reason_text("3 refusals within an hour") == "一小时内被拒绝 3 次"
    mismatch = "named .pdf (application/pdf) but the content is text/plain"  # ingest.sniff
    assert reason_text(mismatch) == "文件后缀为 .pdf，内容却是纯文本"
    assert reason_text("download of record X at 22:10 北京时间") == "北京时间 22:10下载档案 X"
    assert reason_text("a parser said no") == "a parser said no"  # unknown: as written
    truncated = reason_text("truncated PDF: no %%EOF marker at the end")  # ingest.extract
    assert truncated.startswith("PDF 文件不完整（结尾缺少 %%EOF 标记）")


def test_one_time_format_in_beijing_time() -> None:
    assert shown_time(datetime(2026, 1, 31, 16, 5, 59, tzinfo=UTC)) == "2026-02-01 00:05"
    assert shown_time(date(2026, 1, 31)) == "2026-01-31"
    assert shown_time(None) == "—"


def test_the_access_logs_reasons_are_said_in_words() -> None:
    assert reason_text("grant") == "依据查阅授权"
    assert reason_text("the grant does not cover download") == "授权不含“下载”"
    assert reason_text("unknown or beyond the caller's view") == "档案不存在或不在其可见范围内"
    assert reason_text("the grant has expired", "en") == "The grant has expired"


def test_why_a_record_was_classified_is_said_in_words() -> None:
    assert reason_text("keywords: 验收报告, 验收") == "关键词：验收报告, 验收"
    assert reason_text("contracts are restricted") == "合同一律列为限制级"
    named = "验收报告 acceptance report"  # a rule's name, as its author wrote it
    assert reason_text(named) == named


def test_a_destruction_says_its_list() -> None:
    assert reason_text("destroyed by list XH-2026-0001") == "依销毁清册 XH-2026-0001 销毁"


def test_sources_renditions_and_event_rules_are_said_in_words() -> None:
    """The audit trail showed 来源：upload, 衍生格式：text、office_pdf and 事件规则：any."""
    details = {"source": "hotfolder", "renditions": ["text", "office_pdf"], "event_mode": "any"}
    said = as_text(details)
    assert said == (
        "来源：扫描热文件夹；衍生格式：提取文本、阅读用 PDF；事件规则：任一事件发生即起算"
    )
    assert as_text({"source": "upload"}, "en") == "Source: Web upload"


def test_why_sessions_ended_and_periods_in_words() -> None:
    assert coded_text("reason", "signed out", "zh") == "本人退出登录"
    assert coded_text("reason", "password set", "en") == "Password set"
    changed = coded_text("reason", "role, clearance changed", "zh")
    assert changed is not None
    assert changed.endswith("已变更")
    assert "role" not in changed
    assert coded_text("reason", "重复归档", "zh") is None  # a person's own words stay theirs
    assert coded_text("code", "D30", "zh") == "30年（D30）"
    assert coded_text("code", "Y", "en") == "Permanent (Y)"
    assert coded_text("code", "CG", "zh") == "CG"  # not a period: as it is


def test_what_a_hold_refused_and_who_witnessed_in_words() -> None:
    assert coded_text("action", "destroy (list XH-2026-0001)", "zh") == "销毁（清册 XH-2026-0001）"
    assert coded_text("action", "transfer (list YJ-2026-0001)", "en") == (
        "Transfer (list YJ-2026-0001)"
    )
    assert coded_text("action", "delete", "zh") == "删除误归档档案"
    assert coded_text("slot", "department:XS", "zh") == "部门代表（XS）"
    assert coded_text("slot", "records_manager", "zh") == "档案管理员"
    assert as_text({"destroyed": 3}, "zh") == "销毁件数：3"


def test_a_count_by_code_reads_in_words() -> None:
    """The sweep's ``{"proposed": {"destroy": 1}}`` read 拟处置：destroy：1 on the trail."""
    from archive.vocabulary_details import as_text

    assert as_text({"proposed": {"destroy": 1}}) == "拟处置：销毁：1"
    assert as_text({"proposed": {"destroy": 1}}, "en") == "Proposed: Destroy: 1"
    assert as_text({"unheard_of_key": 2}) == "unheard_of_key：2"  # unknown: as it is
