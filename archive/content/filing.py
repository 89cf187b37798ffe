"""Naming and filing a version: the one path every stored version takes into the archive.

Store: plaintext streams through SHA-256 and the segmented cipher straight into the blob
store (bounded memory), *then* a short transaction names the version and records it with
its wrapped data key and an audit event, and only after that commit is ``version_stored``
sent. Uploading before the transaction keeps a slow upload from holding a database lock;
if the transaction fails the orphaned blob is deleted (and is unreadable anyway: its key
was never saved).
"""

from __future__ import annotations

import calendar
import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.content.seal import ContentError, Uploaded, upload
from archive.core import Archive
from archive.db import advisory_xact_lock, local_today
from archive.description import description_of, set_values
from archive.models import (
    DataKey,
    Department,
    Project,
    Record,
    RecordChange,
    RecordState,
    Rendition,
    RenditionRole,
    Sensitivity,
    Version,
)
from archive.naming import (
    FIRST_VERSION,
    VersionNumber,
    clean_project_name,
    format_date,
    name_stem,
    version_name,
)
from archive.people import find_department
from archive.signals import version_stored

NAME_RETRIES = 5


@dataclass(frozen=True)
class StoredVersion:
    record_id: uuid.UUID
    version_id: uuid.UUID
    name: str
    sha256: str
    size: int


def get_or_create_project(
    session: Session, actor: Actor, name: str, department: Department | None
) -> Project:
    clean = clean_project_name(name)
    project = session.scalar(select(Project).where(Project.name == clean))
    if project is None:
        project = Project(name=clean, department=department)
        session.add(project)
        session.flush()
        record_event(
            session,
            actor,
            "project.created",
            "project",
            project.id,
            {"name": clean, "department": department.code if department else None},
        )
    return project


def _free_stem(session: Session, project: str, date_part: str) -> str:
    """The first ``项目名称[(n)]-日期`` no record uses yet."""
    clean = clean_project_name(project)
    serials = Record.name_stem.startswith(f"{clean}(", autoescape=True) & Record.name_stem.endswith(
        f")-{date_part}", autoescape=True
    )
    taken = set(
        session.scalars(
            select(Record.name_stem).where(
                (Record.name_stem == name_stem(clean, date_part)) | serials
            )
        )
    )
    serial = 1
    while name_stem(clean, date_part, serial) in taken:
        serial += 1
    return name_stem(clean, date_part, serial)


@dataclass(frozen=True)
class NewRecord:
    """What a new record needs besides its content."""

    project: str
    title: str
    when: date | str | None = None
    department: str | None = None
    sensitivity: Sensitivity = Sensitivity.INTERNAL
    process: str | None = None
    stage: str | None = None
    record_type: str | None = None
    classification: dict[str, Any] | None = None  # the decision and its reason
    needs_review: bool = False
    #: 责任者, 文号, 备注 (archive.description), cleaned by the caller.
    description: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionFacts:
    """What ingest learned about the content; fixed with the version, like its bytes."""

    page_count: int | None = None
    ocr: bool = False
    text_stats: dict[str, Any] | None = None
    checks: dict[str, Any] | None = None
    #: How sensitive this version was judged; a version above its record raises the record,
    #: so nobody cleared for the record's old level reads the new content.
    sensitivity: Sensitivity | None = None


@dataclass(frozen=True)
class RenditionSource:
    """A derived object (OCR'd PDF, extracted text) to keep encrypted beside the version."""

    role: RenditionRole
    media_type: str
    source: BinaryIO


@dataclass(frozen=True)
class _Filing:
    """Everything one store() call asks for, handed to the transaction in one piece."""

    actor: Actor
    version_id: uuid.UUID
    original: Uploaded
    renditions: list[Uploaded]
    original_filename: str
    media_type: str
    new_record: NewRecord | None
    record_id: uuid.UUID | None
    major_revision: bool
    facts: VersionFacts


