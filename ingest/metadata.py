"""Where a document's project, title and date come from, in order of trust.

Explicit metadata (form fields, API parameters, CLI options) → a file name already in
``项目名称-日期-版本号`` form → a JSON sidecar (``scan.pdf.json``) → the hot-folder path
``<department>/<project>/file`` → defaults. Each resolved value records its source, so a
record page can say why it is named as it is.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from archive.description import FIELDS as DESCRIBED
from archive.description import DescriptionError, clean_value
from archive.errors import DomainError
from archive.models import Sensitivity
from archive.naming import parse_name

FIELDS = (
    "project",
    "title",
    "date",
    "department",
    "sensitivity",
    "record_id",
    "major",
    "new_record",  # a file of a batch: a record of its own, never a version of a namesake
    *DESCRIBED,  # 责任者, 文号, 备注: given, they win over what ingest reads from the text
)
MAX_SIDECAR_BYTES = 64 * 1024
SIDECAR_SUFFIX = ".json"


def sidecar_path(path: Path) -> Path:
    """Where a file's metadata sidecar lives: ``scan.pdf`` → ``scan.pdf.json``."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def is_sidecar(name: str, names_beside: set[str]) -> bool:
    """A ``.json`` file named after a file beside it is that file's sidecar."""
    return name.endswith(SIDECAR_SUFFIX) and name[: -len(SIDECAR_SUFFIX)] in names_beside


class MetadataError(DomainError, ValueError):
    """Metadata given with a document is unusable; the message says which field and why."""


@dataclass
class Resolved:
    project: str
    title: str
    date: str | None
    department: str | None
    sensitivity: Sensitivity | None  # None: let classification and defaults decide
    record_id: uuid.UUID | None
    major: bool
    sources: dict[str, str] = field(default_factory=dict)
    new_record: bool = False  # no version of a record of the same project and title
    description: dict[str, str] = field(default_factory=dict)  # author, doc_number, remarks


def clean_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate metadata given with a document (API fields, sidecar) into plain JSON values."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in FIELDS or value in (None, ""):
            continue
        if key in ("major", "new_record"):
            params[key] = value in (True, "1", "true", "yes", "on")
        elif key == "sensitivity":
            try:
                params[key] = Sensitivity(str(value)).value
            except ValueError:
                choices = ", ".join(s.value for s in Sensitivity)
                raise MetadataError(f"sensitivity must be one of {choices}") from None
        elif key in DESCRIBED:
            try:
                text = clean_value(key, value if isinstance(value, str) else str(value))
            except DescriptionError as exc:  # the same rule, said beside the same field
                raise MetadataError(
                    str(exc), code=exc.code, field=exc.field, params=exc.params
                ) from None
            if text:
                params[key] = text
        elif key == "record_id":
            try:
                params[key] = str(uuid.UUID(str(value)))
            except ValueError:
                raise MetadataError(f"record_id {value!r} is not a record id") from None
        else:
            text = " ".join(str(value).split())
            if len(text) > 500:
                raise MetadataError(
                    f"{key} is longer than 500 characters",
                    code="too_long",
                    field=key,
                    params={"n": 500},
                )
            params[key] = text
    return params


def read_sidecar(path: Path) -> dict[str, Any]:
    """Metadata from ``<file>.json`` beside a file; an unreadable sidecar is an error."""
    if path.stat().st_size > MAX_SIDECAR_BYTES:
        raise MetadataError(f"sidecar {path.name} is larger than {MAX_SIDECAR_BYTES} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetadataError(f"sidecar {path.name} is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MetadataError(f"sidecar {path.name} must hold a JSON object")
    return clean_params(data)


def resolve(
    params: dict[str, Any],
    filename: str,
    *,
    sidecar: dict[str, Any] | None = None,
    folder: str | None = None,
    default_project: str,
) -> Resolved:
    """Combine the sources; ``folder`` is the hot-folder path relative to the inbox."""
    layers: list[tuple[str, dict[str, Any]]] = [("explicit", params)]
    parsed = parse_name(filename)
    if parsed is not None:
        stem = f"{parsed.project}-{parsed.date}"
        layers.append(
            ("file name", {"project": parsed.project, "date": parsed.date, "title": stem})
        )
    if sidecar:
        layers.append(("sidecar", sidecar))
    if folder:
        parts = PurePosixPath(folder).parts
        from_path: dict[str, Any] = {}
        if len(parts) >= 2:
            from_path = {"department": parts[0], "project": parts[1]}
        elif len(parts) == 1:
            from_path = {"project": parts[0]}
        layers.append(("folder", from_path))
    layers.append(("default", {"project": default_project, "title": Path(filename).stem}))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for key in FIELDS:
            if key not in values and layer.get(key) not in (None, ""):
                values[key], sources[key] = layer[key], source
    sensitivity = values.get("sensitivity")
    record_id = values.get("record_id")
    return Resolved(
        project=str(values["project"]),
        title=str(values.get("title") or values["project"]),
        date=values.get("date"),
        department=values.get("department"),
        sensitivity=Sensitivity(sensitivity) if sensitivity else None,
        record_id=uuid.UUID(record_id) if record_id else None,
        major=bool(values.get("major", False)),
        sources=sources,
        new_record=bool(values.get("new_record", False)),
        description={key: str(values[key]) for key in DESCRIBED if values.get(key)},
    )
