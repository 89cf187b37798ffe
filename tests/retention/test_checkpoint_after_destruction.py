"""A destruction signs the chains' heads at once: deleting its events from the database
afterwards (the tail of the audit chain) is caught, not only after the next hourly one."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select

from archive.checkpoints import verify_all
from archive.core import Archive
from archive.models import AuditEvent
from retention.deletion import confirm_deletion, request_deletion
from tests.archive.test_checkpoints import as_database_writer
from tests.retention.conftest import MANAGER, add_people, file_record, user


def test_deleting_a_destructions_events_afterwards_is_caught(planned: Archive) -> None:
    record_id = file_record(planned, record_type="application", when=date(2010, 5, 1))
    add_people(planned)
    deletion = request_deletion(planned, MANAGER, record_id, "重复归档 filed twice")
    with planned.sessions() as session:
        before = session.scalar(select(func.max(AuditEvent.seq)))
    confirm_deletion(planned, MANAGER, user(planned, "qian").id, deletion.id)
    with planned.sessions() as session:
        assert verify_all(session, planned.keyring, planned.settings.checkpoint_path).ok
    as_database_writer(  # someone who can write the database drops the tail
        planned, lambda session: session.execute(delete(AuditEvent).where(AuditEvent.seq > before))
    )
    with planned.sessions() as session:
        report = verify_all(session, planned.keyring, planned.settings.checkpoint_path)
    assert not report.ok
