"""Transfer packages (移交): the 四性 checks on their files, and their import.

A package is a BagIt bag with a folder per record: each version as a plain file, the
record's ``metadata.json`` (its description, with ``files``: file name → version name) and
its ``audit.json``. Retention writes it and checks each record folder before it leaves with
:func:`check_transfer_folder`, which the caller of :func:`retention.execution.execute` passes
in. The receiving archive checks the whole package again (:func:`verify_package`) and imports
it through the ordinary ingest pipeline (:func:`import_package`), so every file passes the
same checks as any other.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bagit

from archive.audit import Actor, record_event
from archive.backup import bag_problems
from archive.config import IngestSettings
from archive.core import Archive
from archive.db import LOCAL_TIME, utcnow
from archive.errors import DomainError
from archive.models import IngestJob, IngestStatus
from archive.receipts import manifest_digest, sign_receipt
from ingest.checks import Report
from ingest.jobs import receive
from ingest.pipeline import process
from ingest.recheck import Expected, recheck_file, recheck_metadata


class PackageError(DomainError):
    """The package is not a bag, fails its manifests, or a record in it fails a check."""


@dataclass
class PackageReport:
    problems: list[str]
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # folder → checks
    not_run: list[str] = field(default_factory=list)  # checks that could not run here

    @property
    def ok(self) -> bool:
        return not self.problems


def check_record_folder(
    folder: Path, description: dict[str, Any], settings: IngestSettings
) -> dict[str, Any]:
    """The 四性 report of one record folder: every file against its recorded version, and
    its description, which must carry the record's 档号."""
    report = Report()
    recheck_metadata(description, report, transferred=True)
    versions = {v["name"]: v for v in description.get("versions", [])}
    files = description.get("files", {})
    if set(files.values()) != set(versions):
        report.failed(
            "integrity.content_present",
            f"files {sorted(files.values())} do not match versions {sorted(versions)}",
        )
        return report.as_dict()
    strays = [f for f in files if not _inside(folder, f)]
    if strays:  # a name that leads out of the folder is never opened: not even hashed
        report.failed(
            "integrity.content_present",
            f"{', '.join(map(repr, sorted(strays)))} not a file of this record's folder",
        )
        return {"record": report.as_dict()}
    results: dict[str, Any] = {"record": report.as_dict()}
    for filename, name in sorted(files.items()):
        version = versions[name]
        expected = Expected(version["sha256"], version["size"], version["media_type"], filename)
        path = folder / filename
        if not path.is_file():
            missing = Report()
            missing.failed("integrity.content_present", f"{filename} is missing")
            results[name] = missing.as_dict()
            continue
        results[name] = recheck_file(path, expected, settings).as_dict()
    return results


def _inside(folder: Path, filename: object) -> bool:
    """Whether ``filename`` names a regular file directly in ``folder``: a plain name (no
    separator, no ``..``, not absolute) and not a link, so a sending archive's description
    cannot make this one read ``/etc/hostname`` or its own keyring."""
    if not isinstance(filename, str) or filename in ("", ".", ".."):
        return False
    if "/" in filename or "\\" in filename or "\x00" in filename:
        return False
    path = folder / filename
    return not path.is_symlink() and (not path.exists() or path.is_file())


def failures(results: dict[str, Any], ok: bool | None = False) -> list[str]:
    """Every failed check in a folder's results, as ``what: check detail``; with ``ok=None``,
    every check that could not run (a virus scan without ClamAV, say)."""
    found = []
    for what, checks in results.items():
        for check, result in checks.items():
            if isinstance(result, dict) and "ok" in result and result["ok"] is ok:
                found.append(f"{what}: {check} {result.get('detail')}")
    return found


def check_transfer_folder(
    arc: Archive, folder: Path, description: dict[str, Any]
) -> dict[str, Any]:
    """The 四性 report of a record folder of an outgoing transfer package: the
    :data:`retention.transfer.FolderCheck` to pass to :func:`retention.execution.execute`."""
    return check_record_folder(folder, description, arc.settings.ingest)


def _record_folders(root: Path) -> list[Path]:
    """The record folders of a package: real folders under ``data/`` (a link to a folder
    elsewhere is not one), each with its own description."""
    return sorted(
        p
        for p in (root / "data").iterdir()
        if not p.is_symlink()
        and p.is_dir()
        and (p / "metadata.json").is_file()
        and not (p / "metadata.json").is_symlink()
    )


