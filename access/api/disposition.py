"""Disposition lists over the API (``/api/v1/retention/lists/...``): prepare, submit, sign,
send back, cancel, execute, and the certificate (PDF or CSV).

Who sees a list and which steps they may take are ``access.policy`` rules, the same the web
pages ask: records managers prepare and execute; the records manager, department heads and
directors sign; auditors read; supervisors see only lists holding their department's records.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from access.api.common import (
    api,
    archive,
    error,
    json_body,
    me,
    parse_ids,
    reauthenticated,
    requires,
    text_field,
    whole_number,
)
from access.browse import knows, shown_on_lists, visible_list, visible_lists
from access.http import certificate_response, printed, register_response
from access.list_json import list_json
from access.policy import ListStep, Permission, list_steps
from archive.models import Disposal, SignerRole
from ingest.package import check_transfer_folder
from retention import disposition
from retention.catalogue import catalogue
from retention.execution import execute
from retention.handover import record_receipt
from retention.holds import refusals_audited
from retention.registers import list_register
from retention.witness import witness_list

PREFIX = "/retention"
REFUSALS = {
    ListStep.SIGN: "only department heads, directors and records managers sign a list",
    ListStep.SEND_BACK: "only its signers and records managers send a list back",
    ListStep.SUBMIT: "only records managers submit a list",
    ListStep.CANCEL: "only records managers cancel a list",
}


@api.get(f"{PREFIX}/lists")
@requires(Permission.SEE_DISPOSITION_LISTS)
def retention_lists() -> Any:
    arc = archive()
    with arc.sessions() as session:
        user = me(session)
        visible = visible_lists(session, user)
        return jsonify(
            lists=[
                {
                    **list_json(lst, arc.settings.retention, items=False),
                    "mine_to_sign": [
                        slot.role.value
                        for slot in disposition.open_slots_for(arc.settings.retention, lst, user)
                    ],
                }
                for lst in visible
            ]
        )


@api.post(f"{PREFIX}/lists")
@requires(Permission.MANAGE_RETENTION)
def retention_list_create() -> Any:
    body = json_body()
    try:
        action = Disposal(body.get("action") or "destroy")
    except ValueError:
        return error(400, "action must be destroy or transfer")
    ids = parse_ids(body.get("record_ids") or [], "record_ids")
    arc = archive()
    with refusals_audited(arc, g.actor), arc.transaction() as session:
        lst = disposition.create_list(
            session,
            g.actor,
            action,
            ids,
            text_field(body, "opinion"),
            receiver=str(body.get("receiver") or ""),
        )
        return jsonify(list_json(lst, arc.settings.retention)), 201


@api.get(f"{PREFIX}/lists/<int:list_id>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def retention_list(list_id: int) -> Any:
    arc = archive()
    with arc.sessions() as session:
        user = me(session)
        lst = visible_list(session, user, list_id)
        return jsonify(
            list_json(lst, arc.settings.retention, may_show=shown_on_lists(session, user))
        )


@api.patch(f"{PREFIX}/lists/<int:list_id>")
@requires(Permission.MANAGE_RETENTION)
def retention_list_edit(list_id: int) -> Any:
    """Change a draft: ``opinion``, ``add`` and ``remove`` (lists of record ids)."""
    body = json_body()
    arc = archive()
    with refusals_audited(arc, g.actor), arc.transaction() as session:
        lst = disposition.get_list(session, list_id, lock=True)
        if "receiver" in body:
            disposition.set_receiver(session, g.actor, lst, str(body["receiver"] or ""))
        if "opinion" in body:
            disposition.set_opinion(session, g.actor, lst, text_field(body, "opinion"))
        if body.get("add"):
            disposition.add_records(session, g.actor, lst, parse_ids(body["add"], "add"))
        if body.get("remove"):
            disposition.remove_records(session, g.actor, lst, parse_ids(body["remove"], "remove"))
        return jsonify(list_json(lst, arc.settings.retention))


@api.post(f"{PREFIX}/lists/<int:list_id>/<any(submit, sign, 'send-back', cancel):step>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def retention_list_step(list_id: int, step: str) -> Any:
    body = json_body()
    arc = archive()
    if step == "sign":
        reauthenticated()
    with refusals_audited(arc, g.actor), arc.transaction() as session:
        user = me(session)
        lst = visible_list(session, user, list_id)
        if ListStep(step) not in list_steps(arc.settings.retention, user, lst):
            return error(403, REFUSALS[ListStep(step)])
        if step == "sign":
            try:
                role = SignerRole(body["role"]) if body.get("role") else None
            except ValueError:
                return error(400, "role must be records_manager, department_head or director")
            opinion = text_field(body, "opinion")
            disposition.sign(session, g.actor, arc.settings.retention, lst, user, role, opinion)
        elif step == "send-back":
            disposition.send_back(session, g.actor, lst, text_field(body, "reason"))
        elif step == "submit":
            disposition.submit(session, g.actor, lst)
        else:
            disposition.cancel(session, g.actor, lst, text_field(body, "reason"))
        return jsonify(
            list_json(lst, arc.settings.retention, may_show=shown_on_lists(session, user))
        )


@api.post(f"{PREFIX}/lists/<int:list_id>/execute")
@requires(Permission.MANAGE_RETENTION)
def retention_list_execute(list_id: int) -> Any:
    reauthenticated()
    result = execute(archive(), g.actor, list_id, check_transfer_folder)
    return jsonify(
        number=result.number,
        done=result.done,
        skipped=[{"name": name, "why": why} for name, why in result.skipped],
        package=result.package,
    )


@api.get(f"{PREFIX}/lists/<int:list_id>/certificate.<any(csv, pdf):kind>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def retention_list_certificate(list_id: int, kind: str) -> Any:
    with archive().sessions() as session:
        user = me(session)
        lst = visible_list(session, user, list_id)
        return certificate_response(lst, kind, shown_on_lists(session, user))


@api.get(f"{PREFIX}/lists/<int:list_id>/register.<any(pdf, xlsx):kind>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def retention_list_register(list_id: int, kind: str) -> Any:
    """The list's 销毁清册 or 移交清册."""
    arc = archive()
    with arc.sessions() as session:
        user = me(session)
        lst = visible_list(session, user, list_id)
        register = list_register(session, arc.settings, lst, shown_on_lists(session, user))
    printed(arc, g.actor, register, kind)
    return register_response(register, kind)


