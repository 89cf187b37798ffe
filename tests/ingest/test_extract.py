"""Extraction per format, and the sandbox that contains hostile files."""

from __future__ import annotations

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

LIMITS = {"max_image_pixels": 300_000_000, "max_inflated_bytes": 1024**3}
GIB = 1024**3


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def sandboxed(path: Path, media_type: str | None = None, timeout: float = 60) -> dict[str, Any]:
    media_type = media_type or sniff.sniff(path)
    return run_limited(
        extract, str(path), media_type, LIMITS, timeout=timeout, memory_bytes=2 * GIB
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
