"""Group commit: many threads' small write jobs run in one transaction, committed once.

Readers append to the access log before their first byte is sent, and appends to a hash chain
are serialised. One transaction (and one flush to disk) per read would make readers queue
behind each other's commits; here the first thread to arrive leads, takes every job waiting,
runs them all in one transaction and commits, while the threads that arrive meanwhile wait for
the next batch. No thread waits for a timer: a batch is whatever queued up while the last one
was committing, so a lone reader is served as fast as before.

Each job is a plain function of the session, pure database work (deciding, appending): what
it returns reaches its caller only after the commit. If a batch fails for any reason but a
busy database, its jobs run again one by one, so one job's error is its own. If the database
was busy past the lock wait, the jobs queued meanwhile fail with it: they would otherwise
wait a whole lock wait more each, batch after batch (20 s, 40 s, 60 s).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from archive.db import lock_contention

T = TypeVar("T")


@dataclass(eq=False)
class _Pending:
    job: Callable[[Session], Any]
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    finished: bool = False
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Batches write jobs from concurrent threads of one process into shared transactions."""

    def __init__(
        self, transaction: Callable[[], AbstractContextManager[Session]], max_batch: int = 64
    ) -> None:
        self._transaction = transaction
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Pending] = []
        self._leading = False
        #: Transactions committed or tried, and jobs run: what batching saved, for benchmarks.
        self.batches = 0
        self.jobs = 0

    @property
    def queued(self) -> int:
        """Jobs waiting for a batch (not counting the one being committed)."""
        with self._lock:
            return len(self._waiting)

    def run(self, job: Callable[[Session], T]) -> T:
        """Run ``job`` in a write transaction (maybe shared); return once it is committed."""
        me = _Pending(job)
        with self._lock:
            self._waiting.append(me)
            if not self._leading:
                self._leading = me.lead = True
        if not me.lead:
            me.wake.wait()  # woken when finished, or when handed the lead
        if not me.finished:
            self._lead()
        if me.error is not None:
            raise me.error
        result: T = me.result
        return result

    def _lead(self) -> None:
        with self._lock:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
        try:
            self._execute(batch)
        finally:
            with self._lock:
                error = batch[0].error
                busy = error if error is not None and lock_contention(error) else None
                if busy is not None:  # the ones queued meanwhile have waited the lock wait too
                    batch += self._waiting
                    for pending in self._waiting:
                        pending.error = busy
                    self._waiting.clear()
                if self._waiting:  # hand the lead to the longest waiting
                    self._waiting[0].lead = True
                    self._waiting[0].wake.set()
                else:
                    self._leading = False
            for pending in batch:
                pending.finished = True
                pending.wake.set()

    def _execute(self, batch: list[_Pending]) -> None:
        try:
            self._commit(batch)
        except BaseException as exc:  # every waiter is told, none left hanging
            if len(batch) == 1 or lock_contention(exc) or not isinstance(exc, Exception):
                for pending in batch:
                    pending.error = exc
                return
            for pending in batch:  # one job's fault must not fail the others
                try:
                    self._commit([pending])
                except BaseException as own:  # delivered to its caller
                    pending.error = own

    def _commit(self, batch: list[_Pending]) -> None:
        with self._lock:
            self.batches += 1
            self.jobs += len(batch)
        with self._transaction() as session:
            results = [pending.job(session) for pending in batch]
        for pending, result in zip(batch, results, strict=True):
            pending.result, pending.error = result, None
