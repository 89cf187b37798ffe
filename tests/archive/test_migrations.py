"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from archive.config import load_settings
from archive.core import Archive
from archive.db import Base
from archive.migrate import upgrade
from archive.models import Record, Role, User
from tests.conftest import make_environ


def test_migrated_schema_matches_the_models(arc: Archive) -> None:
    with arc.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() is not None


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_arc: Archive) -> None:
    with sqlite_arc.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_records_filed_before_retention_get_their_filing_date(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> None:
    """0006 gives existing records the Beijing date they were filed, and marks them for
    the first retention refresh."""
    url = request.getfixturevalue("pg_url") if database == "postgresql" else "sqlite"
    (tmp_path / "home").mkdir()
    arc = Archive(load_settings(make_environ(tmp_path / "home", url, "local")))
    filed = datetime(2024, 12, 31, 17, 30, tzinfo=UTC)  # 01:30 the next day in Beijing
    if database == "sqlite":
        filed = filed.replace(tzinfo=None)  # as UTCDateTime stores it there
    try:
        upgrade(arc.engine, "0005")
        with arc.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO projects (name, status, created_at) "
                    "VALUES ('旧项目', 'active', :at)"
                ),
                {"at": filed},
            )
            connection.execute(
                text(
                    "INSERT INTO records (id, title, project_id, sensitivity, name_date, "
                    "name_stem, state, created_at, needs_review) VALUES (:id, '旧档案', "
                    "(SELECT id FROM projects), 'internal', '2024-12', '旧项目-2024-12', "
                    "'active', :at, :no)"
                ),
                {
                    "id": RECORD.hex if database == "sqlite" else RECORD,
                    "at": filed,
                    "no": False,
                },
            )
        upgrade(arc.engine)
        with arc.sessions() as session:
            record = session.get(Record, RECORD)
            assert record is not None
            assert record.filed_on == date(2025, 1, 1)
            assert record.retention_dirty
            assert not record.schedule_pinned
    finally:
        arc.close()


RECORD = uuid.UUID("12345678-1234-5678-1234-567812345678")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_people_before_0012_keep_their_passwords_and_a_new_role_needs_no_schema_change(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> None:
    """0012 lets existing users sign in as before (no forced password change), and the
    security administrator's role is a plain string in a column with no CHECK constraint
    or native enum, so nothing else had to change."""
    url = request.getfixturevalue("pg_url") if database == "postgresql" else "sqlite"
    (tmp_path / "home").mkdir()
    arc = Archive(load_settings(make_environ(tmp_path / "home", url, "local")))
    try:
        upgrade(arc.engine, "0011")
        with arc.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (username, display_name, role, clearance, active, "
                    "created_at, session_epoch) VALUES ('wu', '吴', 'admin', 'internal', :yes, "
                    ":at, 0)"
                ),
                {"yes": True, "at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
        upgrade(arc.engine)
        with arc.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (username, display_name, role, clearance, active, "
                    "created_at, session_epoch, must_change_password) VALUES ('zheng', '郑', "
                    "'security_admin', 'internal', :yes, :at, 0, :no)"
                ),
                {"yes": True, "no": False, "at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
        with arc.sessions() as session:
            people = {u.username: u for u in session.scalars(select(User))}
            assert not people["wu"].must_change_password
            assert people["zheng"].role == Role.SECURITY_ADMIN
    finally:
        arc.close()
