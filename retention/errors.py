"""What retention refuses, and why, in one sentence a records manager can act on."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from archive.errors import DomainError, ErrorKind
from archive.models import Record
from archive.vocabulary import term


class RetentionError(DomainError, ValueError):
    """Bad input or a state that does not allow the action."""


class NotFound(RetentionError):
    kind = ErrorKind.NOT_FOUND


class Conflict(RetentionError):
    """The action does not fit the current state (a list already signed, say)."""

    kind = ErrorKind.CONFLICT


class Held(Conflict):
    """A hold blocks the action; the refusal is audited before this propagates."""

    def __init__(
        self, record_id: uuid.UUID, action: str, holds: list[dict[str, Any]], name: str = ""
    ) -> None:
        names = ", ".join(f"#{hold['id']} {hold['name']}" for hold in holds)
        super().__init__(
            f"record {name or record_id} is on hold ({names}): {action} refused",
            code="held",
            params={
                "holds": "、".join(str(hold["name"]) for hold in holds),
                "name": name or str(record_id),
            },
        )
        self.record_id = record_id
        self.action = action
        self.holds = holds


class Unnumbered(Conflict):
    """A record without its 档号 cannot go on a destruction or transfer list: what leaves
    the archive, or is destroyed, is named by its 档号 on the register. ``reason`` says why it
    has none (``review``: its class waits for review; ``unscheduled``: no schedule applies;
    ``pending``: not numbered yet) so each way in can say what to do in its own language."""

    ADVICE: ClassVar[dict[str, str]] = {
        "review": "its class waits for review: settle it in the classification review queue",
        "unscheduled": "no retention schedule applies to its class: correct the class, or add "
        "a schedule for it to the file plan",
        "pending": "it is not numbered yet: run the sweep (archive retention sweep), then "
        "try again",
    }

    def __init__(self, name: str, reason: str, action: str) -> None:
        super().__init__(
            f"record {name} has no 档号 yet, so it cannot go on a {action} list: "
            f"{self.ADVICE[reason]}"
        )
        self.name = name
        self.reason = reason
        self.action = action


#: Why a listed record was not disposed of, as the list and its register say it.
NOT_DUE = "已不到处置期（复审或事件推迟了处置日期）"


def already(record: Record) -> str:
    """The record is no longer active (destroyed, transferred …)."""
    return f"档案已{term(record.state.value).removeprefix('已')}"


def held_note(refusal: Held) -> str:
    """The holds that kept the record, by number and name."""
    return "冻结中：" + "、".join(f"#{hold['id']} {hold['name']}" for hold in refusal.holds)
