"""The file plan: retention schedules by class, versioned, and the event types they wait for.

A class chooses its schedule (see :func:`choose`: a schedule another match refines gives
way to it; of the rest, the longest kept wins, 保管期限就高不就低). Saving a changed
schedule supersedes the current version with a new one, audits both, and marks every active
record for recomputation, since a change of selectors can move records between schedules.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.db import utcnow
from archive.errors import DomainError, raise_all
from archive.models import (
    Disposal,
    EventType,
    FilingUnit,
    Record,
    RecordState,
    RetentionSchedule,
    Trigger,
    VolumePeriod,
)
from retention.clock import Rule
from retention.errors import NotFound, RetentionError
from retention.fields import (
    KEY,
    category_of,
    counting_of,
    filing_of,
    key_of,
    name_of,
    selector_of,
    years_of,
)

_T = TypeVar("_T")

_SELECTORS = ("process", "stage", "record_type")
#: Specificity of each selector: a record type says more about retention than a process.
_WEIGHT = {"record_type": 4, "process": 2, "stage": 1}


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule as plain data: what the file plan, the API and the CLI exchange."""

    key: str
    name: str
    years: int | None
    trigger: Trigger
    disposal: Disposal = Disposal.REVIEW
    process: str | None = None
    stage: str | None = None
    record_type: str | None = None
    events: tuple[str, ...] = field(default_factory=tuple)
    event_mode: str = "any"
    basis: str = ""
    category: str | None = None  # 门类代码; None: the archive's ARCHIVE_CATEGORY_CODE
    filing: FilingUnit = FilingUnit.ITEM
    volume_by: VolumePeriod | None = None  # for volumes: month or year

    @property
    def selectors(self) -> tuple[str | None, str | None, str | None]:
        return (self.process, self.stage, self.record_type)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(trigger=self.trigger.value, disposal=self.disposal.value)
        data.update(filing=self.filing.value, volume_by=self.volume_by and self.volume_by.value)
        data["events"] = list(self.events)
        data["code"] = "Y" if self.years is None else f"D{self.years}"
        return data

    def rule(self) -> Rule:
        return Rule(self.years, self.trigger, self.events, self.event_mode)


_FIELDS = {
    "key",
    "name",
    "years",
    "code",
    "trigger",
    "disposal",
    "process",
    "stage",
    "record_type",
    "events",
    "event_mode",
    "basis",
    "category",
    "filing",
    "volume_by",
}


def spec_from_dict(data: dict[str, Any], known_events: Iterable[str] = ()) -> ScheduleSpec:
    """Validate a schedule given as a mapping; every error names the schedule and field, and
    every problem is said at once (in the form's order), not one per attempt."""
    raw_key = str(data.get("key") or "").strip()
    unknown = set(data) - _FIELDS
    if unknown:
        raise RetentionError(f"schedule {raw_key!r}: unknown fields {', '.join(sorted(unknown))}")
    problems: list[DomainError] = []

    def checked(check: Callable[..., _T], *args: Any) -> _T | None:
        try:
            return check(*args)
        except RetentionError as exc:
            problems.append(exc)
            return None

    key = checked(key_of, data) or raw_key
    name = checked(name_of, data, key)
    years = checked(years_of, data, key)
    category = checked(category_of, data, key)
    filed = checked(filing_of, data, key)
    counting = checked(counting_of, data, key, known_events)
    selectors = {s: checked(selector_of, data, key, s) for s in ("record_type", "process", "stage")}
    raise_all(problems)
    assert name is not None  # noqa: S101 - each is None only when it was refused above
    assert filed is not None  # noqa: S101
    assert counting is not None  # noqa: S101
    trigger, disposal, events, mode = counting
    return ScheduleSpec(
        key=key,
        name=name,
        years=years,
        trigger=trigger,
        disposal=disposal,
        events=events,
        event_mode=mode,
        basis=str(data.get("basis") or ""),
        category=category,
        filing=filed[0],
        volume_by=filed[1],
        **selectors,
    )


