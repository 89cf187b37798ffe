"""责任者 and 文号 recognised from a document's text (the layout of GB/T 9704 official
documents), for the description after DA/T 46.

Conservative on purpose: a wrong 文号 files a document under another's number, so only
what the layout marks as this document's own is taken, and anything else is left for a
person to give.

- 文号: a line holding only the number (``沪仓发〔2025〕12号``, ``X字[2023]第5号``; a
  ``签发人：`` may follow it, as on 上行文), or a labelled line (``文号：``, ``发文字号：``),
  in the document's head. A number quoted in the body (``根据国办发〔2024〕3号文件``) is
  another document's and is never taken.
- 责任者: a labelled line (``发文机关：``, ``发文单位：``, ``责任者：``); else the issuing
  unit's mark above the 文号 (``上海市仓储管理局文件``; a joint document's units, one per
  line over ``文件``, all of them); else the 落款, a unit's name on the line above the date
  at the end. Each must look like a unit's name (ends like one, no sentence punctuation).

Runs on the extracted text before normalisation, which joins lines between Chinese
characters: the layout is in the lines.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from archive.description import DOC_NUMBER

#: Lines looked at in the head (the 版头 and the title) and at the end (落款).
HEAD_LINES = 30
TAIL_LINES = 15
#: Longest 责任者 taken from a layout (a labelled value may be as long as the column).
MAX_UNIT_CHARS = 40

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}〔〕\[\]【】\d])[ \t\u3000]+(?=[{_CJK}〔〕\[\]【】\d])")
_NUMBER_LINE = re.compile(
    rf"^(?:(?:发文字号|发文号|文号)[:：])?({DOC_NUMBER})(?:签发人[:：].{{0,30}})?$"
)
_LABELLED_AUTHOR = re.compile(r"^(?:发文机关|发文单位|发文机构|责任者|印发机关)[:：](.+)$")
_UNIT_SUFFIXES = (
    "委员会", "办公室", "办公厅", "人民政府", "政府", "公司", "集团", "中心", "研究院",
    "研究所", "学院", "大学", "医院", "银行", "协会", "学会", "联合会", "局", "厅", "部",
    "委", "署", "院", "处", "科", "室", "所", "站", "会", "社", "行", "队", "组",
)  # fmt: skip
_SENTENCE = re.compile(r"[，。；！？、,.;!?:：“”\"《》]")
_DATE_LINE = re.compile(
    r"^(?:(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4})年"
    r"[\d〇○零一二三四五六七八九十]{1,3}月[\d〇○零一二三四五六七八九十]{1,3}日$"
)


#: Where a recognised value was read (kept with the record; the web's labels word them).
NUMBER_LINE = "text:number_line"  # a line holding only the 文号 (or 文号：…) in the head
LABELLED = "text:labelled_line"  # 发文机关：… / 责任者：…
ISSUER_MARK = "text:issuer_mark"  # the issuing unit's mark above the 文号
SIGNATURE = "text:signature"  # the 落款 above the date at the end


@dataclass(frozen=True)
class Recognised:
    """What the text says; ``evidence``: per field, the layout it was read from."""

    author: str | None = None
    doc_number: str | None = None
    evidence: dict[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        found = {"author": self.author, "doc_number": self.doc_number}
        return {name: value for name, value in found.items() if value}


def lines_of(text: str) -> list[str]:
    """Non-empty lines, NFKC, spaces between Chinese characters (OCR) taken out."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACE_IN_CJK.sub("", line.replace("\f", "\n")).strip() for line in text.split("\n"))
    return [line for line in lines if line]


def _number_in(line: str) -> str | None:
    match = _NUMBER_LINE.match(re.sub(r"\s+", "", line))
    return match.group(1) if match else None


