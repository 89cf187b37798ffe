"""Reading content: a version's (or rendition's) wrapped data key, then its verified plaintext."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from archive.content.seal import (
    ContentDestroyed,
    ContentError,
    PlainRange,
    Plaintext,
    content_binding,
    unseal,
    unseal_range,
)
from archive.core import Archive
from archive.crypto import WrappedKey
from archive.models import DataKey, Rendition, RenditionRole, Version

#: Built once, as every read runs it: a statement object used again skips SQLAlchemy's
#: per-call building and cache-key work. Two columns, not the entity, for the same reason.
_WRAPPED_KEY = select(DataKey.kek_id, DataKey.wrapped).where(
    DataKey.version_id == bindparam("version_id"), DataKey.role == bindparam("role")
)


def _wrapped_key(session: Session, version: Version, role: str) -> WrappedKey:
    """The wrapped data key of the version's ``role``; :class:`ContentDestroyed` if gone."""
    row = session.execute(_WRAPPED_KEY, {"version_id": version.id, "role": role}).first()
    if row is None or row.wrapped is None or row.kek_id is None:
        raise ContentDestroyed(f"the content of {version.name} was destroyed")
    return WrappedKey(row.kek_id, row.wrapped)


def _sealed(session: Session, version: Version, role: str) -> tuple[str, WrappedKey]:
    """Where the version's ``role`` is stored, and its wrapped data key."""
    object_key = version.object_key
    if role != RenditionRole.ORIGINAL:
        rendition = session.scalar(
            select(Rendition).where(Rendition.version_id == version.id, Rendition.role == role)
        )
        if rendition is None:
            raise ContentError(f"{version.name} has no {role} rendition")
        object_key = rendition.object_key
    return object_key, _wrapped_key(session, version, role)


def read_content(
    arc: Archive, session: Session, version: Version, role: str = RenditionRole.ORIGINAL
) -> Plaintext:
    """The verified plaintext of ``version`` (or its rendition ``role``), segment by segment.

    Raises now if the key was destroyed or the blob is missing, and while iterating if the
    content was altered. This is the core read primitive; access control is the caller's
    job (the gated reader). Close what is returned if it is not read to the end.
    """
    object_key, wrapped = _sealed(session, version, role)
    return unseal(arc, object_key, wrapped, content_binding(version.id, role).decode())


@dataclass(frozen=True)
class SealedText:
    """Where a version's rendition is stored and its wrapped key: enough to read a range."""

    version_id: uuid.UUID
    object_key: str
    wrapped: WrappedKey


def sealed_renditions(
    session: Session, version_ids: Iterable[uuid.UUID], role: str
) -> dict[uuid.UUID, SealedText]:
    """The ``role`` rendition of each of ``version_ids`` that has one and whose key was not
    destroyed, in one query (a search's snippets read a dozen of them at once)."""
    rows = session.execute(
        select(Rendition.version_id, Rendition.object_key, DataKey.kek_id, DataKey.wrapped)
        .join(
            DataKey,
            (DataKey.version_id == Rendition.version_id) & (DataKey.role == Rendition.role),
        )
        .where(Rendition.version_id.in_(list(version_ids)), Rendition.role == role)
    )
    return {
        version_id: SealedText(version_id, object_key, WrappedKey(kek_id, wrapped))
        for version_id, object_key, kek_id, wrapped in rows
        if kek_id is not None and wrapped is not None
    }


def read_sealed_range(
    arc: Archive, sealed: SealedText, role: str, start: int, length: int
) -> PlainRange:
    """The verified plaintext of the segments of a rendition found by
    :func:`sealed_renditions` that hold bytes ``start`` to ``start + length``. Access
    control is the caller's job."""
    binding = content_binding(sealed.version_id, role).decode()
    return unseal_range(arc, sealed.object_key, sealed.wrapped, binding, start, length)


def read_content_range(
    arc: Archive, session: Session, version: Version, role: str, start: int, length: int
) -> PlainRange:
    """The verified plaintext of the segments of ``version``'s ``role`` that hold bytes
    ``start`` to ``start + length`` (see :func:`~archive.content.seal.unseal_range`): what a
    search snippet reads. Access control is the caller's job, as for :func:`read_content`."""
    object_key, wrapped = _sealed(session, version, role)
    binding = content_binding(version.id, role).decode()
    return unseal_range(arc, object_key, wrapped, binding, start, length)
