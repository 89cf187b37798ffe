"""Reading content: a version's (or rendition's) wrapped data key, then its verified plaintext."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.content.seal import ContentDestroyed, ContentError, content_binding, unseal
from archive.core import Archive
from archive.crypto import WrappedKey
from archive.models import DataKey, Rendition, RenditionRole, Version


def _wrapped_key(session: Session, version: Version, role: str) -> WrappedKey:
    """The wrapped data key of the version's ``role``; :class:`ContentDestroyed` if gone."""
    row = session.scalar(
        select(DataKey).where(DataKey.version_id == version.id, DataKey.role == role)
    )
    if row is None or row.wrapped is None or row.kek_id is None:
        raise ContentDestroyed(f"the content of {version.name} was destroyed")
    return WrappedKey(row.kek_id, row.wrapped)


def read_content(
    arc: Archive, session: Session, version: Version, role: str = RenditionRole.ORIGINAL
) -> Iterator[bytes]:
    """Yield the verified plaintext of ``version`` (or its rendition ``role``).

    Raises if it was altered or destroyed. This is the core read primitive; access control
    is the caller's job (the gated reader).
    """
    object_key = version.object_key
    if role != RenditionRole.ORIGINAL:
        rendition = session.scalar(
            select(Rendition).where(Rendition.version_id == version.id, Rendition.role == role)
        )
        if rendition is None:
            raise ContentError(f"{version.name} has no {role} rendition")
        object_key = rendition.object_key
    wrapped = _wrapped_key(session, version, role)
    return unseal(arc, object_key, wrapped, content_binding(version.id, role).decode())
