"""三员分立 in the services: what is privileged, who may decide it, what an approval applies
and what both steps leave in the audit, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.db import utcnow
from archive.models import (
    ApiToken,
    AuditEvent,
    Grant,
    PrivilegeChange,
    PrivilegeStatus,
    Project,
    Record,
    Role,
    Scope,
    Sensitivity,
    User,
)
from archive.passwords import check_password, one_time_password, weak_password
from archive.people import (
    change_user,
    create_user,
    find_department,
    find_user,
    issue_token,
    set_active,
)
from archive.privilege_decisions import approve, cancel, reject
from archive.privileges import PrivilegeError, Wanted, submit_change, submit_new_user
from tests.conftest import make_environ

T = TypeVar("T")
PASSWORD = "the person's own password"
CHOSEN = "an administrator's choice"
PEOPLE = {
    "wu": (Role.ADMIN, "internal"),
    "ma": (Role.ADMIN, "internal"),
    "zheng": (Role.SECURITY_ADMIN, "internal"),
    "feng": (Role.SECURITY_ADMIN, "internal"),
    "zhou": (Role.AUDITOR, "internal"),
    "qian": (Role.DIRECTOR, "confidential"),
    "zhang": (Role.SPECIALIST, "internal"),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def arc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Archive]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else "sqlite"
    archive = Archive(load_settings(make_environ(tmp_path / "home", url, "local")))
    initialize(archive, Actor.cli())
    with archive.transaction() as db:
        for name, (role, clearance) in PEOPLE.items():
            department = find_department(db, "CG")
            password = PASSWORD if name in ("zhang", "qian") else None  # argon2 is slow
            person = create_user(
                db, Actor.cli(), name, role, department, Sensitivity(clearance), password
            )
            issue_token(db, Actor.cli(), person)
    yield archive
    archive.close()


def by(db: Session, name: str) -> tuple[Actor, User]:
    person = find_user(db, name)
    return Actor.of(person, "192.0.2.7"), person


def act(arc: Archive, who: str, step: Callable[[Session, Actor, User], T]) -> T:
    """``step`` done by ``who`` in a transaction of its own."""
    with arc.transaction() as db:
        actor, person = by(db, who)
        return step(db, actor, person)


def rule(work: Callable[[], object]) -> str:
    """The rule that refuses ``work``."""
    with pytest.raises(PrivilegeError) as refused:
        work()
    return refused.value.code


def change(arc: Archive, target: str, wanted: Wanted, password: str | None = None) -> int | None:
    """wu's change to ``target``; the id of the request it left waiting, if any."""
    with arc.transaction() as db:
        actor, wu = by(db, "wu")
        outcome = submit_change(db, actor, wu, find_user(db, target), wanted, password)
        return outcome.request.id if outcome.request else None


def decide(arc: Archive, who: str, change_id: int) -> str | None:
    """``who`` approves; the one-time password shown, if any."""
    with arc.transaction() as db:
        actor, person = by(db, who)
        return approve(db, actor, person, change_id).password


def events(arc: Archive, prefix: str) -> list[AuditEvent]:
    with arc.sessions() as db:
        query = select(AuditEvent).where(AuditEvent.action.like(f"{prefix}%"))
        return list(db.scalars(query.order_by(AuditEvent.seq)))


def test_the_privileged_part_waits_and_the_rest_takes_effect_now(arc: Archive) -> None:
    with arc.transaction() as db:
        cw = find_department(db, "CW")
    asked = change(arc, "zhang", Wanted(role=Role.SUPERVISOR, department=cw))
    assert asked is not None
    with arc.sessions() as db:
        zhang = find_user(db, "zhang")
        assert zhang.role == Role.SPECIALIST  # the privilege waits
        assert zhang.department is not None
        assert zhang.department.code == "CG"  # a head's department goes with the role
        waiting = db.get(PrivilegeChange, asked)
        assert waiting is not None
        assert waiting.status == PrivilegeStatus.PENDING
        assert waiting.changes == {"role": "supervisor", "department": "CW"}
        assert waiting.before["role"] == "specialist"
    # Not privileged: a specialist moves at once.
    assert change(arc, "zhang", Wanted(department=cw)) is None
    (requested,) = events(arc, "privilege.requested")
    assert requested.actor == "wu"
    assert requested.ip == "192.0.2.7"
    assert requested.details["changes"] == {"role": "supervisor", "department": "CW"}


