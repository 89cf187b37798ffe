"""A schedule's fields, each checked alone: its key and name, the fields that shape its
records' 档号 (the retention code 保管期限, the 门类, the filing unit: 件 item, or 案卷 volume
bound by month or year), when its clock starts, and what it applies to. Validated here, so
the API, the CLI, the web form and a loaded plan refuse the same mistakes in the same words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from archive.models import Disposal, FilingUnit, Trigger, VolumePeriod
from archive.vocabulary import PROCESSES, STAGES
from retention.errors import RetentionError

_CATEGORY = re.compile(r"[A-Z]{1,4}")
#: A schedule's key, and a record type (a schedule is where a new one comes from).
KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_YEARS = 200


def years_of(data: dict[str, Any], key: str) -> int | None:
    """``years`` (null: permanent), or a 保管期限 code: Y, D30, D10, D2…"""
    if "code" in data and data["code"] is not None:
        code = str(data["code"]).strip().upper()
        if code in ("Y", "永久"):
            return None
        match = re.fullmatch(r"D(\d{1,3})", code)
        if not match:
            raise RetentionError(
                f"schedule {key!r}: retention code {code!r} is not Y or D<years>",
                code="retention_code",
                field="code",
            )
        return int(match[1])
    raw = data.get("years")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_YEARS:
        raise RetentionError(
            f"schedule {key!r}: years must be a whole number 1-{MAX_YEARS} or null (permanent)"
        )
    return raw


def category_of(data: dict[str, Any], key: str) -> str | None:
    """The 门类代码 (WS 文书, KJ 会计, …); empty: the archive's ``ARCHIVE_CATEGORY_CODE``."""
    raw = str(data.get("category") or "").strip().upper()
    if not raw:
        return None
    if not _CATEGORY.fullmatch(raw):
        raise RetentionError(
            f"schedule {key!r}: 门类 code {raw!r} must be 1-4 capital letters (WS, KJ…)",
            code="category_code",
            field="category",
        )
    return raw


def filing_of(data: dict[str, Any], key: str) -> tuple[FilingUnit, VolumePeriod | None]:
    """The filing unit and, for volumes, the period that binds them (month by default)."""
    try:
        unit = FilingUnit(data.get("filing") or FilingUnit.ITEM)
        period = VolumePeriod(data["volume_by"]) if data.get("volume_by") else None
    except ValueError as exc:
        raise RetentionError(
            f"schedule {key!r}: {exc} (filing: item or volume; volume_by: month or year)"
        ) from None
    if unit == FilingUnit.ITEM and period is not None:
        raise RetentionError(f"schedule {key!r} files by item but names a volume period")
    if unit == FilingUnit.VOLUME and period is None:
        period = VolumePeriod.MONTH
    return unit, period


def selector_of(data: dict[str, Any], key: str, name: str) -> str | None:
    """What a schedule applies to, as a code the pages can name: a process or a stage from
    the vocabulary (the classes the rules and reviewers choose from); a record type a code
    like a key, since a schedule is where a new record type comes from."""
    chosen = str(data.get(name) or "").strip() or None
    allowed = {"process": PROCESSES, "stage": STAGES}.get(name)
    if chosen is None:
        return None
    if allowed is not None and chosen not in allowed:
        raise RetentionError(
            f"schedule {key!r}: {name} must be one of {', '.join(allowed)}",
            code="schedule_choice",
            field=name,
            params={"value": chosen},
        )
    if allowed is None and not KEY.fullmatch(chosen):
        raise RetentionError(
            f"schedule {key!r}: record type {chosen!r} must be lower-case letters, digits "
            "and _ (e.g. contract)",
            code="schedule_record_type",
            field=name,
        )
    return chosen


def key_of(data: dict[str, Any]) -> str:
    key = str(data.get("key") or "").strip()
    if not KEY.fullmatch(key):
        raise RetentionError(
            f"schedule key {key!r} must be lower-case letters, digits and _ (e.g. voucher)",
            code="schedule_key",
            field="key",
        )
    return key


def name_of(data: dict[str, Any], key: str) -> str:
    name = " ".join(str(data.get("name") or "").split())
    if not name or len(name) > 200:
        raise RetentionError(
            f"schedule {key!r} needs a name of at most 200 characters",
            code="too_long" if name else "required",
            field="name",
            params={"n": 200},
        )
    return name


def counting_of(
    data: dict[str, Any], key: str, known_events: Iterable[str]
) -> tuple[Trigger, Disposal, tuple[str, ...], str]:
    """When the clock starts (a period's end or events) and what happens at the end."""
    try:
        trigger = Trigger(data.get("trigger") or Trigger.YEAR_END)
        disposal = Disposal(data.get("disposal") or Disposal.REVIEW)
    except ValueError as exc:
        raise RetentionError(f"schedule {key!r}: {exc}") from None
    events = tuple(str(name) for name in data.get("events") or ())
    mode = str(data.get("event_mode") or "any")
    if mode not in ("any", "all"):
        raise RetentionError(f"schedule {key!r}: event_mode must be any or all")
    if trigger == Trigger.EVENT and not events:
        raise RetentionError(
            f"schedule {key!r} counts from an event but names none",
            code="schedule_no_event",
            field="events",
        )
    if trigger != Trigger.EVENT and events:
        raise RetentionError(
            f"schedule {key!r} names events but counts from {trigger.value}",
            code="schedule_events_unused",
            field="trigger",
        )
    known = set(known_events)
    missing = [name for name in events if name not in known]
    if missing:
        raise RetentionError(f"schedule {key!r}: unknown event types {', '.join(missing)}")
    return trigger, disposal, events, mode
