"""The Flask application factory: settings validated here, at start-up, or not at all."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from celery import Celery, Task
from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from access import api_access, api_disposition, api_retention, openapi  # noqa: F401 - add their routes to the api blueprint
from access.api import api
from access.health import health
from access.web import init_web
from archive.bootstrap import secret_key
from archive.config import load_settings
from archive.core import Archive
from ingest import package as ingest_package
from ingest.celery_config import celery_config
from retention import listeners as retention_listeners

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, or from ``config`` alone (tests pass a dict).

    ``ARCHIVE_*`` keys in ``config`` are settings; any other key goes to ``app.config``.
    """
    config = dict(config or {})
    env = (
        os.environ
        if not config
        else {key: str(value) for key, value in config.items() if key.startswith("ARCHIVE_")}
    )
    arc = Archive(load_settings(env))
    retention_listeners.connect()
    ingest_package.connect()

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key(arc),
        MAX_CONTENT_LENGTH=arc.settings.max_upload_bytes,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_AS_ASCII=False,
    )
    app.config.update({k: v for k, v in config.items() if not k.startswith("ARCHIVE_")})
    app.extensions["archive"] = arc
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    app.config.setdefault("CELERY", _celery_settings(arc))
    celery_init_app(app)

    app.register_blueprint(health)
    app.register_blueprint(api)  # with access.api_access's routes, imported above
    init_web(app)
    if arc.settings.access.trusted_proxies:
        # Only the configured number of proxy hops is believed; a client's own
        # X-Forwarded-For beyond them never becomes the logged address.
        hops = arc.settings.access.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    return app


def _celery_settings(arc: Archive) -> dict[str, Any]:
    """Ingest's settings plus the index writer's, the access workflow's and retention's."""
    from access import tasks as access_tasks
    from ingest.celery_config import MAINTENANCE_QUEUE
    from retention import tasks as retention_tasks
    from search import tasks as search_tasks

    config = celery_config(arc.settings)
    config["task_routes"] = {
        **config["task_routes"],
        **search_tasks.ROUTES,
        **access_tasks.ROUTES,
        **{name: {"queue": MAINTENANCE_QUEUE} for name in retention_tasks.TASKS},
    }
    config["beat_schedule"] = {
        **config["beat_schedule"],
        **search_tasks.BEAT,
        **access_tasks.BEAT,
        **retention_tasks.BEAT,
    }
    return config


def celery_init_app(app: Flask) -> Celery[Any]:
    """Celery bound to this app, as Flask's documentation shows: tasks run in its context."""

    class FlaskTask(Task):  # type: ignore[type-arg]
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    import access.tasks  # noqa: F401
    import ingest.tasks  # noqa: F401  (registers the shared tasks)
    import retention.tasks  # noqa: F401
    import search.tasks  # noqa: F401

    app.extensions["celery"] = celery_app
    return celery_app


def archive_of(app: Flask) -> Archive:
    arc: Archive = app.extensions["archive"]
    return arc
