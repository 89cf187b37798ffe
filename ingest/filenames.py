"""Client file names are data: keep what a person would recognise, drop anything path-like."""

from __future__ import annotations

import re
import unicodedata

#: Bidirectional overrides and isolates: they make "invoice‮fdp.exe" read as "invoiceexe.pdf".
_BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C], None
)
_MAX_LENGTH = 255


def safe_filename(raw: str) -> str:
    """The last path component of ``raw``, without control or bidi characters.

    Never empty: a name that cleans down to nothing becomes ``unnamed``.
    """
    name = unicodedata.normalize("NFC", raw).translate(_BIDI_CONTROLS)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.split(r"[/\\]", name)[-1].strip().lstrip(".")
    name = name.strip() or "unnamed"
    if len(name) > _MAX_LENGTH:
        _stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        name = name[: _MAX_LENGTH - len(keep) - 1] + ("." + keep if keep else "")
    return name
