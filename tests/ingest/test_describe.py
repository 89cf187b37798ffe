"""责任者 and 文号 read from a document's text: what the layout marks as the document's own,
and nothing else (a wrong number files a document under another's)."""

from __future__ import annotations

import io
import zipfile

import pytest

from archive.description import (
    DescriptionError,
    clean_value,
    doc_number_key,
    is_doc_number,
)
from ingest.describe import ends_of, fill_from_text, recognise
from ingest.docx_text import docx_pages
from ingest.metadata import MetadataError, clean_params, resolve
from tests.ingest import samples

NOTICE = """上海市仓储管理局文件

沪仓发〔2025〕12号

关于开展仓库安全检查的通知

各仓库：
根据国办发〔2024〕3号文件精神，现通知如下。

上海市仓储管理局
2025年3月12日
"""


@pytest.mark.parametrize(
    ("text", "author", "doc_number"),
    [
        (NOTICE, "上海市仓储管理局", "沪仓发〔2025〕12号"),
        ("国务院办公厅文件\n国办发〔2024〕3号\n关于……的通知", "国务院办公厅", "国办发〔2024〕3号"),
        (
            "机密★1年\n特急\n上海市仓储管理局\n上海市商务委员会\n文件\n沪仓联发〔2025〕2号",
            "上海市仓储管理局、上海市商务委员会",  # a joint document: every unit
            "沪仓联发〔2025〕2号",
        ),
        ("某某字[2023]第5号\n内容", None, "某某字[2023]第5号"),
        ("某某字［2023］第5号\n内容", None, "某某字[2023]第5号"),  # full width, after NFKC
        (
            "发文机关：华东仓储有限公司\n文号：华仓字【2022】7号",
            "华东仓储有限公司",
            "华仓字【2022】7号",
        ),
        ("发文字号：沪仓函〔2025〕8号\n", None, "沪仓函〔2025〕8号"),
        ("沪 仓 发 〔 2025 〕 12 号   签发人：王五\n标题", None, "沪仓发〔2025〕12号"),  # OCR
        ("责任者：采购部\n关于采购计划的报告", "采购部", None),
        ("通知\n\n正文……\n\n华东仓储有限公司\n二〇二五年三月十二日", "华东仓储有限公司", None),
        ("通知\n正文\n\n华东仓储有限公司\n2025 年 3 月 12 日\n", "华东仓储有限公司", None),
    ],
)
def test_what_the_layout_marks_is_read(text: str, author: str | None, doc_number: str) -> None:
    found = recognise(text)
    assert (found.author, found.doc_number) == (author, doc_number)
    assert set(found.evidence) == {k for k, v in found.values().items() if v}


@pytest.mark.parametrize(
    "text",
    [
        "根据国办发〔2024〕3号文件精神，现通知如下。",  # another document's number, quoted
        "会议纪要\n时间：2025年1月\n参加人员：张三、李四",
        "请各部门于3月前完成。\n2025年3月12日",  # a sentence above the date is no 落款
        "关于开展检查的通知\n2025年3月12日",  # a title is no unit
        "沪仓发2025年12号",  # no brackets: not the form of a 文号
        "关于印发\n文件",  # a 文件 line under no unit, and no 文号
        "沪仓发〔1875〕12号",  # not a year of this archive's documents
        "发文机关：见附件，另行通知",  # a sentence, not a name
        "",
    ],
)
def test_what_is_not_sure_is_left_out(text: str) -> None:
    assert recognise(text).values() == {}


def test_only_the_head_is_searched_for_the_number() -> None:
    body = "\n".join(f"第{n}段正文。" for n in range(40))
    assert recognise(body + "\n沪仓发〔2025〕12号\n").doc_number is None


def test_given_values_win_over_the_text_and_each_says_where_it_came_from() -> None:
    values, why = fill_from_text(
        {"doc_number": "沪仓发〔2025〕99号"}, {"doc_number": "sidecar", "project": "x"}, [NOTICE]
    )
    assert values == {"doc_number": "沪仓发〔2025〕99号", "author": "上海市仓储管理局"}
    assert why == {
        "doc_number": "sidecar",
        "author": "text:issuer_mark",
    }


