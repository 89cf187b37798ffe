"""The Flask application factory: settings validated here, at start-up, or not at all; the
API, the pages and Celery registered explicitly, with what :mod:`access.app.wiring` connects."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from celery import Celery, Task
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from access import api, web
from access.api.common import error as api_error
from access.app.health import health
from access.app.wiring import celery_settings, open_archive
from access.web.core import unrouted_page
from archive.bootstrap import secret_key
from archive.config import load_settings
from archive.core import Archive

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
    arc = open_archive(load_settings(env))

    app = Flask("access")  # templates, static files and translations live in access/
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

    app.config.setdefault("CELERY", celery_settings(arc))
    celery_init_app(app)

    app.register_blueprint(health)
    api_blueprint = api.blueprint()
    app.register_blueprint(api_blueprint)
    web.init_web(app, exempt_from_csrf=(api_blueprint,))
    if arc.settings.access.trusted_proxies:
        # Only the configured number of proxy hops is believed; a client's own
        # X-Forwarded-For beyond them never becomes the logged address.
        hops = arc.settings.access.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _unrouted(exc: HTTPException) -> Any:
        """A URL no view answers (or not with this method): in the API's one error shape
        under /api/, else a page in the reader's language, not the server's English."""
        if request.path.startswith("/api/"):
            return api_error(exc.code or 404, exc.description or exc.name)
        return unrouted_page(exc.code or 404)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response

    return app


def celery_init_app(app: Flask) -> Celery[Any]:
    """Celery bound to this app, as Flask's documentation shows: tasks run in its context."""

    class FlaskTask(Task):  # type: ignore[type-arg]
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery("access.app", task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()  # the shared tasks of wiring.TASK_MODULES bind to it

    app.extensions["celery"] = celery_app
    return celery_app


def archive_of(app: Flask) -> Archive:
    arc: Archive = app.extensions["archive"]
    return arc
