"""Registers and witnessed destruction in the browser: the 归档文件目录 for a year, the
register of a list (销毁清册 / 移交清册) as PDF or XLSX, and the page where the people named
for 监销 sign that a destruction took place (their password again, as for any signature)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.browse import knows, shown_on_lists, visible_list
from access.http import printed, register_response, status_of
from access.policy import Permission
from access.web.core import actor, arc, form, me, reauthenticate, requires, select_locale, web
from access.web.labels import period_coded
from access.web.refusals import explain
from archive.errors import DomainError, InvalidInput
from archive.models import Department, Disposal, DispositionList, ListStatus
from archive.vocabulary import category_words
from retention.catalogue import catalogue
from retention.registers import list_register
from retention.schedules import current_schedules
from retention.witness import open_witness_slots, required_witnesses, slots_for, witness_list


@web.get("/retention/lists/<int:list_id>/register.<any(pdf, xlsx):kind>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def list_register_file(list_id: int, kind: str) -> Any:
    archive = arc()
    with archive.sessions() as db:
        person = me(db)
        lst = visible_list(db, person, list_id)
        register = list_register(db, archive.settings, lst, shown_on_lists(db, person))
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
                choices = _catalogue_choices(db, archive.settings.category_code)
                failed = _unknown_choice(args, choices)
                if not failed:
                    register = catalogue(
                        db,
                        archive.settings,
                        year,
                        department=args.get("department") or None,
                        code=args.get("code") or None,
                        prepared_by=person.display_name or person.username,
                        may_show=knows(db, person),
                        category=args.get("category") or None,
                    )
            if not failed:
                printed(archive, actor(), register, args["format"])
                return register_response(register, args["format"])
    with arc().sessions() as db:
        choices = _catalogue_choices(db, arc().settings.category_code)
    page = render_template("catalogue.html", args=args, failed=failed, choices=choices)
    return page, 400 if failed else 200


def _catalogue_choices(db: Session, default_category: str) -> dict[str, list[tuple[str, str]]]:
    """What a 目录 may be narrowed to, as (code, words): the departments, the 门类 and the
    保管期限 of the file plan. Chosen from lists: a typed 销售 or 30年 matched nothing."""
    schedules = current_schedules(db)
    departments = db.scalars(select(Department).order_by(Department.code))
    codes = sorted({s.code for s in schedules}, key=lambda c: (c != "Y", int(c[1:] or 0)))
    categories = sorted({default_category, *(s.category for s in schedules if s.category)})
    return {
        "department": [(d.code, f"{d.name}（{d.code}）") for d in departments],
        "code": [(c, period_coded(c)) for c in codes],
        "category": [(c, category_words(c, select_locale())) for c in categories],
    }


def _unknown_choice(args: Any, choices: dict[str, list[tuple[str, str]]]) -> str:
    """Why the form cannot be drawn: a value that is none of the choices (from an old link or
    a hand-made address), said rather than printed as an empty register."""
    for name, options in choices.items():
        value = args.get(name) or ""
        if value and value not in {code for code, _words in options}:
            return str(_("“%(value)s” is not one of the choices: choose one from the list.",
                         value=value))  # fmt: skip
    return ""


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
