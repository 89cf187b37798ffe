"""Storing and reading content: the one path every byte takes in and out of the archive.

Store: plaintext streams through SHA-256 and the segmented cipher straight into the blob
store (bounded memory), *then* a short transaction names the version and records it with
its wrapped data key and an audit event, and only after that commit is ``version_stored``
sent. Uploading before the transaction keeps a slow upload from holding a database lock;
if the transaction fails the orphaned blob is deleted (and is unreadable anyway: its key
was never saved).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.core import Archive
from archive.crypto import (
    ContentIntegrityError,
    KeyringError,
    WrappedKey,
    decrypt_stream,
    encrypt_stream,
    new_data_key,
)
from archive.db import advisory_xact_lock
from archive.models import DataKey, Department, Project, Record, Sensitivity, Version
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
from archive.storage import BlobNotFound, new_object_key

ORIGINAL = "original"
NAME_RETRIES = 5


class ContentError(Exception):
    """A version cannot be stored or read; the message says why."""


class ContentDestroyed(ContentError):
    """The version's data key was destroyed (crypto-shredded): its content is gone for good."""


@dataclass(frozen=True)
class StoredVersion:
    record_id: uuid.UUID
    version_id: uuid.UUID
    name: str
    sha256: str
    size: int


class _HashingReader:
    """Counts and hashes the plaintext as the cipher pulls it through."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self._digest.update(chunk)
        self.size += len(chunk)
        return chunk

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


def content_binding(version_id: uuid.UUID, role: str) -> bytes:
    """Associated data binding a ciphertext (and its wrapped key) to one version and role."""
    return f"{version_id}/{role}".encode()


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


@dataclass(frozen=True)
class _Uploaded:
    """An encrypted blob already in the store, waiting for its database rows."""

    object_key: str
    wrapped: WrappedKey
    size: int
    sha256: str


def _upload(arc: Archive, source: BinaryIO, version_id: uuid.UUID) -> _Uploaded:
    data_key = new_data_key()
    object_key = new_object_key()
    reader = _HashingReader(source)
    binding = content_binding(version_id, ORIGINAL)
    arc.blobs.put(object_key, encrypt_stream(data_key, reader, binding))  # type: ignore[arg-type]
    wrapped = arc.keyring.wrap(data_key, binding.decode())
    return _Uploaded(object_key, wrapped, reader.size, reader.sha256)


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
) -> StoredVersion:
    """Store ``source`` as the first version of a new record, or the next of ``record_id``."""
    if (new_record is None) == (record_id is None):
        raise ContentError("give either the new record's details or an existing record id")
    version_id = uuid.uuid4()
    uploaded = _upload(arc, source, version_id)
    try:
        for attempt in range(NAME_RETRIES):
            try:
                with arc.transaction() as session:
                    version = _record_version(
                        arc,
                        session,
                        actor,
                        version_id,
                        uploaded,
                        original_filename,
                        media_type,
                        new_record,
                        record_id,
                        major_revision,
                    )
                    result = StoredVersion(
                        version.record_id, version.id, version.name, version.sha256, version.size
                    )
                break
            except IntegrityError:
                # Another writer took the same name or version number; recompute and retry.
                if attempt == NAME_RETRIES - 1:
                    raise
    except BaseException:
        arc.blobs.delete(uploaded.object_key)
        raise
    version_stored.send(arc, version_id=result.version_id, record_id=result.record_id)
    return result


def _record_version(
    arc: Archive,
    session: Session,
    actor: Actor,
    version_id: uuid.UUID,
    uploaded: _Uploaded,
    original_filename: str,
    media_type: str,
    new_record: NewRecord | None,
    record_id: uuid.UUID | None,
    major_revision: bool,
) -> Version:
    if new_record is not None:
        record = _create_record(arc, session, actor, new_record)
        number = FIRST_VERSION
    else:
        existing = session.get(Record, record_id, with_for_update=True)
        if existing is None:
            raise ContentError(f"no record {record_id}")
        record = existing
        latest = session.execute(
            select(Version.major, Version.minor)
            .where(Version.record_id == record.id)
            .order_by(Version.major.desc(), Version.minor.desc())
            .limit(1)
        ).first()
        number = VersionNumber(*latest).next(major_revision) if latest else FIRST_VERSION
    version = Version(
        id=version_id,
        record=record,
        major=number.major,
        minor=number.minor,
        name=version_name(record.name_stem, number),
        original_filename=original_filename[:1000],
        media_type=media_type,
        size=uploaded.size,
        sha256=uploaded.sha256,
        object_key=uploaded.object_key,
        created_by_id=actor.user_id,
    )
    session.add(version)
    session.flush()  # the version row must exist before its key row refers to it
    session.add(
        DataKey(
            object_key=uploaded.object_key,
            version_id=version_id,
            role=ORIGINAL,
            kek_id=uploaded.wrapped.kek_id,
            wrapped=uploaded.wrapped.wrapped,
        )
    )
    session.flush()
    record_event(
        session,
        actor,
        "version.stored",
        "version",
        version.id,
        {
            "record_id": str(record.id),
            "name": version.name,
            "sha256": version.sha256,
            "size": version.size,
            "original_filename": version.original_filename,
        },
    )
    return version


def _create_record(arc: Archive, session: Session, actor: Actor, spec: NewRecord) -> Record:
    department = find_department(session, spec.department) if spec.department else None
    granularity = arc.settings.name_date_granularity
    date_part = format_date(spec.when or date.today(), granularity)
    # One namer per project at a time, so concurrent filings get (2), (3)... not collisions.
    advisory_xact_lock(session, "name:" + clean_project_name(spec.project))
    project = get_or_create_project(session, actor, spec.project, department)
    title = " ".join(spec.title.split())[:500] or project.name
    record = Record(
        title=title,
        project=project,
        department=department or project.department,
        sensitivity=spec.sensitivity,
        name_date=date_part,
        name_stem=_free_stem(session, project.name, date_part),
        created_by_id=actor.user_id,
    )
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
        },
    )
    return record


def _data_key(arc: Archive, session: Session, version: Version, role: str) -> bytes:
    row = session.scalar(
        select(DataKey).where(DataKey.version_id == version.id, DataKey.role == role)
    )
    if row is None or row.wrapped is None or row.kek_id is None:
        raise ContentDestroyed(f"the content of {version.name} was destroyed")
    binding = content_binding(version.id, role).decode()
    try:
        return arc.keyring.unwrap(WrappedKey(row.kek_id, row.wrapped), binding)
    except KeyringError as exc:
        raise ContentError(str(exc)) from None


def read_content(arc: Archive, session: Session, version: Version) -> Iterator[bytes]:
    """Yield the verified plaintext of ``version``; raise if it was altered or destroyed.

    This is the core read primitive; access control is the caller's job (the gated reader).
    """
    key = _data_key(arc, session, version, ORIGINAL)
    binding = content_binding(version.id, ORIGINAL)

    def chunks() -> Iterator[bytes]:
        with arc.blobs.open(version.object_key) as blob:
            yield from decrypt_stream(key, blob, binding)

    return chunks()


@dataclass(frozen=True)
class FixityProblem:
    version_id: uuid.UUID
    name: str
    reason: str


@dataclass(frozen=True)
class FixityReport:
    checked: int
    destroyed: int
    problems: list[FixityProblem]


def verify_fixity(arc: Archive, actor: Actor) -> FixityReport:
    """Decrypt and hash every stored version; report each that does not match."""
    problems: list[FixityProblem] = []
    checked = destroyed = 0
    with arc.sessions() as session:
        versions = session.scalars(
            select(Version).order_by(Version.created_at).execution_options(yield_per=200)
        )
        for version in versions:
            digest = hashlib.sha256()
            try:
                for chunk in read_content(arc, session, version):
                    digest.update(chunk)
            except ContentDestroyed:
                destroyed += 1
                continue
            except (ContentIntegrityError, ContentError, BlobNotFound) as exc:
                problems.append(FixityProblem(version.id, version.name, str(exc)))
                checked += 1
                continue
            checked += 1
            if digest.hexdigest() != version.sha256:
                problems.append(
                    FixityProblem(
                        version.id,
                        version.name,
                        f"SHA-256 {digest.hexdigest()} differs from the recorded {version.sha256}",
                    )
                )
    with arc.transaction() as session:
        record_event(
            session,
            actor,
            "fixity.verified",
            "archive",
            "all",
            {
                "checked": checked,
                "destroyed": destroyed,
                "failed": [str(p.version_id) for p in problems],
            },
        )
    return FixityReport(checked, destroyed, problems)
