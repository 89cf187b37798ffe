"""Disposition lists (销毁清册 / 移交清册): preparing them, signing, sending back, executing
with the password again, and their certificates. Department heads and directors reach the
lists they sign; the services decide who may sign what; records managers execute."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from access.browse import shown_on_lists, visible_list, visible_lists
from access.http import certificate_response
from access.list_json import list_json
from access.policy import ListStep, Permission, list_steps, may
from access.requests import AccessError
from access.web.core import (
    actor,
    arc,
    form,
    me,
    reauthenticate,
    record_ids,
    requires,
    user,
    web,
)
from access.web.forms import about, records_in, sends_back
from archive.core import Archive
from archive.errors import ErrorKind, InvalidInput
from archive.models import (
    Disposal,
    DispositionList,
    ListStatus,
    SignerRole,
    User,
)
from ingest.package import check_transfer_folder
from retention import disposition
from retention.execution import execute
from retention.holds import (
    holds_on,
    refusals_audited,
)
from retention.sweep import sweep
from retention.witness import open_witness_slots


def _visible_list(db: Session, person: User, list_id: int, lock: bool = False) -> DispositionList:
    """The list, if ``person`` may see it; the refusal in the page's language."""
    try:
        return visible_list(db, person, list_id, lock=lock)
    except AccessError:
        raise AccessError(_("No such list."), ErrorKind.NOT_FOUND) from None


def _lists_page() -> Any:
    archive = arc()
    with archive.sessions() as db:
        person = me(db)
        rows = visible_lists(db, person)
        return render_template(
            "lists.html",
            lists=rows,
            may_prepare=may(person.role, Permission.MANAGE_RETENTION),
            to_sign={
                lst.id
                for lst in rows
                if disposition.open_slots_for(archive.settings.retention, lst, person)
            },
            fully_signed={
                lst.id
                for lst in rows
                if lst.status == ListStatus.SIGNING
                and not disposition.missing_slots(archive.settings.retention, lst)
            },
        )


@web.route("/retention/lists", methods=["GET", "POST"])
@requires(Permission.SEE_DISPOSITION_LISTS)
@sends_back(_lists_page, {"records": "record_ids"})
def lists() -> Any:
    """Disposition lists (销毁清册 / 移交清册); records managers create them or run the sweep.
    A refused new list comes back on its form, as typed; nothing is created."""
    archive = arc()
    if request.method != "POST":
        return _lists_page()
    if not may(user().role, Permission.MANAGE_RETENTION):
        raise AccessError(_("Only records managers prepare lists."))
    if form("sweep"):
        report = sweep(archive, actor())
        flash(
            _(
                "Sweep done: %(n)s records proposed on %(l)s lists; %(r)s wait for "
                "appraisal; %(h)s are due but held.",
                n=sum(report.proposed.values()),
                l=len(report.lists),
                r=report.to_review,
                h=report.held,
            ),
            "ok",
        )
        return redirect(url_for("web.lists"))
    try:
        action = Disposal(form("action", "destroy"))
    except ValueError:
        raise InvalidInput(_("Choose destroy or transfer."), field="action") from None
    with refusals_audited(archive, actor()), archive.transaction() as db:
        lst = disposition.create_list(
            db,
            actor(),
            action,
            records_in("record_ids"),
            form("opinion"),
            receiver=form("receiver"),
        )
        list_id = lst.id
    return redirect(url_for("web.disposition_list", list_id=list_id))


