"""The font every PDF the archive draws uses (watermarks, certificates, reports).

An embedded CJK TrueType subset when one is installed, so Chinese renders and stays
extractable as text; Adobe's built-in STSong CID font otherwise.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

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


def cell(text: object, style: ParagraphStyle) -> Paragraph:
    """A table cell or paragraph of untrusted text: escaped, line breaks kept."""
    escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Paragraph(escaped.replace("\n", "<br/>"), style)


def grid(data: Sequence[Sequence[object]], widths: list[float], style: ParagraphStyle) -> Table:
    """A ruled table whose first row is a header repeated on every page."""
    made = Table(  # a row taller than a page (a long opinion) splits instead of failing
        [[cell(c, style) for c in row] for row in data],
        colWidths=widths,
        repeatRows=1,
        splitInRow=1,
    )
    made.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return made


def styles() -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    """Body, title and heading styles in the CJK font."""
    font = cjk_font()
    return (
        ParagraphStyle("body", fontName=font, fontSize=8, leading=10, wordWrap="CJK"),
        ParagraphStyle("title", fontName=font, fontSize=15, leading=20, spaceAfter=6),
        ParagraphStyle("head", fontName=font, fontSize=10, leading=14, spaceBefore=8),
    )


def landscape_document(buffer: io.BytesIO, title: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=title,
    )


def report_pdf(
    title: str, summary: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]]
) -> bytes:
    """A landscape A4 report: a title, a two-column summary, then a table (first row: header)."""
    body, title_style, _ = styles()
    page_width = landscape(A4)[0] - 24 * mm
    columns = max((len(r) for r in rows), default=1)
    buffer = io.BytesIO()
    story: list[Any] = [
        Paragraph(title, title_style),
        grid([["", ""], *summary], [60 * mm, page_width - 60 * mm], body),
        Spacer(1, 6 * mm),
    ]
    if rows:
        story.append(grid(rows, [page_width / columns] * columns, body))
    landscape_document(buffer, title).build(story)
    return buffer.getvalue()
