"""OFD (GB/T 33190), the national fixed-layout format Chinese e-invoices arrive in: its text
and page count come out of the sandbox, broken and hostile packages fail with their reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest import sniff
from ingest.extract import extract
from ingest.sandbox import run_limited
from tests.ingest import ofd_samples as ofd

LIMITS = {"max_image_pixels": 1 << 20, "max_inflated_bytes": 64 << 20, "text_cap_bytes": 1 << 20}
BODY = ofd.BODY


def sandboxed(tmp_path: Path, data: bytes, **limits: int) -> dict[str, Any]:
    path = tmp_path / "a.ofd"
    path.write_bytes(data)
    assert sniff.sniff(path) == sniff.OFD
    return run_limited(
        extract, str(path), sniff.OFD, {**LIMITS, **limits}, timeout=60, memory_bytes=1 << 30
    )


def test_an_ofd_is_sniffed_from_its_bytes_and_kept_as_a_long_term_format(tmp_path: Path) -> None:
    path = tmp_path / "发票"  # no extension: the bytes decide
    path.write_bytes(ofd.invoice())
    assert sniff.sniff(path) == sniff.OFD
    assert sniff.OFD in sniff.ALLOWED
    assert sniff.extension_mismatch("发票.ofd", sniff.OFD) is None
    assert sniff.extension_mismatch("发票.pdf", sniff.OFD) is not None


def test_an_invoice_gives_each_pages_text_with_its_templates_labels(tmp_path: Path) -> None:
    result = sandboxed(tmp_path, ofd.invoice())
    assert result["page_count"] == 2
    first, second = result["pages"]
    for part in ("发票号码：", "购买方名称：", "24312000000123456789", "华东仓储改造项目部"):
        assert part in first
    assert first.index("发票号码：") < first.index("24312000000123456789")  # background first
    assert "销货清单\n货架立柱 20套" in second
    whole = "\n".join(result["pages"])
    assert ofd.ANNOTATION not in whole  # annotations and custom tags are not the text
    assert "<InvoiceNo>" not in whole
    assert result["ofd"] == {
        "documents": 1,
        "signed": 1,
        "info": {"DocID": ofd.DOC_ID, "Title": "电子发票"},  # custom data is not kept
    }
    assert result["truncated"] is False
    assert result["needs_ocr"] is False


def test_a_foreground_template_comes_after_the_page(tmp_path: Path) -> None:
    result = sandboxed(tmp_path, ofd.ofd(["正文"], ["页脚模板"], order="Foreground"))
    assert result["pages"] == ["正文\n页脚模板"]


def test_absolute_locations_and_no_namespace_are_read(tmp_path: Path) -> None:
    data = ofd.ofd(["第一页 甲方", "第二页 乙方"], namespace="", absolute=True, signed=False)
    result = sandboxed(tmp_path, data)
    assert result["pages"] == ["第一页 甲方", "第二页 乙方"]
    assert (result["ofd"]["documents"], result["ofd"]["signed"]) == (1, 0)


def test_codes_on_one_baseline_join_and_a_new_baseline_starts_a_line(tmp_path: Path) -> None:
    page = ofd.part_xml(
        '<ofd:Page NS><ofd:Content><ofd:Layer ID="1"><ofd:TextObject ID="2">'
        '<ofd:TextCode X="0" Y="4">购买方</ofd:TextCode>'
        '<ofd:TextCode X="12" Y="4">名称</ofd:TextCode>'
        '<ofd:TextCode X="0" Y="10">销售方名称</ofd:TextCode></ofd:TextObject>'
        '<ofd:PageBlock ID="3"><ofd:TextObject ID="4"><ofd:TextCode>  块内文字 </ofd:TextCode>'
        "</ofd:TextObject></ofd:PageBlock></ofd:Layer></ofd:Content></ofd:Page>"
    )
    result = sandboxed(tmp_path, ofd.changed_parts({BODY: page}))
    assert result["pages"][1].endswith("购买方名称\n销售方名称\n块内文字")


def test_a_long_ofd_is_cut_at_the_cap_and_its_pages_still_counted(tmp_path: Path) -> None:
    pages = [f"第{n}页 仓储改造进度报告，货架与叉车。" for n in range(300)]
    result = sandboxed(tmp_path, ofd.ofd(pages), text_cap_bytes=2000)
    assert result["page_count"] == 300
    assert result["truncated"] is True
    assert sum(len(page.encode()) for page in result["pages"]) <= 2000
    assert result["pages"][0] == pages[0]
    assert result["pages"][-1] == ""


def _document(pages: str) -> bytes:
    return ofd.part_xml(
        f"<ofd:Document NS><ofd:CommonData/><ofd:Pages>{pages}</ofd:Pages></ofd:Document>"
    )


BROKEN: list[tuple[str, dict[str, bytes | None], str, str]] = [
    (
        "no DocBody",
        {"OFD.xml": ofd.part_xml('<ofd:OFD NS Version="1.0" DocType="OFD"/>')},
        "usability.opens",
        "no DocBody/DocRoot",
    ),
    ("no OFD root", {"OFD.xml": ofd.part_xml("<ofd:Document NS/>")}, "usability.opens", "not OFD"),
    (
        "Document.xml missing",
        {"Doc_0/Document.xml": None},
        "usability.opens",
        "no part 'Doc_0/Document.xml'",
    ),
    ("page missing", {BODY: None}, "usability.opens", "no part 'Pages/Page_1/Content.xml'"),
    ("malformed page", {BODY: b"<ofd:Page><unclosed>"}, "usability.opens", "not well-formed"),
    ("malformed OFD.xml", {"OFD.xml": b"\x00\x01"}, "usability.opens", "not well-formed"),
    ("no pages", {"Doc_0/Document.xml": _document("")}, "usability.opens", "no pages"),
    (
        "page outside the package",
        {"Doc_0/Document.xml": _document('<ofd:Page ID="1" BaseLoc="../../../etc/passwd"/>')},
        "usability.opens",
        "points outside the package",
    ),
    (
        "member outside the package",
        {"../../evil.xml": b"<x/>"},
        "usability.opens",
        "outside its root: '../../evil.xml'",
    ),
    ("encrypted", {"Encryptions.xml": b"<x/>"}, "usability.not_encrypted", "encrypted"),
]


@pytest.mark.parametrize(
    ("case", "replaced", "check", "reason"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_a_broken_ofd_fails_with_its_check(
    tmp_path: Path, case: str, replaced: dict[str, bytes | None], check: str, reason: str
) -> None:
    result = sandboxed(tmp_path, ofd.changed_parts(replaced))
    assert result["check"] == check, case
    assert reason in result["failure"], result["failure"]
    if check == "usability.opens":
        assert result["failure"].startswith(("the OFD cannot be opened", "the zip container"))


def test_an_ofd_zip_bomb_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    data = ofd.bomb(64 << 20)
    assert len(data) < 1 << 20
    result = sandboxed(tmp_path, data, max_inflated_bytes=16 << 20)
    assert result["check"] == "usability.opens"
    assert "zip bomb" in result["failure"]


def test_entities_are_neither_fetched_nor_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("机密内容不应出现")
    page = (
        f'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY ext SYSTEM "file://{secret}">'
        '<!ENTITY lol "哈哈哈哈哈哈哈哈">]>'
        f'<ofd:Page xmlns:ofd="{ofd.NS}"><ofd:Content><ofd:Layer ID="1">'
        '<ofd:TextObject ID="2"><ofd:TextCode>开头&ext;&lol;结尾</ofd:TextCode></ofd:TextObject>'
        "</ofd:Layer></ofd:Content></ofd:Page>"
    ).encode()
    result = sandboxed(tmp_path, ofd.changed_parts({BODY: page}))
    text = "\n".join(result.get("pages", []))
    assert "机密内容" not in text
    assert "哈哈" not in text
    assert "开头结尾" in text  # the text around them is kept


def _shared_part_ofd(pages: int) -> bytes:
    """Every page pointing at one content part: tiny on disk, ``pages`` pages declared."""
    members = ofd.parts(["一页正文"])
    listed = "".join(
        f'<ofd:Page ID="{10 + n}" BaseLoc="Pages/Page_0/Content.xml"/>' for n in range(pages)
    )
    document = members["Doc_0/Document.xml"].decode()
    start, end = document.index("<ofd:Pages>"), document.index("</ofd:Pages>")
    members["Doc_0/Document.xml"] = (
        document[: start + len("<ofd:Pages>")] + listed + document[end:]
    ).encode()
    return ofd.pack(members)


def test_pages_sharing_one_part_are_read_once_and_too_many_pages_are_refused(
    tmp_path: Path,
) -> None:
    many = sandboxed(tmp_path, _shared_part_ofd(50_000))  # read in seconds, not per page
    assert many["page_count"] == 50_000
    assert many["pages"][0] == many["pages"][-1] == "一页正文"
    refused = sandboxed(tmp_path, _shared_part_ofd(100_001))
    assert refused["check"] == "usability.opens"
    assert "more than 100,000 pages" in refused["failure"]
