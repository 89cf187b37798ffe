"""A rendition made after its version was stored (an office document archived before office
renditions existed gets its PDF): the version and its original are untouched, a new object
is sealed and filed beside them, with its own data key, like one made at ingest."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from archive.audit import Actor, record_event
from archive.content.filing import RenditionSource, add_blob_rows
from archive.content.seal import upload
from archive.core import Archive
from archive.models import DataKey, Rendition, RenditionRole, Version


def add_rendition(
    arc: Archive, actor: Actor, version_id: uuid.UUID, rendition: RenditionSource
) -> bool:
    """File ``rendition`` beside version ``version_id``; False (and nothing kept) if the
    version has one of that role already, or its content was destroyed meanwhile."""
    blob = upload(arc, rendition.source, version_id, rendition.role)
    try:
        with arc.transaction() as session:
            version = session.get(Version, version_id, with_for_update=True)
            original = session.scalar(
                select(DataKey.wrapped).where(
                    DataKey.version_id == version_id, DataKey.role == RenditionRole.ORIGINAL
                )
            )
            taken = session.scalar(
                select(Rendition.id).where(
                    Rendition.version_id == version_id, Rendition.role == rendition.role
                )
            )
            if version is None or original is None or taken is not None:
                raise _Unfiled
            add_blob_rows(session, version_id, replace(blob, media_type=rendition.media_type))
            record_event(
                session,
                actor,
                "version.rendition_added",
                "version",
                version_id,
                {"name": version.name, "role": str(rendition.role), "sha256": blob.sha256},
            )
    except (_Unfiled, IntegrityError):
        with contextlib.suppress(Exception):
            arc.blobs.delete(blob.object_key)
        return False
    except BaseException:
        with contextlib.suppress(Exception):  # unreadable anyway: its key was never saved
            arc.blobs.delete(blob.object_key)
        raise
    return True


class _Unfiled(Exception):
    """The rendition is not wanted after all (see :func:`add_rendition`)."""
