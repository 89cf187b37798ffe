"""A disposition list as the API, the pages and the CLI hand it out: JSON-ready, with its
signatures (each marked valid for the current digest or not), witnesses, the slots still
missing while it is being signed, and optionally its items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archive.config import RetentionSettings
from archive.models import DispositionItem, DispositionList, ListStatus, Record
from retention.disposition import missing_slots
from retention.signed import still_as_signed


def list_json(
    lst: DispositionList,
    settings: RetentionSettings,
    items: bool = True,
    may_show: Callable[[Record], bool] | None = None,
) -> dict[str, Any]:
    """The list; an item whose record ``may_show`` refuses keeps its 档号, class, period and
    outcome, and says ``withheld`` instead of its name, title and frozen description."""
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
            _item(item, may_show is None or may_show(item.record)) for item in lst.items
        ]
    return data


def _item(item: DispositionItem, shown: bool) -> dict[str, Any]:
    snapshot = item.snapshot
    if not shown and snapshot is not None:
        snapshot = {key: snapshot.get(key) for key in _NOT_WITHHELD}
    return {
        "record_id": str(item.record_id),
        "name": item.record.name_stem if shown else None,
        "reference_code": item.record.reference_code,
        "title": item.record.title if shown else None,
        "withheld": not shown,
        "record_type": item.record.record_type if shown else None,
        "due_on": item.record.due_on.isoformat() if item.record.due_on else None,
        "outcome": item.outcome,
        "note": item.note,
        "snapshot": snapshot,
    }


#: What a withheld item's frozen description still says: where it stands, not what it is.
_NOT_WITHHELD = ("record_id", "reference_code", "code", "due_on")
