"""Sample documents generated on the fly: real PDFs, DOCX, scans and hostile files."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def pdf(pages: list[str]) -> bytes:
    """A text PDF (a CJK TrueType font embedded), one string per page."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", FONT, subfontIndex=0))
    out = io.BytesIO()
    page = canvas.Canvas(out)
    for text in pages:
        page.setFont("WQY", 14)
        for number, line in enumerate(text.split("\n")):
            page.drawString(72, 750 - 20 * number, line)
        page.showPage()
    page.save()
    return out.getvalue()


def encrypted_pdf(text: str, password: str = "secret") -> bytes:  # noqa: S107
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf([text]))))
    writer.encrypt(password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf(text: str) -> bytes:
    """An image-only PDF: a page that is just a picture of ``text``."""
    import img2pdf

    png = image(text)
    layout = img2pdf.get_fixed_dpi_layout_fun((300, 300))
    result: bytes = img2pdf.convert(png, layout_fun=layout)
    return result


def image(text: str, fmt: str = "PNG", dpi: int = 300, pages: list[str] | None = None) -> bytes:
    """A scan of black text on white; ``pages`` makes a multi-page TIFF."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 48)
    frames = []
    for page_text in pages or [text]:
        frame = Image.new("L", (1800, 700), 255)
        draw = ImageDraw.Draw(frame)
        for number, line in enumerate(page_text.split("\n")):
            draw.text((100, 100 + 120 * number), line, font=font, fill=0)
        frames.append(frame)
    out = io.BytesIO()
    frames[0].save(out, fmt, dpi=(dpi, dpi), save_all=len(frames) > 1, append_images=frames[1:])
    return out.getvalue()


def docx(
    paragraphs: list[str], table: list[list[str]] | None = None, header: str = "", footer: str = ""
) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx(path: Path, inflated: int = 2 * 1024**3) -> Path:
    """A DOCX whose document.xml really inflates to ``inflated`` bytes (about 2 MiB on disk)."""
    base = docx(["bomb"])
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out,
    ):
        for item in source.infolist():
            if item.filename != "word/document.xml":
                out.writestr(item, source.read(item))
        with out.open("word/document.xml", "w", force_zip64=True) as member:
            block = b" " * (1 << 20)
            for _ in range(inflated // len(block)):
                member.write(block)
    return path


def pixel_bomb_png(width: int = 40_000, height: int = 40_000) -> bytes:
    """A valid 1-bit PNG of width×height pixels (1.6 gigapixels by default), ~200 KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def slow_pdf(operations: int = 3_000_000) -> bytes:
    """A small PDF whose one page holds millions of text operations: parsing takes minutes."""
    content = b"BT /F1 1 Tf " + b"(a) Tj " * operations + b"ET"
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