@web.get("/retention/lists/<int:list_id>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def disposition_list(list_id: int) -> Any:
    archive = arc()
    with archive.sessions() as db:
        person = me(db)
        lst = _visible_list(db, person, list_id)
        settings = archive.settings.retention
        return render_template(
            "list.html",
            lst=lst,
            data=list_json(lst, settings, may_show=shown_on_lists(db, person)),
            mine=disposition.open_slots_for(settings, lst, person),
            missing=disposition.missing_slots(settings, lst),
            steps={step.value for step in list_steps(settings, person, lst)},
            held=_held(db, lst),
            witnesses_wanted=open_witness_slots(db, settings, lst)
            if lst.status == ListStatus.EXECUTED and lst.closed_at is None
            else [],
            unnamed=[
                setting
                for setting, value in (
                    ("ARCHIVE_ORGANISATION", archive.settings.organisation),
                    ("ARCHIVE_FONDS_CODE", archive.settings.fonds_code),
                )
                if not value
            ],
        )


def _held(db: Session, lst: DispositionList) -> dict[str, str]:
    """The records of a list not yet disposed of that a hold covers now: they will be kept
    when it is carried out, and the pages say so before anyone signs or executes."""
    held = {}
    for item in lst.items:
        if item.outcome is None:
            holds = holds_on(db, item.record_id)
            if holds:
                held[str(item.record_id)] = "、".join(f"#{h.id} {h.name}" for h in holds)
    return held


def _step_page(list_id: int, step: str) -> Any:
    """Where a refused step comes back: execution to its confirmation, the rest to the list."""
    return confirm_execute(list_id) if step == "execute" else disposition_list(list_id)


@web.get("/retention/lists/<int:list_id>/execute")
@requires(Permission.SEE_DISPOSITION_LISTS)
def confirm_execute(list_id: int) -> Any:
    """Before executing: what will happen (which list, how many records, for a destruction
    that their keys are destroyed and the content is gone for good), and the password."""
    archive = arc()
    with archive.sessions() as db:
        person = me(db)
        lst = _visible_list(db, person, list_id)
        settings = archive.settings.retention
        if ListStep.EXECUTE not in list_steps(settings, person, lst):
            raise AccessError(_("Only records managers execute a list."))
        return render_template(
            "execute.html",
            lst=lst,
            data=list_json(lst, settings, may_show=shown_on_lists(db, person)),
            missing=disposition.missing_slots(settings, lst),
            held=_held(db, lst),
        )


@web.post(
    "/retention/lists/<int:list_id>/<any(edit, submit, sign, 'send-back', cancel, execute):step>"
)
@requires(Permission.SEE_DISPOSITION_LISTS)
@sends_back(_step_page)
def list_step(list_id: int, step: str) -> Any:
    """A step on a list; a refusal (a wrong password too) comes back on its form as typed."""
    archive = arc()
    if step in ("sign", "execute"):  # irreversible: the password again
        reauthenticate()
    if step == "execute":
        with archive.sessions() as db:
            person = me(db)
            allowed = ListStep.EXECUTE in list_steps(
                archive.settings.retention, person, _visible_list(db, person, list_id)
            )
        if not allowed:
            raise AccessError(_("Only records managers execute a list."))
        result = execute(archive, actor(), list_id, check_transfer_folder)
        flash(
            _(
                "Executed: %(done)s done, %(skipped)s skipped.",
                done=result.done,
                skipped=len(result.skipped),
            ),
            "ok",
        )
        return redirect(url_for("web.disposition_list", list_id=list_id))
    _change_list(archive, list_id, step)
    return redirect(url_for("web.disposition_list", list_id=list_id))


def _change_list(archive: Archive, list_id: int, step: str) -> None:
    with refusals_audited(archive, actor()), archive.transaction() as db:
        person = me(db)
        lst = _visible_list(db, person, list_id, lock=True)
        if ListStep(step) not in list_steps(archive.settings.retention, person, lst):
            raise AccessError(_refusal(ListStep(step)))
        if step == "sign":
            role = SignerRole(form("role")) if form("role") else None
            disposition.sign(
                db, actor(), archive.settings.retention, lst, person, role, form("opinion")
            )
            flash(_("Signed."), "ok")
        elif step == "send-back":
            disposition.send_back(db, actor(), lst, form("reason"))
        elif step == "edit":
            if form("opinion"):
                disposition.set_opinion(db, actor(), lst, form("opinion"))
            if form("receiver"):
                disposition.set_receiver(db, actor(), lst, form("receiver"))
            if form("add"):
                with about("add"):
                    disposition.add_records(db, actor(), lst, record_ids(form("add")))
            if form("remove"):
                with about("remove"):
                    disposition.remove_records(db, actor(), lst, record_ids(form("remove")))
        elif step == "submit":
            disposition.submit(db, actor(), lst)
        else:
            disposition.cancel(db, actor(), lst, form("reason"))


def _refusal(step: ListStep) -> str:
    if step == ListStep.SEND_BACK:
        refusal: str = _("Only its signers and records managers send a list back.")
    elif step == ListStep.SIGN:
        refusal = _("Only department heads, directors and records managers sign a list.")
    else:
        refusal = _("Only records managers change a list.")
    return refusal


@web.get("/retention/lists/<int:list_id>/certificate.<any(csv, pdf):kind>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def list_certificate(list_id: int, kind: str) -> Any:
    with arc().sessions() as db:
        person = me(db)
        lst = _visible_list(db, person, list_id)
        return certificate_response(lst, kind, shown_on_lists(db, person))
