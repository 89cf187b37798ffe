"""Transfer (移交): the records of a signed transfer list as a BagIt package, then marked.

The package holds, per record, every version decrypted (a receiving archive must be able
to open them: 四性 usability), its description and schedule, its audit trail and the result
of the 四性 checks run on the written files (``checks.json``; a record failing them stays
behind, named in the list's result), with a SHA-256 manifest over all of it. It is written
beside the data directory in plaintext, by design: move it to the receiving archive's
custody and keep it on an encrypted volume meanwhile.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import bagit
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.accesslog import ALLOWED, Client, log_access
from archive.audit import Actor, record_event
from archive.content import read_content
from archive.core import Archive
from archive.db import local_today, utcnow
from archive.models import (
    AuditEvent,
    DispositionItem,
    DispositionList,
    Record,
    RecordState,
    User,
    Version,
)
from archive.record_facts import describe
from retention.clock import is_eligible
from retention.dat46 import description_xml
from retention.errors import NOT_DUE, Conflict, already
from retention.holds import ensure_free, holds_on, refusals_audited

#: The 四性 check of one record folder of a transfer package. It gets the archive, the written
#: record folder and its description (``metadata.json``, with ``files``: file name → version
#: name) and returns the 四性 report ``{what: {check: {"ok": bool, "detail": ...}}}``.
FolderCheck = Callable[[Archive, Path, dict[str, Any]], dict[str, Any]]


def _audit_trail(session: Any, record: Record, version_ids: list[str]) -> list[dict[str, Any]]:
    events = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                (AuditEvent.object_type == "record") & (AuditEvent.object_id == str(record.id)),
                (AuditEvent.object_type == "version") & AuditEvent.object_id.in_(version_ids),
            )
        )
        .order_by(AuditEvent.seq)
    )
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "ip": e.ip,
            "action": e.action,
            "details": e.details,
            "hash": e.hash,
        }
        for e in events
    ]


def _write_record(
    arc: Archive, session: Any, record: Record, folder: Path, check_folder: FolderCheck
) -> list[str]:
    """Write the record's folder and run the 四性 checks on it; returns what failed."""
    folder.mkdir(parents=True)
    versions = list(
        session.scalars(
            select(Version)
            .where(Version.record_id == record.id)
            .order_by(Version.major, Version.minor)
        )
    )
    files = {}
    for version in versions:
        suffix = PurePosixPath(version.original_filename).suffix[:10]
        files[f"{version.name}{suffix}"] = version.name
        with (folder / f"{version.name}{suffix}").open("wb") as out:
            for chunk in read_content(arc, session, version):
                out.write(chunk)
    description = {**describe(session, record), "files": files}
    (folder / "metadata.json").write_text(
        json.dumps(description, ensure_ascii=False, indent=2), "utf-8"
    )
    trail = _audit_trail(session, record, [str(v.id) for v in versions])
    (folder / "audit.json").write_text(json.dumps(trail, ensure_ascii=False, indent=2), "utf-8")
    (folder / "metadata.xml").write_bytes(  # the same description under DA/T 46's names
        description_xml(description, arc.settings.organisation, trail)
    )
    report = check_folder(arc, folder, description)
    (folder / "checks.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    return [
        f"{what}: {check} {result.get('detail')}"
        for what, checks in report.items()
        for check, result in checks.items()
        if isinstance(result, dict) and result.get("ok") is False
    ]


def _log_export(arc: Archive, actor: Actor, lst: DispositionList, record_id: uuid.UUID) -> None:
    """A record decrypted into a transfer package leaves in plaintext: a line in the access
    log (利用登记) like any read, by whoever executes the list, to the receiving party."""

    def line(log: Session) -> None:
        user = log.get(User, actor.user_id) if actor.user_id else None
        log_access(
            log,
            user,
            Client(actor.ip),
            "transfer",
            ALLOWED,
            record_id=record_id,
            details=f"{lst.number} → {lst.receiver or '—'}",
            named=actor.name,
        )

    arc.log_writes.run(line)


def transfer_list(
    arc: Archive, actor: Actor, lst: DispositionList, check_folder: FolderCheck
) -> tuple[str, list[tuple[str, str]]]:
    """Write the package, then mark each packaged record transferred (one transaction each).

    ``check_folder`` runs the 四性 checks on each record folder as it is written; a record
    failing them stays behind.
    """
    root = arc.settings.retention.transfer_dir or arc.settings.home / "transfers"
    target, staging = root / lst.number, root / f".{lst.number}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    skipped: list[tuple[str, str]] = []
    packaged: list[uuid.UUID] = []
    with arc.sessions() as session:
        for item in lst.items:
            record = session.get(Record, item.record_id)
            assert record is not None  # noqa: S101
            if item.outcome is not None:
                continue
            if record.state != RecordState.ACTIVE:
                skipped.append((record.name_stem, already(record)))
            elif holds_on(session, record.id):
                skipped.append((record.name_stem, "冻结中"))
            elif not is_eligible(record.due_on, local_today()):
                skipped.append((record.name_stem, NOT_DUE))
            else:
                _log_export(arc, actor, lst, record.id)  # durable before a byte is decrypted
                folder = staging / record.name_stem
                failed = _write_record(arc, session, record, folder, check_folder)
                if failed:  # it does not leave: the list shows why
                    shutil.rmtree(staging / record.name_stem)
                    skipped.append((record.name_stem, "四性 check failed: " + "; ".join(failed)))
                else:
                    packaged.append(record.id)
    bag = bagit.make_bag(
        str(staging),
        bag_info={
            # 立档单位 and 全宗号: who the records come from, as the receiving archive files them
            "Source-Organization": arc.settings.organisation or "archive",
            **(
                {"Internal-Sender-Identifier": arc.settings.fonds_code}
                if arc.settings.fonds_code
                else {}
            ),
            "External-Identifier": lst.number,
            "External-Description": f"transfer list {lst.number}, digest {lst.digest}",
            "Bagging-Date": local_today().isoformat(),
        },
        checksums=["sha256"],
    )
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    package = f"{target} (Payload-Oxum {bag.info.get('Payload-Oxum')})"
    for record_id in packaged:
        try:
            with refusals_audited(arc, actor), arc.transaction() as session:
                ensure_free(session, record_id, f"transfer (list {lst.number})")
                record = session.get(Record, record_id, with_for_update=True)
                assert record is not None  # noqa: S101
                record.state = RecordState.TRANSFERRED
                row = session.scalar(
                    select(DispositionItem).where(
                        DispositionItem.list_id == lst.id, DispositionItem.record_id == record_id
                    )
                )
                assert row is not None  # noqa: S101
                row.outcome, row.done_at = "transferred", utcnow()
                record_event(
                    session,
                    actor,
                    "record.transferred",
                    "record",
                    record_id,
                    {"list": lst.number, "package": str(target)},
                )
        except Conflict as refusal:
            skipped.append((str(record_id), str(refusal)))
    return package, skipped
