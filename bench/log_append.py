"""Access-log appends from many reader threads: one transaction each, or group commit.

Every read appends a hash-chained line and commits it before its first byte is sent, and
appends to the chain are serialised. Here ``--threads`` threads of one process (as in a
gunicorn gthread worker) each append ``--appends`` lines, first each in its own write
transaction (how readers logged before), then through :class:`archive.groupcommit.GroupCommit`
(one transaction for whatever queued while the last one committed). The limit beside them,
measured in the same run, is one thread appending alone: the chain's serial speed, which
threads in their own transactions cannot beat, and which group commit should.

    .venv/bin/python -P bench/log_append.py [--threads 1,8,32] [--appends 200] \
        [--database-url postgresql+psycopg://postgres@127.0.0.1/test]

(``-P``: bench/search.py would otherwise shadow the ``search`` package.)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

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


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,8,32")
    parser.add_argument("--appends", type=int, default=200, help="per thread")
    parser.add_argument("--database-url", help="PostgreSQL instead of the embedded SQLite")
    args = parser.parse_args()

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
