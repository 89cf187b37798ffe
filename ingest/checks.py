"""The ingest checks (四性检测, after DA/T 70-2018): authenticity, integrity, usability, security.

A report maps each named check to ``{"ok": true|false|null, "detail": ...}`` (null: not
applicable or the tool is missing, with the detail saying so). The first failure, in the
order below, is the reason a file is quarantined.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.config import IngestSettings

ORDER = (
    "authenticity.digest",
    "authenticity.metadata_valid",
    "authenticity.reference_code",
    "integrity.required_metadata",
    "integrity.item_numbers",
    "integrity.content_present",
    "security.virus_scan",
    "security.write_permitted",
    "usability.allowed_format",
    "usability.not_encrypted",
    "usability.opens",
    "usability.rendition",
    "security.controlled_process",
)
#: The check a version into a record its uploader may not write fails.
WRITE_CHECK = "security.write_permitted"
#: Failures no release overrides: malware, and a version into someone else's record.
NOT_RELEASABLE = frozenset({"security.virus_scan", WRITE_CHECK})
_SCAN_TIMEOUT = 600


@dataclass
class Report:
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def passed(self, check: str, detail: str = "", **facts: Any) -> None:
        """``facts``: what else the check saw, kept with the report (JSON-able)."""
        self.results[check] = {"ok": True, "detail": detail, **facts}

    def failed(self, check: str, detail: str) -> None:
        self.results[check] = {"ok": False, "detail": detail}

    def skipped(self, check: str, detail: str) -> None:
        self.results[check] = {"ok": None, "detail": detail}

    def first_failure(self, among: frozenset[str] | None = None) -> tuple[str, str] | None:
        """The first failed check in the standard order (only ``among`` those, if given)."""
        for check in sorted(self.results, key=_position):
            result = self.results[check]
            if result["ok"] is False and (among is None or check in among):
                return check, str(result["detail"])
        return None

    def as_dict(self) -> dict[str, Any]:
        return {check: self.results[check] for check in sorted(self.results, key=_position)}


def opens_detail(extracted: dict[str, Any]) -> str:
    """What ``usability.opens`` saw in an extraction result: the pages, and for an OFD the
    documents it holds and whether they are signed (the signatures are not verified)."""
    pages = extracted.get("page_count") or 1
    detail = f"{pages} page(s)"
    ofd = extracted.get("ofd")
    if isinstance(ofd, dict):
        signed = ofd.get("signed") or 0
        detail += (
            f"; OFD (GB/T 33190): {ofd.get('documents')} document(s) listing {pages} page(s), "
            + (f"{signed} signed (signatures not verified)" if signed else "not signed")
        )
        blank = sum(1 for page in extracted.get("pages") or [] if not str(page).strip())
        if blank:
            detail += f"; {blank} page(s) without text (OFD pages are not OCR'd)"
    return detail


def opens_facts(extracted: dict[str, Any]) -> dict[str, Any]:
    """What ``usability.opens`` keeps besides its sentence: for an OFD, its documents,
    signatures and the first document's DocInfo (DocID, title, author, dates)."""
    ofd = extracted.get("ofd")
    return {"ofd": ofd} if isinstance(ofd, dict) else {}


def _position(check: str) -> int:
    return ORDER.index(check) if check in ORDER else len(ORDER)


@dataclass(frozen=True)
class ScanResult:
    ok: bool | None
    detail: str


def find_clamscan(settings: IngestSettings) -> str | None:
    if settings.clamav == "off":
        return None
    if settings.clamav not in ("auto", "required"):
        return settings.clamav
    return shutil.which("clamscan")


#: Where Debian's freshclam keeps the signatures when ARCHIVE_CLAMAV_DATABASE names none.
CLAMAV_DATABASE = Path("/var/lib/clamav")
_SIGNATURE_FILES = frozenset(
    {".cvd", ".cld", ".cud", ".hdb", ".hsb", ".ndb", ".ldb", ".mdb", ".msb", ".cdb", ".yar"}
)


def scanner_problem(settings: IngestSettings) -> str | None:
    """Why files would be stored without a virus scan (``off``, ``not_installed``,
    ``no_database``), or None when ClamAV is ready: said at start-up and to the people who
    answer for it, since an unscanned file is stored (its check says "not scanned")."""
    if settings.clamav == "off":
        return "off"
    if find_clamscan(settings) is None:
        return "not_installed"
    database = Path(settings.clamav_database) if settings.clamav_database else CLAMAV_DATABASE
    found = [database] if database.is_file() else list(database.glob("*"))
    if not any(path.suffix in _SIGNATURE_FILES for path in found):
        return "no_database"
    return None


def scanner_line(settings: IngestSettings) -> str:
    """What a worker says at start-up about virus scanning."""
    problem = scanner_problem(settings)
    if problem is None:
        return "virus scan: on (ClamAV)"
    why = {
        "off": "ARCHIVE_CLAMAV=off",
        "not_installed": "ClamAV (clamscan) is not installed",
        "no_database": "ClamAV has no signature database: run freshclam, or set "
        "ARCHIVE_CLAMAV_DATABASE",
    }[problem]
    if settings.clamav == "required":
        return f"WARNING virus scan: every file is quarantined as NOT scanned ({why})"
    return f"WARNING virus scan: files are stored NOT scanned ({why})"


def virus_scan(path: Path, settings: IngestSettings) -> ScanResult:
    """Scan with ClamAV's ``clamscan`` when installed; say plainly when it is not."""
    clamscan = find_clamscan(settings)
    if clamscan is None:
        reason = "disabled" if settings.clamav == "off" else "ClamAV is not installed"
        return ScanResult(None, f"not scanned: {reason}")
    command = [clamscan, "--no-summary", "--infected", "--stdout"]
    if settings.clamav_database:
        command.append(f"--database={settings.clamav_database}")
    command.append(str(path))
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            command, capture_output=True, text=True, timeout=_SCAN_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return ScanResult(False, f"virus scan did not finish in {_SCAN_TIMEOUT} s")
    if done.returncode == 0:
        return ScanResult(True, "ClamAV: clean")
    if done.returncode == 1:
        found = done.stdout.strip().rsplit(":", 1)[-1].strip() or "a signature"
        return ScanResult(False, f"ClamAV found {found}")
    # 2: ClamAV itself failed (typically: no signature database yet, freshclam never ran).
    message = (done.stderr or done.stdout).strip().splitlines()
    return ScanResult(None, "not scanned: ClamAV error: " + (message[-1] if message else "?"))
