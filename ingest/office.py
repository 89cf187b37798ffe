"""Office documents laid out as PDF for reading, by LibreOffice headless inside the sandbox.

The reader shows a PDF as its pages look; an office document's extracted text loses its
headings, tables and full-width punctuation. So DOCX, XLSX, PPTX and ODF are rendered once, at
ingest, and the PDF is kept encrypted beside the version (``RenditionRole.OFFICE_PDF``). The
original stays what is kept, checked and downloaded.

Each run gets its own profile (``-env:UserInstallation``), HOME and TMPDIR in the job's private
work directory, deleted when the run ends (and with the directory anyway), so no copy of the
document outlives the job. Where the kernel allows an unprivileged user namespace, soffice runs
without a network (``unshare -rn``): a linked image or field cannot call out; a document that
links to anything outside itself is not laid out at all (:mod:`ingest.office_links`). The sandbox's
wall-clock limit kills soffice with its whole process group.

A conversion that fails, times out or cannot run never costs the document: the version is
kept with its text, and ``usability.rendition`` in its report says why there is no PDF (ok
null: a warning, not a failure), so the reader falls back to the text.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.config import IngestSettings
from ingest import sniff
from ingest.extract import check_zip, extract_pdf
from ingest.office_links import external_links
from ingest.sandbox import ParseFailure, SandboxError, run_limited

RENDITION = "usability.rendition"
_SUFFIXES = {
    sniff.DOCX: ".docx",
    sniff.XLSX: ".xlsx",
    sniff.PPTX: ".pptx",
    sniff.ODT: ".odt",
    sniff.ODS: ".ods",
    sniff.ODP: ".odp",
}


@dataclass(frozen=True)
class Rendered:
    """What one rendering gave: the PDF (None if none) and the report's words for it;
    ``pages``/``page_count`` are the PDF's text, for formats with no extractor of their own."""

    pdf: Path | None
    ok: bool | None
    detail: str
    pages: list[str] | None = None
    page_count: int | None = None
    truncated: bool = False


def find_soffice(settings: IngestSettings) -> str | None:
    if settings.office == "off":
        return None
    if settings.office != "auto":
        return settings.office
    return shutil.which("soffice") or shutil.which("libreoffice")


def status_line(settings: IngestSettings) -> str:
    """What start-up says about office renditions (they are off, rather than ingest failing)."""
    soffice = find_soffice(settings)
    if soffice is not None:
        return f"office renditions: on (LibreOffice at {soffice}, {settings.office_timeout} s each)"
    if settings.office == "off":
        return (
            "office renditions are off (ARCHIVE_OFFICE_RENDITIONS=off): office documents "
            "are read as their text"
        )
    return (
        "office renditions are off: LibreOffice (soffice) is not installed; office documents "
        "are read as their text (install libreoffice-writer-nogui, -calc-nogui, -impress-nogui)"
    )


@functools.cache
def network_cut() -> tuple[str, ...]:
    """The command prefix that runs soffice without a network, if this kernel allows it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    try:
        probe = subprocess.run(  # noqa: S603 - fixed argv
            [unshare, "-rn", "true"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return (unshare, "-rn") if probe.returncode == 0 else ()


def render(
    settings: IngestSettings, source: Path, media_type: str, out_pdf: Path, text_too: bool
) -> Rendered:
    """Render ``source`` to ``out_pdf`` in the sandbox; never raises for the file's sake."""
    soffice = find_soffice(settings)
    if soffice is None:
        why = "switched off" if settings.office == "off" else "LibreOffice is not installed"
        return Rendered(None, None, f"not rendered to PDF: {why}; read as its text")
    isolated = network_cut()
    started = time.monotonic()
    try:
        result = run_limited(
            convert,
            str(source),
            media_type,
            str(out_pdf),
            [*isolated, soffice],
            settings.max_inflated_bytes,
            settings.text_cap_bytes if text_too else 0,
            timeout=settings.office_timeout,
            memory_bytes=settings.extract_memory_mb << 20,
        )
    except SandboxError as exc:
        result = {"failure": str(exc)}
    if "failure" in result:
        out_pdf.unlink(missing_ok=True)
        return Rendered(None, None, f"not rendered to PDF: {result['failure']}; read as its text")
    seconds = time.monotonic() - started
    pages = int(result["page_count"])
    network = "without network" if isolated else "network not isolated"
    return Rendered(
        out_pdf,
        True,
        f"rendered to PDF by LibreOffice: {pages} page(s) in {seconds:.1f} s ({network})",
        result.get("pages") if text_too else None,
        pages,
        bool(result.get("truncated")),
    )


def convert(
    path: str,
    media_type: str,
    out_pdf: str,
    command: list[str],
    max_inflated: int,
    text_cap: int,
) -> dict[str, Any]:
    """Inside the sandbox child: check the package, run soffice, read the PDF back."""
    check_zip(Path(path), max_inflated)
    reaching_out = external_links(Path(path))
    if reaching_out:  # LibreOffice would read what they point at into the PDF
        raise ParseFailure(
            RENDITION, f"it links to content outside the document ({reaching_out[0]})"
        )
    target = Path(out_pdf)
    work = target.parent / "office"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    try:
        for part in ("home", "tmp", "profile", "out"):
            (work / part).mkdir(mode=0o700)
        document = work / ("document" + _SUFFIXES.get(media_type, ".bin"))
        shutil.copyfile(path, document)
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                *command,
                "--headless",
                "--invisible",
                "--norestore",
                "--nolockcheck",
                "--nologo",
                "--nodefault",
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work / "out"),
                str(document),
            ],
            env={
                "HOME": str(work / "home"),
                "TMPDIR": str(work / "tmp"),
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "SAL_USE_VCLPLUGIN": "svp",
            },
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        produced = work / "out" / "document.pdf"
        if not produced.is_file() or produced.stat().st_size == 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            raise ParseFailure(
                RENDITION,
                f"LibreOffice could not open it (exit {done.returncode}"
                + (f": {said[-1][:300]})" if said else ")"),
            )
        produced.replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    extracted = extract_pdf(target, max(text_cap, 1))
    return {
        "page_count": extracted["page_count"],
        "pages": extracted["pages"] if text_cap else None,
        "truncated": bool(text_cap and extracted.get("truncated")),
    }
