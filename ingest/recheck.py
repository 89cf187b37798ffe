"""The 四性 checks run again on what was already kept: a stored version (the quarterly audit
sample) or a file in a transfer package (before it leaves, and when it is received).

Same checks and names as at ingest (:mod:`ingest.checks`), judged against what was recorded
then: the digest and size must still match, the format must still be the recorded one and
allowed, the file must still open (in the same sandbox), the description must still hold
its required fields.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from archive.config import IngestSettings
from archive.content import ContentError, read_content
from archive.core import Archive
from archive.crypto import ContentIntegrityError
from archive.fixity import renditions_problem
from archive.fsutil import file_sha256
from archive.models import Record, Version
from archive.refcode import ReferenceCodeError, parse_reference, series_gaps
from archive.storage import StorageError
from archive.volumes import volume_of
from ingest import sniff
from ingest.checks import Report, opens_detail, opens_facts, virus_scan
from ingest.extract import extract
from ingest.sandbox import SandboxError, run_limited

#: What a description must still say for a record to be understood without the system.
REQUIRED_METADATA = ("name", "title", "project", "filed_on")


@dataclass(frozen=True)
class Expected:
    """What was recorded at ingest."""

    sha256: str
    size: int
    media_type: str
    filename: str


def recheck_file(path: Path, expected: Expected, settings: IngestSettings) -> Report:
    """Authenticity, integrity, security and usability of one kept file."""
    report = Report()
    found = file_sha256(path)
    if found == expected.sha256:
        report.passed("authenticity.digest", f"SHA-256 {found}")
    else:
        report.failed("authenticity.digest", f"SHA-256 {found}, recorded {expected.sha256}")
    size = path.stat().st_size
    if size == 0 or size != expected.size:
        report.failed("integrity.content_present", f"{size} bytes, recorded {expected.size}")
    else:
        report.passed("integrity.content_present", f"{size} bytes")
    scan = virus_scan(path, settings)
    {True: report.passed, False: report.failed, None: report.skipped}[scan.ok](
        "security.virus_scan", scan.detail
    )
    media_type = sniff.sniff(path)
    if media_type not in sniff.ALLOWED:
        report.failed("usability.allowed_format", f"{media_type} is not a format kept")
    elif media_type != expected.media_type:
        report.failed("usability.allowed_format", f"{media_type}, recorded {expected.media_type}")
    else:
        report.passed("usability.allowed_format", media_type)
        _opens(path, media_type, settings, report)
    return report


def _opens(path: Path, media_type: str, settings: IngestSettings, report: Report) -> None:
    limits = {
        "max_image_pixels": settings.max_image_pixels,
        "max_inflated_bytes": settings.max_inflated_bytes,
        "text_cap_bytes": settings.text_cap_bytes,
    }
    try:
        result = run_limited(
            extract,
            str(path),
            media_type,
            limits,
            timeout=settings.extract_timeout,
            memory_bytes=settings.extract_memory_mb << 20,
        )
    except SandboxError as exc:
        report.failed("usability.opens", str(exc))
        return
    if "failure" in result:
        report.failed(str(result["check"]), str(result["failure"]))
        return
    report.passed("usability.not_encrypted")
    report.passed("usability.opens", opens_detail(result), **opens_facts(result))


def recheck_metadata(
    description: Mapping[str, Any], report: Report, *, transferred: bool = False
) -> None:
    """Required fields and the 档号's format. A record kept here may wait for its 档号 (its
    class in review, no schedule yet); a ``transferred`` one (in a transfer package) may
    not: it leaves only under its 档号, as the 移交清册 lists it."""
    required = (*REQUIRED_METADATA, "reference_code") if transferred else REQUIRED_METADATA
    missing = [name for name in required if not description.get(name)]
    if missing:
        report.failed("integrity.required_metadata", f"missing {', '.join(missing)}")
    else:
        report.passed("integrity.required_metadata", ", ".join(required))
    code = description.get("reference_code")
    if not code and transferred:
        report.failed("authenticity.reference_code", "no 档号: a record is transferred under it")
    elif code:  # a record waiting for review or a schedule has none yet
        try:
            parse_reference(str(code))
        except ReferenceCodeError as exc:
            report.failed("authenticity.reference_code", str(exc))
        else:
            report.passed("authenticity.reference_code", str(code))


def recheck_numbering(session: Session, record: Record, report: Report) -> None:
    """The record's 档号 is the one its series and item say, and its series has no gap (nor,
    for a record bound in a volume, the series the volume is numbered in)."""
    if record.reference_code is None:  # not numbered (yet): nothing was checked
        report.skipped("authenticity.reference_code", "no 档号 yet")
        return
    if record.reference_code != f"{record.reference_series}-{record.reference_item:04d}":
        report.failed(
            "authenticity.reference_code",
            f"{record.reference_code} does not match series {record.reference_series} "
            f"item {record.reference_item}",
        )
    series = [record.reference_series or ""]
    volume = volume_of(session, record)
    if volume is not None:  # its volume's place in the series counts too
        series.append(volume.series)
    gaps = series_gaps(session, series)
    if gaps:
        report.failed(
            "integrity.item_numbers",
            f"series {gaps[0].series} holds {gaps[0].count} items numbered up to "
            f"{gaps[0].highest}: a number is missing or repeated",
        )
    else:
        report.passed("integrity.item_numbers", f"series {record.reference_series}")


def recheck_version(arc: Archive, session: Session, version: Version) -> Report:
    """Decrypt a stored version to a private temporary file and run the checks on it."""
    expected = Expected(version.sha256, version.size, version.media_type, version.original_filename)
    with tempfile.TemporaryDirectory(prefix="archive-recheck-") as scratch:
        path = Path(scratch) / "content"
        try:
            with path.open("wb") as out:
                for chunk in read_content(arc, session, version):
                    out.write(chunk)
        except (ContentIntegrityError, ContentError, StorageError) as exc:
            report = Report()
            report.failed("authenticity.digest", f"cannot be read back: {exc}")
            return report
        report = recheck_file(path, expected, arc.settings.ingest)
    unreadable = renditions_problem(arc, session, version)  # what readers are shown
    if unreadable:
        report.failed("usability.rendition", f"cannot be read back: {unreadable}")
    record = version.record
    recheck_metadata(
        {
            "name": version.name,
            "title": record.title,
            "project": record.project.name if record.project else None,
            "filed_on": record.filed_on,
            "reference_code": record.reference_code,
        },
        report,
    )
    recheck_numbering(session, record, report)
    return report
