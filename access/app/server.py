"""Production serving with gunicorn (Flask's own server only with --debug)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from access.app.factory import create_app

#: gunicorn's default line without ``%(r)s`` (it carries the query string) and ``%(f)s``
#: (the referrer: the search page a reader came from).
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(L)s'


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_app()


def serve_app(host: str, port: int, workers: int = 2, debug: bool = False) -> None:
    """Serve until interrupted. The app is built once first so bad settings fail here."""
    app = create_app()
    if debug:
        app.run(host=host, port=port, debug=True)
        return
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 120,
            "graceful_timeout": 10,
            "accesslog": "-",
            # No query string and no referrer: a search's words never reach a log file.
            "access_log_format": ACCESS_LOG_FORMAT,
            "proc_name": "archive-web",
        }
    ).run()
