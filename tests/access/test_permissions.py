"""The permission table and the rules built on it, walked as tables: every role × every
permission, and who sees and acts on a disposition list. The API, the pages and the CLI all
ask these, so a row changed here changes every way in at once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from access.policy import (
    PERMISSIONS,
    ListStep,
    Permission,
    list_steps,
    may,
    may_record_event,
    may_revoke,
    may_see_job,
    may_see_list,
    may_write,
)
from archive.config import RetentionSettings
from archive.models import (
    Department,
    DispositionItem,
    DispositionList,
    ListStatus,
    Record,
    RecordState,
    Role,
    Sensitivity,
    User,
)

S, V, D, M, A, X, Y = (
    Role.SPECIALIST,
    Role.SUPERVISOR,
    Role.DIRECTOR,
    Role.RECORDS_MANAGER,
    Role.AUDITOR,
    Role.ADMIN,
    Role.SECURITY_ADMIN,
)
#: permission → the roles that have it; every other role is refused.
EXPECTED = {
    Permission.SEARCH: {S, V, D, M, A},
    Permission.DECIDE_REQUESTS: {V, D},
    Permission.REVOKE_GRANTS: {V, D, M},
    Permission.UPLOAD: {S, V, D, M},
    Permission.SEE_EVERY_JOB: {M},
    Permission.MANAGE_CLASSIFICATION: {M},
    Permission.DESCRIBE_RECORDS: {M},
    Permission.MANAGE_RETENTION: {M},
    Permission.OVERSEE_RETENTION: {M, A, D},
    Permission.SEE_ANY_RETENTION: {M, A},
    Permission.RECORD_EVENTS: {M, V, D},
    Permission.CONFIRM_DELETIONS: {V, D},
    Permission.SEE_DISPOSITION_LISTS: {M, V, D, A},
    Permission.SIGN_LISTS: {M, V, D},
    # 监销: department staff for their department, the records manager, and the administrator
    # as the information system's keeper (会计档案管理办法 第十六条, accounting lists only).
    Permission.WITNESS_DESTRUCTION: {S, V, D, M, X},
    Permission.PRINT_REGISTERS: {M, A, D},
    Permission.READ_ACCESS_LOG: {A},
    Permission.READ_AUDIT_TRAIL: {A},  # everyone's actions: the security auditor only
    Permission.READ_AUDIT_SAMPLES: {M, A},
    Permission.MANAGE_PEOPLE: {X},
    Permission.APPROVE_PRIVILEGE_CHANGES: {Y},
    Permission.READ_PEOPLE_AUDIT: {X, Y, A},  # 三员分立: the auditor sees the other two
}


def test_every_permission_has_its_row() -> None:
    assert set(PERMISSIONS) == set(Permission) == set(EXPECTED)


@pytest.mark.parametrize("permission", list(Permission))
@pytest.mark.parametrize("role", list(Role))
def test_every_role_and_permission(role: Role, permission: Permission) -> None:
    assert may(role, permission) == (role in EXPECTED[permission])


def test_administrators_read_nothing_and_run_no_records_work() -> None:
    """Beyond people, an administrator only witnesses, as IT, the destruction of electronic
    accounting records (会计档案管理办法 第十六条): a signature, no content, no list of their
    own choosing (retention.witness gives them a slot only on accounting lists)."""
    granted = {p for p in Permission if may(Role.ADMIN, p)}
    assert granted == {
        Permission.MANAGE_PEOPLE,
        Permission.READ_PEOPLE_AUDIT,
        Permission.WITNESS_DESTRUCTION,
    }


def test_security_administrators_approve_and_do_nothing_else() -> None:
    """三员分立: the security administrator decides the administrator's privileged changes,
    manages nobody directly, searches and reads nothing."""
    granted = {p for p in Permission if may(Role.SECURITY_ADMIN, p)}
    assert granted == {Permission.APPROVE_PRIVILEGE_CHANGES, Permission.READ_PEOPLE_AUDIT}
    assert not may(Role.ADMIN, Permission.APPROVE_PRIVILEGE_CHANGES)


NOW = datetime(2026, 12, 1, tzinfo=UTC)
CG = Department(id=1, code="CG", name="采购")
XS = Department(id=2, code="XS", name="销售")


def person(role: Role, department: Department = CG, uid: int = 10) -> User:
    return User(
        id=uid,
        username=f"{role.value}-{department.code}",
        role=role,
        department=department,
        department_id=department.id,
        clearance=Sensitivity.CONFIDENTIAL,
    )


def test_jobs_are_their_submitters_and_records_managers() -> None:
    assert may_see_job(person(S, uid=7), created_by_id=7)
    assert not may_see_job(person(S, uid=8), created_by_id=7)
    assert not may_see_job(person(D, uid=8), created_by_id=7)
    assert may_see_job(person(M, uid=8), created_by_id=7)


@pytest.mark.parametrize(
    ("role", "department", "allowed"),
    [(S, CG, False), (V, CG, True), (V, XS, False), (D, XS, True), (M, XS, True), (A, CG, False)],
)
def test_who_ends_a_grant(role: Role, department: Department, allowed: bool) -> None:
    record = Record(department_id=CG.id)
    assert may_revoke(person(role, department), record) == allowed


@pytest.mark.parametrize(
    ("role", "department", "event_department", "allowed"),
    [
        (M, CG, XS.id, True),
        (M, CG, None, True),
        (V, CG, CG.id, True),
        (V, CG, XS.id, False),
        (D, CG, None, False),  # an unknown project or record belongs to nobody's department
        (S, CG, CG.id, False),
        (A, CG, CG.id, False),
    ],
)
def test_who_records_an_event(
    role: Role, department: Department, event_department: int | None, allowed: bool
) -> None:
    assert may_record_event(person(role, department), event_department) == allowed


def a_list(*departments: Department) -> DispositionList:
    lst = DispositionList(id=1, number="XH-2026-001", digest=None)
    lst.items = [
        DispositionItem(record=Record(department_id=d.id, department=d)) for d in departments
    ]
    lst.signatures = []
    return lst


@pytest.mark.parametrize(
    ("role", "department", "seen"),
    [
        (M, CG, True),
        (A, CG, True),
        (D, XS, True),
        (V, CG, True),
        (V, XS, False),
        (S, CG, False),
        (X, CG, False),
    ],
)
def test_who_sees_a_list(role: Role, department: Department, seen: bool) -> None:
    assert may_see_list(person(role, department), a_list(CG)) == seen


def test_the_steps_each_role_may_take_on_a_list() -> None:
    settings = RetentionSettings()
    lst = a_list(CG)
    manager = {ListStep.EDIT, ListStep.SUBMIT, ListStep.CANCEL, ListStep.EXECUTE}
    assert list_steps(settings, person(M), lst) == manager | {ListStep.SIGN, ListStep.SEND_BACK}
    assert list_steps(settings, person(A), lst) == frozenset()
    assert list_steps(settings, person(V), lst) == {ListStep.SIGN}  # no slot open: a draft


def test_a_signer_with_an_open_slot_may_also_send_the_list_back() -> None:
    settings = RetentionSettings()
    lst = a_list(CG)
    lst.status, lst.digest = ListStatus.SIGNING, "digest"
    head = person(V, CG)
    head.active = True
    assert list_steps(settings, head, lst) == {ListStep.SIGN, ListStep.SEND_BACK}
    other = person(V, XS)
    other.active = True
    assert list_steps(settings, other, lst) == {ListStep.SIGN}  # no slot fits: the service says


def record(level: str, department: Department = CG, creator: int | None = None) -> Record:
    return Record(
        id=uuid.uuid4(),
        sensitivity=Sensitivity(level),
        department_id=department.id,
        created_by_id=creator,
        state=RecordState.ACTIVE,
        cut_off_on=None,
    )


@pytest.mark.parametrize(
    ("role", "department", "level", "writes"),
    [
        (S, CG, "internal", True),  # a member of the record's department
        (S, CG, "confidential", True),
        (S, XS, "internal", False),  # knows it, but another department's
        (S, XS, "confidential", False),
        (V, CG, "confidential", True),
        (V, CG, "restricted", False),  # restricted: directors and records managers
        (D, XS, "restricted", True),
        (D, XS, "internal", False),
        (M, XS, "internal", True),
        (M, XS, "restricted", False),  # may not even know it without a grant
        (A, CG, "internal", False),  # files nothing
        (X, CG, "internal", False),
    ],
)
def test_who_may_write_a_record(
    role: Role, department: Department, level: str, writes: bool
) -> None:
    writer = person(role, department)
    writer.active = True
    assert may_write(writer, record(level), [], NOW) == writes


def test_a_record_is_its_departments_and_nobody_writes_a_closed_one() -> None:
    creator = person(S, XS, uid=42)
    creator.active = True
    assert may_write(creator, record("internal", XS, creator=42), [], NOW)
    # Filed for another department, it is that department's: no planted record to catch
    # its uploads.
    assert not may_write(creator, record("internal", CG, creator=42), [], NOW)
    closed = record("internal", XS)
    closed.cut_off_on = date(2026, 1, 1)
    assert not may_write(creator, closed, [], NOW)
    destroyed = record("internal", XS)
    destroyed.state = RecordState.DISPOSED
    assert not may_write(creator, destroyed, [], NOW)
