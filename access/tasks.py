"""Celery tasks of the access workflow (maintenance queue): overdue requests escalate."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from access.requests import escalate_overdue
from archive.audit import SYSTEM
from archive.core import Archive
from ingest.celery_config import MAINTENANCE_QUEUE

ROUTES = {"access.escalate": {"queue": MAINTENANCE_QUEUE}}
BEAT = {"access-escalate": {"task": "access.escalate", "schedule": 600.0}}


@shared_task(name="access.escalate", ignore_result=True)
def escalate() -> int:
    """Move overdue requests up to the directors (and flag them)."""
    arc: Archive = current_app.extensions["archive"]
    with arc.transaction() as session:
        return escalate_overdue(session, arc.settings.access, SYSTEM)