def spec_of(row: RetentionSchedule) -> ScheduleSpec:
    return ScheduleSpec(
        key=row.key,
        name=row.name,
        years=row.years,
        trigger=row.trigger,
        disposal=row.disposal,
        process=row.process,
        stage=row.stage,
        record_type=row.record_type,
        events=tuple(row.events or ()),
        event_mode=row.event_mode,
        basis=row.basis,
        category=row.category,
        filing=row.filing,
        volume_by=row.volume_by,
    )


def schedule_json(row: RetentionSchedule) -> dict[str, Any]:
    return {
        **spec_of(row).as_dict(),
        "id": row.id,
        "version": row.version,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
        "superseded_at": row.superseded_at.isoformat() if row.superseded_at else None,
    }


def current_schedules(session: Session) -> list[RetentionSchedule]:
    return list(
        session.scalars(
            select(RetentionSchedule)
            .where(RetentionSchedule.superseded_at.is_(None))
            .order_by(RetentionSchedule.key)
        )
    )


def current_schedule(session: Session, key: str) -> RetentionSchedule:
    row = session.scalar(
        select(RetentionSchedule).where(
            RetentionSchedule.key == key, RetentionSchedule.superseded_at.is_(None)
        )
    )
    if row is None:
        raise NotFound(f"no schedule {key!r}")
    return row


def _specificity(row: RetentionSchedule | ScheduleSpec) -> int:
    return sum(weight for name, weight in _WEIGHT.items() if getattr(row, name))


def choose(
    schedules: Sequence[RetentionSchedule],
    process: str | None,
    stage: str | None,
    record_type: str | None,
) -> RetentionSchedule | None:
    """The schedule of a class: among those whose selectors all match it, the ones no other
    match refines (``hr/*/labour_contract`` refines ``*/*/labour_contract``; ``general``
    ``*/*/*`` is refined by all), and of those the longest kept (保管期限就高不就低):
    ``strategy/*/*`` (永久) and ``*/*/minutes`` (10 年) both fit a strategy meeting's minutes,
    neither refines the other, and the minutes are kept permanently. A file plan settles
    such a pair its own way with a schedule naming both (``strategy/*/minutes``). Equal
    periods: the more specific (record type, then process, then stage), then the key."""
    given = {"process": process, "stage": stage, "record_type": record_type}
    matching = [
        row
        for row in schedules
        if all(getattr(row, s) is None or getattr(row, s) == given[s] for s in _SELECTORS)
    ]
    unrefined = [row for row in matching if not any(_refines(other, row) for other in matching)]
    return max(unrefined, key=_precedence, default=None)


def _selected(row: RetentionSchedule) -> set[str]:
    return {name for name in _SELECTORS if getattr(row, name) is not None}


def _refines(other: RetentionSchedule, row: RetentionSchedule) -> bool:
    """Whether ``other`` selects everything ``row`` does and more (both match one class)."""
    return _selected(row) < _selected(other)


def _precedence(row: RetentionSchedule) -> tuple[float, int, str]:
    kept = float("inf") if row.years is None else float(row.years)
    return (kept, _specificity(row), row.key)


def event_codes(session: Session) -> list[str]:
    return list(session.scalars(select(EventType.code).order_by(EventType.code)))


def mark_all_dirty(session: Session) -> None:
    session.execute(
        update(Record).where(Record.state == RecordState.ACTIVE).values(retention_dirty=True)
    )


def save_schedule(
    session: Session, actor: Actor, spec: ScheduleSpec
) -> tuple[RetentionSchedule, bool]:
    """Create or change a schedule; returns it and whether anything changed (audited)."""
    current = session.scalar(
        select(RetentionSchedule)
        .where(RetentionSchedule.key == spec.key, RetentionSchedule.superseded_at.is_(None))
        .with_for_update()
    )
    if current is not None and spec_of(current) == spec:
        return current, False
    clash = next(
        (
            row
            for row in current_schedules(session)
            if row.key != spec.key and (row.process, row.stage, row.record_type) == spec.selectors
        ),
        None,
    )
    if clash is not None:
        raise RetentionError(
            f"schedule {spec.key!r} governs the same class as {clash.key!r}; change that one"
        )
    last = session.scalar(
        select(RetentionSchedule.version)
        .where(RetentionSchedule.key == spec.key)
        .order_by(RetentionSchedule.version.desc())
        .limit(1)
    )
    if current is not None:
        current.superseded_at = utcnow()
    row = RetentionSchedule(
        key=spec.key,
        version=(last or 0) + 1,
        name=spec.name,
        process=spec.process,
        stage=spec.stage,
        record_type=spec.record_type,
        years=spec.years,
        trigger=spec.trigger,
        events=list(spec.events),
        event_mode=spec.event_mode,
        disposal=spec.disposal,
        basis=spec.basis,
        category=spec.category,
        filing=spec.filing,
        volume_by=spec.volume_by,
        created_by=actor.name,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor,
        "retention.schedule_saved",
        "schedule",
        spec.key,
        {
            "version": row.version,
            "before": spec_of(current).as_dict() if current is not None else None,
            "after": spec.as_dict(),
        },
    )
    mark_all_dirty(session)
    return row, True


