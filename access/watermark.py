"""Stamp every page of a PDF with who is looking, from where, and when.

The stamp is drawn by reportlab in the archive's CJK font (:mod:`archive.pdf`), so its text
stays extractable, once per request and displayed page size. qpdf (pikepdf) lays it over
every page as a Form XObject drawn from the page's own content stream, after the page's
content, which is wrapped in ``q``/``Q`` so the state it leaves cannot move the stamp. That
makes it page content, not an annotation a viewer can hide or a tool strip in one step.
qpdf places it on the page as displayed: a rotated page carries it upright, and a box that
does not start at (0, 0) carries it inside the box. Nothing else in the file is decoded or
re-compressed, which is why a 100-page PDF takes milliseconds, not a pypdf merge's second.
"""

from __future__ import annotations

import io

import pikepdf
from pikepdf import Name, Pdf, Rectangle, Stream, StreamDecodeLevel
from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from archive.pdf import cjk_font


class CannotStamp(Exception):
    """qpdf cannot read the PDF: it cannot be stamped, so it is not shown."""


def _stamp(width: float, height: float, lines: list[str]) -> bytes:
    """A one-page PDF of the page's displayed size holding only the stamp."""
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
    return buffer.getvalue()


def _turned(page: pikepdf.Page) -> bool:
    """Whether the page is displayed a quarter turn round (``/Rotate`` 90 or 270)."""
    try:
        return int(page.obj.get(Name.Rotate, 0)) % 180 == 90
    except (TypeError, ValueError):  # not a number: viewers show it unrotated
        return False


def watermark_pdf(data: bytes, lines: list[str]) -> bytes:
    """``data`` with ``lines`` stamped on every page; :class:`CannotStamp` if unreadable."""
    drawn: list[Pdf] = []  # qpdf copies a stamp's streams when writing: keep them open
    try:
        with Pdf.open(io.BytesIO(data)) as pdf:
            outer = pdf.make_indirect(Stream(pdf, b"q\n"))  # one stream for every page
            forms: dict[tuple[float, float], pikepdf.Object] = {}
            for page in pdf.pages:
                box = Rectangle(page.cropbox)  # what is displayed (the media box by default)
                size = (box.height, box.width) if _turned(page) else (box.width, box.height)
                if size not in forms:
                    drawn.append(Pdf.open(io.BytesIO(_stamp(*size, lines))))
                    forms[size] = pdf.copy_foreign(drawn[-1].pages[0].as_form_xobject())
                name = page.add_resource(forms[size], Name.XObject, prefix="Stamp")
                # Undoes the page's rotation, so the stamp reads upright as displayed.
                placed = page.calc_form_xobject_placement(
                    forms[size],
                    name,
                    box,
                    invert_transformations=True,
                    allow_shrink=True,
                    allow_expand=True,
                )
                page.contents_add(outer, prepend=True)
                page.contents_add(b"Q\n" + placed)
            out = io.BytesIO()
            pdf.save(out, stream_decode_level=StreamDecodeLevel.none, fix_metadata_version=False)
            return out.getvalue()
    except pikepdf.PdfError as exc:
        raise CannotStamp(str(exc)) from None
    finally:
        for stamp in drawn:
            stamp.close()
