"""The REST API (``/api/v1``): bearer tokens, JSON in and out, one module per resource.

Each module adds its views to the one blueprint of :mod:`access.api.common` when imported;
:data:`RESOURCES` imports them all here, so :func:`blueprint` hands the factory a complete
API and the list of resources is written down in one place.
"""

from __future__ import annotations

from flask import Blueprint

from access.api import (
    access_log,
    audit_trail,
    common,
    disposition,
    documents,
    holds,
    openapi,
    records,
    requests,
    retention,
    retention_records,
    search,
)

RESOURCES = (
    documents,
    search,
    records,
    requests,
    access_log,
    audit_trail,
    retention,
    retention_records,
    holds,
    disposition,
    openapi,
)


def blueprint() -> Blueprint:
    """The API with every resource's views on it."""
    return common.api
