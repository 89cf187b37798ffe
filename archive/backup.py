"""Backup as BagIt bags (restored by :mod:`archive.restore`): the database as JSON Lines,
the blobs as stored.

A bag holds ``data/archive.json`` (format, schema revision, row counts, the KEK ids the data
keys need), ``data/database/<table>.jsonl`` read in one snapshot transaction, and
``data/blobs/<object key>``: the ciphertext exactly as the store holds it. Keys are never in
a bag: without the keyring, backed up apart, a bag is unreadable, and versions shredded
after the bag was made stay unreadable after a restore (see :mod:`archive.crypto.keyring`).
The rows are written by column type, not by database, so a bag made on SQLite restores onto
PostgreSQL and back.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import bagit
from sqlalchemy import Connection, Engine, Table, delete, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from archive.accesslog import verify_access_log
from archive.audit import Actor, ChainReport, record_event, verify_chain
from archive.bag_seal import is_sealed, seal_bag, seal_problem
from archive.checkpoints import LABELS, verify_all
from archive.core import Archive
from archive.crypto import Keyring
from archive.db import Base, local_today, make_engine
from archive.errors import DomainError
from archive.migrate import head_revision, upgrade
from archive.models import ChainAnchor, DataKey
from archive.storage import BlobNotFound

FORMAT = 1
BATCH = 500
_CHUNK = 1024 * 1024
CHECKPOINTS = "checkpoints.jsonl"  # the signed checkpoints, copied into the bag's payload


class BackupError(DomainError):
    """A bag is incomplete, altered or made by an unknown version, or the target is not empty."""


@dataclass
class BackupReport:
    path: Path
    tables: dict[str, int]
    blobs: int
    blob_bytes: int
    vanished: list[str] = field(default_factory=list)  # destroyed while the backup ran


@dataclass
class VerifyReport:
    problems: list[str]
    tables: dict[str, int]
    blobs: int
    chains: dict[str, ChainReport]
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why

    @property
    def ok(self) -> bool:
        return not self.problems


def tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def decoders(table: Table) -> dict[str, Any]:
    decoders: dict[str, Any] = {}
    for column in table.columns:
        column_type = column.type
        if isinstance(column_type, TypeDecorator):
            column_type = column_type.impl_instance
        try:
            kind = column_type.python_type
        except NotImplementedError:
            continue
        if kind is datetime:
            decoders[column.name] = datetime.fromisoformat
        elif kind is date:
            decoders[column.name] = date.fromisoformat
        elif kind is uuid.UUID:
            decoders[column.name] = uuid.UUID
        elif kind is bytes:
            decoders[column.name] = base64.b64decode
    return decoders


def _revision(conn: Connection) -> str:
    return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def _dump(conn: Connection, folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables():
        rows = 0
        with (folder / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
            ordered = select(table).order_by(*table.primary_key.columns)
            for row in conn.execute(ordered.execution_options(yield_per=BATCH)).mappings():
                line = {name: _encode(value) for name, value in row.items()}
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
                rows += 1
        counts[table.name] = rows
    return counts


def backup(arc: Archive, actor: Actor, dest: Path) -> BackupReport:
    """Write a bag of the whole archive to ``dest`` (which must not exist yet)."""
    if dest.exists():
        raise BackupError(f"{dest} already exists; back up into a new directory")
    staging = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        (staging / "database").mkdir(parents=True)
        (staging / "blobs").mkdir()
        # Before the snapshot: every checkpoint in the bag then lies within its chains.
        if arc.settings.checkpoint_path.exists():
            shutil.copyfile(arc.settings.checkpoint_path, staging / CHECKPOINTS)
        with arc.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():  # one snapshot for every table
                revision = _revision(conn)
                counts = _dump(conn, staging / "database")
                live = conn.execute(
                    select(DataKey.object_key, DataKey.kek_id).where(DataKey.wrapped.is_not(None))
                ).all()
        report = BackupReport(dest, counts, 0, 0)
        for object_key, _kek in live:
            try:
                with (
                    arc.blobs.open(object_key) as blob,
                    (staging / "blobs" / object_key).open("wb") as out,
                ):
                    shutil.copyfileobj(blob, out, _CHUNK)
                    report.blob_bytes += out.tell()
                report.blobs += 1
            except BlobNotFound:
                report.vanished.append(object_key)
        facts = {
            "format": FORMAT,
            "revision": revision,
            "dialect": arc.engine.dialect.name,
            "tables": counts,
            "blobs": report.blobs,
            "vanished": report.vanished,
            "kek_ids": sorted({kek for _key, kek in live if kek}),
        }
        (staging / "archive.json").write_text(json.dumps(facts, indent=2), "utf-8")
        bag = bagit.make_bag(
            str(staging),
            bag_info={
                "Source-Organization": "archive",
                "External-Description": "archive backup: database, encrypted blobs; no keys",
                "Bagging-Date": local_today().isoformat(),
            },
            checksums=["sha256"],
            processes=4,
        )
        seal_bag(staging, arc.keyring)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # no half bag left behind
        raise
    staging.rename(dest)
    with arc.transaction() as session:
        record_event(
            session,
            actor,
            "backup.created",
            "backup",
            dest.name,
            {
                "path": str(dest),
                "revision": revision,
                "rows": sum(counts.values()),
                "blobs": report.blobs,
                "payload_oxum": bag.info.get("Payload-Oxum"),
            },
        )
    return report


def bag_problems(bag: bagit.Bag) -> list[str]:
    """Every file that fails the bag's manifests (empty: complete and intact)."""
    problems: list[str] = []
    try:
        bag.validate(processes=4)
    except bagit.BagValidationError as exc:
        problems += [str(d) for d in exc.details] or [str(exc)]
        if not exc.details:  # the size check failed first: look again to name the files
            bag.info.pop("Payload-Oxum", None)
            try:
                bag.validate(processes=4)
            except bagit.BagValidationError as again:
                problems += [str(d) for d in again.details]
    return problems


