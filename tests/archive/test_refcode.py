"""档号: the format of DA/T 22-2015, built and read back."""

from __future__ import annotations

import pytest

from archive.refcode import ReferenceCode, ReferenceCodeError, effective_period, parse_reference


@pytest.mark.parametrize(
    ("code", "text", "series"),
    [
        (
            ReferenceCode("WS", 2011, "Y", 1, fonds="Z109", org="BGS"),
            "Z109-WS·2011-Y-BGS-0001",
            "Z109-WS·2011-Y-BGS",
        ),
        (ReferenceCode("WS", 2023, "D30", 42, org="CW"), "WS·2023-D30-CW-0042", "WS·2023-D30-CW"),
        (ReferenceCode("KJ", 2024, "D10", 12345), "KJ·2024-D10-12345", "KJ·2024-D10"),
        (ReferenceCode("WS", 2024, "D2", 7, org="0001"), "WS·2024-D2-0001-0007", "WS·2024-D2-0001"),
        (  # a record filed in volume 3: the volume's code is its series
            ReferenceCode("KJ", 2023, "D30", 12, fonds="Z109", org="CW", volume=3),
            "Z109-KJ·2023-D30-CW-0003-0012",
            "Z109-KJ·2023-D30-CW-0003",
        ),
    ],
)
def test_codes_are_built_and_read_back(code: ReferenceCode, text: str, series: str) -> None:
    assert str(code) == text
    assert code.series == series
    assert parse_reference(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Z109-WS-2011-Y-BGS-0001",  # the year joins the category with ·, not -
        "Z109-WS·11-Y-BGS-0001",  # a four-digit year
        "Z109-WS·2011-P-BGS-0001",  # Y or D and years
        "Z109-WS·2011-Y-BGS-001",  # four digits at least
        "z109-ws·2011-y-bgs-0001",  # upper case
        "Z109-WS·2011-Y-BGS-0001 ",
        "Z109-KJ·2023-D30-CW-0003-0012-0001",  # a volume holds items, not volumes
    ],
)
def test_what_is_not_a_code_is_refused_with_the_format(text: str) -> None:
    with pytest.raises(ReferenceCodeError, match="全宗号-门类代码·年度-保管期限-机构代码-件号"):
        parse_reference(text)


def test_a_record_counts_under_the_longer_of_its_schedule_and_its_number() -> None:
    assert effective_period("D10", "Z109-KJ·2015-D30-CW-0007") == "D30"  # reclassified
    assert effective_period("Y", "Z109-WS·2015-D10-XZ-0001") == "Y"  # rescheduled
    assert effective_period("D10", None) == "D10"  # not numbered yet
    assert effective_period("D30", "not a 档号") == "D30"
    assert effective_period("", "WS·2015-Y-0001") == "Y"
