"""What retention refuses, and why, in one sentence a records manager can act on."""

from __future__ import annotations

import uuid
from typing import Any

from archive.errors import DomainError, ErrorKind


class RetentionError(DomainError, ValueError):
    """Bad input or a state that does not allow the action."""


class NotFound(RetentionError):
    kind = ErrorKind.NOT_FOUND


class Conflict(RetentionError):
    """The action does not fit the current state (a list already signed, say)."""

    kind = ErrorKind.CONFLICT


class Held(Conflict):
    """A hold blocks the action; the refusal is audited before this propagates."""

    def __init__(self, record_id: uuid.UUID, action: str, holds: list[dict[str, Any]]) -> None:
        names = ", ".join(f"#{hold['id']} {hold['name']}" for hold in holds)
        super().__init__(f"record {record_id} is on hold ({names}): {action} refused")
        self.record_id = record_id
        self.action = action
        self.holds = holds
