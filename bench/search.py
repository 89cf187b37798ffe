"""Search at scale: index throughput and query latency beside SQLite FTS5, same run.

Run: ``.venv/bin/python bench/search.py [--docs 100000] [--queries 200] [--seed 1]``.

The corpus is seeded business text: words drawn from jieba's dictionary weighted by their
frequency (so common words are common), with some English, about 150 words per record, in
7 departments and 4 sensitivities. Whoosh gets raw text and does its own analysis (NFKC,
OpenCC, jieba); FTS5 gets the same text pre-segmented (the segmentation time is printed
apart), so the comparison is index against index. Queries: one and two terms, common and
rare, each with the access filter of a specialist in one department (public and internal
everywhere, confidential in their department), top 20 by relevance with the total count.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import os
import platform
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
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
    for _, freq in entries:
        total += freq**0.8  # flatten a little: business text is not a newspaper
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
        terms = [rng.choice(pool) for _ in range(1 + number % 2 * 0 + (number // 2) % 2)]
        made.append(" ".join(terms))
    return made


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_whoosh(root: Path, docs: int, seed: int, batch: int) -> tuple[SearchIndex, float]:
    index = SearchIndex(root / "whoosh")
    index.create()
    started = time.perf_counter()
    stream = corpus(docs, seed)
    while chunk := list(itertools.islice(stream, batch)):
        index.write(chunk)
    return index, time.perf_counter() - started


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {args.docs} records, seed {args.seed}"
    )
    asked = queries(args.queries, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        before = rss_mib()
        index, whoosh_seconds = bench_whoosh(root, args.docs, args.seed, args.batch)
        print(
            f"  Whoosh index   {args.docs / whoosh_seconds:8.0f} docs/s  "
            f"({whoosh_seconds:.0f} s, analysis included; peak RSS {rss_mib():.0f} MiB, "
            f"{before:.0f} before)"
        )
        db, segmenting, fts_seconds = bench_fts(root, args.docs, args.seed)
        print(
            f"  FTS5 index     {args.docs / fts_seconds:8.0f} docs/s  ({fts_seconds:.0f} s; "
            f"the jieba pre-segmentation it was given took {segmenting:.0f} s)"
        )
        for warm in asked[:10]:
            index.search(warm, VISIBILITY)
            fts_query(db, warm)
        for label, subset in (
            ("all", asked),
            ("one term", asked[0::2] + asked[1::4]),
            ("two terms", asked[3::4] + asked[2::4]),
        ):
            w50, w95 = percentiles(timed(lambda t: index.search(t, VISIBILITY), subset))
            f50, f95 = percentiles(timed(lambda t: fts_query(db, t), subset))
            print(
                f"  {label:10} Whoosh p50 {w50:6.1f} ms p95 {w95:6.1f} ms | "
                f"FTS5 p50 {f50:6.1f} ms p95 {f95:6.1f} ms | p95 ratio {w95 / f95:.1f}x"
            )
        totals = [index.search(t, VISIBILITY).total for t in asked[:20]]
        print(
            f"  sample totals (Whoosh / FTS5 agree?): "
            f"{sum(totals)} / {sum(fts_query(db, t) for t in asked[:20])}"
        )
        size = sum(p.stat().st_size for p in (root / "whoosh").iterdir())
        print(
            f"  index size: Whoosh {size / 2**20:.0f} MiB, "
            f"FTS5 {(root / 'fts.db').stat().st_size / 2**20:.0f} MiB"
        )


if __name__ == "__main__":
    main()
