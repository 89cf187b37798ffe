"""Destroying content outside a signed list takes two people and a short window: a records
manager alone crypto-shredded a restricted record on no list and not due, by "delete filed
in error". Now the manager only asks; a director or the head of the record's department,
never the same person, confirms; and only within ARCHIVE_MISFILE_DAYS of filing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from archive.audit import Actor
from archive.content import read_content
from archive.core import Archive
from archive.db import utcnow
from archive.models import Record, RecordState, Sensitivity
from archive.people import change_user, find_user
from archive.refcode import number_pending
from retention.catalogue import catalogue
from retention.deletion import confirm_deletion, request_deletion
from retention.errors import Conflict, NotFound
from tests.retention.conftest import MANAGER, add_people, file_record, user


def state(arc: Archive, record_id: uuid.UUID) -> RecordState:
    with arc.sessions() as session:
        record = session.get(Record, record_id)
        assert record is not None
        return record.state


def readable(arc: Archive, record_id: uuid.UUID) -> bytes:
    with arc.sessions() as session:
        record = session.get(Record, record_id)
        assert record is not None
        return b"".join(read_content(arc, session, record.versions[0]))


@pytest.fixture
def contract(planned: Archive) -> uuid.UUID:
    add_people(planned)
    return file_record(planned, record_type="contract", sensitivity=Sensitivity.RESTRICTED)


def test_a_records_manager_alone_destroys_nothing(planned: Archive, contract: uuid.UUID) -> None:
    deletion = request_deletion(planned, MANAGER, contract, "上传错了文件")
    assert state(planned, contract) == RecordState.ACTIVE
    assert readable(planned, contract)  # every key still there
    with pytest.raises(Conflict, match="already waits"):
        request_deletion(planned, MANAGER, contract, "再删一次：重复上传")
    sun = user(planned, "sun")  # the manager in person cannot be the second person either
    with pytest.raises(NotFound):
        confirm_deletion(planned, Actor.of(sun, None), sun.id, deletion.id)
    assert state(planned, contract) == RecordState.ACTIVE


def test_whoever_asked_never_confirms(planned: Archive) -> None:
    add_people(planned)
    minutes = file_record(planned, record_type="minutes")
    qian = user(planned, "qian")
    deletion = request_deletion(planned, Actor.of(qian, None), minutes, "上传错了文件")
    with pytest.raises(Conflict, match="second person"):
        confirm_deletion(planned, Actor.of(qian, None), qian.id, deletion.id)
    assert state(planned, minutes) == RecordState.ACTIVE


@pytest.mark.parametrize(
    ("confirmer", "allowed"),
    [("zhang", False), ("li", False), ("wang", False), ("zhao", True), ("qian", True)],
)
def test_only_a_director_confirms_a_restricted_record(
    planned: Archive, contract: uuid.UUID, confirmer: str, allowed: bool
) -> None:
    """zhang is a CG specialist, li heads XS, wang heads CG; zhao and qian are directors.
    Whoever may not confirm hears what they would hear of a deletion that does not exist."""
    deletion = request_deletion(planned, MANAGER, contract, "上传错了文件")
    person = user(planned, confirmer)
    if not allowed:
        with pytest.raises(NotFound, match="no deletion") as refused:
            confirm_deletion(planned, Actor.of(person, None), person.id, deletion.id)
        with pytest.raises(NotFound) as unknown:
            confirm_deletion(planned, Actor.of(person, None), person.id, deletion.id + 99)
        assert str(refused.value) == str(unknown.value).replace(
            str(deletion.id + 99), str(deletion.id)
        )
        assert state(planned, contract) == RecordState.ACTIVE
        return
    assert confirm_deletion(planned, Actor.of(person, None), person.id, deletion.id) == 2
    assert state(planned, contract) == RecordState.DISPOSED
    with pytest.raises(NotFound):  # done once, never twice
        confirm_deletion(planned, Actor.of(person, None), person.id, deletion.id)


def test_only_a_recent_filing_is_deleted_outside_a_list(
    planned: Archive, contract: uuid.UUID
) -> None:
    deletion = request_deletion(planned, MANAGER, contract, "上传错了文件")
    with planned.transaction() as session:  # the record has been in the archive for 31 days
        session.execute(
            update(Record)
            .where(Record.id == contract)
            .values(created_at=utcnow() - timedelta(days=31))
        )
    qian = user(planned, "qian")
    with pytest.raises(Conflict, match="signed disposition list"):
        confirm_deletion(planned, Actor.of(qian, None), qian.id, deletion.id)
    with pytest.raises(Conflict, match="signed disposition list"):
        request_deletion(planned, MANAGER, contract, "上传错了文件，再提一次")
    assert state(planned, contract) == RecordState.ACTIVE


@pytest.mark.parametrize(
    ("confirmer", "clearance", "allowed"),
    [
        ("wang", "confidential", True),  # the head of its department, cleared for it
        ("wang", "internal", False),  # the head, but not cleared for confidential
        ("zhao", "confidential", False),  # a director who may not know CG's confidential
        ("qian", "confidential", True),  # CG's director
    ],
)
def test_a_confidential_record_needs_a_confirmer_who_may_know_it_and_is_cleared(
    planned: Archive, confirmer: str, clearance: str, allowed: bool
) -> None:
    add_people(planned)
    budget = file_record(planned, record_type="report", sensitivity=Sensitivity.CONFIDENTIAL)
    with planned.transaction() as session:
        change_user(
            session, Actor.cli(), find_user(session, confirmer), clearance=Sensitivity(clearance)
        )
    deletion = request_deletion(planned, MANAGER, budget, "上传错了文件")
    person = user(planned, confirmer)
    if allowed:
        assert confirm_deletion(planned, Actor.of(person, None), person.id, deletion.id) == 2
        assert state(planned, budget) == RecordState.DISPOSED
    else:
        with pytest.raises(NotFound):
            confirm_deletion(planned, Actor.of(person, None), person.id, deletion.id)
        assert state(planned, budget) == RecordState.ACTIVE


def test_the_catalogue_says_a_deleted_record_was_deleted_not_destroyed(
    planned: Archive, contract: uuid.UUID
) -> None:
    """No 销毁清册 names a misfiled record's deletion: the 目录's 备注 must not say 已销毁."""
    number_pending(planned)
    deletion = request_deletion(planned, MANAGER, contract, "上传错了文件")
    qian = user(planned, "qian")
    confirm_deletion(planned, Actor.of(qian, None), qian.id, deletion.id)
    with planned.sessions() as session:
        year = session.get_one(Record, contract).reference_series or ""
        register = catalogue(session, planned.settings, int(year.split("·")[1][:4]))
    (row,) = [r for r in register.rows if r[8]]
    assert row[8].startswith("误归档删除（")
