"""An audit event's object and details in words: a record by 档号 and title, a person by
name, a department by name and code, codes as labels, and changes as 字段：之前 → 之后.

Events write their details in a few shapes (see ``record_event`` calls): ``before``/``after``
(requests, reviews of class, rules, schedules, privileged changes), ``from``/``to`` (a
person's role, department or clearance; a raised sensitivity), ``due_before``/``due_after``
(appraisals and cut-offs), ``changes`` with ``before`` (a privileged change asked for).
Everything else is shown as its fields and values, never as JSON.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.browse import without_evidence
from archive.models import (
    AccessRequest,
    AuditEvent,
    ClassificationRule,
    Department,
    EventType,
    Grant,
    Hold,
    IngestJob,
    Project,
    Record,
    User,
    Version,
)
from archive.vocabulary import beijing, english, field_label, pick, term
from archive.vocabulary_details import as_text, coded_text
from archive.vocabulary_reasons import reason_text

#: A details value that is a moment (``2026-05-01T08:00:00+00:00``): shown in Beijing time.
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: Details keys that hold a record id, or a list of them.
RECORD_KEYS = frozenset({"record", "record_id", "named", "removed", "records", "from_record"})
#: The field a scalar before/after pair is about, per action.
SCALAR_FIELD = {
    "disposition.opinion_set": "opinion",
    "retention.event_type_changed": "label",
}


@dataclass(frozen=True)
class Change:
    """One field's value before and after, already in words."""

    key: str
    field: str
    before: str
    after: str

    def text(self, lang: str | None = "zh") -> str:
        colon = ": " if english(lang) else "："
        return f"{self.field}{colon}{self.before} → {self.after}"

    def as_json(self, lang: str | None = "zh") -> dict[str, str]:
        return {"field": self.key, "label": self.field, "before": self.before, "after": self.after}


def _ids(values: Iterable[object]) -> set[str]:
    return {v for v in values if isinstance(v, str) and _UUID.match(v)}


