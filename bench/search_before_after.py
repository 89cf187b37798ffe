"""Two versions of the search facade, compared query by query on one machine at one time.

Run: ``.venv/bin/python -P bench/search_before_after.py --before-tree /tmp/before
--before-index DIR --after-index DIR [--after-tree .] [--rounds 8]``, where each index was
built by ``bench/search.py --no-fts --keep DIR`` run from that tree (copy today's
``bench/search.py`` into the old tree first).

Back-to-back runs of ``bench/search.py`` on a shared 2-core VM vary by more than the 10%
a change is allowed, so this script interleaves: each version runs in its own process (its
own ``search`` package), and the parent asks both the same query in turn, alternating who
goes first; each process times its own call, so the pipe costs nothing in the figures.
Every round starts both from fresh searchers, warmed by one unrelated query, as
``bench/search.py`` does. Then both live writers take the same new records in alternating
chunks, timed in CPU seconds (steadier than the wall clock on a shared machine).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent


def bench_search(tree: Path) -> ModuleType:
    """``bench/search.py`` of ``tree``, loaded under a name that does not hide the package."""
    spec = importlib.util.spec_from_file_location("bench_search", tree / "bench" / "search.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve(tree: Path, directory: Path) -> None:
    """The child: one facade from ``tree``, answering JSON commands on stdin."""
    sys.path.insert(0, str(tree))
    tools = bench_search(tree)
    index, corpus, visibility = tools.open_whoosh(directory), tools.corpus, tools.VISIBILITY
    variants: dict[str, dict[str, Any]] = {
        "": {},
        "no facets": {"facets": False},
        "by date": {"sort": "date"},
    }
    for line in sys.stdin:
        command = json.loads(line)
        op, answer = command["op"], None
        if op == "fresh":
            index.close()
            index.search("年度预算", visibility)
        elif op == "query":
            options: dict[str, Any] = variants[command["variant"]]
            started = time.perf_counter()
            index.search(command["text"], visibility, **options)
            answer = time.perf_counter() - started
        elif op == "write":
            docs = [
                replace(d, record_id=f"live-{d.record_id}")
                for d in corpus(command["start"] + command["count"], command["seed"])
            ][command["start"] :]
            started = time.process_time()
            index.write(docs)
            answer = time.process_time() - started
        elif op == "remove":
            index.write(remove=[f"live-r{n}" for n in range(command["count"])])
        print(json.dumps(answer), flush=True)


class Side:
    def __init__(self, name: str, tree: Path, directory: Path) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, "-P", __file__, "--serve", str(tree), str(directory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command: Any) -> Any:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--before-tree", type=Path, required=True)
    parser.add_argument("--before-index", type=Path, required=True)
    parser.add_argument("--after-tree", type=Path, default=HERE.parent)
    parser.add_argument("--after-index", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--write", type=int, default=2000, help="records each live writer takes")
    args = parser.parse_args()
    asked = bench_search(args.after_tree.resolve()).queries(args.queries, args.seed)
    rows = {
        "all": ("", asked),
        "one term": ("", asked[0::4] + asked[1::4]),
        "two terms": ("", asked[2::4] + asked[3::4]),
        "all (no facets)": ("no facets", asked),
        "all (by date)": ("by date", asked),
    }
    sides = [
        Side("before", args.before_tree.resolve(), args.before_index.resolve()),
        Side("after", args.after_tree.resolve(), args.after_index.resolve()),
    ]
    try:
        ratios: dict[str, list[float]] = {row: [] for row in rows}
        figures: dict[str, dict[str, list[float]]] = {
            row: {"before": [], "after": []} for row in rows
        }
        for number in range(args.rounds):
            for row, (variant, subset) in rows.items():
                for side in sides:
                    side.ask(op="fresh")
                samples: dict[str, list[float]] = {"before": [], "after": []}
                for position, text in enumerate(subset):
                    order = sides if (position + number) % 2 == 0 else sides[::-1]
                    for side in order:
                        samples[side.name].append(side.ask(op="query", text=text, variant=variant))
                before, after = p95(samples["before"]), p95(samples["after"])
                figures[row]["before"].append(before)
                figures[row]["after"].append(after)
                ratios[row].append(after / before)
            print(f"  round {number + 1} of {args.rounds} done", file=sys.stderr)
        print(f"interleaved queries, {args.rounds} rounds, {len(asked)} queries, fresh searchers")
        print("  row                p95 before  p95 after  (ms, median of rounds)  after/before")
        for row in rows:
            before = statistics.median(figures[row]["before"])
            after = statistics.median(figures[row]["after"])
            low, high = min(ratios[row]), max(ratios[row])
            print(
                f"  {row:18} {before:10.1f} {after:10.1f}"
                f"{'':26}{statistics.median(ratios[row]):.2f} ({low:.2f}-{high:.2f})"
            )
        cpu = {"before": 0.0, "after": 0.0}
        for start in range(0, args.write, 100):
            order = sides if (start // 100) % 2 == 0 else sides[::-1]
            for side in order:
                cpu[side.name] += side.ask(op="write", start=start, count=100, seed=args.seed + 99)
        for side in sides:
            side.ask(op="remove", count=args.write)
        per = {name: 1000 * seconds / args.write for name, seconds in cpu.items()}
        print(
            f"live writer, {args.write} records in alternating chunks of 100: CPU ms per record "
            f"before {per['before']:.1f}, after {per['after']:.1f}, "
            f"after/before {per['after'] / per['before']:.2f}"
        )
    finally:
        for side in sides:
            side.close()


if __name__ == "__main__":
    main()
