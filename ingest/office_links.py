"""What in an office package would make LibreOffice read something outside the document.

LibreOffice follows links while it lays a document out: an OOXML relationship with
``TargetMode="External"`` (a linked picture, an OLE link, an attached template), an ODF
``xlink:href`` to a file or URL (a linked picture, section or table), an ``INCLUDEPICTURE`` or
``INCLUDETEXT`` field. The network is cut in the sandbox, but the file system is not: a link
to ``file:///…`` would pull a file of the server into the PDF that its uploader then reads.
So a package with any such link is not laid out at all (its text is still read, which
follows no links); a hyperlink, which LibreOffice only writes into the PDF, is harmless.

The parts are parsed namespace-aware (a prefix other than ``xlink`` or ``r`` changes
nothing), with entities unresolved and no network.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: ODF elements whose link is followed only when a reader clicks it.
CLICKED = frozenset(
    {
        "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}a",
        "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}a",
        "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}event-listener",
        "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}event-listener",
    }
)
#: ODF elements that are a live link by themselves (DDE).
DDE = frozenset({"dde-source", "dde-connection-decl", "dde-link"})
#: Field instructions that fetch content (Word's INCLUDEPICTURE, INCLUDETEXT, LINK, DDE...).
FETCHING_FIELD = re.compile(r"\b(INCLUDEPICTURE|INCLUDETEXT|LINK|DDE|DDEAUTO|IMPORT)\b", re.I)
#: A link inside the package: a relative path that does not climb out of it.
INSIDE = re.compile(r"^(?![a-zA-Z][\w+.-]*:)(?![/\\])(?!.*(?:^|[/\\])\.\.(?:[/\\]|$)).*$", re.S)


def external_links(path: Path, most: int = 3) -> list[str]:
    """Up to ``most`` descriptions of links that reach outside the document ([] if none)."""
    found: list[str] = []
    with zipfile.ZipFile(path) as package:
        for member in package.namelist():
            if not member.endswith((".xml", ".rels")):
                continue
            with package.open(member) as stream:
                for what in _links_in(stream):
                    found.append(f"{member}: {what}")
                    if len(found) >= most:
                        return found
    return found


def _links_in(stream: object) -> Iterator[str]:
    instructions: list[str] = []  # a field's code may be split over runs: read it whole
    try:
        for _event, element in etree.iterparse(
            stream, events=("end",), resolve_entities=False, no_network=True, huge_tree=False
        ):
            yield from _element_links(element, instructions)
            element.clear()
    except etree.XMLSyntaxError:
        return  # not well-formed: LibreOffice will refuse it, or the text reader says why
    fields = "".join(instructions)
    if FETCHING_FIELD.search(fields):
        yield f"a field that fetches content: {fields.strip()[:80]}"


def _element_links(element: etree._Element, instructions: list[str]) -> Iterator[str]:
    tag = element.tag if isinstance(element.tag, str) else ""
    local = etree.QName(tag).localname if tag else ""
    namespace = etree.QName(tag).namespace if tag else None
    if namespace == PACKAGE_RELATIONSHIPS and local == "Relationship":
        kind = element.get("Type", "")
        if element.get("TargetMode", "").lower() == "external" and not kind.endswith("/hyperlink"):
            yield f"external {kind.rsplit('/', 1)[-1]} {element.get('Target', '')[:80]}"
        return
    href = element.get(XLINK_HREF)
    if href is not None and tag not in CLICKED and not INSIDE.match(href.strip()):
        yield f"{local} links to {href[:80]}"
    if local in DDE:
        yield f"a DDE link ({local})"
    if namespace == WORD:
        if local == "instrText" and element.text:
            instructions.append(element.text)
        elif element.get(f"{{{WORD}}}instr"):
            instructions.append(" " + element.get(f"{{{WORD}}}instr", "") + " ")
