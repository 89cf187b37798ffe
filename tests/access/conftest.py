"""Fixtures for the top layer: an app per backend, closed after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from access.app import archive_of, create_app
from archive.core import Archive


@pytest.fixture
def app(arc: Archive, archive_env: dict[str, str]) -> Iterator[Flask]:
    application = create_app({**archive_env, "TESTING": True})
    yield application
    archive_of(application).close()
