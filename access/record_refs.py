"""Records as people and programs name them: by 档号 (what people know) or by id. One
resolver for the web forms, the API and the filters, so a 档号 is accepted wherever an id is.

A token that names no record is refused by name. Given ``may_see``, a 档号 of a record the
caller may not know of is refused exactly like a 档号 that does not exist: the refusal tells
nobody which codes are in use."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import InvalidInput
from archive.models import Record

#: What separates records typed in one field: spaces, commas, 、 and semicolons.
SEPARATORS = re.compile(r"[\s,，、;；]+")


class UnknownRecord(InvalidInput):
    """Tokens that are neither a known 档号 nor a record id; ``tokens`` says which (all of
    them, so a person corrects the field once)."""

    def __init__(self, tokens: list[str]) -> None:
        named = ", ".join(tokens)
        verb = "is" if len(tokens) == 1 else "are"
        super().__init__(f"{named} {verb} neither a reference code (档号) nor a record id")
        self.tokens = tokens


def split_tokens(raw: str) -> list[str]:
    return [t for t in SEPARATORS.split(raw.strip()) if t]


def as_uuid(token: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(token)
    except ValueError:
        return None


def resolve(
    session: Session,
    tokens: Iterable[str],
    may_see: Callable[[Record], bool] | None = None,
) -> list[uuid.UUID]:
    """The records ``tokens`` name, in order, once each. An id passes as given (whether the
    caller may act on it is the service's decision, answered as for a missing record)."""
    wanted = [str(t).strip() for t in tokens if str(t).strip()]
    codes = [t for t in wanted if as_uuid(t) is None]
    known: dict[str, Record] = {}
    if codes:
        rows = session.scalars(select(Record).where(Record.reference_code.in_(codes)))
        known = {r.reference_code: r for r in rows if r.reference_code}
    found: list[uuid.UUID] = []
    unknown: list[str] = []
    for token in wanted:
        as_id = as_uuid(token)
        if as_id is not None:
            found.append(as_id)
            continue
        record = known.get(token)
        if record is None or (may_see is not None and not may_see(record)):
            unknown.append(token)
        else:
            found.append(record.id)
    if unknown:
        raise UnknownRecord(list(dict.fromkeys(unknown)))
    return list(dict.fromkeys(found))
