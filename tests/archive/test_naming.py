"""项目名称-日期-版本号: building, parsing, version sequences and hostile input."""

from __future__ import annotations

from datetime import date

import pytest

from archive.db import local_today
from archive.naming import (
    FIRST_VERSION,
    NamingError,
    VersionNumber,
    build_name,
    clean_project_name,
    format_date,
    name_stem,
    parse_name,
    version_name,
)


def test_company_example() -> None:
    assert build_name("XX项目", "2023-01", FIRST_VERSION) == "XX项目-2023-01-1.0"
    assert build_name("XX项目", date(2023, 1, 5), FIRST_VERSION) == "XX项目-2023-01-1.0"
    assert build_name("XX项目", date(2023, 1, 5), FIRST_VERSION, "day") == "XX项目-2023-01-05-1.0"


def test_version_sequence() -> None:
    v = FIRST_VERSION
    seen = [str(v)]
    for _ in range(10):
        v = v.next()
        seen.append(str(v))
    assert seen[:3] == ["1.0", "1.1", "1.2"]
    assert seen[-1] == "1.10"  # not 2.0: only a declared major revision does that
    assert str(v.next(major_revision=True)) == "2.0"
    assert str(v.next(major_revision=True).next()) == "2.1"
    assert VersionNumber(1, 10) > VersionNumber(1, 9)
    assert VersionNumber.parse("3.4") == VersionNumber(3, 4)
    with pytest.raises(NamingError):
        VersionNumber.parse("v1")


@pytest.mark.parametrize(
    ("name", "project", "when", "version", "serial"),
    [
        ("XX项目-2023-01-1.0", "XX项目", "2023-01", "1.0", 1),
        ("XX项目-2023-01-1.0.pdf", "XX项目", "2023-01", "1.0", 1),
        ("华东-仓储 改造项目-2024-12-2.13.docx", "华东-仓储 改造项目", "2024-12", "2.13", 1),
        ("XX项目(2)-2023-01-1.1", "XX项目", "2023-01", "1.1", 2),
        ("Alpha-2023-01-05-3.0", "Alpha", "2023-01-05", "3.0", 1),
        ("P-2023-01-2023-05-1.0", "P-2023-01", "2023-05", "1.0", 1),
        ("綠色通道專案-2022-07-1.0", "綠色通道專案", "2022-07", "1.0", 1),
    ],
)
def test_parse_names_that_follow_the_convention(
    name: str, project: str, when: str, version: str, serial: int
) -> None:
    parsed = parse_name(name)
    assert parsed is not None
    assert (parsed.project, parsed.date, str(parsed.version), parsed.serial) == (
        project,
        when,
        version,
        serial,
    )


@pytest.mark.parametrize(
    "name",
    [
        "合同扫描件.pdf",
        "XX项目-2023-13-1.0",
        "XX项目-2023-1-1.0",
        "-2023-01-1.0",
        "",
        "XX项目-２０２３-01-1.0",  # full-width digits would name a look-alike of 2023-01
    ],
)
def test_parse_rejects_names_that_do_not_follow_it(name: str) -> None:
    assert parse_name(name) is None


def test_build_then_parse_round_trips() -> None:
    for project in ("XX项目", "研发-二期", "Project Apollo", "財務審計"):
        for version in (FIRST_VERSION, VersionNumber(2, 7)):
            parsed = parse_name(build_name(project, "2025-03", version))
            assert parsed is not None
            assert (parsed.project, parsed.version) == (project, version)


def test_serial_disambiguates_records_sharing_project_and_date() -> None:
    assert name_stem("XX项目", "2023-01", 2) == "XX项目(2)-2023-01"
    assert version_name(name_stem("XX项目", "2023-01", 2), FIRST_VERSION) == "XX项目(2)-2023-01-1.0"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ('a/b\\c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
        ("合同\x00项目", "合同项目"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # RTL override removed
        ("零\u200b宽", "零宽"),  # zero-width space removed
        ("  多   空格\t项目  ", "多 空格 项目"),
        ("ＸＸ项目", "ＸＸ项目"),  # full-width letters kept as written (NFC, not NFKC)
    ],
)
def test_hostile_project_names_become_safe(raw: str, expected: str) -> None:
    cleaned = clean_project_name(raw)
    assert cleaned == expected
    name = build_name(raw, "2023-01", FIRST_VERSION)
    assert "/" not in name
    assert "\\" not in name
    assert "\x00" not in name
    assert all(ord(c) >= 0x20 and c not in "\u202e\u200b" for c in name)


@pytest.mark.parametrize("raw", ["../", "..", "\x00\x01", "\u202e", "   ", "///"])
def test_names_with_nothing_left_are_refused(raw: str) -> None:
    with pytest.raises(NamingError, match="no letters or digits"):
        clean_project_name(raw)


def test_overlong_project_name_is_a_clear_error() -> None:
    with pytest.raises(NamingError, match="500 characters long; at most 60"):
        clean_project_name("项" * 500)
    name = build_name("项" * 60, "2023-01-05", VersionNumber(999, 999), "day")
    assert len(name.encode()) <= 255
    with pytest.raises(NamingError, match="bytes"):
        clean_project_name("𠀀" * 50)  # CJK Extension B: 50 characters but 200 bytes


def test_bad_dates_are_refused() -> None:
    with pytest.raises(NamingError, match="not of the form 2023-01"):
        format_date("2023/01")
    with pytest.raises(NamingError, match="does not exist"):
        format_date("2023-02-30", "day")
    with pytest.raises(NamingError):
        format_date("2023-00")
    for other_digits in ("２０２６-11", "٢٠٢٦-11"):
        with pytest.raises(NamingError, match="not of the form"):
            format_date(other_digits)
    # A typo'd year is refused before it reaches the retention arithmetic (9999 + 30 years).
    next_year = local_today().year + 1
    assert format_date(f"{next_year}-12") == f"{next_year}-12"  # a contract dated ahead
    assert format_date("1949-10") == "1949-10"
    for year in ("9999", "0000", str(next_year + 1), "0999"):
        with pytest.raises(NamingError, match="is not a year from 1000 to"):
            format_date(f"{year}-01")
