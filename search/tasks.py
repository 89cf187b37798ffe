"""Celery task of the index writer (queue ``index``, served by one process)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from archive.core import Archive
from search.indexer import flush_all

INDEX_QUEUE = "index"
ROUTES = {"search.flush": {"queue": INDEX_QUEUE}}
FLUSH_SECONDS = 2.0
BEAT = {"search-flush": {"task": "search.flush", "schedule": FLUSH_SECONDS}}


@shared_task(name="search.flush", ignore_result=True)
def flush_index() -> int:
    """Index what changed; loop while a backlog remains, one commit per batch."""
    arc: Archive = current_app.extensions["archive"]
    report = flush_all(arc)
    return report.indexed + report.removed
