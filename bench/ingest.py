"""End-to-end ingest throughput beside the limits of its stages, measured in the same run.

Run: ``.venv/bin/python bench/ingest.py [--docs 120] [--seed 1]``.

A seeded corpus (Chinese and English; PDF, DOCX and TXT in equal parts) is ingested through
the whole pipeline (receive → fetch → sniff → scan → sandboxed extraction → normalise →
classify → check → store with renditions) on the embedded default, in-process, so the
figure is per worker process. Beside it: extraction alone (the same sandboxed calls on the
same files), encryption+store alone (``archive.content.store`` of the same bytes), and,
for scans, OCR seconds per page beside raw ``tesseract`` on the same page image; index
writing alone (``search.indexer.flush`` of the records just stored: analysis and Whoosh).

``--large-mb N`` also archives an N MiB text with ``archive put`` (the text kept for the
index capped by ``ARCHIVE_TEXT_CAP_MB``) and prints the peak memory of its process tree
(the command and its extraction sandbox; PSS, so pages they share count once), sampled
every 50 ms, beside the same command's
peak for a one-line file: the baseline of its imports.
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
import zipfile
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
from search.indexer import flush
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
    env = {
        "ARCHIVE_HOME": str(root / name),
        "ARCHIVE_CLAMAV": "off",
        # DOCX are laid out as PDF too unless this says off (bench/office.py times that part)
        "ARCHIVE_OFFICE_RENDITIONS": os.environ.get("ARCHIVE_OFFICE_RENDITIONS", "auto"),
    }
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
    limits = {
        "max_image_pixels": 300_000_000,
        "max_inflated_bytes": 1024**3,
        "text_cap_bytes": 16 << 20,
    }
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
    limits = {
        "max_image_pixels": 300_000_000,
        "max_inflated_bytes": 1024**3,
        "text_cap_bytes": 16 << 20,
    }
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
    parser.add_argument("--large-mb", type=int, default=0, help="also archive a text this big")
    args = parser.parse_args()
    if args.large_mb:
        large_text_memory(args.large_mb)
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
        started = time.perf_counter()
        flush(arc)
        indexing = time.perf_counter() - started
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
    print(
        f"  index writing alone       {n / indexing:7.1f} docs/s  {1000 * indexing / n:6.1f} ms/doc"
        "  (flush: read text, analyse, write)"
    )
    print(
        f"  OCR per page (pipeline)   {ocr_page:7.2f} s   raw tesseract {raw_page:.2f} s   "
        f"ratio {ocr_page / raw_page:.2f}"
    )


def _tree_rss_kib(root: int) -> int:
    """Memory of ``root`` and its descendants, KiB: proportional set sizes, so the pages a
    forked sandbox child shares with its parent are counted once, not twice."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total += int(rollup.split("\nPss:")[1].split()[0]) if "\nPss:" in rollup else 0
    return total


def _put_peak(env: dict[str, str], path: Path) -> tuple[float, float]:
    """(seconds, peak MiB of the process tree) of ``archive put path``."""
    command = [
        str(Path(sys.executable).with_name("archive")),
        "put",
        str(path),
        "--project",
        "大文件项目",
    ]
    started, peak = time.perf_counter(), 0
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kib(proc.pid))
        time.sleep(0.05)
    if proc.returncode != 0:
        raise SystemExit(
            f"archive put failed: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return time.perf_counter() - started, peak / 1024


_W_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8"?><w:document '
    b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)


