"""The application factory and the health endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from access.app import archive_of, create_app
from archive.config import ConfigError
from archive.core import Archive
from tests.access.conftest import World


def test_health_answers_on_every_backend(app: Flask, arc: Archive) -> None:
    assert archive_of(app).settings == arc.settings
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert app.config["SESSION_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"]


def test_health_reports_a_missing_blob_store(sqlite_arc: Archive) -> None:
    env = {"ARCHIVE_HOME": str(sqlite_arc.settings.home)}
    app = create_app(env)
    blob_root = sqlite_arc.settings.home / "blobs"
    blob_root.rename(blob_root.with_name("moved"))
    response = app.test_client().get("/healthz")
    archive_of(app).close()
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "storage": "unreachable"}


def test_bad_settings_fail_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ARCHIVE_STORAGE_URL"):
        create_app({"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_STORAGE_URL": "ftp://x"})


def test_uninitialised_archive_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="archive init"):
        create_app({"ARCHIVE_HOME": str(tmp_path)})


def test_a_url_nothing_answers_gets_the_api_shape_or_a_page_in_chinese(
    world: World,
) -> None:
    client = world.app.test_client()
    api = client.get("/api/v1/records/0123456789abcdef0123456789abcdef/nothing")
    assert (api.status_code, api.json) == (404, {"error": api.json["error"], "kind": "not_found"})  # type: ignore[index]
    wrong_method = client.delete("/api/v1/openapi.json")
    assert wrong_method.status_code == 405
    assert wrong_method.json["kind"]  # type: ignore[index]
    page = client.get("/no/such/page", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 404
    assert "没有这个页面" in page.get_data(as_text=True)
