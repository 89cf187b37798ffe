"""CSV that is safe to open in a spreadsheet: the one writer every export uses.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read
by Excel or LibreOffice as a formula (CSV injection: ``=HYPERLINK(…)`` sending data away,
``=cmd|…`` running a program). Such a cell is written with a leading ``'`` (the OWASP
recommendation), which makes it text; the full-width ``＝＋－＠`` some spreadsheet
programs also accept are treated the same. Only text is neutralised: an ``int``, ``float``
or ``Decimal`` is written as the number it is (a negative number cannot carry a formula), so
a numeric column such as the access log's ``seq`` stays numeric. Anything else (a date, a
UUID, a dict) is written as its ``str()``, checked like any text; ``None`` is empty.

Every file starts with a UTF-8 byte-order mark so Excel reads the Chinese as UTF-8; readers
in Python open it with ``encoding="utf-8-sig"``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

BOM = "\ufeff"
#: The first characters that make a spreadsheet cell a formula (or a DDE command).
FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")


def safe_cell(value: object) -> object:
    """The value as it may be written to a CSV cell: numbers as numbers, text made inert."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def safe_row(row: Iterable[object]) -> list[object]:
    return [safe_cell(value) for value in row]


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The CSV text of ``rows``, one chunk per row and the BOM first: for a streamed export
    (nothing is held in memory but the row being written)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    for row in rows:
        writer.writerow(safe_row(row))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():  # no rows at all: the BOM alone
        yield buffer.getvalue()


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """The whole CSV (BOM first) as one string."""
    return "".join(csv_lines(rows))