@pytest.mark.parametrize(
    "wanted",
    [
        Wanted(role=Role.DIRECTOR),
        Wanted(role=Role.SECURITY_ADMIN),
        Wanted(role=Role.ADMIN),
        Wanted(role=Role.AUDITOR),
        Wanted(role=Role.RECORDS_MANAGER),
        Wanted(clearance=Sensitivity.CONFIDENTIAL),
        Wanted(clearance=Sensitivity.RESTRICTED),
    ],
)
def test_every_grant_of_privilege_waits(arc: Archive, wanted: Wanted) -> None:
    assert change(arc, "zhang", wanted) is not None
    with arc.sessions() as db:
        zhang = find_user(db, "zhang")
        assert (zhang.role, zhang.clearance) == (Role.SPECIALIST, Sensitivity.INTERNAL)


def test_taking_rights_away_is_immediate(arc: Archive) -> None:
    assert change(arc, "qian", Wanted(clearance=Sensitivity.INTERNAL)) is None
    assert change(arc, "qian", Wanted(role=Role.SPECIALIST)) is None
    assert change(arc, "zheng", Wanted(active=False)) is None
    with arc.sessions() as db:
        qian = find_user(db, "qian")
        assert (qian.role, qian.clearance) == (Role.SPECIALIST, Sensitivity.INTERNAL)
        assert not find_user(db, "zheng").active


def test_who_may_decide(arc: Archive) -> None:
    asked = change(arc, "zheng", Wanted(reset_password=True))  # a security administrator's
    assert asked is not None
    for who, code in (
        ("wu", "not_security_admin"),  # the requester, and an administrator anyway
        ("ma", "not_security_admin"),  # another administrator
        ("zhou", "not_security_admin"),  # the auditor watches, never decides
        ("qian", "not_security_admin"),
        ("zheng", "own_account"),  # the person it changes
    ):
        assert rule(partial(act, arc, who, lambda db, a, p: approve(db, a, p, asked))) == code
    assert decide(arc, "feng", asked)  # a different security administrator
    # A security administrator cannot ask, so cannot ask and approve alone.
    wanted = Wanted(role=Role.DIRECTOR)
    ask = lambda db, a, p: submit_change(db, a, p, find_user(db, "zhang"), wanted)  # noqa: E731
    assert rule(lambda: act(arc, "zheng", ask)) == "not_admin"
    with arc.sessions() as db:
        assert db.scalar(select(PrivilegeChange).where(PrivilegeChange.username == "zhang")) is None


def test_nobody_decides_their_own_request(arc: Archive) -> None:
    """Even someone who asked as an administrator and is a security administrator now."""
    asked = change(arc, "zhang", Wanted(role=Role.SUPERVISOR))
    assert asked is not None
    with arc.transaction() as db:
        change_user(db, Actor.cli(), find_user(db, "wu"), role=Role.SECURITY_ADMIN)
    assert rule(lambda: act(arc, "wu", lambda db, a, p: approve(db, a, p, asked))) == "own_request"


