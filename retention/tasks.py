"""Celery tasks of retention: recompute changed clocks every minute, and the daily
disposition sweep. The app routes them to the maintenance queue."""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from archive.core import Archive
from retention.status import refresh_dirty
from retention.sweep import sweep

TASKS = ("retention.refresh", "retention.sweep")
BEAT = {
    "retention-refresh": {"task": "retention.refresh", "schedule": 60.0},
    # 02:30 in the scheduler's time zone (Celery's default: UTC, 10:30 Beijing time)
    "retention-sweep": {"task": "retention.sweep", "schedule": crontab(hour=2, minute=30)},
}


@shared_task(name="retention.refresh", ignore_result=True)
def refresh() -> int:
    """Recompute the clocks of records whose schedule inputs changed."""
    arc: Archive = current_app.extensions["archive"]
    return refresh_dirty(arc)


@shared_task(name="retention.sweep", ignore_result=True)
def daily_sweep() -> int:
    """Propose draft lists of due, unheld records (a records manager signs them)."""
    arc: Archive = current_app.extensions["archive"]
    report = sweep(arc)
    return sum(report.proposed.values())
