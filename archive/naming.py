"""Canonical names ``项目名称-日期-版本号`` (e.g. ``XX项目-2023-01-1.0``) and version numbers.

A name must survive every place a file goes: Windows and POSIX file systems, S3 keys,
``Content-Disposition`` headers and zip files. So the project part keeps Chinese and other
letters but loses control and invisible formatting characters (bidi overrides can make
``exe.pdf`` display as ``fdp.exe``), path separators and characters Windows reserves.
When two records share project and date, the second and later get a serial in parentheses,
``XX项目(2)-2023-01-1.0``, the way file managers number duplicates.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from archive.db import local_today
from archive.errors import DomainError

MAX_PROJECT_CHARS = 60
MAX_PROJECT_BYTES = 180  # 60 Chinese characters; leaves room for serial, date, version
MAX_NAME_BYTES = 240  # stays under the 255-byte file name limit with room for an extension
_RESERVED = set('/\\:*?"<>|')
# ASCII digits only: ``２０２６`` or ``٢٠٢٦`` would name a record apart from ``2026``.
_DATE = {
    "month": re.compile(r"\d{4}-(0[1-9]|1[0-2])", re.ASCII),
    "day": re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", re.ASCII),
}
_NAME = re.compile(
    r"^(?P<project>.+?)(?:\((?P<serial>[1-9]\d*)\))?"
    r"-(?P<date>\d{4}-\d{2}(?:-\d{2})?)-(?P<major>\d+)\.(?P<minor>\d+)$",
    re.ASCII,
)
#: The years a document's date may have: an old archive's papers, up to next year (a
#: contract dated ahead). 9999 or 0000 is a typo, and would break the retention arithmetic.
FIRST_YEAR = 1000


class NamingError(DomainError, ValueError):
    """The input cannot make a safe canonical name; the message says why."""


@dataclass(frozen=True, order=True)
class VersionNumber:
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def next(self, major_revision: bool = False) -> VersionNumber:
        """1.0 → 1.1 → … → 1.10; a declared major revision goes to the next whole number."""
        if major_revision:
            return VersionNumber(self.major + 1, 0)
        return VersionNumber(self.major, self.minor + 1)

    @classmethod
    def parse(cls, text: str) -> VersionNumber:
        match = re.fullmatch(r"(\d{1,4})\.(\d{1,4})", text.strip())
        if not match:
            raise NamingError(f"version {text!r} is not of the form MAJOR.MINOR, e.g. 1.0")
        return cls(int(match[1]), int(match[2]))


FIRST_VERSION = VersionNumber(1, 0)


@dataclass(frozen=True)
class ParsedName:
    project: str
    date: str
    version: VersionNumber
    serial: int = 1


def clean_project_name(raw: str) -> str:
    """Return the project name as it may appear in a canonical name, or raise NamingError."""
    text = unicodedata.normalize("NFC", raw)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char.isspace():
            kept.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue  # control, invisible format (bidi, zero-width), surrogates, unassigned
        elif char in _RESERVED:
            kept.append("_")
        elif category.startswith("Z"):
            kept.append(" ")
        else:
            kept.append(char)
    cleaned = re.sub(r" {2,}", " ", "".join(kept)).strip(" ._-")
    if not any(char.isalnum() for char in cleaned):
        raise NamingError(f"project name {raw!r} has no letters or digits left once made safe")
    if len(cleaned) > MAX_PROJECT_CHARS or len(cleaned.encode()) > MAX_PROJECT_BYTES:
        raise NamingError(
            f"project name is {len(cleaned)} characters long; at most {MAX_PROJECT_CHARS} "
            f"(and {MAX_PROJECT_BYTES} bytes in UTF-8)"
        )
    return cleaned


def format_date(value: date | str, granularity: str = "month") -> str:
    """``2023-01`` (month, the default) or ``2023-01-05`` (day); validates strings."""
    if isinstance(value, date):
        return value.strftime("%Y-%m" if granularity == "month" else "%Y-%m-%d")
    pattern = _DATE.get(granularity)
    if pattern is None:
        raise NamingError(f"unknown date granularity {granularity!r}")
    if not pattern.fullmatch(value):
        example = "2023-01" if granularity == "month" else "2023-01-05"
        raise NamingError(f"date {value!r} is not of the form {example}")
    last_year = local_today().year + 1
    if not FIRST_YEAR <= int(value[:4]) <= last_year:
        raise NamingError(f"date {value!r} is not a year from {FIRST_YEAR} to {last_year}")
    if granularity == "day":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise NamingError(f"date {value!r} does not exist") from None
    return value


def name_stem(project: str, date_part: str, serial: int = 1) -> str:
    """The part shared by all versions of one record: ``项目名称[(n)]-日期``."""
    suffix = f"({serial})" if serial > 1 else ""
    return f"{clean_project_name(project)}{suffix}-{date_part}"


def version_name(stem: str, version: VersionNumber) -> str:
    name = f"{stem}-{version}"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise NamingError(f"name {name!r} is longer than {MAX_NAME_BYTES} bytes in UTF-8")
    return name


def build_name(
    project: str, when: date | str, version: VersionNumber, granularity: str = "month"
) -> str:
    return version_name(name_stem(project, format_date(when, granularity)), version)


def parse_name(text: str) -> ParsedName | None:
    """Split a name (a file name, extension allowed) that follows the convention, else None."""
    stem = unicodedata.normalize("NFC", text.strip())
    stem = re.sub(r"\.[A-Za-z][A-Za-z0-9]{0,5}$", "", stem)  # a trailing .pdf, .docx …
    match = _NAME.match(stem)
    if not match:
        return None
    date_part = match["date"]
    granularity = "day" if len(date_part) == 10 else "month"
    try:
        format_date(date_part, granularity)
        project = clean_project_name(match["project"])
    except NamingError:
        return None
    return ParsedName(
        project=project,
        date=date_part,
        version=VersionNumber(int(match["major"]), int(match["minor"])),
        serial=int(match["serial"] or 1),
    )