def test_an_approval_applies_it_ends_sessions_and_is_audited(arc: Archive) -> None:
    with arc.sessions() as db:
        epoch = find_user(db, "zhang").session_epoch
    asked = change(arc, "zhang", Wanted(role=Role.SUPERVISOR, clearance=Sensitivity.CONFIDENTIAL))
    assert asked is not None
    one_time = decide(arc, "zheng", asked)
    assert one_time  # zhang becomes privileged: whatever password an administrator set is void
    with arc.sessions() as db:
        zhang = find_user(db, "zhang")
        assert (zhang.role, zhang.clearance) == (Role.SUPERVISOR, Sensitivity.CONFIDENTIAL)
        assert zhang.session_epoch > epoch
        assert zhang.must_change_password
        assert not check_password(zhang, PASSWORD)
        assert check_password(zhang, one_time)
        tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == zhang.id))
        assert all(t.revoked_at is not None for t in tokens)
        decided = db.get(PrivilegeChange, asked)
        assert decided is not None
        assert (decided.status, decided.decided_by) == (PrivilegeStatus.APPROVED, "zheng")
    (approved,) = events(arc, "privilege.approved")
    assert approved.actor == "zheng"
    assert approved.details["requested_by"] == "wu"
    assert approved.details["before"]["role"] == "specialist"
    assert approved.details["after"]["role"] == "supervisor"
    assert approved.details["one_time_password"] is True
    changed = events(arc, "user.role_changed")
    assert changed[-1].actor == "zheng"  # it took effect by the approver's act


def test_a_privileged_password_is_never_typed_and_never_stored(arc: Archive) -> None:
    with pytest.raises(PrivilegeError) as refused:
        change(arc, "qian", Wanted(), password=CHOSEN)
    assert refused.value.code == "password_needs_approval"
    with pytest.raises(PrivilegeError) as refused:  # nor alongside a privileged grant
        change(arc, "zhang", Wanted(role=Role.DIRECTOR), password=CHOSEN)
    assert refused.value.code == "password_needs_approval"
    asked = change(arc, "qian", Wanted(reset_password=True))
    assert asked is not None
    with arc.sessions() as db:
        assert check_password(find_user(db, "qian"), PASSWORD)  # nothing yet
    one_time = decide(arc, "zheng", asked)
    assert one_time
    with arc.sessions() as db:
        qian = find_user(db, "qian")
        assert check_password(qian, one_time)
        assert qian.must_change_password
        stored = json.dumps(
            [e.details for e in db.scalars(select(AuditEvent))]
            + [c.changes for c in db.scalars(select(PrivilegeChange))],
            ensure_ascii=False,
        )
    assert one_time not in stored
    assert CHOSEN not in stored


def test_the_person_must_be_as_they_were_when_asked(arc: Archive) -> None:
    asked = change(arc, "zhang", Wanted(role=Role.DIRECTOR))
    assert asked is not None
    with arc.transaction() as db:  # the console moves zhang meanwhile
        change_user(db, Actor.cli(), find_user(db, "zhang"), department=find_department(db, "XS"))
    with pytest.raises(PrivilegeError) as refused:
        decide(arc, "zheng", asked)
    assert refused.value.code == "changed_since"
    blank = lambda db, a, p: reject(db, a, p, asked, "  ")  # noqa: E731
    assert rule(lambda: act(arc, "zheng", blank)) == "reason"
    act(arc, "zheng", lambda db, a, p: reject(db, a, p, asked, "调岗后重新申请"))
    with pytest.raises(PrivilegeError) as refused:
        decide(arc, "feng", asked)
    assert refused.value.code == "decided"
    (rejected,) = events(arc, "privilege.rejected")
    assert (rejected.actor, rejected.details["reason"]) == ("zheng", "调岗后重新申请")
    with arc.sessions() as db:
        assert find_user(db, "zhang").role == Role.SPECIALIST


def test_one_request_per_person_and_only_its_requester_cancels(arc: Archive) -> None:
    asked = change(arc, "zhang", Wanted(role=Role.DIRECTOR))
    assert asked is not None
    with pytest.raises(PrivilegeError) as refused:
        change(arc, "zhang", Wanted(clearance=Sensitivity.RESTRICTED))
    assert refused.value.code == "pending"
    assert rule(lambda: act(arc, "ma", lambda db, a, p: cancel(db, a, p, asked))) == "unknown"
    act(arc, "wu", lambda db, a, p: cancel(db, a, p, asked))
    assert [e.action for e in events(arc, "privilege.")] == [
        "privilege.requested",
        "privilege.cancelled",
    ]


