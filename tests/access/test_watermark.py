"""The stamp as a reader sees it: on every page, upright, inside the displayed box, drawn by
the page's own content (not an annotation), whatever the page's rotation, boxes or state.

Pages are rendered with PDFium (pypdfium2, installed with OCRmyPDF), which applies
``/Rotate`` and the crop box as a viewer does; the stamp is the only reddish ink on them.
"""

from __future__ import annotations

import io

import pikepdf
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from pikepdf import Array, Dictionary, Name
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter

from access.watermark import CannotStamp, watermark_pdf

LINES = ["用户wang (wang)  10.1.2.3", "2026-12-02 14:00:00 北京时间  仅供查阅 严禁外传"]
A4 = (0, 0, 595, 842)


def source_pdf(
    pages: int = 1,
    *,
    rotate: int = 0,
    mediabox: tuple[float, ...] = A4,
    cropbox: tuple[float, ...] | None = None,
    content: bytes = b"",
) -> bytes:
    """Pages whose own text ``page N`` sits inside the media box, plus ``content``."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    left, bottom = mediabox[0], mediabox[1]
    for number in range(1, pages + 1):
        page = pdf.add_blank_page()
        page.obj.MediaBox = Array(mediabox)
        if cropbox is not None:
            page.obj.CropBox = Array(cropbox)
        if rotate:
            page.obj.Rotate = rotate
        page.obj.Resources = Dictionary(Font=Dictionary(F1=font))
        text = f"BT /F1 14 Tf {left + 100} {bottom + 400} Td (page {number}) Tj ET\n".encode()
        page.obj.Contents = pdf.make_stream(text + content)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def displayed(data: bytes, index: int = 0) -> Image.Image:
    """The page as a viewer shows it (rotation and crop box applied), 1 pixel a point."""
    document = pdfium.PdfDocument(data)
    try:
        image: Image.Image = document[index].render(scale=1).to_pil()
        return image.convert("RGB")
    finally:
        document.close()


def stamp_ink(image: Image.Image) -> Image.Image:
    """A mask of the stamp's reddish ink (the test pages' own ink is black or white)."""
    red, green, _ = image.split()
    return ImageChops.subtract(red, green).point(lambda v: 255 if v > 25 else 0)


def assert_upright_foot_line(image: Image.Image) -> None:
    """The stamp's foot line runs left to right along the bottom of the displayed page,
    starting at its left edge, at full size: what a wrongly rotated, shifted or shrunk
    stamp would not do."""
    width, height = image.size
    ink = stamp_ink(image)
    foot = ink.crop((0, int(height * 0.93), width, height)).getbbox()
    assert foot is not None, "no stamp along the bottom of the displayed page"
    left, top, right, bottom = foot
    assert left < width * 0.06
    assert right - left > width * 0.4  # a line of text across the page, full size
    assert bottom - top < height * 0.05
    assert ink.crop((0, 0, int(width * 0.06), int(height * 0.85))).getbbox() is None
    assert ink.crop((0, 0, width, int(height * 0.07))).getbbox() is None  # not at the top
    # The diagonal band crosses the middle of the page.
    assert ink.crop((width // 3, height // 3, 2 * width // 3, 2 * height // 3)).getbbox()


def test_every_page_carries_the_stamp_as_text_and_keeps_its_own() -> None:
    stamped = watermark_pdf(source_pdf(5), LINES)
    pages = PdfReader(io.BytesIO(stamped)).pages
    assert len(pages) == 5
    for number, page in enumerate(pages, 1):
        words = page.extract_text()
        assert f"page {number}" in words
        assert "用户wang (wang)" in words
        assert "10.1.2.3" in words
        assert "仅供查阅 严禁外传" in words


@pytest.mark.parametrize("rotate", [0, 90, 180, 270, -90])
def test_a_rotated_page_carries_the_stamp_upright_as_displayed(rotate: int) -> None:
    stamped = watermark_pdf(source_pdf(rotate=rotate), LINES)
    image = displayed(stamped)
    assert image.size == ((842, 595) if rotate % 180 else (595, 842))
    assert_upright_foot_line(image)
    assert "仅供查阅" in PdfReader(io.BytesIO(stamped)).pages[0].extract_text()


@pytest.mark.parametrize("rotate", [0, 90])
def test_a_box_that_does_not_start_at_the_origin_carries_the_stamp_inside(rotate: int) -> None:
    stamped = watermark_pdf(source_pdf(rotate=rotate, mediabox=(100, 200, 695, 1042)), LINES)
    assert_upright_foot_line(displayed(stamped))
    words = PdfReader(io.BytesIO(stamped)).pages[0].extract_text()
    assert "page 1" in words
    assert "仅供查阅" in words


def test_the_stamp_sits_in_the_crop_box_a_viewer_shows() -> None:
    stamped = watermark_pdf(source_pdf(cropbox=(60, 80, 535, 800)), LINES)
    image = displayed(stamped)
    assert image.size == (475, 720)
    assert_upright_foot_line(image)


def test_what_a_page_leaves_behind_cannot_hide_shrink_or_move_the_stamp() -> None:
    # Whites the page out, then leaves a scaled, shifted state and an open q behind it.
    hostile = b"1 1 1 rg 0 0 595 842 re f\nq 0.25 0 0 0.25 300 600 cm\n"
    assert_upright_foot_line(displayed(watermark_pdf(source_pdf(content=hostile), LINES)))


def test_the_stamp_is_page_content_drawn_last_not_an_annotation() -> None:
    stamped = pikepdf.open(io.BytesIO(watermark_pdf(source_pdf(2), LINES)))
    for page in stamped.pages:
        assert Name.Annots not in page.obj
        instructions = pikepdf.parse_content_stream(page)
        operators = [str(instruction.operator) for instruction in instructions]
        assert operators[0] == "q"  # the page's own content is wrapped in q … Q
        assert operators[-3:] == ["cm", "Do", "Q"]  # then the stamp is drawn over it
        drawn = str(instructions[-2].operands[0])
        assert page.obj.Resources.XObject[drawn].Subtype == Name.Form


def test_one_stamp_is_drawn_per_displayed_page_size() -> None:
    portrait = PdfReader(io.BytesIO(source_pdf(20)))
    turned = PdfReader(io.BytesIO(source_pdf(3, rotate=90)))
    mixed = io.BytesIO()
    writer = PdfWriter()
    for page in [*portrait.pages, *turned.pages]:
        writer.add_page(page)
    writer.write(mixed)
    stamped = pikepdf.open(io.BytesIO(watermark_pdf(mixed.getvalue(), LINES)))
    forms = {
        xobject.objgen
        for page in stamped.pages
        for name, xobject in page.obj.Resources.XObject.items()
        if name.startswith("/Stamp")
    }
    assert len(forms) == 2  # portrait, and portrait turned a quarter round


def test_a_file_qpdf_cannot_read_is_not_stamped() -> None:
    with pytest.raises(CannotStamp):
        watermark_pdf(b"%PDF-1.7\nthis is not a PDF at all", LINES)


# Found by attacking the reader: pages crafted so that the stamp drawn after them is clipped,
# covered or placed off the page, and pages qpdf reads but cannot place a stamp on.


@pytest.mark.parametrize(
    "content",
    [
        b"Q Q Q 0 0 0 0 re W n\n",  # pops the wrapping q, then clips everything after away
        b"0 0 0 0 re W n\n",  # an empty clip left in force
        b"BI /W 1 /H 1 /CS /G /BPC 8 ID \x00",  # an inline image left open
        b"(an open string",  # an operand never closed
    ],
)
def test_whatever_state_a_page_leaves_the_stamp_is_drawn(content: bytes) -> None:
    image = displayed(watermark_pdf(source_pdf(content=content), LINES))
    assert_upright_foot_line(image)


def test_an_annotation_covering_the_page_is_flattened_under_the_stamp() -> None:
    pdf = pikepdf.open(io.BytesIO(source_pdf()))
    cover = pdf.make_stream(
        b"1 1 1 rg 0 0 595 842 re f 0 0 0 rg BT /F1 20 Tf 72 700 Td (under) Tj ET"
    )
    cover.Type, cover.Subtype, cover.BBox = Name.XObject, Name.Form, Array(A4)
    cover.Resources = pdf.pages[0].obj.Resources
    page = pdf.pages[0]
    page.obj.Annots = pdf.make_indirect(
        Array([Dictionary(Type=Name.Annot, Subtype=Name.Square, Rect=Array(A4), F=4,
                          AP=Dictionary(N=cover))])
    )  # fmt: skip
    out = io.BytesIO()
    pdf.save(out)
    stamped = watermark_pdf(out.getvalue(), LINES)
    assert_upright_foot_line(displayed(stamped))
    assert "under" in PdfReader(io.BytesIO(stamped)).pages[0].extract_text()  # kept, flattened
    with pikepdf.open(io.BytesIO(stamped)) as result:
        assert Name.Annots not in result.pages[0].obj


def test_a_crop_box_beyond_the_media_box_is_cut_to_what_is_shown() -> None:
    image = displayed(watermark_pdf(source_pdf(cropbox=(-10000, -10000, 595, 842)), LINES))
    assert_upright_foot_line(image)


@pytest.mark.parametrize(
    "broken",
    [
        {"mediabox": (0, 0, 0, 0)},  # shows nothing: a viewer would invent a size
        {"cropbox": (700, 900, 800, 1000)},  # a crop box outside the media box
        {"cropbox": (0, 0, 612)},  # not a rectangle
    ],
)
def test_a_page_that_cannot_be_placed_is_refused_not_an_error(broken: dict[str, object]) -> None:
    with pytest.raises(CannotStamp):
        watermark_pdf(source_pdf(**broken), LINES)  # type: ignore[arg-type]


def test_resources_qpdf_cannot_use_are_refused_not_an_error() -> None:
    pdf = pikepdf.open(io.BytesIO(source_pdf()))
    pdf.pages[0].obj.Resources.XObject = Array([1, 2])  # an array where a dictionary goes
    out = io.BytesIO()
    pdf.save(out)
    with pytest.raises(CannotStamp):
        watermark_pdf(out.getvalue(), LINES)
