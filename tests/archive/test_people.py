"""Users, departments and tokens; permission changes leave audit events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive.audit import Actor
from archive.core import Archive
from archive.models import ApiToken, AuditEvent, Role, Sensitivity, User
from archive.passwords import check_password
from archive.people import (
    PeopleError,
    change_user,
    create_department,
    create_user,
    find_department,
    issue_token,
    user_for_token,
)

ADMIN = Actor(name="admin", ip="192.0.2.1")
PASSWORD = "correct horse battery 电池"


def test_default_departments_exist(arc: Archive) -> None:
    with arc.sessions() as session:
        assert find_department(session, "销售").code == "XS"
        assert find_department(session, "cw").name == "财务"
        with pytest.raises(PeopleError, match="known: "):
            find_department(session, "无此部门")


def test_user_password_is_hashed_with_argon2(arc: Archive) -> None:
    with arc.transaction() as session:
        user = create_user(
            session,
            ADMIN,
            "王五",
            Role.SPECIALIST,
            find_department(session, "XS"),
            password=PASSWORD,
        )
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert check_password(user, PASSWORD)
    assert not check_password(user, PASSWORD + "x")


def test_user_rules(arc: Archive) -> None:
    with arc.transaction() as session:
        with pytest.raises(PeopleError, match="belongs to a department"):
            create_user(session, ADMIN, "nodept", Role.DIRECTOR, None)
        with pytest.raises(PeopleError, match="user name"):
            create_user(session, ADMIN, "bad name/..", Role.AUDITOR, None)
        with pytest.raises(PeopleError, match="at least 10"):
            create_user(session, ADMIN, "shortpw", Role.AUDITOR, None, password="short")
        create_user(session, ADMIN, "auditor1", Role.AUDITOR, None)
    with arc.transaction() as session, pytest.raises(PeopleError, match="exists already"):
        create_user(session, ADMIN, "auditor1", Role.AUDITOR, None)
    with arc.transaction() as session, pytest.raises(PeopleError, match="exists already"):
        create_department(session, ADMIN, "XS", "另一个销售")


def test_permission_changes_are_audited(arc: Archive) -> None:
    with arc.transaction() as session:
        user = create_user(session, ADMIN, "zhao", Role.SPECIALIST, find_department(session, "XS"))
        changed = change_user(
            session,
            ADMIN,
            user,
            role=Role.SUPERVISOR,
            department=find_department(session, "CW"),
            clearance=Sensitivity.CONFIDENTIAL,
        )
        assert changed == ["role", "department", "clearance"]
        assert change_user(session, ADMIN, user, role=Role.SUPERVISOR) == []
    with arc.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "user").order_by(AuditEvent.seq)
        ).all()
    details = {e.action: e.details for e in events}
    assert details["user.role_changed"] == {
        "username": "zhao",
        "from": "specialist",
        "to": "supervisor",
    }
    assert details["user.department_changed"]["to"] == "CW"
    assert details["user.clearance_changed"]["from"] == "internal"
    assert all(e.actor == "admin" and e.ip == "192.0.2.1" for e in events)


def test_tokens_are_stored_hashed_and_resolve(arc: Archive) -> None:
    with arc.transaction() as session:
        user = create_user(session, ADMIN, "api-user", Role.RECORDS_MANAGER, None)
        token = issue_token(session, ADMIN, user)
    with arc.transaction() as session:
        stored = session.scalars(select(ApiToken)).one()
        assert token not in (stored.token_hash, stored.prefix)
        found = user_for_token(session, token)
        assert found is not None
        assert found.username == "api-user"
        assert user_for_token(session, token + "x") is None
        assert user_for_token(session, "not-a-token") is None
    with arc.transaction() as session:
        session.scalars(select(User)).one().active = False
    with arc.sessions() as session:
        assert user_for_token(session, token) is None