def test_an_approval_needs_a_requester_who_still_is_an_administrator(arc: Archive) -> None:
    asked = change(arc, "zhang", Wanted(role=Role.DIRECTOR))
    assert asked is not None
    with arc.transaction() as db:
        set_active(db, Actor.cli(), find_user(db, "wu"), False)
    with pytest.raises(PrivilegeError) as refused:
        decide(arc, "zheng", asked)
    assert refused.value.code == "requester_gone"


def test_a_privileged_account_is_made_on_approval_with_a_one_time_password(
    arc: Archive,
) -> None:
    def new(password: str | None) -> int | None:
        with arc.transaction() as db:
            actor, wu = by(db, "wu")
            outcome = submit_new_user(
                db,
                actor,
                wu,
                "liu",
                Role.DIRECTOR,
                find_department(db, "XS"),
                Sensitivity.RESTRICTED,
                password,
                "刘总",
            )
            return outcome.request.id if outcome.request else None

    with pytest.raises(PrivilegeError) as refused:
        new(CHOSEN)
    assert refused.value.code == "password_on_approval"
    asked = new(None)
    assert asked is not None
    with arc.sessions() as db:
        assert db.scalar(select(User).where(User.username == "liu")) is None
    with pytest.raises(PrivilegeError) as refused:
        new(None)
    assert refused.value.code == "pending"
    one_time = decide(arc, "zheng", asked)
    assert one_time
    with arc.sessions() as db:
        liu = find_user(db, "liu")
        assert (liu.role, liu.display_name, liu.must_change_password) == (
            Role.DIRECTOR,
            "刘总",
            True,
        )
        assert check_password(liu, one_time)
    # A specialist at internal clearance is made at once, with a temporary password.
    with arc.transaction() as db:
        actor, wu = by(db, "wu")
        made = submit_new_user(
            db, actor, wu, "chen", Role.SPECIALIST, find_department(db, "CG"),
            Sensitivity.INTERNAL, CHOSEN,
        )  # fmt: skip
        assert made.user is not None
        assert made.user.must_change_password


def give_a_contract(arc: Archive, username: str) -> None:
    """A grant to read a restricted record, as a director's approval would leave."""
    with arc.transaction() as db:
        project = Project(name="采购框架协议")
        record = Record(
            title="采购合同",
            project=project,
            sensitivity=Sensitivity.RESTRICTED,
            name_date="2026-05",
            name_stem="采购框架协议-2026-05",
            filed_on=date(2026, 5, 1),
        )
        db.add_all([project, record])
        db.flush()
        now = utcnow()
        db.add(
            Grant(
                user_id=find_user(db, username).id,
                record_id=record.id,
                scope=Scope.VIEW,
                valid_from=now,
                valid_until=now + timedelta(days=3),
            )
        )


def test_a_grant_holders_password_and_sign_in_wait_too(arc: Archive) -> None:
    """Taking over the account of a specialist who may read a contract is as good as
    taking over a director's for that contract."""
    assert change(arc, "zhang", Wanted(reset_password=True)) is None  # nothing to read yet
    give_a_contract(arc, "zhang")
    with pytest.raises(PrivilegeError):
        change(arc, "zhang", Wanted(), password=CHOSEN)
    assert change(arc, "zhang", Wanted(active=False)) is None  # blocking: at once
    assert change(arc, "zhang", Wanted(active=True)) is not None  # letting in again: waits
    with arc.sessions() as db:
        assert not find_user(db, "zhang").active


def test_a_one_time_password_is_easy_to_copy_and_hard_to_guess() -> None:
    """The one-time password mixed l, 1, 0 and O, which a person handing it over on paper
    copies wrongly: it is now four groups from an alphabet without look-alikes."""
    made = {one_time_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        groups = password.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4]
        assert not set(password) & set("01lIoO")
        assert not weak_password(password)
