"""``GET /api/v1/openapi.json``: the API described from the routes themselves.

Paths, methods, path parameters and summaries come from Flask's URL map and the views'
docstrings, so the document cannot forget a route; request bodies and query parameters
that a route takes are listed here beside it.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, jsonify
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from access.api.common import api
from search.index import FILTERS

_STRING = {"type": "string"}
_INT = {"type": "integer"}
_DATE = {"type": "string", "format": "date"}
_UUID = {"type": "string", "format": "uuid"}
#: A record as people and programs name it: its 档号 or its id.
_RECORD = {"type": "string", "description": "档号 (reference code) or record id"}
_RECORDS = {"type": "array", "items": _RECORD}
#: The one shape of every error (``access.api.common.error``).
_ERROR = {
    "type": "object",
    "required": ["error", "kind"],
    "properties": {
        "error": _STRING,
        "kind": {"description": "invalid, unauthenticated, forbidden, not_found, …", **_STRING},
        "code": {"description": "the rule broken, where it has a name", **_STRING},
        "field": {"description": "the input it is about", **_STRING},
        "problems": {"type": "array", "items": {"type": "object"}},
        "record_id": {"description": "a refused read: the record to ask for", **_UUID},
    },
}
_ERROR_RESPONSE = {
    "description": "an error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
BODIES: dict[str, dict[str, Any]] = {
    "create_access_request": {
        "required": ["record_id", "purpose", "scope", "days"],
        "properties": {
            "record_id": _RECORD,
            "purpose": _STRING,
            "scope": {"enum": ["view", "download", "print", "external"]},
            "days": _INT,
            "recipient": {
                **_STRING,
                "description": "who outside the company receives it: required for external",
            },
        },
    },
    "approve_access_request": {"properties": {"reason": _STRING}},
    "deny_access_request": {"required": ["reason"], "properties": {"reason": _STRING}},
    "open_emergency_access": {
        "required": ["record_id", "justification"],
        "properties": {
            "record_id": _RECORD,
            "justification": _STRING,
            "scope": {"enum": ["view", "download", "print"]},
            "hours": _INT,
        },
    },
    "record_describe": {
        "properties": {
            "author": {"type": ["string", "null"], "description": "责任者"},
            "doc_number": {"type": ["string", "null"], "description": "文号"},
            "remarks": {"type": ["string", "null"], "description": "备注"},
        },
    },
    "revoke_grant": {"required": ["reason"], "properties": {"reason": _STRING}},
    "retention_schedule_save": {
        "required": ["name"],
        "properties": {
            "name": _STRING,
            "process": _STRING,
            "stage": _STRING,
            "record_type": _STRING,
            "code": {"description": "Y, D30, D10 or D<years>", **_STRING},
            "years": {"type": ["integer", "null"]},
            "trigger": {"enum": ["filed", "year_end", "fiscal_year_end", "event"]},
            "events": {"type": "array", "items": _STRING},
            "event_mode": {"enum": ["any", "all"]},
            "disposal": {"enum": ["review", "destroy", "transfer"]},
            "basis": _STRING,
            "category": {
                "type": ["string", "null"],
                "description": "门类代码, 1-4 letters (KJ); null: ARCHIVE_CATEGORY_CODE",
            },
            "filing": {"enum": ["item", "volume"]},
            "volume_by": {"enum": ["month", "year", None]},
        },
    },
    "retention_schedule_retire": {"required": ["reason"], "properties": {"reason": _STRING}},
    "retention_event_record": {
        "required": ["event_type", "occurred_on"],
        "properties": {
            "event_type": _STRING,
            "occurred_on": _DATE,
            "project": _STRING,
            "record_id": _RECORD,
            "note": _STRING,
        },
    },
    "retention_event_void": {"required": ["reason"], "properties": {"reason": _STRING}},
    "retention_hold_place": {
        "required": ["name", "reason"],
        "properties": {
            "name": _STRING,
            "reason": _STRING,
            "scope": {"enum": ["records", "project", "query"]},
            "record_ids": _RECORDS,
            "project": _STRING,
            "query": {"type": "object"},
        },
    },
    "retention_hold_release": {"required": ["reason"], "properties": {"reason": _STRING}},
    "retention_record_review": {
        "required": ["opinion", "outcome"],
        "properties": {
            "opinion": _STRING,
            "outcome": {"enum": ["extend", "reschedule", "destroy", "transfer"]},
            "until": _DATE,
            "years": _INT,
            "schedule": _STRING,
        },
    },
    "retention_record_cut_off": {"properties": {"on": _DATE}},
    "retention_record_delete": {"required": ["reason"], "properties": {"reason": _STRING}},
    "retention_list_create": {
        "properties": {
            "action": {"enum": ["destroy", "transfer"]},
            "record_ids": _RECORDS,
            "opinion": _STRING,
        },
    },
    "retention_list_edit": {
        "properties": {
            "opinion": _STRING,
            "add": _RECORDS,
            "remove": _RECORDS,
        },
    },
    "retention_list_step": {
        "properties": {
            "role": {"enum": ["records_manager", "department_head", "director"]},
            "opinion": _STRING,
            "reason": _STRING,
        },
    },
}
QUERIES: dict[str, list[str]] = {
    "search": ["q", *FILTERS, "from", "to", "page", "per_page", "sort"],
    "version_content": ["action"],
    "pick_records": ["q", "for"],
    "access_log": ["user", "record", "from", "to", "format", "limit"],
    "audit_trail": [
        "actor",
        "action",
        "record",
        "from",
        "to",
        "page",
        "per_page",
        "format",
        "lang",
    ],
    "retention_holds": ["all"],
    "retention_volumes": ["series"],
    "retention_due_report": ["months"],
}


def path_template(rule: str) -> str:
    """``/lists/<int:list_id>/certificate.<any(csv, pdf):kind>`` → ``/lists/{list_id}/…{kind}``"""
    return re.sub(r"<(?:[^:>]+:)?([a-z_]+)>", r"{\1}", rule)


def _path_schema(rule: Rule, arg: str) -> dict[str, Any]:
    converter = rule._converters.get(arg)
    if isinstance(converter, AnyConverter):
        return {"enum": sorted(converter.items)}
    if isinstance(converter, IntegerConverter):
        return _INT
    return _STRING


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        name = rule.endpoint.split(".", 1)[1]
        view = current_app.view_functions[rule.endpoint]
        path = path_template(rule.rule)
        params: list[dict[str, Any]] = [
            {"name": arg, "in": "path", "required": True, "schema": _path_schema(rule, arg)}
            for arg in sorted(rule.arguments)
        ]
        params += [
            {"name": arg, "in": "query", "schema": {"type": "string"}}
            for arg in QUERIES.get(name, [])
        ]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": name,
                "summary": (view.__doc__ or name).strip().splitlines()[0],
                "parameters": params,
                "security": [{"bearer": []}],
                "responses": {
                    "200": {"description": "OK"},
                    "401": _ERROR_RESPONSE | {"description": "no token"},
                    "default": _ERROR_RESPONSE,
                },
            }
            if name in BODIES:
                schema = {"type": "object", **BODIES[name]}
                operation["requestBody"] = {"content": {"application/json": {"schema": schema}}}
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Archive API", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR},
        },
        "paths": paths,
    }


@api.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 document of this API (no token needed: it holds no data)."""
    return jsonify(document())
