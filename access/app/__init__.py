"""The running archive: the Flask application factory, the production server, the
supervisor of ``archive run``, the health check, and the wiring every process shares."""

from access.app.factory import archive_of, create_app

__all__ = ["archive_of", "create_app"]
