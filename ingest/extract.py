"""Text extraction per format. These functions run inside the sandbox child (see sandbox.py).

The parsers are imported here, in the parent, so every forked child inherits them loaded
instead of importing them again per file.

Each returns a JSON-able dict: ``pages`` (text per page), ``page_count``, ``needs_ocr``,
``truncated`` when the text went past ``limits["text_cap_bytes"]`` and only that much was
kept (the file itself is kept whole), for scans ``scan`` (resolution, colour mode,
frames), for OFD ``ofd`` (documents, how many signed). Known-bad files raise
:class:`ParseFailure` naming the 四性 check they fail.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from ingest import sniff
from ingest.docx_text import DocxUnreadable, docx_pages, docx_text
from ingest.ofd_text import OfdEncrypted, OfdUnreadable, ofd_text
from ingest.sandbox import ParseFailure
from ingest.textfile import NotText, decode_file

OPENS = "usability.opens"
NOT_ENCRYPTED = "usability.not_encrypted"
#: A page with fewer characters than this but with images is taken for a scan.
MIN_PAGE_TEXT = 8
_EOF_WINDOW = 2048


def extract(path: str, media_type: str, limits: dict[str, int]) -> dict[str, Any]:
    """Dispatch on the sniffed ``media_type``."""
    file, cap = Path(path), limits["text_cap_bytes"]
    if media_type == sniff.PDF:
        return extract_pdf(file, cap)
    if media_type == sniff.DOCX:
        return extract_docx(file, limits["max_inflated_bytes"], cap)
    if media_type in sniff.OFFICE:  # no extractor: the text is read from its PDF rendition
        check_zip(file, limits["max_inflated_bytes"])
        return {"pages": [], "page_count": None, "needs_ocr": False, "text_from_rendition": True}
    if media_type == sniff.OFD:
        return extract_ofd(file, limits["max_inflated_bytes"], cap)
    if media_type == sniff.TEXT:
        return extract_text(file, cap)
    if media_type in sniff.IMAGES:
        return inspect_image(file, limits["max_image_pixels"])
    return {"pages": [], "page_count": None, "needs_ocr": False}


def _capped(texts: list[str], cap: int) -> tuple[list[str], bool]:
    """``texts`` cut to ``cap`` bytes of UTF-8 in all, at a character boundary."""
    kept: list[str] = []
    for text in texts:
        encoded = text.encode("utf-8")
        if len(encoded) > cap:
            kept.append(encoded[:cap].decode("utf-8", errors="ignore"))
            return kept, True
        kept.append(text)
        cap -= len(encoded)
    return kept, False


def extract_pdf(path: Path, cap: int) -> dict[str, Any]:
    """Page by page from an open file, the parsed objects dropped after each page: pypdf
    given a path reads the whole file into memory, and keeps every object it resolved (a
    1 GiB scan peaked at 2 GiB that way; this way at ~50 MB)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - _EOF_WINDOW))
        if b"%%EOF" not in handle.read():
            raise ParseFailure(OPENS, "truncated PDF: no %%EOF marker at the end")
        handle.seek(0)
        texts: list[str] = []
        scanned, room = 0, cap
        try:
            reader = PdfReader(handle)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ParseFailure(NOT_ENCRYPTED, "the PDF is password-protected")
            for page in reader.pages:
                if room <= 0:  # past the cap pages are only counted: the index has enough
                    texts.append("")
                    continue
                text = page.extract_text() or ""
                texts.append(text)
                room -= len(text.encode("utf-8"))
                if len(text.strip()) < MIN_PAGE_TEXT and _has_images(page):
                    scanned += 1
                reader.resolved_objects.clear()  # this page's fonts, images, content
        except FileNotDecryptedError:
            raise ParseFailure(NOT_ENCRYPTED, "the PDF is password-protected") from None
        except PdfReadError as exc:
            raise ParseFailure(OPENS, f"the PDF cannot be parsed: {exc}") from None
    if not texts:
        raise ParseFailure(OPENS, "the PDF has no pages")
    kept, truncated = _capped(texts, cap)
    kept += [""] * (len(texts) - len(kept))
    return {
        "pages": kept,
        "page_count": len(texts),
        "needs_ocr": scanned > 0,
        "truncated": truncated or room < 0,
    }


