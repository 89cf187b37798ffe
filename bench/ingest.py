"""End-to-end ingest throughput beside the limits of its stages, measured in the same run.

Run: ``.venv/bin/python bench/ingest.py [--docs 120] [--seed 1]``.

A seeded corpus (Chinese and English; PDF, DOCX and TXT in equal parts) is ingested through
the whole pipeline (receive → fetch → sniff → scan → sandboxed extraction → normalise →
classify → check → store with renditions) on the embedded default, in-process, so the
figure is per worker process. Beside it: extraction alone (the same sandboxed calls on the
same files), encryption+store alone (``archive.content.store`` of the same bytes), and,
for scans, OCR seconds per page beside raw ``tesseract`` on the same page image. The index
does not exist yet (issue 4): "index writing alone" is not measured.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import NewRecord, store
from archive.core import Archive
from ingest import sniff
from ingest.extract import extract
from ingest.jobs import receive
from ingest.ocr import ocr
from ingest.pipeline import process
from ingest.rules import seed_default_rules
from ingest.sandbox import run_limited
from retention import listeners
from retention.schedules import seed_default_plan
from tests.ingest import samples

ACTOR = Actor(name="bench")
ZH = [
    "项目",
    "采购",
    "合同",
    "会议",
    "纪要",
    "验收",
    "报告",
    "财务",
    "预算",
    "审批",
    "意见",
    "研发",
    "进度",
    "仓储",
    "改造",
    "华东",
    "供应商",
]
EN = [
    "project",
    "contract",
    "minutes",
    "acceptance",
    "report",
    "budget",
    "approval",
    "warehouse",
    "supplier",
]


def corpus(count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    docs = []
    for number in range(count):
        words = ZH if number % 2 == 0 else EN
        lines = [" ".join(rng.choices(words, k=12)) for _ in range(rng.randint(10, 30))]
        kind = ("pdf", "docx", "txt")[number % 3]
        if kind == "pdf":
            pages = ["\n".join(lines[i : i + 10]) for i in range(0, len(lines), 10)]
            data = samples.pdf(pages)
        elif kind == "docx":
            data = samples.docx(lines)
        else:
            data = "\n".join(lines).encode("gb18030" if number % 2 == 0 else "utf-8")
        docs.append((f"doc-{number}.{kind}", data))
    return docs


def fresh_archive(root: Path, name: str) -> Archive:
    env = {"ARCHIVE_HOME": str(root / name), "ARCHIVE_CLAMAV": "off"}
    arc = Archive(load_settings(env))
    initialize(arc, ACTOR)
    seed_default_rules(arc, ACTOR)
    with arc.transaction() as session:  # as 'archive init' does: filings get due dates
        seed_default_plan(session, ACTOR)
    listeners.connect()  # as the app and the CLI do: each filing recomputes its clock
    return arc


def end_to_end(arc: Archive, docs: list[tuple[str, bytes]]) -> float:
    start = time.perf_counter()
    for name, data in docs:
        job = receive(
            arc,
            io.BytesIO(data),
            filename=name,
            source_kind="bulk",
            actor=ACTOR,
            params={"project": "基准项目"},
        )
        process(arc, job)
    return time.perf_counter() - start


def extraction_alone(root: Path, docs: list[tuple[str, bytes]]) -> float:
    limits = {"max_image_pixels": 300_000_000, "max_inflated_bytes": 1024**3}
    paths = []
    for name, data in docs:
        path = root / name
        path.write_bytes(data)
        paths.append(path)
    start = time.perf_counter()
    for path in paths:
        run_limited(extract, str(path), sniff.sniff(path), limits, timeout=60, memory_bytes=2 << 30)
    return time.perf_counter() - start


def extraction_in_process(root: Path) -> float:
    """The parsers alone, no sandbox: what the fork and its limits cost is the difference."""
    limits = {"max_image_pixels": 300_000_000, "max_inflated_bytes": 1024**3}
    paths = sorted(root.iterdir())
    start = time.perf_counter()
    for path in paths:
        extract(str(path), sniff.sniff(path), limits)
    return time.perf_counter() - start


def store_alone(arc: Archive, docs: list[tuple[str, bytes]]) -> float:
    start = time.perf_counter()
    for name, data in docs:
        store(
            arc,
            io.BytesIO(data),
            actor=ACTOR,
            original_filename=name,
            media_type="application/octet-stream",
            new_record=NewRecord(project="基准存储", title=name),
        )
    return time.perf_counter() - start


def ocr_per_page(root: Path, pages: int) -> tuple[float, float]:
    text = "华东仓储改造项目验收报告\n验收意见：同意通过验收\nAcceptance report, page {}"
    images = []
    for number in range(pages):
        path = root / f"scan-{number}.png"
        path.write_bytes(samples.image(text.format(number)))
        images.append(path)
    start = time.perf_counter()
    for path in images:
        run_limited(
            ocr,
            str(path),
            sniff.PNG,
            str(root / f"out-{path.stem}.pdf"),
            "chi_sim+chi_tra+eng",
            300,
            timeout=120,
            memory_bytes=2 << 30,
        )
    pipeline = (time.perf_counter() - start) / pages
    start = time.perf_counter()
    for path in images:
        subprocess.run(
            ["tesseract", str(path), "-", "-l", "chi_sim+chi_tra+eng"],
            capture_output=True,
            check=True,
        )
    raw = (time.perf_counter() - start) / pages
    return pipeline, raw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ocr-pages", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    docs = corpus(args.docs, args.seed)
    size = sum(len(data) for _, data in docs)
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{len(docs)} documents, {size / 1e6:.1f} MB (PDF/DOCX/TXT, zh/en, seed {args.seed})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        arc = fresh_archive(root, "e2e")
        total = end_to_end(arc, docs)
        arc.close()
        (root / "files").mkdir()
        extracted = extraction_alone(root / "files", docs)
        parsers = extraction_in_process(root / "files")
        arc = fresh_archive(root, "store")
        stored = store_alone(arc, docs)
        arc.close()
        (root / "ocr").mkdir()
        ocr_page, raw_page = ocr_per_page(root / "ocr", args.ocr_pages)
    n = len(docs)
    print(f"  end to end (one process)  {n / total:7.1f} docs/s  {1000 * total / n:6.1f} ms/doc")
    print(
        f"  extraction alone          {n / extracted:7.1f} docs/s  "
        f"{1000 * extracted / n:6.1f} ms/doc"
    )
    print(
        f"    of which the parsers    {n / parsers:7.1f} docs/s  {1000 * parsers / n:6.1f} ms/doc"
        "  (in-process, no sandbox)"
    )
    print(f"  encryption+store alone    {n / stored:7.1f} docs/s  {1000 * stored / n:6.1f} ms/doc")
    print(
        f"  stages' sum as a limit    {n / (extracted + stored):7.1f} docs/s; "
        f"end to end reaches {(extracted + stored) / total:.0%} of it"
    )
    print("  index writing alone       not measured: the index arrives with issue 4")
    print(
        f"  OCR per page (pipeline)   {ocr_page:7.2f} s   raw tesseract {raw_page:.2f} s   "
        f"ratio {ocr_page / raw_page:.2f}"
    )


if __name__ == "__main__":
    main()
