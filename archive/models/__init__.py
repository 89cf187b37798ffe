"""All tables, importable from one place (Alembic's env and the services use this)."""

from archive.models.audit import AuditEvent
from archive.models.ingest import ClassificationRule, IngestJob, IngestStatus
from archive.models.people import ApiToken, Department, Role, Sensitivity, User
from archive.models.records import (
    DataKey,
    Project,
    ProjectStatus,
    Record,
    RecordChange,
    RecordState,
    Rendition,
    Version,
)

__all__ = [
    "ApiToken",
    "AuditEvent",
    "ClassificationRule",
    "DataKey",
    "Department",
    "IngestJob",
    "IngestStatus",
    "Project",
    "ProjectStatus",
    "Record",
    "RecordChange",
    "RecordState",
    "Rendition",
    "Role",
    "Sensitivity",
    "User",
    "Version",
]
