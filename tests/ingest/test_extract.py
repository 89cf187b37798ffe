"""Extraction per format, and the sandbox that contains hostile files."""

from __future__ import annotations

import mmap
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from ingest import sniff
from ingest.extract import extract
from ingest.ocr import ocr
from ingest.sandbox import SandboxError, run_limited
from tests.ingest import samples

LIMITS = {
    "max_image_pixels": 300_000_000,
    "max_inflated_bytes": 1024**3,
    "text_cap_bytes": 16 << 20,
}
GIB = 1024**3


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def sandboxed(
    path: Path, media_type: str | None = None, timeout: float = 60, **limits: int
) -> dict[str, Any]:
    media_type = media_type or sniff.sniff(path)
    return run_limited(
        extract,
        str(path),
        media_type,
        {**LIMITS, **limits},
        timeout=timeout,
        memory_bytes=2 * GIB,
    )


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.pdf", samples.pdf(["x"]), sniff.PDF),
        ("a.docx", samples.docx(["x"]), sniff.DOCX),
        ("a.png", samples.image("x"), sniff.PNG),
        ("a.jpg", samples.image("x", "JPEG"), sniff.JPEG),
        ("a.tif", samples.image("x", "TIFF"), sniff.TIFF),
        ("a.txt", "中文文本，GB18030 编码。".encode("gb18030"), sniff.TEXT),
        ("a.txt", "繁體中文文件".encode("big5"), sniff.TEXT),
        ("no-extension", samples.pdf(["x"]), sniff.PDF),
        ("lies.pdf", b"MZ\x90\x00" + bytes(200), "application/x-dosexec"),
    ],
)
def test_type_comes_from_the_bytes(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    assert sniff.sniff(write(tmp_path, name, data)) == expected


def test_an_extension_that_lies_is_named() -> None:
    assert sniff.extension_mismatch("a.pdf", sniff.TEXT) == (
        "named .pdf (application/pdf) but the content is text/plain"
    )
    assert sniff.extension_mismatch("a.PDF", sniff.PDF) is None
    assert sniff.extension_mismatch("scan.unknown", sniff.PNG) is None


def test_pdf_text_comes_per_page(tmp_path: Path) -> None:
    path = write(tmp_path, "a.pdf", samples.pdf(["华东仓储改造项目 采购合同", "第二页 page two"]))
    result = sandboxed(path)
    assert result["page_count"] == 2
    assert "采购合同" in result["pages"][0]
    assert "page two" in result["pages"][1]
    assert result["needs_ocr"] is False


def test_an_image_only_pdf_asks_for_ocr(tmp_path: Path) -> None:
    result = sandboxed(write(tmp_path, "scan.pdf", samples.scanned_pdf("验收报告")))
    assert result["needs_ocr"] is True


def test_docx_text_includes_tables_headers_and_footers(tmp_path: Path) -> None:
    data = samples.docx(
        ["正文第一段", "Body paragraph"],
        table=[["合同编号", "HT-001"]],
        header="页眉：华东公司",
        footer="页脚：第1页",
    )
    text = sandboxed(write(tmp_path, "a.docx", data))["pages"][0]
    for part in (
        "正文第一段",
        "Body paragraph",
        "合同编号\tHT-001",
        "页眉：华东公司",
        "页脚：第1页",
    ):
        assert part in text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "gb18030", "big5"])
def test_text_files_in_chinese_encodings(tmp_path: Path, encoding: str) -> None:
    text = "會議紀要：第三次項目會議" if encoding == "big5" else "会议纪要：第三次项目会议"
    result = sandboxed(write(tmp_path, "a.txt", text.encode(encoding)))
    assert result["pages"] == [text]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "gb18030", "big5"])
