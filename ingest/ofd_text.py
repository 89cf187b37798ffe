"""The text and page count of an OFD (GB/T 33190), read as a stream.

An OFD is a zip: ``OFD.xml`` names each document's root (``DocBody/DocRoot``, usually
``Doc_0/Document.xml``); a document lists its pages (``Pages/Page@BaseLoc``, each a
``Content.xml``) and the template pages they draw on (``CommonData/TemplatePage``: an
e-invoice's printed labels such as 发票号码 live there, the values on the page itself). Text
is in ``TextObject/TextCode``. Each part is parsed with lxml's ``iterparse`` and every
graphic object is freed once read, so a long document costs no more memory than a short
one; reading stops once ``cap`` bytes of text are kept, and the rest of the pages are only
counted. Annotations, custom tags, attachments and signatures are not read for text.

Elements are matched by local name: producers disagree on the namespace (``ofdspec.org/2016``
or none). Locations (``ST_Loc``) are relative to the part that names them, or absolute
from the package root; one that climbs out of the package is refused.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from lxml import etree

ROOT = "OFD.xml"
#: The graphic objects of a page's layers: each is freed (with its earlier siblings) once read.
_OBJECTS = frozenset({"TextObject", "PathObject", "ImageObject", "CompositeObject", "PageBlock"})
#: What of a document's DocInfo is kept with the report: who made it, when, and its identity.
_INFO = ("DocID", "Title", "Author", "Creator", "CreationDate", "ModDate")
_INFO_CHARS = 200


class OfdUnreadable(Exception):
    """The package has no document, names a part it lacks, or holds XML that does not parse."""


class OfdEncrypted(Exception):
    """The package declares encryption (GM/T 0099): its parts cannot be read without a key."""


@dataclass
class OfdText:
    pages: list[str] = field(default_factory=list)
    truncated: bool = False
    documents: int = 0
    signed: int = 0  # documents with a Signatures entry (read, not verified)
    info: dict[str, str] = field(default_factory=dict)  # the first document's DocInfo

    @property
    def page_count(self) -> int:
        return len(self.pages)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _events(stream: IO[bytes]) -> Iterator[tuple[str, etree._Element]]:
    """(event, element) with entities unresolved, no network, no huge-tree allowances."""
    return etree.iterparse(  # type: ignore[no-any-return]
        stream, events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=False
    )


class _Package:
    """Parts of the zip, found by location, parsed with their failures named."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = set(archive.namelist())

    def resolve(self, loc: str, base: str) -> str:
        """The member ``loc`` names, relative to the folder ``base`` (absolute from the root).
        A relative location missing there is looked for from the root: producers differ."""
        loc = loc.strip().replace("\\", "/")
        if not loc:
            raise OfdUnreadable("an empty location")
        candidates = [loc.lstrip("/")] if loc.startswith("/") else [f"{base}/{loc}", loc]
        for candidate in candidates:
            resolved = posixpath.normpath(candidate.lstrip("/"))
            if resolved == ".." or resolved.startswith("../"):
                raise OfdUnreadable(f"the location {loc!r} points outside the package")
            if resolved in self.names:
                return resolved
        raise OfdUnreadable(f"the package has no part {loc!r}")

    def parse(self, name: str) -> Iterator[tuple[str, etree._Element]]:
        """Events of the part ``name``; malformed XML becomes :class:`OfdUnreadable`."""
        try:
            with self.archive.open(name) as stream:
                yield from _events(stream)
        except etree.XMLSyntaxError as exc:
            raise OfdUnreadable(f"{name} is not well-formed XML: {exc}") from None


def _entry(package: _Package) -> tuple[list[str], int, dict[str, str]]:
    """The document roots OFD.xml names, how many of them carry signatures, and the first
    one's DocInfo."""
    if ROOT not in package.names:
        raise OfdUnreadable("the package has no OFD.xml")
    roots: list[str] = []
    signed = 0
    info: dict[str, str] = {}
    top = None
    for event, element in package.parse(ROOT):
        name = _local(element.tag)
        if event == "start":
            top = name if top is None else top
            continue
        if name == "DocRoot":
            roots.append(package.resolve(element.text or "", ""))
        elif name == "Signatures":
            signed += 1
        elif name == "Encryptions":
            raise OfdEncrypted("OFD.xml declares encryption")
        elif name in _INFO and _local(getattr(element.getparent(), "tag", None)) == "DocInfo":
            info.setdefault(name, (element.text or "").strip()[:_INFO_CHARS])
        elif name == "DocBody":
            element.clear()  # read: its documents, signatures and description are noted
    if top != "OFD":
        raise OfdUnreadable(f"OFD.xml's root element is {top}, not OFD")
    if not roots:
        raise OfdUnreadable("OFD.xml names no document (no DocBody/DocRoot)")
    return roots, signed, {k: v for k, v in info.items() if v}