def retire_schedule(session: Session, actor: Actor, key: str, reason: str) -> None:
    """Withdraw a schedule; its records fall to the one :func:`choose` picks of the rest."""
    if not reason.strip():
        raise RetentionError("retiring a schedule needs a reason")
    row = current_schedule(session, key)
    row.superseded_at = utcnow()
    record_event(
        session,
        actor,
        "retention.schedule_retired",
        "schedule",
        key,
        {"version": row.version, "before": spec_of(row).as_dict(), "reason": reason},
    )
    mark_all_dirty(session)


def add_event_type(session: Session, actor: Actor, code: str, label: str) -> EventType:
    code = code.strip()
    if not KEY.fullmatch(code):
        raise RetentionError(f"event type {code!r} must be lower-case letters, digits and _")
    label = " ".join(label.split()) or code
    existing = session.get(EventType, code)
    if existing is not None:
        if existing.label != label:
            before, existing.label = existing.label, label
            record_event(
                session,
                actor,
                "retention.event_type_changed",
                "event_type",
                code,
                {"before": before, "after": label},
            )
        return existing
    row = EventType(code=code, label=label)
    session.add(row)
    session.flush()
    record_event(session, actor, "retention.event_type_added", "event_type", code, {"label": label})
    return row


def default_plan() -> dict[str, Any]:
    text = resources.files("retention").joinpath("default_plan.json").read_text("utf-8")
    plan: dict[str, Any] = json.loads(text)
    return plan


@dataclass(frozen=True)
class PlanReport:
    created: int
    changed: int
    unchanged: int


def load_plan(session: Session, actor: Actor, plan: dict[str, Any] | None = None) -> PlanReport:
    """Load a file plan (default: the shipped one): event types, then schedules.

    Validates every schedule before saving any, so a bad file changes nothing.
    """
    plan = default_plan() if plan is None else plan
    if not isinstance(plan.get("schedules"), list):
        raise RetentionError("a file plan is an object with a list of schedules")
    types = plan.get("event_types") or []
    known = set(event_codes(session)) | {str(t.get("code")) for t in types}
    specs = [spec_from_dict(item, known) for item in plan["schedules"]]
    keys = [spec.key for spec in specs]
    if len(set(keys)) != len(keys):
        raise RetentionError("the file plan names a schedule key twice")
    for item in types:
        add_event_type(session, actor, str(item.get("code") or ""), str(item.get("label") or ""))
    created = changed = unchanged = 0
    existing = {row.key for row in current_schedules(session)}
    for spec in specs:
        _, did_change = save_schedule(session, actor, spec)
        if not did_change:
            unchanged += 1
        elif spec.key in existing:
            changed += 1
        else:
            created += 1
    return PlanReport(created, changed, unchanged)


def export_plan(session: Session) -> dict[str, Any]:
    """The current file plan in the form :func:`load_plan` reads."""
    return {
        "event_types": [
            {"code": row.code, "label": row.label}
            for row in session.scalars(select(EventType).order_by(EventType.code))
        ],
        "schedules": [
            {k: v for k, v in spec_of(row).as_dict().items() if k != "code"}
            for row in current_schedules(session)
        ],
    }


def seed_default_plan(session: Session, actor: Actor) -> bool:
    """Load the shipped file plan into an archive that has none yet (``archive init``)."""
    if session.scalar(select(RetentionSchedule.id).limit(1)) is not None:
        return False
    load_plan(session, actor)
    return True
