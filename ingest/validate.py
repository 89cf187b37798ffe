"""Metadata validity (四性: authenticity) against the database.

Explicit metadata is checked at receipt, so a caller who typed a wrong department hears so
at once (and still holds the file); what ingest derives later (sidecar, folder, file name)
is checked again in the pipeline, where a problem quarantines the file instead.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from archive.models import Record, RecordState
from archive.naming import NamingError, clean_project_name, format_date
from archive.people import PeopleError, find_department
from ingest.metadata import Resolved


def problems_with(
    session: Session,
    *,
    project: str | None = None,
    date: str | None = None,
    department: str | None = None,
    record_id: uuid.UUID | None = None,
    granularity: str = "month",
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
            find_department(session, department)
        except PeopleError as exc:
            problems.append(f"department: {exc}")
    if record_id is not None:
        record = session.get(Record, record_id)
        if record is None:
            problems.append(f"record {record_id} does not exist")
        elif record.state != RecordState.ACTIVE:
            problems.append(f"record {record_id} is {record.state.value}: no new versions")
    return problems


def validate_metadata(session: Session, meta: Resolved) -> list[str]:
    return problems_with(
        session,
        project=meta.project,
        date=meta.date,
        department=meta.department,
        record_id=meta.record_id,
    )


def validate_params(session: Session, params: dict[str, Any]) -> list[str]:
    record_id = params.get("record_id")
    return problems_with(
        session,
        project=params.get("project"),
        date=params.get("date"),
        department=params.get("department"),
        record_id=uuid.UUID(record_id) if record_id else None,
    )