@dataclass
class Lookups:
    """The people, records and departments a page of events names, fetched once."""

    people_by_id: dict[int, str] = field(default_factory=dict)
    people_by_name: dict[str, str] = field(default_factory=dict)
    records: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # 档号, title
    versions: dict[str, tuple[str, str]] = field(default_factory=dict)  # name, record id
    owners: dict[str, str] = field(default_factory=dict)  # request or grant → record id
    departments: dict[str, str] = field(default_factory=dict)  # code → name (code)
    departments_by_id: dict[int, str] = field(default_factory=dict)
    event_types: dict[str, str] = field(default_factory=dict)  # code → the name it was given
    #: (object type, id) → its name, for the objects named by a number or a UUID alone:
    #: an ingest job by its file's name, a project, a hold and a rule by theirs.
    named: dict[tuple[str, str], str] = field(default_factory=dict)

    def record_text(self, record_id: str) -> str:
        found = self.records.get(record_id)
        if found is None:
            return record_id
        code, title = found
        return f"{code} {title}" if code else title

    def record_of(self, event: AuditEvent) -> str | None:
        """The record an event is about, if it is about one."""
        kind, oid = event.object_type, event.object_id
        if kind == "record":
            return oid
        if kind == "version" and oid in self.versions:
            return self.versions[oid][1]
        if kind in ("access_request", "grant"):
            return self.owners.get(oid)
        details = event.details or {}
        for key in ("record", "record_id"):
            if isinstance(details.get(key), str) and details[key] in self.records:
                return str(details[key])
        return None

    def object_text(self, event: AuditEvent, lang: str | None) -> str:
        kind, oid = event.object_type, event.object_id
        if kind == "record":
            return self.record_text(oid)
        if kind == "version" and oid in self.versions:
            name, record_id = self.versions[oid]
            return f"{name}（{self.record_text(record_id)}）"
        if kind in ("access_request", "grant") and oid in self.owners:
            return self.record_text(self.owners[oid])
        if kind == "user":
            if oid.isdigit() and int(oid) in self.people_by_id:
                return self.people_by_id[int(oid)]
            return self.people_by_name.get(oid, oid)
        if kind == "department" and oid.isdigit():
            return self.departments_by_id.get(int(oid), oid)
        if kind == "schedule":  # a schedule's key is its record type's code
            return term(oid, lang)
        if kind == "event_type":
            return self.event_types.get(oid, oid)
        if kind in ("access_log", "audit_trail"):  # how it was read: page, API or export
            return pick(LOG_READ_AS[oid], lang) if oid in LOG_READ_AS else oid
        return self.named.get((kind, oid), oid)

    def value(self, key: str, value: Any, lang: str | None) -> str:
        """One details value in words."""
        coded = coded_text(key, value, lang)
        if coded is not None:
            return coded
        if key == "class" and isinstance(value, list | dict):
            parts = value.values() if isinstance(value, dict) else value
            return " / ".join(term(part, lang) for part in parts if part) or "—"
        if key in RECORD_KEYS and isinstance(value, str) and value in self.records:
            return self.record_text(value)
        if key in RECORD_KEYS and isinstance(value, list):
            return as_text([self.record_text(v) if isinstance(v, str) else v for v in value], lang)
        if key == "department" and isinstance(value, str) and value in self.departments:
            return self.departments[value]
        if key == "department_id" and isinstance(value, int):
            return self.departments_by_id.get(value, str(value))
        if key in ("event_type", "events") and isinstance(value, str | list):
            named = [
                self.event_types.get(v, v) for v in ([value] if isinstance(value, str) else value)
            ]
            return as_text(named, lang)
        if key in ("reason", "why") and isinstance(value, str):
            return reason_text(value, lang)
        if key == "set" and isinstance(value, list):  # the fields a rule decided
            return as_text([field_label(v, lang) if isinstance(v, str) else v for v in value], lang)
        if key in ("user", "username", "requested_by") and isinstance(value, str):
            return self.people_by_name.get(value, value)
        if isinstance(value, str) and _MOMENT.match(value):
            try:
                return beijing(datetime.fromisoformat(value))
            except ValueError:
                return value
        if isinstance(value, list) and value and len(_ids(value)) == len(value):
            return f"{len(value)} items" if english(lang) else f"{len(value)}项"
        if isinstance(value, list) and any(isinstance(v, dict) for v in value):  # rules
            return as_text([self.value(key, v, lang) for v in value], lang)
        if isinstance(value, dict):
            sep, colon = ("; ", ": ") if english(lang) else ("；", "：")
            return sep.join(
                f"{field_label(k, lang)}{colon}{self.value(k, v, lang)}" for k, v in value.items()
            )
        return as_text(value, lang)


def _person(user: User) -> str:
    name = user.display_name
    return f"{name}（{user.username}）" if name and name != user.username else user.username


