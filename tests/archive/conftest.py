"""Fixtures for the bottom layer's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.config import load_settings
from archive.core import Archive
from tests.conftest import make_environ


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Archive]:
    """An archive with an empty database, on each backend: a migration test upgrades it to
    an old revision, writes rows as they were then, and upgrades it to the head."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else "sqlite"
    (tmp_path / "home").mkdir()
    arc = Archive(load_settings(make_environ(tmp_path / "home", url, "local")))
    yield arc
    arc.close()
