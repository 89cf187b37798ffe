"""Refusals worded for the page, in its language, from one catalogue: the services' messages
are English for logs, the API and the CLI; a service error that carries a ``code`` is said
here in the reader's language (with its ``params``), whichever page shows it."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from access.web.labels import label
from retention.errors import Unnumbered

#: Every coded rule a person can run into (``DomainError.code``), in the page's language.
MESSAGES: dict[str, Any] = {
    # the search page (access.browse)
    "search_date": _l("%(v)s is not a date: give it like 2026-01-31."),
    "search_paging": _l("Pages are numbered from 1, with at most %(n)s results on a page."),
    "search_sort": _l("Results are sorted by relevance or by date."),
    "search_deep": _l(
        "Only the first %(n)s results can be paged through: narrow the search with more "
        "words or a filter."
    ),
    "search_words": _l(
        "These words cannot be searched: give at least one word, and close every quote and bracket."
    ),
    # people and privileged changes (archive.people, archive.privileges)
    "password_needs_approval": _l(
        "This person's password is reset by approval, not typed here: tick “Reset the "
        "password” and the approving security administrator receives a one-time password."
    ),
    "password_on_approval": _l(
        "A privileged account gets a one-time password when it is approved: leave the "
        "password empty."
    ),
    "pending": _l(
        "A change for this person already waits for approval: cancel it or wait for the decision."
    ),
    "not_admin": _l("Only an administrator asks for changes to people."),
    "not_security_admin": _l("Only a security administrator decides privileged changes."),
    "own_request": _l("Nobody decides a change they asked for."),
    "own_account": _l("Nobody decides a change to their own account."),
    "changed_since": _l("The person has changed since the request: reject it and ask again."),
    "requester_gone": _l("The requester is no longer an administrator: reject the change."),
    "decided": _l("This change has been decided already."),
    "unknown": _l("No such change."),
    "reason": _l("A rejection needs a reason."),
    "username_format": _l("A user name is 2 to 64 letters, digits, or . _ @ -."),
    "username_taken": _l("That user name is taken."),
    "department": _l("Specialists, supervisors and directors belong to a department."),
    "department_code": _l("A department code is 1 to 16 capital letters or digits."),
    "department_taken": _l("A department with this code or name exists already."),
    # any form
    "required": _l("Fill this in."),
    "too_long": _l("At most %(n)s characters."),
    "password": _l("Enter your own password to confirm this action."),
    "password_wrong": _l(
        "The password is not right: enter your own password to confirm this action."
    ),
    "date": _l("Enter a date like 2026-01-31."),
    "choose": _l("Choose one of the values offered."),
    "no_entry": _l("No such entry."),
    "already_done": _l("This was done already: the page was out of date."),
    "quarter": _l("A quarter looks like 2026Q3."),
    # access requests and the green channel (access.requests)
    "no_record": _l("No such record, or it is not yours to see."),
    "scope": _l("Choose what you need: view, download, print or external use."),
    "days_range": _l("Ask for 1 to %(n)s days."),
    "duplicate_request": _l(
        "You already asked for this on %(when)s; that request waits for a decision."
    ),
    "own_access_request": _l("Nobody decides their own request."),
    "request_decided": _l("This request has been decided already."),
    "other_approver": _l("This step waits for another approver."),
    "emergency_role": _l("Only supervisors and directors open the green channel."),
    "emergency_clearance": _l("The green channel opens nothing above your clearance."),
    "emergency_external": _l(
        "The green channel never opens external use: ask for it with a normal request."
    ),
    "hours_range": _l("Open it for 1 to %(n)s hours."),
    "above_clearance": _l(
        "This record is %(level)s, above your clearance (%(clearance)s): no request can open "
        "it. A security administrator approves a higher clearance."
    ),
    "record_gone": _l(
        "This record is %(state)s: its content is no longer here, so access to it can be "
        "neither asked for nor given."
    ),
    "requester_clearance": _l(
        "This record is %(level)s, above the requester's clearance (%(clearance)s): the "
        "request can only be refused."
    ),
    # retention: lists, holds, events, appraisal (retention.*)
    "record_state": _l("%(name)s is not active (%(state)s): it cannot go on a list."),
    "not_due": _l("%(name)s is not due yet: kept until %(due)s, eligible from %(eligible)s."),
    "never_due": _l("%(name)s is never due: it is kept permanently or its clock has not started."),
    "on_other_list": _l("%(name)s is already on list %(list)s."),
    "list_state": _l("List %(list)s is %(state)s now: this step is not possible."),
    "no_list": _l("No such list."),
    "witness_not_executed": _l("The list has not been executed yet: nothing to witness."),
    "witness_closed": _l("The list is closed: every witness has signed."),
    "witness_executor": _l("You carried out this destruction: someone else witnesses it (监销)."),
    "reason_short": _l(
        "Give a reason (at least %(hanzi)s Chinese characters or %(letters)s letters): it is "
        "kept for the audit."
    ),
    "held": _l("Record %(name)s is on hold (%(holds)s): release the hold first."),
    "record_not_kept": _l(
        "%(name)s is no longer kept here (%(state)s): there is nothing left to hold, and no "
        "event changes its retention."
    ),
    "hold_query": _l("A hold on a query needs at least one condition."),
    "receiver_transfer": _l("Only a transfer list has a receiving party."),
    "list_empty": _l("The list is empty: add records first."),
    "list_altered": _l(
        "List %(list)s is not what was signed: its content changed after it was submitted. "
        "Nothing was carried out; tell the security auditor and send the list back."
    ),
    "list_opinion": _l("The list needs an appraisal opinion (鉴定意见) before signing."),
    "list_receiver": _l("A transfer list needs its receiving party (接收方)."),
    "no_signature": _l("You have no signature to give on this list."),
    "sign_as": _l("You may sign in more than one capacity: choose which."),
    "no_project": _l("No project is called %(name)s."),
    "event_type": _l("Unknown event type: add it to the file plan first."),
    "event_target": _l("An event belongs to a project or to a record, not both."),
    "event_no_target": _l("Give the project the event happened to, or choose one record."),
    "event_future": _l("An event cannot be recorded before it happens."),
    "years_range": _l("Give 1 to %(n)s years."),
    "extend_needs": _l("To extend, give a date to keep it until, or a number of years."),
    "not_extended": _l("%(until)s does not extend it: it is kept until %(due)s already."),
    "retention_code": _l("A retention code (保管期限) is Y, or D and years: D10, D30."),
    "category_code": _l("A category (门类) code is 1 to 4 capital letters: WS, KJ…"),
    "schedule_key": _l("A key is lower-case letters, digits and _ (e.g. voucher)."),
    "schedule_choice": _l("“%(value)s” is not one of the choices: choose one from the list."),
    "schedule_record_type": _l(
        "A record type is a code of lower-case letters, digits and _ (e.g. contract): choose "
        "one from the list, or give a new code and name it in the schedule's name."
    ),
    "schedule_no_event": _l("It counts from an event: choose the event or events."),
    "schedule_events_unused": _l(
        "Events are chosen but it does not count from an event: choose “event” or no event."
    ),
    # classification rules (ingest.classify, ingest.rules)
    "rule_pattern": _l("This is not a valid regular expression: %(detail)s"),
    "rule_condition": _l(
        "A rule needs a condition: keywords, a pattern, a file name or a folder pattern."
    ),
    "rule_class": _l("A rule must set something: a process, a stage, a record type or a level."),
    "rule_confidence": _l("Confidence is a number above 0 and at most 1."),
}


def explain(exc: Exception) -> str:
    """A refusal as the reader should see it: the translated rule when there is one, else
    the message as raised (the pages raise theirs already translated)."""
    if isinstance(exc, Unnumbered):
        return unnumbered_message(exc)
    code = getattr(exc, "code", "")
    if isinstance(code, str) and code in MESSAGES:
        params: dict[str, Any] = dict(getattr(exc, "params", {}) or {})
        for coded in ("state", "level", "clearance"):  # codes: said in the reader's words
            if coded in params:
                params[coded] = label(params[coded])
        try:
            message: str = str(MESSAGES[code]) % params if params else str(MESSAGES[code])
        except (KeyError, TypeError, ValueError):  # a rule raised without its values
            return str(exc)
        return message
    return str(exc)


def unnumbered_message(refusal: Unnumbered) -> str:
    """Why a record without a 档号 cannot go on the list, and what to do about it."""
    if refusal.action == "transfer":
        head = _("%(name)s cannot go on a transfer list: it has no 档号 yet.", name=refusal.name)
    else:
        head = _("%(name)s cannot go on a destruction list: it has no 档号 yet.", name=refusal.name)
    if refusal.reason == "review":
        advice = _(
            "Its class waits for review: settle it in the classification review queue first."
        )
    elif refusal.reason == "unscheduled":
        advice = _(
            "No retention schedule applies to its class: correct its class, or add a schedule "
            "for it to the file plan."
        )
    else:
        advice = _("It is not numbered yet: run the sweep, then try again.")
    # Two sentences: a space between them in English, none in Chinese.
    message: str = _("%(refusal)s %(advice)s", refusal=head, advice=advice)
    return message
