"""The text of a DOCX, read as a stream: memory stays flat whatever the document's size.

python-docx loads every part of the package (images included) and the whole XML tree of
the body; a 1 GiB document costs gigabytes that way. Here the body is parsed with lxml's
``iterparse``, one top-level block (paragraph or table) at a time, each freed once read,
and reading stops once ``cap`` bytes of text are kept. Headers come first and footers last,
as a reader sees them on a page; tables give a line per row, cells separated by tabs.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from typing import IO

from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
BODY = "word/document.xml"
_HEADER = re.compile(r"word/header\d*\.xml")
_FOOTER = re.compile(r"word/footer\d*\.xml")


class DocxUnreadable(Exception):
    """The package has no body, or its XML does not parse."""


def paragraph_text(paragraph: etree._Element) -> str:
    """What Word shows of a paragraph: its runs' text, tabs and line breaks."""
    parts: list[str] = []
    for node in paragraph.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr"):
        if node.tag == f"{W}t":
            parts.append(node.text or "")
        else:
            parts.append("\t" if node.tag == f"{W}tab" else "\n")
    return "".join(parts)


def _block_lines(block: etree._Element) -> Iterator[str]:
    if block.tag == f"{W}tbl":
        for row in block.iter(f"{W}tr"):
            cells = (
                "\n".join(paragraph_text(p) for p in cell.iter(f"{W}p"))
                for cell in row.iter(f"{W}tc")
            )
            yield "\t".join(cells)
    elif block.tag == f"{W}p":
        yield paragraph_text(block)
    else:  # content controls and the like: the paragraphs inside
        yield from (paragraph_text(p) for p in block.iter(f"{W}p"))


def _lines(stream: IO[bytes]) -> Iterator[str]:
    """Lines of one part's top-level blocks, each block freed once read."""
    context = etree.iterparse(
        stream, events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=False
    )
    container: etree._Element | None = None
    for event, element in context:
        if event == "start":
            if container is None and element.tag in (f"{W}body", f"{W}hdr", f"{W}ftr"):
                container = element
            continue
        if container is None or element.getparent() is not container:
            continue
        yield from _block_lines(element)
        element.clear()
        while element.getprevious() is not None:
            del container[0]


def docx_text(archive: zipfile.ZipFile, cap: int) -> tuple[str, bool]:
    """(text, whether it was cut at ``cap`` bytes of UTF-8)."""
    names = archive.namelist()
    if BODY not in names:
        raise DocxUnreadable("the package has no word/document.xml")
    parts = [n for n in names if _HEADER.fullmatch(n)]
    parts += [BODY] + [n for n in names if _FOOTER.fullmatch(n)]
    kept: list[str] = []
    room = cap
    try:
        for name in parts:
            with archive.open(name) as stream:
                for line in _lines(stream):
                    if not line.strip():
                        continue
                    encoded = (line + "\n").encode("utf-8")
                    if len(encoded) > room:
                        kept.append(encoded[:room].decode("utf-8", errors="ignore"))
                        return "".join(kept).rstrip("\n"), True
                    kept.append(line + "\n")
                    room -= len(encoded)
    except etree.XMLSyntaxError as exc:
        raise DocxUnreadable(f"{name} is not well-formed XML: {exc}") from None
    return "".join(kept).rstrip("\n"), False


APP = "docProps/app.xml"
_EXTENDED = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
_APP_MAX_BYTES = 1 << 20


def docx_pages(archive: zipfile.ZipFile, has_text: bool = True) -> int | None:
    """The page count Word saved in ``docProps/app.xml`` (``<Pages>``), or None when the
    document has none or an unusable one: pages depend on layout, so it is never guessed.
    Properties copied from a template by a generator that laid nothing out (``<Words>`` 0
    for a document with text) are not believed either."""
    try:
        info = archive.getinfo(APP)
    except KeyError:
        return None
    if info.file_size > _APP_MAX_BYTES:
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(archive.read(info), parser)
    except (etree.XMLSyntaxError, zipfile.BadZipFile, ValueError):
        return None
    pages, words = root.findtext(f"{_EXTENDED}Pages"), root.findtext(f"{_EXTENDED}Words")
    if has_text and (words or "").strip() == "0":
        return None
    text = (pages or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 1_000_000 else None
