"""Search at scale: index throughput and query latency beside SQLite FTS5, same run.

Run: ``.venv/bin/python bench/search.py [--docs 100000] [--queries 200] [--seed 1]``.
``--no-fts`` skips FTS5 (minutes at 100,000) when only Whoosh before and after is compared;
the script also runs against the code from before hashed terms (``SearchIndex(directory)``),
so both sides of a comparison are measured by the same script.

The corpus is seeded business text: words drawn from jieba's dictionary weighted by their
frequency (so common words are common), with some English, about 150 words per record, in
7 departments and 4 sensitivities. The facade gets raw text and does the analysis (NFKC,
OpenCC, jieba) and the keyed hashing, included in its figures (a fixed bench key; the
archive's comes from its keyring); FTS5 gets the same text pre-segmented, in words (the
segmentation time is printed apart), so the comparison is index against index. Queries: one
and two terms, common and rare, each with the access filter of a specialist in one
department (public and internal everywhere, confidential in their department), top 20 by
relevance with the total count.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import hashlib
import itertools
import os
import platform
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jieba

from search.analysis import words
from search.index import IndexDoc, SearchIndex, Visibility

DEPARTMENTS = ["XS", "CG", "YF", "CW", "RL", "XZ", "ZL"]
SENSITIVITIES = ["public", "internal", "internal", "internal", "confidential", "restricted"]
ENGLISH = [
    "contract",
    "report",
    "supplier",
    "warehouse",
    "budget",
    "approval",
    "meeting",
    "acceptance",
    "invoice",
]
KEY = hashlib.sha256(b"bench/search.py: a fixed key, not a secret").digest()
VISIBILITY = Visibility(
    everywhere=frozenset({"public", "internal"}),
    department="CG",
    in_department=frozenset({"confidential"}),
)


def vocabulary(seed: int) -> tuple[list[str], list[float]]:
    path = Path(jieba.__file__).with_name("dict.txt")
    entries = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word, freq, *_ = line.split()
            if 2 <= len(word) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in word):
                entries.append((word, int(freq)))
    random.Random(seed).shuffle(entries)
    entries = sorted(entries, key=lambda e: -e[1])[:20000]
    total = 0.0
    cumulative = []
    for _, weight in entries:
        total += weight**0.8  # flatten a little: business text is not a newspaper
        cumulative.append(total)
    return [w for w, _ in entries], cumulative


def corpus(count: int, seed: int) -> Iterator[IndexDoc]:
    vocab, cumulative = vocabulary(seed)
    rng = random.Random(seed)
    total = cumulative[-1]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for number in range(count):
        picks = [vocab[bisect.bisect(cumulative, rng.random() * total)] for _ in range(150)]
        for position in rng.sample(range(150), 5):
            picks[position] = rng.choice(ENGLISH)
        text = "".join(w if "\u4e00" <= w[0] <= "\u9fff" else f" {w} " for w in picks)
        yield IndexDoc(
            record_id=f"r{number}",
            version_id=f"v{number}",
            title="".join(picks[:3]),
            content=text,
            name=f"项目{number % 500}-2024-01-1.0",
            project=f"项目{number % 500}",
            department=DEPARTMENTS[number % len(DEPARTMENTS)],
            sensitivity=SENSITIVITIES[rng.randrange(len(SENSITIVITIES))],
            filed=start + timedelta(minutes=number),
        )


def queries(count: int, seed: int) -> list[str]:
    vocab, _ = vocabulary(seed)
    rng = random.Random(seed + 1)
    common, rare = vocab[:200], vocab[5000:20000]
    made = []
    for number in range(count):
        pool = common if number % 2 == 0 else rare
        terms = [rng.choice(pool) for _ in range(1 + (number // 2) % 2)]  # 1, 1, 2, 2, …
        made.append(" ".join(terms))
    return made


def _tree() -> list[int]:
    """This process and its descendants (the index writer's helper processes)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


def _rss(pid: int) -> tuple[int, int]:
    """(resident, anonymous) KiB of one process; file-backed pages are the difference."""
    values = {"VmRSS": 0, "RssAnon": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values["VmRSS"], values["RssAnon"]


class PeakRss:
    """Peak memory of the whole process tree, sampled every 0.2 s in a thread."""

    def __init__(self) -> None:
        self.resident = self.anonymous = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            sizes = [_rss(pid) for pid in _tree()]
            self.resident = max(self.resident, sum(r for r, _ in sizes))
            self.anonymous = max(self.anonymous, sum(a for _, a in sizes))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def open_whoosh(directory: Path) -> SearchIndex:
    """The facade, keyed; unkeyed for the code before hashed terms (for before/after)."""
    try:
        return SearchIndex(directory, KEY)
    except TypeError:
        return SearchIndex(directory)  # type: ignore[call-arg]


def _running_children_cpu() -> float:
    """CPU seconds of this process's descendants still running (the analysis pool)."""
    ticks = 0
    for pid in _tree()[1:]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """CPU time of this process and its children, finished (the bulk writer's helpers) or
    running (the live writer's analysis pool): on a shared machine a steadier figure than
    the wall clock."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    finished = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return finished + _running_children_cpu()


def bench_whoosh(root: Path, docs: int, seed: int) -> tuple[SearchIndex, float, float, PeakRss]:
    """The rebuild path: one bulk load, analysed by every core; (index, s, CPU s, peak)."""
    index = open_whoosh(root / "whoosh")
    index.create()
    started, cpu = time.perf_counter(), cpu_seconds()
    with PeakRss() as peak:
        index.bulk_load(corpus(docs, seed))
    return index, time.perf_counter() - started, cpu_seconds() - cpu, peak


def bench_incremental(index: SearchIndex, docs: int, seed: int, batch: int) -> tuple[float, float]:
    """The live writer's path: batches of new records into the full index; (docs/s, CPU ms
    per doc). They are removed again afterwards, so a kept index still matches FTS5's."""
    fresh = [replace(d, record_id=f"live-{d.record_id}") for d in corpus(docs, seed + 99)]
    started, cpu = time.perf_counter(), cpu_seconds()
    for start in range(0, len(fresh), batch):
        index.write(fresh[start : start + batch])
    rate = len(fresh) / (time.perf_counter() - started)
    cpu_ms = 1000 * (cpu_seconds() - cpu) / len(fresh)
    index.write(remove=[d.record_id for d in fresh])
    return rate, cpu_ms


def bench_live_pool(
    index: SearchIndex, seed: int, batch: int, rounds: int = 4
) -> dict[bool, list[float]] | None:
    """The live writer with and without its analysis pool, alternating batch by batch on the
    same index (same code, same moment): docs/s of each batch by mode; None for code without
    the pool. The pool is warmed first (a long-running writer keeps it)."""
    rates: dict[bool, list[float]] = {True: [], False: []}
    docs = iter(corpus(2 * rounds * batch + 1, seed + 55))
    try:
        index.write([replace(next(docs), record_id="pool-warm")], parallel=True)
    except TypeError:
        return None
    added = ["pool-warm"]
    for number in range(2 * rounds):
        parallel = number % 4 in (0, 3)  # on, off, off, on, …
        fresh = [replace(next(docs), record_id=f"pool-{number}-{i}") for i in range(batch)]
        started = time.perf_counter()
        index.write(fresh, parallel=parallel)
        rates[parallel].append(batch / (time.perf_counter() - started))
        added += [d.record_id for d in fresh]
    index.write(remove=added)
    return rates


def bench_reopen(
    index: SearchIndex, asked: list[str], seed: int, rounds: int = 7
) -> tuple[float, float, float, list[float]]:
    """A searcher reopen after a one-record commit into the full index, as the live writer
    makes one every 2 s: (median ms of the first query after the commit, of the same query
    again, of the commit itself; every round's reopen cost). The query is a common word with
    the specialist's visibility and the 7 facets. The records are removed afterwards."""
    added = [replace(d, record_id=f"reopen-{d.record_id}") for d in corpus(rounds, seed + 7)]
    for warm in asked[:4]:
        index.search(warm, VISIBILITY)
    first, again, commit, extra = [], [], [], []
    for number, doc in enumerate(added):
        text = asked[2 * (number % 4)]  # common words: they were cached by the warm-up
        index.search(text, VISIBILITY)
        started = time.perf_counter()
        index.write([doc])
        commit.append(time.perf_counter() - started)
        started = time.perf_counter()
        index.search(text, VISIBILITY)
        first.append(time.perf_counter() - started)
        started = time.perf_counter()
        index.search(text, VISIBILITY)
        again.append(time.perf_counter() - started)
        extra.append(1000 * (first[-1] - again[-1]))
    index.write(remove=[d.record_id for d in added])
    return (
        1000 * statistics.median(first),
        1000 * statistics.median(again),
        1000 * statistics.median(commit),
        extra,
    )


def bench_fts(root: Path, docs: int, seed: int) -> tuple[sqlite3.Connection, float, float]:
    db = sqlite3.connect(root / "fts.db")
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(title, content, department UNINDEXED, "
        "sensitivity UNINDEXED, tokenize='unicode61')"
    )
    segmenting = indexing = 0.0
    stream = corpus(docs, seed)
    while chunk := list(itertools.islice(stream, 2000)):
        started = time.perf_counter()
        rows = [
            (" ".join(words(d.title)), " ".join(words(d.content)), d.department, d.sensitivity)
            for d in chunk
        ]
        segmenting += time.perf_counter() - started
        started = time.perf_counter()
        db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
        db.commit()
        indexing += time.perf_counter() - started
    return db, segmenting, indexing


def fts_query(db: sqlite3.Connection, text: str) -> int:
    match = " AND ".join(f'"{w}"' for w in words(text))
    allowed = (
        "(sensitivity IN ('public', 'internal') OR "
        "(department = 'CG' AND sensitivity = 'confidential'))"
    )
    db.execute(
        f"SELECT rowid FROM docs WHERE docs MATCH ? AND {allowed} ORDER BY rank LIMIT 20",  # noqa: S608
        (match,),
    ).fetchall()
    (total,) = db.execute(
        f"SELECT count(*) FROM docs WHERE docs MATCH ? AND {allowed}",  # noqa: S608
        (match,),
    ).fetchone()
    return int(total)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return p50 * 1000, p95 * 1000


def timed(run: object, items: list[str]) -> list[float]:
    samples = []
    for item in items:
        started = time.perf_counter()
        run(item)  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return samples


def build(
    root: Path, args: argparse.Namespace
) -> tuple[SearchIndex, sqlite3.Connection | None, bool]:
    """The two indexes (FTS5 None with ``--no-fts``), and whether they were built now."""
    fts_ready = args.no_fts or (root / "fts.db").exists()
    if fts_ready and not open_whoosh(root / "whoosh").needs_rebuild():
        print(f"  reusing the indexes in {root}")
        db = None if args.no_fts else sqlite3.connect(root / "fts.db")
        return open_whoosh(root / "whoosh"), db, False
    index, seconds, cpu, peak = bench_whoosh(root, args.docs, args.seed)
    print(
        f"  Whoosh bulk load {args.docs / seconds:6.0f} docs/s  ({seconds:.0f} s on "
        f"{os.cpu_count()} processes, analysis included; CPU {1000 * cpu / args.docs:.1f} ms "
        f"per record; peak RSS of the process tree {peak.resident / 1024:.0f} MiB, of which "
        f"anonymous {peak.anonymous / 1024:.0f} MiB)"
    )
    if args.no_fts:
        return index, None, True
    db, segmenting, fts_seconds = bench_fts(root, args.docs, args.seed)
    print(
        f"  FTS5 index       {args.docs / fts_seconds:6.0f} docs/s  ({fts_seconds:.0f} s; "
        f"the jieba pre-segmentation it was given took {segmenting:.0f} s)"
    )
    return index, db, True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500, help="the live writer's batch")
    parser.add_argument("--keep", type=Path, help="build here, or reuse what is here")
    parser.add_argument("--no-fts", action="store_true", help="Whoosh only, no FTS5 beside it")
    parser.add_argument(
        "--only-live",
        action="store_true",
        help="only the live-writer figures (searcher reopen, docs/s), also on a kept index",
    )
    parser.add_argument("--live-docs", type=int, default=2000, help="records the live writer adds")
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {args.docs} records, seed {args.seed}"
    )
    asked = queries(args.queries, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        index, db, built = build(root, args)
        if args.only_live:
            live(index, asked, args)
            return
        started = time.perf_counter()
        index.search(asked[0], VISIBILITY)
        print(
            f"  first query of a new searcher {1000 * (time.perf_counter() - started):.0f} ms "
            "(opens segments, loads jieba, fills the permission and facet caches)"
        )
        if db is not None:
            for warm in asked[:10]:
                fts_query(db, warm)

        def fresh(run: Callable[[str], object]) -> Callable[[str], object]:
            """Every figure starts from a new searcher whose per-searcher caches (permission
            sets, facet values, lengths) are filled by one unrelated query: the postings
            of the measured words are decoded cold, on first use."""
            index.close()
            index.search("年度预算", VISIBILITY)
            return run

        variants = {
            "": lambda t: index.search(t, VISIBILITY),
            " (no facets)": lambda t: index.search(t, VISIBILITY, facets=False),
            " (by date)": lambda t: index.search(t, VISIBILITY, sort="date"),
        }
        for label, subset in (
            ("all", asked),
            ("one term", asked[0::4] + asked[1::4]),  # queries() makes 1, 1, 2, 2, … terms
            ("two terms", asked[2::4] + asked[3::4]),
        ):
            fts = percentiles(timed(functools.partial(fts_query, db), subset)) if db else None
            for variant, run in variants.items():
                if variant and label != "all":
                    continue
                w50, w95 = percentiles(timed(fresh(run), subset))
                line = f"  {label + variant:22} Whoosh p50 {w50:6.1f} ms p95 {w95:6.1f} ms"
                if fts:
                    line += (
                        f" | FTS5 p50 {fts[0]:6.1f} ms p95 {fts[1]:6.1f} ms"
                        f" | p95 ratio {w95 / fts[1]:.1f}x"
                    )
                print(line)
        w50, w95 = percentiles(timed(variants[""], asked))
        print(f"  all, again (postings cached)  Whoosh p50 {w50:6.1f} ms p95 {w95:6.1f} ms")
        totals = [index.search(t, VISIBILITY).total for t in asked[:20]]
        fts_totals = sum(fts_query(db, t) for t in asked[:20]) if db else "-"
        print(f"  sample totals (Whoosh / FTS5 agree?): {sum(totals)} / {fts_totals}")
        size = sum(p.stat().st_size for p in (root / "whoosh").iterdir() if p.is_file())
        fts_size = f"{(root / 'fts.db').stat().st_size / 2**20:.0f} MiB" if db else "-"
        print(f"  index size: Whoosh {size / 2**20:.0f} MiB, FTS5 {fts_size}")
        if built:  # it adds records: only to an index made in this run
            live(index, asked, args)


def live(index: SearchIndex, asked: list[str], args: argparse.Namespace) -> None:
    """The live writer's figures: a searcher reopen after a small commit, then batches; what
    they add is removed again (the index keeps the deleted documents until a merge)."""
    first, again, commit, extra = bench_reopen(index, asked, args.seed)
    print(
        f"  reopen after a one-record commit: first query {first:.0f} ms, again {again:.0f} ms "
        f"(commit {commit:.0f} ms; reopen cost per round {' '.join(f'{e:.0f}' for e in extra)} ms)"
    )
    rate, cpu_ms = bench_incremental(index, args.live_docs, args.seed, args.batch)
    print(
        f"  live writer, batches of {args.batch} into the full index: {rate:.0f} docs/s "
        f"(CPU {cpu_ms:.1f} ms per record, this process and its children)"
    )
    pooled = bench_live_pool(index, args.seed, args.batch)
    if pooled is not None:
        print(
            f"  live writer with / without its analysis pool, alternating batches of "
            f"{args.batch}: median {statistics.median(pooled[True]):.0f} / "
            f"{statistics.median(pooled[False]):.0f} docs/s (each batch: "
            f"{' '.join(f'{r:.0f}' for r in pooled[True])} / "
            f"{' '.join(f'{r:.0f}' for r in pooled[False])})"
        )
    merge = getattr(index, "merge_deletions", None)
    if merge is not None:
        started = time.perf_counter()
        purged = merge()
        print(
            f"  merge of deletions: {purged} deleted documents dropped in "
            f"{time.perf_counter() - started:.1f} s"
        )


if __name__ == "__main__":
    main()
