"""The real type of a file, from its bytes (libmagic), never from its name.

The extension only breaks ties libmagic cannot: plain text in a legacy Chinese encoding
(libmagic calls GB18030 "data"), and OFD, which is a zip with an ``OFD.xml`` inside.
"""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import magic

from ingest.textfile import NotText, decode_text

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
OFD = "application/ofd"
TEXT = "text/plain"
PNG, JPEG, TIFF = "image/png", "image/jpeg", "image/tiff"
IMAGES = frozenset({PNG, JPEG, TIFF})

#: Office documents (OOXML, ISO/IEC 29500; ODF, ISO/IEC 26300): kept as they are, and laid
#: out as PDF at ingest for reading (ingest.office). Only DOCX has a text extractor of its
#: own; the others' text is read from that PDF.
OFFICE = frozenset({DOCX, XLSX, PPTX, ODT, ODS, ODP})

#: Formats fit for long-term keeping (DA/T 70 usability): PDF/PDF-A, OFD, office documents
#: in open standard formats, scans, text.
ALLOWED = frozenset({PDF, OFD, TEXT, PNG, JPEG, TIFF}) | OFFICE

#: The part that tells each zip-packaged format apart (ODF also names itself: ``mimetype``).
_ZIP_MARKERS = (
    ("word/document.xml", DOCX),
    ("xl/workbook.xml", XLSX),
    ("ppt/presentation.xml", PPTX),
    ("OFD.xml", OFD),
)
_ODF = frozenset({ODT, ODS, ODP})

_TEXT_SNIFF_BYTES = 1 << 20

#: What a file's extension promises; a file that breaks the promise is not what it claims.
EXTENSIONS = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".xlsx": XLSX,
    ".pptx": PPTX,
    ".odt": ODT,
    ".ods": ODS,
    ".odp": ODP,
    ".ofd": OFD,
    ".txt": TEXT,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".tif": TIFF,
    ".tiff": TIFF,
}


#: Extensions of programs and scripts: a file named so is run by a double click wherever it
#: is given out again, whatever its content sniffed as (a text file named 工具.exe was kept).
RUNNABLE = frozenset(
    {".exe", ".com", ".scr", ".msi", ".dll", ".bat", ".cmd", ".ps1", ".vbs", ".vbe", ".js",
     ".jse", ".wsf", ".hta", ".lnk", ".jar", ".sh", ".app", ".apk", ".reg", ".cpl", ".pif"}
)  # fmt: skip


def extension_mismatch(filename: str, media_type: str) -> str | None:
    """A sentence if ``filename``'s extension promises another type than ``media_type``, or
    is a program's."""
    extension = Path(filename).suffix.lower()
    if extension in RUNNABLE:
        return f"named {extension}, the extension of a program: not kept as a document"
    promised = EXTENSIONS.get(extension)
    if promised is None or promised == media_type:
        return None
    return f"named {extension} ({promised}) but the content is {media_type}"


def sniff(path: Path) -> str:
    """The media type of the file at ``path``."""
    found = magic.from_file(str(path), mime=True)
    if found in ("application/zip", "application/octet-stream") and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                declared = _odf_mimetype(archive) if "mimetype" in names else None
        except (zipfile.BadZipFile, OSError):
            return found
        for part, media_type in _ZIP_MARKERS:
            if part in names:
                return media_type
        if declared in _ODF and "content.xml" in names:
            return declared
        return found
    if found in ("application/octet-stream", "text/plain", "text/csv"):
        with path.open("rb") as handle:
            head = handle.read(_TEXT_SNIFF_BYTES)
        # libmagic calls a long UTF-16 text CSV (its code units pair up as separators).
        utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if (found != "text/csv" or utf16) and head and _looks_like_text(head):
            return TEXT
    return str(found)


def _odf_mimetype(archive: zipfile.ZipFile) -> str | None:
    """The type an ODF package declares in its first member (read only if it is small)."""
    info = archive.getinfo("mimetype")
    if info.file_size > 100:
        return None
    return archive.read(info).decode("ascii", errors="replace").strip()


def _looks_like_text(head: bytes) -> bool:
    # The sample may end inside a multi-byte character: allow up to three bytes to be cut.
    for cut in range(4 if len(head) == _TEXT_SNIFF_BYTES else 1):
        try:
            decode_text(head[: len(head) - cut])
        except NotText:
            continue
        return True
    return False
