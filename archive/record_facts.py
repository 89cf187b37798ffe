"""The description of a record that outlives its content: on lists, certificates,
tombstones and transfer packages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Record, RetentionSchedule, Version


def describe(session: Session, record: Record) -> dict[str, Any]:
    """What a list, a certificate and a tombstone say about a record, forever."""
    schedule = session.get(RetentionSchedule, record.schedule_id) if record.schedule_id else None
    versions = session.scalars(
        select(Version).where(Version.record_id == record.id).order_by(Version.major, Version.minor)
    )
    return {
        "record_id": str(record.id),
        "reference_code": record.reference_code,
        "title": record.title,
        "name": record.name_stem,
        "project": record.project.name,
        "department": record.department.code if record.department else None,
        "department_name": record.department.name if record.department else None,
        "class": {"process": record.process, "stage": record.stage, "type": record.record_type},
        "sensitivity": record.sensitivity.value,
        "author": record.author,  # 责任者
        "doc_number": record.doc_number,  # 文号
        "remarks": record.remarks,  # 备注
        "filed_on": record.filed_on.isoformat(),
        "document_date": record.document_date,
        "schedule": f"{schedule.key} v{schedule.version}" if schedule else None,
        "code": schedule.code if schedule else None,
        "due_on": record.due_on.isoformat() if record.due_on else None,
        "versions": [
            {
                "name": v.name,
                "sha256": v.sha256,
                "size": v.size,
                "media_type": v.media_type,
                "page_count": v.page_count,
            }
            for v in versions
        ],
    }
