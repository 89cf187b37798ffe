"""Fixtures for retention: an archive with the default file plan, and a way to file records
of a given class on a given date."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import NewRecord, RenditionSource, store
from archive.core import Archive
from archive.models import Record, RenditionRole, Role, Sensitivity, SignerRole, User
from archive.people import create_user, find_department, find_user
from retention import disposition, listeners
from retention.schedules import load_plan
from tests.conftest import make_environ

MANAGER = Actor(name="sun", ip="10.0.0.5")


def load_default_plan(arc: Archive) -> None:
    with arc.transaction() as session:
        load_plan(session, MANAGER)


def file_record(
    arc: Archive,
    *,
    record_type: str | None = None,
    process: str | None = None,
    when: date = date(2023, 3, 15),
    project: str = "华东仓储改造项目",
    department: str | None = "CG",
    versions: int = 1,
    sensitivity: Sensitivity = Sensitivity.INTERNAL,
) -> uuid.UUID:
    """File a record (and ``versions - 1`` more versions), each with a text rendition."""
    record_id: uuid.UUID | None = None
    for number in range(versions):
        text = f"{project} {record_type} 第{number + 1}版".encode()
        stored = store(
            arc,
            io.BytesIO(text),
            actor=Actor.cli(),
            original_filename=f"{record_type}.txt",
            media_type="text/plain",
            new_record=None
            if record_id
            else NewRecord(
                project=project,
                title=f"{record_type} {when}",
                when=when,
                department=department,
                process=process,
                record_type=record_type,
                sensitivity=sensitivity,
            ),
            record_id=record_id,
            renditions=[RenditionSource(RenditionRole.TEXT, "text/plain", io.BytesIO(text))],
        )
        record_id = stored.record_id
    assert record_id is not None
    return record_id


def due_of(arc: Archive, record_id: uuid.UUID) -> date | None:
    with arc.sessions() as session:
        record = session.get(Record, record_id)
        assert record is not None
        return record.due_on


@pytest.fixture(autouse=True)
def _listening() -> None:
    listeners.connect()  # what create_app and the CLI do


@pytest.fixture
def planned(tmp_path: Path) -> Iterator[Archive]:
    """The embedded default with the default file plan loaded."""
    archive = Archive(load_settings(make_environ(tmp_path / "home", "sqlite", "local")))
    initialize(archive, Actor.cli())
    load_default_plan(archive)
    yield archive
    archive.close()


SIGNERS = {
    "sun": ("records_manager", "CG"),
    "wang": ("supervisor", "CG"),
    "li": ("supervisor", "XS"),
    "qian": ("director", "CG"),
    "zhao": ("director", "XS"),
    "zhang": ("specialist", "CG"),
}


def add_people(arc: Archive) -> None:
    with arc.transaction() as session:
        for username, (role, department) in SIGNERS.items():
            create_user(
                session,
                Actor.cli(),
                username,
                Role(role),
                find_department(session, department),
                display_name=f"用户{username}",
            )


def user(arc: Archive, username: str) -> User:
    with arc.sessions() as session:
        found = find_user(session, username)
        session.expunge(found)
        return found


#: The signers of a list holding one department's (CG's) records.
CG_SIGNERS: tuple[tuple[str, SignerRole | None], ...] = (
    ("sun", None),
    ("wang", None),
    ("qian", SignerRole.DIRECTOR),
)


def sign_as(arc: Archive, list_id: int, signers: tuple[tuple[str, SignerRole | None], ...]) -> None:
    """Each of ``signers`` signs the list, each in a transaction of their own."""
    for name, role in signers:
        with arc.transaction() as session:
            lst = disposition.get_list(session, list_id)
            disposition.sign(
                session, MANAGER, arc.settings.retention, lst, user(arc, name), role, "同意"
            )
