"""Retention follows filings and class corrections at once, through the core's signals.

The record is already marked ``retention_dirty`` in the committing transaction, so if this
process dies before the listener runs, the scheduler's minute refresh does the same work.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from archive.core import Archive
from archive.signals import record_reclassified, version_stored
from retention.status import refresh_record

log = logging.getLogger(__name__)


def _refresh(arc: Archive, record_id: uuid.UUID, **_: Any) -> None:
    try:
        refresh_record(arc, record_id)
    except Exception:  # the filing is committed; the scheduled refresh will catch up
        log.exception("retention refresh of record %s deferred", record_id)


def connect() -> None:
    """Listen in this process (idempotent: blinker keeps one connection per receiver)."""
    version_stored.connect(_refresh)
    record_reclassified.connect(_refresh)
