"""Words for the codes the archive stores (roles, levels, states, classes, audit actions), in
the page's language, and the Jinja filters that print them, dates in Beijing time and sizes.

The pages' own msgids come first; every other code is looked up in the archive's vocabulary
(:mod:`archive.vocabulary`, Chinese and English), which certificates and the audit trail's
CSV use too, so an action or a class has one name wherever it is printed."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import date, datetime
from html import unescape
from typing import Any

from flask import Flask
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from archive.vocabulary import ACTIONS, TERMS, pick

LABELS: dict[str, Any] = {
    # roles
    "specialist": _l("Specialist"),
    "supervisor": _l("Supervisor"),
    "director": _l("Director"),
    "records_manager": _l("Records manager"),
    "auditor": _l("Auditor"),
    "admin": _l("Administrator"),
    "security_admin": _l("Security administrator"),
    "department_head": _l("Department head"),
    # the description (DA/T 46): field names, with the Chinese term in English too
    "sensitivity": _l("Sensitivity (密级)"),
    "author": _l("Author (责任者)"),
    "doc_number": _l("Document number (文号)"),
    "remarks": _l("Remarks (备注)"),
    "page_count": _l("Pages (页数)"),
    # where a described value came from (ingest.describe, ingest.metadata)
    "explicit": _l("given at filing"),
    "sidecar": _l("the metadata file sent with it"),
    "text:number_line": _l("the 文号 line at the head of the text"),
    "text:labelled_line": _l("a labelled line of the text"),
    "text:issuer_mark": _l("the issuing unit's mark above the 文号"),
    "text:signature": _l("the signature (落款) above the date"),
    "manual": _l("corrected by a records manager"),
    # sensitivity
    "public": _l("Public"),
    "internal": _l("Internal"),
    "confidential": _l("Confidential"),
    "restricted": _l("Restricted"),
    # access scopes and request states
    "view": _l("View"),
    "download": _l("Download"),
    "print": _l("Print"),
    "external": _l("External use"),
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "denied": _l("Refused"),
    "rejected": _l("Rejected"),
    "head": _l("Department head"),
    "allowed": _l("Allowed"),
    "refused": _l("Refused"),
    "metadata": _l("Metadata"),
    "search": _l("Search"),
    "many_reads": _l("Many reads in an hour"),
    "after_hours": _l("Reads outside working hours"),
    "refusals": _l("Repeated refusals"),
    "fixity": _l("Fixity check failed"),
    # record states
    "active": _l("Active"),
    "on_hold": _l("On hold"),
    "disposed": _l("Destroyed"),
    "transferred": _l("Transferred"),
    # ingest
    "queued": _l("Queued"),
    "processing": _l("Processing"),
    "received": _l("Received"),
    "extracting": _l("Extracting"),
    "ocr": _l("OCR"),
    "storing": _l("Storing"),
    "stored": _l("Stored"),
    "duplicate": _l("Duplicate"),
    "quarantined": _l("Quarantined"),
    "done": _l("Done"),
    # retention
    "filed": _l("Filing date"),
    "year_end": _l("End of the filing year"),
    "fiscal_year_end": _l("End of the fiscal year"),
    "event": _l("Event"),
    "review": _l("Review"),
    "destroy": _l("Destroy"),
    "transfer": _l("Transfer"),
    "extend": _l("Keep longer"),
    "reschedule": _l("Move to another schedule"),
    "records": _l("Named records"),
    "project": _l("Project"),
    "query": _l("Query"),
    "draft": _l("Draft"),
    "signing": _l("Signing"),
    "executed": _l("Executed"),
    "cancelled": _l("Cancelled"),
    "permanent": _l("Permanent"),
    "waiting": _l("Waiting for an event"),
    "running": _l("Running"),
    "due": _l("Due"),
    "held": _l("Held"),
    "unscheduled": _l("No schedule"),
    # filing units (件 / 案卷) and the periods that bind volumes
    "item": _l("By item (件)"),
    "volume": _l("By volume (案卷)"),
    "month": _l("Bound by month"),
    "year": _l("Bound by year"),
    # business processes, stages and record types of the shipped rule book and file plan
    "strategy": _l("Strategy"),
    "marketing": _l("Marketing"),
    "finance": _l("Finance"),
    "hr": _l("Human resources"),
    "procurement": _l("Procurement"),
    "rnd": _l("R&D"),
    "initiation": _l("Initiation"),
    "approval": _l("Approval"),
    "execution": _l("Execution"),
    "monitoring": _l("Monitoring"),
    "acceptance": _l("Acceptance"),
    "contract": _l("Contract"),
    "labour_contract": _l("Labour contract"),
    "minutes": _l("Minutes"),
    "acceptance_report": _l("Acceptance report"),
    "report": _l("Report"),
    "application": _l("Application form"),
    "approval_opinion": _l("Approval opinion"),
    "voucher": _l("Accounting voucher"),
    "ledger": _l("Ledger"),
    "annual_financial_report": _l("Annual financial report"),
    "monthly_report": _l("Monthly report"),
    "general": _l("General"),
    "archival_work": _l("Archival work"),
    "closed": _l("Closed"),
    "destroyed": _l("Destroyed"),
    "skipped": _l("Not carried out"),
    "disposition_register": _l("Disposition register"),
    # the 四性 checks (ingest.checks.ORDER): the one a quarantined job failed is named by these
    "authenticity.digest": _l("Authenticity: the digest matches"),
    "authenticity.metadata_valid": _l("Authenticity: valid metadata"),
    "authenticity.reference_code": _l("Authenticity: valid reference code"),
    "integrity.required_metadata": _l("Integrity: required metadata present"),
    "integrity.item_numbers": _l("Integrity: item numbers without gaps"),
    "integrity.content_present": _l("Integrity: content present"),
    "security.virus_scan": _l("Security: virus scan"),
    "security.write_permitted": _l("Security: allowed to write into the record"),
    "usability.allowed_format": _l("Usability: a format allowed for long-term keeping"),
    "usability.not_encrypted": _l("Usability: not encrypted"),
    "usability.opens": _l("Usability: opens and parses"),
    "security.controlled_process": _l("Security: a controlled process"),
}


def label(value: object) -> str:
    """The word for a stored code; the code itself when the archive knows no word for it
    (a class a records manager invented). ``administration`` (the process, 行政办公) comes
    from the vocabulary: the pages' msgid of that name is the administrators' menu."""
    if value is None or value == "":
        return "—"
    key = value.value if isinstance(value, enum.Enum) else str(value)
    if key in LABELS:
        return str(LABELS[key])
    found = ACTIONS.get(key) or TERMS.get(key)
    return pick(found, str(get_locale() or "zh")) if found else key


def when(value: datetime | date | None, style: str = "medium") -> str:
    """A moment in Beijing time (Flask-Babel's default zone), or a date as it is."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return str(format_datetime(value, style))
    return str(format_date(value, style))


def filesize(size: int | None) -> str:
    if size is None:
        return "—"
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TB"


#: How the search facade marks a matched word (Whoosh's HtmlFormatter, text escaped).
_MATCH = re.compile(r'<mark class="match term\d+">(.*?)</mark>', re.DOTALL)


def snippet(fragment: str) -> Markup:
    """A search snippet with its matched words in ``<mark>``. The words around them are a
    document's text, never trusted as HTML: everything is unescaped and escaped again here,
    so only the marks the facade put in come through as tags."""
    parts: list[Markup] = []
    last = 0
    for match in _MATCH.finditer(fragment):
        parts.append(escape(unescape(fragment[last : match.start()])))
        parts.append(Markup("<mark>%s</mark>") % unescape(match.group(1)))
        last = match.end()
    parts.append(escape(unescape(fragment[last:])))
    return Markup("").join(parts)


def _at_render(function: Callable[..., str]) -> Callable[..., str]:
    """Jinja works out a plain filter over a literal (``'view'|label``) once, when it compiles
    the template, in the language of that first request; a context filter runs every time."""

    @pass_context
    def call(_context: Context, *args: Any, **kwargs: Any) -> str:
        return function(*args, **kwargs)

    return call


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        label=_at_render(label), when=_at_render(when), filesize=filesize, snippet=snippet
    )
