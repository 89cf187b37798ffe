"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from archive.core import Archive
from archive.db import Base


def test_migrated_schema_matches_the_models(arc: Archive) -> None:
    with arc.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() is not None


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_arc: Archive) -> None:
    with sqlite_arc.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
