"""Access-log appends from many reader threads: one transaction each, or group commit.

Every read appends a hash-chained line and commits it before its first byte is sent, and
appends to the chain are serialised. Here ``--threads`` threads of one process (as in a
gunicorn gthread worker) each append ``--appends`` lines, first each in its own write
transaction (how readers logged before), then through :class:`archive.groupcommit.GroupCommit`
(one transaction for whatever queued while the last one committed). The limit beside them,
measured in the same run, is one thread appending alone: the chain's serial speed, which
threads in their own transactions cannot beat, and which group commit should.

    .venv/bin/python -P bench/log_append.py [--threads 1,8,32] [--appends 200] \
        [--database-url postgresql+psycopg://postgres@127.0.0.1/test] [--processes 1,2,4]

``--processes`` (SQLite): 8 threads spread over that many processes (two web workers, the
ingest and index workers), each process with its group commit, appending for ``--seconds``;
once as the archive runs (writers take turns at :mod:`archive.turnstile`), once with SQLite's
own busy handler alone, alternating. Beside throughput, the slowest appends: a stall there is
a request that hangs.

(``-P``: bench/search.py would otherwise shadow the ``search`` package.)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from archive import db
from archive.accesslog import ALLOWED, Client, log_access, verify_access_log
from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.groupcommit import GroupCommit

CLIENT = Client("10.0.0.8", "bench")


def _line(n: int) -> Callable[[Session], object]:
    def job(session: Session) -> object:
        return log_access(session, None, CLIENT, "view", ALLOWED, details=f"n={n}").seq

    return job


def _run(threads: int, appends: int, append: Callable[[int], object]) -> tuple[float, list[float]]:
    """Wall-clock seconds for all appends, and each append's latency (ms)."""
    latencies: list[float] = []
    lock = threading.Lock()
    start_line = threading.Barrier(threads + 1)

    def worker(base: int) -> None:
        mine = []
        start_line.wait()
        for n in range(appends):
            began = time.perf_counter()
            append(base + n)
            mine.append((time.perf_counter() - began) * 1000)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(t * appends,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    return time.perf_counter() - began, latencies


def _appender(
    home: str, threads: int, seconds: float, turnstile: bool, start: Any, out: Any
) -> None:
    """One process's threads appending through its group commit until the time is up."""
    if not turnstile:  # SQLite's own busy handler alone, as before the turnstile
        db.turnstile_path = lambda _database: None
    arc = Archive(load_settings({"ARCHIVE_HOME": home}))
    arc.log_writes.run(_line(0))  # connected, statements built
    latencies: list[float] = []
    lock = threading.Lock()
    start.wait()
    stop = time.monotonic() + seconds

    def worker() -> None:
        mine = []
        while time.monotonic() < stop:
            began = time.perf_counter()
            arc.log_writes.run(_line(0))
            mine.append((time.perf_counter() - began) * 1000)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    arc.close()
    out.put(latencies)


def _processes(home: str, counts: list[int], seconds: float) -> None:
    context = multiprocessing.get_context("spawn")
    for processes in counts:
        for turnstile in (True, False):
            start, out = context.Barrier(processes), context.Queue()
            pool = [
                context.Process(
                    target=_appender, args=(home, 8 // processes, seconds, turnstile, start, out)
                )
                for _ in range(processes)
            ]
            for process in pool:
                process.start()
            lat = sorted(value for _ in pool for value in out.get())
            for process in pool:
                process.join()
            how = "turnstile" if turnstile else "busy handler"
            print(
                f"  {processes} process(es) x {8 // processes} threads, {how:12} "
                f"{len(lat) / seconds:6.0f} lines/s  p50 {statistics.median(lat):6.1f}  "
                f"p95 {lat[int(len(lat) * 0.95)]:6.1f}  p99 {lat[int(len(lat) * 0.99)]:6.1f}  "
                f"max {lat[-1]:7.1f} ms"
            )


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,8,32")
    parser.add_argument("--appends", type=int, default=200, help="per thread")
    parser.add_argument("--database-url", help="PostgreSQL instead of the embedded SQLite")
    parser.add_argument("--processes", help="e.g. 1,2,4: appends from that many processes")
    parser.add_argument("--seconds", type=float, default=5, help="a round, with --processes")
    args = parser.parse_args()

    if args.processes:
        with tempfile.TemporaryDirectory() as home:
            arc = Archive(load_settings({"ARCHIVE_HOME": home}))
            initialize(arc, Actor.cli())
            arc.close()
            print(
                f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
                f"; SQLite (WAL, synchronous=FULL); 8 threads over the processes, "
                f"{args.seconds:.0f} s a round"
            )
            _processes(home, [int(p) for p in args.processes.split(",")], args.seconds)
        return

    with tempfile.TemporaryDirectory() as home:
        env = {"ARCHIVE_HOME": home}
        schema = None
        if args.database_url:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            env["ARCHIVE_DATABASE_URL"] = f"{args.database_url}?options=-csearch_path%3D{schema}"
        arc = Archive(load_settings(env))
        initialize(arc, Actor.cli())
        try:
            database = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
            print(
                f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
                f"; {database}; {args.appends} appends per thread"
            )

            def alone(n: int) -> object:
                with arc.transaction() as session:
                    return _line(n)(session)

            _run(1, args.appends, alone)  # warm up: connections, statements, the file's pages
            seconds, lat = _run(1, args.appends, alone)
            floor = args.appends / seconds
            print(
                f"  one thread, own transactions   {floor:8.0f} lines/s  p95 {_p95(lat):7.2f} ms"
                "  (the limit: the chain's serial speed)"
            )
            for threads in (int(t) for t in args.threads.split(",")):
                seconds, lat = _run(threads, args.appends, alone)
                own = threads * args.appends / seconds
                print(
                    f"  {threads:2d} threads, own transactions {own:8.0f} lines/s  "
                    f"p95 {_p95(lat):7.2f} ms  ({own / floor:.2f}x the limit)"
                )
                group = GroupCommit(arc.transaction)
                seconds, lat = _run(
                    threads, args.appends, lambda n, group=group: group.run(_line(n))
                )
                grouped = threads * args.appends / seconds
                print(
                    f"  {threads:2d} threads, group commit     {grouped:8.0f} lines/s  "
                    f"p95 {_p95(lat):7.2f} ms  ({grouped / floor:.2f}x the limit; "
                    f"{group.jobs / group.batches:.1f} lines per commit)"
                )
            with arc.sessions() as session:
                report = verify_access_log(session)
            print(f"  chain verified: {report.ok} ({report.count} lines)")
        finally:
            arc.close()
            if schema:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()


if __name__ == "__main__":
    main()
