"""Disposition lists over the API (``/api/v1/retention/lists/...``): prepare, submit, sign,
send back, cancel, execute, and the certificate (PDF or CSV).

Records managers prepare and execute; the records manager, department heads and directors
sign; auditors read; supervisors see only lists holding their department's records.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.api import _archive, api, error, token_required
from access.api_access import _body, _user
from access.api_retention import MANAGERS, _ids, _text, roles
from access.requests import AccessError
from archive.models import Disposal, DispositionList, ListStatus, Role, SignerRole
from retention import disposition, reports
from retention.execution import execute
from retention.holds import refusals_audited

PREFIX = "/retention"
SIGNERS = frozenset({Role.RECORDS_MANAGER, Role.SUPERVISOR, Role.DIRECTOR, Role.AUDITOR})


def _visible_list(session: Session, list_id: int) -> DispositionList:
    """Supervisors see the lists with their department's records on them; 404 otherwise."""
    lst = disposition.get_list(session, list_id)
    user = _user(session)
    if user.role == Role.SUPERVISOR and all(
        item.record.department_id != user.department_id for item in lst.items
    ):
        raise AccessError(404, "no such list")
    return lst


@api.get(f"{PREFIX}/lists")
@token_required
@roles(SIGNERS)
def retention_lists() -> Any:
    arc = _archive()
    with arc.sessions() as session:
        user = _user(session)
        rows = session.scalars(select(DispositionList).order_by(DispositionList.id.desc())).all()
        visible = [
            lst
            for lst in rows
            if user.role != Role.SUPERVISOR
            or any(item.record.department_id == user.department_id for item in lst.items)
        ]
        return jsonify(
            lists=[
                {
                    **disposition.list_json(lst, arc.settings.retention, items=False),
                    "mine_to_sign": [
                        slot.role.value
                        for slot in disposition.open_slots_for(arc.settings.retention, lst, user)
                    ],
                }
                for lst in visible
            ]
        )


@api.post(f"{PREFIX}/lists")
@token_required
@roles(MANAGERS)
def retention_list_create() -> Any:
    body = _body()
    try:
        action = Disposal(body.get("action") or "destroy")
    except ValueError:
        return error(400, "action must be destroy or transfer")
    ids = _ids(body.get("record_ids") or [], "record_ids")
    arc = _archive()
    with refusals_audited(arc, g.actor), arc.transaction() as session:
        lst = disposition.create_list(session, g.actor, action, ids, _text(body, "opinion"))
        return jsonify(disposition.list_json(lst, arc.settings.retention)), 201


@api.get(f"{PREFIX}/lists/<int:list_id>")
@token_required
@roles(SIGNERS)
def retention_list(list_id: int) -> Any:
    arc = _archive()
    with arc.sessions() as session:
        lst = _visible_list(session, list_id)
        return jsonify(disposition.list_json(lst, arc.settings.retention))


@api.patch(f"{PREFIX}/lists/<int:list_id>")
@token_required
@roles(MANAGERS)
def retention_list_edit(list_id: int) -> Any:
    """Change a draft: ``opinion``, ``add`` and ``remove`` (lists of record ids)."""
    body = _body()
    arc = _archive()
    with refusals_audited(arc, g.actor), arc.transaction() as session:
        lst = disposition.get_list(session, list_id, lock=True)
        if "opinion" in body:
            disposition.set_opinion(session, g.actor, lst, _text(body, "opinion"))
        if body.get("add"):
            disposition.add_records(session, g.actor, lst, _ids(body["add"], "add"))
        if body.get("remove"):
            disposition.remove_records(session, g.actor, lst, _ids(body["remove"], "remove"))
        return jsonify(disposition.list_json(lst, arc.settings.retention))


@api.post(f"{PREFIX}/lists/<int:list_id>/<any(submit, sign, 'send-back', cancel):step>")
@token_required
@roles(SIGNERS)
def retention_list_step(list_id: int, step: str) -> Any:
    body = _body()
    arc = _archive()
    with refusals_audited(arc, g.actor), arc.transaction() as session:
        lst = _visible_list(session, list_id)
        user = _user(session)
        if step == "sign":
            try:
                role = SignerRole(body["role"]) if body.get("role") else None
            except ValueError:
                return error(400, "role must be records_manager, department_head or director")
            disposition.sign(
                session, g.actor, arc.settings.retention, lst, user, role, _text(body, "opinion")
            )
        elif step == "send-back":
            if user.role == Role.AUDITOR or (
                user.role != Role.RECORDS_MANAGER
                and not disposition.open_slots_for(arc.settings.retention, lst, user)
            ):
                return error(403, "only its signers and records managers send a list back")
            disposition.send_back(session, g.actor, lst, _text(body, "reason"))
        elif user.role != Role.RECORDS_MANAGER:
            return error(403, f"only records managers {step} a list")
        elif step == "submit":
            disposition.submit(session, g.actor, lst)
        else:
            disposition.cancel(session, g.actor, lst, _text(body, "reason"))
        return jsonify(disposition.list_json(lst, arc.settings.retention))


@api.post(f"{PREFIX}/lists/<int:list_id>/execute")
@token_required
@roles(MANAGERS)
def retention_list_execute(list_id: int) -> Any:
    result = execute(_archive(), g.actor, list_id)
    return jsonify(
        number=result.number,
        done=result.done,
        skipped=[{"name": name, "why": why} for name, why in result.skipped],
        package=result.package,
    )


def certificate_response(lst: DispositionList, kind: str) -> Response:
    """The list (or, once executed, its certificate) as a CSV or PDF download."""
    name = f"{lst.number}-{'certificate' if lst.status == ListStatus.EXECUTED else 'list'}"
    if kind == "csv":
        body: str | bytes = reports.certificate_csv(lst)
        mimetype = "text/csv; charset=utf-8"
    else:
        body, mimetype = reports.certificate_pdf(lst), "application/pdf"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )


@api.get(f"{PREFIX}/lists/<int:list_id>/certificate.<any(csv, pdf):kind>")
@token_required
@roles(SIGNERS)
def retention_list_certificate(list_id: int, kind: str) -> Any:
    with _archive().sessions() as session:
        lst = _visible_list(session, list_id)
        return certificate_response(lst, kind)
