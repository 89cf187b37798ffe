"""Records managers' classification pages: the rule book (edit, and test a rule against a
sample text before saving), and the review queue of low-confidence classifications."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from access.policy import Permission
from access.web.core import actor, arc, form, requires, web
from access.web.forms import sends_back, sent
from archive.core import Archive
from archive.errors import InvalidInput
from archive.models import ClassificationRule, Record, Sensitivity
from archive.text import normalize_for_index
from archive.vocabulary import PROCESSES, RECORD_TYPES, STAGES
from ingest.classify import Document, RuleSpec, classify
from ingest.review import UnknownClass, reclassify
from ingest.rules import load_rules, save_rules, spec_from_dict, spec_to_dict
from retention.schedules import current_schedules

RULE_FIELDS = ("process", "stage", "record_type")


def _rule_from_form() -> dict[str, Any]:
    keywords = [k.strip() for k in form("keywords").replace("，", ",").split(",") if k.strip()]
    try:
        priority = int(form("priority", "100"))
        confidence = float(form("confidence", "0.8"))
    except ValueError:
        raise InvalidInput(
            _("Priority must be a whole number and confidence a number."), field="priority"
        ) from None
    return {
        "name": form("name"),
        "enabled": request.form.get("enabled") == "on",
        "priority": priority,
        "keywords": keywords,
        "pattern": form("pattern") or None,
        "filename_glob": form("filename_glob") or None,
        "folder_glob": form("folder_glob") or None,
        "process": form("process") or None,
        "stage": form("stage") or None,
        "record_type": form("record_type") or None,
        "sensitivity": form("sensitivity") or None,
        "confidence": confidence,
    }


def _trial(rules: list[RuleSpec]) -> dict[str, Any] | None:
    """Classify the sample text of the form with ``rules``: what the pipeline would decide."""
    sample, filename = form("sample"), form("filename", "sample.txt")
    if not sample and not request.form.get("filename"):
        return None
    text = normalize_for_index(sample).simplified
    decision = classify(rules, Document(text, filename))
    threshold = arc().settings.ingest.classify_threshold
    return {
        "decision": decision,
        "explain": decision.explain(threshold),
        "needs_review": decision.confidence < threshold,
    }


def _rules_page(trial: dict[str, Any] | None = None, editing: dict[str, Any] | None = None) -> Any:
    """The rule book and the form; after a refusal, the rule as typed."""
    refused = sent()
    if refused.refused is not None:
        typed = refused.refused.values
        keywords = typed.get("keywords", "").replace("，", ",").split(",")
        editing = {
            **typed.to_dict(),
            "enabled": typed.get("enabled") == "on",
            "keywords": [k.strip() for k in keywords if k.strip()],
        }
    with arc().sessions() as db:
        rows = list(db.scalars(select(ClassificationRule).order_by(ClassificationRule.priority)))
        if editing is None and request.args.get("edit"):
            row = db.scalar(
                select(ClassificationRule).where(ClassificationRule.name == request.args["edit"])
            )
            editing = spec_to_dict(row) if row is not None else None
        return render_template(
            "rules.html",
            rules=[spec_to_dict(r) for r in rows],
            editing=editing or {"enabled": True, "priority": 100, "confidence": 0.8},
            trial=trial,
            sample=form("sample") if request.method == "POST" else "",
            levels=[s.value for s in Sensitivity],
            choices=class_choices(arc()),
            f=refused,
        )


@web.route("/rules", methods=["GET", "POST"])
@requires(Permission.MANAGE_CLASSIFICATION)
@sends_back(_rules_page)
def rules() -> Any:
    """The rule book, a form to add or change one rule, and the test bench. A refused rule
    comes back as typed, the reason beside its field."""
    if request.method != "POST":
        return _rules_page()
    archive = arc()
    if form("action") == "test":
        with archive.sessions() as db:
            current = load_rules(db)
        editing = None
        if form("name"):  # try the rule in the form as if it were saved
            candidate = spec_from_dict(_rule_from_form())
            current = [r for r in current if r.name != candidate.name] + [candidate]
            editing = _rule_from_form()
        return _rules_page(_trial(current), editing)
    data = _rule_from_form()
    spec_from_dict(data)  # refuse a bad rule with its reason before saving
    created, updated = save_rules(archive, actor(), [data])
    flash(_("Rule saved.") if created or updated else _("Nothing changed."), "ok")
    return redirect(url_for("web.rules"))


@web.route("/classification-review", methods=["GET", "POST"])
@requires(Permission.MANAGE_CLASSIFICATION)
def class_review() -> Any:
    """Records the rules were unsure about: confirm, or correct, each one (audited), choosing
    from the vocabulary and the retention plan's record types; anything else is refused on
    the form, with what was typed."""
    archive = arc()
    problem: dict[str, str] = {}
    if request.method == "POST":
        try:
            record_id = uuid.UUID(form("record_id"))
            sensitivity = Sensitivity(form("sensitivity")) if form("sensitivity") else None
        except ValueError:
            raise InvalidInput(_("Choose one of the values offered.")) from None
        try:
            reclassify(
                archive,
                actor(),
                record_id,
                process=form("process") or None,
                stage=form("stage") or None,
                record_type=form("record_type") or None,
                sensitivity=sensitivity,
                note=form("note"),
                choices=class_choices(archive),
            )
        except UnknownClass as refused:
            problem = {"record": str(record_id), "message": _unknown_message(refused)}
        else:
            flash(_("Classification saved."), "ok")
            return redirect(url_for("web.class_review"))
    with archive.sessions() as db:
        waiting = db.scalars(
            select(Record)
            .where(Record.needs_review.is_(True))
            .order_by(Record.created_at)
            .limit(100)
        ).all()
        page = render_template(
            "class_review.html",
            records=waiting,
            levels=[s.value for s in Sensitivity],
            threshold=archive.settings.ingest.classify_threshold,
            choices=class_choices(archive),
            problem=problem,
            entered=request.form if problem else {},
        )
        return (page, 400) if problem else page


def class_choices(archive: Archive) -> dict[str, list[str]]:
    """What a class may be: the vocabulary's processes and stages, and the record types the
    retention plan has a schedule for (the vocabulary's while no plan is loaded)."""
    with archive.sessions() as db:
        planned = {s.record_type for s in current_schedules(db) if s.record_type}
    types = sorted(planned) if planned else sorted(RECORD_TYPES)
    return {"process": list(PROCESSES), "stage": list(STAGES), "record_type": types}


def _unknown_message(refused: UnknownClass) -> str:
    if refused.field == "record_type":
        message: str = _(
            "“%(value)s” is not a record type of the retention plan: choose one from the list, "
            "or add a schedule for it to the plan first.",
            value=refused.value,
        )
    else:
        message = _(
            "“%(value)s” is not one of the choices: choose one from the list.", value=refused.value
        )
    return message
