"""Everything the running archive connects, in one place: the listeners across packages, the
Celery task modules with their queues and schedules, and how an Archive is opened for a
process. The factory, the CLI and the workers all go through here, so no way in can forget
a connection."""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from access import tasks as access_tasks
from archive.config import Settings, load_settings
from archive.core import Archive
from archive.fsutil import keep_private
from ingest import tasks as ingest_tasks
from ingest.celery_config import MAINTENANCE_QUEUE, celery_config
from retention import listeners as retention_listeners
from retention import tasks as retention_tasks
from search import tasks as search_tasks

#: Every module that declares Celery tasks (importing them here registers them).
TASK_MODULES = (ingest_tasks, search_tasks, access_tasks, retention_tasks)


def connect_listeners() -> None:
    """Retention follows filings and class corrections (idempotent: blinker keeps one
    connection per receiver). The index listens on its own queue, not here."""
    retention_listeners.connect()


def open_archive(settings: Settings | None = None) -> Archive:
    """An Archive for this process, with its listeners connected; what the process writes
    from now on is its owner's alone (umask 077)."""
    keep_private()
    arc = Archive(settings or load_settings())
    connect_listeners()
    return arc


def celery_settings(arc: Archive) -> dict[str, Any]:
    """Ingest's settings plus the index writer's, the access workflow's and retention's."""
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
        **access_tasks.beat(arc.settings.checkpoint_minutes),
        **retention_tasks.BEAT,
    }
    return config


def prepare_broker(app: Celery) -> list[str]:
    """Declare every queue the tasks are routed to, once, before workers and beat start: on
    the embedded SQLite broker two processes creating the same queue at the same moment
    collide (``UNIQUE constraint failed: kombu_queue.name``) and one of them dies."""
    names = {app.conf.task_default_queue} | {
        route["queue"] for route in app.conf.task_routes.values()
    }
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for name in sorted(names):
            Queue(name, Exchange(name), routing_key=name)(channel).declare()
    return sorted(names)
