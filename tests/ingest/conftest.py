"""Ingest fixtures: archives with the rule book seeded and ClamAV pointed at a test signature.

freshclam cannot reach ClamAV's servers from this network, so the tests give the real
``clamscan`` a signature database of their own holding the EICAR test file's hash.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.models import IngestJob
from ingest.jobs import receive
from ingest.pipeline import process
from ingest.rules import seed_default_rules
from tests.conftest import make_environ
from tests.ingest import samples

ACTOR = Actor.cli()


@pytest.fixture(scope="session")
def clamav_database(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    if shutil.which("clamscan") is None:
        return None
    folder = tmp_path_factory.mktemp("clamdb")
    digest = hashlib.md5(samples.EICAR).hexdigest()  # noqa: S324 - ClamAV's .hdb format
    (folder / "eicar.hdb").write_text(f"{digest}:{len(samples.EICAR)}:Eicar-Test-Signature\n")
    return str(folder)


def ingest_env(base: dict[str, str], clamav_database: str | None) -> dict[str, str]:
    env = {**base, "ARCHIVE_EXTRACT_TIMEOUT": "60", "ARCHIVE_HOTFOLDER_SETTLE": "0"}
    if clamav_database:
        env["ARCHIVE_CLAMAV_DATABASE"] = clamav_database
    return env


def _open(env: dict[str, str]) -> Archive:
    archive = Archive(load_settings(env))
    initialize(archive, ACTOR)
    seed_default_rules(archive, ACTOR)
    return archive


@pytest.fixture
def iarc(tmp_path: Path, clamav_database: str | None) -> Iterator[Archive]:
    """The embedded default (SQLite, local blobs), ready to ingest."""
    archive = _open(ingest_env(make_environ(tmp_path / "home", "sqlite", "local"), clamav_database))
    yield archive
    archive.close()


@pytest.fixture
def any_arc(archive_env: dict[str, str], clamav_database: str | None) -> Iterator[Archive]:
    """Ready to ingest, on every database × storage combination."""
    archive = _open(ingest_env(archive_env, clamav_database))
    yield archive
    archive.close()


Ingest = Callable[..., IngestJob]


def run_ingest(arc: Archive, data: bytes, filename: str, **params: object) -> IngestJob:
    job_id = receive(
        arc, io.BytesIO(data), filename=filename, source_kind="cli", actor=ACTOR, params=params
    )
    process(arc, job_id)
    with arc.sessions() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        return job


def job_of(arc: Archive, job_id: uuid.UUID) -> IngestJob:
    with arc.sessions() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        return job


@pytest.fixture(scope="session")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return samples.zip_bomb_docx(tmp_path_factory.mktemp("bomb") / "bomb.docx").read_bytes()


@pytest.fixture(scope="module")
def oarc(
    tmp_path_factory: pytest.TempPathFactory, clamav_database: str | None
) -> Iterator[Archive]:
    home = tmp_path_factory.mktemp("office") / "home"
    arc = Archive(load_settings(ingest_env(make_environ(home, "sqlite", "local"), clamav_database)))
    initialize(arc, Actor.cli())
    seed_default_rules(arc, Actor.cli())
    yield arc
    arc.close()
