"""0013 adds the description (责任者, 文号, 备注) to records filed before it, empty: nothing is
guessed for them; and it can be taken back."""

from __future__ import annotations

import uuid

from alembic import command
from sqlalchemy import inspect, text

from archive.core import Archive
from archive.migrate import alembic_config, upgrade
from archive.models import Record

RECORD = uuid.UUID("87654321-4321-8765-4321-876543218765")
COLUMNS = {"author", "doc_number", "doc_number_key", "remarks"}


def test_records_before_0013_get_an_empty_description(unmigrated: Archive) -> None:
    arc = unmigrated
    upgrade(arc.engine, "0012")
    with arc.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO projects (name, status, created_at) VALUES ('旧项目', 'active', :at)"
            ),
            {"at": "2025-01-01 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO records (id, title, project_id, sensitivity, name_date, "
                "name_stem, state, created_at, needs_review, filed_on, schedule_pinned, "
                "retention_dirty) VALUES (:id, '旧档案', (SELECT id FROM projects), "
                "'internal', '2025-01', '旧项目-2025-01', 'active', :at, :no, :on, :no, :no)"
            ),
            {
                "id": RECORD.hex if arc.engine.dialect.name == "sqlite" else RECORD,
                "at": "2025-01-01 00:00:00",
                "no": False,
                "on": "2025-01-01",
            },
        )
    upgrade(arc.engine)
    with arc.sessions() as session:
        record = session.get_one(Record, RECORD)
        assert (record.author, record.doc_number, record.remarks) == (None, None, None)
    config = alembic_config()
    with arc.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
    columns = {c["name"] for c in inspect(arc.engine).get_columns("records")}
    assert not columns & COLUMNS
    upgrade(arc.engine)
    columns = {c["name"] for c in inspect(arc.engine).get_columns("records")}
    assert columns >= COLUMNS
