"""Disposition lists over the API (``/api/v1/retention/lists/...``): prepare, submit, sign,
send back, cancel, execute, and the certificate (PDF or CSV).

Who sees a list and which steps they may take are ``access.policy`` rules, the same the web
pages ask: records managers prepare and execute; the records manager, department heads and
directors sign; auditors read; supervisors see only lists holding their department's records.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

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
)
from access.browse import visible_list, visible_lists
from access.http import certificate_response
from access.policy import ListStep, Permission, list_steps
from archive.models import Disposal, SignerRole
from ingest.package import check_transfer_folder
from retention import disposition
from retention.execution import execute
from retention.holds import refusals_audited

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
        lst = disposition.create_list(session, g.actor, action, ids, text_field(body, "opinion"))
        return jsonify(disposition.list_json(lst, arc.settings.retention)), 201


@api.get(f"{PREFIX}/lists/<int:list_id>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def retention_list(list_id: int) -> Any:
    arc = archive()
    with arc.sessions() as session:
        lst = visible_list(session, me(session), list_id)
        return jsonify(disposition.list_json(lst, arc.settings.retention))


@api.patch(f"{PREFIX}/lists/<int:list_id>")
@requires(Permission.MANAGE_RETENTION)
def retention_list_edit(list_id: int) -> Any:
    """Change a draft: ``opinion``, ``add`` and ``remove`` (lists of record ids)."""
    body = json_body()
    arc = archive()
    with refusals_audited(arc, g.actor), arc.transaction() as session:
        lst = disposition.get_list(session, list_id, lock=True)
        if "opinion" in body:
            disposition.set_opinion(session, g.actor, lst, text_field(body, "opinion"))
        if body.get("add"):
            disposition.add_records(session, g.actor, lst, parse_ids(body["add"], "add"))
        if body.get("remove"):
            disposition.remove_records(session, g.actor, lst, parse_ids(body["remove"], "remove"))
        return jsonify(disposition.list_json(lst, arc.settings.retention))


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
        return jsonify(disposition.list_json(lst, arc.settings.retention))


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
        lst = visible_list(session, me(session), list_id)
        return certificate_response(lst, kind)
