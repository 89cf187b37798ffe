"""Celery tasks of the access workflow and of operations (maintenance queue): overdue
requests escalate, the hour's alerts are e-mailed when SMTP is configured, and the daily
fixity sweep re-reads a rolling sample of stored versions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from access.alerts import mail_alerts, sign_checkpoint
from access.audit_sample import draw, previous_quarter, write_sample
from access.requests import escalate_overdue
from archive.audit import SYSTEM
from archive.core import Archive
from archive.db import local_today, utcnow
from archive.fixity import sweep_fixity
from archive.orphans import collect_orphans
from ingest.celery_config import MAINTENANCE_QUEUE

ROUTES = {
    "access.escalate": {"queue": MAINTENANCE_QUEUE},
    "access.mail_alerts": {"queue": MAINTENANCE_QUEUE},
    "archive.fixity_sweep": {"queue": MAINTENANCE_QUEUE},
    "access.audit_sample": {"queue": MAINTENANCE_QUEUE},
    "audit.checkpoint": {"queue": MAINTENANCE_QUEUE},
    "archive.collect_orphans": {"queue": MAINTENANCE_QUEUE},
}
MAIL_EVERY = timedelta(hours=1)
BEAT = {
    "access-escalate": {"task": "access.escalate", "schedule": 600.0},
    "access-mail-alerts": {"task": "access.mail_alerts", "schedule": MAIL_EVERY.total_seconds()},
    # 03:15 in the scheduler's time zone (UTC by default): after retention's 02:30 sweep
    "fixity-sweep": {"task": "archive.fixity_sweep", "schedule": crontab(hour=3, minute=15)},
    "collect-orphans": {
        "task": "archive.collect_orphans",
        "schedule": crontab(hour=3, minute=45),
    },
    # the first day of each quarter: the quarter just ended
    "audit-sample": {
        "task": "access.audit_sample",
        "schedule": crontab(day_of_month=1, month_of_year="1,4,7,10", hour=4, minute=0),
    },
}


@shared_task(name="access.escalate", ignore_result=True)
def escalate() -> int:
    """Move overdue requests up to the directors (and flag them)."""
    arc: Archive = current_app.extensions["archive"]
    with arc.transaction() as session:
        return escalate_overdue(session, arc.settings.access, SYSTEM)


def beat(minutes_between_checkpoints: int) -> dict[str, Any]:
    """The schedule, with the checkpoint's interval from ARCHIVE_CHECKPOINT_MINUTES."""
    every = float(minutes_between_checkpoints * 60)
    return {**BEAT, "audit-checkpoint": {"task": "audit.checkpoint", "schedule": every}}


@shared_task(name="audit.checkpoint", ignore_result=True)
def checkpoint() -> bool:
    """Sign the chains' heads outside the database (and mail them, with SMTP set)."""
    arc: Archive = current_app.extensions["archive"]
    return sign_checkpoint(arc) is not None


@shared_task(name="access.mail_alerts", ignore_result=True)
def send_alerts() -> int:
    """E-mail the last hour's alerts (a no-op without ARCHIVE_SMTP_HOST)."""
    arc: Archive = current_app.extensions["archive"]
    with arc.sessions() as session:
        return mail_alerts(session, arc.settings.access, utcnow() - MAIL_EVERY)


@shared_task(name="archive.collect_orphans", ignore_result=True)
def collect_orphaned_blobs() -> int:
    """Remove objects no row names, older than ARCHIVE_ORPHAN_GRACE_HOURS (audited)."""
    arc: Archive = current_app.extensions["archive"]
    grace = timedelta(hours=arc.settings.orphan_grace_hours)
    return len(collect_orphans(arc, SYSTEM, grace).removed)


@shared_task(name="archive.fixity_sweep", ignore_result=True)
def fixity_sweep() -> int:
    """Re-read ARCHIVE_FIXITY_SAMPLE versions; failures show among the alerts."""
    arc: Archive = current_app.extensions["archive"]
    return len(sweep_fixity(arc, SYSTEM, arc.settings.fixity_sample).problems)


@shared_task(name="access.audit_sample", ignore_result=True)
def quarterly_sample() -> int:
    """Draw the quarter just ended's sample into ARCHIVE_HOME/reports; returns the findings."""
    arc: Archive = current_app.extensions["archive"]
    sample = draw(arc, SYSTEM, previous_quarter(local_today()), arc.settings.audit_sample_size)
    write_sample(sample, arc.settings.home / "reports")
    return sample.findings