def _pdf_with_images(path: Path, megabytes: int) -> None:
    """A PDF of pages with a line of text and a 10 MiB uncompressed image each: a scan's
    size without OCR (the text is there), written object by object."""
    width, height = 2048, 1706
    image = os.urandom(width * height * 3)
    pages = max(1, megabytes * (1 << 20) // len(image))
    offsets: dict[int, int] = {}
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

        def obj(number: int, body: bytes, stream: bytes | None = None) -> None:
            offsets[number] = out.tell()
            out.write(f"{number} 0 obj\n".encode() + body)
            if stream is not None:
                out.write(b"\nstream\n" + stream + b"\nendstream")
            out.write(b"\nendobj\n")

        kids = " ".join(f"{10 + 3 * n} 0 R" for n in range(pages))
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(2, f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
        obj(5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        for n in range(pages):
            page, content, picture = 10 + 3 * n, 11 + 3 * n, 12 + 3 * n
            draw = (
                f"BT /F1 24 Tf 72 720 Td (Warehouse acceptance report, page {n + 1}) Tj ET "
                "q 200 0 0 200 72 300 cm /Im0 Do Q"
            ).encode()
            resources = f"<< /Font << /F1 5 0 R >> /XObject << /Im0 {picture} 0 R >> >>"
            obj(
                page,
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources {resources} "
                f"/Contents {content} 0 R >>".encode(),
            )
            obj(content, f"<< /Length {len(draw)} >>".encode(), draw)
            header = (
                f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
                f"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {len(image)} >>"
            )
            obj(picture, header.encode(), image)
        xref, count = out.tell(), max(offsets) + 1
        out.write(f"xref\n0 {count}\n".encode())
        for number in range(count):
            at = offsets.get(number)
            out.write(b"0000000000 65535 f \n" if at is None else b"%010d 00000 n \n" % at)
        out.write(f"trailer\n<< /Size {count} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())


def large_text_memory(megabytes: int) -> None:
    line = "第三次项目会议纪要：仓储改造进度、预算与验收安排。Warehouse acceptance.\n".encode()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {**os.environ, "ARCHIVE_HOME": str(root / "home")}
        subprocess.run(
            [str(Path(sys.executable).with_name("archive")), "init"],
            env=env,
            check=True,
            capture_output=True,
        )
        small, large = root / "small.txt", root / "large.txt"
        small.write_bytes(line)
        with large.open("wb") as out:
            block = line * 8192
            for _ in range(megabytes * (1 << 20) // len(block) + 1):
                out.write(block)
        docx = root / "large.docx"  # the text in paragraphs (1/4 of it), and a large image
        with (
            zipfile.ZipFile(io.BytesIO(samples.docx(["x"]))) as source,
            zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as out,
        ):
            for item in source.infolist():
                if item.filename != "word/document.xml":
                    out.writestr(item, source.read(item))
            with out.open("word/document.xml", "w") as body:
                body.write(_W_OPEN)
                paragraph = f"<w:p><w:r><w:t>{line.decode().strip()}</w:t></w:r></w:p>".encode()
                for _ in range(megabytes * (1 << 20) // 4 // len(paragraph)):
                    body.write(paragraph)
                body.write(b"</w:body></w:document>")
            with out.open(zipfile.ZipInfo("word/media/image1.bin"), "w") as image:
                for _ in range(megabytes):
                    image.write(os.urandom(1 << 20))
        cap = int(env.get("ARCHIVE_TEXT_CAP_MB", "4"))
        _, baseline = _put_peak(env, small)
        print(
            f"  archive put, text cap {cap} MiB; a one-line text: {baseline:.0f} MiB (the imports)"
        )
        # The DOCX inflates past the 1 GiB zip-bomb limit: raised for it, as a site would.
        inflating = {**env, "ARCHIVE_MAX_INFLATED_BYTES": str(4 << 30)}
        pdf = root / "large.pdf"
        _pdf_with_images(pdf, megabytes)
        for path, what in ((large, "text"), (docx, "DOCX"), (pdf, "PDF")):
            seconds, peak = _put_peak(inflating, path)
            print(
                f"  archive put of a {path.stat().st_size / 2**20:.0f} MiB {what}: "
                f"{seconds:.0f} s, peak memory (PSS) of the tree {peak:.0f} MiB "
                f"(+{peak - baseline:.0f} MiB)"
            )


if __name__ == "__main__":
    main()
