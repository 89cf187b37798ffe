"""Retention refusals worded for the page, in its language: the services' messages are for
logs, the API and the CLI; a person at a form needs the why and the what-to-do in Chinese."""

from __future__ import annotations

from flask_babel import gettext as _

from retention.errors import Unnumbered


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
