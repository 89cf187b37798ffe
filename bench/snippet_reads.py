"""What logging every snippet as a read costs a search (issue 18: a snippet is a read).

The same queries run in the same archive as two people: a department head who reads every
hit by standing access (each page of hits shows snippets, and each snippet is an access-log
line, hash-chained) and a specialist of another department who may know the records but read
none (no snippets, no log lines). The difference is what the reads cost; the specialist's
search is the floor measured in the same run.

    .venv/bin/python -P bench/snippet_reads.py [--records 300] [--queries 40]

(``-P``: bench/search.py would otherwise shadow the ``search`` package.)
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import tempfile
import time
from pathlib import Path

from access.browse import SearchParams, search_as
from archive.accesslog import ALLOWED, Client, log_access
from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import NewRecord, RenditionSource, store
from archive.core import Archive
from archive.models import Role, Sensitivity, User
from archive.people import create_user, find_department
from search.indexer import flush

WORDS = ["验收", "合同", "会议纪要", "仓储", "改造", "预算", "审批", "报告"]


def seed(arc: Archive, records: int) -> None:
    for n in range(records):
        text = f"华东仓储改造项目 第{n}号 {WORDS[n % len(WORDS)]} {WORDS[(n * 3) % len(WORDS)]}"
        store(
            arc,
            io.BytesIO(text.encode()),
            actor=Actor.cli(),
            original_filename=f"{n}.txt",
            media_type="text/plain",
            new_record=NewRecord(
                project=f"项目{n}", title=f"档案{n}", when="2026-05", department="CG",
                sensitivity=Sensitivity.INTERNAL,
            ),
            renditions=[RenditionSource("text", "text/plain", io.BytesIO(text.encode()))],
        )  # fmt: skip
    with arc.transaction() as session:
        people = (("head", Role.SUPERVISOR, "CG"), ("other", Role.SPECIALIST, "XS"))
        for name, role, department in people:
            create_user(session, Actor.cli(), name, role, find_department(session, department))
    flush(arc)


def timed(arc: Archive, username: str, queries: int) -> tuple[list[float], int]:
    times, snippets = [], 0
    client = Client("127.0.0.1", "bench")
    for n in range(queries):
        params = SearchParams(q=WORDS[n % len(WORDS)], per_page=20)
        start = time.perf_counter()
        with arc.transaction() as session:
            user = session.query(User).filter_by(username=username).one()
            results = search_as(arc, session, user, client, params)
        times.append((time.perf_counter() - start) * 1000)
        snippets += sum(1 for hit in results.hits if hit.snippet)
    return times, snippets


LINES = 200


def log_line_cost(arc: Archive) -> float:
    """Milliseconds per hash-chained access-log line, as a search appends them."""
    client = Client("127.0.0.1", "bench")
    start = time.perf_counter()
    with arc.transaction() as session:
        user = session.query(User).filter_by(username="head").one()
        for _ in range(LINES):
            log_access(session, user, client, "snippet", ALLOWED, details="bench")
    return (time.perf_counter() - start) * 1000 / LINES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        arc = Archive(load_settings({"ARCHIVE_HOME": str(Path(home))}))
        initialize(arc, Actor.cli())
        seed(arc, args.records)
        timed(arc, "head", 4)  # warm the searcher and the analyser
        floor, none = timed(arc, "other", args.queries)
        reads, shown = timed(arc, "head", args.queries)
        line_ms = log_line_cost(arc)
        arc.close()
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    print(f"{machine}, SQLite, {args.records} records, {args.queries} queries each")
    runs = (("knows, reads none", floor, none), ("reads every hit", reads, shown))
    for label, times, count in runs:
        print(
            f"  {label:18} median {statistics.median(times):6.1f} ms  "
            f"p95 {sorted(times)[int(len(times) * 0.95) - 1]:6.1f} ms  snippets {count}"
        )
    extra = statistics.median(reads) - statistics.median(floor)
    per = extra / max(1, shown / args.queries)
    print(f"  snippets add {extra:.1f} ms a search (~{per:.2f} ms each: decrypt, highlight, log)")
    print(f"  of which the log line alone: {line_ms:.2f} ms (appending {LINES} in one transaction)")


if __name__ == "__main__":
    main()
