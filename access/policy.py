"""Who may know a record exists, who may read it, and who decides (MISSION.md, "Access on
request"). Small on purpose: every rule is here, and ``tests/access/test_policy.py`` walks it
as a table.

- Knowing: public and internal records, all staff; confidential, the record's department and
  grant holders; restricted (contracts), directors and grant holders.
- Writing (adding a version): who may know it and is a member of its department who files
  documents, or a records manager; restricted: directors and records managers.
  (``may_know`` and ``may_write`` live in ``archive.record_rules``: ingest needs them too.)
- Reading content: an active grant whose scope covers the action, or standing access (a
  department head for their department's records up to their clearance; a director for
  restricted ones). ``external`` always needs a grant. A grant never opens a record above
  its holder's clearance (密级许可): nobody asks for one, nobody approves one, and one held
  when the clearance is lowered opens nothing. Administrators, security administrators,
  auditors and records managers read nothing by role.
- Deciding: a request goes to the head of the record's department, or to a director for
  restricted records; ``external`` adds a director step. Nobody decides their own request.
- Everything else a role may do (file documents, run retention, read the access log or the
  audit trail, manage people...) is one row of :data:`PERMISSIONS`; the API, the web pages
  and the CLI ask :func:`may` and never keep a list of roles of their own.
- People (三员分立): administrators manage them, but a privileged change only takes effect
  when a security administrator approves it (``archive.privileges``); auditors and security
  administrators read every change to people and the administrators' own actions. The two
  administrators search nothing and read nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from archive.config import RetentionSettings
from archive.models import (
    AccessRequest,
    Approver,
    DispositionList,
    Grant,
    Record,
    RecordState,
    Role,
    Scope,
    Sensitivity,
    User,
)
from archive.record_rules import ALL_STAFF
from archive.record_rules import may_know as may_know  # the table's record rules
from archive.record_rules import may_write as may_write
from archive.roles import (
    ADMINISTRATORS,
    AUDITORS,
    DEPARTMENT_HEADS,
    DEPARTMENT_STAFF,
    DIRECTORS,
    RECORDS_MANAGERS,
    SECURITY_ADMINS,
    STAFF,
    UPLOADERS,
)
from retention.disposition import open_slots_for
from search.index import Visibility


class Permission(StrEnum):
    """What a role may do, beyond reading content (that is :func:`may_read`)."""

    SEARCH = "search"  # search, record pages, ask for access, my requests and grants
    DECIDE_REQUESTS = "decide_requests"  # the approvals inbox and the green channel
    REVOKE_GRANTS = "revoke_grants"  # end a grant early (heads: their department's only)
    UPLOAD = "upload"  # file documents
    SEE_EVERY_JOB = "see_every_job"  # every ingest job, and release quarantined files
    MANAGE_CLASSIFICATION = "manage_classification"  # rules and the review queue
    DESCRIBE_RECORDS = "describe_records"  # correct 责任者, 文号, 备注 (audited)
    MANAGE_RETENTION = "manage_retention"  # schedules, holds, reviews, sweeps, lists
    OVERSEE_RETENTION = "oversee_retention"  # read events, holds and the due reports
    SEE_ANY_RETENTION = "see_any_retention"  # any record's retention (metadata only)
    RECORD_EVENTS = "record_events"  # events that start clocks (heads: own department)
    CONFIRM_DELETIONS = "confirm_deletions"  # the second person of a misfiled deletion
    SEE_DISPOSITION_LISTS = "see_disposition_lists"  # (supervisors: own department's)
    SIGN_LISTS = "sign_lists"  # sign a list where a slot fits them (the service decides)
    WITNESS_DESTRUCTION = "witness_destruction"  # 监销 where a witness slot fits (service)
    PRINT_REGISTERS = "print_registers"  # 归档文件目录 and the registers of lists
    READ_ACCESS_LOG = "read_access_log"  # the access log, alerts and both chains
    READ_AUDIT_TRAIL = "read_audit_trail"  # every audit event, with before and after
    READ_AUDIT_SAMPLES = "read_audit_samples"  # the quarterly audit sample
    MANAGE_PEOPLE = "manage_people"  # users and departments (privileged changes: asked)
    APPROVE_PRIVILEGE_CHANGES = "approve_privilege_changes"  # decide them (三员分立)
    READ_PEOPLE_AUDIT = "read_people_audit"  # changes to people, administrators' actions


#: The one table of who may do what; ``tests/access/test_policy.py`` walks it.
PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.SEARCH: STAFF,
    Permission.DECIDE_REQUESTS: DEPARTMENT_HEADS,
    Permission.REVOKE_GRANTS: DEPARTMENT_HEADS | RECORDS_MANAGERS,
    Permission.UPLOAD: UPLOADERS,
    Permission.SEE_EVERY_JOB: RECORDS_MANAGERS,
    Permission.MANAGE_CLASSIFICATION: RECORDS_MANAGERS,
    Permission.DESCRIBE_RECORDS: RECORDS_MANAGERS,
    Permission.MANAGE_RETENTION: RECORDS_MANAGERS,
    Permission.OVERSEE_RETENTION: RECORDS_MANAGERS | AUDITORS | DIRECTORS,
    Permission.SEE_ANY_RETENTION: RECORDS_MANAGERS | AUDITORS,
    Permission.RECORD_EVENTS: RECORDS_MANAGERS | DEPARTMENT_HEADS,
    Permission.CONFIRM_DELETIONS: DEPARTMENT_HEADS,
    Permission.SEE_DISPOSITION_LISTS: RECORDS_MANAGERS | DEPARTMENT_HEADS | AUDITORS,
    Permission.SIGN_LISTS: RECORDS_MANAGERS | DEPARTMENT_HEADS,
    # Department staff stand for their department, the administrator for IT (会计档案).
    Permission.WITNESS_DESTRUCTION: DEPARTMENT_STAFF | RECORDS_MANAGERS | ADMINISTRATORS,
    Permission.PRINT_REGISTERS: RECORDS_MANAGERS | AUDITORS | DIRECTORS,
    Permission.READ_ACCESS_LOG: AUDITORS,
    # 三员分立: the security auditor sees everyone's actions; the administrators see their
    # own share only (changes to people), never the whole trail.
    Permission.READ_AUDIT_TRAIL: AUDITORS,
    Permission.READ_AUDIT_SAMPLES: RECORDS_MANAGERS | AUDITORS,
    Permission.MANAGE_PEOPLE: ADMINISTRATORS,
    Permission.APPROVE_PRIVILEGE_CHANGES: SECURITY_ADMINS,
    Permission.READ_PEOPLE_AUDIT: ADMINISTRATORS | SECURITY_ADMINS | AUDITORS,
}


def may(role: Role, permission: Permission) -> bool:
    """Whether ``role`` has ``permission`` (an active account is the caller's check)."""
    return role in PERMISSIONS[permission]


def may_see_job(user: User, created_by_id: int | None) -> bool:
    """An ingest job is its submitter's, and every records manager's."""
    return created_by_id == user.id or may(user.role, Permission.SEE_EVERY_JOB)


def may_revoke(user: User, record: Record) -> bool:
    """Directors and records managers end any grant; a supervisor, their department's."""
    if not may(user.role, Permission.REVOKE_GRANTS):
        return False
    return user.role != Role.SUPERVISOR or user.department_id == record.department_id


def may_record_event(user: User, department_id: int | None) -> bool:
    """Records managers record any event; heads, their own department's projects and records."""
    if not may(user.role, Permission.RECORD_EVENTS):
        return False
    if may(user.role, Permission.MANAGE_RETENTION):
        return True
    return department_id is not None and department_id == user.department_id


def may_see_list(user: User, lst: DispositionList) -> bool:
    """Records managers, directors and auditors see every list; a supervisor, the lists
    holding their department's records."""
    if not may(user.role, Permission.SEE_DISPOSITION_LISTS):
        return False
    return user.role != Role.SUPERVISOR or any(
        item.record.department_id == user.department_id for item in lst.items
    )


class ListStep(StrEnum):
    """What can be done to a disposition list."""

    EDIT = "edit"
    SUBMIT = "submit"
    SIGN = "sign"
    SEND_BACK = "send-back"
    CANCEL = "cancel"
    EXECUTE = "execute"


def list_steps(
    settings: RetentionSettings, user: User, lst: DispositionList
) -> frozenset[ListStep]:
    """The steps ``user`` may take on a list they may see. Records managers prepare, submit,
    cancel and execute; whoever has a signature slot open signs; those two send a list back.
    Whether the list's state allows the step is the service's check."""
    steps: set[ListStep] = set()
    signs = bool(open_slots_for(settings, lst, user))
    manages = may(user.role, Permission.MANAGE_RETENTION)
    if manages:
        steps |= {ListStep.EDIT, ListStep.SUBMIT, ListStep.CANCEL, ListStep.EXECUTE}
    if may(user.role, Permission.SIGN_LISTS):
        steps.add(ListStep.SIGN)  # the service finds the slot, or says none is open
    if manages or signs:
        steps.add(ListStep.SEND_BACK)
    return frozenset(steps)


#: What a grant of each scope lets its holder do.
COVERS: dict[Scope, frozenset[Scope]] = {
    Scope.VIEW: frozenset({Scope.VIEW}),
    Scope.DOWNLOAD: frozenset({Scope.VIEW, Scope.DOWNLOAD}),
    Scope.PRINT: frozenset({Scope.VIEW, Scope.PRINT}),
    Scope.EXTERNAL: frozenset({Scope.VIEW, Scope.DOWNLOAD, Scope.EXTERNAL}),
}


def visibility_for(user: User, granted: frozenset[str] = frozenset()) -> Visibility:
    """The search filter for ``user``; ``granted``: ids of records they hold a grant for."""
    everywhere = set(ALL_STAFF)
    if user.role == Role.DIRECTOR:
        everywhere.add(Sensitivity.RESTRICTED.value)
    department = user.department.code if user.department else None
    return Visibility(
        everywhere=frozenset(everywhere),
        department=department,
        in_department=frozenset({Sensitivity.CONFIDENTIAL.value}) if department else frozenset(),
        records=granted,
    )


def readable_for(user: User, granted: list[Record]) -> Visibility:
    """Where a search's words reach a record's text: what ``user`` reads by standing access
    (:func:`reads_by_standing`) and the ``granted`` records (active grants) that their
    clearance lets them open. Elsewhere a record is found by its description alone, so the
    words cannot test the text of a record one may not read."""
    if not user.active or user.role not in STAFF:
        return Visibility()  # nothing: 三员分立, not even with a grant
    head = user.role in DEPARTMENT_HEADS and user.department is not None
    return Visibility(
        everywhere=frozenset({Sensitivity.RESTRICTED.value})
        if user.role == Role.DIRECTOR
        else frozenset(),
        department=user.department.code if head and user.department else None,
        in_department=frozenset(s.value for s in Sensitivity if s.rank <= user.clearance.rank)
        if head
        else frozenset(),
        records=frozenset(str(r.id) for r in granted if within_clearance(user, r)),
    )


def reads_by_standing(user: User, department: str | None, sensitivity: str) -> bool:
    """Standing access to content, no grant needed (not for ``external``).

    A department head (supervisor or director) reads their department's records up to their
    clearance; a director reads restricted records (contracts) of any department. Nobody
    else reads by role: administrators, auditors and records managers included.
    """
    level = Sensitivity(sensitivity)
    if user.role == Role.DIRECTOR and level == Sensitivity.RESTRICTED:
        return True
    own = user.department is not None and user.department.code == department
    return user.role in DEPARTMENT_HEADS and own and level.rank <= user.clearance.rank


def within_clearance(user: User, record: Record) -> bool:
    """Whether ``record``'s sensitivity is at or below ``user``'s clearance: the ceiling of
    what a grant may open for them, which a security administrator approves (三员分立)
    and an approver of requests cannot raise. Directors read restricted records by standing
    (:func:`reads_by_standing`), so that ceiling does not stop their grants either."""
    if user.role == Role.DIRECTOR and record.sensitivity == Sensitivity.RESTRICTED:
        return True
    return record.sensitivity.rank <= user.clearance.rank


def may_open_emergency(user: User, record: Record) -> bool:
    """The green channel keeps standing access's ceilings: a head opens it up to their own
    clearance, and only a director opens a restricted record; it never goes further than
    a decided request could."""
    if not user.active or not may(user.role, Permission.DECIDE_REQUESTS):
        return False
    if record.sensitivity == Sensitivity.RESTRICTED:
        return user.role == Role.DIRECTOR
    return record.sensitivity.rank <= user.clearance.rank


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    grant: Grant | None = None


def may_read(
    user: User, record: Record, action: Scope, grants: list[Grant], now: datetime
) -> Decision:
    """Whether ``user`` may perform ``action`` on ``record``'s content now, and why."""
    if not user.active:
        return Decision(False, "the account is disabled")
    if user.role not in STAFF:  # 三员分立: not even with a grant
        return Decision(False, f"the {user.role.value} role reads no records")
    if record.state == RecordState.DISPOSED:  # said as such, not as a missing grant
        return Decision(False, "the record was destroyed")
    department = record.department.code if record.department else None
    if action != Scope.EXTERNAL and reads_by_standing(user, department, record.sensitivity):
        return Decision(True, "standing access")
    if not within_clearance(user, record):
        return Decision(False, "the record is above your clearance")
    mine = [g for g in grants if g.record_id == record.id and g.user_id == user.id]
    for grant in mine:
        if grant.active(now) and action in COVERS[grant.scope]:
            return Decision(True, "grant", grant)
    if not mine:
        return Decision(False, "no grant for this record")
    if any(g.active(now) for g in mine):
        return Decision(False, f"the grant does not cover {action.value}")
    if all(g.revoked_at is not None for g in mine):
        return Decision(False, "the grant was revoked")
    if any(g.valid_from > now for g in mine):
        return Decision(False, "the grant is not valid yet")
    return Decision(False, "the grant has expired")


def route(record: Record) -> tuple[Approver, int | None]:
    """Who decides the first step of a request for ``record``."""
    if record.sensitivity == Sensitivity.RESTRICTED or record.department_id is None:
        return Approver.DIRECTOR, None
    return Approver.HEAD, record.department_id


def may_decide(user: User, request: AccessRequest, earlier_approvers: set[int]) -> bool:
    """Whether ``user`` may approve or refuse the step ``request`` is waiting at."""
    if not user.active or user.id == request.requester_id or user.id in earlier_approvers:
        return False
    if request.approver == Approver.DIRECTOR:  # cleared for it, or knowing it by standing
        return user.role == Role.DIRECTOR and (
            request.record.sensitivity.rank <= user.clearance.rank
            or may_know(user, request.record, [], request.created_at)
        )
    return (
        user.role in DEPARTMENT_HEADS
        and user.department_id == request.approver_department_id
        and request.record.sensitivity.rank <= user.clearance.rank
    )


def sees_digests(user: User, reads: bool) -> bool:
    """Whether a record's page shows its versions' SHA-256 to ``user``: to whoever may read
    it, and to records managers and auditors (fixity, transfers). To anyone else a digest
    is the content by another name: a short or templated text is found by hashing guesses."""
    return (
        reads
        or may(user.role, Permission.SEE_ANY_RETENTION)
        or may(user.role, Permission.READ_AUDIT_TRAIL)
    )
