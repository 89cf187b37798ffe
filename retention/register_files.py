"""Drawing a :class:`~retention.registers.Register`: as a PDF to print and sign (reportlab,
the archive's CJK font, the organisation and 全宗号 on every page, "第 n 页 共 m 页") and as an
XLSX workbook (openpyxl) whose table header repeats on every printed page."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Spacer

from archive.db import LOCAL_TIME, utcnow
from archive.pdf import cell, cjk_font, grid, landscape_document, styles


@dataclass(frozen=True)
class Register:
    """A register as data: what both the PDF and the XLSX draw."""

    title: str
    heading: list[tuple[str, str]]  # 立档单位, 全宗号, and what the register covers
    columns: list[tuple[str, float]]  # heading, width in mm (the XLSX scales it)
    rows: list[list[str]]
    above: list[tuple[str, list[list[str]]]] = field(default_factory=list)  # blocks before
    below: list[tuple[str, list[list[str]]]] = field(default_factory=list)  # blocks after
    filename: str = "register"


def local(value: Any) -> str:
    """Beijing time, to the minute, or empty."""
    return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M") if value else ""


def _page_frame(register: Register) -> Any:
    """Draws the organisation, 全宗号 and "第 n 页 共 m 页" on every page (two passes)."""
    organisation = dict(register.heading).get("立档单位", "")
    fonds = dict(register.heading).get("全宗号", "")

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width, height = landscape(A4)
                self.setFont(cjk_font(), 8)
                self.drawString(12 * mm, height - 8 * mm, f"{organisation}  全宗号 {fonds}")
                self.drawRightString(width - 12 * mm, height - 8 * mm, register.title)
                self.drawCentredString(
                    width / 2, 6 * mm, f"第 {self.getPageNumber()} 页 共 {total} 页"
                )
                super().showPage()
            super().save()

    return NumberedCanvas


#: Columns whose cells are codes, dates and numbers, never to be broken across lines (a 档号
#: cut in two, 内/部): they keep their width (mm, 8-point type with the cell's padding), and
#: only the columns of words (题名, 鉴定意见 …) give way to fit the page.
UNBROKEN = {
    "序号": 10.0,
    "档号": 41.0,
    "日期": 17.0,
    "密级": 12.0,
    "页数": 10.0,
    "保管期限": 15.0,
    "销毁时间": 27.0,
    "时间": 27.0,
}


def column_widths(columns: list[tuple[str, float]], usable: float) -> list[float]:
    """Each column's width in mm on a page ``usable`` mm wide: :data:`UNBROKEN` ones as set,
    the rest scaled to the room left (all scaled alike if that leaves too little)."""
    fixed = sum(UNBROKEN[h] for h, _ in columns if h in UNBROKEN)
    flexible = sum(w for h, w in columns if h not in UNBROKEN)
    if flexible == 0 or usable - fixed < flexible * 0.4:
        scale = usable / sum(w for _, w in columns)
        return [w * scale for _, w in columns]
    scale = (usable - fixed) / flexible
    return [UNBROKEN[h] if h in UNBROKEN else w * scale for h, w in columns]


def register_pdf(register: Register) -> bytes:
    body, title_style, head = styles()
    buffer = io.BytesIO()
    doc = landscape_document(buffer, register.title)
    usable = landscape(A4)[0] - 24 * mm
    widths = column_widths(register.columns, usable / mm)
    story: list[Any] = [Paragraph(register.title, title_style)]
    story.append(grid([["", ""], *register.heading], [50 * mm, usable - 50 * mm], body))
    for name, rows in register.above:
        story += [Paragraph(name, head), *_block(rows, usable, body)]
    story.append(Spacer(1, 4 * mm))
    story.append(
        grid(
            [[heading for heading, _ in register.columns], *register.rows]
            if register.rows
            else [
                [heading for heading, _ in register.columns],
                ["（无）"] + [""] * (len(register.columns) - 1),
            ],
            [width * mm for width in widths],
            body,
        )
    )
    for name, rows in register.below:
        story += [Paragraph(name, head), *_block(rows, usable, body)]
    story += [Spacer(1, 4 * mm), cell(f"打印时间（北京时间）{local(utcnow())}", body)]
    doc.build(story, canvasmaker=_page_frame(register))
    return buffer.getvalue()


def _block(rows: Sequence[Sequence[str]], usable: float, body: Any) -> list[Any]:
    """A block under its heading: a text (one cell a row) as paragraphs, which flow over pages
    however long; a table of several columns as a ruled grid, its first row the header."""
    columns = max(len(r) for r in rows)
    if columns == 1:
        return [cell(row[0] if row else "", body) for row in rows]
    padded = [list(r) + [""] * (columns - len(r)) for r in rows]
    return [grid(padded, [usable / columns] * columns, body)]


def _append(sheet: Any, values: Sequence[object]) -> None:
    """One row of text as text: characters XML cannot hold are dropped (openpyxl refuses
    them), and a value that starts like a formula (=, +, -, @) stays a string, never a
    formula Excel would run: a title or an opinion is someone's own text."""
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for item in sheet[sheet.max_row]:
        if isinstance(item.value, str):
            item.data_type = "s"


def _blocks(sheet: Any, blocks: Sequence[tuple[str, list[list[str]]]]) -> None:
    for name, rows in blocks:
        sheet.append([])
        _append(sheet, [name])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        for row in rows:
            _append(sheet, row)


def register_xlsx(register: Register) -> bytes:
    """The same register as a workbook: one sheet, the title and heading rows, the table with
    its header repeated on every printed page, the blocks below; Excel opens it as it is."""
    book = Workbook()
    sheet = book.active
    sheet.title = register.title[:31]
    thin = Side(style="thin", color="999999")
    ruled = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    width = len(register.columns)
    sheet.append([register.title])
    sheet.cell(row=1, column=1).font = Font(size=14, bold=True)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    for label, value in register.heading:
        _append(sheet, [label, value])
    _blocks(sheet, register.above)
    sheet.append([])
    header_row = sheet.max_row + 1
    _append(sheet, [heading for heading, _ in register.columns])
    for column in range(1, width + 1):
        sheet.cell(row=header_row, column=column).font = Font(bold=True)
    for row in register.rows:
        _append(sheet, row)
    for row_cells in sheet.iter_rows(min_row=header_row, max_row=sheet.max_row, max_col=width):
        for item in row_cells:
            item.border, item.alignment = ruled, wrap
    _blocks(sheet, register.below)
    sheet.append([])
    _append(sheet, ["打印时间（北京时间）", local(utcnow())])
    for column, (_, mm_width) in enumerate(register.columns, 1):
        sheet.column_dimensions[get_column_letter(column)].width = max(8, mm_width / 2.2)
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.oddFooter.center.text = "第 &P 页 共 &N 页"
    sheet.oddHeader.left.text = " ".join(value for _, value in register.heading[:2])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
