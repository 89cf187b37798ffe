"""The file plan: schedules chosen by class, clocks started by events, versioned changes."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.audit import Actor, verify_chain
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.models import AuditEvent, Project, ProjectStatus, Record, RetentionSchedule
from ingest.review import reclassify
from retention.errors import RetentionError
from retention.schedules import export_plan, load_plan, save_schedule, spec_from_dict
from retention.status import record_occurrence, refresh_dirty, standing, void_occurrence
from tests.conftest import make_environ
from tests.retention.conftest import MANAGER, due_of, file_record, load_default_plan


def test_a_voucher_filed_in_march_2023_is_due_at_the_end_of_2053(planned: Archive) -> None:
    voucher = file_record(planned, record_type="voucher", when=date(2023, 3, 15))
    assert due_of(planned, voucher) == date(2053, 12, 31)
    with planned.sessions() as session:
        record = session.get(Record, voucher)
        assert record is not None
        status = standing(session, planned.settings.retention, record)
    assert status.status == "running"
    assert status.data["code"] == "D30"
    assert status.data["schedule"]["key"] == "voucher"
    assert status.data["counts_from"] == "2023-12-31"


def test_of_two_schedules_neither_refining_the_other_the_longest_kept_wins(
    planned: Archive,
) -> None:
    """保管期限就高不就低: a strategy meeting's minutes fit ``strategy/*/*`` (永久) and
    ``*/*/minutes`` (10 年); an HR labour contract ``hr/*/*`` (30 年) and
    ``*/*/labour_contract`` (2 年). A schedule naming both settles a pair the plan's way."""
    minutes = file_record(planned, process="strategy", record_type="minutes", project="五年战略")
    labour = file_record(planned, process="hr", record_type="labour_contract", project="员工")
    plain = file_record(planned, record_type="minutes", project="周例会")  # only one fits
    with planned.sessions() as session:
        chosen = {
            r: session.get_one(RetentionSchedule, session.get_one(Record, r).schedule_id).key
            for r in (minutes, labour, plain)
        }
        codes = {r: session.get_one(Record, r).reference_code or "" for r in (minutes, labour)}
    assert chosen == {minutes: "strategy", labour: "hr", plain: "minutes"}
    assert "-Y-" in codes[minutes]
    assert "-D30-" in codes[labour]
    with planned.transaction() as session:  # the plan settles the HR pair itself
        spec = {"key": "hr_labour", "name": "人事劳动合同", "process": "hr",
                "record_type": "labour_contract", "years": 2, "trigger": "event",
                "events": ["employee_separated"]}  # fmt: skip
        save_schedule(session, MANAGER, spec_from_dict(spec, ["employee_separated"]))
    refresh_dirty(planned)
    with planned.sessions() as session:
        row = session.get_one(RetentionSchedule, session.get_one(Record, labour).schedule_id)
    assert row.key == "hr_labour"


def test_a_fiscal_year_ending_in_june_moves_the_due_date(tmp_path: Path) -> None:
    env = {
        **make_environ(tmp_path / "home", "sqlite", "local"),
        "ARCHIVE_FISCAL_YEAR_END": "06-30",
        "ARCHIVE_ACCOUNTING_YEAR": "other",  # a subsidiary reporting to its parent's year
    }
    arc = Archive(load_settings(env))
    initialize(arc, Actor.cli())
    load_default_plan(arc)
    try:
        assert due_of(arc, file_record(arc, record_type="voucher")) == date(2053, 6, 30)
        leap = file_record(arc, record_type="minutes", when=date(2024, 2, 29))
        assert due_of(arc, leap) == date(2034, 12, 31)  # minutes: 10 years from year end
    finally:
        arc.close()


def test_a_specific_schedule_wins_over_general_and_the_rest_fall_to_it(planned: Archive) -> None:
    hr_minutes = file_record(planned, record_type="minutes", process="hr")
    hr_other = file_record(planned, record_type=None, process="hr")
    unknown = file_record(planned, record_type=None)
    strategy = file_record(planned, process="strategy")
    assert due_of(planned, hr_minutes) == date(2053, 12, 31)  # hr (30) over minutes (10)
    assert due_of(planned, hr_other) == date(2053, 12, 31)  # hr: 30 years
    assert due_of(planned, unknown) == date(2033, 12, 31)  # general: 10 years
    assert due_of(planned, strategy) is None  # permanent


def test_contracts_wait_for_termination_recorded_on_the_project(planned: Archive) -> None:
    contract = file_record(planned, record_type="contract", project="采购框架协议")
    assert due_of(planned, contract) is None
    with planned.sessions() as session:
        record = session.get(Record, contract)
        assert record is not None
        waiting = standing(session, planned.settings.retention, record)
    assert waiting.status == "waiting"
    assert waiting.data["waiting_for"] == ["contract_terminated"]

    with planned.transaction() as session:
        event = record_occurrence(
            session, MANAGER, "contract_terminated", date(2025, 8, 31), project="采购框架协议"
        )
    refresh_dirty(planned)
    assert due_of(planned, contract) == date(2035, 8, 31)

    # An event recorded in error is voided: the clock waits again.
    with planned.transaction() as session:
        void_occurrence(session, MANAGER, event.id, "录入错误 recorded against the wrong project")
    refresh_dirty(planned)
    assert due_of(planned, contract) is None


def test_labour_contracts_start_on_either_event_and_custom_all_of_schedules_on_both(
    planned: Archive,
) -> None:
    labour = file_record(planned, record_type="labour_contract", project="员工张三")
    with planned.transaction() as session:
        record_occurrence(
            session, MANAGER, "employee_separated", date(2025, 1, 10), record_id=labour
        )
    refresh_dirty(planned)
    assert due_of(planned, labour) == date(2027, 1, 10)

    with planned.transaction() as session:
        spec = spec_from_dict(
            {
                "key": "warranty",
                "name": "质保文件 warranty files",
                "record_type": "warranty",
                "years": 5,
                "trigger": "event",
                "events": ["project_accepted", "contract_terminated"],
                "event_mode": "all",
            },
            ["project_accepted", "contract_terminated"],
        )
        save_schedule(session, MANAGER, spec)
    warranty = file_record(planned, record_type="warranty", project="二期工程")
    with planned.transaction() as session:
        record_occurrence(
            session, MANAGER, "project_accepted", date(2024, 4, 1), project="二期工程"
        )
    refresh_dirty(planned)
    assert due_of(planned, warranty) is None  # one of two
    with planned.sessions() as session:
        project = session.scalar(select(Project).where(Project.name == "二期工程"))
        assert project is not None
        assert project.status == ProjectStatus.ACCEPTED
    with planned.transaction() as session:
        record_occurrence(
            session, MANAGER, "contract_terminated", date(2024, 9, 30), record_id=warranty
        )
    refresh_dirty(planned)
    assert due_of(planned, warranty) == date(2029, 9, 30)  # from the later of the two


def test_a_schedule_change_is_versioned_audited_and_recomputes(planned: Archive) -> None:
    minutes = file_record(planned, record_type="minutes")
    assert due_of(planned, minutes) == date(2033, 12, 31)
    with planned.transaction() as session:
        plan = export_plan(session)
        changed = next(s for s in plan["schedules"] if s["key"] == "minutes")
        changed["years"] = 30
        report = load_plan(session, MANAGER, plan)
    assert (report.created, report.changed) == (0, 1)
    refresh_dirty(planned)
    assert due_of(planned, minutes) == date(2053, 12, 31)
    with planned.sessions() as session:
        versions = session.scalars(
            select(RetentionSchedule)
            .where(RetentionSchedule.key == "minutes")
            .order_by(RetentionSchedule.version)
        ).all()
        assert [(v.version, v.years, v.superseded_at is not None) for v in versions] == [
            (1, 10, True),
            (2, 30, False),
        ]
        record = session.get(Record, minutes)
        assert record is not None
        assert record.schedule_id == versions[1].id  # points at the exact rule
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "retention.schedule_saved")
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None
        assert event.actor == "sun"
        assert event.details["before"]["years"] == 10
        assert event.details["after"]["years"] == 30
        assert verify_chain(session).ok
    # Loading the same plan again changes nothing.
    with planned.transaction() as session:
        again = load_plan(session, MANAGER, plan)
    assert (again.created, again.changed, again.unchanged) == (0, 0, len(plan["schedules"]))


def test_a_class_correction_moves_the_record_to_its_new_schedule(planned: Archive) -> None:
    record_id = file_record(planned, record_type="minutes")
    reclassify(planned, Actor.cli(), record_id, record_type="voucher")  # the listener refreshes
    assert due_of(planned, record_id) == date(2053, 12, 31)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"years": 0}, "years must be"),
        ({"code": "X9"}, "retention code"),
        ({"trigger": "event"}, "names none"),
        ({"trigger": "event", "events": ["asteroid"]}, "unknown event types"),
        ({"record_type": None, "process": None}, "same class as 'general'"),
        ({"colour": "red"}, "unknown fields"),
    ],
)
def test_bad_schedules_are_refused_with_the_reason(
    planned: Archive, change: dict[str, object], message: str
) -> None:
    base = {"key": "report", "name": "报告", "record_type": "report", "years": 10}
    known = ["contract_terminated"]
    with pytest.raises(RetentionError, match=message), planned.transaction() as session:
        save_schedule(session, MANAGER, spec_from_dict({**base, **change}, known))


def test_existing_records_get_a_schedule_when_the_plan_arrives(tmp_path: Path) -> None:
    arc = Archive(load_settings(make_environ(tmp_path / "home", "sqlite", "local")))
    initialize(arc, Actor.cli())
    try:
        before_plan = file_record(arc, record_type="voucher")
        assert due_of(arc, before_plan) is None  # no schedules yet
        load_default_plan(arc)
        refresh_dirty(arc)
        assert due_of(arc, before_plan) == date(2053, 12, 31)
        assert isinstance(before_plan, uuid.UUID)
    finally:
        arc.close()
