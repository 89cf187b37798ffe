"""Office documents for the rendition tests, made by the libraries that write them."""

from __future__ import annotations

import functools
import io
import subprocess
import tempfile
import zipfile
from pathlib import Path

FONT = "WenQuanYi Micro Hei"
HEADING = "项目验收报告"
SENTENCE = "本项目已按期完成，验收合格。“质量”达标；"
TABLE = [["验收项", "结论"], ["土建工程", "合格"], ["消防设施", "整改后合格"]]


@functools.cache
def report_docx() -> bytes:
    """A heading, a paragraph with full-width punctuation and a table (the same bytes every
    call: a zip holds the time it was written). The body's font is named for both scripts,
    as a Chinese Word document does: with python-docx's default Latin font LibreOffice draws
    “” in that font, and pypdf reads those glyphs at the line's end (the page still shows
    them in place)."""
    import docx
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_heading(HEADING, level=1)
    run = document.add_paragraph().add_run(SENTENCE)
    run.font.name = FONT
    run._r.get_or_add_rPr().rFonts.set(qn("w:eastAsia"), FONT)
    grid = document.add_table(rows=len(TABLE), cols=len(TABLE[0]))
    for r, row in enumerate(TABLE):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@functools.cache
def ledger_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "差旅费"
    for row in (["科目", "金额"], ["差旅费", 1200], ["招待费", 800]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SLIDE_TITLE = "第三季度仓储工作汇报"
SLIDE_POINTS = ["华东仓库改造完成八成", "消防验收安排在十月"]


@functools.cache
def slides_pptx() -> bytes:
    """One slide, a title and two points, as python-pptx writes a presentation."""
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
    slide.shapes.title.text = SLIDE_TITLE
    body = slide.placeholders[1].text_frame
    body.text = SLIDE_POINTS[0]
    body.add_paragraph().text = SLIDE_POINTS[1]
    for shape in slide.shapes:
        for paragraph in shape.text_frame.paragraphs:
            for run in paragraph.runs:
                run.font.name = FONT
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def without_part(data: bytes, part: str = "[Content_Types].xml") -> bytes:
    """``data`` (a zip package) without one part: the DOCX text reader still reads it (it
    goes to word/document.xml directly), LibreOffice cannot load it."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            if member.filename != part:
                target.writestr(member, source.read(member))
    return out.getvalue()


def converted(data: bytes, suffix: str, to: str) -> bytes:
    """``data`` converted by LibreOffice itself (an ODS from an XLSX: no ODF writer in
    Python's requirements)."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / f"in{suffix}").write_bytes(data)
        subprocess.run(
            [
                "soffice",
                "--headless",
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--convert-to",
                to,
                "--outdir",
                str(work),
                str(work / f"in{suffix}"),
            ],
            env={"HOME": str(work), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            capture_output=True,
            check=True,
            timeout=120,
        )
        return (work / f"in.{to}").read_bytes()
