"""Metadata validity (四性: authenticity) against the database, and the right to write.

Explicit metadata is checked at receipt, so a caller who typed a wrong department hears so
at once (and still holds the file); what ingest derives later (sidecar, folder, file name)
is checked again in the pipeline, where a problem quarantines the file instead.

A version goes only into a record its uploader may write (``archive.record_rules``): an
unknown id, one beyond the uploader's reach and a destroyed record get the same answer, so
the answer tells nothing about records the uploader may not know. The console CLI is the
archive's operator and writes any active record; a document with nobody behind it (hot
folder, bulk import) joins only a non-restricted record of the department it names. A
duplicate is named only to someone who may know the record it is in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import utcnow
from archive.models import (
    Department,
    DispositionItem,
    DispositionList,
    Grant,
    ListStatus,
    Record,
    RecordState,
    User,
)
from archive.naming import NamingError, clean_project_name, format_date
from archive.people import PeopleError, find_department
from archive.record_rules import grants_on, may_know, may_write, operator_may_write
from archive.roles import RECORDS_MANAGERS
from ingest.metadata import Resolved

CONSOLE = "cli"  # the console on the server: the root of trust
#: Run at the console by its operator (``archive put``, ``archive import``).
CONSOLE_SOURCES = frozenset({CONSOLE, "bulk"})


def _person_may(
    rule: Callable[[User, Record, list[Grant], datetime], bool],
    session: Session,
    record: Record,
    uploader_id: int,
) -> bool:
    """``rule`` (may_write, may_know) for the uploader, with their grants on ``record``."""
    uploader = session.get(User, uploader_id)
    if uploader is None:
        return False
    return rule(uploader, record, grants_on(session, uploader, record), utcnow())


def files_for(uploader: User, department_id: int) -> bool:
    """People file for their own department; records managers for any."""
    return uploader.role in RECORDS_MANAGERS or uploader.department_id == department_id


def may_add_version(
    session: Session,
    record: Record,
    uploader_id: int | None,
    source: str,
    department: str | None,
) -> bool:
    """Whether this upload may become ``record``'s next version."""
    if uploader_id is not None:
        return _person_may(may_write, session, record, uploader_id)
    if source == CONSOLE:
        return record.state == RecordState.ACTIVE and record.cut_off_on is None
    code = (department or "").strip()
    found = session.scalar(
        select(Department.id).where((Department.code == code) | (Department.name == code))
    )
    return operator_may_write(record, found)


def may_name_duplicate(
    session: Session,
    record: Record,
    uploader_id: int | None,
    source: str,
    department: str | None,
) -> bool:
    """Whether a duplicate found in ``record`` may be named to this uploader: a person, if
    they may know the record; the operator at the console (``archive put``, ``archive
    import``), always; a hot folder, as it may write (nobody in particular drops files)."""
    if uploader_id is not None:
        return _person_may(may_know, session, record, uploader_id)
    if source in CONSOLE_SOURCES:
        return True
    return may_add_version(session, record, uploader_id, source, department)


def no_such_record(record_id: uuid.UUID) -> str:
    """The one answer for an unknown, forbidden, closed or destroyed record."""
    return f"record {record_id}: no record you may add a version to"


def problems_with(
    session: Session,
    *,
    project: str | None = None,
    date: str | None = None,
    department: str | None = None,
    record_id: uuid.UUID | None = None,
    granularity: str = "month",
    uploader_id: int | None = None,
    source: str = CONSOLE,
) -> list[str]:
    """Every problem with the given values, as sentences; empty when all is well."""
    problems: list[str] = []
    if project is not None:
        try:
            clean_project_name(project)
        except NamingError as exc:
            problems.append(f"project: {exc}")
    if date:
        try:
            format_date(date, "day" if len(date) == 10 else granularity)
        except NamingError as exc:
            problems.append(f"date: {exc}")
    if department:
        try:
            found = find_department(session, department)
        except PeopleError as exc:
            problems.append(f"department: {exc}")
        else:
            uploader = session.get(User, uploader_id) if uploader_id is not None else None
            if uploader is not None and not files_for(uploader, found.id):
                problems.append(
                    f"department: you file documents for your own department only, not {department}"
                )
    if record_id is not None:
        problem = write_problem(session, record_id, uploader_id, source, department)
        if problem:
            problems.append(problem)
    return problems


def write_problem(
    session: Session,
    record_id: uuid.UUID,
    uploader_id: int | None,
    source: str,
    department: str | None,
) -> str | None:
    """Why this upload may not become a version of ``record_id`` (one answer for all)."""
    record = session.get(Record, record_id)
    if record is None or not may_add_version(session, record, uploader_id, source, department):
        return no_such_record(record_id)
    return being_signed(session, record)


def being_signed(session: Session, record: Record) -> str | None:
    """Why no version may be added now: the record is on a disposition list being signed,
    and its signers sign the versions it has (one added would be destroyed unsigned for)."""
    number = session.scalar(
        select(DispositionList.number)
        .join(DispositionItem, DispositionItem.list_id == DispositionList.id)
        .where(DispositionItem.record_id == record.id, DispositionList.status == ListStatus.SIGNING)
    )
    if number is None:
        return None
    return (
        f"record {record.reference_code or record.id} is on disposition list {number}, which is "
        "being signed: a version can be added once the list is sent back or cancelled"
    )


def validate_metadata(session: Session, meta: Resolved, uploader_id: int | None) -> list[str]:
    """The resolved metadata's validity (a person's department among it); the right to
    write into a named record is :func:`write_problem`."""
    return problems_with(
        session,
        project=meta.project,
        date=meta.date,
        department=meta.department,
        uploader_id=uploader_id,
    )


def validate_params(
    session: Session, params: dict[str, Any], uploader_id: int | None, source: str
) -> list[str]:
    record_id = params.get("record_id")
    return problems_with(
        session,
        project=params.get("project"),
        date=params.get("date"),
        department=params.get("department"),
        record_id=uuid.UUID(record_id) if record_id else None,
        uploader_id=uploader_id,
        source=source,
    )
