"""The handover of a transfer (交接): the receiving party named on the list, and the signed
receipt the receiving archive gives back (``archive transfer import``), recorded against the
list so its 移交清册 shows both parties' side of the handover.

A receipt is accepted only if its signature holds, it names this list and the receiving party
the signers approved, it binds the very package this archive wrote (the SHA-256 of its BagIt
manifest, kept at execution), and every record it lists was on the list and transferred; a
list takes one receipt. The signing key is the receiving archive's own (the receipt carries
it): its fingerprint is recorded and printed on the 移交清册 for the two archives to compare
by another channel, since the archives share no key infrastructure.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePath
from typing import Any

from archive.audit import Actor, record_event
from archive.core import Archive
from archive.models import Disposal, DispositionList, ListStatus
from archive.receipts import ReceiptError, manifest_digest, verify_receipt
from retention.disposition import get_list
from retention.errors import Conflict


def package_dir(arc: Archive, number: str) -> Path:
    """Where the transfer package of list ``number`` was written."""
    root = arc.settings.retention.transfer_dir or arc.settings.home / "transfers"
    return root / number


def remember_package(arc: Archive, lst: DispositionList) -> None:
    """At execution: keep the digest of the package's manifest, which a receipt must name,
    and what the 移交清册 registers of the handover (数据量, 格式, 载体)."""
    folder = package_dir(arc, lst.number)
    if (folder / "manifest-sha256.txt").is_file():
        lst.result = {
            **(lst.result or {}),
            "manifest_sha256": manifest_digest(folder),
            **package_facts(folder),
            # Under the archive's home it leaves online; elsewhere (ARCHIVE_TRANSFER_DIR),
            # on the media mounted there.
            "carrier": "online" if _under_home(arc, folder) else "media",
        }


def _under_home(arc: Archive, folder: Path) -> bool:
    return arc.settings.home.resolve() in folder.resolve().parents


def package_facts(folder: Path) -> dict[str, Any]:
    """The package's payload (bytes and files, all of it) and the formats of the records'
    own files (as each record's ``metadata.json`` names them), in upper case: PDF, DOCX."""
    payload = [path for path in (folder / "data").rglob("*") if path.is_file()]
    formats: set[str] = set()
    for described in (folder / "data").glob("*/metadata.json"):
        files = json.loads(described.read_text("utf-8")).get("files") or {}
        formats |= {PurePath(name).suffix.lstrip(".").upper() or "—" for name in files}
    return {
        "package_bytes": sum(path.stat().st_size for path in payload),
        "package_files": len(payload),
        "formats": sorted(formats),
    }


def record_receipt(arc: Archive, actor: Actor, list_id: int, receipt: dict[str, Any]) -> str:
    """Check ``receipt`` and record it on the list; returns the receiving key's fingerprint."""
    key = verify_receipt(receipt)
    records = receipt.get("records")
    fields = [receipt.get(name) for name in ("list", "receiver", "received_by", "received_at")]
    if (
        not isinstance(records, list)
        or not all(isinstance(r, dict) for r in records)
        or not all(isinstance(value, str) for value in fields)
    ):
        raise ReceiptError("the receipt is malformed: records must be a list, names text")
    with arc.transaction() as session:
        lst = get_list(session, list_id, lock=True)
        if lst.action != Disposal.TRANSFER or lst.status != ListStatus.EXECUTED:
            raise Conflict(f"list {lst.number} is not an executed transfer list")
        result = dict(lst.result or {})
        if result.get("receipt"):
            raise Conflict(f"list {lst.number} has its receipt already")
        if lst.receiver and receipt["receiver"] != lst.receiver:
            raise ReceiptError(
                f"the receipt is signed by {receipt['receiver']!r}, but the list was approved "
                f"for transfer to {lst.receiver!r}"
            )
        if receipt.get("list") != lst.number:
            raise ReceiptError(f"the receipt is for {receipt.get('list')!r}, not {lst.number}")
        if receipt.get("manifest_sha256") != result.get("manifest_sha256"):
            raise ReceiptError("the receipt names a package other than the one this list wrote")
        sent = {item.record.reference_code for item in lst.items if item.outcome == "transferred"}
        got = {str(r.get("reference_code")) for r in records}
        if not got or not got <= sent:
            raise ReceiptError("the receipt lists records this list did not transfer")
        result["receipt"] = {
            "receiver": receipt.get("receiver") or "",
            "received_by": receipt.get("received_by") or "",
            "received_at": receipt.get("received_at") or "",
            "records": len(got),
            "key": key,
        }
        lst.result = result
        # The receiving archive holds the package now: the plaintext copy under this
        # archive's home goes (one written to other media, ARCHIVE_TRANSFER_DIR, is theirs).
        folder = package_dir(arc, lst.number)
        removed = folder.is_dir() and _under_home(arc, folder)
        record_event(
            session,
            actor,
            "disposition.receipt_recorded",
            "disposition_list",
            lst.number,
            {
                **result["receipt"],
                "missing": sorted(sent - got),
                "package_removed": str(folder) if removed else None,
            },
        )
    if removed:
        shutil.rmtree(folder, ignore_errors=True)
    return key


CARRIERS = {"online": "在线移交（移交包）", "media": "离线存储介质"}


def handed_over(result: dict[str, Any]) -> list[tuple[str, str]]:
    """数据量, 文件格式 and 载体 of an executed transfer (电子档案移交登记); a dash before
    execution, or for a list executed before the archive kept them."""
    if "package_bytes" not in result:
        return [("数据量", "—"), ("文件格式", "—"), ("载体", "—")]
    size = int(result["package_bytes"])
    return [
        ("数据量", f"{size / 2**20:.2f} MB（{size:,} 字节，文件 {result['package_files']} 个）"),
        ("文件格式", "、".join(result.get("formats") or []) or "—"),
        ("载体", CARRIERS.get(str(result.get("carrier")), "—")),
    ]
