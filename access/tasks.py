"""Celery tasks of the access workflow (maintenance queue): overdue requests escalate, and
the hour's alerts are e-mailed when SMTP is configured."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from access.alerts import mail_alerts
from access.requests import escalate_overdue
from archive.audit import SYSTEM
from archive.core import Archive
from archive.db import utcnow
from ingest.celery_config import MAINTENANCE_QUEUE

ROUTES = {
    "access.escalate": {"queue": MAINTENANCE_QUEUE},
    "access.mail_alerts": {"queue": MAINTENANCE_QUEUE},
}
MAIL_EVERY = timedelta(hours=1)
BEAT = {
    "access-escalate": {"task": "access.escalate", "schedule": 600.0},
    "access-mail-alerts": {"task": "access.mail_alerts", "schedule": MAIL_EVERY.total_seconds()},
}


@shared_task(name="access.escalate", ignore_result=True)
def escalate() -> int:
    """Move overdue requests up to the directors (and flag them)."""
    arc: Archive = current_app.extensions["archive"]
    with arc.transaction() as session:
        return escalate_overdue(session, arc.settings.access, SYSTEM)


@shared_task(name="access.mail_alerts", ignore_result=True)
def send_alerts() -> int:
    """E-mail the last hour's alerts (a no-op without ARCHIVE_SMTP_HOST)."""
    arc: Archive = current_app.extensions["archive"]
    with arc.sessions() as session:
        return mail_alerts(session, arc.settings.access, utcnow() - MAIL_EVERY)
