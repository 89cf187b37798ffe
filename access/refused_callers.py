"""Reads refused before anyone is signed in: a request for content with no API token, with
one that never existed, or with one that no longer opens anything (MISSION rule 6: every
access, refused ones too, with its address and time).

A spent token (expired, revoked, its account disabled) names its owner, so the line names
them; a caller nobody can name is logged as ``anonymous``. Either way at most
:data:`ANONYMOUS_LINES` lines per address in :data:`ANONYMOUS_WINDOW` seconds per process:
a made-up or an ended token can be sent at will, and would otherwise grow the hash-chained
log at will. Beyond that the 401 is still answered, unlogged (gunicorn's request line keeps
the address).
"""

from __future__ import annotations

import threading
import time
import uuid

from archive.accesslog import REFUSED, Client, log_access
from archive.core import Archive
from archive.models import Scope, Version
from archive.people import spent_token_owner

ANONYMOUS_LINES = 10
ANONYMOUS_WINDOW = 600.0
_TRACKED = 10_000  # addresses remembered at once; more, and the count starts again

_lock = threading.Lock()
_seen: dict[str | None, tuple[float, int]] = {}  # address → (window start, lines logged)


def _line_allowed(address: str | None, now: float | None = None) -> bool:
    """Whether another such line may be written for ``address`` now (and count it)."""
    now = time.monotonic() if now is None else now
    with _lock:
        if len(_seen) >= _TRACKED:
            _seen.clear()
        start, lines = _seen.get(address, (now, 0))
        if now - start >= ANONYMOUS_WINDOW:
            start, lines = now, 0
        if lines >= ANONYMOUS_LINES:
            return False
        _seen[address] = (start, lines + 1)
        return True


def log_refused_caller(
    arc: Archive, client: Client, token: str, action: str, version_id: object
) -> bool:
    """Log a content read refused for want of a valid token; returns whether it was logged."""
    with arc.sessions() as session:
        owner = spent_token_owner(session, token) if token else None
    if not _line_allowed(client.ip):  # a spent token can be replayed as often as none
        return False
    user, reason = owner if owner is not None else (None, "no valid API token")
    shown_action = action if action in {s.value for s in Scope} else Scope.VIEW.value
    with arc.sessions() as session:  # the record asked for, as every other line names it
        version = session.get(Version, version_id) if isinstance(version_id, uuid.UUID) else None
        record_id = version.record_id if version is not None else None
    arc.log_writes.run(
        lambda log: log_access(
            log,
            user,
            client,
            shown_action,
            REFUSED,
            record_id=record_id,
            version_id=version_id,
            reason=reason,
        )
    )
    return True
