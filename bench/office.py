"""Seconds per office document laid out as PDF (ingest.office.render: the sandboxed soffice
run with its own profile, HOME and TMPDIR, no network), beside a bare ``soffice
--convert-to pdf`` of the same file, the ceiling it cannot beat.

    .venv/bin/python bench/office.py [--docs 5] [--paragraphs 40]
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/ingest.py shadows

from archive.config import IngestSettings
from ingest import sniff
from ingest.office import find_soffice, network_cut, render


def sample_docx(paragraphs: int, seed: int) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(f"华东仓储改造项目验收报告（第{seed}号）", level=1)
    for n in range(paragraphs):
        document.add_paragraph(f"第{n + 1}条：本项目已按期完成，验收合格。“质量”达标；" * 3)
    grid = document.add_table(rows=10, cols=4)
    for r in range(10):
        for c in range(4):
            grid.cell(r, c).text = f"单元{r}-{c}"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=5)
    parser.add_argument("--paragraphs", type=int, default=40)
    args = parser.parse_args()
    settings = IngestSettings()
    soffice = find_soffice(settings)
    if soffice is None:
        raise SystemExit("LibreOffice (soffice) is not installed")
    network_cut()  # probed once per process, as in a worker
    rendered, bare, pages = [], [], 0
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for seed in range(args.docs):
            source = work / f"doc{seed}.docx"
            source.write_bytes(sample_docx(args.paragraphs, seed))
            started = time.monotonic()
            result = render(settings, source, sniff.DOCX, work / "office.pdf", False)
            rendered.append(time.monotonic() - started)
            assert result.ok, result.detail
            pages = result.page_count or 0
            started = time.monotonic()
            subprocess.run(
                [
                    soffice,
                    "--headless",
                    f"-env:UserInstallation={(work / f'profile{seed}').as_uri()}",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(work / "bare"),
                    str(source),
                ],
                capture_output=True,
                check=True,
            )
            bare.append(time.monotonic() - started)
    print(f"{args.docs} DOCX of {pages} page(s) each")
    for name, times in (("render (sandboxed)", rendered), ("bare soffice", bare)):
        print(
            f"  {name:20} median {statistics.median(times):.2f} s  "
            f"min {min(times):.2f} s  max {max(times):.2f} s"
        )


if __name__ == "__main__":
    main()
