"""Metadata validity (四性: authenticity) of a resolved document, against the database."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.models import Record, RecordState
from archive.naming import NamingError, clean_project_name, format_date
from archive.people import PeopleError, find_department
from ingest.metadata import Resolved


def validate_metadata(session: Session, meta: Resolved, granularity: str = "month") -> list[str]:
    """Every problem with ``meta``, as sentences; empty when all is well."""
    problems: list[str] = []
    try:
        clean_project_name(meta.project)
    except NamingError as exc:
        problems.append(f"project: {exc}")
    if meta.date:
        try:
            format_date(meta.date, "day" if len(meta.date) == 10 else granularity)
        except NamingError as exc:
            problems.append(f"date: {exc}")
    if meta.department:
        try:
            find_department(session, meta.department)
        except PeopleError as exc:
            problems.append(f"department: {exc}")
    if meta.record_id is not None:
        record = session.get(Record, meta.record_id)
        if record is None:
            problems.append(f"record {meta.record_id} does not exist")
        elif record.state != RecordState.ACTIVE:
            problems.append(f"record {meta.record_id} is {record.state.value}: no new versions")
    return problems
