"""Celery tasks of the index writer (queue ``index``, served by one process): the flush of
queued changes every 2 s, and the merge of deleted documents every hour (Whoosh's own
merges only take small segments, so without it a large segment keeps every document that
updates deleted, and the index grows with updates)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from archive.core import Archive
from search.indexer import flush_all, merge_deletions

INDEX_QUEUE = "index"
ROUTES = {
    "search.flush": {"queue": INDEX_QUEUE},
    "search.merge": {"queue": INDEX_QUEUE},  # the same one writer: never two at once
}
FLUSH_SECONDS = 2.0
MERGE_SECONDS = 3600.0
BEAT = {
    "search-flush": {"task": "search.flush", "schedule": FLUSH_SECONDS},
    "search-merge": {"task": "search.merge", "schedule": MERGE_SECONDS},
}


@shared_task(name="search.flush", ignore_result=True)
def flush_index() -> int:
    """Index what changed; loop while a backlog remains, one commit per batch."""
    arc: Archive = current_app.extensions["archive"]
    report = flush_all(arc)
    return report.indexed + report.removed


@shared_task(name="search.merge", ignore_result=True)
def merge_index() -> int:
    """Rewrite the segments where deleted documents have piled up; how many went."""
    arc: Archive = current_app.extensions["archive"]
    return merge_deletions(arc)