#: Called inside the storing transaction with the new version; raising aborts the store.
InTransaction = Callable[[Session, Version], None]


def store(
    arc: Archive,
    source: BinaryIO,
    *,
    actor: Actor,
    original_filename: str,
    media_type: str,
    new_record: NewRecord | None = None,
    record_id: uuid.UUID | None = None,
    major_revision: bool = False,
    facts: VersionFacts | None = None,
    renditions: Sequence[RenditionSource] = (),
    in_transaction: InTransaction | None = None,
) -> StoredVersion:
    """Store ``source`` as the first version of a new record, or the next of ``record_id``.

    ``in_transaction`` lets a caller (the ingest job) commit its own state change atomically
    with the version, so a crash can never leave one without the other.
    """
    if (new_record is None) == (record_id is None):
        raise ContentError("give either the new record's details or an existing record id")
    version_id = uuid.uuid4()
    uploaded: list[Uploaded] = []
    try:
        uploaded.append(upload(arc, source, version_id, RenditionRole.ORIGINAL))
        for rendition in renditions:
            blob = upload(arc, rendition.source, version_id, rendition.role)
            uploaded.append(replace(blob, media_type=rendition.media_type))
        filing = _Filing(
            actor,
            version_id,
            uploaded[0],
            uploaded[1:],
            original_filename,
            media_type,
            new_record,
            record_id,
            major_revision,
            facts or VersionFacts(),
        )
        for attempt in range(NAME_RETRIES):
            try:
                with arc.transaction() as session:
                    version = _record_version(arc, session, filing)
                    if in_transaction is not None:
                        in_transaction(session, version)
                    result = StoredVersion(
                        version.record_id, version.id, version.name, version.sha256, version.size
                    )
                break
            except IntegrityError:
                # Another writer took the same name or version number; recompute and retry.
                if attempt == NAME_RETRIES - 1:
                    raise
    except BaseException:
        for blob in uploaded:  # unreadable anyway: their keys were never saved
            with contextlib.suppress(Exception):
                arc.blobs.delete(blob.object_key)
        raise
    version_stored.send(arc, version_id=result.version_id, record_id=result.record_id)
    return result


def _raise_to(
    session: Session, actor: Actor, record: Record, sensitivity: Sensitivity | None
) -> None:
    """Raise ``record`` to a new version's sensitivity; never lower it."""
    if sensitivity is None or sensitivity.rank <= record.sensitivity.rank:
        return
    before = record.sensitivity
    record.sensitivity = sensitivity
    record_event(
        session,
        actor,
        "record.sensitivity_raised",
        "record",
        record.id,
        {"from": before.value, "to": sensitivity.value, "why": "a version classified higher"},
    )


def _record_version(arc: Archive, session: Session, filing: _Filing) -> Version:
    if filing.new_record is not None:
        record = _create_record(arc, session, filing.actor, filing.new_record)
        number = FIRST_VERSION
    else:
        existing = session.get(Record, filing.record_id, with_for_update=True)
        if existing is None:
            raise ContentError(f"no record {filing.record_id}")
        if existing.state != RecordState.ACTIVE:
            raise ContentError(f"record {existing.name_stem} is {existing.state.value}")
        if existing.cut_off_on is not None:
            raise ContentError(
                f"record {existing.name_stem} was cut off on {existing.cut_off_on}: "
                "file the new document as a new record"
            )
        record = existing
        _raise_to(session, filing.actor, record, filing.facts.sensitivity)
        latest = session.execute(
            select(Version.major, Version.minor)
            .where(Version.record_id == record.id)
            .order_by(Version.major.desc(), Version.minor.desc())
            .limit(1)
        ).first()
        number = VersionNumber(*latest).next(filing.major_revision) if latest else FIRST_VERSION
    original, facts = filing.original, filing.facts
    version = Version(
        id=filing.version_id,
        record=record,
        major=number.major,
        minor=number.minor,
        name=version_name(record.name_stem, number),
        original_filename=filing.original_filename[:1000],
        media_type=filing.media_type,
        size=original.size,
        sha256=original.sha256,
        object_key=original.object_key,
        page_count=facts.page_count,
        ocr=facts.ocr,
        text_stats=facts.text_stats,
        checks=facts.checks,
        created_by_id=filing.actor.user_id,
    )
    session.add(version)
    session.flush()  # the version row must exist before its key rows refer to it
    for blob in [original, *filing.renditions]:
        add_blob_rows(session, version.id, blob)
    session.add(RecordChange(record_id=record.id))
    session.flush()
    record_event(
        session,
        filing.actor,
        "version.stored",
        "version",
        version.id,
        {
            "record_id": str(record.id),
            "name": version.name,
            "sha256": version.sha256,
            "size": version.size,
            "original_filename": version.original_filename,
            "renditions": [blob.role for blob in filing.renditions],
        },
    )
    return version


