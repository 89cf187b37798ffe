"""Text normalisation shared by ingest (index time) and search (query time).

Both sides must normalise identically or a stored phrase stops matching its query, which
is why this lives in the core rather than in either package:

- NFKC folds full-width Latin and compatibility ideographs to their plain forms;
- OCR puts spaces between Chinese glyphs (``绿 色 通 道``) and PDFs break lines in the middle
  of a Chinese phrase: both are removed between two CJK characters, while spaces between
  Chinese and Latin words and blank-line paragraph breaks are kept;
- :func:`to_simplified` gives the simplified-Chinese form (OpenCC ``t2s``), so ``綠色通道``
  and ``绿色通道`` index and query alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import opencc

from archive.errors import InvalidInput

_CJK = (
    r"\u2e80-\u2fdf"  # radicals
    r"\u3005-\u3007\u3021-\u3029"  # 々 〆 〇 and Hangzhou numerals
    r"\u3040-\u30ff"  # kana
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK unified and compatibility ideographs
    r"\U00020000-\U0003134f"  # extensions B to G
)
_CJK_PUNCT = r"\u3001-\u3003\u3008-\u3011\u3014-\u301f"  # 、。〃《》「」【】〔〕 …
_CJK_OR_PUNCT = _CJK + _CJK_PUNCT
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK_OR_PUNCT}])[ \t]+(?=[{_CJK_OR_PUNCT}])")
_LINE_BREAK_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK_OR_PUNCT}])[ \t]*\n[ \t]*(?=[{_CJK_OR_PUNCT}])")
_RUNS_OF_SPACE = re.compile(r"[ \t\u00a0]{2,}")
_THREE_OR_MORE_NEWLINES = re.compile(r"\n{3,}")
#: Unicode's control characters (category Cc) but tab and newline: one regex pass, where a
#: per-character filter made a string object of every character (~25 bytes a byte of text).
_CONTROLS = CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class NormalizedText:
    text: str  # as written (traditional stays traditional), cleaned
    simplified: str  # the same in simplified Chinese, for the index


def normalize(raw: str) -> str:
    """Clean extracted or OCR'd text for indexing and display; see the module doc."""
    text = unicodedata.normalize("NFKC", raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = _CONTROLS.sub("", text)
    text = _LINE_BREAK_BETWEEN_CJK.sub("", text)
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = _RUNS_OF_SPACE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _THREE_OR_MORE_NEWLINES.sub("\n\n", text).strip()


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_t2s().convert(text))


def normalize_for_index(raw: str) -> NormalizedText:
    text = normalize(raw)
    return NormalizedText(text=text, simplified=to_simplified(text))


def clean_text(value: object, what: str, limit: int, *, multiline: bool = True) -> str:
    """Text a person typed, as kept: control characters dropped (they break XML, PDFs and
    spreadsheets), spaces collapsed, line breaks kept only where ``multiline``; refused with
    a clear message when it is not text or longer than ``limit``, never silently cut."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    lines = [" ".join(_CONTROLS.sub("", line).split()) for line in value.strip().splitlines()]
    text = ("\n" if multiline else " ").join(lines).strip()
    if len(text) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return text
