"""What retention refuses, and why, in one sentence a records manager can act on."""

from __future__ import annotations

import uuid
from typing import Any


class RetentionError(ValueError):
    """Bad input or a state that does not allow the action (HTTP 400)."""

    status = 400


class NotFound(RetentionError):
    status = 404


class Conflict(RetentionError):
    """The action does not fit the current state (a list already signed, say)."""

    status = 409


class Held(Conflict):
    """A hold blocks the action; the refusal is audited before this propagates."""

    def __init__(self, record_id: uuid.UUID, action: str, holds: list[dict[str, Any]]) -> None:
        names = ", ".join(f"#{hold['id']} {hold['name']}" for hold in holds)
        super().__init__(f"record {record_id} is on hold ({names}): {action} refused")
        self.record_id = record_id
        self.action = action
        self.holds = holds
