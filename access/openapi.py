"""``GET /api/v1/openapi.json``: the API described from the routes themselves.

Paths, methods, path parameters and summaries come from Flask's URL map and the views'
docstrings, so the document cannot forget a route; request bodies and query parameters
that a route takes are listed here beside it.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, jsonify

from access.api import api
from search.index import FACETS

_STRING = {"type": "string"}
_INT = {"type": "integer"}
BODIES: dict[str, dict[str, Any]] = {
    "create_access_request": {
        "required": ["record_id", "purpose", "scope", "days"],
        "properties": {
            "record_id": {"type": "string", "format": "uuid"},
            "purpose": _STRING,
            "scope": {"enum": ["view", "download", "print", "external"]},
            "days": _INT,
        },
    },
    "approve_access_request": {"properties": {"reason": _STRING}},
    "deny_access_request": {"required": ["reason"], "properties": {"reason": _STRING}},
    "open_emergency_access": {
        "required": ["record_id", "justification"],
        "properties": {
            "record_id": {"type": "string", "format": "uuid"},
            "justification": _STRING,
            "scope": {"enum": ["view", "download", "print"]},
            "hours": _INT,
        },
    },
    "revoke_grant": {"required": ["reason"], "properties": {"reason": _STRING}},
}
QUERIES: dict[str, list[str]] = {
    "search": ["q", *FACETS, "from", "to", "page", "per_page", "sort"],  # every facet filters
    "version_content": ["action"],
    "access_log": ["user", "record", "from", "to", "format", "limit"],
}


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        name = rule.endpoint.split(".", 1)[1]
        view = current_app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        params: list[dict[str, Any]] = [
            {"name": arg, "in": "path", "required": True, "schema": {"type": "string"}}
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
                "responses": {"200": {"description": "OK"}, "401": {"description": "no token"}},
            }
            if name in BODIES:
                schema = {"type": "object", **BODIES[name]}
                operation["requestBody"] = {"content": {"application/json": {"schema": schema}}}
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Archive API", "version": "1"},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


@api.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 document of this API (no token needed: it holds no data)."""
    return jsonify(document())