def test_a_long_text_is_read_in_pieces_and_cut_at_the_cap(tmp_path: Path, encoding: str) -> None:
    """Past 1 MiB a text is decoded piece by piece; pieces end inside characters, the
    encoding is still chosen once, and only ``text_cap_bytes`` of text come back."""
    line = (
        "會議紀要：第三次項目會議，倉儲改造。\n"
        if encoding == "big5"
        else "会议纪要：第三次项目会议，仓储改造 ok。\n"
    )
    text = line * (3 * (1 << 20) // len(line.encode(encoding)))  # about 3 MiB encoded
    whole = sandboxed(write(tmp_path, "whole.txt", text.encode(encoding)))
    assert whole["pages"] == [text]
    assert not whole["truncated"]
    cap = 100_001  # not on a character boundary in any of these encodings
    cut = sandboxed(write(tmp_path, "cut.txt", text.encode(encoding)), text_cap_bytes=cap)
    assert cut["truncated"]
    kept = cut["pages"][0]
    assert text.startswith(kept)
    assert cap - 4 < len(kept.encode("utf-8")) <= cap


def test_a_text_that_stops_being_text_past_the_first_piece_is_refused(tmp_path: Path) -> None:
    data = "会议纪要\n".encode() * (300_000) + b"\xff\xfe\x00binary" + b"x" * 100
    result = sandboxed(write(tmp_path, "mixed.txt", data), media_type=sniff.TEXT)
    assert result["check"] == "usability.opens"
    assert "not utf_8 throughout" in result["failure"]


def test_pdf_and_docx_text_is_cut_at_the_cap_and_pages_still_counted(tmp_path: Path) -> None:
    pages = [f"第{n}页 会议纪要 page {n} " * 40 for n in range(1, 7)]
    pdf = sandboxed(write(tmp_path, "a.pdf", samples.pdf(pages)), text_cap_bytes=1500)
    assert pdf["page_count"] == 6
    assert len(pdf["pages"]) == 6
    assert pdf["truncated"]
    assert sum(len(p.encode()) for p in pdf["pages"]) <= 1500
    assert pdf["pages"][-1] == ""
    docx = sandboxed(write(tmp_path, "a.docx", samples.docx(pages)), text_cap_bytes=1500)
    assert docx["truncated"]
    assert len(docx["pages"][0].encode()) <= 1500
    assert docx["pages"][0].startswith("第1页")


def test_scans_record_resolution_and_flag_low_ones(tmp_path: Path) -> None:
    good = sandboxed(write(tmp_path, "a.png", samples.image("x", dpi=300)))["scan"]
    low = sandboxed(write(tmp_path, "b.png", samples.image("x", dpi=150)))["scan"]
    assert (good["dpi"], good["low_resolution"], good["mode"]) == (300, False, "L")
    assert (low["dpi"], low["low_resolution"]) == (150, True)


def test_multi_page_tiff_is_ocred_page_by_page(tmp_path: Path) -> None:
    data = samples.image("", "TIFF", pages=["第一页 华东项目", "Second page report"])
    path = write(tmp_path, "scan.tif", data)
    assert sandboxed(path)["page_count"] == 2
    result = run_limited(
        ocr,
        str(path),
        sniff.TIFF,
        str(tmp_path / "out.pdf"),
        "chi_sim+chi_tra+eng",
        300,
        timeout=120,
        memory_bytes=2 * GIB,
    )
    assert result["page_count"] == 2
    assert "华东项目" in result["pages"][0].replace(" ", "")
    assert "Second page report" in result["pages"][1]
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("name", "make", "check", "reason"),
    [
        ("truncated.pdf", lambda: samples.pdf(["x" * 50])[:-200], "usability.opens", "truncated"),
        (
            "locked.pdf",
            lambda: samples.encrypted_pdf("机密"),
            "usability.not_encrypted",
            "password-protected",
        ),
        ("bomb.png", samples.pixel_bomb_png, "usability.opens", "decompression bomb"),
        ("broken.docx", lambda: samples.docx(["x"])[:500], "usability.opens", "zip"),
    ],
)
def test_bad_files_fail_with_their_check(
    tmp_path: Path, name: str, make: Any, check: str, reason: str
) -> None:
    path = write(tmp_path, name, make())
    media = sniff.DOCX if name.endswith(".docx") else sniff.sniff(path)
    result = sandboxed(path, media)
    assert result["check"] == check
    assert reason in result["failure"]


def test_a_zip_bomb_is_refused_before_it_inflates(tmp_path: Path, zip_bomb: bytes) -> None:
    result = sandboxed(write(tmp_path, "bomb.docx", zip_bomb))
    assert result["check"] == "usability.opens"
    assert "zip bomb" in result["failure"]