def _document(package: _Package, root: str) -> tuple[list[str], dict[str, str]]:
    """The content part of each page, in order, and the template pages by ID."""
    folder = posixpath.dirname(root)
    pages: list[str] = []
    templates: dict[str, str] = {}
    for event, element in package.parse(root):
        if event != "end":
            continue
        name = _local(element.tag)
        parent = element.getparent()
        if name == "Page" and parent is not None and _local(parent.tag) == "Pages":
            pages.append(package.resolve(element.get("BaseLoc", ""), folder))
            element.clear()
            while element.getprevious() is not None:
                del parent[0]
        elif name == "TemplatePage":
            templates[element.get("ID", "")] = package.resolve(element.get("BaseLoc", ""), folder)
    return pages, templates


def _content(package: _Package, part: str, room: int) -> tuple[list[str], list[tuple[str, str]]]:
    """A page's (or template's) text, a line per text object (and per baseline within one:
    a code at another ``Y`` starts a new line), and the templates it uses as (ID, ZOrder).
    Reading stops once the lines pass ``room`` bytes: the rest would be cut anyway."""
    lines: list[str] = []
    size = 0
    used: list[tuple[str, str]] = []
    codes: list[str] = []
    baseline: str | None = None
    for event, element in package.parse(part):
        if event != "end":
            continue
        name = _local(element.tag)
        if name == "TextCode":
            y = element.get("Y")
            if codes and y is not None and baseline is not None and y != baseline:
                codes.append("\n")
            baseline = y if y is not None else baseline
            # An unresolved entity is a child node: the text goes on in its tail.
            codes.append((element.text or "") + "".join(c.tail or "" for c in element))
        elif name == "Template":
            used.append((element.get("TemplateID", ""), element.get("ZOrder", "Background")))
        elif name in _OBJECTS:
            text = "\n".join(filter(None, (t.strip() for t in "".join(codes).split("\n"))))
            if name == "TextObject" and text:
                lines.append(text)
                size += len(text.encode("utf-8")) + 1
                if size > room:
                    break
            codes.clear()
            baseline = None
            parent = element.getparent()
            element.clear()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    return lines, used


#: More pages than any real document has: a file declaring them is refused before reading.
MAX_PAGES = 100_000


class _Reader:
    """Page texts within the cap; each template read once, however many pages use it."""

    def __init__(self, package: _Package, cap: int) -> None:
        self.package = package
        self.room = cap
        self.templates: dict[str, list[str]] = {}
        self.parts: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}

    def template(self, part: str) -> list[str]:
        if part not in self.templates:
            # Read as far as the room now: the room only shrinks, so that is enough for later.
            self.templates[part] = _content(self.package, part, self.room)[0]
        return self.templates[part]

    def page(self, part: str, templates: dict[str, str]) -> tuple[str, bool]:
        """(the page's text, whether it was cut at the cap)."""
        if part not in self.parts:  # pages sharing a part parse it once (a crafted file's 3M)
            self.parts[part] = _content(self.package, part, self.room)
        lines, used = self.parts[part]
        before = [t for t, order in used if order != "Foreground"]
        after = [t for t, order in used if order == "Foreground"]
        shown = [line for t in before if t in templates for line in self.template(templates[t])]
        shown += lines
        shown += [line for t in after if t in templates for line in self.template(templates[t])]
        encoded = "\n".join(shown).encode("utf-8")
        if len(encoded) > self.room:
            kept = encoded[: self.room].decode("utf-8", errors="ignore")
            self.room = 0
            return kept, True
        self.room -= len(encoded) + 1  # the page break the pipeline puts between pages
        return encoded.decode("utf-8"), False


def ofd_text(archive: zipfile.ZipFile, cap: int) -> OfdText:
    """Every page's text (``""`` past the cap), with what the package held."""
    package = _Package(archive)
    roots, signed, info = _entry(package)
    if any(n == "Encryptions.xml" or n.endswith("/Encryptions.xml") for n in package.names):
        raise OfdEncrypted("the package holds Encryptions.xml")
    found = OfdText(documents=len(roots), signed=signed, info=info)
    reader = _Reader(package, cap)
    for root in roots:
        pages, templates = _document(package, root)
        if len(found.pages) + len(pages) > MAX_PAGES:
            raise OfdUnreadable(f"the OFD declares more than {MAX_PAGES:,} pages")
        for part in pages:
            if reader.room <= 0:  # past the cap pages are only counted
                found.pages.append("")
                found.truncated = True
                continue
            text, cut = reader.page(part, templates)
            found.pages.append(text)
            found.truncated = found.truncated or cut
    if not found.pages:
        raise OfdUnreadable("the OFD has no pages")
    return found
