"""A disposition list as the API, the pages and the CLI hand it out: JSON-ready, with its
signatures (each marked valid for the current digest or not), witnesses, the slots still
missing while it is being signed, and optionally its items."""

from __future__ import annotations

from typing import Any

from archive.config import RetentionSettings
from archive.models import DispositionList, ListStatus
from retention.disposition import missing_slots, still_as_signed


def list_json(
    lst: DispositionList, settings: RetentionSettings, items: bool = True
) -> dict[str, Any]:
    intact = still_as_signed(lst)
    data: dict[str, Any] = {
        "id": lst.id,
        "number": lst.number,
        "action": lst.action.value,
        "status": lst.status.value,
        "opinion": lst.opinion,
        "proposed_by_sweep": lst.proposed_by_sweep,
        "created_by": lst.created_by,
        "created_at": lst.created_at.isoformat(),
        "submitted_at": lst.submitted_at.isoformat() if lst.submitted_at else None,
        "digest": lst.digest,
        "executed_at": lst.executed_at.isoformat() if lst.executed_at else None,
        "executed_by": lst.executed_by,
        "result": lst.result,
        "receiver": lst.receiver,
        "closed_at": lst.closed_at.isoformat() if lst.closed_at else None,
        "witnesses": [
            {
                "slot": w.slot,
                "capacity": w.capacity,
                "user": w.username,
                "display_name": w.display_name,
                "statement": w.statement,
                "signed_at": w.signed_at.isoformat(),
            }
            for w in lst.witnesses
        ],
        "count": len(lst.items),
        "signatures": [
            {
                "role": s.role.value,
                "department_id": s.department_id,
                "user": s.username,
                "display_name": s.display_name,
                "signed_at": s.signed_at.isoformat(),
                "ip": s.ip,
                "opinion": s.opinion,
                "valid": s.digest == lst.digest and intact,  # recomputed, not trusted
            }
            for s in lst.signatures
        ],
        "missing": [
            {"role": slot.role.value, "department_id": slot.department_id}
            for slot in (missing_slots(settings, lst) if lst.status == ListStatus.SIGNING else [])
        ],
    }
    if items:
        data["items"] = [
            {
                "record_id": str(item.record_id),
                "name": item.record.name_stem,
                "reference_code": item.record.reference_code,
                "title": item.record.title,
                "record_type": item.record.record_type,
                "due_on": item.record.due_on.isoformat() if item.record.due_on else None,
                "outcome": item.outcome,
                "note": item.note,
                "snapshot": item.snapshot,
            }
            for item in lst.items
        ]
    return data