def test_a_parser_that_runs_too_long_is_killed(tmp_path: Path) -> None:
    path = write(tmp_path, "slow.pdf", samples.slow_pdf(1_000_000))
    with pytest.raises(SandboxError) as caught:
        sandboxed(path, timeout=2)
    assert caught.value.kind == "timeout"


def _allocate(size: int) -> dict[str, Any]:
    blob = bytearray(size)
    return {"size": len(blob)}


def _crash() -> dict[str, Any]:
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


def test_the_sandbox_contains_memory_exhaustion_and_crashes() -> None:
    with pytest.raises(SandboxError) as caught:
        run_limited(_allocate, 3 * GIB, timeout=30, memory_bytes=GIB)
    assert caught.value.kind == "memory"
    with pytest.raises(SandboxError) as crashed:
        run_limited(_crash, timeout=30, memory_bytes=GIB)
    assert crashed.value.kind == "crash"
    # ...and the process that asked is fine and can go on.
    assert run_limited(_allocate, 1024, timeout=30, memory_bytes=GIB) == {"size": 1024}


def test_docx_blocks_come_in_document_order_with_breaks_and_tabs(tmp_path: Path) -> None:
    """The body is read as a stream, a block at a time: order, runs, tabs, line breaks and
    content controls as Word shows them; entities in the XML are never expanded."""
    import io
    import zipfile

    body = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body>"
        "<w:p><w:r><w:t>第一段</w:t></w:r><w:r><w:tab/><w:t>续</w:t><w:br/><w:t>下一行&x;</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>合同编号</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>HT-002</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
        "<w:sdt><w:sdtContent><w:p><w:r><w:t>控件里的段落</w:t></w:r></w:p></w:sdtContent></w:sdt>"
        "<w:p><w:r><w:t>最后一段</w:t></w:r></w:p>"
        "</w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(samples.docx(["x"]))) as source, zipfile.ZipFile(out, "w") as z:
        for item in source.infolist():
            data = body.encode() if item.filename == "word/document.xml" else source.read(item)
            z.writestr(item, data)
    text = sandboxed(write(tmp_path, "a.docx", out.getvalue()))["pages"][0]
    assert text.split("\n") == [
        "第一段\t续",
        "下一行",
        "合同编号\tHT-002",
        "控件里的段落",
        "最后一段",
    ]
    assert "root:" not in text


def test_a_long_docx_stops_at_the_cap(tmp_path: Path) -> None:
    paragraphs = [f"第{n}段 仓储改造会议纪要 paragraph {n}" for n in range(20_000)]
    data = samples.docx(paragraphs)
    result = sandboxed(write(tmp_path, "long.docx", data), text_cap_bytes=10_000)
    assert result["truncated"]
    kept = result["pages"][0]
    assert kept.startswith("第0段")
    assert len(kept.encode()) <= 10_000
    assert "第19999段" not in kept
    whole = sandboxed(write(tmp_path, "long.docx", data))
    assert not whole["truncated"]
    assert whole["pages"][0].endswith("paragraph 19999")


def test_a_docx_with_two_members_of_one_name_is_refused(tmp_path: Path) -> None:
    """Tools disagree on which copy counts (the first, the last): what is indexed and what a
    reader opens could differ, so neither is taken."""
    import io
    import warnings
    import zipfile

    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(samples.docx(["shown"]))) as source,
        zipfile.ZipFile(out, "w") as z,
    ):
        for item in source.infolist():
            z.writestr(item, source.read(item))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
            z.writestr("word/document.xml", source.read("word/document.xml"))
    result = sandboxed(write(tmp_path, "dup.docx", out.getvalue()))
    assert result["check"] == "usability.opens"
    assert "two members of the same name" in result["failure"]


def test_a_grown_worker_leaves_the_parser_its_whole_allowance() -> None:
    """The limit is what the parser may add: a worker whose address space grew (caches,
    libraries; here 3 GiB mapped, untouched) must not leave OCR less than a fresh one."""
    grown = mmap.mmap(-1, 3 * GIB)
    try:
        wanted = 512 * 2**20
        assert run_limited(_allocate, wanted, timeout=30, memory_bytes=GIB) == {"size": wanted}
        with pytest.raises(SandboxError) as caught:
            run_limited(_allocate, 2 * GIB, timeout=30, memory_bytes=GIB)
        assert caught.value.kind == "memory"
    finally:
        grown.close()