def filing_date(when: date | str | None) -> date:
    """The date a record's retention may count from: the document's own date when given.

    A month-only date (``2023-03``) counts from the month's last day, so a record is never
    kept shorter than its period; today's month counts from today.
    """
    today = local_today()
    if when is None:
        return today
    if isinstance(when, date):
        return when
    if len(when) == 10:
        return date.fromisoformat(when)
    year, month = (int(part) for part in when.split("-"))
    if (year, month) == (today.year, today.month):
        return today
    return date(year, month, calendar.monthrange(year, month)[1])


def _create_record(arc: Archive, session: Session, actor: Actor, spec: NewRecord) -> Record:
    department = find_department(session, spec.department) if spec.department else None
    granularity = arc.settings.name_date_granularity
    when = spec.when
    if isinstance(when, str) and len(when) == 10:  # a full date names by the granularity
        when = date.fromisoformat(when)
    date_part = format_date(when or local_today(), granularity)
    # One namer per project at a time, so concurrent filings get (2), (3)... not collisions.
    advisory_xact_lock(session, "name:" + clean_project_name(spec.project))
    project = get_or_create_project(session, actor, spec.project, department)
    title = " ".join(spec.title.split())[:500] or project.name
    record = Record(
        title=title,
        project=project,
        department=department or project.department,
        sensitivity=spec.sensitivity,
        process=spec.process,
        stage=spec.stage,
        record_type=spec.record_type,
        classification=spec.classification,
        needs_review=spec.needs_review,
        name_date=date_part,
        filed_on=filing_date(spec.when),
        filed_day_known=not (isinstance(spec.when, str) and len(spec.when) == 7),
        name_stem=_free_stem(session, project.name, date_part),
        created_by_id=actor.user_id,
    )
    set_values(record, {k: v for k, v in spec.description.items() if v})
    session.add(record)
    session.flush()
    record_event(
        session,
        actor,
        "record.created",
        "record",
        record.id,
        {
            "title": title,
            "project": project.name,
            "name_stem": record.name_stem,
            "sensitivity": record.sensitivity.value,
            "class": [record.process, record.stage, record.record_type],
            "classification": record.classification,
            **({"description": description_of(record)} if spec.description else {}),
        },
    )
    return record


def add_blob_rows(session: Session, version_id: uuid.UUID, blob: Uploaded) -> None:
    """A stored blob's rows: its wrapped data key, and for a rendition its own row (the
    original's facts are the version's). At filing and for a rendition added later."""
    if blob.role != RenditionRole.ORIGINAL:
        session.add(
            Rendition(
                version_id=version_id,
                role=blob.role,
                object_key=blob.object_key,
                media_type=blob.media_type,
                size=blob.size,
                sha256=blob.sha256,
            )
        )
    session.add(
        DataKey(
            object_key=blob.object_key,
            version_id=version_id,
            role=blob.role,
            kek_id=blob.wrapped.kek_id,
            wrapped=blob.wrapped.wrapped,
        )
    )
