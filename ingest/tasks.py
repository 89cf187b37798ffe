"""Celery tasks: thin shells that take ids and call the pipeline's service functions."""

from __future__ import annotations

import logging
import random
import uuid

from celery import Task, shared_task
from flask import current_app

from archive.core import Archive
from ingest.jobs import sweep
from ingest.pipeline import TRANSIENT, process

log = logging.getLogger(__name__)
MAX_BACKOFF = 60


def _archive() -> Archive:
    arc: Archive = current_app.extensions["archive"]
    return arc


@shared_task(name="ingest.process", bind=True, max_retries=None)
def process_job(self: Task[[str], str], job_id: str) -> str:
    try:
        return process(_archive(), uuid.UUID(job_id)).value
    except TRANSIENT as exc:
        retries = self.request.retries or 0
        countdown = min(MAX_BACKOFF, 2 ** min(retries, 6)) * random.uniform(0.8, 1.2)  # noqa: S311
        log.warning("job %s: %s; retrying in %.0f s", job_id, exc, countdown)
        raise self.retry(exc=exc, countdown=countdown) from None


@shared_task(name="ingest.sweep")
def sweep_jobs() -> int:
    report = sweep(_archive())
    for job_id in report.requeued:
        enqueue(job_id)
    return len(report.requeued)


def enqueue(job_id: uuid.UUID) -> bool:
    """Hand a committed job to the workers. If the broker is down, the sweeper will."""
    try:
        process_job.delay(str(job_id))
    except Exception as exc:  # kombu raises many kinds; the job row is safe either way
        log.warning("could not enqueue job %s (%s); the sweeper will", job_id, exc)
        return False
    return True
