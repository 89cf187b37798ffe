"""Due dates: the records manager's arithmetic, including fiscal years and leap days."""

from __future__ import annotations

from datetime import date

import pytest

from archive.content import filing_date
from archive.db import local_today
from archive.models import Trigger
from retention.clock import Rule, add_years, compute, eligible_from, fiscal_year_end

VOUCHER = Rule(30, Trigger.FISCAL_YEAR_END)


@pytest.mark.parametrize(
    ("filed", "fiscal_end", "due"),
    [
        (date(2023, 3, 15), (12, 31), date(2053, 12, 31)),  # the acceptance case
        (date(2023, 3, 15), (6, 30), date(2053, 6, 30)),  # fiscal year ending 30 June
        (date(2023, 7, 1), (6, 30), date(2054, 6, 30)),  # the next fiscal year
        (date(2023, 6, 30), (6, 30), date(2053, 6, 30)),  # its last day is still in it
        (date(2023, 12, 31), (12, 31), date(2053, 12, 31)),
        (date(2024, 1, 1), (12, 31), date(2054, 12, 31)),
        (date(2023, 3, 15), (3, 31), date(2053, 3, 31)),  # Hong Kong's 31 March
        (date(2023, 2, 1), (2, 28), date(2053, 2, 28)),  # February's end, not a leap year
        (date(2023, 3, 1), (2, 28), date(2054, 2, 28)),  # → 2024-02-29 + 30 → Feb's end
        (date(2023, 3, 1), (2, 29), date(2054, 2, 28)),  # 02-29 means February's end too
        (date(2024, 3, 1), (2, 28), date(2055, 2, 28)),
        (date(2025, 3, 1), (2, 28), date(2056, 2, 28)),  # 2026-02-28 + 30: the same day
    ],
)
def test_vouchers_are_due_thirty_years_after_their_fiscal_year_ends(
    filed: date, fiscal_end: tuple[int, int], due: date
) -> None:
    assert compute(VOUCHER, filed, {}, fiscal_end).due == due


def test_fiscal_year_end_of_a_leap_february() -> None:
    assert fiscal_year_end(date(2024, 2, 10), (2, 28)) == date(2024, 2, 29)
    assert fiscal_year_end(date(2024, 3, 1), (2, 28)) == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("start", "years", "due"),
    [
        (date(2024, 2, 29), 10, date(2034, 2, 28)),  # no 29 February in 2034
        (date(2024, 2, 29), 4, date(2028, 2, 29)),  # the corresponding day exists
        (date(2023, 2, 28), 1, date(2024, 2, 28)),  # 民法典 202: the corresponding day
        (date(2023, 3, 15), 2, date(2025, 3, 15)),
    ],
)
def test_whole_years_handle_leap_days(start: date, years: int, due: date) -> None:
    assert add_years(start, years) == due


def test_filing_and_calendar_year_triggers() -> None:
    filed = date(2024, 2, 29)
    assert compute(Rule(10, Trigger.FILED), filed, {}).due == date(2034, 2, 28)
    assert compute(Rule(10, Trigger.YEAR_END), filed, {}).due == date(2034, 12, 31)
    permanent = compute(Rule(None, Trigger.YEAR_END), filed, {})
    assert permanent.starts == date(2024, 12, 31)
    assert permanent.due is None


def test_event_triggers_wait_and_combine() -> None:
    filed = date(2020, 1, 1)
    any_of = Rule(2, Trigger.EVENT, ("employee_separated", "contract_terminated"), "any")
    all_of = Rule(2, Trigger.EVENT, ("employee_separated", "contract_terminated"), "all")
    one = {"contract_terminated": date(2024, 5, 20)}
    both = {**one, "employee_separated": date(2024, 6, 30)}

    assert compute(any_of, filed, {}).waiting_for == ("employee_separated", "contract_terminated")
    assert compute(any_of, filed, {}).due is None
    assert compute(any_of, filed, one).due == date(2026, 5, 20)
    assert compute(any_of, filed, both).due == date(2026, 5, 20)  # the first to happen

    assert compute(all_of, filed, one).due is None
    assert compute(all_of, filed, one).waiting_for == ("employee_separated",)
    assert compute(all_of, filed, both).due == date(2026, 6, 30)  # the last to happen


def test_an_event_before_the_document_counts_from_the_document() -> None:
    """A contract terminated in 2015 (recorded for its project) on a record of 2017 kept it
    until 2025, under its ten years: the clock starts on the later of the two."""
    contract = date(2017, 4, 1)
    rule = Rule(10, Trigger.EVENT, ("contract_terminated",), "any")
    early = {"contract_terminated": date(2015, 1, 1)}
    assert compute(rule, contract, early).starts == contract
    assert compute(rule, contract, early).due == date(2027, 4, 1)
    both = Rule(10, Trigger.EVENT, ("contract_terminated", "project_accepted"), "all")
    assert compute(both, contract, {**early, "project_accepted": date(2016, 1, 1)}).due == date(
        2027, 4, 1
    )
    later = {"contract_terminated": date(2019, 6, 30)}
    assert compute(rule, contract, later).due == date(2029, 6, 30)


def test_the_filing_date_is_the_documents_own_date_when_given() -> None:
    today = local_today()
    assert filing_date(None) == today
    assert filing_date(date(2023, 3, 15)) == date(2023, 3, 15)
    assert filing_date("2023-03-15") == date(2023, 3, 15)
    assert filing_date("2024-02") == date(2024, 2, 29)  # a month counts from its last day
    assert filing_date(today.strftime("%Y-%m")) == today  # this month: today


def test_a_period_past_the_last_date_a_date_can_hold_keeps_it_to_that_date() -> None:
    """Not an exception that stops every record's recomputation (the sweep, events)."""
    assert add_years(date(9990, 6, 30), 30) == date.max
    assert eligible_from(date.max) == date.max
