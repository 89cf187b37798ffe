"""Normalisation shared by indexing and querying: NFKC, OCR spaces, line breaks, 繁→简."""

from __future__ import annotations

import pytest

from archive.text import normalize, normalize_for_index, to_simplified


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("绿 色 通 道", "绿色通道"),  # OCR spaces between glyphs
        ("绿　色　通　道", "绿色通道"),  # ideographic spaces
        ("采购合\n同的签订", "采购合同的签订"),  # a PDF line break inside a phrase
        ("合同 Contract 甲方", "合同 Contract 甲方"),  # spaces next to Latin words stay
        ("第一段。\n\n第二段。", "第一段。\n\n第二段。"),  # paragraph breaks stay
        ("ＸＸ项目　２０２３", "XX项目 2023"),  # full-width forms folded by NFKC
        ("a\x00b\x07c", "abc"),  # control characters dropped
        ("English  words\r\nnext line", "English words\nnext line"),
        ("《 档 案 法 》 规 定", "《档案法》规定"),
        ("\n\n\n 前后空白 \n\n\n\n中间\n\n", "前后空白\n\n中间"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_traditional_and_simplified_meet() -> None:
    assert to_simplified("綠色通道") == "绿色通道"
    assert to_simplified("檔案管理與會計憑證") == "档案管理与会计凭证"
    result = normalize_for_index("綠 色 通 道 Green Channel")
    assert result.text == "綠色通道 Green Channel"  # as written, cleaned
    assert result.simplified == "绿色通道 Green Channel"
