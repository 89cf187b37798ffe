"""What snippets cost a search: logging each as a read (issue 18) and cutting it from a big
text (issue 19, item 2: a snippet costs a page of text, whatever the document's size).

The same queries run in the same archive as two people: a department head who reads every
hit by standing access (each page of hits shows snippets, and each snippet is an access-log
line, hash-chained) and a specialist of another department who may know the records but read
none (no snippets, no log lines). The difference is what the reads cost; the specialist's
search is the floor measured in the same run. Then texts of ``--big`` MB (10 by default; the
query words in their middle, or at 10 MB, within what is indexed) are filed as the newest
records, so that every page of hits (newest first) has them among its snippets, and the
head's searches run again.

    .venv/bin/python -P bench/snippet_reads.py [--records 300] [--queries 40] [--big 10,100]

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
from search.indexer import flush, flush_all

WORDS = ["验收", "合同", "会议纪要", "仓储", "改造", "预算", "审批", "报告"]
#: Filler for the big texts: none of the query words.
FILLER = [
    "甲方与乙方就设备采购进行了多轮磋商，付款分三期：预付款、进度款、尾款。",
    "Inspection of the loading docks found no defects, but the roof needs repair!",
    "监理单位出具意见 供应商名单见附件二\n",
    "綠色通道的設計圖紙已經更新 另見第五章\n\n",
    "The board noted the schedule (phase two) and asked for a revised plan; costs rose 3.5%.",
]
INDEXED = 10 * 1024 * 1024  # where the words go in a text longer than twice this


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


def big_text(megabytes: int) -> bytes:
    """``megabytes`` MB of text with every query word once, in the middle (or at 10 MB)."""
    size = megabytes * 1024 * 1024
    sentences = [s.encode() for s in FILLER]
    parts, total, n = [], 0, 0
    while total < size:
        parts.append(sentences[n % len(sentences)])
        total += len(parts[-1])
        n += 1
    filler = b"".join(parts)[:size]
    middle = min(size // 2, INDEXED)
    words = f" 大文件的这一段: {' '.join(WORDS)}. ".encode()
    return filler[:middle] + words + filler[middle:]


def seed_big(arc: Archive, sizes: list[int]) -> None:
    for megabytes in sizes:
        text = big_text(megabytes)
        store(
            arc,
            io.BytesIO(text),
            actor=Actor.cli(),
            original_filename=f"big{megabytes}.txt",
            media_type="text/plain",
            new_record=NewRecord(
                project="大文件", title=f"{megabytes} MB", when="2026-05", department="CG",
                sensitivity=Sensitivity.INTERNAL,
            ),
            renditions=[RenditionSource("text", "text/plain", io.BytesIO(text))],
        )  # fmt: skip
    flush_all(arc)


def timed(
    arc: Archive, username: str, queries: int, sort: str = "relevance"
) -> tuple[list[float], int]:
    times, snippets = [], 0
    client = Client("127.0.0.1", "bench")
    with arc.sessions() as session:
        user_id = session.query(User).filter_by(username=username).one().id
    for n in range(queries):
        params = SearchParams(q=WORDS[n % len(WORDS)], per_page=20, sort=sort)
        start = time.perf_counter()
        results = search_as(arc, user_id, client, params)
        times.append((time.perf_counter() - start) * 1000)
        snippets += sum(1 for hit in results.hits if hit.snippet)
    return times, snippets


def interleaved(arc: Archive, queries: int) -> dict[int, tuple[list[float], int, int]]:
    """The head's searches by date, page 1 (the big texts among its 20 hits) and page 2 (20
    small ones: the floor), one after the other for each query, the order alternating.
    Per page: times, snippets shown, snippets of a big text shown."""
    client = Client("127.0.0.1", "bench")
    with arc.sessions() as session:
        user_id = session.query(User).filter_by(username="head").one().id
    runs: dict[int, tuple[list[float], int, int]] = {1: ([], 0, 0), 2: ([], 0, 0)}
    for n in range(queries):
        for page in (1, 2) if n % 2 else (2, 1):
            params = SearchParams(q=WORDS[n % len(WORDS)], per_page=20, sort="date", page=page)
            start = time.perf_counter()
            results = search_as(arc, user_id, client, params)
            elapsed = (time.perf_counter() - start) * 1000
            times, shown, big = runs[page]
            times.append(elapsed)
            shown += sum(1 for hit in results.hits if hit.snippet)
            big += sum(1 for hit in results.hits if hit.snippet and hit.project == "大文件")
            runs[page] = (times, shown, big)
    return runs


def p95(times: list[float]) -> float:
    return sorted(times)[max(0, int(len(times) * 0.95) - 1)]


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
    parser.add_argument("--big", default="10", help="MB of each big text, comma-separated")
    parser.add_argument("--big-queries", type=int, help="queries with the big texts")
    args = parser.parse_args()
    sizes = [int(mb) for mb in args.big.split(",") if mb.strip()]
    big_queries = args.big_queries or args.queries
    with tempfile.TemporaryDirectory() as home:
        arc = Archive(load_settings({"ARCHIVE_HOME": str(Path(home))}))
        initialize(arc, Actor.cli())
        seed(arc, args.records)
        timed(arc, "head", 4)  # warm the searcher and the analyser
        floor, none = timed(arc, "other", args.queries)
        reads, shown = timed(arc, "head", args.queries)
        line_ms = log_line_cost(arc)
        pages: dict[int, tuple[list[float], int, int]] = {}
        if sizes:
            started = time.perf_counter()
            seed_big(arc, sizes)
            filed = time.perf_counter() - started
            timed(arc, "head", 2, "date")  # the new searcher
            pages = interleaved(arc, big_queries)
        arc.close()
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    print(f"{machine}, SQLite, {args.records} records, {args.queries} queries each")
    runs = (("knows, reads none", floor, none), ("reads every hit", reads, shown))
    for label, times, count in runs:
        print(
            f"  {label:18} median {statistics.median(times):6.1f} ms  "
            f"p95 {p95(times):6.1f} ms  snippets {count}"
        )
    extra = statistics.median(reads) - statistics.median(floor)
    per = extra / max(1, shown / args.queries)
    print(f"  snippets add {extra:.1f} ms a search (~{per:.2f} ms each: decrypt, highlight, log)")
    print(f"  of which the log line alone: {line_ms:.2f} ms (appending {LINES} in one transaction)")
    if pages:
        print(
            f"with texts of {args.big} MB filed last (filed and indexed in {filed:.0f} s), "
            f"{big_queries} queries by date, pages interleaved:"
        )
        for page, label in ((2, "page 2, small only"), (1, "page 1, big among")):
            times, count, big = pages[page]
            print(
                f"  {label:18} median {statistics.median(times):6.1f} ms  "
                f"p95 {p95(times):6.1f} ms  snippets {count} (of big texts {big})"
            )
        more = statistics.median(pages[1][0]) - statistics.median(pages[2][0])
        print(f"  the big texts add {more:.1f} ms to the median search")


if __name__ == "__main__":
    main()
