"""All tables, importable from one place (Alembic's env and the services use this)."""

from archive.models.access import (
    AccessDecision,
    AccessEvent,
    AccessRequest,
    Approver,
    Grant,
    RequestStatus,
    Scope,
)
from archive.models.audit import AuditEvent
from archive.models.ingest import ClassificationRule, IngestJob, IngestStatus
from archive.models.people import ApiToken, Department, LoginAttempt, Role, Sensitivity, User
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
    "AccessDecision",
    "AccessEvent",
    "AccessRequest",
    "ApiToken",
    "Approver",
    "AuditEvent",
    "ClassificationRule",
    "DataKey",
    "Department",
    "Grant",
    "IngestJob",
    "IngestStatus",
    "LoginAttempt",
    "Project",
    "ProjectStatus",
    "Record",
    "RecordChange",
    "RecordState",
    "Rendition",
    "RequestStatus",
    "Role",
    "Scope",
    "Sensitivity",
    "User",
    "Version",
]