def _walk(details: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    """The details' fields, and those of the dicts inside (before, after, changes)."""
    for key, value in details.items():
        yield key, value
        if isinstance(value, dict):
            yield from value.items()


#: How the access log was read (``access_log.read``'s object): its page, the API, an export.
LOG_READ_AS: dict[str, tuple[str, str]] = {
    "html": ("网页", "Web page"),
    "json": ("接口（JSON）", "API (JSON)"),
    "csv": ("CSV 导出", "CSV export"),
}


def lookups_for(session: Session, events: Sequence[AuditEvent]) -> Lookups:
    seen = Lookups()
    record_ids: set[str] = set()
    version_ids, request_ids, grant_ids = set(), set(), set()
    user_ids: set[int] = {e.actor_id for e in events if e.actor_id}
    names: set[str] = set()
    codes: set[str] = set()
    department_ids: set[int] = set()
    for event in events:
        oid = event.object_id
        if event.object_type == "record":
            record_ids.add(oid)
        elif event.object_type == "version":
            version_ids.add(oid)
        elif event.object_type == "access_request":
            request_ids.add(oid)
        elif event.object_type == "grant":
            grant_ids.add(oid)
        elif event.object_type == "user":
            (user_ids.add(int(oid)) if oid.isdigit() else names.add(oid))
        elif event.object_type == "department" and oid.isdigit():
            department_ids.add(int(oid))
        for key, value in _walk(event.details or {}):
            if key in RECORD_KEYS:
                record_ids |= _ids(value if isinstance(value, list) else [value])
            elif key == "department" and isinstance(value, str):
                codes.add(value)
            elif key == "department_id" and isinstance(value, int):
                department_ids.add(value)
            elif key in ("user", "username", "requested_by") and isinstance(value, str):
                names.add(value)

    def as_uuids(values: set[str]) -> list[uuid.UUID]:
        return [uuid.UUID(v) for v in values if _UUID.match(v)]

    for kind, (key, name) in _NAMED_BY.items():
        oids = {e.object_id for e in events if e.object_type == kind}
        ids = as_uuids(oids) if kind == "ingest_job" else [int(o) for o in oids if o.isdigit()]
        if ids:
            for oid, shown in session.execute(select(key, name).where(key.in_(ids))):
                seen.named[(kind, str(oid))] = shown

    for vid, name, rid in session.execute(
        select(Version.id, Version.name, Version.record_id).where(
            Version.id.in_(as_uuids(version_ids))
        )
    ):
        seen.versions[str(vid)] = (name, str(rid))
        record_ids.add(str(rid))
    for model, wanted in ((AccessRequest, request_ids), (Grant, grant_ids)):
        for owned, owner in session.execute(
            select(model.id, model.record_id).where(model.id.in_(as_uuids(wanted)))
        ):
            seen.owners[str(owned)] = str(owner)
            record_ids.add(str(owner))
    for rid, code, title in session.execute(
        select(Record.id, Record.reference_code, Record.title).where(
            Record.id.in_(as_uuids(record_ids))
        )
    ):
        seen.records[str(rid)] = (code, title)
    for person in session.scalars(
        select(User).where(User.id.in_(user_ids) | User.username.in_(names))
    ):
        seen.people_by_id[person.id] = seen.people_by_name[person.username] = _person(person)
    for department in session.scalars(
        select(Department).where(Department.code.in_(codes) | Department.id.in_(department_ids))
    ):
        shown = f"{department.name}（{department.code}）"
        seen.departments[department.code] = seen.departments_by_id[department.id] = shown
    seen.event_types = {
        code: name for code, name in session.execute(select(EventType.code, EventType.label))
    }
    return seen


#: The objects an event names by id alone, with the column that names each.
_NAMED_BY: dict[str, tuple[Any, Any]] = {
    "ingest_job": (IngestJob.id, IngestJob.original_filename),
    "project": (Project.id, Project.name),
    "hold": (Hold.id, Hold.name),
    "classification_rule": (ClassificationRule.id, ClassificationRule.name),
}


def _pair(before: Any, after: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    if isinstance(before, dict) or isinstance(after, dict):
        return (before if isinstance(before, dict) else {}), (
            after if isinstance(after, dict) else {}
        )
    return None


def describe_details(
    event: AuditEvent, seen: Lookups, lang: str | None
) -> tuple[list[Change], list[tuple[str, str]]]:
    """The event's changes (before → after) and its other details, in words."""
    details = without_evidence(dict(event.details or {}))
    action = event.action
    changes: list[Change] = []

    def change(key: str, before: Any, after: Any) -> None:
        changes.append(
            Change(
                key,
                field_label(key, lang),
                seen.value(key, before, lang),
                seen.value(key, after, lang),
            )
        )

    if "before" in details and "after" in details:
        before, after = details.pop("before"), details.pop("after")
        pair = _pair(before, after)
        if pair is None:
            change(SCALAR_FIELD.get(action, "value"), before, after)
        else:
            details.pop("changes", None)  # a decided privileged change: before/after say it
            old, new = pair
            for key in dict.fromkeys([*old, *new]):
                if old.get(key) != new.get(key):
                    change(key, old.get(key), new.get(key))
    elif "from" in details and "to" in details and action.endswith("_changed"):
        key = action.removeprefix("user.").removesuffix("_changed")
        change(key, details.pop("from"), details.pop("to"))
    elif action == "record.sensitivity_raised":
        change("sensitivity", details.pop("from", None), details.pop("to", None))
    elif "due_before" in details or "due_after" in details:
        change("due_on", details.pop("due_before", None), details.pop("due_after", None))
    elif isinstance(details.get("changes"), dict):
        wanted: dict[str, Any] = details.pop("changes")
        before = details.pop("before", None)
        old = before if isinstance(before, dict) else {}
        for key, value in wanted.items():
            change(key, old.get(key), value)
    shown = [
        (field_label(key, lang), seen.value(key, value, lang))
        for key, value in details.items()
        if value not in (None, "", [], {})
    ]
    return changes, shown
