"""Alembic environment: the URL comes from ARCHIVE_* settings, or a connection is handed in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from archive.config import load_settings
from archive.db import Base, make_engine
from archive.models import AuditEvent  # noqa: F401  (registers every table)

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(load_settings().database_url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run 'archive init'")
run_migrations_online()
