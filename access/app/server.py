"""Production serving with gunicorn (Flask's own server only with --debug)."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from access.app.factory import create_app

#: gunicorn's default line without ``%(r)s`` (it carries the query string) and ``%(f)s``
#: (the referrer: the search page a reader came from).
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(L)s'


#: A path's query string in a message: ``/api/v1/search?q=预算&token=…`` keeps ``/api/v1/search?…``.
_QUERY = re.compile(r"(/[^\s?'\"]*)\?[^\s'\"]*")


class NoQueryStrings(logging.Filter):
    """Drops query strings from gunicorn's error log: it writes a malformed request's whole
    line ("Invalid request from ip=…: Invalid HTTP request line: 'GET /search?q=…'"), and a
    query string carries search words, which never reach a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = _QUERY.sub(r"\1?…", message), ()
        return True


class QuietLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with :class:`NoQueryStrings` on its error log."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.error_log.addFilter(NoQueryStrings())


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
            "logger_class": QuietLogger,
            "proc_name": "archive-web",
        }
    ).run()
