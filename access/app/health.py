"""``GET /healthz``: is the database answering and the blob store reachable?"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from archive.core import Archive
from archive.storage import StorageError

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> ResponseReturnValue:
    arc: Archive = current_app.extensions["archive"]
    checks = {"database": "ok", "storage": "ok"}
    try:
        with arc.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        current_app.logger.exception("health check: database unreachable")
        checks["database"] = "unreachable"
    try:
        arc.blobs.check()
    except StorageError:
        current_app.logger.exception("health check: blob store unreachable")
        checks["storage"] = "unreachable"
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503
