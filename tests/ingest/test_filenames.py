from __future__ import annotations

import pytest

from ingest.filenames import safe_filename


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("合同\x00.pdf", "合同.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("报告\u2066x\u2069.docx", "报告x.docx"),
        ("...", "unnamed"),
        ("", "unnamed"),
        ("  XX项目-2023-01-1.0.pdf ", "XX项目-2023-01-1.0.pdf"),
    ],
)
def test_client_names_lose_paths_and_invisible_controls(raw: str, expected: str) -> None:
    assert safe_filename(raw) == expected


def test_long_names_are_cut_but_keep_their_extension() -> None:
    name = safe_filename("长" * 400 + ".pdf")
    assert len(name) <= 255
    assert name.endswith(".pdf")
