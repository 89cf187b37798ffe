"""The review queue: records whose classification a person should confirm or correct."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping

from sqlalchemy import select

from archive.audit import Actor, record_event
from archive.core import Archive
from archive.errors import DomainError
from archive.models import Record, RecordChange, RecordState, Sensitivity
from archive.signals import record_reclassified


class ReviewError(DomainError, ValueError):
    """A class correction cannot be made; the message says why."""


class UnknownClass(ReviewError):
    """A process, stage or record type that is not among the choices (for a record type: not
    in the retention plan, where it would silently fall back to the general schedule)."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field} {value!r} is not one of the choices")
        self.field, self.value = field, value


def _check(field: str, value: str | None, choices: Collection[str] | None) -> None:
    if value and choices is not None and value not in choices:
        raise UnknownClass(field, value)


def review_queue(arc: Archive, limit: int = 100) -> list[Record]:
    with arc.sessions() as session:
        return list(
            session.scalars(
                select(Record)
                .where(Record.needs_review.is_(True))
                .order_by(Record.created_at)
                .limit(limit)
            )
        )


def reclassify(
    arc: Archive,
    actor: Actor,
    record_id: uuid.UUID,
    *,
    process: str | None = None,
    stage: str | None = None,
    record_type: str | None = None,
    sensitivity: Sensitivity | None = None,
    note: str = "",
    choices: Mapping[str, Collection[str]] | None = None,
) -> Record:
    """A person's correction (or confirmation): audited with before and after. ``choices``
    (field → allowed codes) refuses anything else: a page offers only the plan's types."""
    for field, value in (("process", process), ("stage", stage), ("record_type", record_type)):
        _check(field, value, (choices or {}).get(field))
    with arc.transaction() as session:
        record = session.get(Record, record_id, with_for_update=True)
        if record is None:
            raise ReviewError(f"no record {record_id}")
        if record.state != RecordState.ACTIVE:  # its class chose a retention that has run
            raise ReviewError(
                f"record {record.name_stem} is {record.state.value}: not reclassified"
            )
        before = {
            "process": record.process,
            "stage": record.stage,
            "record_type": record.record_type,
            "sensitivity": record.sensitivity.value,
        }
        record.process = process or record.process
        record.stage = stage or record.stage
        record.record_type = record_type or record.record_type
        record.sensitivity = sensitivity or record.sensitivity
        after = {
            "process": record.process,
            "stage": record.stage,
            "record_type": record.record_type,
            "sensitivity": record.sensitivity.value,
        }
        previous = record.classification
        record.classification = {
            "method": "person",
            "by": actor.name,
            "confidence": 1.0,
            "note": note,
            "previous": previous,
        }
        if previous and previous.get("described"):  # the description's sources stay
            record.classification["described"] = previous["described"]
        record.needs_review = False
        record.retention_dirty = True  # the class chooses the schedule
        session.add(RecordChange(record_id=record.id))
        record_event(
            session,
            actor,
            "record.reclassified",
            "record",
            record.id,
            {"before": before, "after": after, "note": note},
        )
    record_reclassified.send(arc, record_id=record.id)
    return record
