"""Engine, sessions and the declarative base shared by every model.

SQLite (the embedded default) runs in WAL mode with foreign keys on and
``synchronous=FULL``: a committed transaction (an access-log line before its read's first
byte) is on disk, not only handed to the OS; readers' lines are committed in groups
(:mod:`archive.groupcommit`) so that costs one flush per batch. Write transactions
(:data:`WRITE_OPTIONS`) start with ``BEGIN IMMEDIATE``: a deferred transaction that reads
and then writes fails at once with "database is locked" when another writer got there first,
instead of waiting its turn, which would break hash-chain appends. Before it, writers of
every process take turns at :mod:`archive.turnstile`, so the lock passes on at once instead
of after SQLite's sleeps. Read-only transactions stay deferred so readers never queue behind
writers. PostgreSQL uses psycopg 3 with pre-ping so a restarted server is reconnected to.

A write waits at most ``lock_wait`` seconds for its lock (SQLite's busy timeout,
PostgreSQL's ``lock_timeout``, advisory locks included); past that it fails with an error
that :func:`lock_contention` recognises, which the web answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

from archive.turnstile import TurnstileConnection, turnstile_path

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (naive storage) and PostgreSQL alike.

    Hash chains serialise timestamps, so a value must read back exactly as it was written.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: The company's clock: stamps on viewed pages, working hours, and the dates retention counts.
LOCAL_TIME = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    """Today in the company's time zone (a filing at 07:00 Beijing time is still today)."""
    return datetime.now(LOCAL_TIME).date()


def _configure_sqlite(engine: Engine, lock_wait: float) -> None:
    turnstile = turnstile_path(engine.url.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: TurnstileConnection, _record: Any) -> None:
        dbapi_connection.turnstile, dbapi_connection.lock_wait = turnstile, lock_wait
        # Let SQLAlchemy, not the driver, decide when transactions begin (see module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_wait * 1000)}")
        cursor.execute("PRAGMA synchronous=FULL")
        # Deleted and overwritten content is zeroed, not left in free space: a destroyed
        # data key must not outlive its row in the file (see erase_freed).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get("archive_write", False):
            connection.exec_driver_sql("BEGIN")
            return
        writer = connection.connection.dbapi_connection
        started = time.monotonic()
        try:
            writer.take_turn()
        except sqlite3.OperationalError as busy:  # as SQLite's own time-out is raised
            raise OperationalError("BEGIN IMMEDIATE", None, busy) from None
        # One lock wait in all: a turn that came late leaves SQLite's busy handler the rest
        # (a writer outside the turnstile, the CLI as another account, may hold the lock).
        left = lock_wait - (time.monotonic() - started)
        shortened = left < lock_wait - 0.001
        try:
            if shortened:
                writer.execute(f"PRAGMA busy_timeout={max(1, int(left * 1000))}")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.pass_turn()
            raise
        finally:
            if shortened:
                writer.execute(f"PRAGMA busy_timeout={int(lock_wait * 1000)}")


def erase_freed(engine: Engine) -> bool:
    """After data keys are destroyed: on SQLite, copy the WAL into the database file and
    empty it, so the pages that held the keys (their earlier images in the log) are gone
    from disk; ``secure_delete`` has already zeroed the keys' space in the new pages. False
    when readers kept the log from being emptied (the next destruction tries again) or on
    PostgreSQL, whose dead row versions stay until VACUUM: there, retiring the old
    key-encryption keys (``archive keys rotate --retire``) is what makes them worthless."""
    if engine.dialect.name != "sqlite":
        return False
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
    finally:
        connection.close()
    return bool(busy == 0)


def advisory_xact_lock(session: Session, name: str) -> None:
    """Serialise transactions that use the same ``name`` until they commit or roll back.

    PostgreSQL: a transaction-scoped advisory lock, named within the archive's schema
    (advisory locks are the whole database's: two archives in one database, each in its
    schema, must not wait for each other's appends). SQLite: nothing to do, since write
    transactions already hold the database's single write lock from their first statement.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_SCHEMA_LOCK, {"name": name})


_SCHEMA_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || :name, 0))"
)


#: Execution options for an engine used for write transactions (see the module doc).
WRITE_OPTIONS = {"archive_write": True}


def make_engine(url: str, lock_wait: float = 30.0, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        connect_args = {
            "check_same_thread": False,
            "timeout": lock_wait,
            "factory": TurnstileConnection,
        }
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine, lock_wait)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:  # a session setting, kept across commits
            cursor.execute(f"SET lock_timeout = {int(lock_wait * 1000)}")
        dbapi_connection.commit()

    return engine


#: SQLite's messages and PostgreSQL's SQLSTATEs for "someone else holds the lock": lock
#: not available (lock_timeout), serialisation failure, deadlock detected.
_SQLITE_BUSY = ("database is locked", "database table is locked")
_POSTGRES_BUSY = frozenset({"55P03", "40001", "40P01"})


def lock_contention(exc: BaseException) -> bool:
    """Whether ``exc`` means the database was busy (worth retrying), not broken."""
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    if isinstance(original, sqlite3.OperationalError):
        return any(text in str(original) for text in _SQLITE_BUSY)
    return getattr(original, "sqlstate", None) in _POSTGRES_BUSY


def append_only_ddl(dialect: str, table: str) -> list[str]:
    """Statements that make ``table`` refuse UPDATE and DELETE (used by migrations)."""
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION archive_forbid_change() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END; "
            "$$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION archive_forbid_change()",
        ]
    return [
        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
        for operation in ("UPDATE", "DELETE")
    ]


def drop_append_only_ddl(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]
    return [f"DROP TRIGGER IF EXISTS {table}_no_{operation}" for operation in ("update", "delete")]
