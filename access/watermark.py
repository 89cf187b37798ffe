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
from typing import Any

import pikepdf
from pikepdf import Name, Pdf, Rectangle, StreamDecodeLevel
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


def _displayed(page: pikepdf.Page) -> Rectangle:
    """What a viewer shows: the crop box within the media box. A box that shows nothing is
    not stamped, so not shown (a viewer would fall back to a page size of its own)."""
    box = Rectangle(page.mediabox)
    if Name.CropBox in page.obj:
        box = box & Rectangle(page.cropbox)
    if box.width < 1 or box.height < 1:
        raise CannotStamp("the page shows nothing (an empty or degenerate box)")
    return box


def _own_content(pdf: Pdf, page: pikepdf.Page) -> pikepdf.Object:
    """The page's content as a Form XObject in the page's own space. A single content
    stream becomes the form as it is (its bytes are neither decoded nor copied); several
    are joined, since an operator may run from one into the next."""
    contents = page.obj.get(Name.Contents)
    if isinstance(contents, pikepdf.Stream):
        form = contents
    else:
        parts: Any = contents if isinstance(contents, pikepdf.Array) else []
        joined = b"\n".join(part.read_bytes() for part in parts if isinstance(part, pikepdf.Stream))
        form = pdf.make_stream(joined)
    form.Type, form.Subtype = Name.XObject, Name.Form
    form.BBox = page.mediabox
    form.Resources = page.resources
    return pdf.make_indirect(form) if not form.is_indirect else form


def watermark_pdf(data: bytes, lines: list[str]) -> bytes:
    """``data`` with ``lines`` stamped on every page; :class:`CannotStamp` if unreadable.

    Each page's own content becomes a Form XObject that the page draws first: whatever state
    it leaves (an unbalanced ``Q``, an empty clip) ends with the form, so it cannot hide the
    stamp drawn after it. Annotations, which viewers draw above the page, are flattened into
    the page first and dropped, so nothing covers the stamp."""
    drawn: list[Pdf] = []  # qpdf copies a stamp's streams when writing: keep them open
    try:
        with Pdf.open(io.BytesIO(data)) as pdf:
            pdf.flatten_annotations(mode="all")
            forms: dict[tuple[float, float], pikepdf.Object] = {}
            for page in pdf.pages:
                if Name.Annots in page.obj:
                    del page.obj[Name.Annots]  # those without an appearance to flatten
                box = _displayed(page)
                size = (box.height, box.width) if _turned(page) else (box.width, box.height)
                if size not in forms:
                    drawn.append(Pdf.open(io.BytesIO(_stamp(*size, lines))))
                    forms[size] = pdf.copy_foreign(drawn[-1].pages[0].as_form_xobject())
                own_name = page.add_resource(_own_content(pdf, page), Name.XObject, prefix="Page")
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
                page.obj.Contents = pdf.make_stream(b"q " + bytes(own_name) + b" Do Q\n" + placed)
            out = io.BytesIO()
            pdf.save(out, stream_decode_level=StreamDecodeLevel.none, fix_metadata_version=False)
            return out.getvalue()
    except (pikepdf.PdfError, ValueError, TypeError, KeyError, AttributeError) as exc:
        # A page tree, box or resource dictionary qpdf cannot use: refused, not a 500.
        raise CannotStamp(f"{type(exc).__name__}: {exc}") from None
    finally:
        for stamp in drawn:
            stamp.close()
