"""What a person asks for in an access request, checked before anything is kept: the
purpose (利用目的), the scope, the period and, for external use (对外提供), who receives it.
Every problem comes back at once, each naming its field, so a form shows them all."""

from __future__ import annotations

from dataclasses import dataclass

from archive.config import AccessSettings
from archive.errors import DomainError, InvalidInput, raise_all
from archive.models import Scope

#: The longest purpose, justification or reason kept.
MAX_TEXT = 2000


def required_text(value: str, what: str, field: str) -> str:
    """``value`` without control characters and spaces around it; refused if empty or long."""
    cleaned = "".join(ch for ch in value if ch.isprintable() or ch in "\n\t").strip()
    if not cleaned:
        raise InvalidInput(f"a {what} is required", code="required", field=field)
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput(
            f"the {what} is longer than {MAX_TEXT} characters",
            code="too_long",
            field=field,
            params={"n": MAX_TEXT},
        )
    return cleaned


#: The longest name of a receiving party (对外提供).
MAX_RECIPIENT = 200


@dataclass(frozen=True)
class Asked:
    """A request's inputs as kept: scope, purpose, and for external use who receives it."""

    scope: Scope
    purpose: str
    recipient: str | None = None


def checked_request(
    settings: AccessSettings, purpose: str, scope: str, days: int, recipient: str = ""
) -> Asked:
    """A request's scope and purpose as kept, or every problem with its inputs at once (in
    the form's order: the first is where a page puts the focus). External use names who
    receives the record; the other scopes keep no recipient."""
    problems: list[DomainError] = []
    why = ""
    try:
        why = required_text(purpose, "purpose", "purpose")
    except InvalidInput as exc:
        problems.append(exc)
    wanted = Scope.VIEW
    try:
        wanted = Scope(scope)
    except ValueError:
        problems.append(
            InvalidInput(
                "scope must be view, download, print or external", code="scope", field="scope"
            )
        )
    receiver = None
    if wanted == Scope.EXTERNAL:
        try:
            receiver = " ".join(required_text(recipient, "recipient", "recipient").split())
        except InvalidInput as exc:
            problems.append(exc)
        if receiver is not None and len(receiver) > MAX_RECIPIENT:
            problems.append(
                InvalidInput(
                    f"the recipient is longer than {MAX_RECIPIENT} characters",
                    code="too_long",
                    field="recipient",
                    params={"n": MAX_RECIPIENT},
                )
            )
    if not 1 <= days <= settings.max_days:
        problems.append(
            InvalidInput(
                f"days must be between 1 and {settings.max_days}",
                code="days_range",
                field="days",
                params={"n": settings.max_days},
            )
        )
    raise_all(problems)
    return Asked(wanted, why, receiver)
