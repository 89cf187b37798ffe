"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from archive.core import Archive
from archive.db import Base, utcnow
from archive.migrate import upgrade
from archive.models import ApiToken, Record, Role, User


def test_migrated_schema_matches_the_models(arc: Archive) -> None:
    with arc.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() is not None


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_arc: Archive) -> None:
    with sqlite_arc.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_records_filed_before_retention_get_their_filing_date(unmigrated: Archive) -> None:
    """0006 gives existing records the Beijing date they were filed, and marks them for
    the first retention refresh."""
    arc = unmigrated
    filed = datetime(2024, 12, 31, 17, 30, tzinfo=UTC)  # 01:30 the next day in Beijing
    if arc.engine.dialect.name == "sqlite":
        filed = filed.replace(tzinfo=None)  # as UTCDateTime stores it there
    upgrade(arc.engine, "0005")
    with arc.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO projects (name, status, created_at) VALUES ('旧项目', 'active', :at)"
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
                "id": RECORD.hex if arc.engine.dialect.name == "sqlite" else RECORD,
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


RECORD = uuid.UUID("12345678-1234-5678-1234-567812345678")


def test_people_before_0012_keep_their_passwords_and_a_new_role_needs_no_schema_change(
    unmigrated: Archive,
) -> None:
    """0012 lets existing users sign in as before (no forced password change), and the
    security administrator's role is a plain string in a column with no CHECK constraint
    or native enum, so nothing else had to change."""
    arc = unmigrated
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


def test_tokens_issued_before_0016_get_the_default_lifetime_from_the_upgrade(
    unmigrated: Archive,
) -> None:
    """A token from before expiry existed keeps working for 90 days, then ends: neither
    cut off at the upgrade nor left without an end."""
    arc = unmigrated
    upgrade(arc.engine, "0015")
    with arc.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (username, display_name, role, clearance, active, "
                "created_at, session_epoch, must_change_password) VALUES ('li', '李', "
                "'specialist', 'internal', :yes, :at, 0, :no)"
            ),
            {"yes": True, "no": False, "at": datetime(2026, 1, 1, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO api_tokens (user_id, token_hash, prefix, created_at) "
                "SELECT id, :digest, 'arc_old', :at FROM users"
            ),
            {"digest": "0" * 64, "at": datetime(2026, 1, 1, tzinfo=UTC)},
        )
    upgrade(arc.engine)
    with arc.sessions() as session:
        ends = session.scalar(select(ApiToken.expires_at))
    assert ends is not None
    assert timedelta(days=89) < ends - utcnow() <= timedelta(days=90)