def open_bag(source: Path) -> tuple[Path, dict[str, Any], list[str]]:
    """Validate the bag's manifests; return its payload folder, facts and problems."""
    try:
        bag = bagit.Bag(str(source))
    except bagit.BagError as exc:
        raise BackupError(f"{source} is not a bag: {exc}") from None
    problems = bag_problems(bag)
    payload = source / "data"
    try:
        facts = json.loads((payload / "archive.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} holds no readable archive.json: {exc}") from None
    if problems and facts.get("format") != FORMAT:
        raise BackupError(f"{source} fails validation: {'; '.join(problems[:5])}")
    if facts.get("format") != FORMAT:
        raise BackupError(
            f"{source} has backup format {facts.get('format')!r}; this reads {FORMAT}"
        )
    if facts.get("revision") != head_revision():
        raise BackupError(
            f"{source} was made at schema revision {facts.get('revision')!r} and this version "
            f"of the archive is at {head_revision()!r}: restore with the release that made the "
            "bag, then upgrade it with 'archive init'"
        )
    return payload, facts, problems


def _rows(path: Path, decoders: dict[str, Any]) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            for name, decode in decoders.items():
                if row.get(name) is not None:
                    row[name] = decode(row[name])
            yield row


def load_tables(engine: Engine, folder: Path) -> dict[str, int]:
    """Insert every table's rows into an empty schema, in one transaction."""
    counts: dict[str, int] = {}
    with engine.connect() as conn, conn.begin():
        conn.execute(delete(ChainAnchor))  # the migration's anchors of empty chains
        for table in tables():
            found = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if found:
                raise BackupError(
                    f"restore needs an empty archive, but table {table.name} has {found} rows"
                )
        for table in tables():
            decode, batch, total = decoders(table), [], 0
            for row in _rows(folder / f"{table.name}.jsonl", decode):
                batch.append(row)
                if len(batch) == BATCH:
                    conn.execute(table.insert(), batch)
                    total, batch = total + len(batch), []
            if batch:
                conn.execute(table.insert(), batch)
                total += len(batch)
            counts[table.name] = total
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return counts


def _reset_sequences(conn: Connection) -> None:
    """Explicit ids were inserted: move each serial sequence past the highest one."""
    for table in tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and column.type.python_type is int
            ):
                conn.execute(
                    select(
                        func.setval(
                            func.pg_get_serial_sequence(table.name, column.name),
                            func.coalesce(func.max(column), 0) + 1,
                            False,
                        )
                    )
                )


def verify_backup(
    source: Path, keyring: Keyring | None = None, unsealed_ok: bool = False
) -> VerifyReport:
    """Check a bag without touching any installation: manifests, counts, blobs, and both
    hash chains, by loading its database into a throwaway SQLite file.

    With the keyring the bag's seal, every link's HMAC and the bag's signed checkpoints are
    checked too; without it (the keyring is kept apart) only the links and the manifests,
    and the report says so. ``unsealed_ok``: a bag made before seals existed is read (a
    wrong seal never is)."""
    payload, facts, problems = open_bag(source)
    notes: list[str] = []
    if keyring is None:
        notes.append("no keyring given: the bag's seal is not checked")
    elif unsealed_ok and not is_sealed(source):
        notes.append("the bag has no seal (made before seals): its manifests are unsealed")
    else:
        broken = seal_problem(source, keyring)
        if broken:
            problems.append(broken)
    database = payload / "database"
    for name, expected in facts["tables"].items():
        path = database / f"{name}.jsonl"
        found = 0
        if path.exists():
            with path.open("rb") as lines:
                found = sum(1 for _ in lines)
        if found != expected:
            problems.append(f"table {name}: {found} rows, archive.json says {expected}")
    blob_names = {p.name for p in (payload / "blobs").iterdir()}
    needed = set()
    for row in _rows(database / "data_keys.jsonl", {}):
        if row["wrapped"] is not None:
            needed.add(row["object_key"])
    for lost in sorted(needed - blob_names - set(facts.get("vanished", ()))):
        problems.append(f"blob {lost} is missing from the bag")
    chains: dict[str, ChainReport] = {}
    with tempfile.TemporaryDirectory(prefix="archive-verify-") as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'check.db'}")
        try:
            upgrade(engine)
            counts = load_tables(engine, database)
            with Session(engine) as session:
                if keyring is None:
                    notes.append("no keyring given: links checked, not their keyed hashes")
                    chains["audit chain"] = verify_chain(session, key=None)
                    chains["access log"] = verify_access_log(session, key=None)
                else:
                    audit = verify_all(session, keyring, payload / CHECKPOINTS)
                    chains = {LABELS[name]: report for name, report in audit.chains.items()}
                    problems += [f"checkpoints: {p}" for p in audit.checkpoints.problems]
        finally:
            engine.dispose()
    problems += [f"{label}: {r.problem}" for label, r in chains.items() if not r.ok]
    return VerifyReport(problems, counts, len(blob_names), chains, notes)