def verify_package(arc: Archive, path: Path) -> PackageReport:
    """The bag's manifests, then the 四性 checks on every record folder again."""
    try:
        bag = bagit.Bag(str(path))
    except bagit.BagError as exc:
        raise PackageError(f"{path} is not a bag: {exc}") from None
    problems = bag_problems(bag)
    if problems:
        return PackageReport([f"manifest: {p}" for p in problems])
    report = PackageReport([])
    for folder in _record_folders(path):
        description = json.loads((folder / "metadata.json").read_text("utf-8"))
        results = check_record_folder(folder, description, arc.settings.ingest)
        report.records[folder.name] = results
        report.problems += [f"{folder.name}/{f}" for f in failures(results)]
        report.not_run += [f"{folder.name}/{f}" for f in failures(results, ok=None)]
    return report


@dataclass
class ImportReport:
    records: dict[str, uuid.UUID]  # the package's record name → the new record's id
    versions: int
    receipt: dict[str, Any] = field(default_factory=dict)  # signed, for the sending archive


def import_package(arc: Archive, actor: Actor, path: Path) -> ImportReport:
    """Verify, then ingest every record of the package, versions in order, keeping names'
    dates, filing dates, titles, departments and sensitivity. Refuses a package that fails."""
    checked = verify_package(arc, path)
    if not checked.ok:
        raise PackageError(
            f"{path} fails its checks, nothing imported: {'; '.join(checked.problems[:5])}"
        )
    imported: dict[str, uuid.UUID] = {}
    received: list[dict[str, Any]] = []
    count = 0
    for folder in _record_folders(path):
        description = json.loads((folder / "metadata.json").read_text("utf-8"))
        received.append(
            {
                "reference_code": description.get("reference_code"),
                "title": description.get("title"),
                "versions": [v["sha256"] for v in description["versions"]],
            }
        )
        by_name = {name: filename for filename, name in description["files"].items()}
        record_id: uuid.UUID | None = None
        previous_major = None
        for version in description["versions"]:
            major = int(version["name"].rsplit("-", 1)[1].split(".")[0])
            params = {
                "project": description["project"],
                "date": description["filed_on"],
                "title": description["title"],
                "department": description.get("department"),
                "sensitivity": description.get("sensitivity"),
                **{k: description.get(k) for k in ("author", "doc_number", "remarks")},
                "record_id": str(record_id) if record_id else None,
                "major": previous_major is not None and major > previous_major,
            }
            descriptor = os.open(folder / by_name[version["name"]], os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(descriptor, "rb") as source:  # checked as a plain file by verify
                job_id = receive(
                    arc,
                    source,
                    filename=by_name[version["name"]],
                    source_kind="transfer",
                    actor=actor,
                    params=params,
                )
            process(arc, job_id)
            with arc.sessions() as session:
                job = session.get_one(IngestJob, job_id)
                if job.status != IngestStatus.STORED or job.record_id is None:
                    raise PackageError(
                        f"{folder.name}/{version['name']} was not stored "
                        f"({job.status.value}: {job.reason}); job {job_id} keeps it"
                    )
                record_id = job.record_id
            previous_major, count = major, count + 1
        assert record_id is not None  # noqa: S101 - a description lists at least one version
        imported[folder.name] = record_id
        trail = json.loads((folder / "audit.json").read_text("utf-8"))
        with arc.transaction() as session:
            record_event(
                session,
                actor,
                "record.imported",
                "record",
                record_id,
                {
                    "package": path.name,
                    "from_record": description.get("record_id"),
                    "from_name": description.get("name"),
                    "audit_head": trail[-1]["hash"] if trail else None,
                    "audit_events": len(trail),
                },
            )
        received[-1]["received_as"] = str(record_id)
    return ImportReport(imported, count, _receipt(arc, actor, path, received))


def _receipt(
    arc: Archive, actor: Actor, path: Path, received: list[dict[str, Any]]
) -> dict[str, Any]:
    """The signed receipt for what was imported (audited here, recorded by the sender)."""
    info = bagit.Bag(str(path)).info
    receipt = sign_receipt(
        arc.keyring,
        {
            "list": info.get("External-Identifier", ""),
            "package": path.name,
            "manifest_sha256": manifest_digest(path),
            "records": received,
            "receiver": arc.settings.organisation,
            "received_by": actor.name,
            "received_at": utcnow().astimezone(LOCAL_TIME).isoformat(timespec="seconds"),
        },
    )
    with arc.transaction() as session:
        record_event(
            session,
            actor,
            "transfer.receipt_issued",
            "transfer",
            receipt["list"] or path.name,
            {"manifest_sha256": receipt["manifest_sha256"], "records": len(received)},
        )
    return receipt
