"""Storing and reading content: the one path every byte takes in and out of the archive.

:mod:`~archive.content.seal` encrypts and decrypts streams, :mod:`~archive.content.filing`
names and files a version (:func:`store`), :mod:`~archive.content.read` reads one back.
"""

from archive.content.filing import (
    NewRecord,
    RenditionSource,
    VersionFacts,
    filing_date,
    store,
)
from archive.content.read import read_content
from archive.content.seal import (
    ContentDestroyed,
    ContentError,
    ContentTooLarge,
    Sealed,
    content_binding,
    seal,
    staging_binding,
    unseal,
)

__all__ = [
    "ContentDestroyed",
    "ContentError",
    "ContentTooLarge",
    "NewRecord",
    "RenditionSource",
    "Sealed",
    "VersionFacts",
    "content_binding",
    "filing_date",
    "read_content",
    "seal",
    "staging_binding",
    "store",
    "unseal",
]
