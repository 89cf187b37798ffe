"""Classification by process, business stage, record type and sensitivity.

Rules are rows a records manager edits (:class:`ClassificationRule`). Rules run in priority
order; within a rule every condition given must hold, and the first matching rule decides
each class field it sets (a later rule may still fill a field an earlier one left empty).
Every decision carries its reason: the rules that decided, and a confidence; below the
configured threshold the record goes to the review queue.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from archive.errors import DomainError
from archive.models import ClassificationRule, Sensitivity

FIELDS = ("process", "stage", "record_type")
#: Contracts are readable only by directors (company rule 4): restricted unless set higher.
RESTRICTED_TYPES = frozenset({"contract"})
_LATIN = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True)
class RuleSpec:
    """A rule as plain data, so rules can be tested before they are saved."""

    name: str
    priority: int = 100
    keywords: tuple[str, ...] = ()
    pattern: str | None = None
    filename_glob: str | None = None
    folder_glob: str | None = None
    process: str | None = None
    stage: str | None = None
    record_type: str | None = None
    sensitivity: Sensitivity | None = None
    confidence: float = 0.8

    @classmethod
    def of(cls, row: ClassificationRule) -> RuleSpec:
        return cls(
            name=row.name,
            priority=row.priority,
            keywords=tuple(row.keywords or ()),
            pattern=row.pattern,
            filename_glob=row.filename_glob,
            folder_glob=row.folder_glob,
            process=row.process,
            stage=row.stage,
            record_type=row.record_type,
            sensitivity=row.sensitivity,
            confidence=row.confidence,
        )


@dataclass(frozen=True)
class Document:
    """What classification looks at: simplified, normalised text, the file name and folder."""

    text: str
    filename: str
    folder: str = ""


@dataclass
class Decision:
    process: str | None = None
    stage: str | None = None
    record_type: str | None = None
    sensitivity: Sensitivity | None = None
    confidence: float = 0.0
    reasons: list[dict[str, Any]] = field(default_factory=list)

    def explain(self, threshold: float) -> dict[str, Any]:
        return {
            "method": "rules",
            "confidence": round(self.confidence, 3),
            "threshold": threshold,
            "rules": self.reasons,
        }


class RuleError(DomainError, ValueError):
    """A rule cannot be used; the message says which and why."""


def keyword_matches(keyword: str, text: str) -> bool:
    """Chinese keywords match as substrings; Latin words only as whole words."""
    keyword = keyword.strip()
    if not keyword:
        return False
    if not _LATIN.search(keyword):
        return keyword in text
    bounded = rf"(?<![A-Za-z0-9]){re.escape(keyword)}(?![A-Za-z0-9])"
    return re.search(bounded, text, re.IGNORECASE) is not None


def compile_pattern(rule: RuleSpec) -> re.Pattern[str] | None:
    if not rule.pattern:
        return None
    try:
        return re.compile(rule.pattern, re.IGNORECASE)
    except re.error as exc:
        raise RuleError(
            f"rule {rule.name!r}: bad regular expression: {exc}",
            code="rule_pattern",
            field="pattern",
            params={"detail": str(exc)},
        ) from None


def matches(rule: RuleSpec, doc: Document) -> list[str]:
    """The conditions of ``rule`` that ``doc`` meets; empty unless all given ones hold."""
    met: list[str] = []
    if rule.keywords:
        found = [k for k in rule.keywords if keyword_matches(k, doc.text)]
        if not found:
            return []
        met.append("keywords: " + ", ".join(found))
    pattern = compile_pattern(rule)
    if pattern is not None:
        if pattern.search(doc.text) is None and pattern.search(doc.filename) is None:
            return []
        met.append(f"pattern: {rule.pattern}")
    if rule.filename_glob:
        if not fnmatch.fnmatch(doc.filename.lower(), rule.filename_glob.lower()):
            return []
        met.append(f"file name: {rule.filename_glob}")
    if rule.folder_glob:
        if not fnmatch.fnmatch(doc.folder, rule.folder_glob):
            return []
        met.append(f"folder: {rule.folder_glob}")
    return met


def classify(rules: Iterable[RuleSpec], doc: Document) -> Decision:
    decision = Decision()
    confidences: list[float] = []
    for rule in sorted(rules, key=lambda r: (r.priority, r.name)):
        met = matches(rule, doc)
        if not met:
            continue
        decided = [
            name for name in FIELDS if getattr(rule, name) and getattr(decision, name) is None
        ]
        for name in decided:
            setattr(decision, name, getattr(rule, name))
        if rule.sensitivity and (
            decision.sensitivity is None or rule.sensitivity.rank > decision.sensitivity.rank
        ):
            decision.sensitivity = rule.sensitivity
            decided.append("sensitivity")
        if decided:
            confidences.append(rule.confidence)
            decision.reasons.append({"rule": rule.name, "set": decided, "because": met})
    filled = sum(getattr(decision, name) is not None for name in FIELDS)
    if confidences:
        # Each class field left undecided lowers confidence: a partial answer needs review.
        decision.confidence = min(confidences) * (filled / len(FIELDS)) ** 0.5
    if decision.record_type in RESTRICTED_TYPES and (
        decision.sensitivity is None or decision.sensitivity.rank < Sensitivity.RESTRICTED.rank
    ):
        decision.sensitivity = Sensitivity.RESTRICTED
        decision.reasons.append(
            {"rule": "contracts are restricted", "set": ["sensitivity"], "because": []}
        )
    return decision


def validate(rule: RuleSpec) -> None:
    """Refuse a rule that could never match or names nothing to set."""
    compile_pattern(rule)
    if not (rule.keywords or rule.pattern or rule.filename_glob or rule.folder_glob):
        raise RuleError(f"rule {rule.name!r} has no condition", code="rule_condition")
    if not any(getattr(rule, name) for name in (*FIELDS, "sensitivity")):
        raise RuleError(f"rule {rule.name!r} sets no class", code="rule_class")
    if not 0.0 < rule.confidence <= 1.0:
        raise RuleError(
            f"rule {rule.name!r}: confidence must be in (0, 1]",
            code="rule_confidence",
            field="confidence",
        )


def rules_from_rows(rows: Sequence[ClassificationRule]) -> list[RuleSpec]:
    return [RuleSpec.of(row) for row in rows]
