"""The font every PDF the archive draws uses (watermarks, certificates, reports).

An embedded CJK TrueType subset when one is installed, so Chinese renders and stays
extractable as text; Adobe's built-in STSong CID font otherwise.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


@cache
def cjk_font() -> str:
    """Register the font once per process; returns its name for reportlab."""
    for path in CJK_FONTS:
        if path.is_file():
            pdfmetrics.registerFont(TTFont("ArchiveCJK", str(path), subfontIndex=0))
            return "ArchiveCJK"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"
