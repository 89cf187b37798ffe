"""Analysis in a pool of helper processes, so the single index writer only hashes and writes.

Analysis (NFKC, OpenCC, jieba) needs no key: the helpers return words, and the process that
holds the key hashes them. See :func:`_pool` for why billiard and why forked.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
from collections.abc import Iterator, Sequence
from typing import Any

import billiard

from search.analysis import words

#: A batch with less text than this is analysed in this process (the pool's round trip
#: would cost more); a pool task gets about :data:`_UNIT_CHARS` of text.
PARALLEL_CHARS = 64_000
_UNIT_CHARS = 32_000


def analyse(texts: Sequence[str]) -> list[str]:
    """Each text's index terms (:func:`search.analysis.words`), space-separated: the part of
    indexing that needs no key, run in the helper pool."""
    return [" ".join(words(text)) for text in texts]


def _die_with_parent() -> None:
    """In a pool helper: end when the process that started it ends (Linux)."""
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None, use_errno=True).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM


_POOL: tuple[int, Any] | None = None


def _pool() -> Any:
    """This process's analysis pool (:mod:`billiard`, Celery's multiprocessing: it may start
    helpers from a Celery worker's pool process, which the standard library refuses), one
    helper per core but one (this process writes meanwhile); None on one core. Forked: the
    helpers start at once with jieba's dictionary loaded. They inherit this process's
    memory, the index key in it, but never hash, and nothing they hold is written anywhere:
    only words come back."""
    global _POOL
    helpers = (os.cpu_count() or 1) - 1  # a core for this process: it writes meanwhile
    if helpers < 1:
        return None
    if _POOL is None or _POOL[0] != os.getpid():
        words("预热")  # jieba's dictionary, loaded before the fork
        _POOL = (os.getpid(), billiard.Pool(helpers, initializer=_die_with_parent))
    return _POOL[1]


def analysed_texts(texts: list[list[str]], parallel: bool | None) -> Iterator[list[str]]:
    """:func:`analyse` of each document's texts, in order: by the pool, in tasks of about
    :data:`_UNIT_CHARS` of text (a long document's pieces spread over the helpers), when the
    batch has at least :data:`PARALLEL_CHARS` of text or ``parallel`` says so."""
    size = sum(len(t) for doc in texts for t in doc)
    pool = _pool() if parallel or (parallel is None and size >= PARALLEL_CHARS) else None
    if pool is None:
        return (analyse(doc) for doc in texts)
    units: list[list[str]] = [[]]
    held = 0
    for text in itertools.chain.from_iterable(texts):
        if held >= _UNIT_CHARS:
            units.append([])
            held = 0
        units[-1].append(text)
        held += len(text)
    results = itertools.chain.from_iterable(pool.imap(analyse, units))  # queues them all
    return ([next(results) for _ in doc] for doc in texts)
