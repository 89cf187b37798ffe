"""The description travels with the record's lasting description: disposition lists,
certificates, tombstones and transfer packages (``metadata.json``) carry 责任者, 文号, 备注
and each version's page count."""

from __future__ import annotations

import io

from archive.audit import Actor
from archive.content import NewRecord, VersionFacts, store
from archive.core import Archive
from archive.models import Record
from archive.record_facts import describe


def test_the_lasting_description_carries_the_description(sqlite_arc: Archive) -> None:
    stored = store(
        sqlite_arc,
        io.BytesIO(b"%PDF-1.4 not really"),
        actor=Actor.cli(),
        original_filename="通知.pdf",
        media_type="application/pdf",
        new_record=NewRecord(
            project="安全检查",
            title="关于开展仓库安全检查的通知",
            description={
                "author": "上海市仓储管理局",
                "doc_number": "沪仓发[2025]12号",
                "remarks": "原件存行政部",
            },
        ),
        facts=VersionFacts(page_count=3),
    )
    with sqlite_arc.sessions() as session:
        record = session.get_one(Record, stored.record_id)
        assert record.doc_number_key == "沪仓发〔2025〕12号"
        described = describe(session, record)
    assert described["author"] == "上海市仓储管理局"
    assert described["doc_number"] == "沪仓发[2025]12号"
    assert described["remarks"] == "原件存行政部"
    assert described["versions"][0]["page_count"] == 3
