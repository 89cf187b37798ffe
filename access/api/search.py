"""``GET /search``: what the caller may know exists, with filters, paging and facets."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from access.api.common import api, archive, requires
from access.browse import parse_search, search_as
from access.http import client_of_request
from access.policy import Permission


@api.get("/search")
@requires(Permission.SEARCH, "the {role} role reads no records")
def search() -> Any:
    """Search what the caller may know exists; filters, paging, facets. The words reach a
    record's text only where the caller may read it now (elsewhere its description alone).
    Without ``q``: every record the caller may know of, newest first, without snippets.
    Bad input: 400."""
    arc = archive()
    params = parse_search(request.args)
    results = search_as(arc, g.user.id, client_of_request(), params)
    return jsonify(
        total=results.total,
        page=params.page,
        hits=[
            {
                "record_id": hit.record_id,
                "version_id": hit.version_id,
                "title": hit.title,
                "name": hit.name,
                "project": hit.project,
                "department": hit.department,
                "sensitivity": hit.sensitivity,
                "author": hit.author or None,
                "doc_number": hit.doc_number or None,
                "reference_code": hit.reference_code or None,
                "filed": hit.filed.date().isoformat() if hit.filed else None,
                "dated": hit.dated or None,  # as given: 2014-06 when only the month is known
                "score": round(hit.score, 4),
                "snippet": hit.snippet,
            }
            for hit in results.hits
        ],
        facets=results.facets,
    )
