"""The one CSV helper every export uses: formula cells become text, files start with a BOM."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from archive.csvsafe import BOM, csv_lines, csv_text, safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),  # OWASP: a text cell starting with "-" is prefixed, even "-1"
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1", "'＝1"),  # the full-width forms, which some spreadsheet programs accept
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠A1", "'＠A1"),
        ("正文 = 1", "正文 = 1"),
        ("a-b", "a-b"),
        (" =1", " =1"),  # a leading space makes it text already
        ("", ""),
        (None, ""),
        (7, 7),
        (-7, -7),  # a number written as a number is a number, not a formula
        (2.5, 2.5),
        (True, "True"),
        (uuid.UUID(int=1), str(uuid.UUID(int=1))),
        ({"why": "=1"}, "{'why': '=1'}"),
    ],
)
def test_a_cell_that_starts_a_formula_becomes_text(value: object, written: object) -> None:
    assert safe_cell(value) == written


def test_the_helper_writes_a_bom_then_neutralised_rows() -> None:
    text = csv_text([["a", "b"], ["=1+1", -3], ["x\ny", None]])
    assert text.startswith(BOM)
    assert list(csv.reader(io.StringIO(text.removeprefix(BOM)))) == [
        ["a", "b"],
        ["'=1+1", "-3"],
        ["x\ny", ""],
    ]


def test_streamed_lines_carry_the_bom_once() -> None:
    lines = list(csv_lines(iter([["h"], ["@x"], ["y"]])))
    assert lines == [BOM + "h\r\n", "'@x\r\n", "y\r\n"]
    assert list(csv_lines(iter([]))) == [BOM]  # an empty export is still a UTF-8 CSV
