"""The last day of a period and the day a record may go, after 民法典 第二百零二、二百零三条:
a period in years ends on the corresponding day (the month's last day where there is none),
and the record is kept through that day, eligible from the next, in Beijing time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from archive.core import Archive
from archive.db import local_today
from archive.models import DispositionItem, Record
from retention import disposition
from retention.clock import Rule, add_years, compute, eligible_from, is_eligible
from retention.errors import RetentionError
from retention.schedules import save_schedule, spec_from_dict
from retention.status import standing
from retention.sweep import sweep
from tests.retention.conftest import MANAGER, due_of, file_record

FOUR_YEARS_DESTROY = {
    "key": "slip",
    "name": "收发登记单 dispatch slips",
    "record_type": "slip",
    "years": 4,
    "trigger": "filed",
    "disposal": "destroy",
}


@pytest.mark.parametrize(
    ("start", "years", "last_day"),
    [
        (date(2022, 2, 28), 10, date(2032, 2, 28)),  # the corresponding day exists: kept
        (date(2024, 2, 29), 10, date(2034, 2, 28)),  # none in 2034: February's last day
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2023, 2, 28), 1, date(2024, 2, 28)),  # not moved to 29 February
        (date(2023, 1, 31), 3, date(2026, 1, 31)),
        (date(2023, 4, 30), 2, date(2025, 4, 30)),
    ],
)
def test_a_period_ends_on_the_corresponding_day(start: date, years: int, last_day: date) -> None:
    assert add_years(start, years) == last_day


def test_a_fiscal_year_ending_in_february_counts_to_the_corresponding_day() -> None:
    from archive.models import Trigger

    # The fiscal year containing 2025-03-01 ends 2026-02-28; thirty years on, 2056-02-28,
    # although February 2056 has 29 days (the article counts to the corresponding day).
    rule = Rule(30, Trigger.FISCAL_YEAR_END)
    assert compute(rule, date(2025, 3, 1), {}, (2, 28)).due == date(2056, 2, 28)


def test_the_record_is_eligible_the_day_after_its_last_day() -> None:
    last = date(2033, 12, 31)
    assert eligible_from(last) == date(2034, 1, 1)
    assert not is_eligible(last, last)
    assert not is_eligible(last, last - timedelta(days=1))
    assert is_eligible(last, last + timedelta(days=1))
    assert not is_eligible(None, date(2999, 1, 1))  # permanent or waiting


@pytest.fixture
def slips(planned: Archive) -> Archive:
    with planned.transaction() as session:
        save_schedule(session, MANAGER, spec_from_dict(FOUR_YEARS_DESTROY))
    return planned


def test_on_its_last_day_a_record_is_kept_and_the_next_day_it_is_listed(slips: Archive) -> None:
    today = local_today()  # Beijing time
    last_day = file_record(slips, record_type="slip", when=today - relativedelta(years=4))
    past = file_record(
        slips, record_type="slip", when=today - relativedelta(years=4, days=1), project="旧单据"
    )
    assert due_of(slips, last_day) == today
    assert due_of(slips, past) == today - timedelta(days=1)

    report = sweep(slips, MANAGER)
    assert report.proposed == {"destroy": 1}
    with slips.sessions() as session:
        listed = set(session.scalars(select(DispositionItem.record_id)))
        assert listed == {past}
        record = session.get(Record, last_day)
        assert record is not None
        kept = standing(session, slips.settings.retention, record)
    assert kept.status == "running"
    assert kept.data["due_on"] == today.isoformat()
    assert kept.data["eligible_from"] == (today + timedelta(days=1)).isoformat()

    with slips.transaction() as session:
        lst = disposition.create_list(session, MANAGER, disposition.Disposal.DESTROY)
        tomorrow = (today + timedelta(days=1)).isoformat()
        with pytest.raises(RetentionError, match=f"kept until {today}, eligible from {tomorrow}"):
            disposition.add_records(session, MANAGER, lst, [last_day])