@api.post(f"{PREFIX}/lists/<int:list_id>/witness")
@requires(Permission.WITNESS_DESTRUCTION)
def retention_list_witness(list_id: int) -> Any:
    """Sign as a witness of the list's destruction (监销), with ``confirm_password``; the
    service decides whether a slot fits the caller, and the last one closes the list."""
    body = json_body()
    reauthenticated()
    arc = archive()
    with arc.sessions() as session:
        user_id = me(session).id
    row = witness_list(
        arc, g.actor, list_id, user_id, body.get("slot") or None, str(body.get("statement") or "")
    )
    with arc.sessions() as session:
        lst = disposition.get_list(session, list_id)
        closed = lst.closed_at.isoformat() if lst.closed_at else None
    return jsonify(slot=row.slot, capacity=row.capacity, closed_at=closed), 201


@api.get(f"{PREFIX}/registers/catalogue.<any(pdf, xlsx):kind>")
@requires(Permission.PRINT_REGISTERS)
def retention_catalogue(kind: str) -> Any:
    """归档文件目录 of ``?year=`` (and ``department=``, ``code=``, ``category=``)."""
    year = whole_number(request.args.get("year", ""), "year")
    if not 1900 <= year <= 2999:
        return error(400, "year must be a year like 2023")
    arc = archive()
    with arc.sessions() as session:
        person = me(session)
        register = catalogue(
            session,
            arc.settings,
            year,
            request.args.get("department") or None,
            request.args.get("code") or None,
            person.display_name or person.username,
            may_show=knows(session, person),
            category=request.args.get("category") or None,
        )
    printed(arc, g.actor, register, kind)
    return register_response(register, kind)


@api.post(f"{PREFIX}/lists/<int:list_id>/receipt")
@requires(Permission.MANAGE_RETENTION)
def retention_list_receipt(list_id: int) -> Any:
    """Record the receiving archive's signed receipt (the JSON its import gave)."""
    key = record_receipt(archive(), g.actor, list_id, json_body())
    return jsonify(recorded=True, key=key), 201
