"""The record description after DA/T 46 beside class and 档号: 责任者 (``author``), 文号
(``doc_number``) and 备注 (``remarks``).

Kept here, below ingest, search and access, because all three need the same rules: how long
a value may be, how a 文号 is folded so ``沪仓发[2025]12号`` and ``沪仓发〔2025〕12号`` are one
number, and how a change is written (columns, the audit chain with before and after, the
search outbox) whoever makes it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.errors import DomainError
from archive.models import Record, RecordChange
from archive.text import CONTROLS

#: The described fields and the most characters each may hold (the columns' lengths).
LIMITS: dict[str, int] = {"author": 200, "doc_number": 100, "remarks": 2000}
FIELDS = tuple(LIMITS)

#: The brackets a 文号's year is written in, in the wild: 〔〕 (GB/T 9704), [] ［］ 【】 ().
_OPEN = "〔[［【(（"
_CLOSE = "〕]］】)）"
_BRACKETS = str.maketrans(dict.fromkeys(_OPEN, "〔") | dict.fromkeys(_CLOSE, "〕"))
_SPACES = re.compile(r"\s+")
#: A 文号 as GB/T 9704 writes it, and as people do: 机关代字, the year in brackets, the
#: number (``沪仓发〔2025〕12号``, ``国办发[2024]3号``, ``X字【2023】第5号``), after NFKC.
DOC_NUMBER = (
    r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z]{1,15}"
    r"[〔\[【(](?:19|20)\d{2}[〕\]】)]"
    r"第?\d{1,5}号"
)
_WHOLE_NUMBER = re.compile(DOC_NUMBER)


class DescriptionError(DomainError, ValueError):
    """A description value cannot be kept; the message names the field and why."""


def clean_value(name: str, value: object) -> str | None:
    """A description value as stored: spaces collapsed (line breaks kept in 备注), empty as
    None; a value longer than its column is refused, never cut."""
    if name not in LIMITS:
        raise DescriptionError(f"unknown description field {name!r}")
    if value is None:
        return None
    if not isinstance(value, str):
        raise DescriptionError(f"{name} must be text")
    value = CONTROLS.sub("", value.replace("\r\n", "\n"))
    if name == "remarks":
        lines = [" ".join(line.split()) for line in value.strip().splitlines()]
        text = "\n".join(lines).strip()
    else:
        text = " ".join(value.split())
    if len(text) > LIMITS[name]:
        raise DescriptionError(
            f"{name} is longer than {LIMITS[name]} characters",
            code="too_long",
            field=name,
            params={"n": LIMITS[name]},
        )
    return text or None


def doc_number_key(value: str | None) -> str | None:
    """A 文号 folded for exact lookups: NFKC, one kind of bracket, no spaces."""
    if not value:
        return None
    folded = unicodedata.normalize("NFKC", value).translate(_BRACKETS)
    return _SPACES.sub("", folded) or None


def is_doc_number(text: str) -> bool:
    """Whether ``text`` (a search, say) is one 文号 and nothing else."""
    compact = _SPACES.sub("", unicodedata.normalize("NFKC", text))
    return _WHOLE_NUMBER.fullmatch(compact) is not None


def description_of(record: Record) -> dict[str, str | None]:
    return {name: getattr(record, name) for name in FIELDS}


def set_values(record: Record, values: dict[str, str | None]) -> None:
    """Write the columns (the 文号's key with it); the caller audits."""
    for name, value in values.items():
        setattr(record, name, value)
        if name == "doc_number":
            record.doc_number_key = doc_number_key(value)


def change_description(
    session: Session,
    actor: Actor,
    record: Record,
    changes: dict[str, Any],
    *,
    why: str = "",
    source: str | None = None,
) -> dict[str, dict[str, str | None]]:
    """Apply ``changes`` (field → new value, None clears it) to ``record``: audited with
    before and after, and queued for the search index. Returns the fields that changed (each
    ``{"before", "after"}``); nothing changed, nothing written. ``source`` (e.g. ``manual``)
    replaces the recorded origin of each changed value."""
    cleaned = {name: clean_value(name, value) for name, value in changes.items()}
    changed = {
        name: {"before": getattr(record, name), "after": value}
        for name, value in cleaned.items()
        if getattr(record, name) != value
    }
    if not changed:
        return {}
    set_values(record, {name: pair["after"] for name, pair in changed.items()})
    if source is not None:  # where each value now comes from, for the record page
        described = dict((record.classification or {}).get("described") or {})
        for name, pair in changed.items():
            if pair["after"] is None:
                described.pop(name, None)
            else:
                described[name] = source
        record.classification = {**(record.classification or {}), "described": described}
    session.add(RecordChange(record_id=record.id))
    record_event(
        session,
        actor,
        "record.description_changed",
        "record",
        record.id,
        {
            "before": {name: pair["before"] for name, pair in changed.items()},
            "after": {name: pair["after"] for name, pair in changed.items()},
            "why": why,
        },
    )
    return changed