def _unit(line: str) -> str | None:
    """``line`` as a unit's name, or None when it does not look like one."""
    name = re.sub(r"\s+", "", line)
    if name.endswith("文件") and len(name) > 2:  # 发文机关标志: 〇〇局文件
        name = name[:-2]
    if not 2 <= len(name) <= MAX_UNIT_CHARS or _SENTENCE.search(name) or re.search(r"\d", name):
        return None
    if not re.fullmatch(rf"[{_CJK}()（）]+", name):
        return None
    return name if name.endswith(_UNIT_SUFFIXES) else None


def _labelled_author(line: str) -> str | None:
    match = _LABELLED_AUTHOR.match(line)
    if not match:
        return None
    value = " ".join(match.group(1).split())
    return value if value and not _SENTENCE.search(value.rstrip("。")) else None


#: Characters of the text's beginning and end that are read: the head and the 落款.
HEAD_CHARS, TAIL_CHARS = 16384, 8192


def ends_of(pages: list[str]) -> tuple[str, str]:
    """The beginning and the end of a document's text, without joining all its pages (a
    long document's text is large; only its ends hold the layout read here)."""
    head: list[str] = []
    size = 0
    for page in pages:
        head.append(page[: HEAD_CHARS - size])
        size += len(head[-1])
        if size >= HEAD_CHARS:
            break
    tail: list[str] = []
    size = 0
    for page in reversed(pages):
        tail.append(page[-(TAIL_CHARS - size) :])
        size += len(tail[-1])
        if size >= TAIL_CHARS:
            break
    return "\n".join(head), "\n".join(reversed(tail))


def _issuer(above: list[str]) -> str | None:
    """The issuing unit's mark on the lines above the 文号: ``〇〇局文件`` on one line, or a
    joint document's units one per line over a ``文件`` of their own (all of them, 、)."""
    if above and re.sub(r"\s+", "", above[-1]) == "文件":
        units: list[str] = []
        for line in reversed(above[-6:-1]):
            unit = _unit(line)
            if unit is None:
                break
            units.insert(0, unit)
        return "、".join(units) or None
    for line in reversed(above[-3:]):
        unit = _unit(line)
        if unit is not None:
            return unit
    return None


def recognise(text: str, tail_text: str | None = None) -> Recognised:
    """责任者 and 文号 of the document whose extracted text is ``text`` (pages joined by
    form feeds or newlines; ``tail_text``: its end, when ``text`` is only its beginning); a
    field that cannot be read with confidence stays None."""
    lines = lines_of(text[:HEAD_CHARS])
    head = lines[:HEAD_LINES]
    author = doc_number = None
    evidence: dict[str, str] = {}
    number_at: int | None = None
    for at, line in enumerate(head):
        number = _number_in(line)
        if number is not None:
            doc_number, number_at = number, at
            evidence["doc_number"] = NUMBER_LINE
            break
    for line in head:
        labelled = _labelled_author(line)
        if labelled is not None:
            author = labelled
            evidence["author"] = LABELLED
            break
    if author is None and number_at is not None:
        author = _issuer(head[:number_at])
        if author is not None:
            evidence["author"] = ISSUER_MARK
    if author is None:
        end = text if tail_text is None else tail_text
        tail = lines_of(end[-TAIL_CHARS:])[-TAIL_LINES:]
        for at in range(len(tail) - 1, 0, -1):
            if _DATE_LINE.match(re.sub(r"\s+", "", tail[at])):
                unit = _unit(tail[at - 1])
                if unit is not None:
                    author = unit
                    evidence["author"] = SIGNATURE
                break
    return Recognised(author=author, doc_number=doc_number, evidence=evidence)


def fill_from_text(
    given: dict[str, str], sources: dict[str, str], pages: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The description with what the text (``pages``) shows filling what was not given
    (given values win), and each field's source: ``sources`` for given ones (``explicit``,
    ``sidecar``), the layout read (``text:…``) for the others."""
    found = recognise(*ends_of(pages))
    values, why = dict(given), {k: v for k, v in sources.items() if k in given}
    for name, value in found.values().items():
        if name not in values:
            values[name], why[name] = value, found.evidence[name]
    return values, why