def test_a_doc_number_is_one_number_however_its_brackets_are_written() -> None:
    key = doc_number_key("沪仓发〔2025〕12号")
    assert key == doc_number_key("沪仓发[2025]12号") == doc_number_key("沪仓发 ［2025］ 12号")
    assert key != doc_number_key("沪仓发〔2025〕13号")
    assert doc_number_key("") is None
    assert is_doc_number(" 沪仓发〔2025〕12号 ")
    assert is_doc_number("X字[2023]第5号")
    assert not is_doc_number("沪仓发〔2025〕12号 通知")
    assert not is_doc_number("绿色通道")


def test_description_values_are_cleaned_and_a_long_one_refused() -> None:
    assert clean_value("author", "  华东 \n 仓储  ") == "华东 仓储"
    assert clean_value("remarks", " 第一行 \n\n  第二行 ") == "第一行\n\n第二行"
    assert clean_value("doc_number", "   ") is None
    with pytest.raises(DescriptionError, match="doc_number is longer than 100"):
        clean_value("doc_number", "号" * 101)
    with pytest.raises(DescriptionError, match="must be text"):
        clean_value("author", 12)


def test_upload_and_sidecar_metadata_carry_the_description() -> None:
    params = clean_params({"author": " 采购部 ", "doc_number": "沪仓发〔2025〕12号", "x": "y"})
    assert params == {"author": "采购部", "doc_number": "沪仓发〔2025〕12号"}
    with pytest.raises(MetadataError, match="author is longer than 200"):
        clean_params({"author": "部" * 201})
    resolved = resolve(
        {"doc_number": "甲〔2025〕1号"},
        "scan.pdf",
        sidecar={"doc_number": "乙〔2025〕2号", "author": "行政部", "remarks": "原件存档"},
        default_project="未归档",
    )
    assert resolved.description == {
        "doc_number": "甲〔2025〕1号",
        "author": "行政部",
        "remarks": "原件存档",
    }
    assert resolved.sources["doc_number"] == "explicit"
    assert resolved.sources["author"] == "sidecar"


def _with_app_xml(data: bytes, app_xml: bytes | None) -> zipfile.ZipFile:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            if item.filename != "docProps/app.xml":
                target.writestr(item, source.read(item))
        if app_xml is not None:
            target.writestr("docProps/app.xml", app_xml)
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


APP = (
    b'<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.'
    b'org/officeDocument/2006/extended-properties"><Pages>%s</Pages><Words>%s</Words>'
    b"</Properties>"
)


def test_docx_pages_are_what_word_saved_or_none() -> None:
    data = samples.docx(["正文"])
    assert docx_pages(_with_app_xml(data, APP % (b"3", b"120"))) == 3
    assert docx_pages(_with_app_xml(data, None)) is None  # no properties: no guess
    assert docx_pages(_with_app_xml(data, APP % (b"x", b"120"))) is None
    assert docx_pages(_with_app_xml(data, b"<not xml")) is None
    # A template's properties (no words counted for a document with text): not believed.
    assert docx_pages(_with_app_xml(data, APP % (b"1", b"0"))) is None
    assert docx_pages(_with_app_xml(data, APP % (b"1", b"0")), has_text=False) == 1


def test_a_long_text_is_read_at_its_ends_only() -> None:
    head, _, tail = NOTICE.partition("各仓库：")
    pages = [head, *("正文。" * 2000 for _ in range(50)), "各仓库：" + tail]
    first, last = ends_of(pages)
    assert len(first) <= 16384 + len(pages)
    assert len(last) <= 8192 + len(pages)
    assert first.startswith("上海市仓储管理局文件")
    assert last.endswith("2025年3月12日\n")
    found = recognise(first, last)
    assert (found.author, found.doc_number) == ("上海市仓储管理局", "沪仓发〔2025〕12号")
    assert ends_of([]) == ("", "")
