"""OCR of scans (images and image-only PDFs) with OCRmyPDF and Tesseract.

Runs inside the sandbox child. Images become a PDF first (img2pdf: lossless, multi-page TIFF
included); OCRmyPDF then adds the text layer, and that PDF is kept as a rendition beside the
original. Threads, not processes, inside OCRmyPDF: the sandbox child may descend from a
daemonic Celery worker.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ingest import sniff
from ingest.extract import NOT_ENCRYPTED, OPENS
from ingest.sandbox import ParseFailure

ASSUMED_DPI = 300  # for scans that do not say; recorded as unknown in the scan facts


def ocr(
    path: str, media_type: str, out_pdf: str, languages: str, dpi: int | None
) -> dict[str, Any]:
    import img2pdf

    for noisy in ("ocrmypdf", "fontTools", "pikepdf", "PIL"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    source = Path(path)
    work = Path(out_pdf).parent
    if media_type in sniff.IMAGES:
        pdf_in = work / "scan.pdf"
        layout = img2pdf.get_fixed_dpi_layout_fun((dpi or ASSUMED_DPI, dpi or ASSUMED_DPI))
        try:
            pdf_in.write_bytes(
                img2pdf.convert(str(source), layout_fun=layout, rotation=img2pdf.Rotation.ifvalid)
            )
        except Exception as exc:  # img2pdf raises its own and Pillow's errors
            raise ParseFailure(OPENS, f"the image cannot be converted: {exc}") from None
    else:
        pdf_in = source
    pages = _run_ocrmypdf(pdf_in, Path(out_pdf), work / "ocr.txt", languages, None)
    if not any(page.strip() for page in pages):
        # Tesseract's automatic layout analysis finds nothing on some sparse pages (a line
        # or two on a large sheet); reading the page as one block of text recovers them.
        pages = _run_ocrmypdf(pdf_in, Path(out_pdf), work / "ocr.txt", languages, 6)
    return {"pages": pages, "page_count": len(pages)}


def _run_ocrmypdf(
    pdf_in: Path, out_pdf: Path, sidecar: Path, languages: str, psm: int | None
) -> list[str]:
    import ocrmypdf

    options: dict[str, Any] = {"tesseract_pagesegmode": psm} if psm is not None else {}
    try:
        ocrmypdf.ocr(
            pdf_in,
            out_pdf,
            language=languages.split("+"),
            sidecar=sidecar,
            output_type="pdf",
            optimize=0,
            skip_text=True,
            progress_bar=False,
            use_threads=True,
            jobs=1,
            **options,
        )
    except ocrmypdf.exceptions.EncryptedPdfError:
        raise ParseFailure(NOT_ENCRYPTED, "the PDF is password-protected") from None
    except ocrmypdf.exceptions.ExitCodeException as exc:
        raise ParseFailure(OPENS, f"OCR failed: {type(exc).__name__}: {exc}") from None
    text = sidecar.read_text(encoding="utf-8") if sidecar.exists() else ""
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return pages
