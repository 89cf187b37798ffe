"""All tables, importable from one place (Alembic's env and the services use this)."""

from archive.models.audit import AuditEvent
from archive.models.people import ApiToken, Department, Role, Sensitivity, User
from archive.models.records import (
    DataKey,
    IngestJob,
    IngestStatus,
    Project,
    ProjectStatus,
    Record,
    RecordState,
    Version,
)

__all__ = [
    "ApiToken",
    "AuditEvent",
    "DataKey",
    "Department",
    "IngestJob",
    "IngestStatus",
    "Project",
    "ProjectStatus",
    "Record",
    "RecordState",
    "Role",
    "Sensitivity",
    "User",
    "Version",
]
