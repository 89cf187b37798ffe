"""Plain-text files in the encodings Chinese offices produce."""

from __future__ import annotations

import codecs

import pytest

from ingest.textfile import NotText, decode_text

SIMPLIFIED = "采购合同：甲方与乙方于2023年签订本合同，金额壹佰万元。会议纪要见附件。"
TRADITIONAL = "採購合約：甲方與乙方於2023年簽訂本合約，金額壹佰萬元。會議紀要見附件。"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (SIMPLIFIED.encode("utf-8"), SIMPLIFIED),
        (codecs.BOM_UTF8 + SIMPLIFIED.encode("utf-8"), SIMPLIFIED),
        (SIMPLIFIED.encode("gb18030"), SIMPLIFIED),
        (SIMPLIFIED.encode("gbk"), SIMPLIFIED),
        (TRADITIONAL.encode("big5"), TRADITIONAL),
        (SIMPLIFIED.encode("utf-16"), SIMPLIFIED),  # with BOM
        (SIMPLIFIED.encode("utf-16-le"), SIMPLIFIED),  # without BOM
        ("短".encode("gb18030"), "短"),  # two bytes: valid Big5 too; mainland wins
        (b"plain ASCII report", "plain ASCII report"),
        (b"", ""),
    ],
)
def test_decodes(data: bytes, text: str) -> None:
    assert decode_text(data).text == text


def test_binary_is_not_text() -> None:
    with pytest.raises(NotText, match="not text"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
