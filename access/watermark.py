"""Stamp every page of a PDF with who is looking, from where, and when.

The stamp is drawn by reportlab in the archive's CJK font (:mod:`archive.pdf`) and merged
onto each page with pypdf, rotated and sized to the page.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter, Transformation
from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from archive.pdf import cjk_font


def _stamp(width: float, height: float, lines: list[str]) -> PdfReader:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height))
    font = cjk_font()
    canvas.setFillColor(Color(0.6, 0.1, 0.1, alpha=0.35))
    size = max(8.0, min(width, height) / 40)
    # A diagonal band in the middle and a line along the foot of the page.
    canvas.saveState()
    canvas.translate(width / 2, height / 2)
    canvas.rotate(35)
    canvas.setFont(font, size * 1.6)
    for number, line in enumerate(lines):
        canvas.drawCentredString(0, -number * size * 2.2, line)
    canvas.restoreState()
    canvas.setFont(font, size * 0.8)
    canvas.drawString(size, size, "  ".join(lines))
    canvas.save()
    buffer.seek(0)
    return PdfReader(buffer)


def watermark_pdf(data: bytes, lines: list[str]) -> bytes:
    """``data`` with ``lines`` stamped on every page."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    stamps: dict[tuple[float, float], PdfReader] = {}
    for page in writer.pages:
        box = page.mediabox
        size = (float(box.width), float(box.height))
        if size not in stamps:
            stamps[size] = _stamp(*size, lines)
        # Boxes need not start at (0, 0): move the stamp to where the page starts.
        offset = Transformation().translate(float(box.left), float(box.bottom))
        page.merge_transformed_page(stamps[size].pages[0], offset)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
