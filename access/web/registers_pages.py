"""Registers and witnessed destruction in the browser: the 归档文件目录 for a year, the
register of a list (销毁清册 / 移交清册) as PDF or XLSX, and the page where the people named
for 监销 sign that a destruction took place (their password again, as for any signature)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from access.browse import knows, visible_list
from access.http import printed, register_response, status_of
from access.policy import Permission
from access.web.core import actor, arc, form, me, reauthenticate, requires, web
from access.web.refusals import explain
from archive.errors import DomainError, InvalidInput
from archive.models import Disposal, DispositionList, ListStatus
from retention.catalogue import catalogue
from retention.registers import list_register
from retention.witness import open_witness_slots, required_witnesses, slots_for, witness_list


@web.get("/retention/lists/<int:list_id>/register.<any(pdf, xlsx):kind>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def list_register_file(list_id: int, kind: str) -> Any:
    archive = arc()
    with archive.sessions() as db:
        lst = visible_list(db, me(db), list_id)
        register = list_register(db, archive.settings, lst)
    printed(archive, actor(), register, kind)
    return register_response(register, kind)


@web.get("/retention/catalogue")
@requires(Permission.PRINT_REGISTERS)
def catalogue_page() -> Any:
    """The 归档文件目录 form; with ``format`` set, the register itself."""
    args = request.args
    failed = ""
    if args.get("format") in ("pdf", "xlsx"):
        try:
            year = int(args.get("year", ""))
            if not 1900 <= year <= 2999:
                raise ValueError
        except ValueError:
            failed = _("The year must be a year like 2023.")
        else:
            archive = arc()
            with archive.sessions() as db:
                person = me(db)
                register = catalogue(
                    db,
                    archive.settings,
                    year,
                    department=args.get("department") or None,
                    code=args.get("code") or None,
                    prepared_by=person.display_name or person.username,
                    may_show=knows(db, person),
                )
            printed(archive, actor(), register, args["format"])
            return register_response(register, args["format"])
    return render_template("catalogue.html", args=args, failed=failed), 400 if failed else 200


@web.route("/retention/witness", methods=["GET", "POST"])
@requires(Permission.WITNESS_DESTRUCTION)
def witness_page() -> Any:
    """Executed destruction lists where the signed-in person has a witness slot open."""
    archive = arc()
    settings = archive.settings.retention
    failed: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        try:
            list_id = int(form("list_id"))
        except ValueError:
            raise InvalidInput(_("Choose a list.")) from None
        try:
            reauthenticate()
            with archive.sessions() as db:
                person = me(db)
            witness_list(archive, actor(), list_id, person.id, form("slot") or None,
                         form("statement"))  # fmt: skip
        except DomainError as exc:
            failed = {**request.form.to_dict(), "message": explain(exc)}
            failed.pop("confirm_password", None)
            status = status_of(exc)
        else:
            with archive.sessions() as db:
                lst = db.get(DispositionList, list_id)
                left = open_witness_slots(db, settings, lst) if lst is not None else []
            if left:
                flash(
                    _(
                        "Your witness signature is recorded. The list still waits for: %(who)s.",
                        who="、".join(slot.capacity for slot in left),
                    ),
                    "ok",
                )
            else:
                flash(
                    _("Every witness has signed: the list is closed and its register filed."), "ok"
                )
            return redirect(url_for("web.witness_page"))
    with archive.sessions() as db:
        person = me(db)
        lists = db.scalars(
            select(DispositionList).where(
                DispositionList.action == Disposal.DESTROY,
                DispositionList.status == ListStatus.EXECUTED,
                DispositionList.closed_at.is_(None),
            )
        ).all()
        waiting = [
            (lst, slots_for(db, settings, lst, person), required_witnesses(db, settings, lst))
            for lst in lists
        ]
        waiting = [(lst, mine, slots) for lst, mine, slots in waiting if mine]
        known = knows(db, person)
        shown = {item.id for lst, _, _ in waiting for item in lst.items if known(item.record)}
        return (
            render_template("witness.html", waiting=waiting, failed=failed, shown=shown),
            status,
        )
