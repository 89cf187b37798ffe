"""The rule book: loading, seeding, importing and exporting classification rules (audited)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.core import Archive
from archive.models import ClassificationRule, Sensitivity
from ingest.classify import RuleError, RuleSpec, validate

_EDITABLE = (
    "priority",
    "keywords",
    "pattern",
    "filename_glob",
    "folder_glob",
    "process",
    "stage",
    "record_type",
    "sensitivity",
    "confidence",
)


def spec_from_dict(data: dict[str, Any]) -> RuleSpec:
    unknown = set(data) - {"name", "enabled", *_EDITABLE}
    if unknown:
        raise RuleError(f"unknown rule fields: {', '.join(sorted(unknown))}")
    name = str(data.get("name") or "").strip()
    if not name:
        raise RuleError("every rule needs a name", code="required", field="name")
    try:
        sensitivity = Sensitivity(data["sensitivity"]) if data.get("sensitivity") else None
    except ValueError:
        raise RuleError(f"rule {name!r}: unknown sensitivity {data['sensitivity']!r}") from None
    spec = RuleSpec(
        name=name,
        priority=int(data.get("priority", 100)),
        keywords=tuple(str(k) for k in data.get("keywords") or ()),
        pattern=data.get("pattern") or None,
        filename_glob=data.get("filename_glob") or None,
        folder_glob=data.get("folder_glob") or None,
        process=data.get("process") or None,
        stage=data.get("stage") or None,
        record_type=data.get("record_type") or None,
        sensitivity=sensitivity,
        confidence=float(data.get("confidence", 0.8)),
    )
    validate(spec)
    return spec


def spec_to_dict(rule: ClassificationRule) -> dict[str, Any]:
    data: dict[str, Any] = {"name": rule.name, "enabled": rule.enabled}
    for name in _EDITABLE:
        value = getattr(rule, name)
        if value not in (None, [], ""):
            data[name] = value.value if isinstance(value, Sensitivity) else value
    return data


def load_rules(session: Session) -> list[RuleSpec]:
    rows = session.scalars(
        select(ClassificationRule).where(ClassificationRule.enabled.is_(True))
    ).all()
    return [RuleSpec.of(row) for row in rows]


def default_rules() -> list[dict[str, Any]]:
    text = resources.files("ingest").joinpath("default_rules.json").read_text(encoding="utf-8")
    rules: list[dict[str, Any]] = json.loads(text)
    return rules


def save_rules(arc: Archive, actor: Actor, rules: list[dict[str, Any]]) -> tuple[int, int]:
    """Create or update rules by name; returns (created, updated). Each change is audited."""
    specs = [(spec_from_dict(data), bool(data.get("enabled", True))) for data in rules]
    created = updated = 0
    with arc.transaction() as session:
        for spec, enabled in specs:
            row = session.scalar(
                select(ClassificationRule).where(ClassificationRule.name == spec.name)
            )
            before = spec_to_dict(row) if row is not None else None
            if row is None:
                row = ClassificationRule(name=spec.name)
                session.add(row)
                created += 1
            row.enabled = enabled
            for name in _EDITABLE:
                value = getattr(spec, name)
                setattr(row, name, list(value) if name == "keywords" else value)
            session.flush()
            after = spec_to_dict(row)
            if before == after:
                continue
            if before is not None:
                updated += 1
            record_event(
                session,
                actor,
                "classification.rule_saved",
                "classification_rule",
                row.id,
                {"before": before, "after": after},
            )
    return created, updated


def seed_default_rules(arc: Archive, actor: Actor) -> int:
    """Install the shipped rule book into an archive that has no rules yet."""
    with arc.sessions() as session:
        if session.scalar(select(ClassificationRule.id).limit(1)) is not None:
            return 0
    created, _ = save_rules(arc, actor, default_rules())
    return created