def _has_images(page: Any) -> bool:
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        return any(xobjects[name].get("/Subtype") == "/Image" for name in xobjects)
    except (KeyError, AttributeError, TypeError):
        return False


def check_zip(path: Path, max_inflated: int) -> None:
    """Refuse zip bombs (by declared sizes first, then by actually inflating with a cap) and
    member names that climb out of the package: nothing is unpacked to disk today, but a
    part named ``../x`` is an attack on whatever unpacks it, never a document."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ParseFailure(OPENS, f"not a readable zip container: {exc}") from None
    with archive:
        members = archive.infolist()
        names = [member.filename for member in members]
        if len(set(names)) != len(names):  # readers disagree on which copy is the part
            raise ParseFailure(OPENS, "the zip container holds two members of the same name")
        escaping = next((name for name in names if _escapes(name)), None)
        if escaping is not None:
            raise ParseFailure(
                OPENS, f"the zip container holds a member outside its root: {escaping!r}"
            )
        declared = sum(member.file_size for member in members)
        if declared > max_inflated:
            raise ParseFailure(
                OPENS, f"zip bomb: members declare {declared} bytes inflated (limit {max_inflated})"
            )
        total = 0
        for member in members:
            with archive.open(member) as stream:
                while chunk := stream.read(1 << 20):
                    total += len(chunk)
                    if total > max_inflated:
                        raise ParseFailure(
                            OPENS, f"zip bomb: inflates past {max_inflated} bytes (limit)"
                        )


def _escapes(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or parts[0].endswith(":")


def extract_docx(path: Path, max_inflated: int, cap: int) -> dict[str, Any]:
    """Streamed (see ingest.docx_text): a large DOCX costs no more memory than a small one."""
    check_zip(path, max_inflated)
    try:
        with zipfile.ZipFile(path) as archive:
            text, truncated = docx_text(archive, cap)
            pages = docx_pages(archive, bool(text.strip()))  # as Word last laid it out
    except DocxUnreadable as exc:
        raise ParseFailure(OPENS, f"the DOCX cannot be opened: {exc}") from None
    return {"pages": [text], "page_count": pages, "needs_ocr": False, "truncated": truncated}


def extract_ofd(path: Path, max_inflated: int, cap: int) -> dict[str, Any]:
    """Streamed like DOCX (see ingest.ofd_text); the page count is the documents' page lists."""
    check_zip(path, max_inflated)
    try:
        with zipfile.ZipFile(path) as archive:
            found = ofd_text(archive, cap)
    except OfdEncrypted as exc:
        raise ParseFailure(NOT_ENCRYPTED, f"the OFD is encrypted: {exc}") from None
    except OfdUnreadable as exc:
        raise ParseFailure(OPENS, f"the OFD cannot be opened: {exc}") from None
    return {
        "pages": found.pages,
        "page_count": found.page_count,
        "needs_ocr": False,
        "truncated": found.truncated,
        "ofd": {"documents": found.documents, "signed": found.signed, "info": found.info},
    }


def extract_text(path: Path, cap: int) -> dict[str, Any]:
    """Decoded in pieces: only ``cap`` bytes of text are ever held (see ingest.textfile)."""
    try:
        decoded = decode_file(path, cap)
    except NotText as exc:
        raise ParseFailure(OPENS, str(exc)) from None
    return {
        "pages": [decoded.text],
        "page_count": None,
        "needs_ocr": False,
        "encoding": decoded.encoding,
        "truncated": decoded.truncated,
    }


def inspect_image(path: Path, max_pixels: int) -> dict[str, Any]:
    """Check an image's size before anything decodes it; record what DA/T 31 asks for."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            width, height = image.size
            if width * height * frames > max_pixels:
                raise ParseFailure(
                    OPENS,
                    f"decompression bomb: {width}×{height}×{frames} pixels (limit {max_pixels})",
                )
            dpi = image.info.get("dpi")
            mode = image.mode
            image.verify()
    except Image.DecompressionBombError as exc:
        raise ParseFailure(OPENS, f"decompression bomb: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ParseFailure(OPENS, f"the image cannot be read: {exc}") from None
    resolution = round(float(min(dpi))) if dpi else None
    return {
        "pages": [],
        "page_count": frames,
        "needs_ocr": True,
        "scan": {
            "width": width,
            "height": height,
            "frames": frames,
            "mode": mode,
            "dpi": resolution,
            "low_resolution": resolution is None or resolution < 200,
        },
    }
