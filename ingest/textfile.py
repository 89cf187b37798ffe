"""Decode plain-text files whose encoding nobody declared (GB18030, GBK, Big5, UTF-8/16).

UTF-8 validates itself, so it is tried strictly first. Otherwise charset-normalizer chooses
among the encodings Chinese offices actually produce. Short texts are ambiguous between
GB18030 and Big5 (two bytes can be a valid character in both); when both decode, mainland
GB18030 wins unless the detector is confident in Big5 on a longer sample. UTF-16 without a
BOM is believed only when the text holds some ASCII (its zero bytes give it away).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

CANDIDATES = ["gb18030", "big5", "utf_16_le", "utf_16_be"]
_BOMS = [
    (codecs.BOM_UTF8, "utf_8_sig"),
    (codecs.BOM_UTF16_LE, "utf_16"),
    (codecs.BOM_UTF16_BE, "utf_16"),
]
SHORT_SAMPLE = 64  # bytes under which GB18030/Big5 detection is a coin toss


class NotText(ValueError):
    """The bytes are not text in any encoding we accept."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _private_use(text: str) -> int:
    return sum(1 for ch in text if "\ue000" <= ch <= "\uf8ff")


def decode_text(data: bytes) -> DecodedText:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return DecodedText(data.decode(encoding), encoding)
    if b"\x00" not in data and _decodes(data, "utf_8"):
        return DecodedText(data.decode("utf_8"), "utf_8")
    best = from_bytes(data, cp_isolation=CANDIDATES).best()
    if best is not None and str(best.encoding).startswith("utf_16") and b"\x00" not in data:
        # UTF-16 without a BOM and without one ASCII character is rarer than a short
        # legacy-encoded text that happens to pair up into valid UTF-16 code units.
        best = from_bytes(data, cp_isolation=CANDIDATES[:2]).best() or best
    if best is None:
        if b"\x00" not in data and _decodes(data, "gb18030"):
            return DecodedText(data.decode("gb18030"), "gb18030")
        raise NotText("the file is not text in UTF-8, UTF-16, GB18030/GBK or Big5")
    encoding = str(best.encoding)
    # Mainland wins a short tie, unless GB18030 needs private-use code points to read it.
    if (
        encoding == "big5"
        and len(data) < SHORT_SAMPLE
        and _decodes(data, "gb18030")
        and _private_use(data.decode("gb18030")) <= _private_use(data.decode("big5"))
    ):
        encoding = "gb18030"
    return DecodedText(data.decode(encoding), encoding)
